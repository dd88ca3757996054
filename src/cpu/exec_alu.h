/*
 * exec_alu.h - small helpers shared by the ordinary data and arithmetic
 * instruction handlers (exec_alu.c, exec_shift.c, exec_muldiv.c,
 * exec_bits.c). Private to those files.
 */
#ifndef RC_EXEC_ALU_H
#define RC_EXEC_ALU_H

#include "exec.h"

/* Operand size in bytes: 1 for the table's byte forms, else the decoded size. */
static inline unsigned alu_size(const rc_insn *in)
{
    return (in->flags & RC_OPF_BYTE) ? 1u : in->opsize;
}

static inline bool alu_rex(const rc_insn *in) { return in->rex != 0; }

/* The /digit of a group opcode: ModRM bits 5:3, never extended by REX.R. */
static inline unsigned alu_digit(const rc_insn *in) { return (in->modrm >> 3) & 7u; }

/* The register encoded in the low three opcode bits (40-4F, 90-97, B0-BF,
 * 0F C8-CF), extended by REX.B. SDM Vol. 2A 2.2.1.2 Table 2-4 (+rb/+rw/+rd). */
static inline unsigned alu_opreg(const rc_insn *in)
{
    return (in->opcode & 7u) | ((in->rex & 1u) << 3);
}

static inline uint64_t alu_sign(unsigned size) { return 1ull << (size * 8 - 1); }

static inline bool alu_is_amd(const rc_cpu *cpu)
{
    return cpu->model != NULL && cpu->model->vendor == RC_VENDOR_AMD;
}

/* SDM Vol. 2A 3.2 "LOCK": #UD if LOCK is used with an instruction not in
 * the lockable list, or when the destination operand is not memory. The
 * opcode table's lock_regs says which forms are lockable; the handler
 * repeats the check because only it knows which operand is the
 * destination. */
static inline rc_fault alu_lock_check(rc_cpu *cpu, const rc_insn *in, bool lockable)
{
    if (__builtin_expect(in->lock, 0)) {
        FAULT_NOERR_IF(cpu, !lockable || in->mod == 3, RC_EXC_UD,
                       "LOCK prefix on a non-lockable instruction or a register destination");
    }
    return RC_NOFAULT;
}

/* Offset of the memory operand at 'delta' bytes from the ModRM address,
 * wrapped to the address size (SDM Vol. 1 3.3.7: effective addresses are
 * computed modulo the address size). */
static inline uint64_t alu_ea_plus(const rc_cpu *cpu, const rc_insn *in, int64_t delta)
{
    return (rc_effective_addr(cpu, in) + (uint64_t)delta) & rc_size_mask(in->addrsize);
}

/* The SF, ZF and PF bits for a result of 'size' bytes. */
static inline uint32_t alu_szp(uint64_t res, unsigned size)
{
    res &= rc_size_mask(size);
    return ((res & alu_sign(size)) ? RC_FLAG_SF : 0) | (res == 0 ? RC_FLAG_ZF : 0) |
           rc_parity(res) * RC_FLAG_PF;
}

#endif /* RC_EXEC_ALU_H */

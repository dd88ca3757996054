/*
 * exec_stack.c - the stack: rc_push/rc_pop and the PUSH/POP family, PUSHA/
 * POPA, PUSHF/POPF, ENTER/LEAVE, PUSH/POP of segment registers.
 *
 * Two sizes meet in every stack operation (SDM Vol. 1 6.2.3 "Address-Size
 * Attributes for Stack Accesses", 6.2.5 "Stack Behavior in 64-Bit Mode"):
 *   - the stack-address size (cpu->stack_size: SS.B, or 8 in 64-bit mode)
 *     decides whether SP, ESP or RSP is the pointer and where it wraps;
 *   - the operand size decides how many bytes move.
 * Every stack access goes through SS; rc_read/rc_write apply the SS limit
 * (#SS(0)) and, in 64-bit mode, the canonical check.
 *
 * "Nothing changed on a fault": instructions that push or pop several
 * values stage the stack pointer in a local variable and write RSP (and
 * any other register) only after the last access succeeded. Stack memory
 * below RSP that an aborted multi-push already wrote stays written; it is
 * not architectural state (it lies below the stack pointer).
 */
#include "exec.h"

#define REG_RAX 0
#define REG_RSP 4
#define REG_RBP 5

/* Stack pointer as the stack-address size sees it. */
static inline uint64_t sp_get(const rc_cpu *cpu)
{
    return cpu->gpr[REG_RSP] & rc_size_mask(cpu->stack_size);
}

/* Commit a stack pointer: only SP (16-bit stack) or ESP/RSP change. */
static inline void sp_set(rc_cpu *cpu, uint64_t sp)
{
    rc_set_gpr(cpu, REG_RSP, cpu->stack_size, true, sp);
}

/* Push onto a staged stack pointer: write at (sp - size), wrapped to the
 * stack-address size; *sp moves only if the write succeeded. */
static rc_fault stage_push(rc_cpu *cpu, uint64_t *sp, uint64_t v, unsigned size)
{
    uint64_t nsp = (*sp - size) & rc_size_mask(cpu->stack_size);
    TRY(rc_write(cpu, RC_SEG_SS, nsp, size, v & rc_size_mask(size)));
    *sp = nsp;
    return RC_NOFAULT;
}

/* Pop from a staged stack pointer. */
static rc_fault stage_pop(rc_cpu *cpu, uint64_t *sp, unsigned size, uint64_t *v)
{
    TRY(rc_read(cpu, RC_SEG_SS, *sp, size, RC_ACC_READ, v));
    *sp = (*sp + size) & rc_size_mask(cpu->stack_size);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "PUSH": decrement the stack pointer by the operand size,
 * then store. A fault (#SS(0), #PF) leaves RSP unchanged. */
rc_fault rc_push(rc_cpu *cpu, uint64_t v, unsigned size)
{
    uint64_t sp = sp_get(cpu);
    TRY(stage_push(cpu, &sp, v, size));
    sp_set(cpu, sp);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "POP": load from the top of the stack, then increment
 * the stack pointer by the operand size. A fault leaves RSP unchanged. */
rc_fault rc_pop(rc_cpu *cpu, unsigned size, uint64_t *v)
{
    uint64_t sp = sp_get(cpu);
    TRY(stage_pop(cpu, &sp, size, v));
    sp_set(cpu, sp);
    return RC_NOFAULT;
}

/* The register of the 50+r / 58+r forms: low opcode bits plus REX.B. */
static inline unsigned opcode_reg(const rc_insn *in)
{
    return (in->opcode & 7u) | ((in->rex & 1u) << 3);
}

/* ------------------------------------------------------------------ PUSH / POP */

/* SDM Vol. 2B 4.3 "PUSH" (50+r): PUSH rSP stores the value rSP had before
 * the instruction (read first, then push). 64-bit mode: 64 or (66) 16 bits;
 * 32-bit pushes are not encodable there (the decoder's DEF64 rule). */
RC_HANDLER(ex_push_r)
{
    uint64_t v = rc_get_gpr(cpu, opcode_reg(in), in->opsize, true);
    return rc_push(cpu, v, in->opsize);
}

/* SDM Vol. 2B 4.3 "POP" (58+r): "The POP ESP instruction increments the
 * stack pointer (ESP) before data at the old top of stack is written into
 * the destination" -- so POP rSP ends with the popped value. */
RC_HANDLER(ex_pop_r)
{
    uint64_t v;
    TRY(rc_pop(cpu, in->opsize, &v));
    rc_set_gpr(cpu, opcode_reg(in), in->opsize, true, v);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "PUSH" (68 iz, 6A ib): the immediate is sign-extended to
 * the operand size (the decoder already sign-extended it to 64 bits). */
RC_HANDLER(ex_push_imm)
{
    return rc_push(cpu, in->imm, in->opsize);
}

/* SDM Vol. 2B 4.3 "POP" (8F /0): "If the ESP register is used as a base
 * register for addressing a destination operand in memory, the POP
 * instruction computes the effective address of the operand after it
 * increments the ESP register." RSP takes its incremented value while the
 * destination is written and is put back if that write faults. */
RC_HANDLER(ex_pop_rm)
{
    uint64_t old_rsp = cpu->gpr[REG_RSP];
    uint64_t sp = sp_get(cpu), v;
    TRY(stage_pop(cpu, &sp, in->opsize, &v));
    sp_set(cpu, sp);
    rc_fault f = rc_rm_write(cpu, in, in->opsize, v);
    if (RC_FAILED(f))
        cpu->gpr[REG_RSP] = old_rsp;
    return f;
}

/* ------------------------------------------------------------------ PUSHA / POPA */

/* SDM Vol. 2B 4.3 "PUSHA/PUSHAD": Temp <- (E)SP; push (E)AX,
 * (E)CX, (E)DX, (E)BX, Temp, (E)BP, (E)SI, (E)DI. Not valid in 64-bit mode
 * (decode table). */
RC_HANDLER(ex_pusha)
{
    static const uint8_t order[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }; /* rAX..rDI, rSP = original */
    unsigned os = in->opsize;
    uint64_t sp = sp_get(cpu);
    for (unsigned i = 0; i < 8; i++)
        TRY(stage_push(cpu, &sp, rc_get_gpr(cpu, order[i], os, true), os));
    sp_set(cpu, sp);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "POPA/POPAD": pop (E)DI, (E)SI, (E)BP, skip the next
 * stack slot (the saved (E)SP is discarded: "increment ESP by 4"), pop
 * (E)BX, (E)DX, (E)CX, (E)AX. All pops happen before any register is
 * written, so a fault changes nothing. */
RC_HANDLER(ex_popa)
{
    unsigned os = in->opsize;
    uint64_t sp = sp_get(cpu), v[8];
    for (int r = 7; r >= 0; r--)
        TRY(stage_pop(cpu, &sp, os, &v[r])); /* v[4] is the skipped slot */
    for (unsigned r = 0; r < 8; r++)
        if (r != REG_RSP)
            rc_set_gpr(cpu, r, os, true, v[r]);
    sp_set(cpu, sp);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ PUSHF / POPF */

/* RFLAGS bits 0-14 that exist (reserved bits 1, 3, 5, 15 excluded). */
#define FLAGS_LOW16 (RC_FLAGS_ARITH | RC_FLAG_TF | RC_FLAG_IF | RC_FLAG_DF | RC_FLAG_IOPL | \
                     RC_FLAG_NT)
/* "All non-reserved flags except RF, VIP, VIF, and VM" of a 32/64-bit POPF. */
#define FLAGS_POPF_WIDE (FLAGS_LOW16 | RC_FLAG_AC | RC_FLAG_ID)
#define IOPL_SHIFT 12

static inline unsigned cur_iopl(const rc_cpu *cpu)
{
    return (unsigned)((cpu->rflags & RC_FLAG_IOPL) >> IOPL_SHIFT);
}

/* SDM Vol. 2B 4.3 "PUSHF/PUSHFD/PUSHFQ":
 *   real mode, protected mode, VM86 with IOPL = 3: push the flags; with a
 *   32/64-bit operand "VM and RF EFLAG bits are cleared in image stored on
 *   the stack" (AND 00FCFFFFH); with a 16-bit operand the low 16 bits.
 *   VM86 with IOPL < 3: #GP(0) unless CR4.VME = 1 and the operand size is
 *   16, in which case the image has IF <- VIF and IOPL <- 3
 *   (SDM Vol. 3B 20.3 "Interrupt and Exception Handling in Virtual-8086
 *   Mode" / Table 20-2, virtual-mode extensions). */
RC_HANDLER(ex_pushf)
{
    unsigned os = in->opsize;
    uint64_t fl = rc_get_rflags(cpu);
    if ((fl & RC_FLAG_VM) && cur_iopl(cpu) < 3) {
        FAULT_IF(cpu, !(cpu->cr4 & RC_CR4_VME), RC_EXC_GP, 0,
                 "PUSHF in virtual-8086 mode with IOPL < 3 and CR4.VME = 0 (SDM PUSHF)");
        FAULT_IF(cpu, os != 2, RC_EXC_GP, 0,
                 "PUSHFD in virtual-8086 mode with IOPL < 3 (SDM PUSHF)");
        uint64_t img = fl & 0xffff;
        img = (img & ~(uint64_t)RC_FLAG_IF) | ((fl & RC_FLAG_VIF) ? RC_FLAG_IF : 0);
        img |= RC_FLAG_IOPL;
        return rc_push(cpu, img, 2);
    }
    if (os == 2)
        return rc_push(cpu, fl & 0xffff, 2);
    return rc_push(cpu, fl & ~(uint64_t)(RC_FLAG_VM | RC_FLAG_RF), os);
}

/* SDM Vol. 2B 4.3 "POPF/POPFD/POPFQ", the table "Effect of POPF/POPFD on
 * the EFLAGS Register" and the pseudo-code:
 *   not VM86, CPL 0 (or real mode): 32/64-bit: all non-reserved bits except
 *     RF, VIP, VIF, VM; RF cleared. 16-bit: bits 15:0.
 *   not VM86, CPL > 0: as above but IOPL unaffected; IF unaffected too when
 *     CPL > IOPL. (No fault: the masked bits are silently kept.)
 *   VM86, IOPL = 3: IOPL (and VIP, VIF, VM) unaffected; RF cleared (32-bit).
 *   VM86, IOPL < 3: #GP(0) unless CR4.VME = 1 and 16-bit operand size; then
 *     #GP(0) if (VIP = 1 and the popped IF = 1) or the popped TF = 1, else
 *     VIF <- popped IF and bits 15:0 except IF and IOPL are loaded. */
RC_HANDLER(ex_popf)
{
    unsigned os = in->opsize;
    uint64_t old = rc_get_rflags(cpu);
    uint64_t sp = sp_get(cpu), v;
    uint64_t mask = os == 2 ? FLAGS_LOW16 : FLAGS_POPF_WIDE;
    bool vme_path = false;

    if (old & RC_FLAG_VM) {
        if (cur_iopl(cpu) < 3) {
            FAULT_IF(cpu, os != 2 || !(cpu->cr4 & RC_CR4_VME), RC_EXC_GP, 0,
                     "POPF in virtual-8086 mode with IOPL < 3 (SDM POPF)");
            vme_path = true;
            mask &= ~(uint64_t)(RC_FLAG_IOPL | RC_FLAG_IF);
        } else {
            mask &= ~(uint64_t)RC_FLAG_IOPL;
        }
    } else if ((cpu->cr0 & RC_CR0_PE) && cpu->cpl != 0) {
        mask &= ~(uint64_t)RC_FLAG_IOPL;
        if (cpu->cpl > cur_iopl(cpu))
            mask &= ~(uint64_t)RC_FLAG_IF;
    }

    TRY(stage_pop(cpu, &sp, os, &v));
    uint64_t nf = (old & ~mask) | (v & mask);
    if (vme_path) {
        FAULT_IF(cpu, ((old & RC_FLAG_VIP) && (v & RC_FLAG_IF)) || (v & RC_FLAG_TF), RC_EXC_GP, 0,
                 "POPF (CR4.VME) with VIP = 1 and IF = 1, or TF = 1, in the popped image");
        nf = (nf & ~(uint64_t)RC_FLAG_VIF) | ((v & RC_FLAG_IF) ? RC_FLAG_VIF : 0);
    }
    if (os != 2)
        nf &= ~(uint64_t)RC_FLAG_RF;
    sp_set(cpu, sp);
    rc_set_rflags(cpu, nf);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ ENTER / LEAVE */

#define ENTER_LEVEL_MASK 31u /* NestingLevel <- imm8 MOD 32 */

/* SDM Vol. 2A 3.3 "ENTER": push rBP; FrameTemp <- rSP; for nesting levels
 * > 1 copy level-1 frame pointers from [rBP - i*size] (rBP of the stack
 * size, through SS); for levels >= 1 push FrameTemp; then rBP <- FrameTemp
 * (operand size) and rSP <- rSP - AllocSize (stack size). Exceptions: #SS(0)
 * "if the new value of the SP or ESP register is outside the stack segment
 * limit" (64-bit: non-canonical) -- probed below before anything commits. */
RC_HANDLER(ex_enter)
{
    unsigned os = in->opsize;
    uint64_t smask = rc_size_mask(cpu->stack_size);
    uint64_t alloc = in->imm & 0xffff;
    unsigned level = (unsigned)in->imm2 & ENTER_LEVEL_MASK;
    uint64_t sp = sp_get(cpu);

    TRY(stage_push(cpu, &sp, rc_get_gpr(cpu, REG_RBP, os, true), os));
    uint64_t frame = sp;
    if (level > 0) {
        uint64_t bp = cpu->gpr[REG_RBP] & smask;
        for (unsigned i = 1; i < level; i++) {
            uint64_t v;
            bp = (bp - os) & smask;
            TRY(rc_read(cpu, RC_SEG_SS, bp, os, RC_ACC_READ, &v));
            TRY(stage_push(cpu, &sp, v, os));
        }
        TRY(stage_push(cpu, &sp, frame, os));
    }
    uint64_t final_sp = (sp - alloc) & smask;
    if (alloc != 0) {
        uint64_t lin;
        TRY(rc_seg_linear(cpu, RC_SEG_SS, final_sp, 1, RC_ACC_WRITE, &lin));
    }
    rc_set_gpr(cpu, REG_RBP, os, true, frame);
    sp_set(cpu, final_sp);
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "LEAVE": rSP <- rBP (stack-address size), then rBP <-
 * Pop() (operand size). The pop reads at the old rBP; a fault there
 * leaves both registers unchanged. */
RC_HANDLER(ex_leave)
{
    uint64_t sp = cpu->gpr[REG_RBP] & rc_size_mask(cpu->stack_size), v;
    TRY(stage_pop(cpu, &sp, in->opsize, &v));
    sp_set(cpu, sp);
    rc_set_gpr(cpu, REG_RBP, in->opsize, true, v);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ segment registers */

/* Which segment register an 06/07/0E/16/17/1E/1F or 0F A0/A1/A8/A9 names. */
static unsigned opcode_sreg(const rc_insn *in)
{
    if (in->map == RC_MAP_0F)
        return in->opcode >= 0xA8 ? RC_SEG_GS : RC_SEG_FS;
    return in->opcode >> 3; /* 06 ES, 0E CS, 16 SS, 1E DS: RC_SEG_ES..DS */
}

/* SDM Vol. 2B 4.3 "PUSH": "If the source operand is a segment register (16
 * bits) and the operand size is 32-bits, either a zero-extended value is
 * pushed on the stack or the segment selector is written on the stack
 * using a 16-bit move. For the last case, all recent Intel Core and Intel
 * Atom processors perform a 16-bit move, leaving the upper portion of the
 * stack location unmodified." Decision: the Intel model writes 16 bits;
 * the AMD model stores the zero-extended selector -- measured on the AMD
 * EPYC host (`push %fs` over a slot of all ones leaves 0x0000...0000;
 * test_ctl.c compares ringcore with it). Either way rSP moves by the
 * operand size. */
RC_HANDLER(ex_push_seg)
{
    unsigned os = in->opsize;
    uint16_t sel = cpu->seg[opcode_sreg(in)].selector;
    if (cpu->model && cpu->model->vendor == RC_VENDOR_AMD)
        return rc_push(cpu, sel, os);
    uint64_t sp = (sp_get(cpu) - os) & rc_size_mask(cpu->stack_size);
    TRY(rc_write(cpu, RC_SEG_SS, sp, 2, sel));
    sp_set(cpu, sp);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "POP" (segment register): the selector is the low 16 bits
 * of the stack slot; the segment load applies every protected-mode check
 * (rc_load_seg, src/mmu/seg.c); rSP grows by the operand size only after
 * the load succeeded. "Loading the SS register with a POP instruction
 * suppresses or inhibits some debug exceptions and inhibits interrupts on
 * the following instruction boundary" (SDM POP; Vol. 3A 6.8.3). */
RC_HANDLER(ex_pop_seg)
{
    unsigned seg = opcode_sreg(in);
    unsigned ssize = cpu->stack_size; /* POP SS: the increment uses the old SS.B */
    uint64_t sp = sp_get(cpu), v;
    TRY(rc_read(cpu, RC_SEG_SS, sp, 2, RC_ACC_READ, &v));
    sp = (sp + in->opsize) & rc_size_mask(ssize);
    TRY(rc_load_seg(cpu, seg, (uint16_t)v));
    rc_set_gpr(cpu, REG_RSP, ssize, true, sp);
    if (seg == RC_SEG_SS)
        cpu->inhibit_irq = 1;
    return RC_NOFAULT;
}

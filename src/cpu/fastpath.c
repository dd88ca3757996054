/*
 * fastpath.c - specialized handlers for the commonest instruction forms.
 *
 * rc_specialize() runs once per decoded instruction, before it enters the
 * decoded-instruction cache, and may replace in->exec with a handler that
 * does exactly what the generic handler does for one operand size and one
 * form, with the decisions taken at decode time instead of at every
 * execution. The semantics stay in the generic handlers (exec_alu.c,
 * exec_ctl.c); these are their shortcuts, and the random differential test
 * (against Unicorn and the host CPU, through rc_run) runs through them.
 *
 * Only 32- and 64-bit register forms are specialized: no high-byte
 * registers, no memory, no LOCK (the decoder rejects LOCK on a register
 * destination), so nothing here can fault except a branch target.
 */
#include "exec.h"

enum { OP_ADD = 0, OP_OR = 1, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7 };

/* A 32-bit register write zero-extends (SDM Vol. 1 3.4.1.1). */
#define W32(cpu, r, v) ((cpu)->gpr[r] = (uint32_t)(v))
#define W64(cpu, r, v) ((cpu)->gpr[r] = (v))

/* Flags as exec_alu.c records them: ADD -> LZ_ADD, SUB/CMP -> LZ_SUB,
 * AND/OR/XOR -> LZ_LOGIC, carry-in 0. */
#define LAZY(cpu, lz, size, res, a, b)                                                             \
    do {                                                                                           \
        rc_lazy((cpu), (lz), (size), (res), (a), (b));                                             \
        (cpu)->lz_cf_in = 0;                                                                       \
    } while (0)

/* dst op= src on registers: RR_<op>_<size>_<dir>, dir 0: rm is the
 * destination (01, 09, 21, 29, 31, 39), dir 1: reg is (03, 0B, ...). */
#define DEF_RR(opname, expr, lz, write, size, T, W)                                                \
    static rc_fault rr_##opname##_##size##_0(rc_cpu *cpu, const rc_insn *in)                       \
    {                                                                                              \
        uint64_t a = (T)cpu->gpr[in->rm], b = (T)cpu->gpr[in->reg];                                \
        uint64_t res = (T)(expr);                                                                  \
        if (write)                                                                                 \
            W(cpu, in->rm, res);                                                                   \
        LAZY(cpu, lz, size, res, a, b);                                                            \
        return RC_NOFAULT;                                                                         \
    }                                                                                              \
    static rc_fault rr_##opname##_##size##_1(rc_cpu *cpu, const rc_insn *in)                       \
    {                                                                                              \
        uint64_t a = (T)cpu->gpr[in->reg], b = (T)cpu->gpr[in->rm];                                \
        uint64_t res = (T)(expr);                                                                  \
        if (write)                                                                                 \
            W(cpu, in->reg, res);                                                                  \
        LAZY(cpu, lz, size, res, a, b);                                                            \
        return RC_NOFAULT;                                                                         \
    }                                                                                              \
    static rc_fault ri_##opname##_##size(rc_cpu *cpu, const rc_insn *in)                           \
    {                                                                                              \
        uint64_t a = (T)cpu->gpr[in->rm], b = (T)in->imm;                                          \
        uint64_t res = (T)(expr);                                                                  \
        if (write)                                                                                 \
            W(cpu, in->rm, res);                                                                   \
        LAZY(cpu, lz, size, res, a, b);                                                            \
        return RC_NOFAULT;                                                                         \
    }

#define DEF_OPS(size, T, W)                                                                        \
    DEF_RR(add, a + b, LZ_ADD, 1, size, T, W)                                                      \
    DEF_RR(or, a | b, LZ_LOGIC, 1, size, T, W)                                                     \
    DEF_RR(and, a & b, LZ_LOGIC, 1, size, T, W)                                                    \
    DEF_RR(sub, a - b, LZ_SUB, 1, size, T, W)                                                      \
    DEF_RR(xor, a ^ b, LZ_LOGIC, 1, size, T, W)                                                    \
    DEF_RR(cmp, a - b, LZ_SUB, 0, size, T, W)

DEF_OPS(4, uint32_t, W32)
DEF_OPS(8, uint64_t, W64)

typedef struct { rc_exec_fn rr[2], ri; } alu_fast;
#define FAST(op, size) { { rr_##op##_##size##_0, rr_##op##_##size##_1 }, ri_##op##_##size }
static const alu_fast alu_fast4[8] = { [OP_ADD] = FAST(add, 4), [OP_OR] = FAST(or, 4),
                                       [OP_AND] = FAST(and, 4), [OP_SUB] = FAST(sub, 4),
                                       [OP_XOR] = FAST(xor, 4), [OP_CMP] = FAST(cmp, 4) };
static const alu_fast alu_fast8[8] = { [OP_ADD] = FAST(add, 8), [OP_OR] = FAST(or, 8),
                                       [OP_AND] = FAST(and, 8), [OP_SUB] = FAST(sub, 8),
                                       [OP_XOR] = FAST(xor, 8), [OP_CMP] = FAST(cmp, 8) };

/* INC/DEC r32/r64 (40-4F outside 64-bit mode, FF /0 /1 register form):
 * CF is preserved (SDM Vol. 2A INC/DEC), recorded as the carry-in. */
#define DEF_INCDEC(name, delta, lz, size, T, W, regexpr)                                           \
    static rc_fault name(rc_cpu *cpu, const rc_insn *in)                                           \
    {                                                                                              \
        unsigned r = (regexpr);                                                                    \
        /* after INC/DEC the carry is the recorded one: no call */                                 \
        bool cf = (cpu->lz_op == LZ_INC || cpu->lz_op == LZ_DEC) ? cpu->lz_cf_in != 0             \
                                                                 : rc_get_cf(cpu);                 \
        uint64_t a = (T)cpu->gpr[r], res = (T)(a + (delta));                                       \
        W(cpu, r, res);                                                                            \
        rc_lazy(cpu, lz, size, res, a, 1);                                                         \
        cpu->lz_cf_in = cf;                                                                        \
        return RC_NOFAULT;                                                                         \
    }
DEF_INCDEC(inc_op_4, 1, LZ_INC, 4, uint32_t, W32, in->opcode & 7u)
DEF_INCDEC(dec_op_4, -1, LZ_DEC, 4, uint32_t, W32, in->opcode & 7u)
DEF_INCDEC(inc_rm_4, 1, LZ_INC, 4, uint32_t, W32, in->rm)
DEF_INCDEC(dec_rm_4, -1, LZ_DEC, 4, uint32_t, W32, in->rm)
DEF_INCDEC(inc_rm_8, 1, LZ_INC, 8, uint64_t, W64, in->rm)
DEF_INCDEC(dec_rm_8, -1, LZ_DEC, 8, uint64_t, W64, in->rm)

/* MOV r, r (89 /r, 8B /r register form) and MOV r, imm (B8+r). */
static rc_fault mov_rr_4_0(rc_cpu *cpu, const rc_insn *in) { W32(cpu, in->rm, cpu->gpr[in->reg]); return RC_NOFAULT; }
static rc_fault mov_rr_4_1(rc_cpu *cpu, const rc_insn *in) { W32(cpu, in->reg, cpu->gpr[in->rm]); return RC_NOFAULT; }
static rc_fault mov_rr_8_0(rc_cpu *cpu, const rc_insn *in) { W64(cpu, in->rm, cpu->gpr[in->reg]); return RC_NOFAULT; }
static rc_fault mov_rr_8_1(rc_cpu *cpu, const rc_insn *in) { W64(cpu, in->reg, cpu->gpr[in->rm]); return RC_NOFAULT; }
static rc_fault mov_ri_4(rc_cpu *cpu, const rc_insn *in)
{
    W32(cpu, (in->opcode & 7u) | ((in->rex & 1u) << 3), in->imm);
    return RC_NOFAULT;
}
static rc_fault mov_ri_8(rc_cpu *cpu, const rc_insn *in)
{
    W64(cpu, (in->opcode & 7u) | ((in->rex & 1u) << 3), in->imm);
    return RC_NOFAULT;
}

/* MOV m, r and MOV r, m (89 /r, 8B /r memory forms): straight to the
 * segmented accessors. */
static rc_fault mov_store_4(rc_cpu *cpu, const rc_insn *in)
{
    return rc_write(cpu, in->seg, rc_effective_addr(cpu, in), 4, (uint32_t)cpu->gpr[in->reg]);
}
static rc_fault mov_store_8(rc_cpu *cpu, const rc_insn *in)
{
    return rc_write(cpu, in->seg, rc_effective_addr(cpu, in), 8, cpu->gpr[in->reg]);
}
static rc_fault mov_load_4(rc_cpu *cpu, const rc_insn *in)
{
    uint64_t v;
    TRY(rc_read(cpu, in->seg, rc_effective_addr(cpu, in), 4, RC_ACC_READ, &v));
    W32(cpu, in->reg, v);
    return RC_NOFAULT;
}
static rc_fault mov_load_8(rc_cpu *cpu, const rc_insn *in)
{
    uint64_t v;
    TRY(rc_read(cpu, in->seg, rc_effective_addr(cpu, in), 8, RC_ACC_READ, &v));
    W64(cpu, in->reg, v);
    return RC_NOFAULT;
}

/* Jcc / JMP rel in 64-bit mode with a 64-bit operand size: the target
 * must be canonical (SDM Vol. 2A Jcc/JMP: #GP(0), nothing changed). */
/* E/NE (ZF) straight from the recorded result; the rest via rc_cond. */
static inline bool jcc_taken(rc_cpu *cpu, unsigned cc)
{
    if (((cc >> 1) & 7) == 2 && cpu->lz_op != LZ_NONE)
        return (cpu->lz_res == 0) ^ (cc & 1);
    return rc_cond(cpu, cc);
}

static rc_fault jcc_64(rc_cpu *cpu, const rc_insn *in)
{
    if (!jcc_taken(cpu, in->opcode & 0xfu))
        return RC_NOFAULT;
    uint64_t t = cpu->rip + in->imm;
    FAULT_IF(cpu, !rc_is_canonical(t), RC_EXC_GP, 0,
             "near branch to a non-canonical address (SDM JMP/CALL/RET: #GP(0))");
    cpu->rip = t;
    return RC_NOFAULT;
}
/* ... and in 32-bit code: truncated to 32 bits, checked against the CS limit. */
static rc_fault jcc_32(rc_cpu *cpu, const rc_insn *in)
{
    if (!jcc_taken(cpu, in->opcode & 0xfu))
        return RC_NOFAULT;
    uint64_t t = (uint32_t)(cpu->rip + in->imm);
    FAULT_IF(cpu, t > cpu->seg[RC_SEG_CS].limit, RC_EXC_GP, 0,
             "near branch target beyond the CS limit (SDM JMP/CALL/RET: #GP(0))");
    cpu->rip = t;
    return RC_NOFAULT;
}

void rc_specialize(const rc_cpu *cpu, rc_insn *in)
{
    unsigned sz = in->opsize;
    if (in->lock || (sz != 4 && sz != 8) || (in->flags & RC_OPF_BYTE))
        return;
    const alu_fast *alu = sz == 8 ? alu_fast8 : alu_fast4;
    unsigned op = (in->opcode >> 3) & 7;

    if (in->map == RC_MAP_1BYTE) {
        uint8_t o = in->opcode;
        if (in->exec == ex_alu && in->mod == 3 && (o & 5) == 1 && alu[op].ri) {
            /* 01/03 09/0B 21/23 29/2B 31/33 39/3B, register form */
            in->exec = alu[op].rr[(o >> 1) & 1];
        } else if (in->exec == ex_grp1 && in->mod == 3 && (o == 0x81 || o == 0x83)) {
            unsigned d = (in->modrm >> 3) & 7;
            if (alu[d].ri)
                in->exec = alu[d].ri;
        } else if (in->exec == ex_incdec_r && sz == 4) {
            in->exec = (o & 8) ? dec_op_4 : inc_op_4;
        } else if (o == 0xff && in->mod == 3 && ((in->modrm >> 3) & 7) < 2) {
            bool dec = ((in->modrm >> 3) & 7) == 1;
            in->exec = sz == 8 ? (dec ? dec_rm_8 : inc_rm_8) : (dec ? dec_rm_4 : inc_rm_4);
        } else if (in->exec == ex_mov && in->mod == 3 && (o == 0x89 || o == 0x8b)) {
            in->exec = sz == 8 ? (o == 0x89 ? mov_rr_8_0 : mov_rr_8_1)
                               : (o == 0x89 ? mov_rr_4_0 : mov_rr_4_1);
        } else if (in->exec == ex_mov && (o == 0x89 || o == 0x8b)) {
            in->exec = sz == 8 ? (o == 0x89 ? mov_store_8 : mov_load_8)
                               : (o == 0x89 ? mov_store_4 : mov_load_4);
        } else if (in->exec == ex_mov_r_imm) {
            in->exec = sz == 8 ? mov_ri_8 : mov_ri_4;
        } else if (in->exec == ex_jcc) {
            if (cpu->code_size == 8 && sz == 8)
                in->exec = jcc_64;
            else if (cpu->code_size == 4 && sz == 4)
                in->exec = jcc_32;
        }
    } else if (in->map == RC_MAP_0F && in->exec == ex_jcc) {
        if (cpu->code_size == 8 && sz == 8)
            in->exec = jcc_64;
        else if (cpu->code_size == 4 && sz == 4)
            in->exec = jcc_32;
    }
}

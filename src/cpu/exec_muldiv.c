/*
 * exec_muldiv.c - group 3 (TEST NOT NEG MUL IMUL DIV IDIV) and the two-
 * and three-operand IMUL.
 *
 * SDM Vol. 2A "DIV", "IDIV", "IMUL", Vol. 2B "MUL", "NEG", "NOT", "TEST".
 * After MUL/IMUL only CF and OF are defined; after DIV/IDIV no flag is.
 * docs/flags.md records what ringcore does with the others and why.
 */
#include "exec_alu.h"

enum { G3_TEST, G3_TEST_ALIAS, G3_NOT, G3_NEG, G3_MUL, G3_IMUL, G3_DIV, G3_IDIV };

#define MUL_FLAGS (RC_FLAG_CF | RC_FLAG_OF)

/* SF ZF AF PF after MUL/IMUL: undefined; both AMD (native measurement) and
 * Intel P6-family cores (sandpile.org "undefined integer FLAGS behavior")
 * leave them unchanged, so only CF and OF are written. */
static void mul_set_cf_of(rc_cpu *cpu, bool overflow)
{
    rc_set_status_flags(cpu, MUL_FLAGS, overflow ? MUL_FLAGS : 0);
}

/* Signed product of two operands of 'size' bytes, truncated; *ovf tells
 * whether it differs from its own sign-extended truncation (SDM "IMUL":
 * CF = OF = 1 "when the signed integer value of the intermediate product
 * differs from the sign extended operand-size-truncated product"). */
static uint64_t imul_trunc(uint64_t a, uint64_t b, unsigned size, bool *ovf)
{
    __int128 p = (__int128)rc_sext(a, size) * (__int128)rc_sext(b, size);
    uint64_t lo = (uint64_t)p & rc_size_mask(size);
    *ovf = (__int128)rc_sext(lo, size) != p;
    return lo;
}

/* F6/F7 /4 MUL and /5 IMUL: rDX:rAX (AX for bytes) <- rAX * r/m. */
static rc_fault mul_one(rc_cpu *cpu, unsigned size, uint64_t src, bool is_signed)
{
    uint64_t a = cpu->gpr[0] & rc_size_mask(size), lo, hi;
    bool ovf;
    unsigned bits = size * 8;

    if (is_signed) {
        __int128 p = (__int128)rc_sext(a, size) * (__int128)rc_sext(src, size);
        lo = (uint64_t)p & rc_size_mask(size);
        hi = (uint64_t)(p >> bits) & rc_size_mask(size);
        ovf = (__int128)rc_sext(lo, size) != p;
    } else {
        unsigned __int128 p = (unsigned __int128)a * src;
        lo = (uint64_t)p & rc_size_mask(size);
        hi = (uint64_t)(p >> bits) & rc_size_mask(size);
        ovf = hi != 0;
    }
    if (size == 1) {
        rc_set_gpr(cpu, 0, 2, false, hi << 8 | lo);
    } else {
        rc_set_gpr(cpu, 0, size, false, lo);
        rc_set_gpr(cpu, 2, size, false, hi);
    }
    mul_set_cf_of(cpu, ovf);
    return RC_NOFAULT;
}

/* F6/F7 /6 DIV and /7 IDIV. SDM Vol. 2A "DIV"/"IDIV": #DE if the source
 * is 0 or the quotient does not fit the destination (for IDIV this
 * includes the most negative dividend divided by -1). Byte form: AL <-
 * AX / src, AH <- remainder; others: rAX <- rDX:rAX / src, rDX <- remainder.
 * All six flags are undefined (docs/flags.md): see div_flags. */
/* Flags after a DIV/IDIV that did not fault. AMD (native measurement,
 * every operand size, DIV and IDIV alike, independent of the operands):
 * SF = ZF = PF = 0, AF = 1, CF and OF unchanged. Intel P6-family cores
 * leave all six unchanged (sandpile.org "undefined integer FLAGS
 * behavior"; no Intel CPU is at hand to confirm). */
static void div_flags(rc_cpu *cpu)
{
    if (alu_is_amd(cpu))
        rc_set_status_flags(cpu, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF | RC_FLAG_AF, RC_FLAG_AF);
}

static rc_fault div_one(rc_cpu *cpu, unsigned size, uint64_t src, bool is_signed)
{
    unsigned bits = size * 8;
    uint64_t m = rc_size_mask(size), q, r;
    unsigned __int128 dividend =
        size == 1 ? (unsigned __int128)(cpu->gpr[0] & 0xffff)
                  : ((unsigned __int128)(cpu->gpr[2] & m) << bits) | (cpu->gpr[0] & m);

    FAULT_NOERR_IF(cpu, src == 0, RC_EXC_DE, "DIV/IDIV by zero");
    if (!is_signed) {
        unsigned __int128 uq = dividend / src;
        FAULT_NOERR_IF(cpu, uq > m, RC_EXC_DE, "DIV quotient too large for the destination");
        q = (uint64_t)uq;
        r = (uint64_t)(dividend % src);
    } else {
        /* Sign-extend the 2*size-bit dividend into 128 bits. */
        unsigned sh = 128 - 2 * bits;
        __int128 sd = (__int128)(dividend << sh) >> sh;
        __int128 sdiv = rc_sext(src, size);
        __int128 min128 = (__int128)((unsigned __int128)1 << 127);
        FAULT_NOERR_IF(cpu, sd == min128 && sdiv == -1, RC_EXC_DE,
                       "IDIV quotient too large for the destination");
        __int128 sq = sd / sdiv, sr = sd % sdiv;
        __int128 qmax = ((__int128)1 << (bits - 1)) - 1, qmin = -qmax - 1;
        FAULT_NOERR_IF(cpu, sq > qmax || sq < qmin, RC_EXC_DE,
                       "IDIV quotient too large for the destination");
        q = (uint64_t)sq & m;
        r = (uint64_t)sr & m;
    }
    if (size == 1) {
        rc_set_gpr(cpu, 0, 2, false, r << 8 | q);
    } else {
        rc_set_gpr(cpu, 0, size, false, q);
        rc_set_gpr(cpu, 2, size, false, r);
    }
    div_flags(cpu);
    return RC_NOFAULT;
}

/* F6 F7: group 3 (SDM Vol. 2D Table A-6). /1 is an undocumented alias of
 * TEST that both vendors execute. LOCK is allowed for NOT and NEG only. */
RC_HANDLER(ex_grp3)
{
    unsigned op = alu_digit(in), size = alu_size(in);
    uint64_t m = rc_size_mask(size), v;

    TRY(alu_lock_check(cpu, in, op == G3_NOT || op == G3_NEG));
    bool rmw = op == G3_NOT || op == G3_NEG;
    TRY(rc_rm_read(cpu, in, size, rmw ? RC_ACC_RMW : RC_ACC_READ, &v));
    switch (op) {
    case G3_TEST:
    case G3_TEST_ALIAS:
        rc_lazy(cpu, LZ_LOGIC, size, v & in->imm, v, in->imm);
        return RC_NOFAULT;
    case G3_NOT:
        /* SDM "NOT": flags not affected. */
        return rc_rm_write(cpu, in, size, ~v & m);
    case G3_NEG: {
        /* SDM "NEG": DEST <- 0 - DEST; CF <- (DEST != 0); others per result,
         * i.e. the flags of SUB 0, DEST. */
        uint64_t res = (0 - v) & m;
        TRY(rc_rm_write(cpu, in, size, res));
        rc_lazy(cpu, LZ_SUB, size, res, 0, v);
        return RC_NOFAULT;
    }
    case G3_MUL:
    case G3_IMUL:
        return mul_one(cpu, size, v, op == G3_IMUL);
    default:
        return div_one(cpu, size, v, op == G3_IDIV);
    }
}

/* 0F AF: IMUL Gv, Ev -- DEST <- truncate(DEST * SRC). */
RC_HANDLER(ex_imul2)
{
    unsigned size = in->opsize;
    uint64_t v;
    bool ovf;
    TRY(alu_lock_check(cpu, in, false));
    TRY(rc_rm_read(cpu, in, size, RC_ACC_READ, &v));
    uint64_t res = imul_trunc(rc_get_gpr(cpu, in->reg, size, false), v, size, &ovf);
    rc_set_gpr(cpu, in->reg, size, false, res);
    mul_set_cf_of(cpu, ovf);
    return RC_NOFAULT;
}

/* 69 (Iz) / 6B (Ib, sign-extended): IMUL Gv, Ev, imm -- DEST <- truncate(SRC * imm). */
RC_HANDLER(ex_imul3)
{
    unsigned size = in->opsize;
    uint64_t v;
    bool ovf;
    TRY(alu_lock_check(cpu, in, false));
    TRY(rc_rm_read(cpu, in, size, RC_ACC_READ, &v));
    uint64_t res = imul_trunc(v, in->imm & rc_size_mask(size), size, &ovf);
    rc_set_gpr(cpu, in->reg, size, false, res);
    mul_set_cf_of(cpu, ovf);
    return RC_NOFAULT;
}

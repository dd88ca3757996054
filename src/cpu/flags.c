/*
 * flags.c - the six arithmetic status flags, computed lazily.
 *
 * An arithmetic instruction records what it did (cpu->lz_op, lz_size and
 * the masked operands lz_src1/lz_src2, the masked result lz_res, and for
 * ADC/SBB the carry-in or for INC/DEC the preserved CF in lz_cf_in) instead
 * of computing CF PF AF ZF SF OF. The flags are derived from that record
 * only when something reads them: Jcc/SETcc/CMOVcc (rc_cond), ADC/SBB
 * (rc_get_cf), PUSHF, an exception frame (rc_get_rflags). While
 * cpu->lz_op != LZ_NONE the status bits of cpu->rflags are stale; every
 * other bit of cpu->rflags is always valid. docs/flags.md explains the
 * design and lists each formula's source.
 *
 * The formulas are those of SDM Vol. 1 3.4.3.1 "Status Flags" and the
 * "Flags Affected" sections of the SDM Vol. 2 pages for ADD/ADC/SUB/SBB/
 * CMP/NEG/INC/DEC/AND/OR/XOR/TEST.
 */
#include "cpu.h"

/* SDM Vol. 1 3.4.3.1: PF is set if the least-significant byte of the
 * result contains an even number of 1 bits. Returns 1 or 0. */
uint32_t rc_parity(uint64_t v)
{
    return !__builtin_parity((unsigned)(v & 0xff));
}

/* SF, ZF and PF of a result whose sign bit is bit 'sh'. */
static inline uint32_t flags_szp(uint64_t res, unsigned sh)
{
    return (uint32_t)((res >> sh) & 1) * RC_FLAG_SF | (uint32_t)(res == 0) * RC_FLAG_ZF |
           rc_parity(res) * RC_FLAG_PF;
}

/* CF of the recorded operation (operands are already masked to lz_size). */
static inline bool lazy_cf(const rc_cpu *cpu)
{
    uint64_t res = cpu->lz_res, a = cpu->lz_src1, b = cpu->lz_src2;
    switch (cpu->lz_op) {
    case LZ_ADD: return res < a;                               /* carry out of the top bit */
    case LZ_ADC: return cpu->lz_cf_in ? res <= a : res < a;    /* a + b + 1 wraps to <= a */
    case LZ_SUB:
    case LZ_NEG: return a < b;                                 /* borrow: NEG is 0 - b */
    case LZ_SBB: return cpu->lz_cf_in ? a <= b : a < b;
    case LZ_LOGIC: return false;                               /* AND/OR/XOR/TEST: CF = 0 */
    case LZ_INC:
    case LZ_DEC: return cpu->lz_cf_in != 0;                    /* INC/DEC: CF not affected */
    default: return (cpu->rflags & RC_FLAG_CF) != 0;
    }
}

/* All six status flags of the recorded operation, as RFLAGS bits. */
static uint32_t lazy_flags(const rc_cpu *cpu)
{
    uint64_t res = cpu->lz_res, a = cpu->lz_src1, b = cpu->lz_src2;
    unsigned sh = cpu->lz_size * 8u - 1;
    uint32_t f = flags_szp(res, sh) | (lazy_cf(cpu) ? RC_FLAG_CF : 0);
    uint64_t of;

    switch (cpu->lz_op) {
    case LZ_ADD:
    case LZ_ADC:
    case LZ_INC:
        /* OF: both addends have the same sign and the sum's sign differs. */
        of = (a ^ res) & (b ^ res);
        break;
    case LZ_SUB:
    case LZ_SBB:
    case LZ_NEG:
    case LZ_DEC:
        /* OF: operands of different sign and the result's sign is the subtrahend's. */
        of = (a ^ b) & (a ^ res);
        break;
    default:
        /* LZ_LOGIC: OF = 0, AF = 0 (AF is undefined in the SDM; both vendors clear
         * it -- docs/flags.md). */
        return f;
    }
    /* AF: carry/borrow out of bit 3 is bit 4 of a ^ b ^ res. */
    f |= (uint32_t)((a ^ b ^ res) & 0x10); /* 0x10 == RC_FLAG_AF */
    f |= (uint32_t)((of >> sh) & 1) * RC_FLAG_OF;
    return f;
}

void rc_materialize_flags(rc_cpu *cpu)
{
    if (cpu->lz_op == LZ_NONE)
        return;
    cpu->rflags = (cpu->rflags & ~(uint64_t)RC_FLAGS_ARITH) | lazy_flags(cpu);
    cpu->lz_op = LZ_NONE;
}

uint64_t rc_get_rflags(rc_cpu *cpu)
{
    rc_materialize_flags(cpu);
    return cpu->rflags | RC_FLAG_FIXED1;
}

void rc_set_rflags(rc_cpu *cpu, uint64_t v)
{
    cpu->rflags = v | RC_FLAG_FIXED1;
    cpu->lz_op = LZ_NONE;
}

bool rc_get_cf(rc_cpu *cpu)
{
    return lazy_cf(cpu);
}

void rc_set_status_flags(rc_cpu *cpu, uint32_t mask, uint32_t val)
{
    mask &= RC_FLAGS_ARITH;
    if (mask == RC_FLAGS_ARITH)
        cpu->lz_op = LZ_NONE; /* every status flag is overwritten: nothing to compute */
    else
        rc_materialize_flags(cpu);
    cpu->rflags = (cpu->rflags & ~(uint64_t)mask) | (val & mask);
}

/* SDM Vol. 2D Appendix B.1.4 Table B-1 "Conditions (cccn)": the condition
 * of Jcc/SETcc/CMOVcc is selected by bits 3:1; bit 0 negates it. */
static inline bool cond_from_flags(uint32_t f, unsigned cc)
{
    bool sf = (f & RC_FLAG_SF) != 0, of = (f & RC_FLAG_OF) != 0, zf = (f & RC_FLAG_ZF) != 0;
    bool r;
    switch ((cc >> 1) & 7) {
    case 0: r = of; break;                                   /* O */
    case 1: r = (f & RC_FLAG_CF) != 0; break;                /* B / C / NAE */
    case 2: r = zf; break;                                   /* E / Z */
    case 3: r = (f & RC_FLAG_CF) || zf; break;               /* BE / NA */
    case 4: r = sf; break;                                   /* S */
    case 5: r = (f & RC_FLAG_PF) != 0; break;                /* P / PE */
    case 6: r = sf != of; break;                             /* L / NGE */
    default: r = zf || sf != of; break;                      /* LE / NG */
    }
    return r ^ (cc & 1);
}

bool rc_cond(rc_cpu *cpu, unsigned cc)
{
    /* Fast path for CMP/SUB followed by a branch: the unsigned and signed
     * relations of the operands are the conditions themselves. */
    if (cpu->lz_op == LZ_SUB) {
        uint64_t a = cpu->lz_src1, b = cpu->lz_src2;
        bool r;
        switch ((cc >> 1) & 7) {
        case 1: r = a < b; return r ^ (cc & 1);
        case 2: r = a == b; return r ^ (cc & 1);
        case 3: r = a <= b; return r ^ (cc & 1);
        case 6: r = rc_sext(a, cpu->lz_size) < rc_sext(b, cpu->lz_size); return r ^ (cc & 1);
        case 7: r = rc_sext(a, cpu->lz_size) <= rc_sext(b, cpu->lz_size); return r ^ (cc & 1);
        default: break;
        }
    }
    /* ZF and SF come straight from the recorded result for every lazy op
     * (the result is stored masked to its size): E/NE and S/NS. */
    if (cpu->lz_op != LZ_NONE) {
        unsigned c = (cc >> 1) & 7;
        if (c == 2)
            return (cpu->lz_res == 0) ^ (cc & 1);
        if (c == 4)
            return ((cpu->lz_res >> (cpu->lz_size * 8 - 1)) & 1) ^ (cc & 1);
    }
    uint32_t f = cpu->lz_op == LZ_NONE ? (uint32_t)cpu->rflags : lazy_flags(cpu);
    return cond_from_flags(f, cc);
}

/*
 * exec_shift.c - ROL ROR RCL RCR SHL SHR SAL SAR (group 2) and SHLD/SHRD.
 *
 * SDM Vol. 2B "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD". The
 * count is masked to 5 bits (6 with a 64-bit operand); a masked count of
 * 0 changes no flag. Flags the SDM leaves undefined (OF after a multi-bit
 * shift, AF after any shift, CF of SHL/SHR by >= the operand width, the
 * 16-bit SHLD/SHRD result for counts above 16) are set as docs/flags.md
 * records, from native measurement on AMD and from the sources named
 * there for Intel.
 *
 * Two facts keep the OF rule short. After a left shift or rotate the last
 * bit out is CF and the SDM's 1-bit rule is OF = MSB(result) XOR CF. After
 * a right shift or rotate the bit below the MSB of the result is the MSB
 * before the last step, so the 1-bit rule reads OF = MSB(result) XOR
 * (MSB-1)(result). Both vendors apply the 1-bit rule to every count
 * (native measurement on AMD; docs/flags.md).
 */
#include "exec_alu.h"

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

#define ROT_FLAGS (RC_FLAG_CF | RC_FLAG_OF)

typedef struct shift_out {
    uint64_t res;
    uint32_t flags; /* new values of the flags in 'mask' */
    uint32_t mask;  /* flags the instruction writes */
} shift_out;

static inline uint64_t msb(uint64_t v, unsigned size) { return (v >> (size * 8 - 1)) & 1; }
static inline uint64_t msb2(uint64_t v, unsigned size) { return (v >> (size * 8 - 2)) & 1; }

/* AF after a shift by a nonzero count: undefined in the SDM; AMD sets it
 * (native measurement). No Intel measurement is at hand: ringcore uses the
 * same value (docs/flags.md). */
static inline uint32_t shift_af(const rc_cpu *cpu)
{
    (void)cpu;
    return RC_FLAG_AF;
}

static inline uint32_t bitflag(uint64_t b, uint32_t flag) { return b ? flag : 0; }

/* The group-2 operation on v (masked to size) by a masked, nonzero count. */
static shift_out shift_compute(rc_cpu *cpu, unsigned op, unsigned size, uint64_t v, unsigned count)
{
    unsigned bits = size * 8;
    uint64_t m = rc_size_mask(size), res, cf, of;
    shift_out o;

    switch (op) {
    case SH_ROL:
    case SH_ROR: {
        /* ROL/ROR: tempCOUNT <- COUNT MOD size; CF <- LSB (ROL) / MSB (ROR)
         * of the result even when tempCOUNT is 0. */
        unsigned r = count & (bits - 1);
        if (op == SH_ROL) {
            res = r ? ((v << r) | (v >> (bits - r))) & m : v;
            cf = res & 1;
            of = msb(res, size) ^ cf;
        } else {
            res = r ? ((v >> r) | (v << (bits - r))) & m : v;
            cf = msb(res, size);
            of = msb(res, size) ^ msb2(res, size);
        }
        o.mask = ROT_FLAGS;
        break;
    }
    case SH_RCL:
    case SH_RCR: {
        /* RCL/RCR rotate the size+1 bit quantity CF:DEST; tempCOUNT <-
         * (COUNT AND 1FH) MOD 9 (8-bit) / MOD 17 (16-bit). */
        unsigned n = size == 1 ? count % 9 : size == 2 ? count % 17 : count, w = bits + 1;
        unsigned __int128 x = ((unsigned __int128)rc_get_cf(cpu) << bits) | v;
        unsigned __int128 wm = ((unsigned __int128)1 << w) - 1;
        if (n)
            x = (op == SH_RCL ? (x << n) | (x >> (w - n)) : (x >> n) | (x << (w - n))) & wm;
        res = (uint64_t)x & m;
        cf = (uint64_t)(x >> bits) & 1;
        of = op == SH_RCL ? msb(res, size) ^ cf : msb(res, size) ^ msb2(res, size);
        o.mask = ROT_FLAGS;
        break;
    }
    case SH_SHL:
    case SH_SAL:
        /* CF is the last bit shifted out: bit (size - count) of DEST; 0 when
         * the count exceeds the width (8/16-bit operands only). */
        res = count < bits ? (v << count) & m : 0;
        cf = count <= bits ? (v >> (bits - count)) & 1 : 0;
        of = msb(res, size) ^ cf;
        o.mask = RC_FLAGS_ARITH;
        break;
    case SH_SHR:
        res = count < bits ? v >> count : 0;
        cf = count <= bits ? (v >> (count - 1)) & 1 : 0;
        of = msb(res, size) ^ msb2(res, size); /* count 1: MSB of the original */
        o.mask = RC_FLAGS_ARITH;
        break;
    default: { /* SAR: the sign fills; OF <- 0 for a 1-bit shift */
        int64_t sv = rc_sext(v, size);
        res = (uint64_t)(sv >> (count < bits ? count : bits - 1)) & m;
        cf = (uint64_t)(sv >> (count - 1 < bits ? count - 1 : bits - 1)) & 1;
        of = 0;
        o.mask = RC_FLAGS_ARITH;
        break;
    }
    }
    o.res = res;
    o.flags = bitflag(cf, RC_FLAG_CF) | bitflag(of, RC_FLAG_OF);
    if (o.mask == RC_FLAGS_ARITH)
        o.flags |= alu_szp(res, size) | shift_af(cpu);
    return o;
}

static inline unsigned count_mask(unsigned size) { return size == 8 ? 0x3f : 0x1f; }

/* Write the result of a shift whose masked count was 0: a register
 * operand is written back (a 32-bit one is zero-extended: native
 * measurement, "SHL r32, CL" with CL = 0 clears bits 63:32 on AMD), a
 * memory operand is left alone (its RMW read already checked write access). */
static rc_fault write_unchanged(rc_cpu *cpu, const rc_insn *in, unsigned size, uint64_t v)
{
    if (in->mod == 3)
        rc_set_gpr(cpu, in->rm, size, alu_rex(in), v);
    return RC_NOFAULT;
}

/* C0 C1 (imm8), D0 D1 (1), D2 D3 (CL): group 2. SAL (/6) is SHL. */
RC_HANDLER(ex_grp2)
{
    unsigned op = alu_digit(in), size = alu_size(in), count;
    uint64_t v;

    TRY(alu_lock_check(cpu, in, false));
    if (in->opcode <= 0xc1)
        count = (unsigned)in->imm;
    else if (in->opcode <= 0xd1)
        count = 1;
    else
        count = (unsigned)cpu->gpr[1];
    count &= count_mask(size);

    TRY(rc_rm_read(cpu, in, size, RC_ACC_RMW, &v));
    if (count == 0)
        return write_unchanged(cpu, in, size, v);
    shift_out o = shift_compute(cpu, op, size, v, count);
    TRY(rc_rm_write(cpu, in, size, o.res));
    rc_set_status_flags(cpu, o.mask, o.flags);
    return RC_NOFAULT;
}

/* SHLD/SHRD of a 16-bit operand by 17..31: the SDM leaves the result
 * undefined. The hardware shifts a 48-bit quantity; its third word is
 * SRC on AMD (native measurement) and DEST on Intel P6 and later (Bochs
 * cpu/shift16.cc, whose comment records the P6 behaviour). For counts up
 * to 16 the third word does not reach the result. */
static inline uint64_t shxd16_fill(const rc_cpu *cpu, uint64_t dest, uint64_t src)
{
    return alu_is_amd(cpu) ? src : dest;
}

/* 0F A4 (imm8) A5 (CL): SHLD; 0F AC (imm8) AD (CL): SHRD. SDM Vol. 2B. */
RC_HANDLER(ex_shxd)
{
    bool right = in->opcode >= 0xac, by_cl = in->opcode & 1;
    unsigned size = in->opsize, bits = size * 8;
    unsigned count = (by_cl ? (unsigned)cpu->gpr[1] : (unsigned)in->imm) & count_mask(size);
    uint64_t m = rc_size_mask(size), d, s = rc_get_gpr(cpu, in->reg, size, false), res, cf, of;

    TRY(alu_lock_check(cpu, in, false));
    TRY(rc_rm_read(cpu, in, size, RC_ACC_RMW, &d));
    if (count == 0)
        return write_unchanged(cpu, in, size, d);

    if (size == 2) {
        /* 48-bit quantity, high to low: DEST:SRC:fill (SHLD) or
         * fill:SRC:DEST (SHRD). */
        uint64_t fill = shxd16_fill(cpu, d, s);
        if (!right) {
            uint64_t t = d << 32 | s << 16 | fill;
            res = (t >> (32 - count)) & m;
            cf = (t >> (48 - count)) & 1;
        } else {
            uint64_t t = fill << 32 | s << 16 | d;
            res = (t >> count) & m;
            cf = (t >> (count - 1)) & 1;
        }
    } else if (!right) {
        /* count < bits here: DEST <- DEST << count | SRC >> (bits - count). */
        res = ((d << count) | (s >> (bits - count))) & m;
        cf = (d >> (bits - count)) & 1;
    } else {
        res = ((d >> count) | (s << (bits - count))) & m;
        cf = (d >> (count - 1)) & 1;
    }
    of = right ? msb(res, size) ^ msb2(res, size) : msb(res, size) ^ cf;
    if (size == 2 && count >= 16 && alu_is_amd(cpu)) {
        /* AMD, 16-bit operand, count 16..31 (native measurement over 3000
         * random operands): for counts above 16 CF = 0; SHLD sets OF = CF
         * (so 0 above 16), while SHRD keeps the right-shift rule above. */
        if (count > 16)
            cf = 0;
        if (!right)
            of = cf;
    }

    TRY(rc_rm_write(cpu, in, size, res));
    rc_set_status_flags(cpu, RC_FLAGS_ARITH,
                        alu_szp(res, size) | shift_af(cpu) | bitflag(cf, RC_FLAG_CF) |
                            bitflag(of, RC_FLAG_OF));
    return RC_NOFAULT;
}

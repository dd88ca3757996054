/*
 * exec_bits.c - BT/BTS/BTR/BTC, BSF/BSR and BSWAP.
 *
 * SDM Vol. 2A "BSF", "BSR", "BSWAP", "BT", "BTC", "BTR", "BTS".
 */
#include "exec_alu.h"

enum { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

/* 0F A3 BT, AB BTS, B3 BTR, BB BTC (Ev, Gv) and 0F BA /4-/7 (Ev, Ib).
 *
 * SDM Vol. 2A "BT" and Vol. 1 3.4.1.4 ("bit-base addressing"): with a
 * register operand or an immediate bit offset, the offset is taken modulo
 * the operand size. With a memory operand and a register offset, the
 * offset is a signed integer that may reach beyond the operand: the
 * operand-size-aligned unit holding the bit is at EA + size *
 * floor(offset / bits). CF <- the selected bit; ZF unaffected; OF SF AF
 * PF undefined and left unchanged (native measurement, docs/flags.md). */
RC_HANDLER(ex_bt)
{
    unsigned size = in->opsize, bits = size * 8, op;
    bool imm_form = in->opcode == 0xba;
    uint64_t off, unit, addr = 0;

    if (imm_form) {
        unsigned digit = alu_digit(in);
        FAULT_NOERR_IF(cpu, digit < 4, RC_EXC_UD, "0F BA /0-/3 is undefined (group 8)");
        op = digit - 4;
        off = in->imm;
    } else {
        op = (in->opcode >> 3) & 3;
        off = rc_get_gpr(cpu, in->reg, size, false);
    }
    TRY(alu_lock_check(cpu, in, op != BT_TEST));
    rc_access acc = op == BT_TEST ? RC_ACC_READ : RC_ACC_RMW;

    if (in->mod == 3 || imm_form) {
        TRY(rc_rm_read(cpu, in, size, acc, &unit));
    } else {
        /* floor(offset / bits) units of 'size' bytes, signed. */
        int64_t soff = rc_sext(off, size);
        int64_t units = soff >> __builtin_ctz(bits);
        addr = alu_ea_plus(cpu, in, units * (int64_t)size);
        TRY(rc_read(cpu, in->seg, addr, size, acc, &unit));
    }
    unsigned bit = off & (bits - 1);
    uint64_t sel = 1ull << bit, res;
    bool cf = (unit & sel) != 0;

    switch (op) {
    case BT_SET: res = unit | sel; break;
    case BT_RESET: res = unit & ~sel; break;
    case BT_COMPLEMENT: res = unit ^ sel; break;
    default: res = unit; break;
    }
    if (op != BT_TEST) {
        if (in->mod == 3 || imm_form)
            TRY(rc_rm_write(cpu, in, size, res));
        else
            TRY(rc_write(cpu, in->seg, addr, size, res));
    }
    rc_set_status_flags(cpu, RC_FLAG_CF, cf ? RC_FLAG_CF : 0);
    return RC_NOFAULT;
}

/* 0F BC BSF / 0F BD BSR. SDM Vol. 2A: source 0 -> ZF <- 1 and the
 * destination is "undefined"; otherwise ZF <- 0 and DEST <- index of the
 * lowest (BSF) / highest (BSR) set bit. CF OF SF AF PF undefined: left
 * unchanged (native measurement on AMD, docs/flags.md).
 *
 * Zero source: both vendors leave the destination's value alone
 * (model->bsf_zero_keeps_dest; AMD documents it, APM Vol. 3 "BSF"). For a
 * 32-bit operand AMD keeps all 64 bits (native measurement) while Intel
 * writes the old low half back, clearing bits 63:32 like any 32-bit write
 * (docs/flags.md). */
RC_HANDLER(ex_bsf_bsr)
{
    unsigned size = in->opsize;
    uint64_t src;

    TRY(alu_lock_check(cpu, in, false));
    TRY(rc_rm_read(cpu, in, size, RC_ACC_READ, &src));
    if (src == 0) {
        if (cpu->model != NULL && !cpu->model->bsf_zero_keeps_dest)
            rc_set_gpr(cpu, in->reg, size, false, 0);
        else if (!alu_is_amd(cpu))
            rc_set_gpr(cpu, in->reg, size, false, cpu->gpr[in->reg]);
        rc_set_status_flags(cpu, RC_FLAG_ZF, RC_FLAG_ZF);
        return RC_NOFAULT;
    }
    unsigned idx = in->opcode == 0xbc ? (unsigned)__builtin_ctzll(src)
                                      : 63u - (unsigned)__builtin_clzll(src);
    rc_set_gpr(cpu, in->reg, size, false, idx);
    rc_set_status_flags(cpu, RC_FLAG_ZF, 0);
    return RC_NOFAULT;
}

/* 0F C8-CF. SDM Vol. 2A "BSWAP": reverse the bytes of a 32/64-bit
 * register. With a 16-bit operand the result is undefined; the hardware
 * clears the low word and keeps the rest (native measurement on AMD:
 * 66 0F C8 turns RAX 1122334455667788 into 1122334455660000). */
RC_HANDLER(ex_bswap)
{
    unsigned r = alu_opreg(in);
    TRY(alu_lock_check(cpu, in, false));
    switch (in->opsize) {
    case 8: cpu->gpr[r] = __builtin_bswap64(cpu->gpr[r]); break;
    case 4: rc_set_gpr(cpu, r, 4, false, __builtin_bswap32((uint32_t)cpu->gpr[r])); break;
    default: rc_set_gpr(cpu, r, 2, false, 0); break;
    }
    return RC_NOFAULT;
}

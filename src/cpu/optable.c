/*
 * optable.c - the one-byte and 0F opcode maps (SDM Vol. 2D Appendix A,
 * "Opcode Map"; AMD APM Vol. 3 Appendix A). The 0F 38 and 0F 3A maps hold
 * only SSE-family instructions: every entry has ModRM, 0F 3A adds an imm8;
 * decode.c handles them without a table.
 */
#include "optable.h"

#define M 1 /* has ModRM */
#define ALL 0xff
#define L01 0x03 /* LOCK allowed for /0 and /1 */

/* exec, name, modrm, imm, lock_regs, ud, flags */
#define OP(fn, nm, m, im, lk, fl) { fn, nm, m, im, lk, 0, fl }
#define UNSUP(nm, m, im) { NULL, nm, m, im, 0, 0, 0 }
#define UD0 { NULL, "reserved opcode", 0, IMM_NONE, 0, 1, 0 }
#define UDM { NULL, "reserved opcode", M, IMM_NONE, 0, 1, 0 }

#define B RC_OPF_BYTE
#define D64 RC_OPF_DEF64
#define F64 RC_OPF_FORCE64
#define I64 RC_OPF_INVALID64
#define BR RC_OPF_BRANCH
#define STR RC_OPF_STRING
#define PRV RC_OPF_PRIV

/* The eight ALU ops share one handler; the six forms differ in operands. */
#define ALU_ROW(nm)                                                                                \
    OP(ex_alu, nm, M, IMM_NONE, ALL, B), OP(ex_alu, nm, M, IMM_NONE, ALL, 0),                      \
        OP(ex_alu, nm, M, IMM_NONE, 0, B), OP(ex_alu, nm, M, IMM_NONE, 0, 0),                      \
        OP(ex_alu, nm, 0, IMM_B, 0, B), OP(ex_alu, nm, 0, IMM_Z, 0, 0)
#define CMP_ROW                                                                                    \
    OP(ex_alu, "cmp", M, IMM_NONE, 0, B), OP(ex_alu, "cmp", M, IMM_NONE, 0, 0),                    \
        OP(ex_alu, "cmp", M, IMM_NONE, 0, B), OP(ex_alu, "cmp", M, IMM_NONE, 0, 0),                \
        OP(ex_alu, "cmp", 0, IMM_B, 0, B), OP(ex_alu, "cmp", 0, IMM_Z, 0, 0)
#define X8(...) __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__
#define X16(...) X8(__VA_ARGS__), X8(__VA_ARGS__)
#define PREFIX { NULL, "prefix", 0, IMM_NONE, 0, 1, 0 } /* never dispatched */

const rc_opdef rc_optable_1byte[256] = {
    /* 00 */ ALU_ROW("add"),
    /* 06 */ OP(ex_push_seg, "push es", 0, IMM_NONE, 0, I64),
    /* 07 */ OP(ex_pop_seg, "pop es", 0, IMM_NONE, 0, I64),
    /* 08 */ ALU_ROW("or"),
    /* 0E */ OP(ex_push_seg, "push cs", 0, IMM_NONE, 0, I64),
    /* 0F */ PREFIX,
    /* 10 */ ALU_ROW("adc"),
    /* 16 */ OP(ex_push_seg, "push ss", 0, IMM_NONE, 0, I64),
    /* 17 */ OP(ex_pop_seg, "pop ss", 0, IMM_NONE, 0, I64),
    /* 18 */ ALU_ROW("sbb"),
    /* 1E */ OP(ex_push_seg, "push ds", 0, IMM_NONE, 0, I64),
    /* 1F */ OP(ex_pop_seg, "pop ds", 0, IMM_NONE, 0, I64),
    /* 20 */ ALU_ROW("and"),
    /* 26 */ PREFIX,
    /* 27 */ OP(ex_bcd, "daa", 0, IMM_NONE, 0, I64),
    /* 28 */ ALU_ROW("sub"),
    /* 2E */ PREFIX,
    /* 2F */ OP(ex_bcd, "das", 0, IMM_NONE, 0, I64),
    /* 30 */ ALU_ROW("xor"),
    /* 36 */ PREFIX,
    /* 37 */ OP(ex_bcd, "aaa", 0, IMM_NONE, 0, I64),
    /* 38 */ CMP_ROW,
    /* 3E */ PREFIX,
    /* 3F */ OP(ex_bcd, "aas", 0, IMM_NONE, 0, I64),
    /* 40 */ X8(OP(ex_incdec_r, "inc", 0, IMM_NONE, 0, I64)),
    /* 48 */ X8(OP(ex_incdec_r, "dec", 0, IMM_NONE, 0, I64)),
    /* 50 */ X8(OP(ex_push_r, "push", 0, IMM_NONE, 0, D64)),
    /* 58 */ X8(OP(ex_pop_r, "pop", 0, IMM_NONE, 0, D64)),
    /* 60 */ OP(ex_pusha, "pusha", 0, IMM_NONE, 0, I64),
    /* 61 */ OP(ex_popa, "popa", 0, IMM_NONE, 0, I64),
    /* 62 */ OP(ex_bound, "bound", M, IMM_NONE, 0, I64), /* EVEX in 64-bit mode: decode.c */
    /* 63 */ OP(ex_arpl, "arpl", M, IMM_NONE, 0, 0),      /* MOVSXD in 64-bit mode: decode.c */
    /* 64 */ PREFIX, PREFIX, PREFIX, PREFIX,
    /* 68 */ OP(ex_push_imm, "push", 0, IMM_Z, 0, D64),
    /* 69 */ OP(ex_imul3, "imul", M, IMM_Z, 0, 0),
    /* 6A */ OP(ex_push_imm, "push", 0, IMM_B, 0, D64),
    /* 6B */ OP(ex_imul3, "imul", M, IMM_B, 0, 0),
    /* 6C */ OP(ex_ins, "ins", 0, IMM_NONE, 0, B | STR),
    /* 6D */ OP(ex_ins, "ins", 0, IMM_NONE, 0, STR),
    /* 6E */ OP(ex_outs, "outs", 0, IMM_NONE, 0, B | STR),
    /* 6F */ OP(ex_outs, "outs", 0, IMM_NONE, 0, STR),
    /* 70 */ X16(OP(ex_jcc, "jcc", 0, IMM_REL8, 0, F64 | BR)),
    /* 80 */ OP(ex_grp1, "grp1", M, IMM_B, 0x7f, B),
    /* 81 */ OP(ex_grp1, "grp1", M, IMM_Z, 0x7f, 0),
    /* 82 */ OP(ex_grp1, "grp1", M, IMM_B, 0x7f, B | I64),
    /* 83 */ OP(ex_grp1, "grp1", M, IMM_B, 0x7f, 0),
    /* 84 */ OP(ex_test, "test", M, IMM_NONE, 0, B),
    /* 85 */ OP(ex_test, "test", M, IMM_NONE, 0, 0),
    /* 86 */ OP(ex_xchg, "xchg", M, IMM_NONE, ALL, B),
    /* 87 */ OP(ex_xchg, "xchg", M, IMM_NONE, ALL, 0),
    /* 88 */ OP(ex_mov, "mov", M, IMM_NONE, 0, B),
    /* 89 */ OP(ex_mov, "mov", M, IMM_NONE, 0, 0),
    /* 8A */ OP(ex_mov, "mov", M, IMM_NONE, 0, B),
    /* 8B */ OP(ex_mov, "mov", M, IMM_NONE, 0, 0),
    /* 8C */ OP(ex_mov_from_sreg, "mov", M, IMM_NONE, 0, 0),
    /* 8D */ OP(ex_lea, "lea", M, IMM_NONE, 0, 0),
    /* 8E */ OP(ex_mov_to_sreg, "mov", M, IMM_NONE, 0, 0),
    /* 8F */ OP(ex_pop_rm, "pop", M, IMM_NONE, 0, D64), /* /1-/7: XOP (AMD) or #UD: decode.c */
    /* 90 */ X8(OP(ex_xchg_ax, "xchg", 0, IMM_NONE, 0, 0)),
    /* 98 */ OP(ex_cbw, "cbw", 0, IMM_NONE, 0, 0),
    /* 99 */ OP(ex_cwd, "cwd", 0, IMM_NONE, 0, 0),
    /* 9A */ OP(ex_call_far, "call far", 0, IMM_FAR, 0, I64 | BR),
    /* 9B */ UNSUP("fwait (x87)", 0, IMM_NONE),
    /* 9C */ OP(ex_pushf, "pushf", 0, IMM_NONE, 0, D64),
    /* 9D */ OP(ex_popf, "popf", 0, IMM_NONE, 0, D64),
    /* 9E */ OP(ex_sahf, "sahf", 0, IMM_NONE, 0, 0),
    /* 9F */ OP(ex_lahf, "lahf", 0, IMM_NONE, 0, 0),
    /* A0 */ OP(ex_mov_moffs, "mov", 0, IMM_MOFFS, 0, B),
    /* A1 */ OP(ex_mov_moffs, "mov", 0, IMM_MOFFS, 0, 0),
    /* A2 */ OP(ex_mov_moffs, "mov", 0, IMM_MOFFS, 0, B),
    /* A3 */ OP(ex_mov_moffs, "mov", 0, IMM_MOFFS, 0, 0),
    /* A4 */ OP(ex_movs, "movs", 0, IMM_NONE, 0, B | STR),
    /* A5 */ OP(ex_movs, "movs", 0, IMM_NONE, 0, STR),
    /* A6 */ OP(ex_cmps, "cmps", 0, IMM_NONE, 0, B | STR),
    /* A7 */ OP(ex_cmps, "cmps", 0, IMM_NONE, 0, STR),
    /* A8 */ OP(ex_test, "test", 0, IMM_B, 0, B),
    /* A9 */ OP(ex_test, "test", 0, IMM_Z, 0, 0),
    /* AA */ OP(ex_stos, "stos", 0, IMM_NONE, 0, B | STR),
    /* AB */ OP(ex_stos, "stos", 0, IMM_NONE, 0, STR),
    /* AC */ OP(ex_lods, "lods", 0, IMM_NONE, 0, B | STR),
    /* AD */ OP(ex_lods, "lods", 0, IMM_NONE, 0, STR),
    /* AE */ OP(ex_scas, "scas", 0, IMM_NONE, 0, B | STR),
    /* AF */ OP(ex_scas, "scas", 0, IMM_NONE, 0, STR),
    /* B0 */ X8(OP(ex_mov_r_imm, "mov", 0, IMM_B, 0, B)),
    /* B8 */ X8(OP(ex_mov_r_imm, "mov", 0, IMM_V, 0, 0)),
    /* C0 */ OP(ex_grp2, "grp2", M, IMM_BU, 0, B),
    /* C1 */ OP(ex_grp2, "grp2", M, IMM_BU, 0, 0),
    /* C2 */ OP(ex_ret_near, "ret", 0, IMM_WU, 0, F64 | BR),
    /* C3 */ OP(ex_ret_near, "ret", 0, IMM_NONE, 0, F64 | BR),
    /* C4 */ OP(ex_lxs, "les", M, IMM_NONE, 0, I64), /* VEX3: decode.c */
    /* C5 */ OP(ex_lxs, "lds", M, IMM_NONE, 0, I64), /* VEX2: decode.c */
    /* C6 */ OP(ex_mov_rm_imm, "mov", M, IMM_B, 0, B),  /* /1-/7: decode.c */
    /* C7 */ OP(ex_mov_rm_imm, "mov", M, IMM_Z, 0, 0),
    /* C8 */ OP(ex_enter, "enter", 0, IMM_ENTER, 0, D64),
    /* C9 */ OP(ex_leave, "leave", 0, IMM_NONE, 0, D64),
    /* CA */ OP(ex_retf, "retf", 0, IMM_WU, 0, BR),
    /* CB */ OP(ex_retf, "retf", 0, IMM_NONE, 0, BR),
    /* CC */ OP(ex_int3, "int3", 0, IMM_NONE, 0, BR),
    /* CD */ OP(ex_int, "int", 0, IMM_BU, 0, BR),
    /* CE */ OP(ex_into, "into", 0, IMM_NONE, 0, I64 | BR),
    /* CF */ OP(ex_iret, "iret", 0, IMM_NONE, 0, BR),
    /* D0 */ OP(ex_grp2, "grp2", M, IMM_NONE, 0, B),
    /* D1 */ OP(ex_grp2, "grp2", M, IMM_NONE, 0, 0),
    /* D2 */ OP(ex_grp2, "grp2", M, IMM_NONE, 0, B),
    /* D3 */ OP(ex_grp2, "grp2", M, IMM_NONE, 0, 0),
    /* D4 */ OP(ex_bcd, "aam", 0, IMM_BU, 0, I64),
    /* D5 */ OP(ex_bcd, "aad", 0, IMM_BU, 0, I64),
    /* D6 */ OP(ex_salc, "salc", 0, IMM_NONE, 0, I64),
    /* D7 */ OP(ex_xlat, "xlat", 0, IMM_NONE, 0, 0),
    /* D8 */ X8(UNSUP("x87 floating point", M, IMM_NONE)),
    /* E0 */ OP(ex_loop, "loopne", 0, IMM_REL8, 0, F64 | BR),
    /* E1 */ OP(ex_loop, "loope", 0, IMM_REL8, 0, F64 | BR),
    /* E2 */ OP(ex_loop, "loop", 0, IMM_REL8, 0, F64 | BR),
    /* E3 */ OP(ex_jcxz, "jcxz", 0, IMM_REL8, 0, F64 | BR),
    /* E4 */ OP(ex_in, "in", 0, IMM_BU, 0, B),
    /* E5 */ OP(ex_in, "in", 0, IMM_BU, 0, 0),
    /* E6 */ OP(ex_out, "out", 0, IMM_BU, 0, B),
    /* E7 */ OP(ex_out, "out", 0, IMM_BU, 0, 0),
    /* E8 */ OP(ex_call_rel, "call", 0, IMM_RELZ, 0, F64 | BR),
    /* E9 */ OP(ex_jmp_rel, "jmp", 0, IMM_RELZ, 0, F64 | BR),
    /* EA */ OP(ex_jmp_far, "jmp far", 0, IMM_FAR, 0, I64 | BR),
    /* EB */ OP(ex_jmp_rel, "jmp", 0, IMM_REL8, 0, F64 | BR),
    /* EC */ OP(ex_in, "in", 0, IMM_NONE, 0, B),
    /* ED */ OP(ex_in, "in", 0, IMM_NONE, 0, 0),
    /* EE */ OP(ex_out, "out", 0, IMM_NONE, 0, B),
    /* EF */ OP(ex_out, "out", 0, IMM_NONE, 0, 0),
    /* F0 */ PREFIX,
    /* F1 */ OP(ex_int1, "int1", 0, IMM_NONE, 0, BR),
    /* F2 */ PREFIX, PREFIX,
    /* F4 */ OP(ex_hlt, "hlt", 0, IMM_NONE, 0, BR),
    /* F5 */ OP(ex_flagop, "cmc", 0, IMM_NONE, 0, 0),
    /* F6 */ OP(ex_grp3, "grp3", M, IMM_GRP3, 0x0c, B),
    /* F7 */ OP(ex_grp3, "grp3", M, IMM_GRP3, 0x0c, 0),
    /* F8 */ OP(ex_flagop, "clc", 0, IMM_NONE, 0, 0),
    /* F9 */ OP(ex_flagop, "stc", 0, IMM_NONE, 0, 0),
    /* FA */ OP(ex_cli_sti, "cli", 0, IMM_NONE, 0, 0),
    /* FB */ OP(ex_cli_sti, "sti", 0, IMM_NONE, 0, 0),
    /* FC */ OP(ex_flagop, "cld", 0, IMM_NONE, 0, 0),
    /* FD */ OP(ex_flagop, "std", 0, IMM_NONE, 0, 0),
    /* FE */ OP(ex_grp4, "grp4", M, IMM_NONE, L01, B),
    /* FF */ OP(ex_grp5, "grp5", M, IMM_NONE, L01, BR), /* sizes per /reg: decode.c */
};

#define SSE UNSUP("SSE/MMX instruction", M, IMM_NONE)
#define SSEI UNSUP("SSE/MMX instruction", M, IMM_BU)

const rc_opdef rc_optable_0f[256] = {
    /* 00 */ OP(ex_grp6, "grp6", M, IMM_NONE, 0, 0),
    /* 01 */ OP(ex_grp7, "grp7", M, IMM_NONE, 0, 0),
    /* 02 */ OP(ex_lar, "lar", M, IMM_NONE, 0, 0),
    /* 03 */ OP(ex_lsl, "lsl", M, IMM_NONE, 0, 0),
    /* 04 */ UD0,
    /* 05 */ OP(ex_syscall, "syscall", 0, IMM_NONE, 0, BR),
    /* 06 */ OP(ex_clts, "clts", 0, IMM_NONE, 0, PRV),
    /* 07 */ OP(ex_sysret, "sysret", 0, IMM_NONE, 0, BR),
    /* 08 */ OP(ex_invd, "invd", 0, IMM_NONE, 0, PRV),
    /* 09 */ OP(ex_invd, "wbinvd", 0, IMM_NONE, 0, PRV),
    /* 0A */ UD0,
    /* 0B */ OP(ex_ud, "ud2", 0, IMM_NONE, 0, 0),
    /* 0C */ UD0,
    /* 0D */ OP(ex_nop, "prefetch", M, IMM_NONE, 0, 0),
    /* 0E */ UNSUP("femms (3DNow!)", 0, IMM_NONE),
    /* 0F */ UNSUP("3DNow! instruction", M, IMM_BU),
    /* 10 */ X8(SSE),
    /* 18 */ X8(OP(ex_nop, "hint nop", M, IMM_NONE, 0, 0)), /* prefetch hints, reserved NOPs, 0F 1F NOP */
    /* 20 */ OP(ex_mov_cr, "mov cr", M, IMM_NONE, 0, 0),
    /* 21 */ OP(ex_mov_dr, "mov dr", M, IMM_NONE, 0, 0),
    /* 22 */ OP(ex_mov_cr, "mov cr", M, IMM_NONE, 0, 0),
    /* 23 */ OP(ex_mov_dr, "mov dr", M, IMM_NONE, 0, 0),
    /* 24 */ UDM, UD0, UDM, UD0,
    /* 28 */ SSE, SSE, SSE, SSE, SSE, SSE, SSE, SSE,
    /* 30 */ OP(ex_wrmsr, "wrmsr", 0, IMM_NONE, 0, 0),
    /* 31 */ OP(ex_rdtsc, "rdtsc", 0, IMM_NONE, 0, 0),
    /* 32 */ OP(ex_rdmsr, "rdmsr", 0, IMM_NONE, 0, 0),
    /* 33 */ OP(ex_rdpmc, "rdpmc", 0, IMM_NONE, 0, 0),
    /* 34 */ OP(ex_sysenter, "sysenter", 0, IMM_NONE, 0, BR),
    /* 35 */ OP(ex_sysexit, "sysexit", 0, IMM_NONE, 0, BR),
    /* 36 */ UD0,
    /* 37 */ UNSUP("getsec (SMX)", 0, IMM_NONE),
    /* 38 */ PREFIX, UD0, PREFIX, UD0, UD0, UD0, UD0, UD0,
    /* 40 */ X16(OP(ex_cmovcc, "cmovcc", M, IMM_NONE, 0, 0)),
    /* 50 */ X16(SSE),
    /* 60 */ X16(SSE),
    /* 70 */ SSEI, SSEI, SSEI, SSEI, SSE, SSE, SSE, UNSUP("emms (MMX)", 0, IMM_NONE),
    /* 78 */ UNSUP("vmread (VMX)", M, IMM_NONE), UNSUP("vmwrite (VMX)", M, IMM_NONE),
    /* 7A */ UDM, UDM, SSE, SSE, SSE, SSE,
    /* 80 */ X16(OP(ex_jcc, "jcc", 0, IMM_RELZ, 0, F64 | BR)),
    /* 90 */ X16(OP(ex_setcc, "setcc", M, IMM_NONE, 0, B)),
    /* A0 */ OP(ex_push_seg, "push fs", 0, IMM_NONE, 0, D64),
    /* A1 */ OP(ex_pop_seg, "pop fs", 0, IMM_NONE, 0, D64),
    /* A2 */ OP(ex_cpuid, "cpuid", 0, IMM_NONE, 0, 0),
    /* A3 */ OP(ex_bt, "bt", M, IMM_NONE, 0, 0),
    /* A4 */ OP(ex_shxd, "shld", M, IMM_BU, 0, 0),
    /* A5 */ OP(ex_shxd, "shld", M, IMM_NONE, 0, 0),
    /* A6 */ UDM, UDM,
    /* A8 */ OP(ex_push_seg, "push gs", 0, IMM_NONE, 0, D64),
    /* A9 */ OP(ex_pop_seg, "pop gs", 0, IMM_NONE, 0, D64),
    /* AA */ UNSUP("rsm (SMM)", 0, IMM_NONE),
    /* AB */ OP(ex_bt, "bts", M, IMM_NONE, ALL, 0),
    /* AC */ OP(ex_shxd, "shrd", M, IMM_BU, 0, 0),
    /* AD */ OP(ex_shxd, "shrd", M, IMM_NONE, 0, 0),
    /* AE */ OP(ex_grp15, "grp15", M, IMM_NONE, 0, 0),
    /* AF */ OP(ex_imul2, "imul", M, IMM_NONE, 0, 0),
    /* B0 */ OP(ex_cmpxchg, "cmpxchg", M, IMM_NONE, ALL, B),
    /* B1 */ OP(ex_cmpxchg, "cmpxchg", M, IMM_NONE, ALL, 0),
    /* B2 */ OP(ex_lxs, "lss", M, IMM_NONE, 0, 0),
    /* B3 */ OP(ex_bt, "btr", M, IMM_NONE, ALL, 0),
    /* B4 */ OP(ex_lxs, "lfs", M, IMM_NONE, 0, 0),
    /* B5 */ OP(ex_lxs, "lgs", M, IMM_NONE, 0, 0),
    /* B6 */ OP(ex_movzx, "movzx", M, IMM_NONE, 0, 0),
    /* B7 */ OP(ex_movzx, "movzx", M, IMM_NONE, 0, 0),
    /* B8 */ UNSUP("popcnt / jmpe", M, IMM_NONE),
    /* B9 */ OP(ex_ud, "ud1", M, IMM_NONE, 0, 0),
    /* BA */ OP(ex_bt, "grp8", M, IMM_BU, 0xe0, 0),
    /* BB */ OP(ex_bt, "btc", M, IMM_NONE, ALL, 0),
    /* BC */ OP(ex_bsf_bsr, "bsf", M, IMM_NONE, 0, 0),
    /* BD */ OP(ex_bsf_bsr, "bsr", M, IMM_NONE, 0, 0),
    /* BE */ OP(ex_movsx, "movsx", M, IMM_NONE, 0, 0),
    /* BF */ OP(ex_movsx, "movsx", M, IMM_NONE, 0, 0),
    /* C0 */ OP(ex_xadd, "xadd", M, IMM_NONE, ALL, B),
    /* C1 */ OP(ex_xadd, "xadd", M, IMM_NONE, ALL, 0),
    /* C2 */ SSEI, SSE, SSEI, SSEI, SSEI,
    /* C7 */ OP(ex_grp9, "grp9", M, IMM_NONE, 0x02, 0),
    /* C8 */ X8(OP(ex_bswap, "bswap", 0, IMM_NONE, 0, 0)),
    /* D0 */ X16(SSE),
    /* E0 */ X16(SSE),
    /* F0 */ SSE, SSE, SSE, SSE, SSE, SSE, SSE, SSE,
    /* F8 */ SSE, SSE, SSE, SSE, SSE, SSE, SSE,
    /* FF */ OP(ex_ud, "ud0", M, IMM_NONE, 0, 0),
};

_Static_assert(sizeof(rc_optable_1byte) / sizeof(rc_optable_1byte[0]) == 256, "1-byte map");
_Static_assert(sizeof(rc_optable_0f) / sizeof(rc_optable_0f[0]) == 256, "0F map");

/*
 * optable.h - the opcode tables: for every opcode of every map, how it is
 * encoded (ModRM? which immediate?), whether it exists in this mode, whether
 * LOCK is allowed, and which handler executes it. Whether an instruction
 * exists is decided here, not in its handler.
 */
#ifndef RC_OPTABLE_H
#define RC_OPTABLE_H

#include "exec.h"

/* Immediate kinds. imm is stored in rc_insn.imm as noted. */
enum rc_imm_kind {
    IMM_NONE = 0,
    IMM_B,      /* imm8, sign-extended */
    IMM_BU,     /* imm8, zero-extended */
    IMM_WU,     /* imm16, zero-extended (RET/RETF iw) */
    IMM_Z,      /* imm16 or imm32 by operand size, sign-extended (imm32 with 64-bit operands) */
    IMM_V,      /* imm16/32/64 by operand size (MOV r, imm) */
    IMM_REL8,   /* rel8, sign-extended */
    IMM_RELZ,   /* rel16/rel32 by operand size, sign-extended */
    IMM_ENTER,  /* iw (imm, zero-extended) then ib (imm2) */
    IMM_FAR,    /* offset (16/32 by operand size, imm) then selector (imm2) */
    IMM_MOFFS,  /* offset of the address size, zero-extended */
    IMM_GRP3,   /* F6/F7: IMM_B/IMM_Z only for /0 and /1 */
};

typedef struct rc_opdef {
    rc_exec_fn exec;       /* NULL: unsupported (name says what) or #UD (flag) */
    const char *name;
    uint8_t modrm;         /* 1: a ModRM byte follows */
    uint8_t imm;           /* enum rc_imm_kind */
    uint8_t lock_regs;     /* LOCK allowed (memory form) for these ModRM.reg values (bit n) */
    uint8_t ud;            /* 1: always #UD (reserved opcode) */
    uint32_t flags;        /* RC_OPF_* */
} rc_opdef;

extern const rc_opdef rc_optable_1byte[256];
extern const rc_opdef rc_optable_0f[256];

#endif

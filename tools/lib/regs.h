/*
 * regs.h - register names as a user types them (--set rax=1, cs=0x23,
 * lstar=0x5000) and as the trace prints them.
 */
#ifndef RCT_REGS_H
#define RCT_REGS_H

#include <stddef.h>
#include <stdint.h>

#include "ringcore.h"

typedef enum rct_reg_kind {
    RCT_REG_PART,  /* (part of) an rc_reg: GPR, RIP, RFLAGS, CRn, DRn, EFER */
    RCT_REG_SEG,   /* a segment register selector: reload from the GDT */
    RCT_REG_MSR,   /* an MSR by name */
} rct_reg_kind;

typedef struct rct_reg_ref {
    const char *name;
    rct_reg_kind kind;
    unsigned id;      /* rc_reg, rc_seg_reg or MSR index */
    unsigned width;   /* bits written: 64, 32 (zero-extends), 16, 8 (merge) */
    unsigned shift;   /* 8 for AH, CH, DH, BH */
} rct_reg_ref;

/* Look a name up (case-insensitive). NULL if unknown. */
const rct_reg_ref *rct_reg_lookup(const char *name);

/* Apply a value to a register reference (GPR width rules: 32-bit writes
 * zero-extend like an instruction, 16/8-bit writes merge). Segment values
 * reload from the standard machine's GDT. Returns 0 or -1 with err. */
int rct_reg_assign(rc_cpu *cpu, const rct_reg_ref *r, uint64_t value, char *err, size_t errlen);

/* Name of GPR n (0..15) at an access width of 8, 4 or 2 bytes. */
const char *rct_gpr_name(unsigned n, unsigned width);

/* The MSRs the trace watches, with names (terminated by a NULL name). */
typedef struct rct_msr_name { uint32_t index; const char *name; } rct_msr_name;
extern const rct_msr_name rct_watched_msrs[];

#endif /* RCT_REGS_H */

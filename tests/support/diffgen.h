/*
 * diffgen.h - random instruction-case generator for the differential test
 * (tests/test_diff_unicorn.c): ringcore vs Unicorn vs the host CPU.
 *
 * A case is a short block of ordinary instructions generated from opcode
 * templates (never raw random bytes), a random register state, random
 * status flags and a random data area that every memory operand points
 * into. The generator also records which status flags the SDM leaves
 * undefined for that instruction and input (so the runner may mask them,
 * with the SDM reference), and whether the input raises #DE.
 *
 * The guest layout is chosen so that the same addresses are valid in the
 * test process itself: the runner maps [DG_BASE, DG_BASE + DG_HOST_SIZE)
 * at the same host address and runs 64-bit cases natively there.
 */
#ifndef RC_TEST_DIFFGEN_H
#define RC_TEST_DIFFGEN_H

#include <stdbool.h>
#include <stdint.h>

/* ---------------------------------------------------------------- layout */
#define DG_BASE 0x40000000ull
#define DG_CODE DG_BASE                    /* the block, then HLT */
#define DG_DATA (DG_BASE + 0x10000)        /* random data; all memory operands land here */
#define DG_DATA_SIZE 0x2000u
#define DG_TARGET_LO (DG_DATA + 0x800)     /* memory operands point into [LO, HI) ... */
#define DG_TARGET_HI (DG_DATA + 0x1800)    /* ... bit-string offsets reach +-0x800 bytes */
#define DG_STACK (DG_BASE + 0x20000)       /* stack page for PUSH/POP */
#define DG_STACK_SIZE 0x1000u
#define DG_STACK_TOP (DG_STACK + 0x800)    /* RSP starts near the middle */
#define DG_EMU_SIZE 0x30000u               /* code + data + stack, mapped in every engine */
#define DG_RAM_SIZE 0x200000u              /* ringcore RAM (page tables live above DG_EMU_SIZE) */
#define DG_PT (DG_BASE + 0x100000)         /* ringcore's identity-mapping page tables */
#define DG_MAX_CODE 128u

/* RFLAGS status bits (SDM Vol. 1 3.4.3.1) */
#define DG_CF (1u << 0)
#define DG_PF (1u << 2)
#define DG_AF (1u << 4)
#define DG_ZF (1u << 6)
#define DG_SF (1u << 7)
#define DG_OF (1u << 11)
#define DG_STATUS (DG_CF | DG_PF | DG_AF | DG_ZF | DG_SF | DG_OF)
#define DG_FIXED1 (1u << 1)

typedef struct dg_rng {
    uint64_t s;
} dg_rng;

uint64_t dg_next(dg_rng *r);
static inline unsigned dg_below(dg_rng *r, unsigned n) { return (unsigned)(dg_next(r) % n); }

typedef struct dg_case {
    unsigned mode;            /* 8 = 64-bit mode, 4 = 32-bit flat protected mode */
    uint8_t code[DG_MAX_CODE];
    unsigned len;             /* bytes of the block (the runner appends HLT) */
    unsigned ninsn;           /* instructions in the block (static count) */
    const char *family;       /* statistics key, e.g. "shl", "div", "jcc-block" */
    uint32_t undef;           /* status flags the SDM leaves undefined here */
    const char *undef_why;    /* the SDM section saying so */
    bool expect_de;           /* by SDM DIV/IDIV pseudo-code the input raises #DE */
    bool native_ok;           /* the block may run natively at ring 3 of the host */
    uint64_t gpr[16];         /* input registers (32-bit mode: upper halves 0) */
    uint64_t rflags;          /* input RFLAGS: random status bits | bit 1 */
} dg_case;

/* Fill 'c' (and the data area 'data' of DG_DATA_SIZE bytes, and the stack
 * page 'stack' of DG_STACK_SIZE bytes) with a new random case. */
void dg_generate(dg_rng *r, unsigned mode, dg_case *c, uint8_t *data, uint8_t *stack);

/* Names of the status flags for messages: "CF" ... */
const char *dg_flag_name(unsigned bit);

#endif /* RC_TEST_DIFFGEN_H */

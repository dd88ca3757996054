/*
 * vbackend.h - the small interface every vector backend implements
 * (ringcore, unicorn, native), and the comparison of a backend's result
 * with a vector's "expect" (docs/vectors.md).
 */
#ifndef RCT_VBACKEND_H
#define RCT_VBACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/vector.h"

/* The final state a backend observed. reg_valid/seg_valid say which
 * fields the backend can see; a field it cannot see is never compared
 * against the recording as if it were a verdict. */
typedef struct rcv_result {
    rcv_end end;
    int vector;                 /* exception / int end */
    int has_error_code;         /* 0/1 */
    uint32_t error_code;
    uint64_t reg[RC_REG_COUNT];
    uint64_t reg_valid;         /* bit per rc_reg */
    rc_segment seg[RC_SEG_COUNT];
    unsigned seg_valid;         /* bit per rc_seg_reg */
    unsigned frame_mask;        /* RCV_FR_* read from the handler's stack */
    uint64_t frame_rip, frame_cs, frame_rflags, frame_rsp, frame_ss;
    uint64_t icount;
    char what[320];             /* unsupported / error: in words */
    /* Memory and MSRs of the final state; NULL if the backend cannot see them. */
    int (*read_mem)(void *ctx, uint64_t linear, void *buf, size_t len);
    int (*read_msr)(void *ctx, uint32_t index, uint64_t *value);
    void *ctx;
} rcv_result;

typedef struct rcv_backend {
    const char *name;           /* "ringcore", "unicorn", "native" */
    /* The source string recorded for this judge (e.g. "unicorn-2.0.1"). */
    const char *(*source)(void);
    /* Whether the backend can judge v; if not, why (a sentence). */
    bool (*can_judge)(const rcv_vector *v, char *why, size_t n);
    /* Run v; 0 with *r filled, -1 with err (the run itself failed). */
    int (*run)(const rcv_vector *v, rcv_result *r, char *err, size_t n);
    void (*release)(rcv_result *r);
} rcv_backend;

extern const rcv_backend rcv_backend_ringcore;
extern const rcv_backend rcv_backend_native; /* vb_native_adapter.c: the host CPU at CPL 3 */
extern const rcv_backend rcv_backend_qemu;   /* vb_qemu.c: QEMU (TCG) through the test kernel */
extern const rcv_backend rcv_backend_bochs;  /* vb_bochs.c: Bochs 2.7 through the test kernel */
#ifdef RC_HAVE_UNICORN
extern const rcv_backend rcv_backend_unicorn;
#endif

/* Compare r with v->expect: every field present in expect is checked.
 * Each difference is one line "field: expected X, got Y" appended to
 * diff (newline-separated). Returns the number of differences. */
unsigned rcv_compare(const rcv_vector *v, const rcv_result *r, char *diff, size_t n);

/* Take out of r the fields v's not_judged entries name for the judge whose
 * sources start with 'judge' ("qemu", "bochs"); keep_frame_rflags keeps the
 * frame's RFLAGS in. vector.c */
void rcv_apply_not_judged(const rcv_vector *v, rcv_result *r, const char *judge,
                          bool keep_frame_rflags);

/* The reason v gives for refusing the judge whose sources start with
 * 'judge' (a not_judged entry with fields "*"), or NULL. vector.c */
const char *rcv_vector_refuses(const rcv_vector *v, const char *judge);

/* Whether v's expectation names register 'id' with a 64-bit name (rax, not
 * eax): a judge that shows 32-bit values then cannot judge it. vector.c */
bool rcv_expects_wide(const rcv_vector *v, unsigned id);

#endif /* RCT_VBACKEND_H */

/*
 * vexpect.h - the expectation `record` writes from a ring-0 judge's result
 * (the QEMU, Bochs and KVM judges; vexpect.c).
 */
#ifndef RCT_VEXPECT_H
#define RCT_VEXPECT_H

#ifdef RC_HAVE_CJSON
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/vbackend.h"

typedef struct rcv_expect_opts {
    const char *source;     /* the judge's source string, e.g. "qemu-7.2:qemu64" */
    bool wide;              /* 64-bit register names (the final CS is 64-bit code) */
    bool with_mem;          /* record the memory the run changed (r->read_mem) */
    bool skip_pc_hole;      /* leave 0xA0000-0xFFFFF out of it (not RAM under a BIOS) */
    const char *no_mem_why; /* without memory: the not_judged reason for expect.mem */
} rcv_expect_opts;

/* The expectation of v as judge result r shows it: end, vector, error code,
 * CR2 of a #PF, the frame, the GPRs that changed plus RSP, RIP (RFLAGS of a
 * HLT end), CS/SS selectors, CPL and, with_mem, the changed memory (at most
 * 16 runs of 256 bytes, else NULL with why). The caller owns the result. */
cJSON *rcv_judge_expect(const rcv_vector *v, const rcv_result *r, const rcv_expect_opts *o,
                        char *why, size_t n);
#endif

#endif /* RCT_VEXPECT_H */

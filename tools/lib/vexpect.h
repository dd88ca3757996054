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

/* o[name] = "0x..." (the corpus's way of writing a value). */
void rcv_add_hex(cJSON *o, const char *name, uint64_t v);

/* What rcv_changed_mem leaves out. */
#define RCV_MEM_SKIP_PT_AREA 1u /* the standard paging structures 0x10000-0x1FFFF (A/D bits) */
#define RCV_MEM_SKIP_PC_HOLE 2u /* 0xA0000-0xFFFFF: not RAM under a BIOS */

/* Append to arr the memory r's run changed against the initial RAM image
 * init (16 MiB, linear = physical under the standard identity map), as
 * {"addr", "bytes"} runs (runs closer than 8 bytes merge); -1 if more than
 * 16 runs or a run longer than 256 bytes would be needed. */
int rcv_changed_mem(const rcv_result *r, const uint8_t *init, unsigned skip, cJSON *arr);

/* The expectation of v as judge result r shows it: end, vector, error code,
 * CR2 of a #PF, the frame, the GPRs that changed plus RSP, RIP (RFLAGS of a
 * HLT end), CS/SS selectors, CPL and, with_mem, the changed memory (at most
 * 16 runs of 256 bytes, else NULL with why). The caller owns the result. */
cJSON *rcv_judge_expect(const rcv_vector *v, const rcv_result *r, const rcv_expect_opts *o,
                        char *why, size_t n);
#endif

#endif /* RCT_VEXPECT_H */

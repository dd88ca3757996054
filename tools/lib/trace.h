/*
 * trace.h - run a CPU one instruction at a time and tell a human (or a
 * JSON reader) what each instruction did: bytes, disassembly, changed
 * registers and flags, memory writes, privilege transitions, and how the
 * run ended. Uses only the public API plus Capstone.
 */
#ifndef RCT_TRACE_H
#define RCT_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ringcore.h"

typedef struct rct_trace_opts {
    uint64_t max_steps;  /* instruction limit (>= 1) */
    bool json;           /* one JSON object per line instead of text */
    bool quiet;          /* no per-step output, only the end */
    FILE *out;
} rct_trace_opts;

/* How the run ended, as the CLI's exit status sees it. */
typedef enum rct_end {
    RCT_END_HLT = 0,        /* HLT (at CPL 0), not in an exception handler stub */
    RCT_END_EXCEPTION,      /* an intercepted exception, or one delivered to its stub */
    RCT_END_SHUTDOWN,
    RCT_END_LIMIT,
    RCT_END_UNSUPPORTED,
    RCT_END_OTHER,          /* I/O, MMIO or hook exit */
    RCT_END_ERROR,          /* rc_run itself returned an error */
} rct_end;

typedef struct rct_trace_result {
    rct_end end;
    rc_exit exit;
    uint64_t steps;
    int handler_vector;     /* HLT in the stub of this vector, or -1 */
    bool handler_by_exception; /* ...reached through exception delivery (not INT n) */
    rc_status status;       /* when end == RCT_END_ERROR */
} rct_trace_result;

/* Run and print. Returns 0, or -1 if the tracer itself could not start
 * (Capstone) with a message on stderr. */
int rct_trace_run(rc_cpu *cpu, const rct_trace_opts *o, rct_trace_result *r);

#endif /* RCT_TRACE_H */

/*
 * native.h - the native judge: run a piece of code at ring 3 of this host's
 * CPU under the booted Linux kernel and read the outcome back from the
 * signal's ucontext (vector = REG_TRAPNO, error code = REG_ERR, CR2, the
 * full register file).
 *
 * The case runs in a child process - one forked child per case
 * (rc_native_run), or a long-lived server child (rc_native_server_run) - so
 * a case that kills its process never kills the caller. In the child the
 * case's memory is mapped at fixed addresses (MAP_FIXED_NOREPLACE), its LDT
 * entries are installed with modify_ldt, its I/O permissions with ioperm, a
 * seccomp filter traps every system call the case makes (never executed),
 * an interval timer bounds the run, and a trampoline loads the selectors and
 * general registers and enters the code with IRETQ (which loads CS, RFLAGS,
 * SS and RSP at once: 64-bit code 0x33, compatibility-mode code 0x23, or a
 * 16-/32-bit code segment from the LDT). The code is followed by an INT3
 * end marker; reaching it ends the case normally. Any other signal is the
 * result.
 *
 * docs/native.md explains which parts of a fault record are the CPU's and
 * which the kernel's, and where the kernel (not the CPU) answers.
 */
#ifndef RCT_NATIVE_H
#define RCT_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- limits */
#define RC_NATIVE_MAX_CODE 4096u     /* bytes of code per case */
#define RC_NATIVE_MAX_REGIONS 8u     /* extra memory regions per case */
#define RC_NATIVE_MAX_LDT 16u        /* LDT entries per case */
#define RC_NATIVE_MAX_IOPERM 4u      /* ioperm ranges per case */
#define RC_NATIVE_MAX_OUT (1u << 20) /* bytes of memory read back per case */
#define RC_NATIVE_MAX_NOTES 8u       /* "not judged natively" notes per result */

/* Linux x86_64 user selectors (arch/x86/include/asm/segment.h). */
#define RC_NATIVE_USER32_CS 0x23     /* 32-bit user code (compatibility mode) */
#define RC_NATIVE_USER_DS 0x2b       /* flat user data */
#define RC_NATIVE_USER_CS 0x33       /* 64-bit user code */

/* Selector of LDT entry 'index' at RPL 3 (SDM Vol. 3A 3.4.2: TI = 1). */
#define RC_NATIVE_LDT_SEL(index) ((uint16_t)(((index) << 3) | 4 | 3))

typedef enum rc_native_mode {
    RC_NATIVE_LONG64 = 0, /* 64-bit mode, CS = 0x33 (or an L=1 LDT code segment, if any) */
    RC_NATIVE_COMPAT32,   /* compatibility mode, CS = 0x23 (flat 32-bit) */
    RC_NATIVE_PROT16,     /* 16-bit code segment from the LDT (compatibility mode, D = 0) */
    RC_NATIVE_PROT32,     /* 32-bit code segment from the LDT (compatibility mode, D = 1) */
    RC_NATIVE_MODE_COUNT
} rc_native_mode;

/* One LDT entry, installed with modify_ldt(1, ...) (Linux struct user_desc).
 * Linux always makes it DPL 3, S = 1 (code/data), accessed = 1, and refuses
 * system descriptors (arch/x86/kernel/ldt.c, include/asm/desc.h fill_ldt). */
typedef struct rc_native_ldt {
    unsigned index;          /* 0..8191 */
    uint32_t base;
    uint32_t limit;          /* 20 bits; in pages when limit_in_pages */
    bool seg_32bit;          /* D/B */
    bool code;               /* contents = 2 (code) instead of 0/1 (data) */
    bool expand_down;        /* data: contents = 1; code: conforming */
    bool read_exec_only;     /* data: read-only; code: execute-only (not readable) */
    bool limit_in_pages;     /* G */
    bool not_present;        /* seg_not_present: P = 0 */
    bool useable;            /* AVL */
    bool lm;                 /* L (64-bit code segment) */
} rc_native_ldt;

/* Protection of a region: PROT_* bits of <sys/mman.h> (PROT_NONE = 0). */
typedef struct rc_native_region {
    uint64_t addr;           /* linear, page-aligned */
    size_t len;              /* multiple of 4096 */
    const uint8_t *bytes;    /* initial contents (len bytes), NULL = zeros */
    size_t nbytes;           /* bytes copied from 'bytes' (rest zero); <= len */
    int prot;                /* final protection, applied after the contents */
    uint8_t *out;            /* if non-NULL: contents at the end (len bytes;
                              * only for readable regions, see rc_native_result) */
} rc_native_region;

typedef struct rc_native_ioperm {
    uint16_t from;
    uint16_t num;            /* ports [from, from + num) are allowed */
} rc_native_ioperm;

/* Flags for rc_native_case.flags */
#define RC_NATIVE_NO_HANDLER 0x1u   /* catch no signal: the first fault kills the child
                                     * (tests the runner's report of a hard death) */
#define RC_NATIVE_SET_FSBASE 0x2u   /* after loading FS, set its base with WRFSBASE */
#define RC_NATIVE_SET_GSBASE 0x4u   /* after loading GS, set its base with WRGSBASE */

typedef struct rc_native_case {
    rc_native_mode mode;
    uint16_t cs;             /* code selector; rc_native_case_init sets the mode's default */
    const uint8_t *code;     /* the code; the runner appends the INT3 end marker */
    size_t code_len;
    uint64_t code_addr;      /* linear address of the first byte. If it lies inside a
                              * region, the code is written there; otherwise the
                              * runner maps RWX pages around it. RIP = code_addr -
                              * CS.base (CS.base from the LDT entry, 0 for 0x23/0x33). */
    uint64_t gpr[16];        /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (SDM encoding) */
    uint64_t rflags;         /* CF PF AF ZF SF TF DF OF AC ID (+ RF NT) are loaded; the
                              * CPU keeps IF = 1 and IOPL = 0 at CPL 3 (SDM IRET) */
    uint16_t ss, ds, es, fs, gs; /* loaded before entry (defaults: 0x2b, 0x2b, 0x2b, 0, 0) */
    uint64_t fs_base, gs_base;   /* with RC_NATIVE_SET_FSBASE / _GSBASE */
    rc_native_region regions[RC_NATIVE_MAX_REGIONS];
    unsigned nregions;
    rc_native_ldt ldt[RC_NATIVE_MAX_LDT];
    unsigned nldt;
    rc_native_ioperm io[RC_NATIVE_MAX_IOPERM]; /* only harmless ports: see docs/native.md */
    unsigned nio;
    unsigned timeout_ms;     /* 0 = 1000 */
    unsigned flags;
} rc_native_case;

typedef enum rc_native_end {
    RC_NATIVE_END_MARKER = 0, /* reached the INT3 after the code: registers are final */
    RC_NATIVE_END_FAULT,      /* a signal from an exception: vector/err/cr2 below */
    RC_NATIVE_END_TIMEOUT,    /* still running after timeout_ms (registers at that moment) */
    RC_NATIVE_END_SYSCALL,    /* attempted a system call: stopped by seccomp (SIGSYS),
                               * not executed */
    RC_NATIVE_END_DIED,       /* the child died without a report (signal/exit below) */
    RC_NATIVE_END_SETUP,      /* the trampoline faulted before the case's first
                               * instruction (e.g. loading ds/ss/cs); fault fields valid */
    RC_NATIVE_END_REFUSED,    /* not judged: the kernel, not the CPU, would answer, or this
                               * host cannot set the case up (e.g. no ioperm); see why */
} rc_native_end;

typedef struct rc_native_result {
    rc_native_end end;
    /* signal (FAULT, MARKER, TIMEOUT, SYSCALL, SETUP; DIED: the killing signal) */
    int signo;
    int si_code;
    uint64_t sig_addr;       /* siginfo si_addr (named so: si_addr is a libc macro) */
    int exit_status;         /* DIED: exit status when the child exited (else -1) */
    /* the kernel's fault record (ucontext uc_mcontext) */
    int vector;              /* REG_TRAPNO: the exception vector; -1 when none */
    uint64_t err;            /* REG_ERR: the error code (meaningful for vectors 8, 10-14, 17) */
    uint64_t cr2;            /* REG_CR2: meaningful only for vector 14 */
    /* the register file at the end marker or at the fault */
    uint64_t gpr[16];
    uint64_t rip;            /* offset in CS; MARKER: the marker's own address, i.e. the
                              * end of the code (code_addr - CS.base + code_len) */
    uint64_t rflags;
    uint16_t cs, ss, ds, es, fs, gs;
    uint64_t fs_base, gs_base;
    uint64_t linear_rip;     /* CS.base + rip (CS.base known for 0x23, 0x33 and the LDT) */
    /* why some fields are not the CPU's answer (e.g. "cr2: not a #PF") */
    const char *not_judged[RC_NATIVE_MAX_NOTES];
    unsigned nnot_judged;
    const char *why;         /* REFUSED / DIED / SETUP / TIMEOUT / SYSCALL: the reason, in
                              * words (a static string or this result's 'detail') */
    char detail[200];
    double seconds;          /* wall time of the whole run (fork to reap) */
} rc_native_result;

/* Fill 'c' with an empty case for 'mode': cs 0x33 (long64) or 0x23 (compat32,
 * and the prot modes until an LDT selector is set), ss = ds = es = 0x2b,
 * fs = gs = 0, rflags = 0x202 (bit 1, IF), timeout 1000 ms. */
void rc_native_case_init(rc_native_case *c, rc_native_mode mode);

/* Add a region / an LDT entry (false if the table is full). */
bool rc_native_add_region(rc_native_case *c, uint64_t addr, size_t len, const uint8_t *bytes,
                          size_t nbytes, int prot, uint8_t *out);
bool rc_native_add_ldt(rc_native_case *c, const rc_native_ldt *e);

/* Run one case in a forked child. Returns 0 with 'r' filled (whatever the
 * case did, including REFUSED and DIED), or -1 with a message in 'err' when
 * the case is malformed or the host cannot run it (fork/mmap failure,
 * address already in use in the child, modify_ldt refused...). Never
 * crashes the caller; blocks at most about timeout_ms + 1 s. */
int rc_native_run(const rc_native_case *c, rc_native_result *r, char *err, size_t errlen);

/* True when the kernel rather than the CPU would answer this code (a linear
 * Capstone sweep of 'code' in 'mode'): SGDT/SIDT/SMSW/SLDT/STR under UMIP,
 * SYSCALL, SYSENTER, INT 0x80, ... *why names the instruction and the
 * reason. rc_native_run refuses such cases without running them. */
bool rc_native_kernel_answers(const uint8_t *code, size_t len, rc_native_mode mode,
                              const char **why);

/* A server: one long-lived child that runs case after case (no fork per
 * case, the LDT reused) - for long runs such as the random differential.
 * Same contract and results as rc_native_run; cases with
 * RC_NATIVE_NO_HANDLER or ioperm ranges run in a child of their own. A case
 * that kills the server is reported as DIED and the server restarts with the
 * next case. Needs FSGSBASE (NULL with 'err' otherwise). Not thread-safe:
 * one server per thread. */
typedef struct rc_native_server rc_native_server;
rc_native_server *rc_native_server_open(char *err, size_t errlen);
int rc_native_server_run(rc_native_server *s, const rc_native_case *c, rc_native_result *r,
                         char *err, size_t errlen);
void rc_native_server_close(rc_native_server *s);
/* The server child's process id (0 before the first case): for tests and
 * diagnostics. */
int rc_native_server_pid(const rc_native_server *s);

/* True when a probe case (one NOP) runs to its end marker on this host;
 * otherwise *why says what is missing. Tests skip the native judge on false. */
bool rc_native_available(const char **why);

/* "AuthenticAMD-25-1" style name of the host CPU (vendor-family-model, from
 * CPUID), for a vector's sources: "native:" + this. */
const char *rc_native_cpu_name(void);

/* Mode names: "long64", "compat32", "prot16", "prot32". */
const char *rc_native_mode_name(rc_native_mode m);

/* End names: "marker", "fault", "timeout", "syscall", "died", "setup", "refused". */
const char *rc_native_end_name(rc_native_end e);

#endif /* RCT_NATIVE_H */

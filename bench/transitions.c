/*
 * transitions.c - ring 3 -> ring 0 -> ring 3 round trips per second,
 * ringcore vs Unicorn, the same guest code in one run.
 *
 * Two workloads, 64-bit long mode with 4-level paging on both engines
 * (supervisor pages for the kernel, user pages for the user code and
 * stack), a GDT, an IDT and a 64-bit TSS in guest memory:
 *   syscall   user:   loop: syscall; jmp loop
 *             kernel (LSTAR): inc r12; cmp r12, r13; je done; sysretq; done: hlt
 *   int80     user:   loop: int 0x80; jmp loop
 *             kernel (IDT 0x80, DPL 3 interrupt gate, stack from TSS.RSP0):
 *                     inc r12; cmp r12, r13; je done; iretq; done: hlt
 * Both start at CPL 0 on an IRETQ to the user loop. With r13 = N + 1 the
 * guest makes N complete round trips (entry + return), then enters the
 * kernel once more and halts there: round trips = N (computed, never taken
 * from an engine's counter), 6 guest instructions each.
 *
 * Every run's end state (all GPRs, RFLAGS, CS, SS, the kernel stack) is
 * checked against a C model of the loop (derived from the SDM pseudo-code,
 * see model()), and both engines are checked against each other at the same
 * count: a benchmark that computes wrong prints WRONG and exits 1. Timing
 * never fails the run.
 *
 * Unicorn 2.0.1 does not perform these transitions, so hooks do (the issue
 * allows "the hooks Unicorn needs"); what each one does and why is written
 * at the hook and in docs/benchmark.md:
 *   SYSCALL  UC_HOOK_INSN(UC_X86_INS_SYSCALL): Unicorn runs the hook instead
 *            of the transition, then adds the instruction length to RIP.
 *   SYSRET   UC_HOOK_CODE on the kernel's sysretq: Unicorn's CPU model has no
 *            SYSCALL bit in CPUID 0x80000001 EDX, so its WRMSR drops EFER.SCE
 *            and QEMU's own helper_sysret would raise #UD.
 *   INT 0x80 UC_HOOK_INTR: Unicorn hands INT n to the hook instead of the IDT.
 *   IRETQ    not hooked: QEMU's helper_iret_protected runs.
 * A hook cannot lower or raise CPL through uc_reg_write (Unicorn applies the
 * segment-load privilege checks of the current CPL: SS 0x18 at CPL 3 is
 * refused), so each hook switches to a saved CPU context with the target
 * CS/SS/CPL (uc_context_restore), then writes back the GPRs and the values
 * the instruction defines (RCX, R11, RFLAGS, RSP, RIP, the frame).
 *
 * Usage: rc_bench_transitions [seconds-per-measurement, default 0.5]
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "ringcore.h"

/* ---------------------------------------------------------------- guest layout */
#define G_BASE 0x40000000ull            /* PML4 index 0, PDPT index 1, PD index 0 */
#define G_SIZE 0x200000ull              /* 2 MiB: one page table */
#define K_INIT (G_BASE + 0x0)           /* iretq to the user loop */
#define K_SYSCALL (G_BASE + 0x100)      /* LSTAR */
#define K_INT80 (G_BASE + 0x200)        /* IDT vector 0x80 */
#define K_RET_OFF 8                     /* the sysretq / iretq in both kernel paths */
#define K_SYSCALL_HLT (K_SYSCALL + 11)
#define K_INT80_HLT (K_INT80 + 10)
#define G_GDT (G_BASE + 0x1000)
#define G_IDT (G_BASE + 0x2000)
#define G_TSS (G_BASE + 0x3000)
#define K_STACK_LO (G_BASE + 0x8000)
#define K_STACK_TOP (G_BASE + 0x10000)  /* TSS.RSP0 */
#define G_PT (G_BASE + 0x10000)         /* PML4, PDPT, PD, PT */
#define G_USER (G_BASE + 0x100000)      /* from here on: user pages (U/S = 1) */
/* Not at G_USER itself: Unicorn 2.0.1 stopping at an 'until' address that is
 * the first byte of a CPL-3 page raises #PF with CR2 = the preceding page
 * (supervisor-only here), and the setup run below stops at the user loop. */
#define U_SYSCALL (G_USER + 0x10)
#define U_INT80 (G_USER + 0x100)
#define U_STACK_TOP (G_USER + 0x20000)

#define GDT_LIMIT 0x4f
#define IDT_LIMIT 0xfff
#define TSS_LIMIT 0x67
#define TSS_RSP0_OFF 4                  /* SDM Vol. 3A 8.7 Figure 8-11 */
#define VEC_INT80 0x80

/* Selectors: the Linux x86_64 layout (docs/standard-machine.md). */
#define SEL_KERNEL_CS 0x10
#define SEL_KERNEL_DS 0x18
#define SEL_USER_DS 0x2b
#define SEL_USER_CS 0x33
#define SEL_TSS 0x40

/* MSRs, SDM Vol. 4 Table 2-2, and their values (Linux's STAR/SFMASK). */
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define STAR_VALUE 0x0023001000000000ull /* SYSCALL CS 0x10/SS 0x18; SYSRET base 0x23 */
#define SFMASK_VALUE 0x47700ull          /* TF DF IF IOPL AC NT */
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define CR0_VALUE 0x80000031ull          /* PG NE ET PE */
#define CR4_PAE (1ull << 5)

/* RFLAGS bits, SDM Vol. 1 3.4.3. */
#define FL_FIXED 0x2ull
#define FL_CF 0x1ull
#define FL_PF 0x4ull
#define FL_AF 0x10ull
#define FL_ZF 0x40ull
#define FL_SF 0x80ull
#define FL_TF 0x100ull
#define FL_IF 0x200ull
#define FL_OF 0x800ull
#define FL_NT 0x4000ull
#define FL_RF 0x10000ull
#define FL_VM 0x20000ull
#define USER_RFLAGS (FL_IF | FL_FIXED)
/* SDM Vol. 2B SYSRET: RFLAGS <- (R11 & 3C7FD7H) | 2 */
#define SYSRET_RFLAGS_MASK 0x3c7fd7ull

#define SYSCALL_LEN 2                   /* 0F 05 */

enum { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* The state a run ends in, as both engines and the model report it. */
typedef struct state {
    uint64_t r[16];
    uint64_t rflags;
    uint16_t cs, ss;
    uint64_t frame[5];                  /* the top 40 bytes of the kernel stack */
} state;

/* ---------------------------------------------------------------- guest code */

static const uint8_t code_k_init[] = { 0x48, 0xCF }; /* iretq */

static const uint8_t code_k_syscall[] = {
    0x49, 0xFF, 0xC4,       /* inc r12 */
    0x4D, 0x39, 0xEC,       /* cmp r12, r13 */
    0x74, 0x03,             /* je done */
    0x48, 0x0F, 0x07,       /* sysretq        (K_SYSCALL + K_RET_OFF) */
    0xF4,                   /* done: hlt      (K_SYSCALL_HLT) */
};
static const uint8_t code_k_int80[] = {
    0x49, 0xFF, 0xC4,       /* inc r12 */
    0x4D, 0x39, 0xEC,       /* cmp r12, r13 */
    0x74, 0x02,             /* je done */
    0x48, 0xCF,             /* iretq          (K_INT80 + K_RET_OFF) */
    0xF4,                   /* done: hlt      (K_INT80_HLT) */
};
static const uint8_t code_u_syscall[] = { 0x0F, 0x05, 0xEB, 0xFC }; /* syscall; jmp -4 */
static const uint8_t code_u_int80[] = { 0xCD, 0x80, 0xEB, 0xFC };   /* int 0x80; jmp -4 */

/* ---------------------------------------------------------------- workloads */

typedef struct workload {
    const char *name;
    const char *what;
    uint64_t user_entry;
    uint64_t hlt;           /* where the kernel halts after the last entry */
    bool via_int;           /* entry by INT 0x80 (else SYSCALL) */
} workload;

static const workload workloads[] = {
    { "syscall", "SYSCALL + SYSRETQ", U_SYSCALL, K_SYSCALL_HLT, false },
    { "int80", "INT 0x80 + IRETQ", U_INT80, K_INT80_HLT, true },
};
#define NWORK (sizeof workloads / sizeof workloads[0])
#define INSNS_PER_TRIP 6    /* user: entry, jmp; kernel: inc, cmp, je, return */

static uint8_t *gp(uint8_t *mem, uint64_t gpa) { return mem + (gpa - G_BASE); }

/* The GPRs both engines start with: a distinct pattern per register, so a
 * register a transition must not touch is seen if it does. */
static void initial_gprs(uint64_t r[16], uint64_t trips)
{
    for (unsigned i = 0; i < 16; i++)
        r[i] = 0x0101010101010101ull * (i + 1) ^ 0x8000000000000000ull;
    r[RSP] = K_STACK_TOP - sizeof(uint64_t) * 5;
    r[R12] = 0;
    r[R13] = trips + 1;
}

/* The IRETQ frame K_INIT pops (SDM Vol. 3A 6.14.2 Figure 6-9 order, low to
 * high: RIP, CS, RFLAGS, RSP, SS). */
static void initial_frame(uint64_t f[5], const workload *w)
{
    f[0] = w->user_entry;
    f[1] = SEL_USER_CS;
    f[2] = USER_RFLAGS;
    f[3] = U_STACK_TOP;
    f[4] = SEL_USER_DS;
}

/* The C model of 'trips' round trips plus the final entry, from the SDM:
 *  - SYSCALL (Vol. 2B): RCX <- RIP of the next instruction, R11 <- RFLAGS,
 *    RFLAGS <- RFLAGS & ~SFMASK (RF cleared), CS <- STAR[47:32] & ~3,
 *    SS <- STAR[47:32] + 8, RSP unchanged.
 *  - SYSRET (Vol. 2B, REX.W): RIP <- RCX, RFLAGS <- (R11 & 3C7FD7H) | 2, so
 *    the user runs with RFLAGS = 0x202 every time and R11 is 0x202 at every
 *    SYSCALL.
 *  - INT n in 64-bit mode (Vol. 3A 6.14.2 and 6.14.4): the new stack is
 *    TSS.RSP0 aligned down to 16, the frame is SS, RSP, RFLAGS, CS, RIP of
 *    the next instruction; SS <- NULL with RPL = new CPL (0); an interrupt
 *    gate clears IF, and TF, NT, RF, VM are cleared. IRETQ pops it back.
 *  - inc r12 / cmp r12, r13 (Vol. 2A): the last compare is of equal values:
 *    CF = OF = SF = AF = 0, ZF = 1, PF = 1 (low byte of 0 has even parity).
 *    The kernel runs with RFLAGS = 0x202 & ~IF (SFMASK or the gate) = 0x2,
 *    so at the HLT RFLAGS = 0x2 | ZF | PF = 0x46. */
static void model(state *m, const workload *w, uint64_t trips)
{
    memset(m, 0, sizeof *m);
    initial_gprs(m->r, trips);
    initial_frame(m->frame, w);
    m->r[R12] = trips + 1;
    m->rflags = (USER_RFLAGS & ~FL_IF) | FL_ZF | FL_PF;
    m->cs = SEL_KERNEL_CS;
    if (!w->via_int) {
        m->r[RCX] = U_SYSCALL + SYSCALL_LEN;
        m->r[R11] = USER_RFLAGS;
        m->r[RSP] = U_STACK_TOP;
        m->ss = SEL_KERNEL_DS;
        /* the kernel stack still holds the initial IRETQ frame */
    } else {
        m->r[RSP] = (K_STACK_TOP & ~0xfull) - sizeof(uint64_t) * 5;
        m->ss = 0;
        m->frame[0] = U_INT80 + 2;
        m->frame[1] = SEL_USER_CS;
        m->frame[2] = USER_RFLAGS;
        m->frame[3] = U_STACK_TOP;
        m->frame[4] = SEL_USER_DS;
    }
}

static const char *const reg_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                            "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };

/* Compare two end states; returns false with a sentence in why. */
static bool same_state(const state *a, const state *b, const char *bname, char *why, size_t n)
{
    for (unsigned i = 0; i < 16; i++)
        if (a->r[i] != b->r[i])
            return snprintf(why, n, "%s = %#" PRIx64 ", %s says %#" PRIx64, reg_names[i], a->r[i],
                            bname, b->r[i]), false;
    if (a->rflags != b->rflags)
        return snprintf(why, n, "rflags = %#" PRIx64 ", %s says %#" PRIx64, a->rflags, bname,
                        b->rflags), false;
    if (a->cs != b->cs || a->ss != b->ss)
        return snprintf(why, n, "cs:ss = %#x:%#x, %s says %#x:%#x", a->cs, a->ss, bname, b->cs,
                        b->ss), false;
    for (unsigned i = 0; i < 5; i++)
        if (a->frame[i] != b->frame[i])
            return snprintf(why, n, "kernel stack qword %u = %#" PRIx64 ", %s says %#" PRIx64, i,
                            a->frame[i], bname, b->frame[i]), false;
    return true;
}

/* ---------------------------------------------------------------- guest memory */

/* SDM Vol. 3A 3.4.5 Figure 3-8: a segment descriptor from its fields. */
static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
           ((uint64_t)(base >> 24) << 56);
}

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v) { memcpy(gp(mem, gpa), &v, 8); }

/* Everything but the stacks' contents: the same bytes for both engines. */
static void build_guest(uint8_t *mem)
{
    memset(mem, 0, G_SIZE);
    /* code */
    memcpy(gp(mem, K_INIT), code_k_init, sizeof code_k_init);
    memcpy(gp(mem, K_SYSCALL), code_k_syscall, sizeof code_k_syscall);
    memcpy(gp(mem, K_INT80), code_k_int80, sizeof code_k_int80);
    memcpy(gp(mem, U_SYSCALL), code_u_syscall, sizeof code_u_syscall);
    memcpy(gp(mem, U_INT80), code_u_int80, sizeof code_u_int80);
    /* GDT (Table 3-1 types; flags G=1 with L=1 for 64-bit code, D/B=1 for data) */
    put64(mem, G_GDT + SEL_KERNEL_CS, seg_desc(0, 0xfffff, 0x9b, 0xa));
    put64(mem, G_GDT + SEL_KERNEL_DS, seg_desc(0, 0xfffff, 0x93, 0xc));
    put64(mem, G_GDT + 0x20, seg_desc(0, 0xfffff, 0xfb, 0xc)); /* 0x23: 32-bit user code */
    put64(mem, G_GDT + (SEL_USER_DS & ~3), seg_desc(0, 0xfffff, 0xf3, 0xc));
    put64(mem, G_GDT + (SEL_USER_CS & ~3), seg_desc(0, 0xfffff, 0xfb, 0xa));
    /* 8.2.3 Figure 8-4 (64-bit TSS descriptor, 16 bytes): busy 64-bit TSS */
    put64(mem, G_GDT + SEL_TSS, seg_desc((uint32_t)G_TSS, TSS_LIMIT, 0x8b, 0));
    put64(mem, G_GDT + SEL_TSS + 8, G_TSS >> 32);
    /* 6.14.1 Figure 6-8: 64-bit interrupt gate, DPL 3, IST 0 */
    uint64_t off = K_INT80;
    put64(mem, G_IDT + 16 * VEC_INT80,
          (off & 0xffff) | ((uint64_t)SEL_KERNEL_CS << 16) | (0xeeull << 40) |
              ((off >> 16 & 0xffff) << 48));
    put64(mem, G_IDT + 16 * VEC_INT80 + 8, off >> 32);
    /* 8.7 Figure 8-11: RSP0 */
    put64(mem, G_TSS + TSS_RSP0_OFF, K_STACK_TOP);
    /* 4.5: 4-level paging, 4 KiB pages; supervisor below G_USER, user from it */
    uint64_t pml4 = G_PT, pdpt = G_PT + 0x1000, pd = G_PT + 0x2000, pt = G_PT + 0x3000;
    put64(mem, pml4 + 8 * ((G_BASE >> 39) & 511), pdpt | 7);
    put64(mem, pdpt + 8 * ((G_BASE >> 30) & 511), pd | 7);
    put64(mem, pd + 8 * ((G_BASE >> 21) & 511), pt | 7);
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t a = G_BASE + i * 0x1000;
        put64(mem, pt + 8 * i, a | (a >= G_USER ? 7 : 3));
    }
}

/* ---------------------------------------------------------------- engines */

typedef struct engine {
    const char *name;
    bool (*open)(struct engine *e, char *why, size_t n);
    /* start at K_INIT (CPL 0) with the workload's registers and frame; run to
     * the kernel's HLT; fill the end state (false with why on failure) */
    bool (*run)(struct engine *e, const workload *w, uint64_t trips, state *out, char *why,
                size_t n);
    void (*close)(struct engine *e);
    uint8_t *mem;
    void *h;
    void *extra;
} engine;

static void reset_stacks(uint8_t *mem, const workload *w)
{
    uint64_t f[5];
    memset(gp(mem, K_STACK_LO), 0, K_STACK_TOP - K_STACK_LO);
    memset(gp(mem, U_STACK_TOP - 0x1000), 0, 0x1000);
    initial_frame(f, w);
    memcpy(gp(mem, K_STACK_TOP - sizeof f), f, sizeof f);
}

static void read_frame(uint8_t *mem, state *s)
{
    memcpy(s->frame, gp(mem, K_STACK_TOP - sizeof s->frame), sizeof s->frame);
}

/* ---- ringcore: the architectural transitions, no hooks */
static bool rc_open(engine *e, char *why, size_t n)
{
    rc_config cfg = RC_CONFIG_INIT;
    rc_cpu *cpu;
    rc_status st;
    e->mem = aligned_alloc(4096, G_SIZE);
    if (!e->mem)
        return snprintf(why, n, "out of memory"), false;
    build_guest(e->mem);
    if ((st = rc_create(&cfg, &cpu)) != RC_OK)
        return snprintf(why, n, "rc_create: %s", rc_strerror(st)), false;
    e->h = cpu;
    if ((st = rc_map_ram(cpu, G_BASE, G_SIZE, e->mem, 0)) != RC_OK)
        return snprintf(why, n, "rc_map_ram: %s", rc_strerror(st)), false;
    /* any exception ends the run with its reason instead of a delivery */
    rc_set_intercept(cpu, 0xffffffffu);
    const struct { uint32_t index; uint64_t value; } msrs[] = {
        { MSR_STAR, STAR_VALUE }, { MSR_LSTAR, K_SYSCALL }, { MSR_SFMASK, SFMASK_VALUE },
    };
    for (unsigned i = 0; i < sizeof msrs / sizeof msrs[0]; i++)
        if ((st = rc_set_msr(cpu, msrs[i].index, msrs[i].value)) != RC_OK)
            return snprintf(why, n, "rc_set_msr(%#x): %s", msrs[i].index, rc_strerror(st)), false;
    rc_dtable gdtr = { G_GDT, GDT_LIMIT }, idtr = { G_IDT, IDT_LIMIT };
    rc_set_gdtr(cpu, &gdtr);
    rc_set_idtr(cpu, &idtr);
    rc_segment tr = { .selector = SEL_TSS, .base = G_TSS, .limit = TSS_LIMIT, .type = 0xb,
                      .present = 1 };
    rc_segment ldtr = { .unusable = 1 };
    rc_set_seg(cpu, RC_SEG_TR, &tr);
    rc_set_seg(cpu, RC_SEG_LDTR, &ldtr);
    rc_set_reg(cpu, RC_REG_EFER, EFER_SCE | EFER_LME | EFER_LMA);
    rc_set_reg(cpu, RC_REG_CR4, CR4_PAE);
    rc_set_reg(cpu, RC_REG_CR3, G_PT);
    rc_set_reg(cpu, RC_REG_CR0, CR0_VALUE);
    return true;
}

static bool rc_run_workload(engine *e, const workload *w, uint64_t trips, state *out, char *why,
                            size_t n)
{
    rc_cpu *cpu = e->h;
    uint64_t r[16];
    rc_exit ex;
    reset_stacks(e->mem, w);
    initial_gprs(r, trips);
    for (unsigned i = 0; i < 16; i++)
        rc_set_reg(cpu, (rc_reg)(RC_REG_RAX + i), r[i]);
    /* the state a kernel is in after SYSCALL (CS 0x10 / SS 0x18, flat) */
    rc_segment cs = { .selector = SEL_KERNEL_CS, .limit = 0xffffffffu, .type = 0xb, .s = 1,
                      .present = 1, .l = 1, .g = 1 };
    rc_segment ss = { .selector = SEL_KERNEL_DS, .limit = 0xffffffffu, .type = 0x3, .s = 1,
                      .present = 1, .db = 1, .g = 1 };
    rc_segment null = { .unusable = 1 };
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    rc_set_seg(cpu, RC_SEG_SS, &ss);
    rc_set_seg(cpu, RC_SEG_DS, &null);
    rc_set_seg(cpu, RC_SEG_ES, &null);
    rc_set_seg(cpu, RC_SEG_FS, &null);
    rc_set_seg(cpu, RC_SEG_GS, &null);
    rc_set_reg(cpu, RC_REG_CPL, 0);
    rc_set_reg(cpu, RC_REG_RFLAGS, FL_FIXED);
    rc_set_reg(cpu, RC_REG_RIP, K_INIT);
    if (rc_get_mode(cpu) != RC_MODE_LONG64)
        return snprintf(why, n, "not in 64-bit mode (mode %d)", rc_get_mode(cpu)), false;
    rc_status st = rc_run(cpu, 0, &ex);
    for (unsigned i = 0; i < 16; i++)
        rc_get_reg(cpu, (rc_reg)(RC_REG_RAX + i), &out->r[i]);
    rc_get_reg(cpu, RC_REG_RFLAGS, &out->rflags);
    rc_segment s;
    rc_get_seg(cpu, RC_SEG_CS, &s), out->cs = s.selector;
    rc_get_seg(cpu, RC_SEG_SS, &s), out->ss = s.selector;
    read_frame(e->mem, out);
    uint64_t rip = 0;
    rc_get_reg(cpu, RC_REG_RIP, &rip);
    if (st != RC_OK)
        return snprintf(why, n, "rc_run: %s", rc_strerror(st)), false;
    if (ex.reason == RC_EXIT_EXCEPTION)
        return snprintf(why, n, "WRONG: exception %u (error %#x) at %#" PRIx64 ", CPL %u: %s",
                        ex.u.exception.vector, ex.u.exception.error_code, ex.u.exception.rip,
                        ex.u.exception.cpl, ex.u.exception.reason ? ex.u.exception.reason : ""),
               false;
    if (ex.reason != RC_EXIT_HLT) {
        const char *rn = rc_exit_reason_name(ex.reason);
        return snprintf(why, n, "exit %s%s%s", rn ? rn : "?",
                        ex.reason == RC_EXIT_UNSUPPORTED ? ": " : "",
                        ex.reason == RC_EXIT_UNSUPPORTED && ex.u.unsupported.what
                            ? ex.u.unsupported.what : ""), false;
    }
    /* RC_EXIT_HLT leaves RIP after the HLT */
    if (rip != w->hlt + 1)
        return snprintf(why, n, "WRONG: halted at %#" PRIx64 ", not at the kernel's HLT %#" PRIx64,
                        rip - 1, w->hlt), false;
    return true;
}

static void rc_close(engine *e)
{
    if (e->h)
        rc_destroy(e->h);
}

/* ---- Unicorn 2: hooks perform SYSCALL, SYSRET and INT 0x80 */

typedef struct uc_side {
    uc_context *kernel_syscall; /* CPL 0, CS 0x10, SS 0x18: the state SYSCALL creates */
    uc_context *kernel_int;     /* CPL 0, CS 0x10, SS NULL: the state a 64-bit INT creates */
    uc_context *user;           /* CPL 3, CS 0x33, SS 0x2b: the state SYSRET/IRETQ create */
    uint64_t lstar, sfmask;
    bool failed;
    char why[200];
} uc_side;

static int uc_gpr_ids[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

static void uc_gprs(uc_engine *uc, uint64_t g[16], bool write)
{
    void *p[16];
    for (unsigned i = 0; i < 16; i++)
        p[i] = &g[i];
    if (write)
        uc_reg_write_batch(uc, uc_gpr_ids, p, 16);
    else
        uc_reg_read_batch(uc, uc_gpr_ids, p, 16);
}

static void uc_fail(uc_engine *uc, uc_side *x, const char *msg)
{
    if (!x->failed) {
        x->failed = true;
        snprintf(x->why, sizeof x->why, "%s", msg);
    }
    uc_emu_stop(uc);
}

/* Move to the saved context 'to' (its CS, SS and CPL), keeping the GPRs in g. */
static void uc_switch(uc_engine *uc, uc_context *to, uint64_t g[16])
{
    uc_context_restore(uc, to);
    uc_gprs(uc, g, true);
}

/* SYSCALL (SDM Vol. 2B "SYSCALL", 64-bit mode). Unicorn calls this hook in
 * place of the transition with RIP = the SYSCALL, and adds the instruction
 * length to RIP after the hook returns (qemu/target/i386/seg_helper.c
 * helper_syscall: "env->eip += next_eip_addend"), so RIP is set to
 * LSTAR - 2. */
static void uc_hook_syscall(uc_engine *uc, void *opaque)
{
    uc_side *x = opaque;
    uint64_t g[16], rip, fl;
    uc_gprs(uc, g, false);
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    uc_reg_read(uc, UC_X86_REG_RFLAGS, &fl);
    g[RCX] = rip + SYSCALL_LEN;                 /* RCX <- RIP (next instruction) */
    g[R11] = fl;                                /* R11 <- RFLAGS */
    uc_switch(uc, x->kernel_syscall, g);        /* CS <- STAR[47:32], SS <- +8, CPL <- 0 */
    fl &= ~(x->sfmask | FL_RF);                 /* RFLAGS <- RFLAGS AND NOT(IA32_FMASK) */
    uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);
    uint64_t target = x->lstar - SYSCALL_LEN;   /* RIP <- IA32_LSTAR, less Unicorn's add */
    uc_reg_write(uc, UC_X86_REG_RIP, &target);
}

/* SYSRET with REX.W (SDM Vol. 2B "SYSRET"), run as a code hook on the
 * kernel's sysretq: Unicorn 2.0.1's CPU has no SYSCALL bit in CPUID
 * 0x80000001 EDX, so WRMSR keeps EFER.SCE at 0 and QEMU's helper_sysret
 * would raise #UD. The hook returns with RIP = RCX, so the sysretq itself
 * never executes. */
static void uc_hook_sysret(uc_engine *uc, uint64_t address, uint32_t size, void *opaque)
{
    uc_side *x = opaque;
    uint64_t g[16], fl;
    uint16_t cs;
    (void)address, (void)size;
    uc_reg_read(uc, UC_X86_REG_CS, &cs);
    if (cs & 3) /* IF CPL != 0 THEN #GP(0) */
        return uc_fail(uc, x, "sysretq reached at CPL > 0");
    uc_gprs(uc, g, false);
    /* RCX is canonical here (Intel's #GP(0) check cannot trigger) */
    uc_switch(uc, x->user, g);                  /* CS <- STAR[63:48]+16 | 3, SS <- +8 | 3, CPL 3 */
    fl = (g[R11] & SYSRET_RFLAGS_MASK) | FL_FIXED;
    uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);
    uc_reg_write(uc, UC_X86_REG_RIP, &g[RCX]);  /* RIP <- RCX */
}

/* INT 0x80 from 64-bit mode (SDM Vol. 3A 6.12.1, 6.14): Unicorn hands INT n
 * to this hook with RIP already past the instruction; the hook reads the IDT
 * gate and TSS.RSP0 from guest memory, pushes the 64-bit frame and enters
 * the handler. Every other vector is an exception this guest must not take. */
static void uc_hook_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    uc_side *x = opaque;
    char msg[120];
    if (intno != VEC_INT80) {
        uint64_t at = 0, cr2 = 0;
        uc_reg_read(uc, UC_X86_REG_RIP, &at);
        uc_reg_read(uc, UC_X86_REG_CR2, &cr2);
        snprintf(msg, sizeof msg, "WRONG: exception %u at %#" PRIx64 " (CR2 %#" PRIx64 ")", intno,
                 at, cr2);
        return uc_fail(uc, x, msg);
    }
    uint64_t g[16], rip, fl, gate[2], rsp0, frame[5];
    uint16_t cs, ss;
    uc_x86_mmr idtr, tr;
    uc_gprs(uc, g, false);
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    uc_reg_read(uc, UC_X86_REG_RFLAGS, &fl);
    uc_reg_read(uc, UC_X86_REG_CS, &cs);
    uc_reg_read(uc, UC_X86_REG_SS, &ss);
    uc_reg_read(uc, UC_X86_REG_IDTR, &idtr);
    uc_reg_read(uc, UC_X86_REG_TR, &tr);
    /* 6.14.1: 16-byte gate; a software INT checks gate DPL >= CPL (6.12.1.1) */
    if (16 * intno + 15 > idtr.limit || uc_mem_read(uc, idtr.base + 16 * intno, gate, 16))
        return uc_fail(uc, x, "IDT entry 0x80 not readable");
    unsigned type = (gate[0] >> 40) & 0xf, dpl = (gate[0] >> 45) & 3, present = (gate[0] >> 47) & 1;
    unsigned sel = (gate[0] >> 16) & 0xffff, ist = (gate[0] >> 32) & 7;
    uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull) | (gate[1] << 32);
    if (!present || (type != 0xe && type != 0xf) || dpl < (cs & 3u))
        return uc_fail(uc, x, "IDT gate 0x80 is not a present DPL-3 gate");
    if (sel != SEL_KERNEL_CS || ist != 0 || (cs & 3) == 0)
        return uc_fail(uc, x, "this hook only does CPL 3 -> 0 through CS 0x10 without IST");
    /* 6.14.4/6.14.2: new RSP = TSS.RSP0 aligned to 16; push SS, RSP, RFLAGS, CS, RIP */
    if (uc_mem_read(uc, tr.base + TSS_RSP0_OFF, &rsp0, 8))
        return uc_fail(uc, x, "TSS not readable");
    uint64_t nsp = (rsp0 & ~0xfull) - sizeof frame;
    frame[0] = rip, frame[1] = cs, frame[2] = fl, frame[3] = g[RSP], frame[4] = ss;
    if (uc_mem_write(uc, nsp, frame, sizeof frame))
        return uc_fail(uc, x, "kernel stack not writable");
    g[RSP] = nsp;
    uc_switch(uc, x->kernel_int, g);            /* CS <- gate selector, SS <- NULL | 0, CPL 0 */
    fl &= ~(FL_TF | FL_NT | FL_RF | FL_VM | (type == 0xe ? FL_IF : 0));
    uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);
    uc_reg_write(uc, UC_X86_REG_RIP, &target);
}

static bool uc_chk(uc_err err, const char *what, char *why, size_t n)
{
    if (err != UC_ERR_OK)
        return snprintf(why, n, "%s: %s", what, uc_strerror(err)), false;
    return true;
}

static bool uc_wmsr(uc_engine *uc, uint32_t index, uint64_t value, char *why, size_t n)
{
    uc_x86_msr m = { index, value };
    return uc_chk(uc_reg_write(uc, UC_X86_REG_MSR, &m), "writing an MSR", why, n);
}

static bool uc_open_engine(engine *e, char *why, size_t n)
{
    uc_engine *uc;
    uc_hook hh;
    uc_side *x = calloc(1, sizeof *x);
    e->extra = x;
    e->mem = aligned_alloc(4096, G_SIZE);
    if (!e->mem || !x)
        return snprintf(why, n, "out of memory"), false;
    build_guest(e->mem);
    if (!uc_chk(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open", why, n))
        return false;
    e->h = uc;
    if (!uc_chk(uc_mem_map_ptr(uc, G_BASE, G_SIZE, UC_PROT_ALL, e->mem), "uc_mem_map_ptr", why, n))
        return false;
    /* the same machine: paging on, the tables, the MSRs */
    uint64_t cr4 = CR4_PAE, cr3 = G_PT, cr0 = CR0_VALUE;
    uc_x86_mmr gdtr = { 0, G_GDT, GDT_LIMIT, 0 }, idtr = { 0, G_IDT, IDT_LIMIT, 0 };
    uc_x86_mmr tr = { SEL_TSS, G_TSS, TSS_LIMIT, (0xbu << 8) | (1u << 15) }; /* type 11, P */
    if (!uc_chk(uc_reg_write(uc, UC_X86_REG_CR4, &cr4), "CR4", why, n) ||
        !uc_chk(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), "CR3", why, n) ||
        !uc_chk(uc_reg_write(uc, UC_X86_REG_CR0, &cr0), "CR0", why, n) ||
        !uc_chk(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), "GDTR", why, n) ||
        !uc_chk(uc_reg_write(uc, UC_X86_REG_IDTR, &idtr), "IDTR", why, n) ||
        !uc_chk(uc_reg_write(uc, UC_X86_REG_TR, &tr), "TR", why, n) ||
        !uc_wmsr(uc, MSR_EFER, EFER_SCE | EFER_LME | EFER_LMA, why, n) ||
        !uc_wmsr(uc, MSR_STAR, STAR_VALUE, why, n) || !uc_wmsr(uc, MSR_LSTAR, K_SYSCALL, why, n) ||
        !uc_wmsr(uc, MSR_SFMASK, SFMASK_VALUE, why, n))
        return false;
    x->lstar = K_SYSCALL;
    x->sfmask = SFMASK_VALUE;
    /* The saved CPU states the hooks switch to. CPL 0 ones by loading CS/SS
     * from the GDT at CPL 0; the CPL 3 one by running the guest's own IRETQ
     * (QEMU's helper_iret_protected) to the user loop. */
    uint16_t sel, null_sel = 0;
    if (uc_context_alloc(uc, &x->kernel_syscall) || uc_context_alloc(uc, &x->kernel_int) ||
        uc_context_alloc(uc, &x->user))
        return snprintf(why, n, "uc_context_alloc failed"), false;
    sel = SEL_KERNEL_CS;
    if (!uc_chk(uc_reg_write(uc, UC_X86_REG_CS, &sel), "CS = 0x10", why, n))
        return false;
    const int data_segs[] = { UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS };
    for (unsigned i = 0; i < sizeof data_segs / sizeof data_segs[0]; i++)
        uc_reg_write(uc, data_segs[i], &null_sel);
    if (!uc_chk(uc_reg_write(uc, UC_X86_REG_SS, &null_sel), "SS = NULL", why, n))
        return false;
    uc_context_save(uc, x->kernel_int);
    sel = SEL_KERNEL_DS;
    if (!uc_chk(uc_reg_write(uc, UC_X86_REG_SS, &sel), "SS = 0x18", why, n))
        return false;
    uc_context_save(uc, x->kernel_syscall);
    if (!uc_chk(uc_hook_add(uc, &hh, UC_HOOK_INSN, uc_hook_syscall, x, 1, 0, UC_X86_INS_SYSCALL),
                "hook SYSCALL", why, n) ||
        !uc_chk(uc_hook_add(uc, &hh, UC_HOOK_CODE, uc_hook_sysret, x, K_SYSCALL + K_RET_OFF,
                            K_SYSCALL + K_RET_OFF), "hook SYSRET", why, n) ||
        !uc_chk(uc_hook_add(uc, &hh, UC_HOOK_INTR, uc_hook_intr, x, 1, 0), "hook INT", why, n))
        return false;
    reset_stacks(e->mem, &workloads[0]);
    uint64_t rsp = K_STACK_TOP - 40;
    uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
    uc_err err = uc_emu_start(uc, K_INIT, workloads[0].user_entry, 0, 0);
    if (x->failed)
        return snprintf(why, n, "IRETQ to CPL 3: %s", x->why), false;
    if (!uc_chk(err, "IRETQ to CPL 3", why, n))
        return false;
    uint16_t ucs = 0, uss = 0;
    uc_reg_read(uc, UC_X86_REG_CS, &ucs);
    uc_reg_read(uc, UC_X86_REG_SS, &uss);
    if (ucs != SEL_USER_CS || uss != SEL_USER_DS)
        return snprintf(why, n, "IRETQ left CS:SS = %#x:%#x, not 0x33:0x2b", ucs, uss), false;
    uc_context_save(uc, x->user);
    return true;
}

static bool uc_run_workload(engine *e, const workload *w, uint64_t trips, state *out, char *why,
                            size_t n)
{
    uc_engine *uc = e->h;
    uc_side *x = e->extra;
    uint64_t g[16], rip = 0;
    reset_stacks(e->mem, w);
    initial_gprs(g, trips);
    uc_switch(uc, x->kernel_syscall, g);
    uint64_t fl = FL_FIXED;
    uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);
    x->failed = false;
    /* stop at the kernel's HLT (Unicorn stops before executing 'until') */
    uc_err err = uc_emu_start(uc, K_INIT, w->hlt, 0, 0);
    uc_gprs(uc, out->r, false);
    uc_reg_read(uc, UC_X86_REG_RFLAGS, &out->rflags);
    uc_reg_read(uc, UC_X86_REG_CS, &out->cs);
    uc_reg_read(uc, UC_X86_REG_SS, &out->ss);
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    read_frame(e->mem, out);
    if (x->failed)
        return snprintf(why, n, "%s", x->why), false;
    if (err != UC_ERR_OK)
        return snprintf(why, n, "uc_emu_start: %s at %#" PRIx64, uc_strerror(err), rip), false;
    if (rip != w->hlt)
        return snprintf(why, n, "stopped at %#" PRIx64 ", not at the kernel's HLT", rip), false;
    return true;
}

static void uc_close_engine(engine *e)
{
    uc_side *x = e->extra;
    if (x) {
        if (x->kernel_syscall)
            uc_context_free(x->kernel_syscall);
        if (x->kernel_int)
            uc_context_free(x->kernel_int);
        if (x->user)
            uc_context_free(x->user);
        free(x);
    }
    if (e->h)
        uc_close(e->h);
}

/* ---------------------------------------------------------------- harness */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run 'trips' round trips and check the end state against the model.
 * Returns seconds; -1 if the engine failed, -2 if the result is WRONG. */
static double measure(engine *e, const workload *w, uint64_t trips, state *out, char *why,
                      size_t n)
{
    state m;
    memset(out, 0, sizeof *out);
    double t0 = now();
    bool ok = e->run(e, w, trips, out, why, n);
    double t = now() - t0;
    if (!ok)
        return strncmp(why, "WRONG", 5) == 0 ? -2 : -1;
    model(&m, w, trips);
    char diff[200];
    if (!same_state(out, &m, "the C model", diff, sizeof diff))
        return snprintf(why, n, "WRONG after %" PRIu64 " round trips: %s", trips, diff), -2;
    return t;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    if (budget <= 0)
        budget = 0.5;
    engine engines[2] = {
        { .name = "ringcore", .open = rc_open, .run = rc_run_workload, .close = rc_close },
        { .name = "unicorn", .open = uc_open_engine, .run = uc_run_workload,
          .close = uc_close_engine },
    };
    bool ok[2];
    char why[256];
    int wrong = 0;
    unsigned ucmaj = 0, ucmin = 0;
    uc_version(&ucmaj, &ucmin);
    printf("rc_bench_transitions: CPL 3 -> 0 -> 3 round trips in 64-bit mode with paging, "
           "%.2f s per measurement (Unicorn %u.%u)\n\n", budget, ucmaj, ucmin);
    for (unsigned k = 0; k < 2; k++) {
        ok[k] = engines[k].open(&engines[k], why, sizeof why);
        if (!ok[k])
            printf("%s: cannot set up: %s\n", engines[k].name, why);
    }
    printf("%-8s %-18s %-9s %13s %8s %12s %9s\n", "workload", "transitions", "engine",
           "round trips", "seconds", "trips/s", "rc/uc");
    for (unsigned wi = 0; wi < NWORK; wi++) {
        const workload *w = &workloads[wi];
        double rate[2] = { 0, 0 }, secs[2] = { 0, 0 };
        uint64_t done[2] = { 0, 0 };
        char note[2][300] = { "", "" };
        /* 1. both engines at the same small count: each against the model,
         *    then against each other */
        const uint64_t probe = 1000;
        state pr[2];
        bool probed[2] = { false, false };
        for (unsigned k = 0; k < 2; k++) {
            if (!ok[k])
                continue;
            double t = measure(&engines[k], w, probe, &pr[k], why, sizeof why);
            if (t < 0) {
                snprintf(note[k], sizeof note[k], "%s", why);
                wrong |= t < -1;
                continue;
            }
            probed[k] = true;
        }
        if (probed[0] && probed[1] && !same_state(&pr[0], &pr[1], "unicorn", why, sizeof why)) {
            snprintf(note[0], sizeof note[0], "WRONG: engines disagree: ringcore %s", why);
            wrong = 1;
            probed[0] = probed[1] = false;
        }
        /* 2. calibrate, then measure for about 'budget' seconds */
        for (unsigned k = 0; k < 2; k++) {
            if (!probed[k])
                continue;
            state out;
            uint64_t trips = 10000;
            double t = 0;
            for (;;) {
                t = measure(&engines[k], w, trips, &out, why, sizeof why);
                if (t < 0 || t >= budget || trips >= (1ull << 34))
                    break;
                double scale = t > 1e-4 ? budget * 1.1 / t : 16;
                trips = (uint64_t)((double)trips * (scale > 16 ? 16 : scale < 1.5 ? 1.5 : scale));
            }
            if (t < 0) {
                snprintf(note[k], sizeof note[k], "%s", why);
                wrong |= t < -1;
                continue;
            }
            done[k] = trips;
            secs[k] = t;
            rate[k] = (double)trips / t;
        }
        char ratio[32] = "-";
        if (rate[0] > 0 && rate[1] > 0)
            snprintf(ratio, sizeof ratio, "%.2f", rate[0] / rate[1]);
        for (unsigned k = 0; k < 2; k++) {
            if (rate[k] > 0)
                printf("%-8s %-18s %-9s %13" PRIu64 " %8.3f %12.0f %9s\n", k ? "" : w->name,
                       k ? "" : w->what, engines[k].name, done[k], secs[k], rate[k],
                       k ? ratio : "");
            else
                printf("%-8s %-18s %-9s %13s %8s %12s %9s\n", k ? "" : w->name, k ? "" : w->what,
                       engines[k].name, "-", "-", "failed", k ? ratio : "");
            if (note[k][0])
                printf("         %s: %s\n", engines[k].name, note[k]);
        }
    }
    printf("\nA round trip is ring 3 -> ring 0 -> ring 3: %u guest instructions (entry, jmp; inc, "
           "cmp, je, return).\nringcore performs every transition itself. Unicorn performs "
           "IRETQ itself; SYSCALL, SYSRETQ and INT 0x80\nare done by hooks (UC_HOOK_INSN, "
           "UC_HOOK_CODE on the sysretq, UC_HOOK_INTR) that switch to a saved\nCPU context "
           "for CS/SS/CPL and write RCX, R11, RFLAGS, RSP, RIP and the INT frame: "
           "docs/benchmark.md.\n", INSNS_PER_TRIP);
    for (unsigned k = 0; k < 2; k++) {
        engines[k].close(&engines[k]);
        free(engines[k].mem);
    }
    if (wrong)
        printf("rc_bench_transitions: WRONG results above: the numbers are not valid\n");
    return wrong ? 1 : 0;
}

/*
 * bench.c - ringcore vs Unicorn on the same guest workloads, in one run.
 *
 * Four 64-bit loops (long mode with identity paging for ringcore; Unicorn
 * UC_MODE_64, which is flat), each run on both engines:
 *   store   5 instructions per iteration, one store
 *   reg     5 register-only instructions per iteration
 *   mem     9 instructions per iteration, two loads and one store
 *   string  9 instructions per iteration: REP MOVSB of 4 KiB, REP STOSQ of 4 KiB
 * Instruction counts are computed (iterations x instructions per iteration;
 * a REP instruction counts once), never assumed from a clock. Every run's
 * final registers and buffers are checked against a C model of the loop,
 * and the two engines are checked against each other at the same iteration
 * count: a benchmark that computes wrong prints WRONG and exits 1. Timing
 * never fails the run.
 *
 * Usage: rc_bench [seconds-per-measurement, default 0.5]
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
#define G_BASE 0x40000000ull
#define G_SIZE 0x200000ull             /* 2 MiB, one page table */
#define G_CODE G_BASE
#define G_HLT_PAD 0x100                /* the loop, then HLT */
#define G_BUF_A (G_BASE + 0x100000)    /* 64 KiB (+ a page of slack) */
#define G_BUF_B (G_BASE + 0x120000)    /* 64 KiB (+ a page) */
#define G_BUF_SIZE 0x10000ull
#define G_STR_SRC (G_BASE + 0x140000)  /* 4 KiB */
#define G_STR_DST1 (G_BASE + 0x150000) /* 4 KiB */
#define G_STR_DST2 (G_BASE + 0x160000) /* 4 KiB */
#define G_STR_LEN 0x1000ull
#define G_PT (G_BASE + 0x180000)       /* PML4, PDPT, PD, PT */

enum { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12 };

typedef struct regs {
    uint64_t r[16];
} regs;

/* ---------------------------------------------------------------- workloads */

typedef struct workload {
    const char *name;
    const char *what;
    const uint8_t *code;
    size_t len;
    unsigned insns_per_iter;
    uint64_t bytes_per_iter;         /* for the string loop */
    void (*init)(regs *r, uint8_t *mem, uint64_t iters); /* mem = guest RAM at G_BASE */
    void (*model)(regs *r, uint8_t *mem, uint64_t iters);  /* the C reference */
} workload;

static uint8_t *gp(uint8_t *mem, uint64_t gpa) { return mem + (gpa - G_BASE); }

/* (a) store loop: mov [rbx],rcx; add rbx,8; and rbx,rdx; dec rcx; jnz */
static const uint8_t code_store[] = {
    0x48, 0x89, 0x0B,       /* mov [rbx], rcx */
    0x48, 0x83, 0xC3, 0x08, /* add rbx, 8 */
    0x48, 0x21, 0xD3,       /* and rbx, rdx   (rdx = buffer base | offset mask) */
    0x48, 0xFF, 0xC9,       /* dec rcx */
    0x75, 0xF1,             /* jnz -15 */
    0xF4,                   /* hlt */
};
static void init_store(regs *r, uint8_t *mem, uint64_t n)
{
    memset(r, 0, sizeof *r);
    memset(gp(mem, G_BUF_A), 0, G_BUF_SIZE);
    r->r[RCX] = n;
    r->r[RBX] = G_BUF_A;
    r->r[RDX] = G_BUF_A | ((G_BUF_SIZE - 1) & ~7ull);
}
static void model_store(regs *r, uint8_t *mem, uint64_t n)
{
    (void)n;
    do {
        memcpy(gp(mem, r->r[RBX]), &r->r[RCX], 8);
        r->r[RBX] = (r->r[RBX] + 8) & r->r[RDX];
    } while (--r->r[RCX]);
}

/* (b) register loop: add rax,rcx; xor rdx,rax; inc rdi; dec rcx; jnz */
static const uint8_t code_reg[] = {
    0x48, 0x01, 0xC8, /* add rax, rcx */
    0x48, 0x31, 0xC2, /* xor rdx, rax */
    0x48, 0xFF, 0xC7, /* inc rdi */
    0x48, 0xFF, 0xC9, /* dec rcx */
    0x75, 0xF2,       /* jnz -14 */
    0xF4,
};
static void init_reg(regs *r, uint8_t *mem, uint64_t n)
{
    (void)mem;
    memset(r, 0, sizeof *r);
    r->r[RCX] = n;
    r->r[RAX] = 0x0123456789abcdefull;
    r->r[RDX] = 0xfedcba9876543210ull;
}
static void model_reg(regs *r, uint8_t *mem, uint64_t n)
{
    (void)mem, (void)n;
    do {
        r->r[RAX] += r->r[RCX];
        r->r[RDX] ^= r->r[RAX];
        r->r[RDI]++;
    } while (--r->r[RCX]);
}

/* (c) memory loop: two loads and a store per iteration */
static const uint8_t code_mem[] = {
    0x48, 0x8B, 0x06,       /* mov rax, [rsi] */
    0x48, 0x03, 0x46, 0x08, /* add rax, [rsi+8] */
    0x48, 0x89, 0x07,       /* mov [rdi], rax */
    0x48, 0x83, 0xC6, 0x08, /* add rsi, 8 */
    0x48, 0x21, 0xD6,       /* and rsi, rdx */
    0x48, 0x83, 0xC7, 0x08, /* add rdi, 8 */
    0x4C, 0x21, 0xC7,       /* and rdi, r8 */
    0x48, 0xFF, 0xC9,       /* dec rcx */
    0x75, 0xE3,             /* jnz -29 */
    0xF4,
};
static void init_mem(regs *r, uint8_t *mem, uint64_t n)
{
    memset(r, 0, sizeof *r);
    for (uint64_t i = 0; i < G_BUF_SIZE + 8; i += 8) {
        uint64_t v = i * 0x9E3779B97F4A7C15ull;
        memcpy(gp(mem, G_BUF_A + i), &v, 8);
    }
    memset(gp(mem, G_BUF_B), 0, G_BUF_SIZE);
    r->r[RCX] = n;
    r->r[RSI] = G_BUF_A;
    r->r[RDI] = G_BUF_B;
    r->r[RDX] = G_BUF_A | ((G_BUF_SIZE - 1) & ~7ull);
    r->r[R8] = G_BUF_B | ((G_BUF_SIZE - 1) & ~7ull);
}
static void model_mem(regs *r, uint8_t *mem, uint64_t n)
{
    (void)n;
    do {
        uint64_t a, b;
        memcpy(&a, gp(mem, r->r[RSI]), 8);
        memcpy(&b, gp(mem, r->r[RSI] + 8), 8);
        r->r[RAX] = a + b;
        memcpy(gp(mem, r->r[RDI]), &r->r[RAX], 8);
        r->r[RSI] = (r->r[RSI] + 8) & r->r[RDX];
        r->r[RDI] = (r->r[RDI] + 8) & r->r[R8];
    } while (--r->r[RCX]);
}

/* (d) string loop: REP MOVSB 4 KiB src->dst1, REP STOSQ 4 KiB of rax into dst2 */
static const uint8_t code_string[] = {
    0x4C, 0x89, 0xC6,       /* mov rsi, r8 */
    0x4C, 0x89, 0xCF,       /* mov rdi, r9 */
    0x4C, 0x89, 0xD1,       /* mov rcx, r10   (4096) */
    0xF3, 0xA4,             /* rep movsb */
    0x4C, 0x89, 0xE7,       /* mov rdi, r12 */
    0x4C, 0x89, 0xD9,       /* mov rcx, r11   (512) */
    0xF3, 0x48, 0xAB,       /* rep stosq */
    0x48, 0xFF, 0xCB,       /* dec rbx */
    0x75, 0xE7,             /* jnz -25 */
    0xF4,
};
static void init_string(regs *r, uint8_t *mem, uint64_t n)
{
    memset(r, 0, sizeof *r);
    for (uint64_t i = 0; i < G_STR_LEN; i++)
        *gp(mem, G_STR_SRC + i) = (uint8_t)(i * 7 + 3);
    memset(gp(mem, G_STR_DST1), 0, G_STR_LEN);
    memset(gp(mem, G_STR_DST2), 0, G_STR_LEN);
    r->r[RBX] = n;
    r->r[RAX] = 0x5555aaaa3333ccccull;
    r->r[R8] = G_STR_SRC;
    r->r[R9] = G_STR_DST1;
    r->r[R10] = G_STR_LEN;
    r->r[R11] = G_STR_LEN / 8;
    r->r[R12] = G_STR_DST2;
}
static void model_string(regs *r, uint8_t *mem, uint64_t n)
{
    (void)n;
    do {
        r->r[RSI] = r->r[R8];
        r->r[RDI] = r->r[R9];
        memmove(gp(mem, r->r[RDI]), gp(mem, r->r[RSI]), r->r[R10]);
        r->r[RSI] += r->r[R10];
        r->r[RDI] += r->r[R10];
        r->r[RDI] = r->r[R12];
        for (uint64_t i = 0; i < r->r[R11]; i++)
            memcpy(gp(mem, r->r[RDI] + 8 * i), &r->r[RAX], 8);
        r->r[RDI] += 8 * r->r[R11];
        r->r[RCX] = 0;
    } while (--r->r[RBX]);
}

static const workload workloads[] = {
    { "store", "5-insn loop, 1 store", code_store, sizeof code_store, 5, 0, init_store, model_store },
    { "reg", "5-insn loop, registers only", code_reg, sizeof code_reg, 5, 0, init_reg, model_reg },
    { "mem", "9-insn loop, 2 loads + 1 store", code_mem, sizeof code_mem, 9, 0, init_mem, model_mem },
    { "string", "rep movsb 4K + rep stosq 4K", code_string, sizeof code_string, 9, 2 * G_STR_LEN,
      init_string, model_string },
};
#define NWORK (sizeof workloads / sizeof workloads[0])

/* ---------------------------------------------------------------- engines */

typedef struct engine {
    const char *name;
    bool (*open)(struct engine *e, char *why, size_t n);
    /* run the workload's code from G_CODE to its HLT with 'r' loaded;
     * return false (with why) if the engine failed */
    bool (*run)(struct engine *e, regs *r, char *why, size_t n);
    /* place new code at G_CODE so the engine's translation cache sees it */
    void (*load_code)(struct engine *e, const uint8_t *code, size_t len);
    uint8_t *mem; /* guest RAM at G_BASE, G_SIZE bytes, readable/writable by the harness */
    void *h;
    uint64_t until; /* address of the workload's HLT */
} engine;

/* ---- ringcore: long mode, identity paging over [G_BASE, G_BASE + 2 MiB) */
static bool rc_open(engine *e, char *why, size_t n)
{
    rc_config cfg = RC_CONFIG_INIT;
    rc_cpu *cpu;
    rc_status st;
    e->mem = aligned_alloc(4096, G_SIZE);
    if (!e->mem)
        return snprintf(why, n, "out of memory"), false;
    memset(e->mem, 0, G_SIZE);
    if ((st = rc_create(&cfg, &cpu)) != RC_OK)
        return snprintf(why, n, "rc_create: status %d", st), false;
    e->h = cpu;
    if ((st = rc_map_ram(cpu, G_BASE, G_SIZE, e->mem, 0)) != RC_OK)
        return snprintf(why, n, "rc_map_ram: status %d", st), false;
    /* SDM Vol. 3A 4.5: 4-level paging; P|RW at every level */
    uint64_t pml4 = G_PT, pdpt = G_PT + 0x1000, pd = G_PT + 0x2000, pt = G_PT + 0x3000, v;
    v = pdpt | 3, memcpy(e->mem + (pml4 - G_BASE) + 8 * ((G_BASE >> 39) & 511), &v, 8);
    v = pd | 3, memcpy(e->mem + (pdpt - G_BASE) + 8 * ((G_BASE >> 30) & 511), &v, 8);
    v = pt | 3, memcpy(e->mem + (pd - G_BASE) + 8 * ((G_BASE >> 21) & 511), &v, 8);
    for (uint64_t i = 0; i < 512; i++)
        v = (G_BASE + i * 0x1000) | 3, memcpy(e->mem + (pt - G_BASE) + 8 * i, &v, 8);
    rc_set_reg(cpu, RC_REG_EFER, (1u << 8) | (1u << 10));   /* LME | LMA */
    rc_set_reg(cpu, RC_REG_CR4, 1u << 5);                   /* PAE */
    rc_set_reg(cpu, RC_REG_CR3, G_PT);
    rc_set_reg(cpu, RC_REG_CR0, 0x80000031ull);             /* PG | NE | ET | PE */
    rc_segment cs = { .selector = 8, .limit = 0xffffffffu, .type = 0xB, .s = 1, .present = 1,
                      .l = 1, .g = 1 };
    rc_segment ds = { .selector = 16, .limit = 0xffffffffu, .type = 0x3, .s = 1, .present = 1,
                      .db = 1, .g = 1 };
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    for (rc_seg_reg s = RC_SEG_ES; s <= RC_SEG_GS; s++)
        if (s != RC_SEG_CS)
            rc_set_seg(cpu, s, &ds);
    rc_set_reg(cpu, RC_REG_CPL, 0);
    if (rc_get_mode(cpu) != RC_MODE_LONG64)
        return snprintf(why, n, "not in 64-bit mode (mode %d)", rc_get_mode(cpu)), false;
    return true;
}

/* The decoded-instruction cache learns of code writes through the API
 * (rc_write_phys), not through the embedder's own pointer. */
static void rc_load_code(engine *e, const uint8_t *code, size_t len)
{
    rc_write_phys(e->h, G_CODE, code, len);
}

static bool rc_run_loop(engine *e, regs *r, char *why, size_t n)
{
    rc_cpu *cpu = e->h;
    rc_exit ex;
    for (unsigned i = 0; i < 16; i++)
        rc_set_reg(cpu, (rc_reg)(RC_REG_RAX + i), r->r[i]);
    rc_set_reg(cpu, RC_REG_RIP, G_CODE);
    rc_set_reg(cpu, RC_REG_RFLAGS, 2);
    rc_status st = rc_run(cpu, 0, &ex);
    for (unsigned i = 0; i < 16; i++)
        rc_get_reg(cpu, (rc_reg)(RC_REG_RAX + i), &r->r[i]);
    if (st != RC_OK)
        return snprintf(why, n, "rc_run: status %d", st), false;
    if (ex.reason != RC_EXIT_HLT) {
        const char *rn = rc_exit_reason_name(ex.reason);
        snprintf(why, n, "exit %s%s%s", rn ? rn : "?",
                 ex.reason == RC_EXIT_UNSUPPORTED ? ": " : "",
                 ex.reason == RC_EXIT_UNSUPPORTED && ex.u.unsupported.what ? ex.u.unsupported.what : "");
        return false;
    }
    return true;
}

/* ---- Unicorn 2: UC_MODE_64 is flat without page tables */
static const int uc_regs[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

static bool uc_open_engine(engine *e, char *why, size_t n)
{
    uc_engine *uc;
    uc_err err;
    e->mem = aligned_alloc(4096, G_SIZE);
    if (!e->mem)
        return snprintf(why, n, "out of memory"), false;
    memset(e->mem, 0, G_SIZE);
    if ((err = uc_open(UC_ARCH_X86, UC_MODE_64, &uc)) != UC_ERR_OK)
        return snprintf(why, n, "uc_open: %s", uc_strerror(err)), false;
    e->h = uc;
    if ((err = uc_mem_map_ptr(uc, G_BASE, G_SIZE, UC_PROT_ALL, e->mem)) != UC_ERR_OK)
        return snprintf(why, n, "uc_mem_map_ptr: %s", uc_strerror(err)), false;
    return true;
}

static void uc_load_code(engine *e, const uint8_t *code, size_t len)
{
    memcpy(e->mem, code, len);
    uc_ctl_remove_cache((uc_engine *)e->h, G_CODE, G_CODE + G_HLT_PAD);
}

static bool uc_run_loop(engine *e, regs *r, char *why, size_t n)
{
    uc_engine *uc = e->h;
    for (unsigned i = 0; i < 16; i++)
        uc_reg_write(uc, uc_regs[i], &r->r[i]);
    uint64_t fl = 2, rip = 0;
    uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);
    /* every workload ends with HLT: stop there */
    uc_err err = uc_emu_start(uc, G_CODE, e->until, 0, 0);
    for (unsigned i = 0; i < 16; i++)
        uc_reg_read(uc, uc_regs[i], &r->r[i]);
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    if (err != UC_ERR_OK)
        return snprintf(why, n, "uc_emu_start: %s", uc_strerror(err)), false;
    if (rip != e->until)
        return snprintf(why, n, "stopped at %#" PRIx64 ", not at the HLT", rip), false;
    return true;
}

/* ---------------------------------------------------------------- harness */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Load the workload, run it for 'iters' iterations, check the result
 * against the C model. Returns seconds, or -1 on failure (why filled). */
static double measure(engine *e, const workload *w, uint64_t iters, regs *out, char *why, size_t n)
{
    static uint8_t model_mem_buf[G_SIZE];
    regs r, m;
    e->load_code(e, w->code, w->len);
    e->until = G_CODE + w->len - 1;
    /* data pages (never code) may be written through the host pointer */
    memset(e->mem + (G_BUF_A - G_BASE), 0, G_PT - G_BUF_A);
    w->init(&r, e->mem, iters);
    memcpy(model_mem_buf, e->mem, G_SIZE);
    m = r;
    double t0 = now();
    if (!e->run(e, &r, why, n))
        return -1;
    double t = now() - t0;
    *out = r;
    w->model(&m, model_mem_buf, iters);
    for (unsigned i = 0; i < 16; i++)
        if (i != RSP && r.r[i] != m.r[i])
            return snprintf(why, n, "WRONG: register %u = %#" PRIx64 ", the C model says %#" PRIx64,
                            i, r.r[i], m.r[i]), -2;
    if (memcmp(e->mem + (G_BUF_A - G_BASE), model_mem_buf + (G_BUF_A - G_BASE), G_PT - G_BUF_A) != 0)
        return snprintf(why, n, "WRONG: guest buffers differ from the C model"), -2;
    return t;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    if (budget <= 0)
        budget = 0.5;
    engine engines[2] = {
        { .name = "ringcore", .open = rc_open, .run = rc_run_loop, .load_code = rc_load_code },
        { .name = "unicorn", .open = uc_open_engine, .run = uc_run_loop, .load_code = uc_load_code },
    };
    bool ok[2];
    char why[256];
    int wrong = 0;
    for (unsigned k = 0; k < 2; k++) {
        ok[k] = engines[k].open(&engines[k], why, sizeof why);
        if (!ok[k])
            printf("%s: cannot set up: %s\n", engines[k].name, why);
    }
    unsigned ucmaj = 0, ucmin = 0;
    uc_version(&ucmaj, &ucmin);
    printf("rc_bench: 64-bit guest loops, %.2f s per measurement (Unicorn %u.%u)\n\n", budget,
           ucmaj, ucmin);
    printf("%-7s %-32s %15s %15s %9s\n", "loop", "what", "ringcore M/s", "unicorn M/s", "rc/uc");
    for (unsigned wi = 0; wi < NWORK; wi++) {
        const workload *w = &workloads[wi];
        double rate[2] = { 0, 0 };
        char note[2][300] = { "", "" };
        /* 1. both engines at the same small count: results must agree */
        const uint64_t probe = 1000;
        regs pr[2];
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
        if (probed[0] && probed[1]) {
            for (unsigned i = 0; i < 16; i++)
                if (i != RSP && pr[0].r[i] != pr[1].r[i]) {
                    snprintf(note[0], sizeof note[0], "WRONG: engines disagree on register %u", i);
                    wrong = 1;
                    probed[0] = false;
                }
            if (memcmp(engines[0].mem + (G_BUF_A - G_BASE), engines[1].mem + (G_BUF_A - G_BASE),
                       G_PT - G_BUF_A) != 0) {
                snprintf(note[0], sizeof note[0], "WRONG: engines disagree on guest memory");
                wrong = 1;
                probed[0] = false;
            }
        }
        /* 2. calibrate, then measure for about 'budget' seconds */
        for (unsigned k = 0; k < 2; k++) {
            if (!probed[k])
                continue;
            regs out;
            uint64_t iters = 10000;
            double t = 0;
            for (;;) {
                t = measure(&engines[k], w, iters, &out, why, sizeof why);
                if (t < 0 || t >= budget || iters >= (1ull << 34))
                    break;
                double scale = t > 1e-4 ? budget * 1.1 / t : 16;
                iters = (uint64_t)((double)iters * (scale > 16 ? 16 : scale < 1.5 ? 1.5 : scale));
                if (w->bytes_per_iter && iters > (1ull << 24))
                    iters = 1ull << 24;
            }
            if (t < 0) {
                snprintf(note[k], sizeof note[k], "%s", why);
                wrong |= t < -1;
                continue;
            }
            rate[k] = (double)iters * w->insns_per_iter / t;
            if (w->bytes_per_iter)
                snprintf(note[k], sizeof note[k], "%.0f MB/s moved", (double)iters * w->bytes_per_iter / t / 1e6);
        }
        char rs[2][32];
        for (unsigned k = 0; k < 2; k++)
            if (rate[k] > 0)
                snprintf(rs[k], sizeof rs[k], rate[k] < 1e8 ? "%15.2f" : "%15.1f", rate[k] / 1e6);
            else
                snprintf(rs[k], sizeof rs[k], "%15s", "failed");
        char ratio[32] = "        -";
        if (rate[0] > 0 && rate[1] > 0)
            snprintf(ratio, sizeof ratio, "%9.3f", rate[0] / rate[1]);
        printf("%-7s %-32s %s %s %s\n", w->name, w->what, rs[0], rs[1], ratio);
        for (unsigned k = 0; k < 2; k++)
            if (note[k][0])
                printf("        %s: %s\n", engines[k].name, note[k]);
    }
    printf("\nM/s = million guest instructions per second (iterations x instructions per "
           "iteration; a REP string instruction counts once).\n");
    if (ok[0])
        rc_destroy(engines[0].h);
    if (ok[1])
        uc_close(engines[1].h);
    free(engines[0].mem);
    free(engines[1].mem);
    if (wrong)
        printf("rc_bench: WRONG results above: the numbers are not valid\n");
    return wrong ? 1 : 0;
}

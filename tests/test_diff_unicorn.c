/*
 * test_diff_unicorn.c - random differential test: ringcore vs Unicorn 2
 * (and the host CPU at ring 3, "native", as third judge in 64-bit mode).
 *
 * Ordinary instructions are generated from templates (tests/support/
 * diffgen.c): random operand sizes, prefixes, ModRM register and memory
 * forms (every memory operand lands in a data area mapped in all engines),
 * random immediates, random 64-bit register values and random status
 * flags. Each case runs on both emulators in 64-bit mode (ringcore: long
 * mode with identity-mapped 4-level paging built here; Unicorn UC_MODE_64)
 * and in 32-bit flat protected mode (ringcore: CR0.PE and flat 32-bit
 * segment caches set with rc_set_seg; Unicorn UC_MODE_32). Compared: all
 * GPRs, RIP, the six status flags, the data area and the stack page.
 *
 * Judges: Unicorn, computed in the same run. The only masked state is a
 * status flag the SDM's "Flags Affected" calls undefined for that
 * instruction and input (diffgen records which, with the section); the
 * masked differences are counted per instruction and flag and checked
 * against the host CPU (docs/unicorn-divergences.md). A mismatch on defined
 * state counts as explained only when the host CPU, running the same bytes
 * natively on the same input, agrees with ringcore on all compared state
 * (then Unicorn is the one that is wrong); everything else fails the test.
 *
 * Every ringcore run is at CPL 3 (DPL-3 segments with RPL-3 selectors,
 * user pages; the block's closing HLT is then the #GP(0) of SDM "HLT").
 * A third leg runs the 32-bit blocks in 16-bit protected mode (CS.D = 0,
 * 66/67 toggled, see to_prot16) on ringcore and on the host CPU through
 * the native server (tools/lib/native.h); Unicorn cannot judge it (its
 * UC_MODE_16 is real mode).
 *
 * Deterministic: the seed is printed; RC_DIFF_SEED overrides it. RC_QUICK=1
 * runs a tenth of the instructions (sanitizer runs); RC_DIFF_INSNS=n runs
 * n instructions per mode (all three legs); RC_DIFF_P16_INSNS=n sets the
 * 16-bit leg alone.
 */
#define _GNU_SOURCE
#include <check.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <capstone/capstone.h>

#include "ringcore.h"
#include "support/diffgen.h"
#include "../tools/lib/native.h"

#ifdef RC_HAVE_UNICORN
#include <unicorn/unicorn.h>

#define DEFAULT_SEED 0x52494E47434F5245ull /* "RINGCORE" */
#define TARGET_64 180000u                  /* instructions per mode (normal run, ~6 s) */
#define TARGET_32 120000u
#define TARGET_16 40000u  /* 16-bit protected mode leg (ringcore vs the host CPU) */
#define MAX_REPORTS 12
#define MAX_FAMILIES 64
#define RC_MAX_STEPS 256 /* a block is at most ~20 instructions + HLT */

/* ------------------------------------------------------------------ outcomes */

typedef struct outcome {
    bool done;                /* ran to the end of the block */
    int exc;                  /* exception vector, -1 if none */
    char err[200];            /* engine failure: unsupported, API error */
    uint64_t gpr[16], rip, rflags;
    uint8_t data[DG_DATA_SIZE];
    uint8_t stack[DG_STACK_SIZE];
} outcome;

/* ------------------------------------------------------------------ ringcore */

typedef struct rc_side {
    rc_cpu *cpu;
    unsigned mode;
} rc_side;

/* Privilege level of every ringcore run (issue 4: ordinary instructions at
 * CPL 3, as the native judge runs them). */
#define DIFF_CPL 3u
#define DIFF_RPL 3u
#define P16_CODE_LIMIT 0xffffu /* the 16-bit leg's code segment: base DG_CODE, 64 KiB */
#define VEC_GP 13 /* SDM Vol. 3A 6.15 "Interrupt 13 - General Protection Exception" */

static rc_segment flat_seg(uint16_t sel, bool code, bool long64)
{
    /* SDM Vol. 3A 3.4.5: type 0xB = code execute/read accessed, 0x3 = data
     * read/write accessed; S=1, present, 4 GiB limit with G=1. CS.L=1 with
     * D=0 is 64-bit code (3.4.5 "L"); D/B=1 otherwise (32-bit). */
    /* The cases run at CPL 3 (issue 4 item 5): DPL 3 segments with RPL 3
     * selectors, so the loaded state is one a ring-3 program really has
     * (SDM Vol. 3A 5.5: CPL = CS.RPL = CS.DPL for a nonconforming segment). */
    rc_segment s = { .selector = (uint16_t)(sel | DIFF_RPL), .base = 0, .limit = 0xffffffffu,
                     .type = code ? 0xB : 0x3, .s = 1, .dpl = DIFF_CPL, .present = 1,
                     .l = long64, .db = !long64, .g = 1 };
    return s;
}

/* Identity map [DG_BASE, DG_BASE + 2 MiB) with 4 KiB pages (SDM Vol. 3A
 * 4.5, Figure 4-8): PML4[0] -> PDPT, PDPT[1] -> PD (1 GiB * 1 = DG_BASE),
 * PD[0] -> PT, PT[i] -> DG_BASE + i * 4 KiB; P|RW on every level. */
static rc_status build_page_tables(rc_cpu *cpu)
{
    /* SDM Vol. 3A 4.6.1: a user-mode access needs U/S = 1 at every level. */
    enum { P = 1, RW = 2, US = 4 };
    uint64_t pml4 = DG_PT, pdpt = DG_PT + 0x1000, pd = DG_PT + 0x2000, pt = DG_PT + 0x3000;
    uint64_t e;
    rc_status st;
    e = pdpt | P | RW | US;
    if ((st = rc_write_phys(cpu, pml4 + 8 * ((DG_BASE >> 39) & 511), &e, 8)))
        return st;
    e = pd | P | RW | US;
    if ((st = rc_write_phys(cpu, pdpt + 8 * ((DG_BASE >> 30) & 511), &e, 8)))
        return st;
    e = pt | P | RW | US;
    if ((st = rc_write_phys(cpu, pd + 8 * ((DG_BASE >> 21) & 511), &e, 8)))
        return st;
    for (uint64_t i = 0; i < 512; i++) {
        e = (DG_BASE + i * 0x1000) | P | RW | US;
        if ((st = rc_write_phys(cpu, pt + 8 * i, &e, 8)))
            return st;
    }
    return RC_OK;
}

static bool rc_side_open(rc_side *s, unsigned mode, char *why, size_t whylen)
{
    const uint64_t CR0_PE = 1, CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_PG = 1ull << 31;
    const uint64_t CR4_PAE = 1u << 5, EFER_LME = 1u << 8, EFER_LMA = 1u << 10;
    rc_config cfg = RC_CONFIG_INIT;
    cfg.vendor = RC_VENDOR_AMD; /* the host CPU, the third judge, is an AMD EPYC */
    rc_status st;
    s->mode = mode;
    if ((st = rc_create(&cfg, &s->cpu)) != RC_OK) {
        snprintf(why, whylen, "rc_create failed (status %d): the library is not there yet", st);
        return false;
    }
#define TRYRC(call)                                                                                \
    do {                                                                                           \
        if ((st = (call)) != RC_OK) {                                                              \
            snprintf(why, whylen, "%s failed: status %d", #call, st);                              \
            return false;                                                                          \
        }                                                                                          \
    } while (0)
    TRYRC(rc_map_ram(s->cpu, DG_BASE, DG_RAM_SIZE, NULL, 0));
    TRYRC(rc_set_intercept(s->cpu, 0xffffffffu)); /* every exception ends the run */
    rc_segment cs = flat_seg(0x08, true, mode == 8), ds = flat_seg(0x10, false, false);
    if (mode == 2) {
        /* SDM Vol. 3A 3.4.5: a 16-bit code segment (D = 0, byte granular)
         * whose base is the block, as the native judge's LDT segment. */
        cs.base = DG_CODE;
        cs.limit = P16_CODE_LIMIT;
        cs.db = 0;
        cs.g = 0;
    }
    /* The 16-bit leg's FS (to_prot16): data at DG_DATA, byte-granular limit. */
    rc_segment fs = ds;
    if (mode == 2) {
        fs.selector = 0x0f; /* LDT index 1, RPL 3, as the native judge loads it */
        fs.base = DG_DATA;
        fs.limit = DG_DATA_SIZE - 1;
        fs.g = 0;
        fs.db = 0;
    }
    if (mode == 8) {
        TRYRC(build_page_tables(s->cpu));
        /* SDM Vol. 3A 10.8.5: long mode = EFER.LME + CR4.PAE + CR0.PG (LMA set) */
        TRYRC(rc_set_reg(s->cpu, RC_REG_EFER, EFER_LME | EFER_LMA));
        TRYRC(rc_set_reg(s->cpu, RC_REG_CR4, CR4_PAE));
        TRYRC(rc_set_reg(s->cpu, RC_REG_CR3, DG_PT));
        TRYRC(rc_set_reg(s->cpu, RC_REG_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_PG));
    } else {
        TRYRC(rc_set_reg(s->cpu, RC_REG_CR0, CR0_PE | CR0_ET | CR0_NE));
    }
    TRYRC(rc_set_seg(s->cpu, RC_SEG_CS, &cs));
    TRYRC(rc_set_seg(s->cpu, RC_SEG_DS, &ds));
    TRYRC(rc_set_seg(s->cpu, RC_SEG_ES, &ds));
    TRYRC(rc_set_seg(s->cpu, RC_SEG_SS, &ds));
    TRYRC(rc_set_seg(s->cpu, RC_SEG_FS, &fs));
    TRYRC(rc_set_seg(s->cpu, RC_SEG_GS, &ds));
    TRYRC(rc_set_reg(s->cpu, RC_REG_CPL, DIFF_CPL));
    rc_mode want = mode == 8 ? RC_MODE_LONG64 : mode == 2 ? RC_MODE_PROT16 : RC_MODE_PROT32;
    if (rc_get_mode(s->cpu) != want) {
        snprintf(why, whylen, "ringcore reports mode %d, expected %d", rc_get_mode(s->cpu), want);
        return false;
    }
#undef TRYRC
    return true;
}

static void rc_side_run(rc_side *s, const dg_case *c, const uint8_t *data, const uint8_t *stack,
                        outcome *o)
{
    uint8_t code[DG_MAX_CODE + 1];
    rc_exit ex;
    rc_status st;
    unsigned n = s->mode == 8 ? 16 : 8;
    const uint64_t ip0 = s->mode == 2 ? 0 : DG_CODE; /* 16-bit leg: CS.base = DG_CODE */
    memset(o, 0, offsetof(outcome, data));
    o->exc = -1;
    memcpy(code, c->code, c->len);
    code[c->len] = 0xF4; /* HLT ends the block: RC_EXIT_HLT at CPL 0, #GP(0) at CPL 3 */
    if ((st = rc_write_phys(s->cpu, DG_CODE, code, c->len + 1)) ||
        (st = rc_write_phys(s->cpu, DG_DATA, data, DG_DATA_SIZE)) ||
        (st = rc_write_phys(s->cpu, DG_STACK, stack, DG_STACK_SIZE))) {
        snprintf(o->err, sizeof o->err, "rc_write_phys: status %d", st);
        return;
    }
    for (unsigned i = 0; i < 16; i++)
        rc_set_reg(s->cpu, (rc_reg)(RC_REG_RAX + i), i < n ? c->gpr[i] : 0);
    rc_set_reg(s->cpu, RC_REG_RIP, ip0);
    rc_set_reg(s->cpu, RC_REG_RFLAGS, c->rflags);
    memset(&ex, 0, sizeof ex);
    st = rc_run(s->cpu, RC_MAX_STEPS, &ex);
    if (st != RC_OK) {
        snprintf(o->err, sizeof o->err, "rc_run: status %d", st);
        return;
    }
    for (unsigned i = 0; i < 16; i++)
        rc_get_reg(s->cpu, (rc_reg)(RC_REG_RAX + i), &o->gpr[i]);
    rc_get_reg(s->cpu, RC_REG_RIP, &o->rip);
    rc_get_reg(s->cpu, RC_REG_RFLAGS, &o->rflags);
    rc_read_phys(s->cpu, DG_DATA, o->data, DG_DATA_SIZE);
    rc_read_phys(s->cpu, DG_STACK, o->stack, DG_STACK_SIZE);
    switch (ex.reason) {
    case RC_EXIT_HLT:
        if (o->rip != ip0 + c->len + 1)
            snprintf(o->err, sizeof o->err, "HLT reached at RIP %#" PRIx64 ", not the block's end",
                     o->rip - 1);
        o->rip -= 1; /* report the HLT's own address, where Unicorn stops */
        o->done = true;
        break;
    case RC_EXIT_EXCEPTION:
        /* SDM Vol. 2A "HLT": #GP(0) if the current privilege level is not 0.
         * At CPL 3 the end marker is that #GP(0), raised at the HLT itself
         * (the fault RIP is the HLT's address, where Unicorn stops too). */
        if (DIFF_CPL != 0 && ex.u.exception.vector == VEC_GP && ex.u.exception.error_code == 0 &&
            ex.u.exception.cpl == DIFF_CPL &&
            ex.u.exception.rip == ip0 + c->len) {
            o->rip = ip0 + c->len;
            o->done = true;
            break;
        }
        o->exc = ex.u.exception.vector;
        o->rip = ex.u.exception.rip;
        break;
    case RC_EXIT_UNSUPPORTED:
        snprintf(o->err, sizeof o->err, "unsupported: %s",
                 ex.u.unsupported.what ? ex.u.unsupported.what : "(no text)");
        break;
    default:
        snprintf(o->err, sizeof o->err, "exit %s (%d)",
                 rc_exit_reason_name(ex.reason) ? rc_exit_reason_name(ex.reason) : "?", ex.reason);
        break;
    }
}

/* ------------------------------------------------------------------ Unicorn */

typedef struct uc_side {
    uc_engine *uc;
    unsigned mode;
    uint8_t *mem;             /* DG_EMU_SIZE bytes at DG_BASE */
    int intno;
    uint64_t steps;
} uc_side;

static const int uc_regs64[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
static const int uc_regs32[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};

/* Unicorn 2.0.1 ends uc_emu_start with UC_ERR_OK, RIP at the instruction
 * and nothing changed, without calling the UC_HOOK_INTR hook, when a
 * divide raises #DE (observed; see docs/unicorn-divergences.md). */
#define UC_STOPPED 0x100

static void uc_on_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    uc_side *s = opaque;
    s->intno = (int)intno;
    uc_emu_stop(uc);
}

static void uc_on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc, (void)addr, (void)size;
    ((uc_side *)opaque)->steps++;
}

static bool uc_side_open(uc_side *s, unsigned mode, char *why, size_t whylen)
{
    uc_err e;
    uc_hook h1, h2;
    s->mode = mode;
    s->mem = aligned_alloc(4096, DG_EMU_SIZE);
    if (!s->mem) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    if ((e = uc_open(UC_ARCH_X86, mode == 8 ? UC_MODE_64 : UC_MODE_32, &s->uc)) ||
        (e = uc_mem_map_ptr(s->uc, DG_BASE, DG_EMU_SIZE, UC_PROT_ALL, s->mem)) ||
        (e = uc_hook_add(s->uc, &h1, UC_HOOK_INTR, (void *)uc_on_intr, s, 1, 0)) ||
        (e = uc_hook_add(s->uc, &h2, UC_HOOK_CODE, (void *)uc_on_code, s, 1, 0))) {
        snprintf(why, whylen, "Unicorn setup: %s", uc_strerror(e));
        return false;
    }
    return true;
}

static void uc_side_close(uc_side *s)
{
    if (s->uc)
        uc_close(s->uc);
    free(s->mem);
}

static void uc_side_run(uc_side *s, const dg_case *c, const uint8_t *data, const uint8_t *stack,
                        outcome *o)
{
    memset(o, 0, offsetof(outcome, data));
    o->exc = -1;
    memcpy(s->mem + (DG_CODE - DG_BASE), c->code, c->len);
    s->mem[DG_CODE - DG_BASE + c->len] = 0xF4;
    memcpy(s->mem + (DG_DATA - DG_BASE), data, DG_DATA_SIZE);
    memcpy(s->mem + (DG_STACK - DG_BASE), stack, DG_STACK_SIZE);
    /* the same address gets new bytes every case: drop translated blocks */
    uc_ctl_remove_cache(s->uc, DG_CODE, DG_CODE + DG_MAX_CODE);
    for (unsigned i = 0; i < (s->mode == 8 ? 16u : 8u); i++) {
        uint64_t v = c->gpr[i];
        uc_reg_write(s->uc, s->mode == 8 ? uc_regs64[i] : uc_regs32[i], &v);
    }
    uint64_t pc = DG_CODE, fl = c->rflags;
    uc_reg_write(s->uc, s->mode == 8 ? UC_X86_REG_RIP : UC_X86_REG_EIP, &pc);
    uc_reg_write(s->uc, UC_X86_REG_EFLAGS, &fl);
    s->intno = -1;
    uc_err e = uc_emu_start(s->uc, DG_CODE, DG_CODE + c->len, 0, 0);
    for (unsigned i = 0; i < 16; i++) {
        uint64_t v = 0;
        if (s->mode == 8 || i < 8)
            uc_reg_read(s->uc, s->mode == 8 ? uc_regs64[i] : uc_regs32[i], &v);
        o->gpr[i] = s->mode == 8 ? v : v & 0xffffffffull;
    }
    uint64_t rip = 0, f = 0;
    uc_reg_read(s->uc, s->mode == 8 ? UC_X86_REG_RIP : UC_X86_REG_EIP, &rip);
    uc_reg_read(s->uc, UC_X86_REG_EFLAGS, &f);
    o->rip = s->mode == 8 ? rip : rip & 0xffffffffull;
    o->rflags = f & 0xffffffffull;
    memcpy(o->data, s->mem + (DG_DATA - DG_BASE), DG_DATA_SIZE);
    memcpy(o->stack, s->mem + (DG_STACK - DG_BASE), DG_STACK_SIZE);
    if (s->intno >= 0)
        o->exc = s->intno;
    else if (e != UC_ERR_OK)
        snprintf(o->err, sizeof o->err, "uc_emu_start: %s", uc_strerror(e));
    else if (o->rip != DG_CODE + c->len)
        o->exc = UC_STOPPED; /* stopped at a faulting instruction without telling */
    else
        o->done = true;
}

/* ------------------------------------------------------------------ native (host CPU, ring 3) */

#define NAT_CODE (DG_BASE + DG_EMU_SIZE) /* RWX page: prologue, block, epilogue */
#define NAT_STATE (NAT_CODE + 0x1000)    /* nat_state, at a fixed low address */
#define NAT_MAP_SIZE (DG_EMU_SIZE + 0x2000)

typedef struct nat_state {
    uint64_t in[16], in_flags;
    uint64_t out[16], out_flags;
    uint64_t host_rsp;
    uint64_t far_to32;        /* m16:32 far pointer: offset, then selector */
} nat_state;

/* Linux x86-64 GDT: __USER32_CS, __USER_DS, __USER_CS (arch/x86/include/asm/segment.h) */
#define LINUX_USER32_CS 0x23
#define LINUX_USER_DS 0x2b
#define LINUX_USER_CS 0x33

typedef struct nat_side {
    bool ok;
    char why[160];
    stack_t alt;
} nat_side;

static sigjmp_buf nat_jmp; /* test-process only: the signal handler's way back */

static void nat_on_signal(int sig)
{
    siglongjmp(nat_jmp, sig);
}

/* mov r64, [abs32] (REX.W 8B /r, ModRM mod=00 rm=100, SIB base=101 no index) */
static unsigned nat_load(uint8_t *p, unsigned r, uint64_t addr)
{
    uint32_t a = (uint32_t)addr;
    p[0] = (uint8_t)(0x48 | (r >= 8 ? 4 : 0));
    p[1] = 0x8B;
    p[2] = (uint8_t)(((r & 7) << 3) | 4);
    p[3] = 0x25;
    memcpy(p + 4, &a, 4);
    return 8;
}

/* mov [abs32], r64 (REX.W 89 /r) */
static unsigned nat_store(uint8_t *p, unsigned r, uint64_t addr)
{
    unsigned n = nat_load(p, r, addr);
    p[1] = 0x89;
    return n;
}

static bool nat_open(nat_side *n)
{
    void *m = mmap((void *)DG_BASE, NAT_MAP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m == MAP_FAILED || m != (void *)DG_BASE) {
        snprintf(n->why, sizeof n->why, "cannot map RWX memory at %#llx: native judge off",
                 (unsigned long long)DG_BASE);
        if (m != MAP_FAILED)
            munmap(m, NAT_MAP_SIZE);
        return n->ok = false;
    }
    n->alt.ss_sp = malloc(1 << 16);
    n->alt.ss_size = 1 << 16;
    n->alt.ss_flags = 0;
    sigaltstack(&n->alt, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nat_on_signal;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);
    return n->ok = true;
}

static void nat_close(nat_side *n)
{
    if (!n->ok)
        return;
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    free(n->alt.ss_sp);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGTRAP, SIG_DFL);
    munmap((void *)DG_BASE, NAT_MAP_SIZE);
    n->ok = false;
}

/* Run the block at ring 3 of this process: load all 16 GPRs and the
 * status flags from nat_state, run, store them back. Returns false if the
 * block raised a signal. */
static bool nat_run(const dg_case *c, const uint8_t *data, const uint8_t *stack, outcome *o)
{
    volatile nat_state *st = (nat_state *)NAT_STATE;
    uint8_t *p = (uint8_t *)NAT_CODE;
    /* push rbx, rbp, r12-r15; mov eax, __USER_DS; mov ds, eax; mov es, eax (compat
     * mode needs usable DS/ES; 64-bit code ignores them) */
    static const uint8_t push_callee[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57,
                                           0xB8, LINUX_USER_DS, 0, 0, 0, 0x8E, 0xD8, 0x8E, 0xC0 };
    static const uint8_t pop_callee[] = { 0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B, 0xC3 };
    unsigned n = 0;
    memcpy(p + n, push_callee, sizeof push_callee);
    n += sizeof push_callee;
    n += nat_store(p + n, 4, NAT_STATE + offsetof(nat_state, host_rsp));
    /* push qword [in_flags]; popfq  (FF /6, 9D) */
    uint32_t a = (uint32_t)(NAT_STATE + offsetof(nat_state, in_flags));
    p[n++] = 0xFF, p[n++] = 0x34, p[n++] = 0x25;
    memcpy(p + n, &a, 4), n += 4;
    p[n++] = 0x9D;
    for (unsigned r = 0; r < 16; r++)
        if (r != 4)
            n += nat_load(p + n, r, NAT_STATE + offsetof(nat_state, in) + 8 * r);
    n += nat_load(p + n, 4, NAT_STATE + offsetof(nat_state, in) + 8 * 4);
    if (c->mode == 4) {
        /* 32-bit cases run in compatibility mode: jmp far [far_to32]
         * (FF /5, m16:32) to Linux's 32-bit user code segment, the block,
         * then jmp far 0x33:back (EA ptr16:32) to the 64-bit one. */
        uint32_t fp = (uint32_t)(NAT_STATE + offsetof(nat_state, far_to32));
        p[n++] = 0xFF, p[n++] = 0x2C, p[n++] = 0x25;
        memcpy(p + n, &fp, 4), n += 4;
        st->far_to32 = (uint32_t)(NAT_CODE + n) | ((uint64_t)LINUX_USER32_CS << 32);
    }
    memcpy(p + n, c->code, c->len);
    n += c->len;
    if (c->mode == 4) {
        uint32_t back = (uint32_t)(NAT_CODE + n + 7);
        uint16_t sel = LINUX_USER_CS;
        p[n++] = 0xEA;
        memcpy(p + n, &back, 4), n += 4;
        memcpy(p + n, &sel, 2), n += 2;
    }
    for (unsigned r = 0; r < 16; r++)
        n += nat_store(p + n, r, NAT_STATE + offsetof(nat_state, out) + 8 * r);
    n += nat_load(p + n, 4, NAT_STATE + offsetof(nat_state, host_rsp));
    /* pushfq; pop qword [out_flags]  (9C, 8F /0) */
    a = (uint32_t)(NAT_STATE + offsetof(nat_state, out_flags));
    p[n++] = 0x9C;
    p[n++] = 0x8F, p[n++] = 0x04, p[n++] = 0x25;
    memcpy(p + n, &a, 4), n += 4;
    memcpy(p + n, pop_callee, sizeof pop_callee);
    n += sizeof pop_callee;
    __builtin___clear_cache((char *)p, (char *)p + n);

    for (unsigned r = 0; r < 16; r++)
        st->in[r] = c->gpr[r];
    st->in_flags = c->rflags; /* status bits + bit 1; TF, DF, AC clear */
    memcpy((void *)DG_DATA, data, DG_DATA_SIZE);
    memcpy((void *)DG_STACK, stack, DG_STACK_SIZE);
    memset(o, 0, offsetof(outcome, data));
    o->exc = -1;
    int sig = sigsetjmp(nat_jmp, 1);
    if (sig != 0) {
        if (sig == SIGFPE) {
            o->exc = 0; /* Linux sends SIGFPE for #DE */
            o->rip = DG_CODE; /* DIV cases are single instructions */
        }
        else
            snprintf(o->err, sizeof o->err, "native: signal %d", sig);
        return false;
    }
    ((void (*)(void))(uintptr_t)NAT_CODE)();
    for (unsigned r = 0; r < 16; r++)
        o->gpr[r] = st->out[r];
    o->rflags = st->out_flags;
    o->rip = DG_CODE + c->len; /* not observable natively: fall-through is the only exit */
    memcpy(o->data, (void *)DG_DATA, DG_DATA_SIZE);
    memcpy(o->stack, (void *)DG_STACK, DG_STACK_SIZE);
    o->done = true;
    return true;
}

/* ------------------------------------------------------------------ comparison */

typedef struct family_stats {
    const char *name;
    uint64_t cases;
    uint64_t masked[12];      /* per flag bit: rc != uc on an undefined flag */
    uint64_t nat_rc[12];      /* ... and native agreed with ringcore */
    uint64_t nat_uc[12];      /* ... and native agreed with Unicorn */
    uint64_t uc_wrong;        /* defined-state mismatch where native sided with ringcore */
    uint64_t exceptions;      /* cases that raised #DE */
    uint64_t unexplained;     /* failures */
    char first_failure[120];  /* the first failure's end state, in words */
    const char *uc_wrong_example;
} family_stats;

typedef struct run_stats {
    family_stats fam[MAX_FAMILIES];
    unsigned nfam;
    uint64_t insns[2];        /* [0] 64-bit, [1] 32-bit */
    uint64_t unexplained, masked_total, explained, native_runs, native_disagree, native_faults;
    uint64_t de_checked;
    unsigned reports;
    csh cs64, cs32;
} run_stats;

static family_stats *fam_get(run_stats *rs, const char *name)
{
    for (unsigned i = 0; i < rs->nfam; i++)
        if (strcmp(rs->fam[i].name, name) == 0)
            return &rs->fam[i];
    if (rs->nfam == MAX_FAMILIES)
        return &rs->fam[MAX_FAMILIES - 1];
    rs->fam[rs->nfam].name = name;
    return &rs->fam[rs->nfam++];
}

/* Differences in the compared state, flags outside 'flag_mask' ignored.
 * Returns a bitmask: bits 0-15 GPRs, 16 RIP, 17 flags, 18 data, 19 stack,
 * 20 exception/termination. */
#define D_RIP (1u << 16)
#define D_FLAGS (1u << 17)
#define D_DATA (1u << 18)
#define D_STACK (1u << 19)
#define D_END (1u << 20)
static uint32_t differ(unsigned mode, const outcome *a, const outcome *b, uint32_t flag_mask,
                       bool check_rip)
{
    uint32_t d = 0;
    uint64_t m = mode == 8 ? ~0ull : 0xffffffffull;
    if (a->done != b->done || a->exc != b->exc || a->err[0] || b->err[0])
        d |= D_END;
    for (unsigned i = 0; i < (mode == 8 ? 16u : 8u); i++)
        if ((a->gpr[i] ^ b->gpr[i]) & m)
            d |= 1u << i;
    if (check_rip && a->done && b->done && a->rip != b->rip)
        d |= D_RIP;
    if ((a->rflags ^ b->rflags) & flag_mask)
        d |= D_FLAGS;
    if (memcmp(a->data, b->data, DG_DATA_SIZE) != 0)
        d |= D_DATA;
    if (memcmp(a->stack, b->stack, DG_STACK_SIZE) != 0)
        d |= D_STACK;
    return d;
}

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                           "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };

static void print_flags(const char *who, uint64_t f)
{
    printf("%s=%#06" PRIx64 " [", who, f & DG_STATUS);
    for (unsigned b = 0; b < 12; b++)
        if ((DG_STATUS >> b) & 1)
            printf("%s%s", (f >> b) & 1 ? "" : "-", dg_flag_name(b));
    printf("] ");
}

static void first_mem_diff(const char *what, const uint8_t *a, const uint8_t *b, size_t n,
                           uint64_t base)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            size_t lo = i & ~7ul;
            printf("    %s differs first at %#" PRIx64 ": ringcore", what, base + i);
            for (size_t k = lo; k < lo + 8 && k < n; k++)
                printf(" %02x", a[k]);
            printf(" | unicorn");
            for (size_t k = lo; k < lo + 8 && k < n; k++)
                printf(" %02x", b[k]);
            printf("\n");
            return;
        }
}

static void report(run_stats *rs, const dg_case *c, const outcome *r, const outcome *u,
                   const outcome *nat, uint32_t d, const char *verdict)
{
    if (rs->reports++ >= MAX_REPORTS)
        return;
    printf("MISMATCH (%s) %s-bit, family %s: bytes", verdict, c->mode == 8 ? "64" : "32", c->family);
    for (unsigned i = 0; i < c->len; i++)
        printf(" %02x", c->code[i]);
    printf("\n");
    cs_insn *insn;
    size_t cnt = cs_disasm(c->mode == 8 ? rs->cs64 : rs->cs32, c->code, c->len, DG_CODE, 0, &insn);
    for (size_t i = 0; i < cnt; i++)
        printf("    %#" PRIx64 ": %s %s\n", insn[i].address, insn[i].mnemonic, insn[i].op_str);
    if (cnt)
        cs_free(insn, cnt);
    printf("    input:");
    for (unsigned i = 0; i < (c->mode == 8 ? 16u : 8u); i++)
        printf(" %s=%#" PRIx64, gpr_names[i], c->gpr[i]);
    printf("\n    ");
    print_flags("input flags", c->rflags);
    printf(" undefined-by-SDM mask=%#x\n", c->undef);
    if (r->err[0] || u->err[0] || (d & D_END))
        printf("    end: ringcore done=%d exc=%d err='%s' | unicorn done=%d exc=%d err='%s'\n", r->done,
               r->exc, r->err, u->done, u->exc, u->err);
    for (unsigned i = 0; i < 16; i++)
        if (d & (1u << i))
            printf("    %s: ringcore=%#" PRIx64 " unicorn=%#" PRIx64 " native=%s%#" PRIx64 "\n",
                   gpr_names[i], r->gpr[i], u->gpr[i], nat ? "" : "(n/a)", nat ? nat->gpr[i] : 0);
    if (d & D_RIP)
        printf("    rip: ringcore=%#" PRIx64 " unicorn=%#" PRIx64 "\n", r->rip, u->rip);
    if (d & D_FLAGS) {
        printf("    ");
        print_flags("ringcore", r->rflags);
        print_flags("unicorn", u->rflags);
        if (nat)
            print_flags("native", nat->rflags);
        printf("\n");
    }
    if (d & D_DATA)
        first_mem_diff("data", r->data, u->data, DG_DATA_SIZE, DG_DATA);
    if (d & D_STACK)
        first_mem_diff("stack", r->stack, u->stack, DG_STACK_SIZE, DG_STACK);
}

/* Count masked undefined flags that differ, and who native sides with. */
static void count_masked(run_stats *rs, family_stats *fs, const dg_case *c, const outcome *r,
                         const outcome *u, const outcome *nat)
{
    uint32_t diff = (uint32_t)(r->rflags ^ u->rflags) & c->undef & DG_STATUS;
    for (unsigned b = 0; b < 12; b++) {
        if (!((diff >> b) & 1))
            continue;
        fs->masked[b]++;
        rs->masked_total++;
        if (nat) {
            if (((nat->rflags ^ r->rflags) >> b & 1) == 0)
                fs->nat_rc[b]++;
            else
                fs->nat_uc[b]++;
        }
    }
}

static void note_failure(family_stats *fs, const dg_case *c, const outcome *r, const outcome *u)
{
    if (fs->unexplained++ == 0) {
        int n = snprintf(fs->first_failure, sizeof fs->first_failure, "%s-bit:",
                         c->mode == 8 ? "64" : "32");
        for (unsigned i = 0; i < c->len && i < 12 && n < 60; i++)
            n += snprintf(fs->first_failure + n, sizeof fs->first_failure - (size_t)n, " %02x",
                          c->code[i]);
        snprintf(fs->first_failure + n, sizeof fs->first_failure - (size_t)n, "%s%s%s",
                 r->err[0] ? " ringcore " : "", r->err, u->err[0] ? " (unicorn failed)" : "");
    }
}

/* A case where someone raised an exception. The only exception the
 * generator produces is #DE, and only when the SDM's DIV/IDIV pseudo-code
 * says so (c->expect_de). Then ringcore must raise #DE at the instruction
 * with nothing changed, and Unicorn must stop there too (it does not
 * report the vector: UC_STOPPED) or the host CPU must raise it (SIGFPE). */
static void judge_exception(run_stats *rs, family_stats *fs, const dg_case *c, const outcome *r,
                            const outcome *u, const outcome *nat)
{
    bool rc_de = r->exc == RC_EXC_DE && r->rip == DG_CODE && !r->err[0];
    bool uc_de = (u->exc == RC_EXC_DE || u->exc == UC_STOPPED) && u->rip == DG_CODE;
    bool nat_de = nat && nat->exc == RC_EXC_DE;
    uint32_t d = differ(c->mode, r, u, 0, false) & ~D_END;
    fs->exceptions++;
    if (c->expect_de && rc_de && (uc_de || nat_de) && (!nat || nat_de) && d == 0) {
        rs->de_checked++;
        return;
    }
    rs->unexplained++;
    note_failure(fs, c, r, u);
    report(rs, c, r, u, nat, d | D_END,
           c->expect_de ? "SDM pseudo-code says #DE" : "SDM pseudo-code says no exception");
}

static void run_mode(run_stats *rs, unsigned mode, uint64_t seed, uint64_t target, nat_side *nat)
{
    static outcome ro, uo, no;
    static uint8_t data[DG_DATA_SIZE], stack[DG_STACK_SIZE];
    char why[200];
    rc_side rcs = { 0 };
    uc_side ucs = { 0 };
    ck_assert_msg(uc_side_open(&ucs, mode, why, sizeof why), "%s", why);
    ck_assert_msg(rc_side_open(&rcs, mode, why, sizeof why), "%s", why);
    dg_rng rng = { seed ^ (mode == 8 ? 0 : 0x3232323232323232ull) };
    dg_case c;
    uint64_t *count = &rs->insns[mode == 8 ? 0 : 1];
    while (*count < target) {
        dg_generate(&rng, mode, &c, data, stack);
        family_stats *fs = fam_get(rs, c.family);
        fs->cases++;
        ucs.steps = 0;
        rc_side_run(&rcs, &c, data, stack, &ro);
        uc_side_run(&ucs, &c, data, stack, &uo);
        *count += ucs.steps ? ucs.steps : c.ninsn;
        const outcome *np = NULL;
        if (nat->ok && c.native_ok) {
            rs->native_runs++;
            if (nat_run(&c, data, stack, &no) || no.exc >= 0)
                np = &no;
            else
                rs->native_faults++;
        }
        uint32_t mask = DG_STATUS & ~c.undef;
        if (c.expect_de || ro.exc >= 0 || uo.exc >= 0) {
            judge_exception(rs, fs, &c, &ro, &uo, np);
            continue;
        }
        uint32_t d = differ(mode, &ro, &uo, mask, true);
        if (np && (differ(mode, &ro, np, mask, false) | differ(mode, &uo, np, mask, false)))
            rs->native_disagree++;
        if (d == 0) {
            count_masked(rs, fs, &c, &ro, &uo, np);
            continue;
        }
        if (np && differ(mode, &ro, np, mask, false) == 0 && !(d & D_END)) {
            /* the host CPU agrees with ringcore on everything compared */
            rs->explained++;
            fs->uc_wrong++;
            report(rs, &c, &ro, &uo, np, d, "explained: native agrees with ringcore");
            continue;
        }
        rs->unexplained++;
        note_failure(fs, &c, &ro, &uo);
        report(rs, &c, &ro, &uo, np, d,
               np ? (differ(mode, &uo, np, mask, false) == 0 ? "native agrees with Unicorn"
                                                             : "native differs from both")
                  : "no native judge");
    }
    uc_side_close(&ucs);
    rc_destroy(rcs.cpu);
}

static void print_family_table(const run_stats *rs)
{
    printf("cases per instruction family:");
    for (unsigned i = 0; i < rs->nfam; i++)
        printf("%s %s %" PRIu64, i % 10 ? "," : "\n ", rs->fam[i].name, rs->fam[i].cases);
    printf("\n");
    printf("per instruction: masked undefined flags (ringcore != Unicorn) per flag and who the "
           "host CPU agrees with; failures:\n");
    for (unsigned i = 0; i < rs->nfam; i++) {
        const family_stats *f = &rs->fam[i];
        bool any = false;
        for (unsigned b = 0; b < 12; b++)
            any |= f->masked[b] != 0;
        if (!any && !f->uc_wrong && !f->unexplained)
            continue;
        printf("  %-10s (%6" PRIu64 " cases):", f->name, f->cases);
        for (unsigned b = 0; b < 12; b++)
            if (f->masked[b])
                printf(" %s %" PRIu64 " (native=rc %" PRIu64 ", native=uc %" PRIu64 ")",
                       dg_flag_name(b), f->masked[b], f->nat_rc[b], f->nat_uc[b]);
        if (f->uc_wrong)
            printf(" | Unicorn wrong on defined state %" PRIu64 "x", f->uc_wrong);
        if (f->unexplained)
            printf(" | FAILED %" PRIu64 "x, first: %s", f->unexplained, f->first_failure);
        printf("\n");
    }
}

/* ------------------------------------------------------------------ 16-bit protected mode */

/* The 16-bit leg runs the generator's 32-bit blocks in a 16-bit code
 * segment (CS.D = 0) at CPL 3. The canonical conversion toggles each
 * instruction's operand- and address-size prefixes: SDM Vol. 1 3.6 / Vol. 2A
 * 2.1.1, Table 3-4: in a D = 0 segment 66 selects 32-bit operands and 67
 * 32-bit addresses, so "66 67 insn" there does what "insn" does in a D = 1
 * segment (and an insn that had 66 loses it). So that the 16-bit forms are
 * exercised too, about half of the instructions that allow it are varied:
 *   - 16-bit operand size (no 66) for a 32-bit instruction, when the bytes
 *     still decode to an instruction of the same length in 16-bit mode (so
 *     not when an imm32 shrinks);
 *   - 16-bit addressing (the 67 toggle undone: ModRM in the 16-bit forms of
 *     SDM Vol. 2A 2.1.5 Table 2-1, [BX+SI], [BP+DI+disp8], ...), for an
 *     instruction with a memory operand and no segment prefix, with an FS
 *     prefix added: FS is a 16-bit-addressable data segment at DG_DATA,
 *     limit DG_DATA_SIZE - 1, so an offset beyond it is #GP(0) (SDM Vol. 3A
 *     5.3) and one inside it lands in the compared data area; the offsets
 *     wrap at 64 KiB (Vol. 1 3.7.5: 16-bit effective addresses). Not for
 *     string instructions (their ES:DI cannot be redirected) nor branches.
 * Branch displacements are rewritten for the new offsets. Judges: ringcore
 * and the host CPU (16-bit LDT code and data segments via modify_ldt, run by
 * the native server). Unicorn does not judge this leg: its UC_MODE_16 is
 * real mode (no descriptors, no CS.D = 0 protected-mode segment), so it
 * cannot run the same state. */
static bool p16_is_prefix(uint8_t b)
{
    return b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x2E ||
           b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65;
}

static bool p16_is_seg_prefix(uint8_t b)
{
    return b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65;
}

typedef struct p16_conv {
    csh cs32, cs16;     /* cs16 with CS_OPT_DETAIL: memory operands */
    uint64_t op16, addr16; /* instructions varied, for the report */
} p16_conv;

/* The bytes of one converted instruction: its prefixes without 66/67, then
 * 66/67 as wanted, FS for 16-bit addressing, then the rest. */
static unsigned p16_build(const uint8_t *b, unsigned p, unsigned len, bool w66, bool w67, bool fs,
                          uint8_t *nb)
{
    unsigned k = 0;
    for (unsigned q = 0; q < p; q++)
        if (b[q] != 0x66 && b[q] != 0x67)
            nb[k++] = b[q];
    if (w66)
        nb[k++] = 0x66;
    if (w67)
        nb[k++] = 0x67;
    if (fs)
        nb[k++] = 0x64;
    for (unsigned q = p; q < len; q++)
        nb[k++] = b[q];
    return k;
}

/* Whether nb[0..k) decodes in 16-bit mode as one instruction of k bytes
 * (and, for want_mem, one with a memory operand). */
static bool p16_decodes(p16_conv *pc, const uint8_t *nb, unsigned k, bool want_mem)
{
    cs_insn *i16 = NULL;
    bool ok = cs_disasm(pc->cs16, nb, k, 0, 1, &i16) == 1 && i16->size == k;
    if (ok && want_mem) {
        ok = false;
        for (unsigned o = 0; i16->detail && o < i16->detail->x86.op_count; o++)
            ok |= i16->detail->x86.operands[o].type == X86_OP_MEM;
    }
    if (i16)
        cs_free(i16, 1);
    return ok;
}

static bool p16_is_branch_or_string(const cs_insn *in)
{
    for (unsigned g = 0; in->detail && g < in->detail->groups_count; g++) {
        uint8_t gr = in->detail->groups[g];
        if (gr == CS_GRP_JUMP || gr == CS_GRP_CALL || gr == CS_GRP_RET ||
            gr == CS_GRP_BRANCH_RELATIVE)
            return true;
    }
    /* MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS (SDM Vol. 1 7.3.9) */
    const uint8_t *op = in->bytes;
    while (op < in->bytes + in->size && p16_is_prefix(*op))
        op++;
    return (*op >= 0xA4 && *op <= 0xA7) || (*op >= 0xAA && *op <= 0xAF) ||
           (*op >= 0x6C && *op <= 0x6F);
}

static bool to_prot16(p16_conv *pc, dg_rng *rng, const dg_case *in, dg_case *out)
{
    cs_insn *insn = NULL;
    size_t n = cs_disasm(pc->cs32, in->code, in->len, 0, 0, &insn);
    unsigned oldoff[DG_MAX_CODE + 1], newoff[DG_MAX_CODE + 1], size_new[DG_MAX_CODE];
    unsigned opc_new[DG_MAX_CODE], tot = 0, o = 0;
    uint64_t op16 = 0, addr16 = 0;
    bool ok = n > 0;
    *out = *in;
    out->mode = 2;
    for (size_t i = 0; ok && i < n; i++) {
        const uint8_t *b = in->code + o;
        unsigned len = insn[i].size, p = 0;
        bool has66 = false, has67 = false, seg = false;
        uint8_t nb[24];
        while (p < len && p16_is_prefix(b[p])) {
            has66 |= b[p] == 0x66;
            has67 |= b[p] == 0x67;
            seg |= p16_is_seg_prefix(b[p]);
            p++;
        }
        unsigned k = p16_build(b, p, len, !has66, !has67, false, nb), pick = dg_below(rng, 4);
        bool fixed = p16_is_branch_or_string(&insn[i]), final66 = !has66;
        /* pick 1: 16-bit operands; 2: 16-bit addressing; 3: both; 0: canonical */
        if (!fixed && pick) {
            uint8_t vb[24];
            /* Only towards 16 bits: widening an operand that had 66 would give
             * the random upper register halves a role the generator did not
             * bound (a BT bit offset reaching beyond the data area). */
            bool v66 = (pick & 1) && !has66, v67 = (pick & 2) && !has67 && !seg;
            if (v66 || v67) {
                unsigned vk = p16_build(b, p, len, !has66 && !v66, !has67 && !v67, v67, vb);
                if (vk <= 15 && p16_decodes(pc, vb, vk, v67)) {
                    memcpy(nb, vb, vk);
                    k = vk;
                    final66 = !has66 && !v66;
                    addr16 += v67;
                }
            }
        }
        op16 += !final66;
        /* where the opcode starts: after the prefixes (and the added ones) */
        unsigned q = 0;
        while (q < k && p16_is_prefix(nb[q]))
            q++;
        opc_new[i] = q;
        if (tot + k > DG_MAX_CODE || k > 15) {
            ok = false;
            break;
        }
        memcpy(out->code + tot, nb, k);
        oldoff[i] = o;
        newoff[i] = tot;
        size_new[i] = k;
        o += len;
        tot += k;
    }
    if (ok && o != in->len)
        ok = false;
    if (ok) {
        oldoff[n] = o;
        newoff[n] = tot;
        pc->op16 += op16;
        pc->addr16 += addr16;
    }
    /* Fix relative branches: Jcc rel8 (70-7F), JMP rel8 (EB), Jcc rel32 (0F 80-8F), JMP rel32 (E9). */
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t *nb = out->code + newoff[i];
        unsigned p = opc_new[i];
        int width = 0;
        int64_t rel = 0;
        if ((nb[p] >= 0x70 && nb[p] <= 0x7F) || nb[p] == 0xEB) {
            width = 1;
            rel = (int8_t)nb[p + 1];
        } else if (nb[p] == 0xE9 || (nb[p] == 0x0F && nb[p + 1] >= 0x80 && nb[p + 1] <= 0x8F)) {
            width = 4;
            int32_t r32;
            memcpy(&r32, nb + size_new[i] - 4, 4);
            rel = r32;
        }
        if (!width)
            continue;
        int64_t target = (int64_t)oldoff[i] + insn[i].size + rel;
        size_t j = 0;
        while (j <= n && (int64_t)oldoff[j] != target)
            j++;
        if (j > n) {
            ok = false;
            break;
        }
        int64_t nrel = (int64_t)newoff[j] - (int64_t)(newoff[i] + size_new[i]);
        if (width == 1) {
            if (nrel < -128 || nrel > 127)
                ok = false;
            else
                nb[p + 1] = (uint8_t)(int8_t)nrel;
        } else {
            int32_t r32 = (int32_t)nrel;
            memcpy(nb + size_new[i] - 4, &r32, 4);
        }
    }
    if (insn)
        cs_free(insn, n);
    out->len = tot;
    return ok;
}

/* Run a 16-bit case on the host CPU: one RWX region holding code, data and
 * stack at their guest addresses, CS = a 16-bit LDT code segment based at
 * the block (the same segment ringcore gets), SS = DS = ES = 0x2b (flat). */
static bool p16_native(rc_native_server *srv, const dg_case *c, const uint8_t *data,
                       const uint8_t *stack, outcome *o, bool *refused)
{
    static uint8_t image[DG_EMU_SIZE], back[DG_EMU_SIZE];
    static rc_native_case nc;
    static rc_native_result r;
    char err[200];
    memset(image, 0, sizeof image);
    memcpy(image + (DG_CODE - DG_BASE), c->code, c->len);
    memcpy(image + (DG_DATA - DG_BASE), data, DG_DATA_SIZE);
    memcpy(image + (DG_STACK - DG_BASE), stack, DG_STACK_SIZE);
    rc_native_case_init(&nc, RC_NATIVE_PROT16);
    rc_native_ldt e = { .index = 0, .base = (uint32_t)DG_CODE, .limit = P16_CODE_LIMIT,
                        .code = true };
    rc_native_add_ldt(&nc, &e);
    nc.cs = RC_NATIVE_LDT_SEL(0);
    /* FS: the 16-bit-addressable data segment of to_prot16 (writable data) */
    rc_native_ldt d = { .index = 1, .base = (uint32_t)DG_DATA, .limit = DG_DATA_SIZE - 1 };
    rc_native_add_ldt(&nc, &d);
    nc.fs = RC_NATIVE_LDT_SEL(1);
    rc_native_add_region(&nc, DG_BASE, DG_EMU_SIZE, image, DG_EMU_SIZE,
                         PROT_READ | PROT_WRITE | PROT_EXEC, back);
    nc.code = c->code;
    nc.code_len = c->len;
    nc.code_addr = DG_CODE;
    for (unsigned i = 0; i < 8; i++)
        nc.gpr[i] = c->gpr[i];
    nc.rflags = c->rflags | 0x202;
    *refused = false;
    memset(o, 0, offsetof(outcome, data));
    o->exc = -1;
    if (rc_native_server_run(srv, &nc, &r, err, sizeof err) != 0) {
        snprintf(o->err, sizeof o->err, "native: %.180s", err);
        return false;
    }
    if (r.end == RC_NATIVE_END_REFUSED) {
        *refused = true;
        return false;
    }
    for (unsigned i = 0; i < 16; i++)
        o->gpr[i] = r.gpr[i];
    o->rip = r.rip;
    o->rflags = r.rflags;
    memcpy(o->data, back + (DG_DATA - DG_BASE), DG_DATA_SIZE);
    memcpy(o->stack, back + (DG_STACK - DG_BASE), DG_STACK_SIZE);
    if (r.end == RC_NATIVE_END_MARKER)
        o->done = true;
    else if (r.end == RC_NATIVE_END_FAULT)
        o->exc = r.vector;
    else
        snprintf(o->err, sizeof o->err, "native: end %s (%.150s)", rc_native_end_name(r.end),
                 r.why ? r.why : "");
    return true;
}

typedef struct p16_stats {
    uint64_t insns, cases, skipped, refused, de, unexplained, masked;
} p16_stats;

static void p16_report(const dg_case *c, const outcome *r, const outcome *n, uint32_t d)
{
    printf("MISMATCH (ringcore vs host CPU) prot16 CPL 3, family %s: bytes", c->family);
    for (unsigned i = 0; i < c->len; i++)
        printf(" %02x", c->code[i]);
    printf("\n    input:");
    for (unsigned i = 0; i < 8; i++)
        printf(" %s=%#" PRIx64, gpr_names[i], c->gpr[i]);
    printf(" rflags=%#" PRIx64 "\n", c->rflags);
    printf("    ringcore: done=%d exc=%d rip=%#" PRIx64 " err=%s | native: done=%d exc=%d rip=%#"
           PRIx64 " err=%s\n", r->done, r->exc, r->rip, r->err, n->done, n->exc, n->rip, n->err);
    for (unsigned i = 0; i < 8; i++)
        if (d & (1u << i))
            printf("    %s: ringcore=%#" PRIx64 " native=%#" PRIx64 "\n", gpr_names[i],
                   r->gpr[i], n->gpr[i]);
    if (d & D_FLAGS) {
        print_flags("ringcore", r->rflags);
        print_flags("native", n->rflags);
    }
    if (d & D_DATA)
        first_mem_diff("data", r->data, n->data, DG_DATA_SIZE, DG_DATA);
    if (d & D_STACK)
        first_mem_diff("stack", r->stack, n->stack, DG_STACK_SIZE, DG_STACK);
}

static void run_prot16(p16_stats *ps, p16_conv *pc, uint64_t seed, uint64_t target)
{
    static outcome ro, no;
    static uint8_t data[DG_DATA_SIZE], stack[DG_STACK_SIZE];
    char why[200];
    const char *nwhy = NULL;
    if (!rc_native_available(&nwhy)) {
        printf("diff-unicorn: prot16 leg SKIP: no native judge (%s)\n", nwhy ? nwhy : "?");
        return;
    }
    rc_native_server *srv = rc_native_server_open(why, sizeof why);
    if (!srv) {
        printf("diff-unicorn: prot16 leg SKIP: native server: %s\n", why);
        return;
    }
    rc_side rcs = { 0 };
    ck_assert_msg(rc_side_open(&rcs, 2, why, sizeof why), "%s", why);
    dg_rng rng = { seed ^ 0x1616161616161616ull };
    dg_case g, c;
    unsigned reports = 0;
    while (ps->insns < target) {
        dg_generate(&rng, 4, &g, data, stack);
        if (!g.native_ok || !to_prot16(pc, &rng, &g, &c)) {
            ps->skipped++;
            continue;
        }
        bool refused;
        rc_side_run(&rcs, &c, data, stack, &ro);
        if (!p16_native(srv, &c, data, stack, &no, &refused)) {
            ps->refused++;
            ck_assert_msg(refused, "prot16: %s", no.err);
            continue;
        }
        ps->cases++;
        ps->insns += c.ninsn;
        uint32_t mask = DG_STATUS & ~c.undef;
        uint32_t d = differ(4, &ro, &no, mask, true);
        if (d == 0) {
            if (ro.exc == 0)
                ps->de++;
            if ((ro.rflags ^ no.rflags) & c.undef & DG_STATUS)
                ps->masked++;
            continue;
        }
        ps->unexplained++;
        if (reports++ < MAX_REPORTS)
            p16_report(&c, &ro, &no, d);
    }
    rc_destroy(rcs.cpu);
    rc_native_server_close(srv);
}

START_TEST(diff_unicorn)
{
    const char *s = getenv("RC_DIFF_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
    bool quick = getenv("RC_QUICK") && atoi(getenv("RC_QUICK")) != 0;
    uint64_t t64 = quick ? TARGET_64 / 10 : TARGET_64, t32 = quick ? TARGET_32 / 10 : TARGET_32;
    if (getenv("RC_DIFF_INSNS")) /* per mode, for long hunts */
        t64 = t32 = strtoull(getenv("RC_DIFF_INSNS"), NULL, 0);
    printf("diff-unicorn: seed %#" PRIx64 " (RC_DIFF_SEED overrides)%s\n", seed,
           quick ? ", RC_QUICK: reduced count" : "");

    /* The library must be able to run: if it cannot, the test fails. */
    rc_cpu *probe = NULL;
    rc_config cfg = RC_CONFIG_INIT;
    ck_assert_msg(rc_create(&cfg, &probe) == RC_OK, "diff-unicorn: rc_create fails");
    rc_destroy(probe);
    /* ringcore must run a HLT from RAM in both modes. */
    for (unsigned mode = 8; mode >= 4; mode -= 4) {
        char why[200];
        rc_side ps = { 0 };
        dg_case hc;
        memset(&hc, 0, sizeof hc);
        hc.mode = mode;
        hc.rflags = DG_FIXED1;
        static outcome po;
        static uint8_t z[DG_DATA_SIZE > DG_STACK_SIZE ? DG_DATA_SIZE : DG_STACK_SIZE];
        bool opened = rc_side_open(&ps, mode, why, sizeof why);
        if (opened)
            rc_side_run(&ps, &hc, z, z, &po);
        if (ps.cpu)
            rc_destroy(ps.cpu);
        ck_assert_msg(opened && po.done && !po.err[0],
                      "diff-unicorn: ringcore cannot run a HLT in %d-bit mode (%s)",
                      mode == 8 ? 64 : 32, opened ? po.err : why);
    }

    static run_stats rs;
    memset(&rs, 0, sizeof rs);
    cs_open(CS_ARCH_X86, CS_MODE_64, &rs.cs64);
    cs_open(CS_ARCH_X86, CS_MODE_32, &rs.cs32);
    nat_side nat = { 0 };
    if (!nat_open(&nat))
        printf("diff-unicorn: %s\n", nat.why);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_mode(&rs, 8, seed, t64, &nat);
    run_mode(&rs, 4, seed, t32, &nat);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    nat_close(&nat);
    static p16_stats p16;
    memset(&p16, 0, sizeof p16);
    uint64_t t16 = quick ? TARGET_16 / 10 : TARGET_16;
    if (getenv("RC_DIFF_INSNS"))
        t16 = strtoull(getenv("RC_DIFF_INSNS"), NULL, 0);
    if (getenv("RC_DIFF_P16_INSNS")) /* the 16-bit leg alone (RC_DIFF_INSNS=0 skips the others) */
        t16 = strtoull(getenv("RC_DIFF_P16_INSNS"), NULL, 0);
    struct timespec t2;
    static p16_conv pc;
    memset(&pc, 0, sizeof pc);
    pc.cs32 = rs.cs32;
    cs_open(CS_ARCH_X86, CS_MODE_16, &pc.cs16);
    cs_option(pc.cs16, CS_OPT_DETAIL, CS_OPT_ON);
    cs_option(pc.cs32, CS_OPT_DETAIL, CS_OPT_ON); /* groups: branches */
    run_prot16(&p16, &pc, seed, t16);
    cs_option(pc.cs32, CS_OPT_DETAIL, CS_OPT_OFF);
    cs_close(&pc.cs16);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    print_family_table(&rs);
    printf("diff-unicorn: prot16 CPL 3 (ringcore vs the host CPU; Unicorn cannot run 16-bit "
           "protected mode): %" PRIu64 " instructions in %" PRIu64 " blocks, %" PRIu64
           " unexplained mismatches, %" PRIu64 " #DE agreed, %" PRIu64 " masked-flag differences, "
           "%" PRIu64 " refused by the native runner, %" PRIu64 " not convertible; %" PRIu64
           " instructions with 16-bit operands, %" PRIu64 " with 16-bit addressing (%.1f s)\n",
           p16.insns, p16.cases, p16.unexplained, p16.de, p16.masked, p16.refused, p16.skipped,
           pc.op16, pc.addr16,
           (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
    printf("diff-unicorn: native judge ran %" PRIu64 " blocks (%" PRIu64 " faulted unexpectedly); "
           "%" PRIu64 " where the host CPU differs from an emulator on defined state\n",
           rs.native_runs, rs.native_faults, rs.native_disagree);
    printf("diff-unicorn: %" PRIu64 " #DE cases raised as the SDM pseudo-code predicts\n",
           rs.de_checked);
    printf("diff-unicorn: %" PRIu64 " explained mismatches (Unicorn wrong, the host CPU agrees "
           "with ringcore)\n", rs.explained);
    printf("diff-unicorn: %" PRIu64 " instructions compared (64-bit: %" PRIu64 ", 32-bit: %" PRIu64
           "), %" PRIu64 " unexplained mismatches, %" PRIu64 " masked undefined flags (%.1f s)\n",
           rs.insns[0] + rs.insns[1], rs.insns[0], rs.insns[1], rs.unexplained, rs.masked_total,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    fflush(stdout);
    cs_close(&rs.cs64);
    cs_close(&rs.cs32);
    ck_assert_uint_ge(rs.insns[0] + rs.insns[1], t64 + t32);
    ck_assert_msg(rs.unexplained == 0, "%" PRIu64 " unexplained mismatches (first %d printed)",
                  rs.unexplained, MAX_REPORTS);
    ck_assert_msg(p16.unexplained == 0, "prot16: %" PRIu64 " mismatches (first %d printed)",
                  p16.unexplained, MAX_REPORTS);
}
END_TEST

#else /* !RC_HAVE_UNICORN */

START_TEST(diff_unicorn)
{
    printf("diff-unicorn: SKIP: built without Unicorn (libunicorn-dev not found)\n");
}
END_TEST

#endif

int main(void)
{
    Suite *s = suite_create("diff_unicorn");
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, diff_unicorn);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* the native judge maps fixed addresses */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

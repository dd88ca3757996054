/*
 * vb_ringcore.c - the ringcore backend: the vector's scenario runs on the
 * library with every exception delivered through the standard machine's
 * IDT; the run ends at the first delivery (the state right after it, the
 * frame on the handler's stack), at HLT, or at shutdown.
 */
#include <stdio.h>
#include <string.h>

#include "lib/scenario.h"
#include "lib/vbackend.h"

#define EFER_LMA (1ull << 10)
#define CR0_PE 1ull
#define OP_INT_N 0xcd

typedef struct run_state {
    bool delivered;
    rc_transition_kind kind;
    unsigned vector;
    unsigned old_cpl, new_cpl;
    uint8_t opcode;        /* first opcode byte of the instruction being run */
} run_state;

static rc_hook_action on_transition(void *opaque, rc_cpu *cpu, const rc_transition *t)
{
    (void)cpu;
    run_state *s = opaque;
    if (t->kind != RC_TR_EXCEPTION && t->kind != RC_TR_INT)
        return RC_HOOK_CONTINUE;
    s->delivered = true;
    s->kind = t->kind;
    s->vector = t->gate;
    s->old_cpl = t->old_cpl;
    s->new_cpl = t->new_cpl;
    return RC_HOOK_STOP;
}

/* SDM Vol. 3A 6.3.1 Table 6-1: the exceptions that push an error code. */
static bool pushes_error_code(unsigned v)
{
    return v == RC_EXC_DF || (v >= RC_EXC_TS && v <= RC_EXC_PF) || v == RC_EXC_AC || v == 21 ||
           v == 29 || v == 30;
}

/* The opcode byte after legacy prefixes (and REX in 64-bit code). */
static uint8_t first_opcode(rc_cpu *cpu)
{
    rc_segment cs;
    uint64_t rip;
    uint8_t b[15];
    if (rc_get_seg(cpu, RC_SEG_CS, &cs) != RC_OK || rc_get_reg(cpu, RC_REG_RIP, &rip) != RC_OK)
        return 0;
    uint64_t lin = cs.base + rip;
    size_t got = 0;
    while (got < sizeof b && rc_read_linear(cpu, lin + got, b + got, 1) == RC_OK)
        got++;
    for (size_t i = 0; i < got; i++) {
        uint8_t x = b[i];
        bool prefix = x == 0x66 || x == 0x67 || x == 0xf0 || x == 0xf2 || x == 0xf3 ||
                      x == 0x2e || x == 0x36 || x == 0x3e || x == 0x26 || x == 0x64 || x == 0x65 ||
                      (cs.l && (x & 0xf0) == 0x40);
        if (!prefix)
            return x;
    }
    return 0;
}

static uint64_t rd(rc_cpu *cpu, uint64_t lin, unsigned size)
{
    uint8_t b[8] = { 0 };
    rc_read_linear(cpu, lin, b, size);
    uint64_t v = 0;
    for (int i = (int)size - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

/* The frame as pushed: SDM Vol. 3A 6.12.1 Figure 6-4 (legacy), 6.14.2
 * Figure 6-9 (IA-32e: always SS:RSP, 8-byte slots); real mode 21.1.4
 * (FLAGS, CS, IP: 2-byte slots). */
static void read_frame(rc_cpu *cpu, const run_state *s, rcv_result *r)
{
    uint64_t efer = 0, cr0 = 0, rsp = 0;
    rc_get_reg(cpu, RC_REG_EFER, &efer);
    rc_get_reg(cpu, RC_REG_CR0, &cr0);
    rc_get_reg(cpu, RC_REG_RSP, &rsp);
    rc_segment ss;
    rc_get_seg(cpu, RC_SEG_SS, &ss);
    bool real = !(cr0 & CR0_PE);
    unsigned slot = 4;
    if (efer & EFER_LMA) {
        slot = 8;
    } else if (real) {
        slot = 2;
    } else {
        rc_dtable idtr;
        uint8_t b[8] = { 0 };
        if (rc_get_idtr(cpu, &idtr) == RC_OK &&
            rc_read_linear(cpu, idtr.base + 8ull * s->vector, b, 8) == RC_OK &&
            ((b[5] & 0xf) == 6 || (b[5] & 0xf) == 7))
            slot = 2; /* 16-bit interrupt/trap gate */
    }
    uint64_t base = ss.base, off = rsp;
    uint64_t mask = slot == 8 ? ~0ull : slot == 4 ? 0xffffffffull : 0xffffull;
    uint64_t smask = slot == 8 ? ~0ull : ss.db ? 0xffffffffull : 0xffffull; /* SS.B: ESP or SP */
    r->has_error_code = s->kind == RC_TR_EXCEPTION && !real && pushes_error_code(s->vector);
    if (r->has_error_code) {
        r->error_code = (uint32_t)rd(cpu, base + (off & smask), slot > 4 ? 4 : slot);
        off += slot;
    }
    uint64_t *dst[5] = { &r->frame_rip, &r->frame_cs, &r->frame_rflags, &r->frame_rsp,
                         &r->frame_ss };
    unsigned n = (slot == 8 || s->old_cpl != s->new_cpl) && !real ? 5 : 3;
    for (unsigned i = 0; i < n; i++, off += slot) {
        *dst[i] = rd(cpu, base + (off & smask), slot) & mask;
        if (i == 1 || i == 4)
            *dst[i] &= 0xffff; /* selector slots: only the low 16 bits are defined */
    }
    r->frame_mask = n == 5 ? 0x1f : RCV_FR_RIP | RCV_FR_CS | RCV_FR_RFLAGS;
}

static int rd_mem(void *ctx, uint64_t linear, void *buf, size_t len)
{
    return rc_read_linear(ctx, linear, buf, len) == RC_OK ? 0 : -1;
}

static int rd_msr(void *ctx, uint32_t index, uint64_t *value)
{
    return rc_get_msr(ctx, index, value) == RC_OK ? 0 : -1;
}

static void capture(rc_cpu *cpu, rcv_result *r)
{
    for (unsigned i = 0; i < RC_REG_COUNT; i++)
        if (rc_get_reg(cpu, (rc_reg)i, &r->reg[i]) == RC_OK)
            r->reg_valid |= 1ull << i;
    for (unsigned i = 0; i < RC_SEG_COUNT; i++)
        if (rc_get_seg(cpu, (rc_seg_reg)i, &r->seg[i]) == RC_OK)
            r->seg_valid |= 1u << i;
    r->read_mem = rd_mem;
    r->read_msr = rd_msr;
    r->ctx = cpu;
}

static int run(const rcv_vector *v, rcv_result *r, char *err, size_t n)
{
    memset(r, 0, sizeof *r);
    r->vector = -1;
    rc_cpu *cpu;
    if (rcv_scenario_build(v, &cpu, err, n))
        return -1;
    run_state s;
    memset(&s, 0, sizeof s);
    rc_hooks h;
    memset(&h, 0, sizeof h);
    h.opaque = &s;
    h.transition_after = on_transition;
    rc_set_hooks(cpu, &h);
    rc_set_intercept(cpu, 0);
    r->end = RCV_END_LIMIT;
    for (uint64_t i = 0; i < v->max_insns; i++) {
        s.opcode = first_opcode(cpu);
        rc_exit ex;
        memset(&ex, 0, sizeof ex);
        if (rc_run(cpu, 1, &ex) != RC_OK) {
            r->end = RCV_END_ERROR;
            snprintf(r->what, sizeof r->what, "rc_run failed");
            break;
        }
        r->icount += ex.icount;
        if (s.delivered) {
            /* INT3, INTO and INT1 raise exceptions #BP, #OF, #DB (SDM Vol. 2A
             * "INT n/INTO/INT3/INT1"); only INT n imm8 is a software interrupt. */
            r->end = s.kind == RC_TR_INT && s.opcode == OP_INT_N ? RCV_END_INT
                                                                   : RCV_END_EXCEPTION;
            r->vector = (int)s.vector;
            read_frame(cpu, &s, r);
            break;
        }
        if (ex.reason == RC_EXIT_LIMIT || ex.reason == RC_EXIT_NONE)
            continue;
        if (ex.reason == RC_EXIT_HLT) {
            r->end = RCV_END_HLT;
        } else if (ex.reason == RC_EXIT_SHUTDOWN) {
            r->end = RCV_END_SHUTDOWN;
        } else if (ex.reason == RC_EXIT_UNSUPPORTED) {
            r->end = RCV_END_UNSUPPORTED;
            snprintf(r->what, sizeof r->what, "ringcore does not implement: %s",
                     ex.u.unsupported.what ? ex.u.unsupported.what : "?");
        } else {
            r->end = RCV_END_ERROR;
            snprintf(r->what, sizeof r->what, "unexpected exit %d (port I/O, MMIO or hook)",
                     (int)ex.reason);
        }
        break;
    }
    if (r->end == RCV_END_LIMIT)
        snprintf(r->what, sizeof r->what, "no end within %llu instructions",
                 (unsigned long long)v->max_insns);
    rc_set_hooks(cpu, NULL);
    capture(cpu, r);
    return 0;
}

static void release(rcv_result *r)
{
    if (r->ctx)
        rc_destroy(r->ctx);
    r->ctx = NULL;
}

static const char *source(void) { return "ringcore"; }

static bool can_judge(const rcv_vector *v, char *why, size_t n)
{
    (void)v;
    (void)why;
    (void)n;
    return true;
}

const rcv_backend rcv_backend_ringcore = { "ringcore", source, can_judge, run, release };

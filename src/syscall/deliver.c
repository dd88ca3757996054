/*
 * deliver.c - delivery of exceptions and interrupts through the IVT/IDT.
 *
 * Sources: SDM Vol. 3A chapter 6 (6.4 sources, 6.12 handler calls, 6.13
 * error code, 6.14 64-bit mode, 6.15 Tables 6-4/6-5 double faults), SDM
 * Vol. 3A 20.1.4 (real-address mode), SDM Vol. 2A "INT n/INTO/INT3/INT1"
 * pseudo-code, AMD APM Vol. 2 chapter 8 (8.7 legacy, 8.9 long mode).
 *
 * Every delivery is check -> build the new state (a "plan") -> commit:
 * table reads, descriptor checks, the TSS stack and every push address
 * (segment limit and page translation) are verified before anything is
 * written, so a fault midway leaves the CPU exactly as it was (QEMU's "point
 * of no return", /work/shared/EXAMPLES.md). A fault found while delivering
 * an exception or external event is a nested fault: rc_deliver_event applies
 * the classes of SDM 6.15 (double fault, then shutdown).
 */
#include <stdio.h>

#include "task.h"

/* ------------------------------------------------------------------ names */

static const char *const exc_short[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
    "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

static const char *const exc_reason[32] = {
    [RC_EXC_DE] = "divide error (#DE)",
    [RC_EXC_DB] = "debug exception (#DB)",
    [RC_EXC_NMI] = "non-maskable interrupt",
    [RC_EXC_BP] = "breakpoint (#BP)",
    [RC_EXC_OF] = "overflow (#OF)",
    [RC_EXC_BR] = "BOUND range exceeded (#BR)",
    [RC_EXC_UD] = "invalid opcode (#UD)",
    [RC_EXC_NM] = "device not available (#NM)",
    [RC_EXC_DF] = "double fault (#DF)",
    [RC_EXC_TS] = "invalid TSS (#TS)",
    [RC_EXC_NP] = "segment not present (#NP)",
    [RC_EXC_SS] = "stack-segment fault (#SS)",
    [RC_EXC_GP] = "general-protection exception (#GP)",
    [RC_EXC_PF] = "page fault (#PF)",
    [RC_EXC_MF] = "x87 floating-point error (#MF)",
    [RC_EXC_AC] = "alignment check (#AC)",
    [RC_EXC_MC] = "machine check (#MC)",
    [RC_EXC_XM] = "SIMD floating-point exception (#XM)",
};

#define RC_EXC_VE 20
#define RC_EXC_CP 21

/* ------------------------------------------------------------------ classes */

/* SDM Vol. 3A 6.15 Table 6-4: benign, contributory and page-fault classes.
 * #CP joined the contributory class and #VE the page-fault class in later
 * SDM editions; every interrupt (vector >= 32) is benign. */
typedef enum exc_class { EXC_BENIGN = 0, EXC_CONTRIBUTORY, EXC_PAGE_FAULT } exc_class;

static exc_class class_of(uint8_t v)
{
    switch (v) {
    case RC_EXC_DE: case RC_EXC_TS: case RC_EXC_NP: case RC_EXC_SS: case RC_EXC_GP:
    case RC_EXC_CP:
        return EXC_CONTRIBUTORY;
    case RC_EXC_PF: case RC_EXC_VE:
        return EXC_PAGE_FAULT;
    default:
        return EXC_BENIGN;
    }
}

/* SDM Vol. 3A 6.15 Table 6-5: which second exception, raised while the
 * first is being delivered, turns into #DF. */
static bool makes_double_fault(uint8_t first, uint8_t second)
{
    exc_class a = class_of(first), b = class_of(second);
    if (a == EXC_CONTRIBUTORY && b == EXC_CONTRIBUTORY)
        return true;
    return a == EXC_PAGE_FAULT && b != EXC_BENIGN;
}

/* SDM Vol. 3A 6.13: error codes in the selector format (EXT, IDT, TI,
 * index) are those of #TS, #NP, #SS and #GP. */
static bool selector_error_code(uint8_t v)
{
    return v == RC_EXC_TS || v == RC_EXC_NP || v == RC_EXC_SS || v == RC_EXC_GP;
}

/* SDM Vol. 3A 18.3.1.1 (17.3.1.1 in older editions): "for any fault-class
 * exception except a debug exception generated in response to an
 * instruction breakpoint, the value pushed for RF is 1". The fault-class
 * vectors are those of SDM 6.15 ("Exception Class: Fault"); #DB raised by
 * ringcore is a trap (single step), so it is not in the list. */
static bool is_fault_class(uint8_t v)
{
    switch (v) {
    case RC_EXC_DE: case RC_EXC_BR: case RC_EXC_UD: case RC_EXC_NM: case RC_EXC_TS:
    case RC_EXC_NP: case RC_EXC_SS: case RC_EXC_GP: case RC_EXC_PF: case RC_EXC_MF:
    case RC_EXC_AC: case RC_EXC_XM: case RC_EXC_VE: case RC_EXC_CP:
        return true;
    default:
        return false;
    }
}

/* SDM Vol. 3A 6.13: EXT is set for exceptions and external events (and
 * INT1), clear for INT n, INT3 and INTO. */
static bool event_ext(const rc_event *ev) { return ev->kind == RC_EV_HW || ev->kind == RC_EV_INT1; }

/* SDM Vol. 2A INT n: the gate-DPL check applies to INT n, INT3 and INTO,
 * "does not apply to INT1" (SDM Vol. 3A 6.12.1.1). */
static bool event_dpl_check(const rc_event *ev)
{
    return ev->kind == RC_EV_INT_N || ev->kind == RC_EV_SOFT_EXC;
}

static bool intercepted(const rc_cpu *cpu, uint8_t v)
{
    return v < 32 && ((cpu->intercept_mask >> v) & 1u);
}

static void vector_text(char *buf, size_t n, const rc_event *ev)
{
    if (ev->kind == RC_EV_INT_N)
        snprintf(buf, n, "INT 0x%02x", ev->vector);
    else if (ev->kind == RC_EV_INT1)
        snprintf(buf, n, "INT1");
    else if (ev->kind == RC_EV_SOFT_EXC)
        snprintf(buf, n, "%s", ev->vector == RC_EXC_BP ? "INT3" : "INTO");
    else if (ev->vector < 32 && ev->has_err)
        snprintf(buf, n, "exception %s(0x%x)", exc_short[ev->vector], ev->err);
    else if (ev->vector < 32)
        snprintf(buf, n, "exception %s", exc_short[ev->vector]);
    else
        snprintf(buf, n, "interrupt 0x%02x", ev->vector);
}

/* ------------------------------------------------------------------ exits */

static void exit_insn_bytes(rc_cpu *cpu, rc_exception_info *e)
{
    if (cpu->cur_insn && cpu->cur_insn->len) {
        e->insn_len = cpu->cur_insn->len;
        memcpy(e->insn, cpu->cur_insn->bytes, sizeof(e->insn));
        return;
    }
    /* Best effort and without side effects (no A bits, no faults). */
    uint64_t lin = e->rip;
    if (cpu->mode != RC_MODE_LONG64)
        lin = (cpu->seg[RC_SEG_CS].base + e->rip) & 0xffffffffull;
    e->insn_len = 0;
    for (unsigned i = 0; i < sizeof(e->insn); i++) {
        if (rc_read_linear(cpu, lin + i, &e->insn[i], 1) != RC_OK)
            break;
        e->insn_len = (uint8_t)(i + 1);
    }
}

/* An intercepted exception: the embedder decides. CR2 is not written (the
 * exit record carries it); RIP stays the one that would have been pushed. */
static void fill_exception_info(rc_cpu *cpu, rc_exception_info *e, uint8_t vector, bool has_err,
                                uint32_t err, uint64_t cr2, bool during, const char *reason)
{
    memset(e, 0, sizeof(*e));
    e->vector = vector;
    e->has_error_code = has_err;
    e->error_code = has_err ? err : 0;
    e->during_delivery = during;
    e->cpl = cpu->cpl;
    e->cr2 = vector == RC_EXC_PF ? cr2 : 0;
    e->rip = cpu->insn_rip;
    e->cs = cpu->seg[RC_SEG_CS].selector;
    exit_insn_bytes(cpu, e);
    e->reason = reason ? reason : (vector < 32 && exc_reason[vector] ? exc_reason[vector]
                                                                      : "exception");
}

static rc_fault exit_exception(rc_cpu *cpu, uint8_t vector, bool has_err, uint32_t err,
                               uint64_t cr2, bool during, const char *reason)
{
    rc_exit *x = &cpu->exit_pending;
    memset(x, 0, sizeof(*x));
    x->reason = RC_EXIT_EXCEPTION;
    rc_exception_info *e = &x->u.exception;
    fill_exception_info(cpu, e, vector, has_err, err, cr2, during, reason);
    if (cpu->hooks.exception)
        (void)cpu->hooks.exception(cpu->hooks.opaque, cpu, e);
    cpu->exit_restart = false;
    return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 };
}

static rc_fault exit_shutdown(rc_cpu *cpu)
{
    memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
    cpu->exit_pending.reason = RC_EXIT_SHUTDOWN;
    cpu->exit_restart = false;
    snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "triple fault: a fault while delivering #DF -> shutdown");
    return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 };
}

static rc_fault exit_hook(rc_cpu *cpu)
{
    memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
    cpu->exit_pending.reason = RC_EXIT_HOOK;
    cpu->exit_restart = false;
    return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 };
}

/* ------------------------------------------------------------------ hooks */

rc_fault rc_tr_before(rc_cpu *cpu, const rc_transition *t, bool restart, bool *skip,
                      bool *stop)
{
    *skip = false;
    *stop = false;
    if (!cpu->hooks.transition_before)
        return RC_NOFAULT;
    switch (rc_fire_transition(cpu, t, true)) {
    case RC_HOOK_VETO: {
        rc_fault x = exit_hook(cpu);
        cpu->exit_restart = restart;
        return x;
    }
    case RC_HOOK_REDIRECT:
        *skip = true;
        break;
    case RC_HOOK_STOP:
        *stop = true;
        break;
    default:
        break;
    }
    return RC_NOFAULT;
}

rc_fault rc_tr_after(rc_cpu *cpu, const rc_transition *t, bool stop)
{
    if (cpu->hooks.transition_after && rc_fire_transition(cpu, t, false) == RC_HOOK_STOP)
        stop = true;
    return stop ? exit_hook(cpu) : RC_NOFAULT;
}

rc_mode rc_mode_for(const rc_cpu *cpu, const rc_segment *cs, bool vm)
{
    if (!(cpu->cr0 & RC_CR0_PE))
        return RC_MODE_REAL;
    if (cpu->efer & RC_EFER_LMA)
        return cs->l ? RC_MODE_LONG64 : cs->db ? RC_MODE_COMPAT32 : RC_MODE_COMPAT16;
    if (vm)
        return RC_MODE_VM86;
    return cs->db ? RC_MODE_PROT32 : RC_MODE_PROT16;
}

/* ------------------------------------------------------------------ the frame */

#define FRAME_MAX 6

/* The values pushed by a delivery, in push order, and the stack they go
 * onto. item i lands at offset (sp - (i + 1) * size), wrapped to the
 * stack's address size. */
typedef struct frame {
    uint64_t val[FRAME_MAX];
    uint64_t lin[FRAME_MAX];
    unsigned n;
    uint8_t size;            /* bytes per item: 2, 4, 8 */
    uint8_t addr_size;       /* how the stack pointer wraps: 2, 4, 8 */
    bool flat64;             /* IA-32e frame: no segment checks, canonical instead */
    bool err_in_ss;          /* #SS carries an error code (not in real mode) */
    const rc_segment *ss;    /* segment for the limit checks (legacy) */
    uint64_t sp;             /* stack pointer before the pushes */
    uint32_t ss_err;         /* #SS error code: new SS selector, or 0 */
    unsigned acc;            /* RC_ACC_SUPERVISOR when the new CPL is < 3 */
} frame;

static void frame_push(frame *f, uint64_t v) { f->val[f->n++] = v & rc_size_mask(f->size); }

static uint64_t frame_final_sp(const frame *f)
{
    return (f->sp - (uint64_t)f->n * f->size) & rc_size_mask(f->addr_size);
}

/* SDM Vol. 3A 5.3 (limit checking, expand-down segments): may 'size' bytes
 * at offset 'off' of stack segment 'ss' be written? */
bool rc_stack_room(const rc_segment *ss, uint64_t off, unsigned size)
{
    uint64_t last = off + size - 1;
    if (ss->type & RC_SEGT_DC) {
        uint64_t upper = ss->db ? 0xffffffffull : 0xffffull;
        return off > ss->limit && last <= upper;
    }
    return last <= ss->limit;
}

static rc_fault frame_ss_fault(rc_cpu *cpu, const frame *f, const char *why)
{
    cpu->fault_reason = why;
    return f->err_in_ss ? rc_exc_err(RC_EXC_SS, f->ss_err) : rc_exc(RC_EXC_SS);
}

/* The stack checks of the pseudo-code ("IF new stack does not have room
 * ... THEN #SS"): segment limit (legacy) or canonical form (IA-32e). */
static rc_fault frame_check_limits(rc_cpu *cpu, frame *f)
{
    for (unsigned i = 0; i < f->n; i++) {
        uint64_t off = (f->sp - (uint64_t)(i + 1) * f->size) & rc_size_mask(f->addr_size);
        if (f->flat64) {
            /* SDM Vol. 3A 6.14.3 / INT n 64-bit: pushes in non-canonical
             * space -> #SS(0) (#SS(selector) on a stack switch, whose
             * selector is the null SS: the same error code). */
            if (!rc_is_canonical(off) || !rc_is_canonical(off + f->size - 1))
                return frame_ss_fault(cpu, f, "interrupt frame push at a non-canonical address");
            f->lin[i] = off;
        } else {
            if (!rc_stack_room(f->ss, off, f->size))
                return frame_ss_fault(cpu, f, "interrupt frame does not fit in the stack "
                                              "segment limit");
            f->lin[i] = (f->ss->base + off) & 0xffffffffull;
        }
    }
    return RC_NOFAULT;
}

/* Page checks of every push, before any is written (the pushes then cannot
 * fault). Translation sets accessed/dirty bits as the real pushes would. */
static rc_fault frame_check_pages(rc_cpu *cpu, const frame *f)
{
    if (!cpu->paging)
        return RC_NOFAULT;
    for (unsigned i = 0; i < f->n; i++) {
        uint64_t phys;
        uint64_t first = f->lin[i], last = f->lin[i] + f->size - 1;
        TRY(rc_translate(cpu, first, RC_ACC_WRITE | f->acc, &phys));
        if ((last & RC_PAGE_MASK) != (first & RC_PAGE_MASK))
            TRY(rc_translate(cpu, last, RC_ACC_WRITE | f->acc, &phys));
    }
    return RC_NOFAULT;
}

static rc_fault frame_write(rc_cpu *cpu, const frame *f)
{
    for (unsigned i = 0; i < f->n; i++) {
        rc_fault w = rc_lin_write(cpu, f->lin[i], f->size, RC_ACC_WRITE | f->acc, f->val[i]);
        if (RC_FAILED(w))
            return rc_unsupported(cpu, "an interrupt stack frame that cannot be written after "
                                       "its checks passed (MMIO stack without a callback?)");
    }
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ the plan */

typedef struct plan {
    frame fr;
    uint16_t cs_sel;          /* selector as named by the gate/IVT */
    rc_desc cs_desc;          /* protected mode: the target code descriptor */
    uint64_t rip;             /* new RIP */
    uint64_t rflags;          /* new RFLAGS */
    uint8_t new_cpl;
    bool real;                /* real-mode CS load (base = sel << 4) */
    bool switch_ss;           /* SS replaced */
    bool ss_null;             /* the new SS is null (IA-32e privilege change) */
    uint16_t ss_sel;
    rc_desc ss_desc;
    const char *gate_desc;    /* "32-bit interrupt gate", ... */
    uint8_t gate_dpl;
    const char *stack_src;    /* "TSS.ESP", "TSS.IST", ... + stack_n, or "current stack" */
    int stack_n;              /* the TSS slot's number, -1 for the current stack */
} plan;

/* The EFLAGS image pushed: the current flags, with RF set for fault-class
 * exceptions (SDM Vol. 3A 18.3.1.1). */
static uint64_t pushed_flags(rc_cpu *cpu, const rc_event *ev)
{
    uint64_t fl = rc_get_rflags(cpu);
    if (ev->kind == RC_EV_HW && is_fault_class(ev->vector))
        fl |= RC_FLAG_RF;
    return fl;
}

static const char *gate_name(unsigned type)
{
    switch (type) {
    case RC_DT_INTGATE16: return "16-bit interrupt gate";
    case RC_DT_TRAPGATE16: return "16-bit trap gate";
    case RC_DT_INTGATE: return "interrupt gate";
    case RC_DT_TRAPGATE: return "trap gate";
    default: return "gate";
    }
}

static void explain(rc_cpu *cpu, const rc_event *ev, const plan *p, const rc_transition *t)
{
    if (!rc_tr_explained(cpu))
        return;
    char what[40];
    vector_text(what, sizeof(what), ev);
    int w = cpu->code_size == 8 || t->new_mode == RC_MODE_LONG64 ? 16 : 8;
    if (p->real) {
        snprintf(cpu->transition_text, sizeof(cpu->transition_text),
                 "%s via IVT[%u] -> 0x%04x:0x%04llx (real mode), stack 0x%04x:0x%04llx -> "
                 "0x%04x:0x%04llx",
                 what, ev->vector, t->new_cs, (unsigned long long)t->new_rip, t->old_ss,
                 (unsigned long long)t->old_rsp, t->new_ss, (unsigned long long)t->new_rsp);
        return;
    }
    char src[24];
    if (p->stack_n >= 0)
        snprintf(src, sizeof src, "%s%d", p->stack_src, p->stack_n);
    else
        snprintf(src, sizeof src, "%s", p->stack_src);
    snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "%s via IDT[%u] (%s%s, DPL %u) -> 0x%02x:0x%0*llx, CPL %u->%u, stack 0x%02x:0x%llx "
             "-> 0x%02x:0x%llx (%s)",
             what, ev->vector, (cpu->efer & RC_EFER_LMA) ? "64-bit " :
             (p->gate_desc[0] == '1' ? "" : "32-bit "), p->gate_desc, p->gate_dpl, t->new_cs,
             w, (unsigned long long)t->new_rip, t->old_cpl, t->new_cpl, t->old_ss,
             (unsigned long long)t->old_rsp, t->new_ss, (unsigned long long)t->new_rsp, src);
}

/* The commit: everything has been checked. Hooks, pushes, accessed bits,
 * then the registers. */
void rc_tr_init(rc_cpu *cpu, rc_transition *t, rc_transition_kind kind)
{
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->old_cpl = cpu->cpl;
    t->old_mode = cpu->mode;
    t->old_cs = cpu->seg[RC_SEG_CS].selector;
    t->old_ss = cpu->seg[RC_SEG_SS].selector;
    t->old_rip = cpu->insn_rip;
    t->old_rsp = cpu->gpr[4];
    t->new_ss = t->old_ss;
    t->new_rsp = t->old_rsp;
    t->text = cpu->transition_text;
}

static rc_fault commit(rc_cpu *cpu, const rc_event *ev, plan *p)
{
    rc_transition t;
    rc_tr_init(cpu, &t, ev->kind == RC_EV_HW ? RC_TR_EXCEPTION : RC_TR_INT);
    t.new_cpl = p->new_cpl;
    t.old_rip = ev->ret_rip;
    t.new_rip = p->rip;
    t.gate = ev->vector;

    rc_segment cs;
    if (p->real) {
        cs = cpu->seg[RC_SEG_CS];
        cs.selector = p->cs_sel;
        cs.base = (uint64_t)p->cs_sel << 4;
    } else {
        rc_seg_from_desc(&cs, (uint16_t)((p->cs_sel & ~3u) | p->new_cpl), &p->cs_desc);
    }
    rc_segment ss = cpu->seg[RC_SEG_SS];
    if (p->switch_ss && p->ss_null) {
        /* SDM Vol. 3A 6.14.4: SS is loaded with a null selector whose RPL
         * is the new CPL; the descriptor is unusable. */
        memset(&ss, 0, sizeof(ss));
        ss.selector = p->new_cpl;
        ss.dpl = p->new_cpl;
        ss.unusable = 1;
    } else if (p->switch_ss) {
        rc_seg_from_desc(&ss, p->ss_sel, &p->ss_desc);
    }
    t.new_cs = cs.selector;
    t.new_ss = ss.selector;
    t.new_mode = rc_mode_for(cpu, &cs, (p->rflags & RC_FLAG_VM) != 0);
    uint64_t final_sp = frame_final_sp(&p->fr);
    /* The stack pointer by the width of the stack: a 16-bit SS changes only
     * SP (the upper bits stay, as Bochs does), a 32-bit one ESP. */
    uint64_t new_rsp = cpu->gpr[4];
    {
        unsigned sz = p->fr.addr_size;
        if (sz == 2)
            new_rsp = (new_rsp & ~0xffffull) | (final_sp & 0xffff);
        else if (sz == 4)
            new_rsp = final_sp & 0xffffffffull;
        else
            new_rsp = final_sp;
    }
    t.new_rsp = new_rsp;
    explain(cpu, ev, p, &t);

    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, ev->kind != RC_EV_HW, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    /* ---- point of no return: memory first, then registers ---- */
    TRY(frame_write(cpu, &p->fr));
    if (!p->real && !(p->cs_desc.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, p->cs_sel, &p->cs_desc));
    if (p->switch_ss && !p->ss_null && !(p->ss_desc.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, p->ss_sel, &p->ss_desc));

    if (ev->set_cr2 && ev->vector == RC_EXC_PF)
        cpu->cr2 = ev->cr2;
    cpu->seg[RC_SEG_CS] = cs;
    cpu->seg[RC_SEG_SS] = ss;
    cpu->gpr[4] = new_rsp;
    cpu->rip = p->rip;
    rc_set_rflags(cpu, p->rflags);
    cpu->cpl = p->new_cpl;
    cpu->inhibit_irq = 0; /* delivery ends any STI / MOV SS shadow */
    cpu->halted = false;
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

/* ------------------------------------------------------------------ real mode */

/* SDM Vol. 2A INT n REAL-ADDRESS-MODE, SDM Vol. 3A 20.1.4: 4-byte IVT
 * entries at IDTR.base + 4 * vector; push FLAGS, CS, IP (16-bit); clear IF,
 * TF, AC (and RF, as Bochs does); no error code is ever pushed. */
static rc_fault deliver_real(rc_cpu *cpu, const rc_event *ev, plan *p)
{
    FAULT_NOERR_IF(cpu, (uint32_t)ev->vector * 4 + 3 > cpu->idtr.limit, RC_EXC_GP,
                   "vector beyond the IVT limit (IDTR.limit)");
    uint64_t ent;
    TRY(rc_sys_read(cpu, (cpu->idtr.base + (uint64_t)ev->vector * 4) & 0xffffffffull, 4, &ent));

    frame *f = &p->fr;
    f->size = 2;
    f->addr_size = cpu->seg[RC_SEG_SS].db ? 4 : 2;
    f->ss = &cpu->seg[RC_SEG_SS];
    f->sp = cpu->gpr[4] & rc_size_mask(f->addr_size);
    f->err_in_ss = false;
    frame_push(f, pushed_flags(cpu, ev));
    frame_push(f, cpu->seg[RC_SEG_CS].selector);
    frame_push(f, ev->ret_rip);
    TRY(frame_check_limits(cpu, f));
    TRY(frame_check_pages(cpu, f));

    p->real = true;
    p->cs_sel = (uint16_t)(ent >> 16);
    p->rip = ent & 0xffff;
    p->new_cpl = 0;
    p->rflags = rc_get_rflags(cpu) & ~(uint64_t)(RC_FLAG_IF | RC_FLAG_TF | RC_FLAG_AC | RC_FLAG_RF);
    p->stack_src = "current stack", p->stack_n = -1;
    return commit(cpu, ev, p);
}

/* ------------------------------------------------------------------ protected mode */

/* An IDT gate, decoded by hand (SDM Vol. 3A 6.11 Figure 6-2, 6.14.1
 * Figure 6-8): offset, selector, type, DPL, P, IST. */
typedef struct gate {
    uint64_t off;
    uint16_t sel;
    uint8_t type, s, dpl, present, ist;
} gate;

static gate gate_decode(uint64_t lo, uint64_t hi, bool wide)
{
    gate g;
    g.off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull);
    if (wide)
        g.off |= (hi & 0xffffffffull) << 32;
    g.sel = (uint16_t)(lo >> 16);
    g.ist = (uint8_t)((lo >> 32) & 7);
    g.type = (uint8_t)((lo >> 40) & 0xf);
    g.s = (uint8_t)((lo >> 44) & 1);
    g.dpl = (uint8_t)((lo >> 45) & 3);
    g.present = (uint8_t)((lo >> 47) & 1);
    return g;
}

/* SDM Vol. 2A INT n / Vol. 3A 6.12.1.1: the gate checks common to legacy
 * and IA-32e mode, in the manual's order: type, DPL (software only),
 * present. 'idt_err' is the IDT error code vector * 8 + 2 (index = vector,
 * IDT bit set; SDM Vol. 3A 6.13 Figure 6-6) in every mode, EXT added by the
 * caller. */
static rc_fault check_gate(rc_cpu *cpu, const rc_event *ev, const gate *g, bool type_ok,
                           uint32_t idt_err)
{
    FAULT_IF(cpu, g->s || !type_ok, RC_EXC_GP, idt_err,
             "IDT entry is not an interrupt, trap or task gate of this mode");
    FAULT_IF(cpu, event_dpl_check(ev) && g->dpl < cpu->cpl, RC_EXC_GP, idt_err,
             "software interrupt through a gate whose DPL is below CPL");
    FAULT_IF(cpu, !g->present, RC_EXC_NP, idt_err, "IDT gate not present");
    return RC_NOFAULT;
}

/* SDM Vol. 2A INT n ("examine CS selector and descriptor given in the
 * gate"), Vol. 3A 6.12.1.1, 6.14.1; Bochs's order. Error codes get EXT from
 * rc_deliver_event. */
static rc_fault check_gate_target(rc_cpu *cpu, uint16_t sel, bool ia32e, rc_desc *cs)
{
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_GP, 0, "the gate's code-segment selector is null");
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_GP, cs));
    FAULT_IF(cpu, !rc_seg_is_code(&cs->seg), RC_EXC_GP, rc_sel_err(sel),
             "the gate's selector does not name a code segment");
    FAULT_IF(cpu, cs->seg.dpl > cpu->cpl, RC_EXC_GP, rc_sel_err(sel),
             "the handler's code segment DPL is above CPL");
    /* SDM Vol. 3A 6.14.1: in IA-32e mode the target must be 64-bit code
     * (L = 1, D = 0). */
    FAULT_IF(cpu, ia32e && (!cs->seg.l || cs->seg.db), RC_EXC_GP, rc_sel_err(sel),
             "IA-32e interrupt gate target is not a 64-bit code segment");
    FAULT_IF(cpu, !cs->seg.present, RC_EXC_NP, rc_sel_err(sel),
             "the handler's code segment is not present");
    return RC_NOFAULT;
}

/* SDM Vol. 2A INT n: the inner-privilege stack from the current TSS.
 * 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n, limit check (addr + 5);
 * 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n, limit check (addr + 3);
 * failing -> #TS(current TSS selector + EXT). Bochs checks addr + 7 (and
 * addr + 3) instead: see docs/transitions.md. */
static rc_fault tss_stack_legacy(rc_cpu *cpu, uint8_t dpl, uint16_t *ss, uint64_t *sp, plan *p)
{
    const rc_segment *tr = &cpu->seg[RC_SEG_TR];
    bool tss32 = (tr->type & 8) != 0; /* types 9/11: 32-bit TSS, 1/3: 16-bit */
    uint64_t v;
    if (tss32) {
        uint32_t a = dpl * 8u + 4;
        FAULT_IF(cpu, a + 5 > tr->limit, RC_EXC_TS, rc_sel_err(tr->selector),
                 "TSS too small for the inner-privilege stack pointer");
        TRY(rc_sys_read(cpu, (tr->base + a) & 0xffffffffull, 4, sp));
        TRY(rc_sys_read(cpu, (tr->base + a + 4) & 0xffffffffull, 2, &v));
        p->stack_src = "TSS.ESP", p->stack_n = (int)dpl;
    } else {
        uint32_t a = dpl * 4u + 2;
        FAULT_IF(cpu, a + 3 > tr->limit, RC_EXC_TS, rc_sel_err(tr->selector),
                 "16-bit TSS too small for the inner-privilege stack pointer");
        TRY(rc_sys_read(cpu, (tr->base + a) & 0xffffffffull, 2, sp));
        TRY(rc_sys_read(cpu, (tr->base + a + 2) & 0xffffffffull, 2, &v));
        p->stack_src = "TSS.SP", p->stack_n = (int)dpl;
    }
    *ss = (uint16_t)v;
    return RC_NOFAULT;
}

/* SDM Vol. 2A INT n INTER-PRIVILEGE-LEVEL-INTERRUPT: the new SS checks. */
static rc_fault check_new_ss(rc_cpu *cpu, uint16_t sel, uint8_t dpl, rc_desc *d)
{
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_TS, 0, "the TSS stack selector is null");
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_TS, d));
    FAULT_IF(cpu, (sel & 3) != dpl, RC_EXC_TS, rc_sel_err(sel),
             "the TSS stack selector's RPL differs from the handler's DPL");
    FAULT_IF(cpu, d->seg.dpl != dpl || !rc_seg_is_writable_data(&d->seg), RC_EXC_TS,
             rc_sel_err(sel), "the TSS stack segment is not a writable data segment of the "
                              "handler's DPL");
    FAULT_IF(cpu, !d->seg.present, RC_EXC_SS, rc_sel_err(sel),
             "the TSS stack segment is not present");
    return RC_NOFAULT;
}

/* SDM Vol. 2A INT n TASK-GATE, Vol. 3A 6.12.2 (interrupt tasks), 8.3: the
 * TSS selector of the gate is checked ("IF local/global bit is set to
 * local or index not within GDT limits THEN #GP(TSS selector + EXT)"; "IF
 * TSS descriptor specifies that the TSS is busy THEN #GP"; "IF TSS not
 * present THEN #NP") and the task switched to with nesting, by
 * rc_task_switch, which also pushes the error code on the new task's stack
 * and checks its EIP. The old task's TSS keeps the EIP the frame would
 * have held (the faulting instruction, or the next one for INT n) and the
 * EFLAGS image the frame would have held (RF = 1 for faults). A fault
 * after the switch's commit point is the new task's: the nested exception
 * (or the instruction's fault, for INT n) names the new task's EIP. */
static rc_fault deliver_task_gate(rc_cpu *cpu, rc_event *ev, const gate *g)
{
    char what[40];
    vector_text(what, sizeof(what), ev);
    rc_task_origin o;
    memset(&o, 0, sizeof(o));
    o.reason = RC_TASK_INT;
    o.via_gate = true;
    o.via_idt = true;
    o.vector = ev->vector;
    o.event = what;
    o.has_err = ev->has_err;
    o.err = ev->err;
    o.ret_eip = ev->ret_rip;
    o.eflags = pushed_flags(cpu, ev);
    o.restart = ev->kind != RC_EV_HW;
    /* A page fault loads CR2 as its delivery starts. */
    if (ev->set_cr2 && ev->vector == RC_EXC_PF)
        cpu->cr2 = ev->cr2;
    bool committed;
    rc_fault r = rc_task_switch(cpu, g->sel, &o, &committed);
    if (RC_FAILED(r) && committed)
        ev->ret_rip = cpu->rip;
    return r;
}

/* SDM Vol. 2A INT n PROTECTED-MODE, Vol. 3A 6.12.1: 8-byte gates. */
static rc_fault deliver_legacy(rc_cpu *cpu, rc_event *ev, plan *p)
{
    uint32_t idt_err = ev->vector * 8u + 2;
    FAULT_IF(cpu, ev->vector * 8u + 7 > cpu->idtr.limit, RC_EXC_GP, idt_err,
             "vector beyond the IDT limit");
    uint64_t lo;
    TRY(rc_sys_read(cpu, (cpu->idtr.base + ev->vector * 8u) & 0xffffffffull, 8, &lo));
    gate g = gate_decode(lo, 0, false);
    bool type_ok = g.type == RC_DT_TASKGATE || g.type == RC_DT_INTGATE16 ||
                   g.type == RC_DT_TRAPGATE16 || g.type == RC_DT_INTGATE ||
                   g.type == RC_DT_TRAPGATE;
    TRY(check_gate(cpu, ev, &g, type_ok, idt_err));
    if (g.type == RC_DT_TASKGATE)
        return deliver_task_gate(cpu, ev, &g);

    bool gate32 = g.type == RC_DT_INTGATE || g.type == RC_DT_TRAPGATE;
    uint64_t off = gate32 ? g.off & 0xffffffffull : g.off & 0xffff;
    TRY(check_gate_target(cpu, g.sel, false, &p->cs_desc));
    const rc_segment *cs = &p->cs_desc.seg;

    frame *f = &p->fr;
    f->size = gate32 ? 4 : 2;
    f->err_in_ss = true;
    uint64_t fl = pushed_flags(cpu, ev);
    if (!rc_seg_is_conforming(cs) && cs->dpl < cpu->cpl) {
        /* INTER-PRIVILEGE-LEVEL-INTERRUPT: stack from the TSS. */
        p->new_cpl = cs->dpl;
        uint16_t nss;
        uint64_t nsp;
        TRY(tss_stack_legacy(cpu, p->new_cpl, &nss, &nsp, p));
        TRY(check_new_ss(cpu, nss, p->new_cpl, &p->ss_desc));
        p->switch_ss = true;
        p->ss_sel = nss;
        f->ss = &p->ss_desc.seg;
        f->addr_size = p->ss_desc.seg.db ? 4 : 2;
        f->sp = nsp & rc_size_mask(f->addr_size);
        f->ss_err = rc_sel_err(nss);
        f->acc = p->new_cpl < 3 ? RC_ACC_SUPERVISOR : 0;
        frame_push(f, cpu->seg[RC_SEG_SS].selector);
        frame_push(f, cpu->gpr[4]);
    } else {
        /* INTRA-PRIVILEGE-LEVEL-INTERRUPT (conforming, or DPL = CPL). */
        p->new_cpl = cpu->cpl;
        f->ss = &cpu->seg[RC_SEG_SS];
        f->addr_size = cpu->seg[RC_SEG_SS].db ? 4 : 2;
        f->sp = cpu->gpr[4] & rc_size_mask(f->addr_size);
        f->ss_err = 0;
        f->acc = 0;
        p->stack_src = "current stack", p->stack_n = -1;
    }
    frame_push(f, fl);
    frame_push(f, cpu->seg[RC_SEG_CS].selector);
    frame_push(f, ev->ret_rip);
    if (ev->has_err)
        frame_push(f, ev->err);
    TRY(frame_check_limits(cpu, f));
    /* "IF instruction pointer is not within code segment limits THEN
     * #GP(0)" -- after the stack-room checks, before the pushes. */
    FAULT_IF(cpu, off > cs->limit, RC_EXC_GP, 0, "handler offset beyond its code segment limit");
    TRY(frame_check_pages(cpu, f));

    p->cs_sel = g.sel;
    p->rip = off;
    p->gate_desc = gate_name(g.type);
    p->gate_dpl = g.dpl;
    /* SDM Vol. 3A 6.12.1.3: TF, NT, RF, VM cleared; IF too through an
     * interrupt gate (trap gates leave it). */
    uint64_t nf = rc_get_rflags(cpu) & ~(uint64_t)(RC_FLAG_TF | RC_FLAG_NT | RC_FLAG_RF |
                                                   RC_FLAG_VM);
    if (g.type == RC_DT_INTGATE || g.type == RC_DT_INTGATE16)
        nf &= ~(uint64_t)RC_FLAG_IF;
    p->rflags = nf;
    return commit(cpu, ev, p);
}

/* ------------------------------------------------------------------ IA-32e mode */

/* SDM Vol. 3A 6.14.5 / Vol. 2A INT n IA-32e: RSPn at 4 + 8n, ISTn at
 * 0x24 + 8(n - 1) of the 64-bit TSS; limit check addr + 7 -> #TS(TSS sel). */
static rc_fault tss_rsp64(rc_cpu *cpu, uint32_t addr, uint64_t *rsp)
{
    const rc_segment *tr = &cpu->seg[RC_SEG_TR];
    FAULT_IF(cpu, addr + 7 > tr->limit, RC_EXC_TS, rc_sel_err(tr->selector),
             "TSS too small for the RSPn/ISTn entry");
    TRY(rc_sys_read(cpu, tr->base + addr, 8, rsp));
    /* "IF NewRSP is non-canonical THEN #SS(EXT)" */
    FAULT_IF(cpu, !rc_is_canonical(*rsp), RC_EXC_SS, 0, "the TSS stack pointer is not canonical");
    return RC_NOFAULT;
}

/* SDM Vol. 3A 6.14 (64-bit mode interrupt handling), APM Vol. 2 8.9. */
static rc_fault deliver_long(rc_cpu *cpu, const rc_event *ev, plan *p)
{
    /* The error code names the IDT entry by index (the vector), as in legacy
     * mode, although the entries are 16 bytes (SDM Vol. 3A 6.13, 6.14.1;
     * the host CPU reports #GP(0x10a) for INT 0x21 through a DPL-0 gate). */
    uint32_t idt_err = ev->vector * 8u + 2;
    FAULT_IF(cpu, ev->vector * 16u + 15 > cpu->idtr.limit, RC_EXC_GP, idt_err,
             "vector beyond the IDT limit");
    uint64_t at = cpu->idtr.base + ev->vector * 16u;
    FAULT_IF(cpu, !rc_is_canonical(at) || !rc_is_canonical(at + 15), RC_EXC_GP, idt_err,
             "IDT entry at a non-canonical address");
    uint64_t lo, hi;
    TRY(rc_sys_read(cpu, at, 8, &lo));
    TRY(rc_sys_read(cpu, at + 8, 8, &hi));
    gate g = gate_decode(lo, hi, true);
    /* Only 64-bit interrupt and trap gates exist in IA-32e mode (task
     * gates and 16-bit gates are not valid there). */
    TRY(check_gate(cpu, ev, &g, g.type == RC_DT_INTGATE || g.type == RC_DT_TRAPGATE, idt_err));
    TRY(check_gate_target(cpu, g.sel, true, &p->cs_desc));
    const rc_segment *cs = &p->cs_desc.seg;

    uint64_t rsp;
    bool inner = !rc_seg_is_conforming(cs) && cs->dpl < cpu->cpl;
    p->new_cpl = inner ? cs->dpl : cpu->cpl;
    if (g.ist) {
        /* SDM 6.14.5: a nonzero IST always switches stacks, even without a
         * privilege change. */
        TRY(tss_rsp64(cpu, 0x24u + 8u * (g.ist - 1u), &rsp));
        p->stack_src = "TSS.IST", p->stack_n = (int)g.ist;
    } else if (inner) {
        TRY(tss_rsp64(cpu, 4u + 8u * p->new_cpl, &rsp));
        p->stack_src = "TSS.RSP", p->stack_n = (int)p->new_cpl;
    } else {
        rsp = cpu->gpr[4];
        p->stack_src = "current stack", p->stack_n = -1;
    }
    /* SDM 6.14.2: the new RSP is aligned down to 16 bytes. */
    rsp &= ~0xfull;

    frame *f = &p->fr;
    f->size = 8;
    f->addr_size = 8;
    f->flat64 = true;
    f->err_in_ss = true;
    f->sp = rsp;
    f->ss_err = 0;
    f->acc = p->new_cpl < 3 ? RC_ACC_SUPERVISOR : 0;
    /* SDM 6.14.2: SS:RSP are pushed unconditionally, 8 bytes each. */
    frame_push(f, cpu->seg[RC_SEG_SS].selector);
    frame_push(f, cpu->gpr[4]);
    frame_push(f, pushed_flags(cpu, ev));
    frame_push(f, cpu->seg[RC_SEG_CS].selector);
    frame_push(f, ev->ret_rip);
    if (ev->has_err)
        frame_push(f, ev->err);
    TRY(frame_check_limits(cpu, f));
    /* "IF instruction pointer points to non-canonical address THEN
     * #GP(EXT)" */
    FAULT_IF(cpu, !rc_is_canonical(g.off), RC_EXC_GP, 0, "the gate's handler offset is not "
                                                         "canonical");
    TRY(frame_check_pages(cpu, f));

    p->cs_sel = g.sel;
    p->rip = g.off;
    p->switch_ss = inner;
    p->ss_null = inner;
    p->gate_desc = gate_name(g.type);
    p->gate_dpl = g.dpl;
    uint64_t nf = rc_get_rflags(cpu) & ~(uint64_t)(RC_FLAG_TF | RC_FLAG_NT | RC_FLAG_RF |
                                                   RC_FLAG_VM);
    if (g.type == RC_DT_INTGATE)
        nf &= ~(uint64_t)RC_FLAG_IF;
    p->rflags = nf;
    return commit(cpu, ev, p);
}

/* ------------------------------------------------------------------ one attempt */

static rc_fault deliver_once(rc_cpu *cpu, rc_event *ev)
{
    plan p;
    memset(&p, 0, sizeof(p));
    p.stack_src = "current stack";
    p.stack_n = -1;
    cpu->fault_reason = NULL;
    if (cpu->mode == RC_MODE_REAL)
        return deliver_real(cpu, ev, &p);
    if (cpu->mode == RC_MODE_VM86)
        return rc_unsupported(cpu, "interrupt or exception in virtual-8086 mode (VM86 is not "
                                   "modeled)");
    if (cpu->efer & RC_EFER_LMA)
        return deliver_long(cpu, ev, &p);
    return deliver_legacy(cpu, ev, &p);
}

/* ------------------------------------------------------------------ the chain */

rc_fault rc_deliver_event(rc_cpu *cpu, const rc_event *first)
{
    rc_event ev = *first;
    bool prev_delivering = cpu->delivering;
    cpu->delivering = true;
    rc_fault r;
    /* Each round either succeeds or turns into a nested exception; the
     * classes make it end after at most three (x, #DF, shutdown). The bound
     * is a guard only. */
    for (unsigned round = 0;; round++) {
        cpu->delivering_vector = ev.vector;
        /* SDM Vol. 3A 6.15 "Interrupt 14": CR2 is loaded with the faulting
         * address when the #PF occurs, before its delivery -- so also when
         * that delivery fails and turns into #DF. */
        if (ev.set_cr2 && ev.vector == RC_EXC_PF)
            cpu->cr2 = ev.cr2;
        r = deliver_once(cpu, &ev);
        if (r.kind != RCF_EXCEPTION)
            break;
        if (ev.kind != RC_EV_HW) {
            /* INT n, INT3, INTO, INT1: the fault is the instruction's
             * (its RIP is pushed by the caller's delivery). INT1 is not
             * one of the software interrupts that clear EXT (SDM Vol. 3A
             * 6.13): a selector-format error code gets EXT = 1. */
            if (event_ext(&ev) && r.has_error && selector_error_code(r.vector))
                r.error |= 1u;
            break;
        }
        /* SDM Vol. 3A 6.15 (#DF, "Exception Class Abort"): a fault while
         * delivering #DF is a triple fault: shutdown. */
        if (ev.vector == RC_EXC_DF || round >= 4) {
            r = exit_shutdown(cpu);
            break;
        }
        rc_event next = ev;
        next.kind = RC_EV_HW;
        next.set_cr2 = r.vector == RC_EXC_PF;
        next.cr2 = cpu->fault_cr2;
        const char *why = cpu->fault_reason;
        if (makes_double_fault(ev.vector, r.vector)) {
            /* SDM 6.15 Table 6-5: #DF with error code 0. */
            next.vector = RC_EXC_DF;
            next.has_err = true;
            next.err = 0;
            next.set_cr2 = false;
            why = "double fault: an exception while delivering another";
        } else {
            /* Handled serially: the second exception is delivered. */
            next.vector = r.vector;
            next.has_err = r.has_error;
            next.err = r.error;
            /* SDM 6.13: EXT = 1 for a fault during delivery of an
             * external event or exception (selector-format codes). */
            if (next.has_err && selector_error_code(next.vector) && event_ext(&ev))
                next.err |= 1u;
        }
        if (intercepted(cpu, next.vector)) {
            r = exit_exception(cpu, next.vector, next.has_err, next.err, next.cr2, true, why);
            break;
        }
        ev = next;
    }
    cpu->delivering = prev_delivering;
    return r;
}

/* ------------------------------------------------------------------ entry points */

rc_fault rc_raise_exception(rc_cpu *cpu, rc_fault f)
{
    if (f.kind != RCF_EXCEPTION)
        return f;
    if (intercepted(cpu, f.vector))
        return exit_exception(cpu, f.vector, f.has_error, f.error, cpu->fault_cr2, false,
                              cpu->fault_reason);
    /* The exception hook sees delivered exceptions too, before delivery;
     * RC_HOOK_STOP ends the run once the handler is entered. */
    rc_hook_action act = RC_HOOK_CONTINUE;
    if (cpu->hooks.exception) {
        rc_exception_info info;
        fill_exception_info(cpu, &info, f.vector, f.has_error, f.error, cpu->fault_cr2, false,
                            cpu->fault_reason);
        act = cpu->hooks.exception(cpu->hooks.opaque, cpu, &info);
    }
    rc_event ev = {
        .vector = f.vector, .kind = RC_EV_HW, .has_err = f.has_error != 0, .err = f.error,
        .set_cr2 = f.vector == RC_EXC_PF, .cr2 = cpu->fault_cr2, .ret_rip = cpu->rip,
    };
    rc_fault r = rc_deliver_event(cpu, &ev);
    if (!RC_FAILED(r) && act == RC_HOOK_STOP) {
        memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
        cpu->exit_pending.reason = RC_EXIT_HOOK;
        cpu->exit_restart = false;
        return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 };
    }
    return r;
}

/* cpu.h's entry (rc_inject_exception): CR2 is the caller's business here. */
rc_fault rc_deliver(rc_cpu *cpu, uint8_t vector, bool has_err, uint32_t err, bool software,
                    uint64_t next_rip)
{
    rc_event ev = {
        .vector = vector, .kind = software ? RC_EV_INT_N : RC_EV_HW, .has_err = has_err,
        .err = err, .set_cr2 = false, .cr2 = 0, .ret_rip = next_rip,
    };
    return rc_deliver_event(cpu, &ev);
}

rc_fault rc_raise_software(rc_cpu *cpu, uint8_t vector, rc_event_kind kind)
{
    /* INT3, INTO and INT1 are exceptions (#BP, #OF, #DB) and follow the
     * intercept mask, like VMX's exception bitmap; INT n is an interrupt
     * and is never intercepted. An intercepted one leaves RIP after the
     * instruction (a trap); the exit record names the instruction. */
    if (kind != RC_EV_INT_N && intercepted(cpu, vector)) {
        const char *why = kind == RC_EV_INT1 ? "INT1 (ICEBP) debug trap"
                          : vector == RC_EXC_BP ? "INT3 breakpoint"
                                                : "INTO with OF = 1";
        return exit_exception(cpu, vector, false, 0, 0, false, why);
    }
    rc_event ev = { .vector = vector, .kind = (uint8_t)kind, .ret_rip = cpu->rip };
    return rc_deliver_event(cpu, &ev);
}

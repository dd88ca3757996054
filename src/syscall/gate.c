/*
 * gate.c - far CALL and far JMP through call gates (16-, 32- and 64-bit).
 *
 * SDM Vol. 2A "CALL" (CALL-GATE, MORE-PRIVILEGE, SAME-PRIVILEGE) and "JMP"
 * (CALL-GATE); SDM Vol. 3A 5.8.3-5.8.6 (call gates, the stack switch, the
 * parameter copy) and 5.8.3.1 (IA-32e mode call gates: 16 bytes, a 64-bit
 * target only, no parameter copy); AMD APM Vol. 2 4.11.2 and 4.8.4.
 *
 * Shape, as everywhere in src/syscall: every check and every read comes
 * first (the gate, the target code segment, the TSS stack, the new SS, the
 * caller's parameters, the room on the new stack and its pages), then the
 * pushes, then the commit. A fault leaves the state as it was.
 */
#include <stdio.h>

#include "transfer.h"

#define GATE_PARAMS_MAX 31u /* the 5-bit parameter count */

/* The new stack and what goes on it (push order: high address first). */
typedef struct gate_stack {
    uint64_t val[4 + GATE_PARAMS_MAX];
    uint64_t lin[4 + GATE_PARAMS_MAX];
    unsigned n;
    unsigned size;           /* bytes per slot: the gate size */
    uint64_t sp;             /* the stack pointer before the pushes */
    uint64_t mask;           /* how it wraps: the new stack's address size */
    uint16_t ss_sel;
    rc_desc ss;              /* legacy: the new SS's descriptor */
    bool ss_null;            /* IA-32e: SS becomes null with RPL = new CPL */
    bool flat64;             /* IA-32e: canonical checks instead of the limit */
    const rc_segment *lim;   /* legacy: the segment whose limit the pushes must fit */
    char src[16];            /* where the stack pointer came from, in words */
} gate_stack;

static void gs_push(gate_stack *s, uint64_t v) { s->val[s->n++] = v & rc_size_mask(s->size); }

static uint64_t gs_final_sp(const gate_stack *s)
{
    return (s->sp - (uint64_t)s->n * s->size) & s->mask;
}

/* "IF stack does not have room ... THEN #SS(NewSS)" (legacy: the segment
 * limit; IA-32e: canonical form), then the page checks of every slot, so
 * the writes cannot fault. */
static rc_fault gs_check(rc_cpu *cpu, gate_stack *s, uint32_t ss_err, unsigned acc)
{
    for (unsigned i = 0; i < s->n; i++) {
        uint64_t off = (s->sp - (uint64_t)(i + 1) * s->size) & s->mask;
        if (s->flat64) {
            FAULT_IF(cpu, !rc_is_canonical(off) || !rc_is_canonical(off + s->size - 1),
                     RC_EXC_SS, ss_err, "call-gate stack push at a non-canonical address");
            s->lin[i] = off;
        } else {
            FAULT_IF(cpu, !rc_stack_room(s->lim, off, s->size), RC_EXC_SS, ss_err,
                     "the call-gate frame does not fit in the stack segment limit");
            s->lin[i] = (s->lim->base + off) & 0xffffffffull;
        }
    }
    if (cpu->paging) {
        for (unsigned i = 0; i < s->n; i++) {
            uint64_t phys, first = s->lin[i], last = s->lin[i] + s->size - 1;
            TRY(rc_translate(cpu, first, RC_ACC_WRITE | acc, &phys));
            if ((last & RC_PAGE_MASK) != (first & RC_PAGE_MASK))
                TRY(rc_translate(cpu, last, RC_ACC_WRITE | acc, &phys));
        }
    }
    return RC_NOFAULT;
}

static rc_fault gs_write(rc_cpu *cpu, const gate_stack *s, unsigned acc)
{
    for (unsigned i = 0; i < s->n; i++)
        if (RC_FAILED(rc_lin_write(cpu, s->lin[i], s->size, RC_ACC_WRITE | acc, s->val[i])))
            return rc_unsupported(cpu, "a call-gate stack frame that cannot be written after its "
                                       "checks passed (MMIO stack without a callback?)");
    return RC_NOFAULT;
}

/* MORE-PRIVILEGE: the inner stack from the TSS. Legacy 32-bit TSS: ESPn at
 * 4 + 8n, SSn at 8 + 8n ("IF (TSSstackAddress + 5) > current TSS limit THEN
 * #TS(current TSS selector)"); 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n
 * (+ 3); 64-bit TSS: RSPn at 4 + 8n (+ 7), SS = null with RPL n. */
static rc_fault tss_inner_stack(rc_cpu *cpu, uint8_t dpl, bool ia32e, gate_stack *s)
{
    const rc_segment *tr = &cpu->seg[RC_SEG_TR];
    uint32_t tr_err = rc_sel_err(tr->selector);
    uint64_t v = 0, sp = 0;
    if (ia32e) {
        uint32_t a = dpl * 8u + 4;
        FAULT_IF(cpu, a + 7 > tr->limit, RC_EXC_TS, tr_err, "TSS too small for RSPn");
        TRY(rc_sys_read(cpu, tr->base + a, 8, &sp));
        s->ss_sel = dpl;
        s->ss_null = true;
        snprintf(s->src, sizeof s->src, "TSS.RSP%u", dpl);
    } else if (tr->type & 8) {
        uint32_t a = dpl * 8u + 4;
        FAULT_IF(cpu, a + 5 > tr->limit, RC_EXC_TS, tr_err, "TSS too small for SSn:ESPn");
        TRY(rc_sys_read(cpu, (tr->base + a) & 0xffffffffull, 4, &sp));
        TRY(rc_sys_read(cpu, (tr->base + a + 4) & 0xffffffffull, 2, &v));
        s->ss_sel = (uint16_t)v;
        snprintf(s->src, sizeof s->src, "TSS.ESP%u", dpl);
    } else {
        uint32_t a = dpl * 4u + 2;
        FAULT_IF(cpu, a + 3 > tr->limit, RC_EXC_TS, tr_err, "16-bit TSS too small for SSn:SPn");
        TRY(rc_sys_read(cpu, (tr->base + a) & 0xffffffffull, 2, &sp));
        TRY(rc_sys_read(cpu, (tr->base + a + 2) & 0xffffffffull, 2, &v));
        s->ss_sel = (uint16_t)v;
        snprintf(s->src, sizeof s->src, "TSS.SP%u", dpl);
    }
    s->sp = sp;
    if (ia32e)
        return RC_NOFAULT;
    /* "IF NewSS is NULL THEN #TS(NewSS)"; outside the table -> #TS(NewSS);
     * "NewSS RPL != new code-segment DPL", "new stack-segment DPL != new
     * code-segment DPL or new stack segment is not a writable data segment
     * THEN #TS(NewSS)"; "NewSS not present THEN #SS(NewSS)". */
    uint16_t sel = s->ss_sel;
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_TS, rc_sel_err(sel), "the TSS stack selector is null");
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_TS, &s->ss));
    FAULT_IF(cpu, (sel & 3) != dpl, RC_EXC_TS, rc_sel_err(sel),
             "the TSS stack selector's RPL differs from the target's DPL");
    FAULT_IF(cpu, s->ss.seg.dpl != dpl || !rc_seg_is_writable_data(&s->ss.seg), RC_EXC_TS,
             rc_sel_err(sel), "the TSS stack segment is not a writable data segment of the "
                              "target's DPL");
    FAULT_IF(cpu, !s->ss.seg.present, RC_EXC_SS, rc_sel_err(sel),
             "the TSS stack segment is not present");
    return RC_NOFAULT;
}

static const char *gate_kind(unsigned size)
{
    return size == 8 ? "64-bit" : size == 4 ? "32-bit" : "16-bit";
}

rc_fault rc_far_via_call_gate(rc_cpu *cpu, uint16_t gsel, const rc_desc *g8, bool is_call)
{
    const char *what = is_call ? "far CALL" : "far JMP";
    bool ia32e = (cpu->efer & RC_EFER_LMA) != 0;
    rc_desc g = *g8;
    if (ia32e) {
        /* SDM Vol. 3A 5.8.3.1, Figure 5-9: a 64-bit call gate is 16 bytes;
         * the type field of its upper half (bits 12:8 of the last dword,
         * bits 44:40 of the upper 8 bytes) must be 0, else #GP(call-gate
         * selector) (CALL/JMP IA-32e pseudo-code); the table limit must
         * cover both halves. */
        TRY(rc_desc_fetch(cpu, gsel, true, RC_EXC_GP, &g));
        FAULT_IF(cpu, ((g.hi >> 40) & 0x1f) != 0, RC_EXC_GP, rc_sel_err(gsel),
                 "the upper half of a 64-bit call gate has a non-zero type field");
    }
    /* "IF call gate DPL < CPL or RPL > call gate DPL THEN #GP(call-gate
     * selector)"; "IF call gate not present THEN #NP(call-gate selector)". */
    FAULT_IF(cpu, g.seg.dpl < cpu->cpl || (gsel & 3) > g.seg.dpl, RC_EXC_GP, rc_sel_err(gsel),
             "call gate DPL is below CPL or below the selector's RPL");
    FAULT_IF(cpu, !g.seg.present, RC_EXC_NP, rc_sel_err(gsel), "call gate not present");

    /* The target code segment: "IF call-gate code-segment selector is NULL
     * THEN #GP(0)"; beyond the table -> #GP(code-segment selector); not a
     * code segment, CALL: DPL > CPL, JMP: conforming with DPL > CPL or
     * non-conforming with DPL != CPL -> #GP(code-segment selector); IA-32e:
     * "not a 64-bit code segment or has both L and D set" -> #GP(selector);
     * not present -> #NP(code-segment selector). */
    uint16_t csel = g.gate_sel;
    FAULT_IF(cpu, rc_sel_is_null(csel), RC_EXC_GP, 0, "the call gate names a null code selector");
    rc_desc cd;
    TRY(rc_desc_fetch(cpu, csel, false, RC_EXC_GP, &cd));
    bool conforming = rc_seg_is_conforming(&cd.seg);
    FAULT_IF(cpu, !rc_seg_is_code(&cd.seg), RC_EXC_GP, rc_sel_err(csel),
             "the call gate's target is not a code segment");
    if (is_call)
        FAULT_IF(cpu, cd.seg.dpl > cpu->cpl, RC_EXC_GP, rc_sel_err(csel),
                 "call-gate target code segment DPL above CPL");
    else
        FAULT_IF(cpu, conforming ? cd.seg.dpl > cpu->cpl : cd.seg.dpl != cpu->cpl, RC_EXC_GP,
                 rc_sel_err(csel), "JMP through a call gate to another privilege level");
    FAULT_IF(cpu, ia32e && (!cd.seg.l || cd.seg.db), RC_EXC_GP, rc_sel_err(csel),
             "an IA-32e call gate must lead to a 64-bit code segment");
    FAULT_IF(cpu, !cd.seg.present, RC_EXC_NP, rc_sel_err(csel),
             "call-gate target code segment not present");

    unsigned size = ia32e ? 8 : g.seg.type == RC_DT_CALLGATE ? 4 : 2;
    uint64_t ip = size == 8 ? g.gate_off : g.gate_off & rc_size_mask(size);
    bool more = is_call && !conforming && cd.seg.dpl < cpu->cpl;
    uint8_t ncpl = more ? cd.seg.dpl : cpu->cpl;
    unsigned count = more && !ia32e ? g.gate_params : 0;
    unsigned acc = ncpl < 3 ? RC_ACC_SUPERVISOR : 0;

    gate_stack st;
    memset(&st, 0, sizeof st);
    st.size = size;
    st.flat64 = ia32e;
    if (more) {
        TRY(tss_inner_stack(cpu, ncpl, ia32e, &st));
        st.mask = ia32e ? ~0ull : st.ss.seg.db ? 0xffffffffull : 0xffffull;
        st.lim = &st.ss.seg;
        /* "Push(oldSS:oldESP); Push(parameters from calling procedure's
         * stack, temp_ParameterCount); Push(oldCS:oldEIP)" -- the
         * parameters keep their order (Figure 5-13). */
        uint64_t old_sp = cpu->gpr[4];
        gs_push(&st, cpu->seg[RC_SEG_SS].selector);
        gs_push(&st, old_sp);
        uint64_t omask = rc_size_mask(cpu->stack_size);
        for (unsigned i = count; i-- > 0;) {
            uint64_t p;
            TRY(rc_read(cpu, RC_SEG_SS, (old_sp + (uint64_t)i * size) & omask, size,
                        RC_ACC_READ, &p));
            gs_push(&st, p);
        }
    } else {
        /* SAME-PRIVILEGE: the current stack. */
        st.sp = cpu->gpr[4];
        st.mask = ia32e ? ~0ull : rc_size_mask(cpu->stack_size);
        st.lim = &cpu->seg[RC_SEG_SS];
        snprintf(st.src, sizeof st.src, "current stack");
    }
    if (is_call) {
        gs_push(&st, cpu->seg[RC_SEG_CS].selector);
        gs_push(&st, cpu->rip);
    }
    uint32_t ss_err = more ? rc_sel_err(st.ss_sel) : 0;
    if (is_call)
        TRY(gs_check(cpu, &st, ss_err, acc));
    /* "IF CallGate(InstructionPointer) not within new code-segment limit
     * THEN #GP(0)"; 64-bit: "is non-canonical THEN #GP(0)". */
    if (ia32e)
        FAULT_IF(cpu, !rc_is_canonical(ip), RC_EXC_GP, 0,
                 "call-gate target RIP is not canonical");
    else
        FAULT_IF(cpu, ip > cd.seg.limit, RC_EXC_GP, 0,
                 "call-gate target offset beyond the code segment limit");

    rc_transition t;
    rc_tr_init(cpu, &t, is_call ? RC_TR_FAR_CALL : RC_TR_FAR_JMP);
    t.gate = gsel;
    t.new_cpl = ncpl;
    t.new_cs = (uint16_t)((csel & ~3u) | ncpl);
    t.new_rip = ip;
    rc_segment ncs;
    rc_seg_from_desc(&ncs, t.new_cs, &cd);
    t.new_mode = rc_mode_for(cpu, &ncs, false);
    uint64_t final_sp = is_call ? gs_final_sp(&st) : cpu->gpr[4];
    if (more) {
        t.new_ss = st.ss_sel;
        t.new_rsp = final_sp;
    } else {
        t.new_rsp = cpu->stack_size == 2 ? (cpu->gpr[4] & ~0xffffull) | final_sp : final_sp;
    }
    char copied[48] = "";
    if (count && rc_tr_explained(cpu))
        snprintf(copied, sizeof copied, ", copied %u %s", count,
                 size == 4 ? (count == 1 ? "dword" : "dwords") : (count == 1 ? "word" : "words"));
    if (rc_tr_explained(cpu))
        snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "%s via gate 0x%x (%s, DPL %u) -> 0x%x:0x%llx, CPL %u->%u, stack 0x%x:0x%llx -> "
             "0x%x:0x%llx (%s)%s",
             what, gsel, gate_kind(size), g.seg.dpl, t.new_cs, (unsigned long long)ip,
             t.old_cpl, t.new_cpl, t.old_ss, (unsigned long long)t.old_rsp, t.new_ss,
             (unsigned long long)t.new_rsp, st.src, copied);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    /* ---- the writes, then the commit ---- */
    if (is_call)
        TRY(gs_write(cpu, &st, acc));
    if (!(cd.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, csel, &cd));
    if (more && !ia32e && !(st.ss.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, st.ss_sel, &st.ss));
    if (more) {
        rc_commit_ss(cpu, st.ss_sel, &st.ss, ia32e);
        rc_commit_rsp(cpu, final_sp, ia32e);
    } else if (is_call) {
        rc_set_gpr(cpu, 4, cpu->stack_size, false, final_sp);
    }
    rc_commit_cs(cpu, csel, &cd, ncpl);
    cpu->rip = ip;
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

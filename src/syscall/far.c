/*
 * far.c - far CALL, far JMP and far RET (RETF), directly to code segments,
 * plus the return checks IRET shares.
 *
 * SDM Vol. 2A "CALL", "JMP", "RET" pseudo-code; SDM Vol. 3A 5.8 (privilege
 * level checking when transferring program control between code segments);
 * AMD APM Vol. 3 "CALL (Far)", "JMP (Far)", "RET (Far)".
 *
 * Call gates are in gate.c; task gates and TSS targets lead to a task
 * switch (task.c).
 */
#include <stdio.h>

#include "task.h"

/* ------------------------------------------------------------------ shared */

rc_fault rc_stack_peek(rc_cpu *cpu, uint64_t delta, unsigned size, uint64_t *v)
{
    uint64_t off = (cpu->gpr[4] + delta) & rc_size_mask(cpu->stack_size);
    return rc_read(cpu, RC_SEG_SS, off, size, RC_ACC_READ, v);
}

/* SDM Vol. 2A RET (protected mode) and IRET PROTECTED-MODE-RETURN: checks
 * of the return code-segment selector. */
rc_fault rc_check_return_cs(rc_cpu *cpu, uint16_t sel, rc_desc *d)
{
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_GP, 0, "return code-segment selector is null");
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_GP, d));
    uint8_t rpl = sel & 3;
    FAULT_IF(cpu, !rc_seg_is_code(&d->seg), RC_EXC_GP, rc_sel_err(sel),
             "return selector does not name a code segment");
    FAULT_IF(cpu, rpl < cpu->cpl, RC_EXC_GP, rc_sel_err(sel),
             "return code-segment RPL is below CPL (a return to an inner level)");
    FAULT_IF(cpu, rc_seg_is_conforming(&d->seg) && d->seg.dpl > rpl, RC_EXC_GP,
             rc_sel_err(sel), "conforming return code segment with DPL above its RPL");
    FAULT_IF(cpu, !rc_seg_is_conforming(&d->seg) && d->seg.dpl != rpl, RC_EXC_GP,
             rc_sel_err(sel), "non-conforming return code segment whose DPL differs from RPL");
    /* IA-32e: L = 1 with D = 1 is reserved (SDM Vol. 3A 5.2.1). */
    FAULT_IF(cpu, (cpu->efer & RC_EFER_LMA) && d->seg.l && d->seg.db, RC_EXC_GP,
             rc_sel_err(sel), "return code segment has both L and D set");
    FAULT_IF(cpu, !d->seg.present, RC_EXC_NP, rc_sel_err(sel),
             "return code segment not present");
    return RC_NOFAULT;
}

/* SDM Vol. 2A RET RETURN-TO-OUTER-PRIVILEGE-LEVEL / IRET
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL: checks of the popped SS. */
rc_fault rc_check_return_ss(rc_cpu *cpu, uint16_t sel, uint8_t rpl, bool target64, rc_desc *d,
                            bool *is_null)
{
    *is_null = false;
    if (rc_sel_is_null(sel)) {
        /* SDM Vol. 2A IRET/RET (IA-32e): a null SS may be loaded when the
         * return goes to 64-bit mode at CPL < 3; otherwise #GP(0). */
        FAULT_IF(cpu, !(target64 && rpl != 3), RC_EXC_GP, 0, "return stack selector is null");
        *is_null = true;
        return RC_NOFAULT;
    }
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_GP, d));
    FAULT_IF(cpu, (sel & 3) != rpl, RC_EXC_GP, rc_sel_err(sel),
             "return stack selector RPL differs from the return code segment's RPL");
    FAULT_IF(cpu, !rc_seg_is_writable_data(&d->seg), RC_EXC_GP, rc_sel_err(sel),
             "return stack segment is not a writable data segment");
    FAULT_IF(cpu, d->seg.dpl != rpl, RC_EXC_GP, rc_sel_err(sel),
             "return stack segment DPL differs from the return code segment's RPL");
    FAULT_IF(cpu, !d->seg.present, RC_EXC_SS, rc_sel_err(sel),
             "return stack segment not present");
    return RC_NOFAULT;
}

void rc_commit_cs(rc_cpu *cpu, uint16_t sel, const rc_desc *d, uint8_t cpl)
{
    rc_seg_from_desc(&cpu->seg[RC_SEG_CS], (uint16_t)((sel & ~3u) | cpl), d);
    cpu->cpl = cpl;
}

void rc_commit_ss(rc_cpu *cpu, uint16_t sel, const rc_desc *d, bool is_null)
{
    rc_segment *ss = &cpu->seg[RC_SEG_SS];
    if (is_null) {
        memset(ss, 0, sizeof(*ss));
        ss->selector = sel;
        ss->dpl = sel & 3;
        ss->unusable = 1;
    } else {
        rc_seg_from_desc(ss, sel, d);
    }
}

/* The new stack pointer: 64-bit target -> RSP; a 32-bit SS -> ESP; a
 * 16-bit SS -> SP only, RSP[63:16] keep their bits (SDM Vol. 2A IRET;
 * the "espfix" leak of Linux's sigreturn selftest). */
void rc_commit_rsp(rc_cpu *cpu, uint64_t rsp, bool target64)
{
    if (target64)
        cpu->gpr[4] = rsp;
    else if (cpu->seg[RC_SEG_SS].db)
        cpu->gpr[4] = rsp & 0xffffffffull;
    else
        cpu->gpr[4] = (cpu->gpr[4] & ~0xffffull) | (rsp & 0xffff);
}

/* SDM Vol. 2A RET/IRET: after a return to an outer level, "FOR each
 * SegReg in (ES, FS, GS, and DS): IF (SegmentSelector == NULL) OR
 * (tempDesc(DPL) < CPL AND tempDesc(Type) is (data or non-conforming
 * code)) THEN SegmentSelector <- 0". The base and limit stay (so 64-bit
 * FS/GS bases survive); an invalidated register becomes unusable. */
void rc_null_outer_segments(rc_cpu *cpu)
{
    static const uint8_t regs[] = { RC_SEG_ES, RC_SEG_FS, RC_SEG_GS, RC_SEG_DS };
    for (unsigned i = 0; i < sizeof(regs); i++) {
        rc_segment *s = &cpu->seg[regs[i]];
        if (rc_sel_is_null(s->selector)) {
            s->selector = 0;
            continue;
        }
        bool data_or_nc = !(s->type & RC_SEGT_CODE) || !(s->type & RC_SEGT_DC);
        if (s->dpl < cpu->cpl && data_or_nc) {
            s->selector = 0;
            s->unusable = 1;
        }
    }
}

/* Real-address and virtual-8086 mode: CS = selector, base = selector << 4
 * (SDM Vol. 3A 20.1.1). Real mode keeps the cached limit and attributes
 * ("unreal" mode); VM86 has fixed ones (SDM Vol. 3A 20.2.1). */
void rc_commit_cs_real(rc_cpu *cpu, uint16_t sel)
{
    rc_segment *cs = &cpu->seg[RC_SEG_CS];
    cs->selector = sel;
    cs->base = (uint64_t)sel << 4;
    if (cpu->mode == RC_MODE_VM86) {
        cs->limit = 0xffff;
        cs->dpl = 3;
        cs->present = 1;
        cs->s = 1;
        cs->type = 0xb;
        cs->db = 0;
        cs->l = 0;
        cs->unusable = 0;
    }
}

static void explain_far(rc_cpu *cpu, const char *what, const rc_transition *t)
{
    if (!rc_tr_explained(cpu))
        return;
    snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "%s 0x%04x:0x%llx -> 0x%04x:0x%llx (%s), CPL %u->%u, stack 0x%04x:0x%llx -> "
             "0x%04x:0x%llx",
             what, t->old_cs, (unsigned long long)t->old_rip, t->new_cs,
             (unsigned long long)t->new_rip, rc_mode_name(t->new_mode), t->old_cpl, t->new_cpl,
             t->old_ss, (unsigned long long)t->old_rsp, t->new_ss,
             (unsigned long long)t->new_rsp);
}

/* ------------------------------------------------------------------ target checks */

static bool real_like(const rc_cpu *cpu)
{
    return cpu->mode == RC_MODE_REAL || cpu->mode == RC_MODE_VM86;
}

/* What a protected-mode far JMP/CALL selector names (SDM Vol. 2A CALL/JMP:
 * "Depending on type and access rights: GO TO CONFORMING-CODE-SEGMENT,
 * NONCONFORMING-CODE-SEGMENT, CALL-GATE, TASK-GATE, TASK-STATE-SEGMENT"). */
typedef enum far_kind { FAR_CODE = 0, FAR_CALL_GATE, FAR_TASK_GATE, FAR_TSS } far_kind;

/* A far JMP/CALL target in protected mode: SDM Vol. 2A JMP/CALL "IF
 * segment selector in target operand NULL ... Depending on type and access
 * rights". Code segments are checked here; a call gate goes to gate.c, a
 * task gate or a TSS to far_to_task (task.c). */
static rc_fault check_far_target(rc_cpu *cpu, uint16_t sel, bool is_call, rc_desc *d,
                                 far_kind *kind)
{
    *kind = FAR_CODE;
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_GP, 0, "far transfer to a null selector");
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_GP, d));
    if (!d->seg.s) {
        bool ia32e = (cpu->efer & RC_EFER_LMA) != 0;
        switch (d->seg.type) {
        case RC_DT_CALLGATE:
            *kind = FAR_CALL_GATE; /* gate.c; in IA-32e mode the 64-bit call gate */
            return RC_NOFAULT;
        case RC_DT_CALLGATE16:
            if (!ia32e) {
                *kind = FAR_CALL_GATE;
                return RC_NOFAULT;
            }
            break;
        case RC_DT_TASKGATE:
            if (!ia32e) {
                *kind = FAR_TASK_GATE;
                return RC_NOFAULT;
            }
            break;
        case RC_DT_TSS16_AVAIL:
        case RC_DT_TSS_AVAIL:
        case RC_DT_TSS16_BUSY:
        case RC_DT_TSS_BUSY:
            /* A busy TSS is "TSS descriptor indicates TSS not available":
             * #GP(TSS selector) after the DPL checks (far_to_task). */
            if (!ia32e) {
                *kind = FAR_TSS;
                return RC_NOFAULT;
            }
            break;
        default:
            break;
        }
        /* Any other system type, and in IA-32e mode everything but a
         * 64-bit call gate (SDM Vol. 3A 8.7: no task switches in IA-32e
         * mode): #GP(selector). */
        cpu->fault_reason = is_call ? "far CALL target is not a code segment, call gate, task "
                                      "gate or TSS of this mode"
                                    : "far JMP target is not a code segment, call gate, task "
                                      "gate or TSS of this mode";
        return rc_exc_err(RC_EXC_GP, rc_sel_err(sel));
    }
    FAULT_IF(cpu, !rc_seg_is_code(&d->seg), RC_EXC_GP, rc_sel_err(sel),
             "far transfer to a data segment");
    /* "IF L-bit = 1 and D-bit = 1 and IA32_EFER.LMA = 1 THEN #GP(sel)" */
    FAULT_IF(cpu, (cpu->efer & RC_EFER_LMA) && d->seg.l && d->seg.db, RC_EXC_GP,
             rc_sel_err(sel), "far transfer to a code segment with both L and D set");
    if (rc_seg_is_conforming(&d->seg)) {
        /* CONFORMING-CODE-SEGMENT: "IF DPL > CPL THEN #GP(selector)" */
        FAULT_IF(cpu, d->seg.dpl > cpu->cpl, RC_EXC_GP, rc_sel_err(sel),
                 "far transfer to a conforming code segment with DPL above CPL");
    } else {
        /* NONCONFORMING-CODE-SEGMENT: "IF (RPL > CPL) OR (DPL != CPL)" */
        FAULT_IF(cpu, (sel & 3) > cpu->cpl || d->seg.dpl != cpu->cpl, RC_EXC_GP,
                 rc_sel_err(sel), "far transfer to a non-conforming code segment with RPL > CPL "
                                  "or DPL != CPL");
    }
    FAULT_IF(cpu, !d->seg.present, RC_EXC_NP, rc_sel_err(sel),
             "far transfer to a code segment that is not present");
    return RC_NOFAULT;
}

/* SDM Vol. 2A CALL/JMP "TASK-GATE" and "TASK-STATE-SEGMENT" (legacy
 * protected mode only; check_far_target refuses both in IA-32e mode). The
 * checks of the gate or of the TSS's privilege come here, in the
 * pseudo-code's order; the TSS descriptor's own checks, the switch and the
 * EIP limit check are rc_task_switch's. */
static rc_fault far_to_task(rc_cpu *cpu, uint16_t sel, const rc_desc *d, far_kind kind,
                            bool is_call)
{
    rc_task_origin o;
    memset(&o, 0, sizeof(o));
    o.reason = is_call ? RC_TASK_CALL : RC_TASK_JMP;
    uint16_t tss = sel;
    if (kind == FAR_TASK_GATE) {
        /* "IF task gate DPL < CPL or task gate DPL < task gate
         * segment-selector RPL THEN #GP(task gate selector)"; "IF task gate
         * not present THEN #NP(task gate selector)". */
        FAULT_IF(cpu, d->seg.dpl < cpu->cpl || d->seg.dpl < (sel & 3), RC_EXC_GP,
                 rc_sel_err(sel), "task gate DPL below CPL or below the selector's RPL");
        FAULT_IF(cpu, !d->seg.present, RC_EXC_NP, rc_sel_err(sel), "task gate not present");
        /* "Read the TSS segment selector in the task-gate descriptor" */
        tss = d->gate_sel;
        o.via_gate = true;
        o.gate_sel = sel;
    } else {
        /* "IF TSS DPL < CPL or TSS DPL < TSS segment-selector RPL or TSS
         * descriptor indicates TSS not available THEN #GP(TSS selector)"
         * (availability: rc_task_switch, with the same #GP). */
        FAULT_IF(cpu, d->seg.dpl < cpu->cpl || d->seg.dpl < (sel & 3), RC_EXC_GP,
                 rc_sel_err(sel), "TSS descriptor DPL below CPL or below the selector's RPL");
    }
    /* The old task resumes after the instruction (its EIP = the next one). */
    o.ret_eip = cpu->rip;
    o.eflags = rc_get_rflags(cpu);
    o.restart = true;
    bool committed;
    return rc_task_switch(cpu, tss, &o, &committed);
}

/* tempEIP checks: "IF OperandSize = 16 THEN tempEIP <- tempEIP AND FFFFH";
 * 64-bit target: canonical, else within the code segment limit; #GP(0). */
static rc_fault check_target_ip(rc_cpu *cpu, uint64_t ip, bool target64, uint32_t limit)
{
    if (target64) {
        FAULT_IF(cpu, !rc_is_canonical(ip), RC_EXC_GP, 0, "far transfer to a non-canonical RIP");
    } else {
        FAULT_IF(cpu, ip > limit, RC_EXC_GP, 0, "far transfer beyond the code segment limit");
    }
    return RC_NOFAULT;
}

static uint64_t ip_for_size(uint64_t off, unsigned opsize)
{
    return opsize == 8 ? off : off & rc_size_mask(opsize);
}

/* ------------------------------------------------------------------ JMP */

rc_fault rc_far_jmp(rc_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize)
{
    uint64_t ip = ip_for_size(off, opsize);
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_FAR_JMP);
    rc_desc d;
    memset(&d, 0, sizeof(d));
    bool target64 = false;
    if (real_like(cpu)) {
        /* SDM Vol. 2A JMP: real-address or virtual-8086 mode far jump. */
        uint32_t limit = cpu->mode == RC_MODE_VM86 ? 0xffff : cpu->seg[RC_SEG_CS].limit;
        TRY(check_target_ip(cpu, ip, false, limit));
        t.new_cs = sel;
        t.new_cpl = cpu->cpl;
        t.new_mode = cpu->mode;
    } else {
        far_kind kind;
        TRY(check_far_target(cpu, sel, false, &d, &kind));
        if (kind == FAR_CALL_GATE)
            return rc_far_via_call_gate(cpu, sel, &d, false);
        if (kind != FAR_CODE)
            return far_to_task(cpu, sel, &d, kind, false);
        target64 = (cpu->efer & RC_EFER_LMA) && d.seg.l;
        TRY(check_target_ip(cpu, ip, target64, d.seg.limit));
        t.new_cs = (uint16_t)((sel & ~3u) | cpu->cpl);
        t.new_cpl = cpu->cpl;
        rc_segment ncs;
        rc_seg_from_desc(&ncs, t.new_cs, &d);
        t.new_mode = rc_mode_for(cpu, &ncs, false);
    }
    t.new_rip = ip;
    explain_far(cpu, "far JMP", &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;
    if (real_like(cpu)) {
        rc_commit_cs_real(cpu, sel);
    } else {
        if (!(d.seg.type & RC_SEGT_ACCESSED))
            TRY(rc_desc_set_accessed(cpu, sel, &d));
        rc_commit_cs(cpu, sel, &d, cpu->cpl);
    }
    cpu->rip = ip;
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

/* EA: JMP ptr16:16/ptr16:32 (invalid in 64-bit mode: decode table). */
RC_HANDLER(ex_jmp_far)
{
    return rc_far_jmp(cpu, (uint16_t)in->imm2, in->imm, in->opsize);
}

/* ------------------------------------------------------------------ CALL */

/* Push the return CS:IP on the current stack (operand size each; CS
 * zero-extended): "IF stack not large enough for a 4/6/16-byte return
 * address THEN #SS(0)" is checked first by rc_seg_linear, the writes come
 * after the target's instruction-pointer check (SDM Vol. 2A CALL). */
static rc_fault check_return_room(rc_cpu *cpu, unsigned sz, uint64_t off[2])
{
    uint64_t mask = rc_size_mask(cpu->stack_size), lin;
    off[0] = (cpu->gpr[4] - sz) & mask;
    off[1] = (cpu->gpr[4] - 2ull * sz) & mask;
    TRY(rc_seg_linear(cpu, RC_SEG_SS, off[0], sz, RC_ACC_WRITE, &lin));
    TRY(rc_seg_linear(cpu, RC_SEG_SS, off[1], sz, RC_ACC_WRITE, &lin));
    return RC_NOFAULT;
}

rc_fault rc_far_call(rc_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize)
{
    uint64_t ip = ip_for_size(off, opsize);
    unsigned sz = opsize;
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_FAR_CALL);
    rc_desc d;
    memset(&d, 0, sizeof(d));
    uint64_t slot[2];
    if (real_like(cpu)) {
        TRY(check_return_room(cpu, sz, slot));
        uint32_t limit = cpu->mode == RC_MODE_VM86 ? 0xffff : cpu->seg[RC_SEG_CS].limit;
        TRY(check_target_ip(cpu, ip, false, limit));
        t.new_cs = sel;
        t.new_mode = cpu->mode;
    } else {
        far_kind kind;
        TRY(check_far_target(cpu, sel, true, &d, &kind));
        if (kind == FAR_CALL_GATE)
            return rc_far_via_call_gate(cpu, sel, &d, true);
        if (kind != FAR_CODE)
            return far_to_task(cpu, sel, &d, kind, true);
        bool target64 = (cpu->efer & RC_EFER_LMA) && d.seg.l;
        if (cpu->model && cpu->model->far_call_pushes_first) {
            /* AMD: Push(CS), Push(IP), each checked as it is written, then
             * the target IP; a fault keeps the bytes, not the new rSP. */
            uint64_t mask = rc_size_mask(cpu->stack_size);
            slot[0] = (cpu->gpr[4] - sz) & mask;
            slot[1] = (cpu->gpr[4] - 2ull * sz) & mask;
            TRY(rc_write(cpu, RC_SEG_SS, slot[0], sz, cpu->seg[RC_SEG_CS].selector));
            TRY(rc_write(cpu, RC_SEG_SS, slot[1], sz, cpu->rip & rc_size_mask(sz)));
        } else {
            TRY(check_return_room(cpu, sz, slot));
        }
        TRY(check_target_ip(cpu, ip, target64, d.seg.limit));
        t.new_cs = (uint16_t)((sel & ~3u) | cpu->cpl);
        rc_segment ncs;
        rc_seg_from_desc(&ncs, t.new_cs, &d);
        t.new_mode = rc_mode_for(cpu, &ncs, false);
    }
    t.new_cpl = cpu->cpl;
    t.new_rip = ip;
    uint64_t sp = slot[1];
    t.new_rsp = cpu->stack_size == 2 ? (cpu->gpr[4] & ~0xffffull) | sp : sp;
    explain_far(cpu, "far CALL", &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    /* Push(CS); Push(EIP) -- memory only; a #PF here leaves the registers
     * unchanged. */
    TRY(rc_write(cpu, RC_SEG_SS, slot[0], sz, cpu->seg[RC_SEG_CS].selector));
    TRY(rc_write(cpu, RC_SEG_SS, slot[1], sz, cpu->rip & rc_size_mask(sz)));
    if (!real_like(cpu) && !(d.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, sel, &d));

    /* ---- point of no return ---- */
    rc_set_gpr(cpu, 4, cpu->stack_size, false, sp);
    if (real_like(cpu))
        rc_commit_cs_real(cpu, sel);
    else
        rc_commit_cs(cpu, sel, &d, cpu->cpl);
    cpu->rip = ip;
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

/* 9A: CALL ptr16:16/ptr16:32 (invalid in 64-bit mode: decode table). */
RC_HANDLER(ex_call_far)
{
    return rc_far_call(cpu, (uint16_t)in->imm2, in->imm, in->opsize);
}

/* ------------------------------------------------------------------ RET */

/* SDM Vol. 2A RET (far): real/VM86 mode. */
static rc_fault retf_real(rc_cpu *cpu, unsigned sz, uint64_t release)
{
    uint64_t ip, cs;
    TRY(rc_stack_peek(cpu, 0, sz, &ip));
    TRY(rc_stack_peek(cpu, sz, sz, &cs));
    uint32_t limit = cpu->mode == RC_MODE_VM86 ? 0xffff : cpu->seg[RC_SEG_CS].limit;
    TRY(check_target_ip(cpu, ip, false, limit));
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_FAR_RET);
    uint64_t sp = (cpu->gpr[4] + 2ull * sz + release) & rc_size_mask(cpu->stack_size);
    t.new_cs = (uint16_t)cs;
    t.new_cpl = cpu->cpl;
    t.new_mode = cpu->mode;
    t.new_rip = ip;
    t.new_rsp = cpu->stack_size == 2 ? (cpu->gpr[4] & ~0xffffull) | sp : sp;
    explain_far(cpu, "far RET", &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;
    rc_commit_cs_real(cpu, (uint16_t)cs);
    cpu->rip = ip;
    rc_set_gpr(cpu, 4, cpu->stack_size, false, sp);
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

/* SDM Vol. 2A RET (far), protected and IA-32e mode: same privilege, or
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL (pops SS:ESP, releases 'release' bytes
 * of parameters on both stacks, invalidates DS/ES/FS/GS it may not use). */
static rc_fault retf_protected(rc_cpu *cpu, unsigned sz, uint64_t release)
{
    uint64_t ip, csv;
    TRY(rc_stack_peek(cpu, 0, sz, &ip));
    TRY(rc_stack_peek(cpu, sz, sz, &csv));
    uint16_t cs_sel = (uint16_t)csv;
    rc_desc csd;
    TRY(rc_check_return_cs(cpu, cs_sel, &csd));
    uint8_t rpl = cs_sel & 3;
    bool target64 = (cpu->efer & RC_EFER_LMA) && csd.seg.l;
    bool outer = rpl > cpu->cpl;

    uint64_t nsp = 0, ssv = 0;
    rc_desc ssd;
    memset(&ssd, 0, sizeof(ssd));
    bool ss_null = false;
    if (outer) {
        TRY(rc_stack_peek(cpu, 2ull * sz + release, sz, &nsp));
        TRY(rc_stack_peek(cpu, 3ull * sz + release, sz, &ssv));
        TRY(rc_check_return_ss(cpu, (uint16_t)ssv, rpl, target64, &ssd, &ss_null));
    }
    TRY(check_target_ip(cpu, ip, target64, csd.seg.limit));

    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_FAR_RET);
    t.new_cpl = rpl;
    t.new_cs = (uint16_t)((cs_sel & ~3u) | rpl);
    t.new_rip = ip;
    rc_segment ncs;
    rc_seg_from_desc(&ncs, t.new_cs, &csd);
    t.new_mode = rc_mode_for(cpu, &ncs, false);
    if (outer) {
        t.new_ss = (uint16_t)ssv;
        t.new_rsp = nsp + release;
    } else {
        t.new_rsp = (cpu->gpr[4] + 2ull * sz + release) & rc_size_mask(cpu->stack_size);
    }
    explain_far(cpu, "far RET", &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    /* ---- point of no return ---- */
    if (!(csd.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, cs_sel, &csd));
    if (outer && !ss_null && !(ssd.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, (uint16_t)ssv, &ssd));
    if (outer) {
        rc_commit_cs(cpu, cs_sel, &csd, rpl);
        rc_commit_ss(cpu, (uint16_t)ssv, &ssd, ss_null);
        /* "ESP <- ESP + SRC" on the new stack too. */
        rc_commit_rsp(cpu, nsp + release, target64);
        rc_null_outer_segments(cpu);
    } else {
        uint64_t sp = (cpu->gpr[4] + 2ull * sz + release) & rc_size_mask(cpu->stack_size);
        rc_set_gpr(cpu, 4, cpu->stack_size, false, sp);
        rc_commit_cs(cpu, cs_sel, &csd, rpl);
    }
    cpu->rip = ip;
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

/* CA iw / CB: RETF [imm16]. */
RC_HANDLER(ex_retf)
{
    uint64_t release = in->opcode == 0xca ? (in->imm & 0xffff) : 0;
    if (real_like(cpu))
        return retf_real(cpu, in->opsize, release);
    return retf_protected(cpu, in->opsize, release);
}

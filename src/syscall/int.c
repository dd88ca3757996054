/*
 * int.c - INT n, INT3, INTO, INT1 and IRET/IRETD/IRETQ.
 *
 * SDM Vol. 2A "INT n/INTO/INT3/INT1" and "IRET/IRETD/IRETQ"; SDM Vol. 3A
 * 6.12.1.1 (software interrupts and the gate DPL), 6.14.3 (IRET in IA-32e
 * mode); AMD APM Vol. 3 "INT", "IRET".
 */
#include <stdio.h>

#include "task.h"

/* ------------------------------------------------------------------ INT */

/* CD ib: INT n pushes the address of the next instruction. */
RC_HANDLER(ex_int)
{
    return rc_raise_software(cpu, (uint8_t)in->imm, RC_EV_INT_N);
}

/* CC: INT3 is a software exception (#BP, trap): gate DPL checked, EXT = 0. */
RC_HANDLER(ex_int3)
{
    (void)in;
    return rc_raise_software(cpu, RC_EXC_BP, RC_EV_SOFT_EXC);
}

/* CE: INTO raises #OF (trap) only when OF = 1 (SDM Vol. 2A INTO); it is
 * #UD in 64-bit mode (decode table, RC_OPF_INVALID64). */
RC_HANDLER(ex_into)
{
    (void)in;
    if (!(rc_get_rflags(cpu) & RC_FLAG_OF))
        return RC_NOFAULT;
    return rc_raise_software(cpu, RC_EXC_OF, RC_EV_SOFT_EXC);
}

/* F1: INT1/ICEBP raises #DB (trap) without the gate-DPL check (SDM Vol. 3A
 * 6.12.1.1) and with EXT = 1 (SDM 6.13 lists only INT n, INT3 and INTO as
 * EXT = 0; Bochs agrees). */
RC_HANDLER(ex_int1)
{
    (void)in;
    return rc_raise_software(cpu, RC_EXC_DB, RC_EV_INT1);
}

/* ------------------------------------------------------------------ IRET */

/* EFLAGS bits IRET may load, SDM Vol. 2A IRET. */
#define IRET_ALWAYS (RC_FLAG_CF | RC_FLAG_PF | RC_FLAG_AF | RC_FLAG_ZF | RC_FLAG_SF | RC_FLAG_TF | \
                     RC_FLAG_DF | RC_FLAG_OF | RC_FLAG_NT)
#define IRET_WIDE (RC_FLAG_RF | RC_FLAG_AC | RC_FLAG_ID)      /* OperandSize 32/64 */
#define IRET_CPL0_WIDE (RC_FLAG_VIF | RC_FLAG_VIP)            /* CPL 0, size 32/64 */
/* Real mode, 32-bit: EFLAGS <- (tempEFLAGS AND 257FD5H) OR (EFLAGS AND 1A0000H) */
#define IRET_REAL32_LOAD 0x257fd5u
#define IRET_REAL32_KEEP 0x1a0000u
/* The FLAGS bits that exist (bits 1, 3, 5, 15 are reserved). */
#define FLAGS16_VALID 0x7fd5u

/* SDM Vol. 2A IRET REAL-ADDRESS-MODE. */
static rc_fault iret_real(rc_cpu *cpu, unsigned sz)
{
    uint64_t ip, cs, fl;
    TRY(rc_stack_peek(cpu, 0, sz, &ip));
    TRY(rc_stack_peek(cpu, sz, sz, &cs));
    TRY(rc_stack_peek(cpu, 2ull * sz, sz, &fl));
    /* Real-Address Mode Exceptions: #GP if the return IP is beyond the CS
     * limit (the limit of the current cache: real mode keeps it). */
    FAULT_IF(cpu, ip > cpu->seg[RC_SEG_CS].limit, RC_EXC_GP, 0,
             "IRET: return IP beyond the code segment limit");
    uint64_t cur = rc_get_rflags(cpu);
    uint64_t nf;
    if (sz == 4)
        nf = (fl & IRET_REAL32_LOAD) | (cur & IRET_REAL32_KEEP);
    else
        nf = (cur & ~0xffffull) | (fl & FLAGS16_VALID);

    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_IRET);
    t.new_cpl = 0;
    t.new_mode = RC_MODE_REAL;
    t.new_cs = (uint16_t)cs;
    t.new_ss = t.old_ss;
    t.new_rip = ip;
    uint64_t sp = (cpu->gpr[4] + 3ull * sz) & rc_size_mask(cpu->stack_size);
    t.new_rsp = cpu->stack_size == 2 ? (cpu->gpr[4] & ~0xffffull) | sp : sp;
    if (rc_tr_explained(cpu))
        snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "IRET%s (real mode) -> 0x%04x:0x%04llx, FLAGS 0x%llx", sz == 4 ? "D" : "",
             (unsigned)(uint16_t)cs, (unsigned long long)ip, (unsigned long long)nf);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;
    rc_commit_cs_real(cpu, (uint16_t)cs);
    cpu->rip = ip;
    cpu->gpr[4] = t.new_rsp;
    rc_set_rflags(cpu, nf);
    rc_update_mode(cpu);
    return rc_tr_after(cpu, &t, stop);
}

/* SDM Vol. 2A IRET: the EFLAGS image loaded by a protected-mode return,
 * with the CPL and IOPL of the IRET itself (before CPL changes). */
static uint64_t iret_flags(rc_cpu *cpu, uint64_t cur, uint64_t popped, unsigned sz)
{
    uint64_t mask = IRET_ALWAYS;
    if (sz >= 4)
        mask |= IRET_WIDE;
    unsigned iopl = (unsigned)((cur & RC_FLAG_IOPL) >> 12);
    if (cpu->cpl <= iopl)
        mask |= RC_FLAG_IF;
    if (cpu->cpl == 0) {
        mask |= RC_FLAG_IOPL;
        if (sz >= 4)
            mask |= IRET_CPL0_WIDE;
    }
    return (cur & ~mask) | (popped & mask);
}

/* SDM Vol. 2A IRET PROTECTED-MODE / IA-32e-MODE -> PROTECTED-MODE-RETURN,
 * RETURN-TO-SAME-PRIVILEGE-LEVEL, RETURN-TO-OUTER-PRIVILEGE-LEVEL. Check
 * order follows Bochs (CS, then SS, then the instruction pointer). */
static rc_fault iret_protected(rc_cpu *cpu, unsigned sz)
{
    bool ia32e = (cpu->efer & RC_EFER_LMA) != 0;
    bool mode64 = cpu->mode == RC_MODE_LONG64;
    uint64_t rip, csv, fl;
    TRY(rc_stack_peek(cpu, 0, sz, &rip));
    TRY(rc_stack_peek(cpu, sz, sz, &csv));
    TRY(rc_stack_peek(cpu, 2ull * sz, sz, &fl));
    uint16_t cs_sel = (uint16_t)csv;

    /* "IF tempEFLAGS(VM) = 1 and CPL = 0 THEN GOTO RETURN-TO-VIRTUAL-8086-MODE"
     * (legacy protected mode, 32-bit operand size only). */
    if (!ia32e && sz == 4 && (fl & RC_FLAG_VM) && cpu->cpl == 0)
        return rc_unsupported(cpu, "IRET to virtual-8086 mode (VM86 is not modeled)");

    rc_desc csd;
    TRY(rc_check_return_cs(cpu, cs_sel, &csd));
    uint8_t rpl = cs_sel & 3;
    bool target64 = ia32e && csd.seg.l;
    bool outer = rpl > cpu->cpl;
    /* SDM 6.14.3: in 64-bit mode IRET pops SS:RSP unconditionally; in
     * compatibility and legacy mode only on a return to an outer level. */
    bool pop_ss = outer || mode64;

    uint64_t nsp = 0, ssv = 0;
    rc_desc ssd;
    memset(&ssd, 0, sizeof(ssd));
    bool ss_null = false;
    if (pop_ss) {
        TRY(rc_stack_peek(cpu, 3ull * sz, sz, &nsp));
        TRY(rc_stack_peek(cpu, 4ull * sz, sz, &ssv));
        TRY(rc_check_return_ss(cpu, (uint16_t)ssv, rpl, target64, &ssd, &ss_null));
    }
    if (target64) {
        FAULT_IF(cpu, !rc_is_canonical(rip), RC_EXC_GP, 0, "IRET to a non-canonical RIP");
    } else {
        FAULT_IF(cpu, rip > csd.seg.limit, RC_EXC_GP, 0,
                 "IRET: return EIP beyond the code segment limit");
    }

    uint64_t nf = iret_flags(cpu, rc_get_rflags(cpu), fl, sz);
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_IRET);
    t.new_cpl = rpl;
    t.new_cs = (uint16_t)((cs_sel & ~3u) | rpl);
    t.new_rip = rip;
    rc_segment ncs;
    rc_seg_from_desc(&ncs, t.new_cs, &csd);
    t.new_mode = rc_mode_for(cpu, &ncs, false);
    t.new_ss = pop_ss ? (uint16_t)ssv : t.old_ss;
    t.new_rsp = pop_ss ? nsp : (cpu->gpr[4] + 3ull * sz) & rc_size_mask(cpu->stack_size);
    if (rc_tr_explained(cpu))
        snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "IRET%s -> 0x%02x:0x%llx (%s), CPL %u->%u, stack -> 0x%02x:0x%llx%s",
             sz == 8 ? "Q" : sz == 4 ? "D" : "", t.new_cs, (unsigned long long)rip,
             rc_mode_name(t.new_mode), t.old_cpl, t.new_cpl, t.new_ss,
             (unsigned long long)t.new_rsp, pop_ss ? " (popped)" : "");
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    /* ---- point of no return ---- */
    if (!(csd.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, cs_sel, &csd));
    if (pop_ss && !ss_null && !(ssd.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, (uint16_t)ssv, &ssd));
    rc_set_rflags(cpu, nf);
    rc_commit_cs(cpu, cs_sel, &csd, rpl);
    cpu->rip = rip;
    if (pop_ss) {
        rc_commit_ss(cpu, (uint16_t)ssv, &ssd, ss_null);
        rc_commit_rsp(cpu, nsp, target64);
    } else {
        /* Same level outside 64-bit mode: RSP moves past the frame. */
        uint64_t sp = (cpu->gpr[4] + 3ull * sz) & rc_size_mask(cpu->stack_size);
        rc_set_gpr(cpu, 4, cpu->stack_size, false, sp);
    }
    if (outer)
        rc_null_outer_segments(cpu);
    rc_update_mode(cpu);
    t.new_rsp = cpu->gpr[4];
    return rc_tr_after(cpu, &t, stop);
}

/* SDM Vol. 2A IRET TASK-RETURN (PE = 1, VM = 0, NT = 1): "SWITCH-TASKS
 * (without nesting) to TSS specified in link field of current TSS; Mark the
 * task just abandoned as NOT BUSY; IF EIP is not within CS limit THEN
 * #GP(0)" (SDM Vol. 3A 8.4). The back link is the word at offset 0 of the
 * current TSS, in both formats; whatever it names is checked by
 * rc_task_switch with #TS (Table 6-6 "During an IRET task switch ..."). The
 * operand size does not matter: nothing is popped. */
static rc_fault iret_task_return(rc_cpu *cpu)
{
    uint64_t link;
    TRY(rc_sys_read(cpu, cpu->seg[RC_SEG_TR].base & 0xffffffffull, 2, &link));
    rc_task_origin o;
    memset(&o, 0, sizeof(o));
    o.reason = RC_TASK_IRET;
    o.ret_eip = cpu->rip; /* the abandoned task resumes after its IRET */
    o.eflags = rc_get_rflags(cpu);
    o.restart = true;
    bool committed;
    return rc_task_switch(cpu, (uint16_t)link, &o, &committed);
}

/* CF: IRET/IRETD/IRETQ. */
RC_HANDLER(ex_iret)
{
    unsigned sz = in->opsize;
    if (cpu->mode == RC_MODE_REAL)
        return iret_real(cpu, sz);
    if (cpu->mode == RC_MODE_VM86)
        return rc_unsupported(cpu, "IRET in virtual-8086 mode (VM86 is not modeled)");
    if (rc_get_rflags(cpu) & RC_FLAG_NT) {
        /* SDM Vol. 2A IRET IA-32e-MODE: "IF NT = 1 THEN #GP(0)" (Vol. 3A
         * 8.7: no task switches in IA-32e mode). */
        FAULT_IF(cpu, cpu->efer & RC_EFER_LMA, RC_EXC_GP, 0, "IRET with NT = 1 in IA-32e mode");
        return iret_task_return(cpu);
    }
    return iret_protected(cpu, sz);
}

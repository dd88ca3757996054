/*
 * task.c - hardware task switches in legacy protected mode.
 *
 * Sources: SDM Vol. 3A chapter 8 "Task Management": 8.2.1 (32-bit TSS,
 * Figure 8-2), 8.2.2 (TSS descriptor, Figure 8-3), 8.3 "Task Switching"
 * (steps 1-14, Table 8-1 "Exception Conditions Checked During a Task
 * Switch"), 8.4 "Task Linking" (Table 8-2: busy flag, NT, back link), 8.6
 * (16-bit TSS, Figure 8-12); SDM Vol. 3A 6.15 Table 6-6 (#TS conditions);
 * SDM Vol. 2A CALL/JMP (TASK-GATE, TASK-STATE-SEGMENT), IRET (TASK-RETURN),
 * INT n (TASK-GATE); AMD APM Vol. 2 chapter 12 "Task Management".
 *
 * Shape (8.3, the note after step 14): everything up to the commit point
 * is checked and read first -- the new TSS descriptor, both TSS limits,
 * the new task's state, and the page translation of every write the switch
 * makes (old TSS, new back link, both busy bits) -- so a fault there leaves
 * the old task exactly as it was. Then the writes and the register loads;
 * the new task's descriptors are qualified after that, and a fault there
 * is taken "in the context of the new task" (step 13): the switch stays
 * done and the frame names the new task's CS:EIP.
 *
 * Where the SDM gives no order among the post-commit checks (Table 8-1 is
 * a list, not a sequence), Bochs's order is used: LDTR, SS, DS, ES, FS,
 * GS, CS, then the error code push and the EIP limit check (QEMU checks CS
 * before SS). A vector with a single bad field does not depend on it.
 */
#include <stdio.h>

#include "task.h"

/* ------------------------------------------------------------------ TSS layouts */

/* SDM Vol. 3A 8.2.1 Figure 8-2 (32-bit TSS). */
enum {
    TSS_LINK = 0x00,       /* previous task link, both formats */
    TSS32_CR3 = 0x1c,
    TSS32_EIP = 0x20,
    TSS32_EFLAGS = 0x24,
    TSS32_GPR = 0x28,      /* EAX ECX EDX EBX ESP EBP ESI EDI, 4 bytes each */
    TSS32_SEG = 0x48,      /* ES CS SS DS FS GS, a 4-byte slot each */
    TSS32_LDT = 0x60,
    TSS32_TRAP = 0x64,     /* bit 0: T, the debug trap flag */
    TSS32_MIN_LIMIT = 0x67,/* 8.2.2: "limit ... equal to or greater than 67H" */
    TSS32_SAVE_LAST = 0x5f,/* last byte the state save writes (the GS slot) */
};

/* SDM Vol. 3A 8.6 Figure 8-12 (16-bit TSS). */
enum {
    TSS16_IP = 0x0e,
    TSS16_FLAGS = 0x10,
    TSS16_GPR = 0x12,      /* AX CX DX BX SP BP SI DI, 2 bytes each */
    TSS16_SEG = 0x22,      /* ES CS SS DS */
    TSS16_LDT = 0x2a,
    TSS16_MIN_LIMIT = 0x2b,/* Table 6-6: "less than 2CH for 16-bit TSS" -> #TS */
    TSS16_SAVE_LAST = 0x29,/* the DS slot */
};

#define TSS_TYPE_BUSY 0x2u     /* Figure 8-3: the B flag of the type field */
#define TSS_TYPE_32 0x8u       /* types 9/11 are 32-bit TSSs, 1/3 16-bit ones */
#define TSS_TRAP_T 0x1u
#define DESC_ACCESS_BYTE 5     /* byte 5 of a descriptor holds type/S/DPL/P */
#define SEL_TI 0x4u
#define NSEG 6                 /* ES CS SS DS FS GS: TSS order = rc_seg_reg order */
#define EFLAGS_VALID 0x3f7fd5u /* the EFLAGS bits that exist (Vol. 1 3.4.3) */
#define LIN32 0xffffffffull    /* linear addresses wrap at 4 GiB outside IA-32e mode */
/* SDM Vol. 3A 18.2.4: "the processor clears the L0-L3 flags (and LE) on
 * every task switch". */
#define DR7_LOCAL_ENABLES 0x155ull

/* The new task's state as the TSS holds it (8.3 step 12). */
typedef struct task_image {
    bool tss32;
    uint32_t eip, eflags, cr3;
    uint32_t gpr[8];
    uint16_t sel[NSEG];
    uint16_t ldt;
    uint16_t trap;
} task_image;

static uint64_t tss_lin(uint64_t base, uint32_t off) { return (base + off) & LIN32; }

static rc_fault tss_read(rc_cpu *cpu, uint64_t base, uint32_t off, unsigned size, uint32_t *v)
{
    uint64_t x;
    TRY(rc_sys_read(cpu, tss_lin(base, off), size, &x));
    *v = (uint32_t)x;
    return RC_NOFAULT;
}

static rc_fault tss_write(rc_cpu *cpu, uint64_t base, uint32_t off, unsigned size, uint64_t v)
{
    return rc_lin_write(cpu, tss_lin(base, off), size, RC_ACC_WRITE | RC_ACC_SUPERVISOR, v);
}

/* 8.3 step 12: read everything the switch loads from the new TSS. 16-bit
 * TSS (8.6): no CR3, FS, GS or T flag; "when the general-purpose registers
 * are loaded ... from a 16-bit TSS, the upper 16 bits of the registers are
 * modified and not maintained": they become FFFFH as Bochs and QEMU make
 * them; FS and GS are loaded with null selectors (Bochs, QEMU). */
static rc_fault read_image(rc_cpu *cpu, const rc_segment *tss, task_image *im)
{
    uint64_t b = tss->base;
    uint32_t v;
    memset(im, 0, sizeof(*im));
    im->tss32 = (tss->type & TSS_TYPE_32) != 0;
    if (im->tss32) {
        TRY(tss_read(cpu, b, TSS32_CR3, 4, &im->cr3));
        TRY(tss_read(cpu, b, TSS32_EIP, 4, &im->eip));
        TRY(tss_read(cpu, b, TSS32_EFLAGS, 4, &im->eflags));
        for (unsigned i = 0; i < 8; i++)
            TRY(tss_read(cpu, b, TSS32_GPR + 4 * i, 4, &im->gpr[i]));
        for (unsigned i = 0; i < NSEG; i++) {
            TRY(tss_read(cpu, b, TSS32_SEG + 4 * i, 2, &v));
            im->sel[i] = (uint16_t)v;
        }
        TRY(tss_read(cpu, b, TSS32_LDT, 2, &v));
        im->ldt = (uint16_t)v;
        TRY(tss_read(cpu, b, TSS32_TRAP, 2, &v));
        im->trap = (uint16_t)v;
    } else {
        TRY(tss_read(cpu, b, TSS16_IP, 2, &im->eip));
        TRY(tss_read(cpu, b, TSS16_FLAGS, 2, &im->eflags));
        for (unsigned i = 0; i < 8; i++) {
            TRY(tss_read(cpu, b, TSS16_GPR + 2 * i, 2, &v));
            im->gpr[i] = 0xffff0000u | v;
        }
        for (unsigned i = 0; i < 4; i++) {
            TRY(tss_read(cpu, b, TSS16_SEG + 2 * i, 2, &v));
            im->sel[i] = (uint16_t)v;
        }
        TRY(tss_read(cpu, b, TSS16_LDT, 2, &v));
        im->ldt = (uint16_t)v;
        im->cr3 = (uint32_t)cpu->cr3;
    }
    return RC_NOFAULT;
}

/* 8.3 step 5: "checks that the current (old) TSS, new TSS, and all segment
 * descriptors used in the task switch are paged into system memory" --
 * here: every byte the switch will write translates for a supervisor
 * write, so the writes after the commit point cannot fault. */
static rc_fault check_writable(rc_cpu *cpu, uint64_t first, uint64_t last)
{
    if (!cpu->paging)
        return RC_NOFAULT;
    uint64_t phys;
    first &= LIN32;
    last &= LIN32;
    TRY(rc_translate(cpu, first, RC_ACC_WRITE | RC_ACC_SUPERVISOR, &phys));
    if ((last & RC_PAGE_MASK) != (first & RC_PAGE_MASK))
        TRY(rc_translate(cpu, last, RC_ACC_WRITE | RC_ACC_SUPERVISOR, &phys));
    return RC_NOFAULT;
}

/* The access byte of the GDT descriptor 'sel' names (TSS descriptors are
 * in the GDT only, 8.2.2). */
static uint64_t desc_access_lin(const rc_cpu *cpu, uint16_t sel)
{
    return (cpu->gdtr.base + (sel & 0xfff8u) + DESC_ACCESS_BYTE) & LIN32;
}

/* 8.4 Table 8-2: set or clear the busy flag of a TSS descriptor. */
static rc_fault set_busy(rc_cpu *cpu, uint16_t sel, bool busy)
{
    uint64_t lin = desc_access_lin(cpu, sel), b;
    TRY(rc_lin_read(cpu, lin, 1, RC_ACC_READ | RC_ACC_SUPERVISOR, &b));
    b = busy ? (b | TSS_TYPE_BUSY) : (b & ~(uint64_t)TSS_TYPE_BUSY);
    return rc_lin_write(cpu, lin, 1, RC_ACC_WRITE | RC_ACC_SUPERVISOR, b);
}

/* 8.3 step 8: the current state into the current TSS: EIP, the EFLAGS
 * image, the general-purpose registers and the segment selectors (not CR3,
 * LDTR or the stack pointers of the inner levels: static fields). A 32-bit
 * TSS gets 4-byte selector slots with the upper half 0 (SDM Vol. 3A
 * 22.28.2, P6 family and later); a 16-bit TSS loses the upper halves (8.6). */
static rc_fault save_state(rc_cpu *cpu, uint64_t base, bool tss32, uint64_t eip, uint64_t fl)
{
    if (tss32) {
        TRY(tss_write(cpu, base, TSS32_EIP, 4, eip & LIN32));
        TRY(tss_write(cpu, base, TSS32_EFLAGS, 4, fl & LIN32));
        for (unsigned i = 0; i < 8; i++)
            TRY(tss_write(cpu, base, TSS32_GPR + 4 * i, 4, cpu->gpr[i] & LIN32));
        for (unsigned i = 0; i < NSEG; i++)
            TRY(tss_write(cpu, base, TSS32_SEG + 4 * i, 4, cpu->seg[i].selector));
    } else {
        TRY(tss_write(cpu, base, TSS16_IP, 2, eip & 0xffff));
        TRY(tss_write(cpu, base, TSS16_FLAGS, 2, fl & 0xffff));
        for (unsigned i = 0; i < 8; i++)
            TRY(tss_write(cpu, base, TSS16_GPR + 2 * i, 2, cpu->gpr[i] & 0xffff));
        for (unsigned i = 0; i < 4; i++)
            TRY(tss_write(cpu, base, TSS16_SEG + 2 * i, 2, cpu->seg[i].selector));
    }
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ step 13: the new descriptors */

/* Table 8-1 "LDT segment selector of new task is valid" / "LDT of new task
 * is present": #TS(new task's LDT); Bochs and QEMU: TI = 1, outside the
 * GDT, not an LDT descriptor or not present -> #TS(LDT selector). A null
 * selector leaves LDTR unusable. */
static rc_fault load_ldtr(rc_cpu *cpu, uint16_t sel)
{
    if (rc_sel_is_null(sel))
        return RC_NOFAULT;
    FAULT_IF(cpu, sel & SEL_TI, RC_EXC_TS, rc_sel_err(sel),
             "the new task's LDT selector has TI = 1 (LDT descriptors are in the GDT)");
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_TS, &d));
    FAULT_IF(cpu, d.seg.s || d.seg.type != RC_DT_LDT, RC_EXC_TS, rc_sel_err(sel),
             "the new task's LDT selector does not name an LDT descriptor");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_TS, rc_sel_err(sel),
             "the new task's LDT is not present");
    rc_seg_from_desc(&cpu->seg[RC_SEG_LDTR], sel, &d);
    return RC_NOFAULT;
}

/* Table 8-1: "SS segment selector is valid" (#TS), "Stack segment is
 * present" (#SS), "Stack segment DPL matches CPL" (#TS), "Stack segment
 * DPL matches selector RPL" (#TS), each with the new SS selector. CPL is
 * the new CS selector's RPL. */
static rc_fault load_ss(rc_cpu *cpu, uint16_t sel, uint8_t cpl)
{
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_TS, rc_sel_err(sel),
             "the new task's SS selector is null");
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_TS, &d));
    FAULT_IF(cpu, !rc_seg_is_writable_data(&d.seg), RC_EXC_TS, rc_sel_err(sel),
             "the new task's SS is not a writable data segment");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_SS, rc_sel_err(sel),
             "the new task's stack segment is not present");
    FAULT_IF(cpu, d.seg.dpl != cpl, RC_EXC_TS, rc_sel_err(sel),
             "the new task's stack segment DPL differs from its CPL (the CS RPL)");
    FAULT_IF(cpu, d.seg.dpl != (sel & 3), RC_EXC_TS, rc_sel_err(sel),
             "the new task's stack segment DPL differs from the SS selector's RPL");
    if (!(d.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, sel, &d));
    rc_seg_from_desc(&cpu->seg[RC_SEG_SS], sel, &d);
    return RC_NOFAULT;
}

/* Table 8-1: "DS, ES, FS, and GS segment selectors are valid", "...
 * segments are readable", "... DPL greater than or equal to CPL (unless
 * these are conforming segments)" -> #TS(selector); "... present" ->
 * #NP(selector). The RPL is checked as for MOV (Bochs, QEMU). Null
 * selectors are allowed (the register becomes unusable). */
static rc_fault load_data(rc_cpu *cpu, unsigned reg, uint16_t sel, uint8_t cpl)
{
    if (rc_sel_is_null(sel))
        return RC_NOFAULT;
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_TS, &d));
    bool code = rc_seg_is_code(&d.seg);
    FAULT_IF(cpu, !d.seg.s || (code && !(d.seg.type & RC_SEGT_RW)), RC_EXC_TS, rc_sel_err(sel),
             "a new task's data segment selector names neither data nor readable code");
    bool data_or_nc = !code || !(d.seg.type & RC_SEGT_DC);
    FAULT_IF(cpu, data_or_nc && (cpl > d.seg.dpl || (sel & 3) > d.seg.dpl), RC_EXC_TS,
             rc_sel_err(sel), "a new task's data segment has a DPL below its CPL or the RPL");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_NP, rc_sel_err(sel),
             "a new task's data segment is not present");
    if (!(d.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, sel, &d));
    rc_seg_from_desc(&cpu->seg[reg], sel, &d);
    return RC_NOFAULT;
}

/* Table 8-1: "CS segment selector is valid" (#TS), "Code segment DPL
 * matches segment selector RPL" (#TS; a conforming segment: DPL <= RPL),
 * "Code segment is present" (#NP), with the new CS selector. */
static rc_fault load_cs(rc_cpu *cpu, uint16_t sel)
{
    FAULT_IF(cpu, rc_sel_is_null(sel), RC_EXC_TS, rc_sel_err(sel),
             "the new task's CS selector is null");
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_TS, &d));
    FAULT_IF(cpu, !rc_seg_is_code(&d.seg), RC_EXC_TS, rc_sel_err(sel),
             "the new task's CS does not name a code segment");
    bool conf = rc_seg_is_conforming(&d.seg);
    FAULT_IF(cpu, conf ? d.seg.dpl > (sel & 3) : d.seg.dpl != (sel & 3), RC_EXC_TS,
             rc_sel_err(sel), "the new task's code segment DPL does not match its selector's RPL");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_NP, rc_sel_err(sel),
             "the new task's code segment is not present");
    if (!(d.seg.type & RC_SEGT_ACCESSED))
        TRY(rc_desc_set_accessed(cpu, sel, &d));
    rc_seg_from_desc(&cpu->seg[RC_SEG_CS], sel, &d);
    return RC_NOFAULT;
}

/* The new task's segment registers, after the commit (8.3 step 13). CPL
 * is 3 while SS is qualified, as in Bochs: an exception found there is
 * then delivered with a stack switch from the new TSS instead of onto a
 * stack that was never loaded. */
static rc_fault load_segments(rc_cpu *cpu, const task_image *im, uint8_t cpl)
{
    TRY(load_ldtr(cpu, im->ldt));
    cpu->cpl = 3;
    TRY(load_ss(cpu, im->sel[RC_SEG_SS], cpl));
    cpu->cpl = cpl;
    static const uint8_t data[] = { RC_SEG_DS, RC_SEG_ES, RC_SEG_FS, RC_SEG_GS };
    for (unsigned i = 0; i < sizeof(data); i++)
        TRY(load_data(cpu, data[i], im->sel[data[i]], cpl));
    return load_cs(cpu, im->sel[RC_SEG_CS]);
}

/* INT n TASK-GATE: "IF interrupt caused by fault with error code THEN IF
 * stack limit does not allow push of error code THEN #SS(EXT); FI;
 * Push(error code)" -- on the new task's stack, 4 bytes for a 32-bit TSS,
 * 2 for a 16-bit one. */
static rc_fault push_error_code(rc_cpu *cpu, bool tss32, uint32_t err)
{
    unsigned size = tss32 ? 4 : 2;
    const rc_segment *ss = &cpu->seg[RC_SEG_SS];
    unsigned asz = ss->db ? 4 : 2;
    uint64_t off = (cpu->gpr[4] - size) & rc_size_mask(asz);
    FAULT_IF(cpu, !rc_stack_room(ss, off, size), RC_EXC_SS, 0,
             "no room for the error code on the new task's stack");
    unsigned acc = RC_ACC_WRITE | (cpu->cpl < 3 ? RC_ACC_SUPERVISOR : 0);
    TRY(rc_lin_write(cpu, (ss->base + off) & LIN32, size, acc, err));
    rc_set_gpr(cpu, 4, asz, false, off);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ the explanation */

static void explain(rc_cpu *cpu, const rc_task_origin *o, uint16_t old_tr, uint16_t sel,
                    const task_image *im, bool load_cr3, const rc_transition *t)
{
    if (!rc_tr_explained(cpu))
        return;
    char how[72], link[40], cr3[48];
    static const char *const names[] = { "CALL", "JMP", "IRET, NT = 1", "INT" };
    if (o->via_idt)
        snprintf(how, sizeof how, "%s via IDT[%u] task gate", o->event ? o->event : "event",
                 o->vector);
    else if (o->via_gate)
        snprintf(how, sizeof how, "%s via task gate 0x%x", names[o->reason], o->gate_sel);
    else
        snprintf(how, sizeof how, "%s", names[o->reason]);
    if (o->reason == RC_TASK_CALL || o->reason == RC_TASK_INT)
        snprintf(link, sizeof link, "back link 0x%x, NT = 1", old_tr);
    else
        snprintf(link, sizeof link, "TSS 0x%x no longer busy", old_tr);
    if (load_cr3)
        snprintf(cr3, sizeof cr3, "CR3 0x%llx -> 0x%x", (unsigned long long)cpu->cr3, im->cr3);
    else
        snprintf(cr3, sizeof cr3, "CR3 kept (%s)", im->tss32 ? "paging off" : "16-bit TSS");
    snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "task switch (%s) TSS 0x%x -> 0x%x (%s), %s, %s, CPL %u->%u, -> 0x%x:0x%llx, "
             "stack 0x%x:0x%llx",
             how, old_tr, sel, im->tss32 ? "32-bit" : "16-bit", link, cr3, t->old_cpl,
             t->new_cpl, t->new_cs, (unsigned long long)t->new_rip, t->new_ss,
             (unsigned long long)t->new_rsp);
}

/* ------------------------------------------------------------------ the switch */

/* A write after the commit point whose translation was checked before it
 * can fail only on MMIO without a callback. */
#define COMMIT_WRITE(cpu, expr)                                                                    \
    do {                                                                                           \
        if (RC_FAILED(expr))                                                                       \
            return rc_unsupported((cpu), "a TSS or GDT write of a task switch that failed after "  \
                                         "its checks passed (MMIO without a callback?)");          \
    } while (0)

/* A fault of the new task (8.3 step 13): the frame names its CS:EIP. The
 * after-hook sees the switch; the exception follows as its own event. */
static rc_fault in_new_task(rc_cpu *cpu, rc_transition *t, rc_fault f)
{
    rc_update_mode(cpu);
    cpu->insn_rip = cpu->rip;
    cpu->cur_insn = NULL;
    t->new_mode = cpu->mode;
    size_t n = strlen(cpu->transition_text);
    if (f.kind == RCF_EXCEPTION && n < sizeof(cpu->transition_text) && rc_tr_explained(cpu))
        snprintf(cpu->transition_text + n, sizeof(cpu->transition_text) - n,
                 "; then exception %u (0x%x) in the new task: %s", f.vector, f.error,
                 cpu->fault_reason ? cpu->fault_reason : "");
    if (cpu->hooks.transition_after)
        (void)rc_fire_transition(cpu, t, false);
    return f;
}

rc_fault rc_task_switch(rc_cpu *cpu, uint16_t sel, const rc_task_origin *o, bool *committed)
{
    *committed = false;
    if (cpu->efer & RC_EFER_LMA) /* the callers raise #GP first (8.7) */
        return rc_unsupported(cpu, "internal: a task switch requested in IA-32e mode");
    bool iret = o->reason == RC_TASK_IRET;
    bool nested = o->reason == RC_TASK_CALL || o->reason == RC_TASK_INT;
    bool clear_old = o->reason == RC_TASK_JMP || iret;
    /* Table 8-1: a bad TSS selector or descriptor is #GP for JMP, CALL and
     * INT, #TS for IRET (Table 6-6 "During an IRET task switch ..."). */
    uint8_t vec = iret ? RC_EXC_TS : RC_EXC_GP;

    /* "Segment selector for a TSS descriptor references the GDT and is
     * within the limits of the table" (CALL/JMP: "IF TSS segment selector
     * local/global bit is set to local or index not within GDT limits THEN
     * #GP(TSS selector)"). */
    FAULT_IF(cpu, sel & SEL_TI, vec, rc_sel_err(sel),
             "the TSS selector references the LDT (TSS descriptors are in the GDT only)");
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, false, vec, &d));
    /* TSS types 1, 3 (16-bit), 9, 11 (32-bit): (type & 5) == 1. CALL, JMP
     * and INT need an available TSS ("IF TSS descriptor specifies that the
     * TSS is busy THEN #GP(TSS selector)"); IRET a busy one ("the backlink
     * points to a descriptor which is not a busy TSS" -> #TS). */
    bool is_tss = !d.seg.s && (d.seg.type & 5u) == 1u;
    bool busy = (d.seg.type & TSS_TYPE_BUSY) != 0;
    if (iret)
        FAULT_IF(cpu, !is_tss || !busy, vec, rc_sel_err(sel),
                 "IRET task return: the back link does not name a busy TSS");
    else
        FAULT_IF(cpu, !is_tss || busy, vec, rc_sel_err(sel),
                 "task switch to a TSS that is busy or not an available TSS");
    /* "P flag in TSS descriptor is set" -> #NP(new TSS). */
    FAULT_IF(cpu, !d.seg.present, RC_EXC_NP, rc_sel_err(sel), "the new TSS is not present");
    /* "TSS segment limit greater than or equal to 108 (for 32-bit TSS) or
     * 44 (for 16-bit TSS)" -> #TS(new TSS). */
    bool new32 = (d.seg.type & TSS_TYPE_32) != 0;
    FAULT_IF(cpu, d.seg.limit < (new32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT), RC_EXC_TS,
             rc_sel_err(sel), "the new TSS limit is below 67H (32-bit) / 2BH (16-bit)");
    /* Table 6-6 "Stores to the old TSS encounter a fault condition" ->
     * #TS(old TSS): the saved state must fit in the current TSS's limit. */
    const rc_segment *tr = &cpu->seg[RC_SEG_TR];
    bool old32 = (tr->type & TSS_TYPE_32) != 0;
    FAULT_IF(cpu, tr->limit < (old32 ? TSS32_SAVE_LAST : TSS16_SAVE_LAST), RC_EXC_TS,
             rc_sel_err(tr->selector), "the current TSS is too small to save the task state");

    task_image im;
    TRY(read_image(cpu, &d.seg, &im));
    if (im.tss32 && (im.eflags & RC_FLAG_VM))
        return rc_unsupported(cpu, "task switch to a virtual-8086 task (EFLAGS.VM = 1 in the "
                                   "new TSS; VM86 is not modeled)");
    if (im.tss32 && (im.trap & TSS_TRAP_T))
        return rc_unsupported(cpu, "task switch to a TSS with the T (debug trap) flag set "
                                   "(the #DB of SDM Vol. 3A 18.3.1.5 is not modeled)");

    /* Step 5: every write the switch makes must be possible. */
    uint64_t obase = tr->base, nbase = d.seg.base;
    TRY(check_writable(cpu, tss_lin(obase, old32 ? TSS32_EIP : TSS16_IP),
                       tss_lin(obase, old32 ? TSS32_SAVE_LAST : TSS16_SAVE_LAST)));
    if (nested)
        TRY(check_writable(cpu, tss_lin(nbase, TSS_LINK), tss_lin(nbase, TSS_LINK + 1)));
    if (clear_old)
        TRY(check_writable(cpu, desc_access_lin(cpu, tr->selector),
                           desc_access_lin(cpu, tr->selector)));
    if (!iret)
        TRY(check_writable(cpu, desc_access_lin(cpu, sel), desc_access_lin(cpu, sel)));

    /* The transition, as far as it is known before the new descriptors are
     * loaded. */
    uint8_t new_cpl = im.sel[RC_SEG_CS] & 3;
    bool load_cr3 = im.tss32 && (cpu->cr0 & RC_CR0_PG);
    uint16_t old_tr = tr->selector;
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_TASK_SWITCH);
    if (o->via_idt)
        t.old_rip = o->ret_eip;
    t.gate = o->via_idt ? o->vector : o->via_gate ? o->gate_sel : sel;
    t.new_cpl = new_cpl;
    t.new_cs = im.sel[RC_SEG_CS];
    t.new_ss = im.sel[RC_SEG_SS];
    t.new_rip = im.eip;
    t.new_rsp = im.gpr[4];
    t.new_mode = im.tss32 ? RC_MODE_PROT32 : RC_MODE_PROT16; /* until CS is loaded */
    explain(cpu, o, old_tr, sel, &im, load_cr3, &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, o->restart, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    /* ---- the writes (8.3 steps 6-10) ---- */
    /* Step 6: JMP/IRET clear the old task's busy flag. */
    if (clear_old)
        COMMIT_WRITE(cpu, set_busy(cpu, old_tr, false));
    /* Step 7: IRET clears NT in the saved EFLAGS image. */
    uint64_t saved_fl = o->eflags;
    if (iret)
        saved_fl &= ~(uint64_t)RC_FLAG_NT;
    /* Step 8: the old task's state. */
    COMMIT_WRITE(cpu, save_state(cpu, obase, old32, o->ret_eip, saved_fl));
    /* 8.4: CALL, interrupt, exception: "copies the segment selector for the
     * current TSS to the previous task link field of the TSS for the new
     * task". */
    if (nested)
        COMMIT_WRITE(cpu, tss_write(cpu, nbase, TSS_LINK, 2, old_tr));
    /* Step 10: CALL, JMP, interrupt, exception set the new busy flag. */
    if (!iret)
        COMMIT_WRITE(cpu, set_busy(cpu, sel, true));

    /* ---- the commit point: the new task's registers (steps 11-12) ---- */
    *committed = true;
    rc_seg_from_desc(&cpu->seg[RC_SEG_TR], sel, &d);
    cpu->seg[RC_SEG_TR].type |= TSS_TYPE_BUSY;
    /* "The TS flag in CR0 is set every time a task switch occurs" (8.3). */
    cpu->cr0 |= RC_CR0_TS;
    cpu->dr[7] &= ~DR7_LOCAL_ENABLES;
    /* Step 9: CALL and events set NT in the loaded EFLAGS; a 16-bit TSS
     * holds FLAGS only (the upper half becomes 0, as in Bochs). */
    uint64_t nfl = im.eflags & EFLAGS_VALID & (im.tss32 ? LIN32 : 0xffffull);
    if (nested)
        nfl |= RC_FLAG_NT;
    rc_set_rflags(cpu, nfl);
    cpu->rip = im.tss32 ? im.eip : (im.eip & 0xffff);
    for (unsigned i = 0; i < 8; i++)
        cpu->gpr[i] = im.gpr[i];
    /* Step 12: CR3 from a 32-bit TSS when paging is on ("If paging is not
     * enabled, a PDBR value is read from the new task's TSS, but it is not
     * loaded into CR3"; a 16-bit TSS has none, 8.6). */
    if (load_cr3) {
        cpu->cr3 = im.cr3;
        rc_tlb_flush_all(cpu, true);
    }
    /* The selectors are loaded; the hidden parts are unusable until each
     * descriptor is qualified (step 13). */
    for (unsigned i = 0; i < NSEG; i++) {
        memset(&cpu->seg[i], 0, sizeof(cpu->seg[i]));
        cpu->seg[i].selector = im.sel[i];
        cpu->seg[i].unusable = 1;
    }
    memset(&cpu->seg[RC_SEG_LDTR], 0, sizeof(cpu->seg[RC_SEG_LDTR]));
    cpu->seg[RC_SEG_LDTR].selector = im.ldt;
    cpu->seg[RC_SEG_LDTR].unusable = 1;
    cpu->cpl = new_cpl;
    cpu->inhibit_irq = 0;
    cpu->halted = false;

    /* ---- step 13: faults from here on are the new task's ---- */
    rc_fault f = load_segments(cpu, &im, new_cpl);
    if (RC_FAILED(f))
        return in_new_task(cpu, &t, f);
    if (o->reason == RC_TASK_INT && o->has_err) {
        f = push_error_code(cpu, im.tss32, o->err);
        if (RC_FAILED(f))
            return in_new_task(cpu, &t, f);
    }
    /* "IF EIP not within code segment limit THEN #GP(0)" (CALL/JMP/IRET;
     * INT n: #GP(EXT), EXT added by the delivery). */
    if (cpu->rip > cpu->seg[RC_SEG_CS].limit) {
        cpu->fault_reason = "the new task's EIP is beyond its code segment limit";
        return in_new_task(cpu, &t, rc_exc_err(RC_EXC_GP, 0));
    }
    rc_update_mode(cpu);
    t.new_mode = cpu->mode;
    t.new_rsp = cpu->gpr[4];
    return rc_tr_after(cpu, &t, stop);
}

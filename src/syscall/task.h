/*
 * task.h - hardware task switches (src/syscall/task.c), shared with the
 * transitions that lead to one: far CALL/JMP (far.c), IRET with NT = 1
 * (int.c) and task gates in the IDT (deliver.c).
 *
 * SDM Vol. 3A chapter 8 "Task Management" (8.3 task switching, Table 8-1,
 * 8.4 task linking); AMD APM Vol. 2 chapter 12.
 */
#ifndef RC_SYSCALL_TASK_H
#define RC_SYSCALL_TASK_H

#include "transfer.h"

/* What started the switch (SDM Vol. 3A 8.3, 8.4 Table 8-2): it decides the
 * busy bits, the back link and NT, and which exception a bad TSS selector
 * raises (#GP for CALL/JMP/INT, #TS for IRET, Table 8-1). */
typedef enum rc_task_reason {
    RC_TASK_CALL = 0, /* far CALL to a TSS or through a task gate: nested */
    RC_TASK_JMP,      /* far JMP: not nested */
    RC_TASK_IRET,     /* IRET with NT = 1: back to the back-link task */
    RC_TASK_INT       /* INT n / exception through an IDT task gate: nested */
} rc_task_reason;

typedef struct rc_task_origin {
    rc_task_reason reason;
    bool via_gate;        /* reached through a task gate (GDT/LDT or IDT) */
    bool via_idt;         /* the gate is IDT[vector] */
    uint16_t gate_sel;    /* GDT/LDT task gate selector (via_gate && !via_idt) */
    uint8_t vector;       /* IDT vector (via_idt) */
    const char *event;    /* the event in words for the explanation ("INT 0x30") */
    bool has_err;         /* RC_TASK_INT: push this error code on the new stack */
    uint32_t err;
    uint64_t ret_eip;     /* the EIP saved in the old TSS */
    uint64_t eflags;      /* the EFLAGS image saved in the old TSS (NT cleared for IRET here) */
    bool restart;         /* a vetoed switch re-executes the instruction (not for exceptions) */
} rc_task_origin;

/* Switch to the task whose TSS selector is 'tss_sel' (SDM Vol. 3A 8.3
 * steps 3-14). The caller has made the checks that precede the switch in
 * the pseudo-code of its instruction (gate DPL/present, TSS DPL). Returns:
 *  - RC_NOFAULT: the new task runs (RIP = its EIP);
 *  - a fault with *committed = false: nothing changed (the old task's
 *    fault);
 *  - a fault with *committed = true: the switch happened and the fault
 *    belongs to the new task ("in the context of the new task", 8.3 step
 *    13); cpu->insn_rip is then the new task's EIP, which the fault's frame
 *    must name;
 *  - RCF_UNSUPPORTED (a virtual-8086 task, the TSS T bit) before any change,
 *    RCF_EXIT when a hook stops the run. */
rc_fault rc_task_switch(rc_cpu *cpu, uint16_t tss_sel, const rc_task_origin *o, bool *committed);

#endif /* RC_SYSCALL_TASK_H */

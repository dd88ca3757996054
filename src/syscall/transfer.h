/*
 * transfer.h - what the transition instructions of src/syscall/ share:
 * event delivery (deliver.c), INT/IRET (int.c), far CALL/JMP/RET (far.c).
 * Private to src/syscall/ (and its tests); the rest of ringcore uses the
 * declarations in src/cpu/cpu.h and src/cpu/exec.h.
 */
#ifndef RC_SYSCALL_TRANSFER_H
#define RC_SYSCALL_TRANSFER_H

#include "exec.h"

/* Code/data descriptor type bits (S = 1), SDM Vol. 3A 3.4.5.1 Table 3-1. */
#define RC_SEGT_ACCESSED 0x1u
#define RC_SEGT_RW 0x2u         /* data: writable; code: readable */
#define RC_SEGT_DC 0x4u         /* data: expand-down; code: conforming */
#define RC_SEGT_CODE 0x8u

static inline bool rc_seg_is_code(const rc_segment *s) { return s->s && (s->type & RC_SEGT_CODE); }
static inline bool rc_seg_is_conforming(const rc_segment *s)
{
    return rc_seg_is_code(s) && (s->type & RC_SEGT_DC);
}
static inline bool rc_seg_is_writable_data(const rc_segment *s)
{
    return s->s && !(s->type & RC_SEGT_CODE) && (s->type & RC_SEGT_RW);
}
static inline uint32_t rc_sel_err(uint16_t sel) { return sel & 0xfffcu; }
static inline bool rc_sel_is_null(uint16_t sel) { return (sel & 0xfffcu) == 0; }

/* The kinds of event, as far as delivery cares (SDM Vol. 3A 6.12.1.1 and
 * 6.13; Vol. 2A "INT n/INTO/INT3/INT1"):
 *   HW       exceptions and external events: EXT = 1, no gate-DPL check
 *   INT_N    INT n (CD ib): EXT = 0, gate DPL >= CPL
 *   SOFT_EXC INT3 (CC) and INTO (CE): EXT = 0, gate DPL >= CPL
 *   INT1     INT1/ICEBP (F1): EXT = 1, no gate-DPL check */
typedef enum rc_event_kind { RC_EV_HW = 0, RC_EV_INT_N, RC_EV_SOFT_EXC, RC_EV_INT1 } rc_event_kind;

typedef struct rc_event {
    uint8_t vector;
    uint8_t kind;       /* rc_event_kind */
    bool has_err;
    bool set_cr2;       /* #PF: load CR2 with cr2 when delivery starts */
    uint32_t err;
    uint64_t cr2;
    uint64_t ret_rip;   /* the RIP pushed in the frame */
} rc_event;

/* deliver.c: deliver one event through the IVT/IDT. Hardware events
 * escalate (#DF, shutdown; SDM Vol. 3A 6.15 Table 6-5) and return
 * RC_NOFAULT or RCF_EXIT/RCF_UNSUPPORTED; software events (INT n, INT3,
 * INTO, INT1) return the fault of the instruction unchanged. */
rc_fault rc_deliver_event(rc_cpu *cpu, const rc_event *ev);

/* deliver.c: INT3/INTO/INT1 (intercepted like exceptions, VMX style) and
 * INT n (never intercepted): deliver with the next RIP pushed. */
rc_fault rc_raise_software(rc_cpu *cpu, uint8_t vector, rc_event_kind kind);

/* deliver.c: the transition hooks around a commit point. rc_tr_before
 * returns RC_NOFAULT to go on, RCF_EXIT (RC_EXIT_HOOK) for a veto; *skip is
 * set when the hook redirected (the transition must not happen), *stop when
 * the run must stop after it. 'restart': a vetoed instruction is
 * re-executed on resume (INT n, IRET, far transfers); a vetoed exception
 * delivery is dropped (RIP stays the one it would have pushed).
 * rc_tr_after fires the after-hook and returns RCF_EXIT when the run must
 * stop. */
rc_fault rc_tr_before(rc_cpu *cpu, const rc_transition *t, bool restart, bool *skip,
                      bool *stop);
rc_fault rc_tr_after(rc_cpu *cpu, const rc_transition *t, bool stop);

/* Whether a transition's explanation in words will be read: only the
 * transition hooks see it (docs/api.md), and formatting it costs more than
 * the transition itself (bench/transitions.c measured 89% of a
 * SYSCALL+SYSRETQ round trip in snprintf). Every explain site asks first. */
static inline bool rc_tr_explained(const rc_cpu *cpu)
{
    return cpu->hooks.transition_before || cpu->hooks.transition_after;
}

/* deliver.c: start a transition record from the current state: kind, the
 * old CPL/mode/CS/SS/RIP (cpu->insn_rip)/RSP, new SS:RSP = old until the
 * transition says otherwise, text = cpu->transition_text. */
void rc_tr_init(rc_cpu *cpu, rc_transition *t, rc_transition_kind kind);

/* deliver.c: SDM Vol. 3A 5.3 (limit checking, expand-down segments): may
 * 'size' bytes at offset 'off' of stack segment 'ss' be written? */
bool rc_stack_room(const rc_segment *ss, uint64_t off, unsigned size);

/* deliver.c: the operating mode that a CS cache (and VM flag) would give. */
rc_mode rc_mode_for(const rc_cpu *cpu, const rc_segment *cs, bool vm);

/* gate.c: far CALL (is_call) or far JMP through the call gate 'g' (its
 * first 8 bytes, as fetched by the caller) named by 'gsel'. */
rc_fault rc_far_via_call_gate(rc_cpu *cpu, uint16_t gsel, const rc_desc *g, bool is_call);

/* far.c: shared by far RET and IRET. */
/* Read 'size' bytes at SS:(RSP + delta) (stack-size wrap), without popping. */
rc_fault rc_stack_peek(rc_cpu *cpu, uint64_t delta, unsigned size, uint64_t *v);
/* The return code-segment checks of SDM Vol. 2A RET/IRET (protected mode). */
rc_fault rc_check_return_cs(rc_cpu *cpu, uint16_t sel, rc_desc *d);
/* The return stack-segment checks for a return to privilege 'rpl'; a null
 * SS is accepted only when returning to 64-bit mode at RPL < 3. */
rc_fault rc_check_return_ss(rc_cpu *cpu, uint16_t sel, uint8_t rpl, bool target64, rc_desc *d,
                            bool *is_null);
/* Commit helpers: CS (from a descriptor, RPL forced to cpl), SS (from a
 * descriptor or null with RPL), the stack pointer by the size of its SS, and
 * the DS/ES/FS/GS invalidation after a return to an outer level. */
void rc_commit_cs(rc_cpu *cpu, uint16_t sel, const rc_desc *d, uint8_t cpl);
void rc_commit_ss(rc_cpu *cpu, uint16_t sel, const rc_desc *d, bool is_null);
void rc_commit_rsp(rc_cpu *cpu, uint64_t rsp, bool target64);
void rc_null_outer_segments(rc_cpu *cpu);
/* Real/VM86 mode CS load: selector and base = sel << 4. */
void rc_commit_cs_real(rc_cpu *cpu, uint16_t sel);

#endif /* RC_SYSCALL_TRANSFER_H */

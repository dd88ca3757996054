/*
 * test_task.c - hardware task switches (src/syscall/task.c and its callers
 * in far.c, int.c, deliver.c).
 *
 * Judge: the SDM pseudo-code worked by hand (SDM Vol. 3A 8.3 "Task
 * Switching", Table 8-1, 8.4 "Task Linking" Table 8-2, 8.6 16-bit TSS;
 * Vol. 2A CALL/JMP TASK-GATE and TASK-STATE-SEGMENT, IRET TASK-RETURN,
 * INT n TASK-GATE). Ring-0 task switching cannot be observed on this host
 * (a 64-bit kernel, and IA-32e mode has no task switches); the live judges
 * for it are Bochs and QEMU through tests/vectors/tasks.
 *
 * The machine is the standard one (docs/standard-machine.md) in prot32:
 * GDT at 0x1000 (descriptor i at 0x1000 + 8i, its access byte at + 5), the
 * current TSS A at 0x3000 with selector 0x40 (busy, access byte 0x8b at
 * 0x1045), IDT at 0x2000, CR0 = 0x80010033, CR3 = 0x10000. Each test adds:
 *   TSS B at 0x600000, GDT index 11 -> selector 0x58 (access byte 0x105d),
 *   TSS C (16-bit) at 0x600200, GDT index 14 -> selector 0x70,
 *   a task gate at GDT index 13 -> selector 0x68,
 *   the new task's code at 0x601000.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "lib/machine.h"

#define TSS_A 0x3000u
#define TSS_B 0x600000u
#define TSS_C 0x600200u
#define TASK_CODE 0x601000u
#define SEL_A 0x40u
#define SEL_B 0x58u
#define SEL_GATE 0x68u
#define SEL_C 0x70u
#define ACC_A 0x1045u /* access byte of GDT[8] */
#define ACC_B 0x105du /* access byte of GDT[11] */
#define ACC_C 0x1075u /* access byte of GDT[14] */
#define CR0_STD 0x80010033ull
#define CR0_TS 0x8ull
#define NT 0x4000ull

static rc_cpu *cpu;
static rcm_options opt;

/* ------------------------------------------------------------------ helpers */

static void put(uint64_t pa, uint64_t v, unsigned n)
{
    ck_assert_int_eq(rc_write_phys(cpu, pa, &v, n), RC_OK);
}
static uint64_t get(uint64_t pa, unsigned n)
{
    uint64_t v = 0;
    ck_assert_int_eq(rc_read_phys(cpu, pa, &v, n), RC_OK);
    return v;
}
static uint64_t reg(rc_reg r)
{
    uint64_t v = 0;
    ck_assert_int_eq(rc_get_reg(cpu, r, &v), RC_OK);
    return v;
}
static void set(rc_reg r, uint64_t v) { ck_assert_int_eq(rc_set_reg(cpu, r, v), RC_OK); }
static rc_segment sreg(rc_seg_reg r)
{
    rc_segment s;
    ck_assert_int_eq(rc_get_seg(cpu, r, &s), RC_OK);
    return s;
}

/* A system descriptor (SDM Vol. 3A Figure 8-3): limit[15:0], base[23:0],
 * access byte P | DPL | type at bits 40-47 (S = 0), base[31:24]. */
static uint64_t tss_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, bool p)
{
    uint64_t acc = (p ? 0x80u : 0) | (dpl << 5) | type;
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | (acc << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)(base >> 24) << 56);
}
/* A task gate (SDM Vol. 3A Figure 8-4): TSS selector in bits 31:16, type 5. */
static uint64_t task_gate(uint16_t tss_sel, unsigned dpl, bool p)
{
    return ((uint64_t)tss_sel << 16) | ((uint64_t)((p ? 0x80u : 0) | (dpl << 5) | 5) << 40);
}
static void gdt_set(unsigned index, uint64_t d)
{
    put(RCM_GDT + 8ull * index, d, 8);
    rc_dtable g;
    ck_assert_int_eq(rc_get_gdtr(cpu, &g), RC_OK);
    if (g.limit < index * 8 + 7) {
        g.limit = (uint16_t)(index * 8 + 7);
        ck_assert_int_eq(rc_set_gdtr(cpu, &g), RC_OK);
    }
}

/* The 32-bit TSS of Figure 8-2 for a new task. */
typedef struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t gpr[8];
    uint32_t seg[6]; /* ES CS SS DS FS GS */
    uint32_t ldt;
} tss32;

/* A ring-0 task: CS 0x08, SS/DS/ES/FS/GS 0x18, ESP 0x108000, EIP 0x601000,
 * EFLAGS 0x2, GPRs 0xa0000001.., CR3 0x10000, SS0:ESP0 0x18:0x10c000. */
static tss32 task0(void)
{
    tss32 t = { .esp0 = 0x10c000, .ss0 = 0x18, .cr3 = 0x10000, .eip = TASK_CODE, .eflags = 2,
                .gpr = { 0xa0000001, 0xa0000002, 0xa0000003, 0xa0000004, 0x108000, 0xa0000006,
                         0xa0000007, 0xa0000008 },
                .seg = { 0x18, 0x08, 0x18, 0x18, 0x18, 0x18 } };
    return t;
}
static void write_tss32(uint32_t at, const tss32 *t)
{
    const uint32_t w[] = { t->link, t->esp0, t->ss0, t->esp1, t->ss1, t->esp2, t->ss2, t->cr3,
                           t->eip, t->eflags, t->gpr[0], t->gpr[1], t->gpr[2], t->gpr[3],
                           t->gpr[4], t->gpr[5], t->gpr[6], t->gpr[7], t->seg[0], t->seg[1],
                           t->seg[2], t->seg[3], t->seg[4], t->seg[5], t->ldt, 0x00680000 };
    ck_assert_int_eq(rc_write_phys(cpu, at, w, sizeof w), RC_OK);
}

static void build(unsigned cpl, const char *code_hex)
{
    rcm_options o = RCM_OPTIONS_INIT;
    o.mode = RCM_PROT32;
    o.cpl = cpl;
    opt = o;
    char err[256];
    ck_assert_msg(rcm_build(&o, &cpu, err, sizeof err) == RC_OK, "%s", err);
    uint8_t buf[64];
    size_t n = 0;
    for (const char *h = code_hex; h[0] && h[1] && n < sizeof buf;) {
        if (*h == ' ') {
            h++;
            continue;
        }
        buf[n++] = (uint8_t)strtoul((char[]){ h[0], h[1], 0 }, NULL, 16);
        h += 2;
    }
    ck_assert_msg(rcm_load_code(cpu, &o, buf, n, err, sizeof err) == RC_OK, "%s", err);
    /* Old task's GPRs, to see them saved: EAX 0x11111111 ... EDI 0x77777777. */
    set(RC_REG_RAX, 0x11111111);
    set(RC_REG_RCX, 0x22222222);
    set(RC_REG_RDX, 0x33333333);
    set(RC_REG_RBX, 0x44444444);
    set(RC_REG_RBP, 0x55555555);
    set(RC_REG_RSI, 0x66666666);
    set(RC_REG_RDI, 0x77777777);
    gdt_set(11, tss_desc(TSS_B, 0x67, RC_DT_TSS_AVAIL, 0, true));
    tss32 b = task0();
    write_tss32(TSS_B, &b);
    put(TASK_CODE, 0xf4, 1); /* HLT */
}

static void teardown(void)
{
    rc_destroy(cpu);
    cpu = NULL;
}

/* Run n instructions; exceptions stop the run (intercepted). */
static rc_exit run(uint64_t n)
{
    rc_exit ex;
    ck_assert_int_eq(rc_set_intercept(cpu, 0xffffffffu), RC_OK);
    ck_assert_int_eq(rc_run(cpu, n, &ex), RC_OK);
    return ex;
}

/* A transition recorder. */
static rc_transition seen;
static char seen_text[256];
static unsigned seen_count;
static rc_hook_action record(void *o, rc_cpu *c, const rc_transition *t)
{
    (void)o;
    (void)c;
    if (t->kind == RC_TR_TASK_SWITCH) {
        seen = *t;
        snprintf(seen_text, sizeof seen_text, "%s", t->text);
        seen_count++;
    }
    return RC_HOOK_CONTINUE;
}
static void hook(void)
{
    rc_hooks h;
    memset(&h, 0, sizeof h);
    h.transition_after = record;
    seen_count = 0;
    ck_assert_int_eq(rc_set_hooks(cpu, &h), RC_OK);
}

/* ------------------------------------------------------------------ CALL and IRET back */

/* CALL 0x58:0 at CPL 0 (9A 00000000 5800, 7 bytes), then HLT at
 * 0x100007; B's code at 0x601000 is IRET.
 * After the CALL (SDM CALL TASK-STATE-SEGMENT: DPL 0 >= CPL 0, RPL 0;
 * SWITCH-TASKS with nesting; 8.3 steps 8-11, 8.4):
 *   A (0x3000): EIP 0x100007 at +0x20, EFLAGS 0x2 at +0x24, EAX..EDI at
 *   +0x28.. (ESP 0x110000 at +0x38), ES CS SS DS FS GS at +0x48..: 0x18,
 *   0x08, 0x18, 0x18, 0x18, 0x18. A stays busy (0x8b).
 *   B: link (+0) = 0x40; access byte 0x89 -> 0x8b; TR = 0x58.
 *   Registers: EIP 0x601000, EFLAGS 0x2 | NT = 0x4002, EAX 0xa0000001,
 *   ESP 0x108000, CS 0x08, SS 0x18, CR0 |= TS: 0x8001003b.
 * After B's IRET (NT = 1 -> TASK-RETURN to link 0x40, a busy TSS):
 *   B: access byte 0x8b -> 0x89 (the abandoned task is not busy); B's
 *   saved EIP 0x601001, EFLAGS 0x4002 with NT cleared in the image = 0x2.
 *   A reloaded: EIP 0x100007, EFLAGS 0x2 (A's image had NT = 0), EAX
 *   0x11111111, TR 0x40; A's busy flag untouched (0x8b). */
START_TEST(call_tss_then_iret_back)
{
    build(0, "9a000000005800 f4");
    put(TASK_CODE, 0xcf, 1); /* IRET */
    hook();
    rc_exit ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(get(TSS_A + 0x20, 4), 0x100007);
    ck_assert_uint_eq(get(TSS_A + 0x24, 4), 0x2);
    ck_assert_uint_eq(get(TSS_A + 0x28, 4), 0x11111111);
    ck_assert_uint_eq(get(TSS_A + 0x38, 4), 0x110000);
    ck_assert_uint_eq(get(TSS_A + 0x44, 4), 0x77777777);
    ck_assert_uint_eq(get(TSS_A + 0x48, 4), 0x18);
    ck_assert_uint_eq(get(TSS_A + 0x4c, 4), 0x08);
    ck_assert_uint_eq(get(TSS_A + 0x5c, 4), 0x18);
    ck_assert_uint_eq(get(TSS_B, 2), SEL_A);
    ck_assert_uint_eq(get(ACC_A, 1), 0x8b);
    ck_assert_uint_eq(get(ACC_B, 1), 0x8b);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_B);
    ck_assert_uint_eq(sreg(RC_SEG_TR).type, RC_DT_TSS_BUSY);
    ck_assert_uint_eq(reg(RC_REG_RIP), TASK_CODE);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x4002);
    ck_assert_uint_eq(reg(RC_REG_RAX), 0xa0000001);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x108000);
    ck_assert_uint_eq(reg(RC_REG_CR0), CR0_STD | CR0_TS);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x08);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x18);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_PROT32);
    /* The event: kind, selectors, and the words. */
    ck_assert_uint_eq(seen_count, 1);
    ck_assert_uint_eq(seen.old_cs, 0x08);
    ck_assert_uint_eq(seen.new_rip, TASK_CODE);
    ck_assert_uint_eq(seen.gate, SEL_B);
    ck_assert_msg(strstr(seen_text, "task switch (CALL) TSS 0x40 -> 0x58 (32-bit), back link "
                                    "0x40, NT = 1, CR3 0x10000 -> 0x10000, CPL 0->0") != NULL,
                  "%s", seen_text);

    ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(get(ACC_B, 1), 0x89);
    ck_assert_uint_eq(get(ACC_A, 1), 0x8b);
    ck_assert_uint_eq(get(TSS_B + 0x20, 4), 0x601001);
    ck_assert_uint_eq(get(TSS_B + 0x24, 4), 0x2);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x100007);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x2);
    ck_assert_uint_eq(reg(RC_REG_RAX), 0x11111111);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x110000);
    ck_assert_msg(strstr(seen_text, "task switch (IRET, NT = 1) TSS 0x58 -> 0x40 (32-bit), TSS "
                                    "0x58 no longer busy") != NULL, "%s", seen_text);
    ex = run(10);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x100008);
}
END_TEST

/* JMP 0x68:0 (EA 00000000 6800) through the DPL-3 task gate at GDT 13
 * naming B (SDM JMP TASK-GATE): not nested -- A's busy flag cleared (0x89),
 * B's set (0x8b), B's link field keeps 0x1234 (not written), NT from B's
 * image: EFLAGS 0x2. The event names the gate. */
START_TEST(jmp_via_task_gate)
{
    build(0, "ea000000006800 f4");
    gdt_set(13, task_gate(SEL_B, 3, true));
    put(TSS_B, 0x1234, 2);
    hook();
    rc_exit ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(get(ACC_A, 1), 0x89);
    ck_assert_uint_eq(get(ACC_B, 1), 0x8b);
    ck_assert_uint_eq(get(TSS_B, 2), 0x1234);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x2);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_B);
    ck_assert_uint_eq(get(TSS_A + 0x20, 4), 0x100007);
    ck_assert_uint_eq(seen.gate, SEL_GATE);
    ck_assert_msg(strstr(seen_text, "task switch (JMP via task gate 0x68) TSS 0x40 -> 0x58") !=
                      NULL, "%s", seen_text);
}
END_TEST

/* CR3 from the new 32-bit TSS with paging on (8.3 step 12): B's CR3 field
 * 0x18000, a page directory at 0x18000 with the standard PDEs 0..3
 * (0x11007, 0x12007, 0x13007, 0x14007): the switch loads CR3 = 0x18000 and
 * the new task's HLT is fetched through it. */
START_TEST(cr3_loaded_from_tss)
{
    build(0, "9a000000005800 f4");
    tss32 b = task0();
    b.cr3 = 0x18000;
    write_tss32(TSS_B, &b);
    for (unsigned i = 0; i < 4; i++)
        put(0x18000 + 4 * i, 0x11007 + 0x1000 * i, 4);
    hook();
    rc_exit ex = run(2);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(RC_REG_CR3), 0x18000);
    ck_assert_uint_eq(reg(RC_REG_RIP), TASK_CODE + 1);
    ck_assert_msg(strstr(seen_text, "CR3 0x10000 -> 0x18000") != NULL, "%s", seen_text);
}
END_TEST

/* ------------------------------------------------------------------ INT n / exceptions */

/* At CPL 3: MOV AX, 0x18 (66 B8 1800); MOV DS, AX (8E D8) -> #GP(0x18)
 * (DPL 0 < CPL 3, SDM MOV). IDT[13] is a task gate to B (DPL 0: an
 * exception is not DPL-checked). Delivered, not intercepted: SDM INT n
 * TASK-GATE: SWITCH-TASKS with nesting, then the error code is pushed on
 * B's stack, 4 bytes (32-bit TSS): ESP 0x108000 - 4 = 0x107ffc, [0x107ffc]
 * = 0x18. A's saved EIP is the faulting MOV DS at 0x400004; the EFLAGS
 * image has RF (18.3.1.1, a fault): 0x10002; B's link = 0x40; EFLAGS 0x4002. */
START_TEST(exception_with_error_code_via_idt_task_gate)
{
    build(3, "66b81800 8ed8");
    put(RCM_IDT + 8 * 13, task_gate(SEL_B, 0, true), 8);
    hook();
    rc_exit ex;
    ck_assert_int_eq(rc_set_intercept(cpu, 0), RC_OK);
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x107ffc);
    ck_assert_uint_eq(get(0x107ffc, 4), 0x18);
    ck_assert_uint_eq(get(TSS_A + 0x20, 4), 0x400004);
    ck_assert_uint_eq(get(TSS_A + 0x24, 4), 0x10002);
    ck_assert_uint_eq(get(TSS_A + 0x4c, 4), 0x23);
    ck_assert_uint_eq(get(TSS_B, 2), SEL_A);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x4002);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_B);
    ck_assert_uint_eq(reg(RC_REG_CPL), 0);
    ck_assert_msg(strstr(seen_text, "task switch (exception #GP(0x18) via IDT[13] task gate) TSS "
                                    "0x40 -> 0x58") != NULL, "%s", seen_text);
    ck_assert_msg(strstr(seen_text, "CPL 3->0") != NULL, "%s", seen_text);
}
END_TEST

/* INT 0x40 (CD 40) at CPL 3 through a DPL-3 IDT task gate: a trap, so A's
 * saved EIP is the next instruction 0x400002; no error code (ESP stays
 * 0x108000). Through a DPL-0 gate instead: "IF gate DPL < CPL THEN
 * #GP(vector * 8 + 2)" = #GP(0x202), nothing switched. */
START_TEST(int_n_via_idt_task_gate)
{
    build(3, "cd40");
    put(RCM_IDT + 8 * 0x40, task_gate(SEL_B, 3, true), 8);
    rc_exit ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(get(TSS_A + 0x20, 4), 0x400002);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x108000);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_B);
    teardown();

    build(3, "cd40");
    put(RCM_IDT + 8 * 0x40, task_gate(SEL_B, 0, true), 8);
    ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, RC_EXC_GP);
    ck_assert_uint_eq(ex.u.exception.error_code, 0x202);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
}
END_TEST

/* ------------------------------------------------------------------ faults before the commit point */

/* Each fault below is found before anything is written (8.3: "the
 * processor does not complete the task switch and insures that the
 * processor is returned to its state prior to the execution of the
 * instruction"): TR stays 0x40, both access bytes, A's saved EIP (0) and
 * B's link (0) unchanged, RIP at the CALL (0x100000). */
static void expect_untouched(void)
{
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
    ck_assert_uint_eq(get(ACC_A, 1), 0x8b);
    ck_assert_uint_eq(get(TSS_A + 0x20, 4), 0);
    ck_assert_uint_eq(get(TSS_B, 2), 0);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x100000);
    ck_assert_uint_eq(reg(RC_REG_CR0), CR0_STD);
}

static void expect_exc(const rc_exit *ex, unsigned vector, uint32_t err)
{
    ck_assert_int_eq(ex->reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex->u.exception.vector, vector);
    ck_assert_uint_eq(ex->u.exception.error_code, err);
}

/* CALL to a busy TSS (type 11): Table 8-1 "TSS descriptor is not busy" ->
 * #GP(0x58) for CALL. */
START_TEST(call_busy_tss_gp)
{
    build(0, "9a000000005800");
    gdt_set(11, tss_desc(TSS_B, 0x67, RC_DT_TSS_BUSY, 0, true));
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_GP, SEL_B);
    expect_untouched();
    ck_assert_uint_eq(get(ACC_B, 1), 0x8b);
}
END_TEST

/* P = 0: "IF TSS is not present THEN #NP(TSS selector)" -> #NP(0x58). */
START_TEST(call_tss_not_present_np)
{
    build(0, "9a000000005800");
    gdt_set(11, tss_desc(TSS_B, 0x67, RC_DT_TSS_AVAIL, 0, false));
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_NP, SEL_B);
    expect_untouched();
}
END_TEST

/* Limit 0x66 < 67H: "TSS segment limit greater than or equal to 108 ..."
 * -> #TS(0x58); a 16-bit TSS needs 2BH: limit 0x2a -> #TS(0x70). */
START_TEST(call_tss_limit_ts)
{
    build(0, "9a000000005800");
    gdt_set(11, tss_desc(TSS_B, 0x66, RC_DT_TSS_AVAIL, 0, true));
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_TS, SEL_B);
    expect_untouched();
    teardown();

    build(0, "9a000000007000");
    gdt_set(14, tss_desc(TSS_C, 0x2a, RC_DT_TSS16_AVAIL, 0, true));
    ex = run(1);
    expect_exc(&ex, RC_EXC_TS, SEL_C);
    expect_untouched();
}
END_TEST

/* CALL 0x5b:0 at CPL 3 to the DPL-0 TSS B: "IF TSS DPL < CPL ... THEN
 * #GP(TSS selector)" -> #GP(0x58); through a DPL-0 task gate at CPL 3:
 * #GP(0x68) (the gate's selector). */
START_TEST(privilege_checks_gp)
{
    build(3, "9a000000005b00");
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_GP, SEL_B);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
    teardown();

    build(3, "9a000000006b00");
    gdt_set(13, task_gate(SEL_B, 0, true));
    ex = run(1);
    expect_exc(&ex, RC_EXC_GP, SEL_GATE);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
}
END_TEST

/* The current TSS's limit below the state the switch saves (offset 0x5f;
 * Table 6-6 "Stores to the old TSS encounter a fault condition"): TR limit
 * 0x50 -> #TS(0x40), before anything changes. */
START_TEST(old_tss_too_small_ts)
{
    build(0, "9a000000005800");
    rc_segment tr = sreg(RC_SEG_TR);
    tr.limit = 0x50;
    ck_assert_int_eq(rc_set_seg(cpu, RC_SEG_TR, &tr), RC_OK);
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_TS, SEL_A);
    ck_assert_uint_eq(get(TSS_A + 0x20, 4), 0);
    ck_assert_uint_eq(get(ACC_B, 1), 0x89);
}
END_TEST

/* IRET with NT = 1 whose back link (A's link field) names B while B is
 * available (not busy): Table 6-6 "the backlink points to a descriptor
 * which is not a busy TSS" -> #TS(0x58); a null back link -> #TS(0). */
START_TEST(iret_backlink_checks_ts)
{
    build(0, "cf");
    set(RC_REG_RFLAGS, 0x4002);
    put(TSS_A, SEL_B, 2);
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_TS, SEL_B);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
    ck_assert_uint_eq(get(ACC_A, 1), 0x8b);
    teardown();

    build(0, "cf");
    set(RC_REG_RFLAGS, 0x4002);
    ex = run(1);
    expect_exc(&ex, RC_EXC_TS, 0);
}
END_TEST

/* ------------------------------------------------------------------ faults after the commit point */

/* B's task at CPL 3 (CS 0x23, DS 0x2b, ESP 0x40c000) with SS = 0x18 (DPL 0):
 * Table 8-1 "Stack segment DPL matches CPL" fails after the switch has
 * committed: #TS(0x18) "in the context of the new task" (8.3 step 13).
 * TR = 0x58, B busy, B's link 0x40, CR0.TS; the exception names B's
 * EIP 0x601000 and its CS 0x23. */
START_TEST(bad_new_ss_ts_in_new_task)
{
    build(0, "9a000000005800");
    tss32 b = task0();
    b.seg[RC_SEG_CS] = 0x23;
    b.seg[RC_SEG_SS] = 0x18;
    b.seg[RC_SEG_DS] = b.seg[RC_SEG_ES] = b.seg[RC_SEG_FS] = b.seg[RC_SEG_GS] = 0x2b;
    b.gpr[4] = 0x40c000;
    write_tss32(TSS_B, &b);
    hook();
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_TS, 0x18);
    ck_assert_uint_eq(ex.u.exception.rip, TASK_CODE);
    ck_assert_uint_eq(ex.u.exception.cs, 0x23);
    ck_assert_uint_eq(reg(RC_REG_RIP), TASK_CODE);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_B);
    ck_assert_uint_eq(get(ACC_B, 1), 0x8b);
    ck_assert_uint_eq(get(TSS_B, 2), SEL_A);
    ck_assert_uint_eq(reg(RC_REG_CR0), CR0_STD | CR0_TS);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x18);
    ck_assert_uint_eq(sreg(RC_SEG_SS).unusable, 1);
    ck_assert_msg(strstr(seen_text, "then exception 10 (0x18) in the new task") != NULL, "%s",
                  seen_text);
}
END_TEST

/* The same #TS delivered (not intercepted) through the standard DPL-0
 * interrupt gate 10: the new task's CPL is 3 (its CS RPL), so the handler
 * gets a stack switch from the NEW TSS B: SS0:ESP0 = 0x18:0x10c000; frame
 * (6.12.1): error 0x18, EIP 0x601000, CS 0x23, EFLAGS 0x4002 | RF =
 * 0x14002, ESP 0x40c000, SS 0x18 -> ESP 0x10c000 - 24 = 0x10bfe8. */
START_TEST(bad_new_ss_delivered_on_new_tss_stack)
{
    build(0, "9a000000005800");
    tss32 b = task0();
    b.seg[RC_SEG_CS] = 0x23;
    b.seg[RC_SEG_SS] = 0x18;
    b.seg[RC_SEG_DS] = b.seg[RC_SEG_ES] = b.seg[RC_SEG_FS] = b.seg[RC_SEG_GS] = 0x2b;
    b.gpr[4] = 0x40c000;
    write_tss32(TSS_B, &b);
    rc_exit ex;
    ck_assert_int_eq(rc_set_intercept(cpu, 0), RC_OK);
    ck_assert_int_eq(rc_run(cpu, 2, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(RC_REG_RIP), RCM_HANDLERS + 16 * 10 + 1);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x10bfe8);
    ck_assert_uint_eq(get(0x10bfe8, 4), 0x18);
    ck_assert_uint_eq(get(0x10bfec, 4), TASK_CODE);
    ck_assert_uint_eq(get(0x10bff0, 4), 0x23);
    ck_assert_uint_eq(get(0x10bff4, 4), 0x14002);
    ck_assert_uint_eq(get(0x10bff8, 4), 0x40c000);
    ck_assert_uint_eq(get(0x10bffc, 4), 0x18);
}
END_TEST

/* ------------------------------------------------------------------ 16-bit TSS */

/* CALL 0x70:0 to the 16-bit TSS C (type 1, limit 0x2b; Figure 8-12): IP
 * 0x1000, FLAGS 0x2, AX..DI 0xb001.., SP 0x8000, ES CS SS DS = 0xb8 0xb0
 * 0xb8 0xb8 (the 16-bit ring-0 segments, base 0x100000), LDT 0. Loaded
 * (8.6): EIP 0x1000, EFLAGS 0x4002 (NT), the GPRs' upper halves FFFFH
 * (Bochs; the SDM: "modified and not maintained"), FS = GS = null, CR3
 * unchanged (no field), 16-bit mode. C's code at 0x101000 is IRET: the
 * return saves IP 0x1001, FLAGS 0x2 (NT cleared in the image), AX 0xb001
 * .. and the four selectors in C's 16-bit layout (0x0e..0x29) and clears
 * C's busy flag (0x83 -> 0x81). */
START_TEST(tss16_round_trip)
{
    build(0, "9a000000007000 f4");
    gdt_set(14, tss_desc(TSS_C, 0x2b, RC_DT_TSS16_AVAIL, 0, true));
    const uint16_t c[22] = { 0, 0xc000, 0xb8, 0, 0, 0, 0, 0x1000, 0x2, 0xb001, 0xb002, 0xb003,
                             0xb004, 0x8000, 0xb006, 0xb007, 0xb008, 0xb8, 0xb0, 0xb8, 0xb8, 0 };
    ck_assert_int_eq(rc_write_phys(cpu, TSS_C, c, sizeof c), RC_OK);
    put(0x101000, 0xcf, 1);
    rc_exit ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1000);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x4002);
    ck_assert_uint_eq(reg(RC_REG_RAX), 0xffffb001);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0xffff8000);
    ck_assert_uint_eq(reg(RC_REG_CR3), 0x10000);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0xb0);
    ck_assert_uint_eq(sreg(RC_SEG_FS).selector, 0);
    ck_assert_uint_eq(sreg(RC_SEG_FS).unusable, 1);
    ck_assert_uint_eq(get(TSS_C, 2), SEL_A);
    ck_assert_uint_eq(get(ACC_C, 1), 0x83);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_PROT16);
    ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(get(TSS_C + 0x0e, 2), 0x1001);
    ck_assert_uint_eq(get(TSS_C + 0x10, 2), 0x2);
    ck_assert_uint_eq(get(TSS_C + 0x12, 2), 0xb001);
    ck_assert_uint_eq(get(TSS_C + 0x1a, 2), 0x8000);
    ck_assert_uint_eq(get(TSS_C + 0x24, 2), 0xb0);
    ck_assert_uint_eq(get(ACC_C, 1), 0x81);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x100007);
    ck_assert_uint_eq(reg(RC_REG_RAX), 0x11111111);
}
END_TEST

/* ------------------------------------------------------------------ IA-32e, unsupported, hooks */

/* Long mode: IRETQ with NT = 1 -> #GP(0) (SDM IRET IA-32e-MODE "IF NT = 1
 * THEN #GP(0)"); no task switch exists there (8.7). */
START_TEST(long_mode_gp)
{
    rcm_options o = RCM_OPTIONS_INIT;
    char err[256];
    ck_assert(rcm_build(&o, &cpu, err, sizeof err) == RC_OK);
    const uint8_t code[] = { 0x48, 0xcf };
    ck_assert(rcm_load_code(cpu, &o, code, sizeof code, err, sizeof err) == RC_OK);
    set(RC_REG_RFLAGS, 0x4002);
    rc_exit ex = run(1);
    expect_exc(&ex, RC_EXC_GP, 0);
    ck_assert_uint_eq(sreg(RC_SEG_TR).selector, SEL_A);
}
END_TEST

/* A new task with EFLAGS.VM = 1 would be a virtual-8086 task: not modeled,
 * so the switch is refused before anything changes. */
START_TEST(vm86_task_unsupported)
{
    build(0, "9a000000005800");
    tss32 b = task0();
    b.eflags = 0x20002;
    write_tss32(TSS_B, &b);
    rc_exit ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(ex.u.unsupported.what, "virtual-8086"));
    expect_untouched();
}
END_TEST

/* A before-hook that vetoes: the run stops with RC_EXIT_HOOK and the CALL
 * is re-executed on resume (nothing was written). */
static rc_hook_action veto(void *o, rc_cpu *c, const rc_transition *t)
{
    (void)o;
    (void)c;
    return t->kind == RC_TR_TASK_SWITCH ? RC_HOOK_VETO : RC_HOOK_CONTINUE;
}
START_TEST(hook_veto_leaves_state)
{
    build(0, "9a000000005800");
    rc_hooks h;
    memset(&h, 0, sizeof h);
    h.transition_before = veto;
    ck_assert_int_eq(rc_set_hooks(cpu, &h), RC_OK);
    rc_exit ex = run(1);
    ck_assert_int_eq(ex.reason, RC_EXIT_HOOK);
    expect_untouched();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("task");
    TCase *t = tcase_create("switch");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_add_test(t, call_tss_then_iret_back);
    tcase_add_test(t, jmp_via_task_gate);
    tcase_add_test(t, cr3_loaded_from_tss);
    tcase_add_test(t, exception_with_error_code_via_idt_task_gate);
    tcase_add_test(t, int_n_via_idt_task_gate);
    tcase_add_test(t, call_busy_tss_gp);
    tcase_add_test(t, call_tss_not_present_np);
    tcase_add_test(t, call_tss_limit_ts);
    tcase_add_test(t, privilege_checks_gp);
    tcase_add_test(t, old_tss_too_small_ts);
    tcase_add_test(t, iret_backlink_checks_ts);
    tcase_add_test(t, bad_new_ss_ts_in_new_task);
    tcase_add_test(t, bad_new_ss_delivered_on_new_tss_stack);
    tcase_add_test(t, tss16_round_trip);
    tcase_add_test(t, long_mode_gp);
    tcase_add_test(t, vm86_task_unsupported);
    tcase_add_test(t, hook_veto_leaves_state);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}

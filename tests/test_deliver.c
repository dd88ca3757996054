/*
 * test_deliver.c - exception/interrupt delivery, INT n, IRET, far
 * JMP/CALL/RET (src/syscall/).
 *
 * Judge: the SDM pseudo-code worked by hand. Each test writes the
 * derivation above its expectations and names the section. (Ring-0
 * delivery cannot be observed on this host's CPU and Unicorn does not
 * deliver interrupts, so the manual is the judge here; Bochs/QEMU vectors
 * come with the test kernel.)
 *
 * The machine is built through the public API (rc_create, rc_map_ram,
 * rc_set_seg, ...) with hand-written descriptor tables in RAM; a few tests
 * raise an exception directly through the internal rc_raise_exception, as
 * the dispatch loop does. If the memory subsystem does not work, every test
 * fails with a message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#define RAM 0x200000u
#define GDT 0x1000u
#define IDT 0x2000u
#define TSS 0x3000u
#define PML4 0x10000u

/* ------------------------------------------------------------------ descriptors */

/* Code/data descriptors, SDM Vol. 3A 3.4.5 Figure 3-8: limit[15:0],
 * base[23:0], access byte (P, DPL, S, type) at bits 40-47, limit[19:16] and
 * flags (G, D/B, L, AVL) at bits 48-55, base[31:24] at 56-63. All flat
 * (base 0, limit 0xFFFFF pages) unless noted:
 *   0x08 32-bit code DPL 0: access 0x9B (P, S, execute/read, accessed),
 *        flags 0xC (G, D)                           -> 0x00CF9B000000FFFF
 *   0x10 32-bit data DPL 0: access 0x93 (read/write, accessed)
 *                                                   -> 0x00CF93000000FFFF
 *   0x18 32-bit code DPL 3: access 0xFB             -> 0x00CFFB000000FFFF
 *   0x20 32-bit data DPL 3: access 0xF3             -> 0x00CFF3000000FFFF
 *   0x28 (unused)
 *   0x30 64-bit code DPL 0: access 0x9B, flags 0xA (G, L)
 *                                                   -> 0x00AF9B000000FFFF
 *   0x38 64-bit code DPL 3: access 0xFB, flags 0xA  -> 0x00AFFB000000FFFF
 *   0x40 16-bit code DPL 0, base 0x10000, limit 0xFFFF, access 0x9A (not yet
 *        accessed), flags 0                         -> 0x00009A010000FFFF
 *   0x48 32-bit code DPL 0 at 0x00000 marked NOT present: access 0x1B
 *                                                   -> 0x00CF1B000000FFFF
 * GDTR.limit = 0x4F: ten entries; selector 0x50 and above are beyond. */
static const uint64_t gdt[10] = {
    0,
    0x00CF9B000000FFFFull, 0x00CF93000000FFFFull, 0x00CFFB000000FFFFull,
    0x00CFF3000000FFFFull, 0,
    0x00AF9B000000FFFFull, 0x00AFFB000000FFFFull, 0x00009A010000FFFFull,
    0x00CF1B000000FFFFull,
};

/* IDT gates, SDM Vol. 3A 6.11 Figure 6-2: offset[15:0] | selector << 16 |
 * attributes << 40 | offset[31:16] << 48; attributes = P | DPL << 5 |
 * type (0xE interrupt, 0xF trap). 64-bit gates (Figure 6-8) add IST in
 * bits 32-34 and offset[63:32] in the upper quadword. */
static uint64_t gate32(uint32_t off, uint16_t sel, uint8_t attr)
{
    return (off & 0xffffull) | ((uint64_t)sel << 16) | ((uint64_t)attr << 40) |
           ((uint64_t)(off >> 16) << 48);
}
#define INTGATE_DPL0 0x8E
#define TRAPGATE_DPL3 0xEF
#define INTGATE_DPL3 0xEE
#define INTGATE_NOTPRESENT_DPL3 0x6E

/* ------------------------------------------------------------------ machine */

static rc_cpu *cpu;

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
static void code(uint64_t pa, const char *hex)
{
    for (; hex[0] && hex[1]; hex += 2, pa++)
        put(pa, strtoul((char[]){ hex[0], hex[1], 0 }, NULL, 16), 1);
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

/* The segment cache a descriptor above produces (SDM Vol. 3A 3.4.3). */
static rc_segment cache(uint16_t sel, uint8_t type, uint8_t dpl, uint8_t db, uint8_t l)
{
    return (rc_segment){ .selector = sel, .base = 0, .limit = 0xffffffffu, .type = type, .s = 1,
                         .dpl = dpl, .present = 1, .db = db, .l = l, .g = 1 };
}

static bool mmu_missing;

static void setup(void)
{
    rc_config cfg = RC_CONFIG_INIT;
    cpu = NULL;
    mmu_missing = rc_create(&cfg, &cpu) != RC_OK || rc_map_ram(cpu, 0, RAM, NULL, 0) != RC_OK;
    if (!mmu_missing) {
        uint64_t probe = 0;
        mmu_missing = rc_write_phys(cpu, 0, &probe, 8) != RC_OK;
    }
    if (mmu_missing)
        return;
    for (unsigned i = 0; i < 10; i++)
        put(GDT + 8 * i, gdt[i], 8);
    rc_dtable g = { GDT, 0x4f };
    rc_set_gdtr(cpu, &g);
    /* Paging/linear access, descriptor fetch and segmented access must work. */
    uint64_t v;
    rc_desc d;
    rc_segment ss = cache(0x10, 0x3, 0, 1, 0);
    rc_set_seg(cpu, RC_SEG_SS, &ss);
    mmu_missing = rc_lin_read(cpu, GDT, 8, RC_ACC_READ | RC_ACC_SUPERVISOR, &v).kind != RCF_NONE ||
                  rc_desc_fetch(cpu, 0x08, false, RC_EXC_GP, &d).kind != RCF_NONE ||
                  rc_read(cpu, RC_SEG_SS, GDT, 8, RC_ACC_READ, &v).kind != RCF_NONE;
}

static void teardown(void)
{
    if (cpu)
        rc_destroy(cpu);
    cpu = NULL;
}

/* The machine's memory must work: a broken memory path is a failure. */
#define NEED_MMU() ck_assert_msg(!mmu_missing, "%s: the memory subsystem does not work", __func__)

/* Flat 32-bit protected mode at 'cpl' (0 or 3), TSS (32-bit, busy) at
 * 0x3000 with ESP0 = 0x9FFF0, SS0 = 0x10, IDT at 0x2000 (256 entries). */
static void prot32(uint8_t cpl)
{
    set(RC_REG_CR0, 0x11); /* PE | ET */
    rc_segment cs = cpl ? cache(0x1b, 0xb, 3, 1, 0) : cache(0x08, 0xb, 0, 1, 0);
    rc_segment ds = cpl ? cache(0x23, 0x3, 3, 1, 0) : cache(0x10, 0x3, 0, 1, 0);
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    rc_set_seg(cpu, RC_SEG_SS, &ds);
    rc_set_seg(cpu, RC_SEG_DS, &ds);
    rc_set_seg(cpu, RC_SEG_ES, &ds);
    rc_set_seg(cpu, RC_SEG_FS, &ds);
    rc_set_seg(cpu, RC_SEG_GS, &ds);
    rc_segment tr = { .selector = 0x28, .base = TSS, .limit = 0x67, .type = 11, .present = 1 };
    rc_set_seg(cpu, RC_SEG_TR, &tr);
    put(TSS + 4, 0x9fff0, 4); /* ESP0 */
    put(TSS + 8, 0x10, 2);    /* SS0 */
    rc_dtable idt = { IDT, 0x7ff };
    rc_set_idtr(cpu, &idt);
    set(RC_REG_CPL, cpl);
    set(RC_REG_RFLAGS, 0x202);
}

/* The dispatch loop's view of a fault at 'rip': RIP restored, raised. */
static rc_fault raise_at(uint64_t rip, rc_fault f)
{
    set(RC_REG_RIP, rip);
    cpu->insn_rip = rip;
    cpu->cur_insn = NULL;
    return rc_raise_exception(cpu, f);
}

/* ------------------------------------------------------------------ real mode */

/* SDM Vol. 2A INT n REAL-ADDRESS-MODE, Vol. 3A 20.1.4: IVT entry at
 * 4 * 0x21 = 0x84 holds offset 0x1234, segment 0x2000. From CS:IP =
 * 0x0100:0x0010 (linear 0x1010: CD 21), SS:SP = 0:0x8000, FLAGS 0x0242
 * (ZF, IF) with EFLAGS.AC set:
 *   push FLAGS = 0x0242 at 0x7FFE, CS = 0x0100 at 0x7FFC, IP = 0x0012 (the
 *   next instruction) at 0x7FFA; SP = 0x7FFA; IF, TF, AC cleared -> EFLAGS
 *   0x0042; CS:IP = 0x2000:0x1234, where HLT (F4) ends the run with IP
 *   0x1235 (SDM HLT: RIP after the HLT). */
START_TEST(test_real_int21)
{
    NEED_MMU();
    rc_segment cs = { .selector = 0x100, .base = 0x1000, .limit = 0xffff, .type = 0xb, .s = 1,
                      .present = 1 };
    rc_segment ss = { .selector = 0, .base = 0, .limit = 0xffff, .type = 0x3, .s = 1,
                      .present = 1 };
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    rc_set_seg(cpu, RC_SEG_SS, &ss);
    rc_dtable ivt = { 0, 0x3ff };
    rc_set_idtr(cpu, &ivt);
    put(0x84, 0x20001234, 4);
    code(0x1010, "cd21");
    code(0x21234, "f4");
    set(RC_REG_RIP, 0x10);
    set(RC_REG_RSP, 0x8000);
    set(RC_REG_RFLAGS, 0x40242);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(get(0x7ffe, 2), 0x0242);
    ck_assert_uint_eq(get(0x7ffc, 2), 0x0100);
    ck_assert_uint_eq(get(0x7ffa, 2), 0x0012);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ffa);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x2000);
    ck_assert_uint_eq(sreg(RC_SEG_CS).base, 0x20000);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1235);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x0042);
}
END_TEST

/* SDM Vol. 2A IRET REAL-ADDRESS-MODE (16-bit): IP, CS, FLAGS popped.
 * Stack at 0:0x7FFA holds IP 0x0012, CS 0x0100, FLAGS 0x0A43 (OF, IF, ZF,
 * CF). After IRET: CS:IP = 0x0100:0x0012, SP = 0x8000, FLAGS = 0x0A43. */
START_TEST(test_real_iret)
{
    NEED_MMU();
    rc_segment cs = { .selector = 0x2000, .base = 0x20000, .limit = 0xffff, .type = 0xb,
                      .s = 1, .present = 1 };
    rc_segment ss = { .selector = 0, .base = 0, .limit = 0xffff, .type = 0x3, .s = 1,
                      .present = 1 };
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    rc_set_seg(cpu, RC_SEG_SS, &ss);
    put(0x7ffa, 0x0012, 2);
    put(0x7ffc, 0x0100, 2);
    put(0x7ffe, 0x0a43, 2);
    code(0x21234, "cf");
    code(0x1012, "f4");
    set(RC_REG_RIP, 0x1234);
    set(RC_REG_RSP, 0x7ffa);
    set(RC_REG_RFLAGS, 0x2);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x0100);
    ck_assert_uint_eq(sreg(RC_SEG_CS).base, 0x1000);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x13);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x8000);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x0a43);
}
END_TEST

/* SDM Vol. 2A JMP/CALL/RET (real-address mode): at 0x0100:0x0000
 * (linear 0x1000) EA 34 12 00 20 = JMP 0x2000:0x1234 -> CS base 0x20000.
 * There 9A 00 00 00 30 = CALL 0x3000:0x0000 pushes CS 0x2000 at SP-2 =
 * 0x7FFE and IP 0x1239 (next) at 0x7FFC, SP = 0x7FFC. At 0x30000: CB =
 * RETF pops IP 0x1239 and CS 0x2000, SP = 0x8000; at 0x21239 HLT. */
START_TEST(test_real_far)
{
    NEED_MMU();
    rc_segment cs = { .selector = 0x100, .base = 0x1000, .limit = 0xffff, .type = 0xb, .s = 1,
                      .present = 1 };
    rc_segment ss = { .selector = 0, .base = 0, .limit = 0xffff, .type = 0x3, .s = 1,
                      .present = 1 };
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    rc_set_seg(cpu, RC_SEG_SS, &ss);
    code(0x1000, "ea34120020");
    code(0x21234, "9a00000030");
    code(0x30000, "cb");
    code(0x21239, "f4");
    set(RC_REG_RIP, 0);
    set(RC_REG_RSP, 0x8000);
    set(RC_REG_RFLAGS, 0x2);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 2, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x3000);
    ck_assert_uint_eq(sreg(RC_SEG_CS).base, 0x30000);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ffc);
    ck_assert_uint_eq(get(0x7ffe, 2), 0x2000);
    ck_assert_uint_eq(get(0x7ffc, 2), 0x1239);
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x2000);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x123a);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x8000);
}
END_TEST

/* ------------------------------------------------------------------ 32-bit protected mode */

/* #GP(0x18) at CPL 0 through IDT[13], a DPL-0 32-bit interrupt gate to
 * 0x08:0x5000. SDM Vol. 2A INT n INTRA-PRIVILEGE-LEVEL-INTERRUPT (code
 * segment DPL 0 = CPL): no stack switch; 32-bit gate -> push EFLAGS, CS,
 * EIP, error code (4 bytes each) on SS:ESP = 0x10:0x9000:
 *   0x8FFC EFLAGS image = 0x202 | RF (SDM Vol. 3A 18.3.1.1: RF = 1 in the
 *          image of a fault-class exception) = 0x10202
 *   0x8FF8 CS 0x08, 0x8FF4 EIP 0x1000 (the faulting instruction),
 *   0x8FF0 error code 0x18.
 * ESP = 0x8FF0, CS:EIP = 0x08:0x5000, interrupt gate: IF = 0 -> EFLAGS 0x2. */
START_TEST(test_gp_intgate_cpl0)
{
    NEED_MMU();
    prot32(0);
    put(IDT + 13 * 8, gate32(0x5000, 0x08, INTGATE_DPL0), 8);
    set(RC_REG_RSP, 0x9000);
    rc_fault f = raise_at(0x1000, rc_exc_err(RC_EXC_GP, 0x18));
    ck_assert_int_eq(f.kind, RCF_NONE);
    ck_assert_uint_eq(get(0x8ffc, 4), 0x10202);
    ck_assert_uint_eq(get(0x8ff8, 4), 0x08);
    ck_assert_uint_eq(get(0x8ff4, 4), 0x1000);
    ck_assert_uint_eq(get(0x8ff0, 4), 0x18);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x8ff0);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x5000);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x08);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x2);
    ck_assert_uint_eq(reg(RC_REG_CPL), 0);
}
END_TEST

/* INT 0x80 (CD 80 at 0x1B:0x1000) from CPL 3 through a DPL-3 32-bit trap
 * gate to 0x08:0x5000. SDM Vol. 2A INT n INTER-PRIVILEGE-LEVEL-INTERRUPT:
 * gate DPL 3 >= CPL 3 passes; target DPL 0 < CPL 3, non-conforming -> new
 * stack from the 32-bit TSS: ESP0 at TSS+4 = 0x9FFF0, SS0 at TSS+8 = 0x10
 * (RPL 0 = DPL 0, writable data DPL 0, present). Pushes (4 bytes each):
 *   0x9FFEC old SS 0x23, 0x9FFE8 old ESP 0x7FF0, 0x9FFE4 EFLAGS 0x4203
 *   (NT, IF, CF; software interrupt: RF not set), 0x9FFE0 CS 0x1B,
 *   0x9FFDC EIP 0x1002 (next instruction); no error code.
 * ESP = 0x9FFDC, SS = 0x10, CS = 0x08, CPL 0; SDM Vol. 3A 6.12.1.3: TF,
 * NT, RF, VM cleared, IF kept (trap gate) -> EFLAGS 0x203. HLT at 0x5000
 * ends the run with EIP 0x5001. */
static void int80_setup(void)
{
    prot32(3);
    put(IDT + 0x80 * 8, gate32(0x5000, 0x08, TRAPGATE_DPL3), 8);
    code(0x1000, "cd80");
    set(RC_REG_RIP, 0x1000);
    set(RC_REG_RSP, 0x7ff0);
    set(RC_REG_RFLAGS, 0x4203);
}

START_TEST(test_int80_cpl3_trapgate)
{
    NEED_MMU();
    int80_setup();
    code(0x5000, "f4");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(get(0x9ffec, 4), 0x23);
    ck_assert_uint_eq(get(0x9ffe8, 4), 0x7ff0);
    ck_assert_uint_eq(get(0x9ffe4, 4), 0x4203);
    ck_assert_uint_eq(get(0x9ffe0, 4), 0x1b);
    ck_assert_uint_eq(get(0x9ffdc, 4), 0x1002);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x9ffdc);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x10);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x08);
    ck_assert_uint_eq(reg(RC_REG_CPL), 0);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x203);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x5001);
}
END_TEST

/* IRET back to CPL 3 (CF at 0x5000 after the INT 0x80 above). SDM Vol. 2A
 * IRET PROTECTED-MODE-RETURN: CS 0x1B RPL 3 > CPL 0 ->
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL: pops EIP 0x1002, CS 0x1B, EFLAGS 0x4203,
 * ESP 0x7FF0, SS 0x23 (RPL 3 = CS RPL, DPL 3 writable data). EFLAGS at CPL
 * 0: every listed bit loaded (IF, IOPL, NT...) -> 0x4203. Then for ES, FS,
 * GS, DS: "DPL < CPL and data" -> null: FS was given 0x10 (DPL 0) by the
 * handler's setup below -> selector 0; DS/ES/GS hold 0x23 (DPL 3) -> kept.
 * After two instructions: CS:EIP = 0x1B:0x1002, SS:ESP = 0x23:0x7FF0. */
START_TEST(test_iret_to_cpl3)
{
    NEED_MMU();
    int80_setup();
    code(0x5000, "cf");
    code(0x1002, "ebfe");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    rc_segment fs = cache(0x10, 0x3, 0, 1, 0);
    rc_set_seg(cpu, RC_SEG_FS, &fs);
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x1b);
    ck_assert_uint_eq(reg(RC_REG_CPL), 3);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1002);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x23);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ff0);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x4203);
    ck_assert_uint_eq(sreg(RC_SEG_FS).selector, 0);
    ck_assert_uint_eq(sreg(RC_SEG_DS).selector, 0x23);
}
END_TEST

/* INT 0x81 from CPL 3 through a DPL-0 gate: SDM Vol. 2A INT n "IF software
 * interrupt AND gate DPL < CPL THEN #GP(error_code(vector, 1, 0))" =
 * 0x81 * 8 + 2 (IDT bit) + 0 (EXT = 0 for INT n) = 0x40A. Intercepted: the
 * exit names the INT instruction at 0x1000 at CPL 3; nothing changed. */
START_TEST(test_int_dpl_gp)
{
    NEED_MMU();
    prot32(3);
    put(IDT + 0x81 * 8, gate32(0x5000, 0x08, INTGATE_DPL0), 8);
    code(0x1000, "cd81");
    set(RC_REG_RIP, 0x1000);
    set(RC_REG_RSP, 0x7ff0);
    rc_set_intercept(cpu, 1u << RC_EXC_GP);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, RC_EXC_GP);
    ck_assert_uint_eq(ex.u.exception.error_code, 0x40a);
    ck_assert_uint_eq(ex.u.exception.rip, 0x1000);
    ck_assert_uint_eq(ex.u.exception.cpl, 3);
    ck_assert_uint_eq(ex.u.exception.during_delivery, 0);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1000);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ff0);
    ck_assert_uint_eq(reg(RC_REG_CPL), 3);
}
END_TEST

/* Not-present gates. SDM Vol. 2A INT n "IF gate not present THEN
 * #NP(error_code(vector, 1, EXT))":
 *   INT 0x82 (software, EXT 0) -> #NP(0x82 * 8 + 2) = #NP(0x412);
 *   #UD raised by the CPU (EXT 1) -> #NP(6 * 8 + 2 + 1) = #NP(0x33), a
 *   fault during delivery (during_delivery = 1). */
START_TEST(test_np_gate)
{
    NEED_MMU();
    prot32(3);
    put(IDT + 0x82 * 8, gate32(0x5000, 0x08, INTGATE_NOTPRESENT_DPL3), 8);
    put(IDT + 6 * 8, gate32(0x5000, 0x08, INTGATE_NOTPRESENT_DPL3), 8);
    code(0x1000, "cd82");
    set(RC_REG_RIP, 0x1000);
    set(RC_REG_RSP, 0x7ff0);
    rc_set_intercept(cpu, 1u << RC_EXC_NP);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, RC_EXC_NP);
    ck_assert_uint_eq(ex.u.exception.error_code, 0x412);

    rc_fault f = raise_at(0x1000, rc_exc(RC_EXC_UD));
    ck_assert_int_eq(f.kind, RCF_EXIT);
    ck_assert_int_eq(cpu->exit_pending.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.vector, RC_EXC_NP);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.error_code, 0x33);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.during_delivery, 1);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ff0);
}
END_TEST

/* #DF: #NP(0x28) at CPL 0; IDT[11] names code selector 0x80, beyond the
 * GDT limit 0x4F -> #GP(0x80 + EXT) while delivering #NP. SDM Vol. 3A 6.15
 * Table 6-5: contributory (#NP) then contributory (#GP) -> #DF, error code
 * 0. IDT[8] is a DPL-0 interrupt gate to 0x08:0x6000; same privilege on
 * SS:ESP = 0x10:0x9000: EFLAGS 0x202 (#DF is an abort: no RF) at 0x8FFC,
 * CS 0x08 at 0x8FF8, EIP 0x1000 at 0x8FF4, error 0 at 0x8FF0.
 * Intercepting #DF instead gives an exit with vector 8, during_delivery. */
START_TEST(test_double_fault)
{
    NEED_MMU();
    prot32(0);
    put(IDT + 11 * 8, gate32(0x5000, 0x80, INTGATE_DPL0), 8);
    put(IDT + 8 * 8, gate32(0x6000, 0x08, INTGATE_DPL0), 8);
    set(RC_REG_RSP, 0x9000);
    rc_set_intercept(cpu, 1u << RC_EXC_DF);
    rc_fault f = raise_at(0x1000, rc_exc_err(RC_EXC_NP, 0x28));
    ck_assert_int_eq(f.kind, RCF_EXIT);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.vector, RC_EXC_DF);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.error_code, 0);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.during_delivery, 1);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x9000);

    rc_set_intercept(cpu, 0);
    f = raise_at(0x1000, rc_exc_err(RC_EXC_NP, 0x28));
    ck_assert_int_eq(f.kind, RCF_NONE);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x6000);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x8ff0);
    ck_assert_uint_eq(get(0x8ffc, 4), 0x202);
    ck_assert_uint_eq(get(0x8ff8, 4), 0x08);
    ck_assert_uint_eq(get(0x8ff4, 4), 0x1000);
    ck_assert_uint_eq(get(0x8ff0, 4), 0);
}
END_TEST

/* Serial, not double: #GP while delivering #UD (benign first, SDM 6.15
 * Table 6-5 "handle serially"): IDT[6] names the not-present code segment
 * 0x48 -> #NP(0x48 + EXT) = #NP(0x49), delivered through IDT[11]. */
START_TEST(test_benign_then_contributory)
{
    NEED_MMU();
    prot32(0);
    put(IDT + 6 * 8, gate32(0x5000, 0x48, INTGATE_DPL0), 8);
    put(IDT + 11 * 8, gate32(0x7000, 0x08, INTGATE_DPL0), 8);
    set(RC_REG_RSP, 0x9000);
    rc_fault f = raise_at(0x1000, rc_exc(RC_EXC_UD));
    ck_assert_int_eq(f.kind, RCF_NONE);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x7000);
    ck_assert_uint_eq(get(0x8ff0, 4), 0x49);
}
END_TEST

/* Triple fault: IDTR.limit = 0x2F (six gates). #GP(0) -> IDT[13] is beyond
 * the limit: #GP(13 * 8 + 2 + 1 = 0x6B) while delivering #GP ->
 * contributory twice -> #DF -> IDT[8] (8 * 8 + 7 = 71 > 0x2F) beyond the
 * limit too -> a fault while delivering #DF: shutdown (SDM Vol. 3A 6.15
 * Interrupt 8). State unchanged. */
START_TEST(test_triple_fault)
{
    NEED_MMU();
    prot32(0);
    rc_dtable idt = { IDT, 0x2f };
    rc_set_idtr(cpu, &idt);
    set(RC_REG_RSP, 0x9000);
    rc_fault f = raise_at(0x1000, rc_exc_err(RC_EXC_GP, 0));
    ck_assert_int_eq(f.kind, RCF_EXIT);
    ck_assert_int_eq(cpu->exit_pending.reason, RC_EXIT_SHUTDOWN);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x9000);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1000);
}
END_TEST

/* Far JMP/CALL/RETF to a same-privilege code segment (SDM Vol. 2A JMP/CALL
 * NONCONFORMING-CODE-SEGMENT: RPL 0 <= CPL 0, DPL 0 = CPL 0, present).
 *   0x1000: EA 10 00 00 00 40 00 = JMP 0x40:0x00000010 -> 16-bit code at
 *           base 0x10000; CS = 0x40, mode prot16, EIP = 0x10; the
 *           descriptor's accessed bit is set (type 0xA -> 0xB in memory).
 *   0x10010: 66 9A 00 50 00 00 08 00 = CALL 0x08:0x00005000 with a 32-bit
 *           operand: push CS 0x40 at 0x8FFC, EIP 0x18 at 0x8FF8; ESP 0x8FF8.
 *   0x5000: CB = RETF (32-bit): pops EIP 0x18, CS 0x40; ESP = 0x9000.
 *   0x10018: F4 HLT -> EIP 0x19.
 * JMP to 0x1B (DPL 3 != CPL 0) -> #GP(0x18). */
START_TEST(test_prot_far)
{
    NEED_MMU();
    prot32(0);
    set(RC_REG_RSP, 0x9000);
    code(0x1000, "ea100000004000");
    code(0x10010, "669a005000000800");
    code(0x5000, "cb");
    code(0x10018, "f4");
    set(RC_REG_RIP, 0x1000);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x40);
    ck_assert_uint_eq(sreg(RC_SEG_CS).base, 0x10000);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_PROT16);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x10);
    ck_assert_uint_eq((get(GDT + 0x40, 8) >> 40) & 0xff, 0x9b);
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x08);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x8ff8);
    ck_assert_uint_eq(get(0x8ffc, 4), 0x40);
    ck_assert_uint_eq(get(0x8ff8, 4), 0x18);
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x40);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x19);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x9000);

    prot32(0);
    code(0x1000, "ea000000001b00");
    set(RC_REG_RIP, 0x1000);
    rc_set_intercept(cpu, 1u << RC_EXC_GP);
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.error_code, 0x18);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x08);
}
END_TEST

/* ------------------------------------------------------------------ IA-32e mode */

/* Long mode with an identity-mapped first 2 MiB (one 2 MiB page, user,
 * writable): PML4[0] -> 0x11000, PDPT[0] -> 0x12000, PD[0] = 0x87 (P, RW,
 * US, PS). CR0 = PG | PE | ET, CR4 = PAE, EFER = LME | LMA. 64-bit TSS at
 * 0x3000: RSP0 (TSS+4) = 0x9F000, IST1 (TSS+0x24) = 0x8FFF8. */
static void long64(uint8_t cpl)
{
    put(PML4, 0x11007, 8);
    put(0x11000, 0x12007, 8);
    put(0x12000, 0x87, 8);
    set(RC_REG_CR3, PML4);
    set(RC_REG_CR4, 0x20);
    set(RC_REG_EFER, 0x500);
    set(RC_REG_CR0, 0x80000011);
    rc_segment cs = cpl ? cache(0x3b, 0xb, 3, 0, 1) : cache(0x30, 0xb, 0, 0, 1);
    rc_segment ds = cpl ? cache(0x23, 0x3, 3, 1, 0) : cache(0x10, 0x3, 0, 1, 0);
    rc_set_seg(cpu, RC_SEG_CS, &cs);
    rc_set_seg(cpu, RC_SEG_SS, &ds);
    rc_set_seg(cpu, RC_SEG_DS, &ds);
    rc_set_seg(cpu, RC_SEG_ES, &ds);
    rc_set_seg(cpu, RC_SEG_FS, &ds);
    rc_set_seg(cpu, RC_SEG_GS, &ds);
    rc_segment tr = { .selector = 0x28, .base = TSS, .limit = 0x67, .type = 11, .present = 1 };
    rc_set_seg(cpu, RC_SEG_TR, &tr);
    put(TSS + 4, 0x9f000, 8);
    put(TSS + 0x24, 0x8fff8, 8);
    rc_dtable idt = { IDT, 0xfff };
    rc_set_idtr(cpu, &idt);
    set(RC_REG_CPL, cpl);
    set(RC_REG_RFLAGS, 0x202);
}

/* #GP(0) at CPL 3 (64-bit code 0x3B, RSP 0x7FF8) through IDT[13], a 64-bit
 * interrupt gate (16 bytes at IDT + 13 * 16) to 0x30:0x5000 with IST 1.
 * SDM Vol. 3A 6.14.2-6.14.5: IST 1 -> RSP = TSS.IST1 = 0x8FFF8, aligned
 * down to 16 -> 0x8FFF0; DPL 0 < CPL 3 -> SS = null selector with RPL 0;
 * pushes, 8 bytes each: SS 0x23 at 0x8FFE8, RSP 0x7FF8 at 0x8FFE0, RFLAGS
 * 0x10202 (RF for a fault) at 0x8FFD8, CS 0x3B at 0x8FFD0, RIP 0x1000 at
 * 0x8FFC8, error 0 at 0x8FFC0. RSP = 0x8FFC0, CS = 0x30, CPL 0, RFLAGS 0x2.
 * Same privilege without IST (gate IST 0, CPL 0, RSP 0x9F008): RSP aligned
 * to 0x9F000, SS:RSP still pushed: SS 0x10 at 0x9EFF8, RSP 0x9F008 at
 * 0x9EFF0; RSP after = 0x9F000 - 6 * 8 = 0x9EFD0; SS stays 0x10. */
START_TEST(test_long_ist)
{
    NEED_MMU();
    long64(3);
    uint64_t lo = gate32(0x5000, 0x30, INTGATE_DPL0) | (1ull << 32);
    put(IDT + 13 * 16, lo, 8);
    put(IDT + 13 * 16 + 8, 0, 8);
    set(RC_REG_RSP, 0x7ff8);
    rc_fault f = raise_at(0x1000, rc_exc_err(RC_EXC_GP, 0));
    ck_assert_int_eq(f.kind, RCF_NONE);
    ck_assert_uint_eq(get(0x8ffe8, 8), 0x23);
    ck_assert_uint_eq(get(0x8ffe0, 8), 0x7ff8);
    ck_assert_uint_eq(get(0x8ffd8, 8), 0x10202);
    ck_assert_uint_eq(get(0x8ffd0, 8), 0x3b);
    ck_assert_uint_eq(get(0x8ffc8, 8), 0x1000);
    ck_assert_uint_eq(get(0x8ffc0, 8), 0);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x8ffc0);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x30);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0);
    ck_assert_uint_eq(sreg(RC_SEG_SS).unusable, 1);
    ck_assert_uint_eq(reg(RC_REG_CPL), 0);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x5000);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x2);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_LONG64);

    long64(0);
    put(IDT + 13 * 16, gate32(0x5000, 0x30, INTGATE_DPL0), 8);
    set(RC_REG_RSP, 0x9f008);
    f = raise_at(0x1000, rc_exc_err(RC_EXC_GP, 0));
    ck_assert_int_eq(f.kind, RCF_NONE);
    ck_assert_uint_eq(get(0x9eff8, 8), 0x10);
    ck_assert_uint_eq(get(0x9eff0, 8), 0x9f008);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x9efd0);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x10);
}
END_TEST

/* IA-32e mode, INT 0x21 at CPL 3 through a DPL-0 64-bit interrupt gate:
 * SDM Vol. 2A INT n "IF software interrupt AND gate DPL < CPL THEN
 * #GP(error_code(vector, 1, 0))": the error code's index field is the
 * vector in IA-32e mode too (Vol. 3A 6.13 Figure 6-6, 6.14.1), although the
 * gates are 16 bytes: 0x21 * 8 + 2 = 0x10A -- what the host CPU reports
 * for `int 0x21` at ring 3 under Linux (native vector
 * exceptions/basic.json). A not-present gate at 0x22 for a CPU exception
 * (EXT = 1): #NP(0x22 * 8 + 2 + 1) = #NP(0x113). */
START_TEST(test_long_int_dpl_error_code)
{
    NEED_MMU();
    long64(3);
    put(IDT + 0x21 * 16, gate32(0x5000, 0x30, INTGATE_DPL0), 8);
    put(IDT + 0x21 * 16 + 8, 0, 8);
    code(0x1000, "cd21");
    set(RC_REG_RIP, 0x1000);
    set(RC_REG_RSP, 0x7ff8);
    rc_set_intercept(cpu, (1u << RC_EXC_GP) | (1u << RC_EXC_NP));
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, RC_EXC_GP);
    ck_assert_uint_eq(ex.u.exception.error_code, 0x10a);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1000);

    put(IDT + 0x22 * 16, gate32(0x5000, 0x30, INTGATE_NOTPRESENT_DPL3), 8);
    put(IDT + 0x22 * 16 + 8, 0, 8);
    rc_fault f = raise_at(0x1000, rc_exc(0x22));
    ck_assert_int_eq(f.kind, RCF_EXIT);
    ck_assert_int_eq(cpu->exit_pending.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.vector, RC_EXC_NP);
    ck_assert_uint_eq(cpu->exit_pending.u.exception.error_code, 0x113);
}
END_TEST

/* IRETQ (48 CF at 0x30:0x5000, CPL 0) to compatibility mode. The stack at
 * 0x9F000 holds RIP 0x2000, CS 0x1B, RFLAGS 0x202, RSP 0x7FF0, SS 0x23.
 * SDM Vol. 2A IRET IA-32e-MODE: 64-bit pops; CS 0x1B (32-bit code, DPL 3 =
 * RPL 3 > CPL 0) -> outer return, SS 0x23 checked (RPL 3, DPL 3, writable).
 * Target not 64-bit: EIP 0x2000 within the limit. SS.B = 1 -> ESP = 0x7FF0.
 * Result: mode compat32, CPL 3, CS:RIP = 0x1B:0x2000, SS:RSP = 0x23:0x7FF0,
 * RFLAGS 0x202; FS (0x10, DPL 0 data) becomes null. */
START_TEST(test_iretq_to_compat)
{
    NEED_MMU();
    long64(0);
    put(0x9f000, 0x2000, 8);
    put(0x9f008, 0x1b, 8);
    put(0x9f010, 0x202, 8);
    put(0x9f018, 0x7ff0, 8);
    put(0x9f020, 0x23, 8);
    code(0x5000, "48cf");
    set(RC_REG_RIP, 0x5000);
    set(RC_REG_RSP, 0x9f000);
    set(RC_REG_RFLAGS, 0x2);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_COMPAT32);
    ck_assert_uint_eq(reg(RC_REG_CPL), 3);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x1b);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x2000);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x23);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ff0);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x202);
    ck_assert_uint_eq(sreg(RC_SEG_FS).selector, 0);
}
END_TEST

/* ------------------------------------------------------------------ hooks */

static rc_hook_action veto(void *o, rc_cpu *c, const rc_transition *t)
{
    (void)c;
    *(rc_transition *)o = *t;
    return RC_HOOK_VETO;
}

/* A before-hook sees the transition (kind, CPLs, gate) and its veto stops
 * the run with RC_EXIT_HOOK, the INT 0x80 not performed (CPL stays 3). */
START_TEST(test_hook_veto)
{
    NEED_MMU();
    int80_setup();
    rc_transition seen;
    memset(&seen, 0, sizeof(seen));
    rc_hooks h = { .opaque = &seen, .transition_before = veto };
    rc_set_hooks(cpu, &h);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HOOK);
    ck_assert_int_eq(seen.kind, RC_TR_INT);
    ck_assert_uint_eq(seen.old_cpl, 3);
    ck_assert_uint_eq(seen.new_cpl, 0);
    ck_assert_uint_eq(seen.gate, 0x80);
    ck_assert_uint_eq(seen.new_rsp, 0x9ffdc);
    ck_assert_uint_eq(reg(RC_REG_CPL), 3);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ff0);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x1000); /* vetoed: RIP back at the INT */
    ck_assert_ptr_nonnull(strstr(cpu->transition_text, "TSS.ESP0"));
}
END_TEST

/* SDM Vol. 2B SYSCALL, worked by hand. 64-bit code at CPL 3, RIP 0x1000
 * (0F 05), RFLAGS 0x202, EFER 0x501 (SCE, LME, LMA), STAR[47:32] = 0x30,
 * LSTAR = 0x2000, SFMASK = 0x200 (IF):
 *   RCX <- 0x1002 (next RIP), R11 <- 0x202, RFLAGS <- 0x202 & ~0x200 = 0x2,
 *   CS <- 0x30 (fixed: base 0, L = 1, DPL 0, type 11), SS <- 0x38 (DPL 0,
 *   type 3, B = 1), CPL 0, RIP <- 0x2000 where HLT ends the run (RIP 0x2001);
 *   RSP is not touched. The transition record names SYSCALL and LSTAR. */
static rc_transition seen_after;
static rc_hook_action record_after(void *opaque, rc_cpu *c, const rc_transition *t)
{
    (void)opaque;
    (void)c;
    seen_after = *t;
    return RC_HOOK_CONTINUE;
}

/* A far CALL through a 32-bit call gate to ring 0 (SDM Vol. 2A CALL,
 * MORE-PRIVILEGE; Vol. 3A 5.8.5 Figure 5-13), worked by hand. The gate is
 * GDT entry 5 (selector 0x2b with RPL 3): offset 0x5000, selector 0x08,
 * 1 parameter, P | DPL 3 | type 12 = 0xEC. From CPL 3 (CS 0x1b, SS 0x23,
 * ESP 0x7fec after PUSH 0x77): new stack SS0:ESP0 = 0x10:0x9fff0; pushed
 * old SS 0x23, old ESP 0x7fec, the parameter 0x77, old CS 0x1b, old EIP
 * 0x1009 (2-byte PUSH + 7-byte CALL): ESP 0x9fff0 - 20 = 0x9ffdc. The
 * transition is explained in the words of issue 6. */
START_TEST(test_callgate32)
{
    NEED_MMU();
    prot32(3);
    put(GDT + 5 * 8, gate32(0x5000, 0x08, 0xEC) | (1ull << 32), 8);
    code(0x1000, "6a779a000000002b00");
    code(0x5000, "f4");
    set(RC_REG_RIP, 0x1000);
    set(RC_REG_RSP, 0x7ff0);
    memset(&seen_after, 0, sizeof seen_after);
    rc_hooks h = { .transition_after = record_after };
    rc_set_hooks(cpu, &h);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(RC_REG_CPL), 0);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x9ffdc);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x5001);
    ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x08);
    ck_assert_uint_eq(sreg(RC_SEG_SS).selector, 0x10);
    ck_assert_uint_eq(get(0x9ffdc, 4), 0x1009);
    ck_assert_uint_eq(get(0x9ffe0, 4), 0x1b);
    ck_assert_uint_eq(get(0x9ffe4, 4), 0x77);
    ck_assert_uint_eq(get(0x9ffe8, 4), 0x7fec);
    ck_assert_uint_eq(get(0x9ffec, 4), 0x23);
    ck_assert_int_eq(seen_after.kind, RC_TR_FAR_CALL);
    ck_assert_uint_eq(seen_after.gate, 0x2b);
    ck_assert_uint_eq(seen_after.old_cpl, 3);
    ck_assert_uint_eq(seen_after.new_cpl, 0);
    ck_assert_uint_eq(seen_after.new_ss, 0x10);
    ck_assert_uint_eq(seen_after.new_rsp, 0x9ffdc);
    ck_assert_str_eq(cpu->transition_text,
                     "far CALL via gate 0x2b (32-bit, DPL 3) -> 0x8:0x5000, CPL 3->0, stack "
                     "0x23:0x7fec -> 0x10:0x9ffdc (TSS.ESP0), copied 1 dword");
}
END_TEST

START_TEST(test_syscall_64)
{
    NEED_MMU();
    long64(3);
    code(0x1000, "0f05");
    code(0x2000, "f4");
    set(RC_REG_RIP, 0x1000);
    set(RC_REG_RSP, 0x7ff8);
    set(RC_REG_EFER, 0x501);
    ck_assert_int_eq(rc_set_msr(cpu, 0xc0000081, 0x0033003000000000ull), RC_OK); /* STAR */
    ck_assert_int_eq(rc_set_msr(cpu, 0xc0000082, 0x2000), RC_OK);                 /* LSTAR */
    ck_assert_int_eq(rc_set_msr(cpu, 0xc0000084, 0x200), RC_OK);                  /* SFMASK */
    memset(&seen_after, 0, sizeof seen_after);
    rc_hooks h = { .transition_after = record_after };
    rc_set_hooks(cpu, &h);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(RC_REG_RCX), 0x1002);
    ck_assert_uint_eq(reg(RC_REG_R11), 0x202);
    ck_assert_uint_eq(reg(RC_REG_RFLAGS), 0x2);
    ck_assert_uint_eq(reg(RC_REG_RIP), 0x2001);
    ck_assert_uint_eq(reg(RC_REG_RSP), 0x7ff8);
    ck_assert_uint_eq(reg(RC_REG_CPL), 0);
    rc_segment cs = sreg(RC_SEG_CS), ss = sreg(RC_SEG_SS);
    ck_assert_uint_eq(cs.selector, 0x30);
    ck_assert(cs.l == 1 && cs.db == 0 && cs.dpl == 0 && cs.type == 11 && cs.base == 0);
    ck_assert_uint_eq(ss.selector, 0x38);
    ck_assert(ss.dpl == 0 && ss.type == 3 && ss.db == 1 && !ss.unusable);
    ck_assert_int_eq(seen_after.kind, RC_TR_SYSCALL);
    ck_assert_uint_eq(seen_after.msr, 0xc0000082);
    ck_assert_uint_eq(seen_after.old_cpl, 3);
    ck_assert_uint_eq(seen_after.new_cpl, 0);
    ck_assert_uint_eq(seen_after.new_cs, 0x30);
    ck_assert_uint_eq(seen_after.new_rip, 0x2000);
    ck_assert_ptr_nonnull(strstr(cpu->transition_text, "LSTAR"));
}
END_TEST

/* SYSRET's SS per vendor (SDM Vol. 2B SYSRET: SS gets fixed attributes, DPL
 * 3; AMD: "SS.sel = SYSRET_CS + 8", attributes unchanged -- Linux's
 * X86_BUG_SYSRET_SS_ATTRS). CPL 0 with an unusable (null) SS, as after an
 * interrupt in 64-bit mode; STAR[63:48] = 0x23: SYSRET with REX.W -> CS
 * 0x33, SS 0x2b. Intel: SS usable, DPL 3, type 3. AMD: SS selector 0x2b but
 * still unusable. */
START_TEST(test_sysret_ss_attrs)
{
    NEED_MMU();
    for (int amd = 0; amd < 2; amd++) {
        if (amd) {
            rc_destroy(cpu);
            rc_config cfg = RC_CONFIG_INIT;
            cfg.vendor = RC_VENDOR_AMD;
            ck_assert_int_eq(rc_create(&cfg, &cpu), RC_OK);
            ck_assert_int_eq(rc_map_ram(cpu, 0, RAM, NULL, 0), RC_OK);
            for (unsigned i = 0; i < 10; i++)
                put(GDT + 8 * i, gdt[i], 8);
            rc_dtable g = { GDT, 0x4f };
            rc_set_gdtr(cpu, &g);
        }
        long64(0);
        rc_segment null_ss = { .selector = 0, .unusable = 1 };
        rc_set_seg(cpu, RC_SEG_SS, &null_ss);
        code(0x1000, "480f07");
        code(0x3000, "f4");
        set(RC_REG_RIP, 0x1000);
        set(RC_REG_RCX, 0x3000);
        set(RC_REG_R11, 0x2);
        set(RC_REG_EFER, 0x501);
        ck_assert_int_eq(rc_set_msr(cpu, 0xc0000081, 0x0023001000000000ull), RC_OK);
        rc_exit ex;
        ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
        ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
        ck_assert_uint_eq(reg(RC_REG_CPL), 3);
        ck_assert_uint_eq(reg(RC_REG_RIP), 0x3000);
        ck_assert_uint_eq(sreg(RC_SEG_CS).selector, 0x33);
        rc_segment ss = sreg(RC_SEG_SS);
        ck_assert_uint_eq(ss.selector, 0x2b);
        if (amd) {
            ck_assert_msg(ss.unusable, "AMD: SYSRET keeps SS's hidden part (unusable)");
        } else {
            ck_assert(!ss.unusable && ss.dpl == 3 && ss.type == 3 && ss.present);
        }
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("deliver");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_real_int21);
    tcase_add_test(tc, test_real_iret);
    tcase_add_test(tc, test_real_far);
    tcase_add_test(tc, test_gp_intgate_cpl0);
    tcase_add_test(tc, test_int80_cpl3_trapgate);
    tcase_add_test(tc, test_iret_to_cpl3);
    tcase_add_test(tc, test_int_dpl_gp);
    tcase_add_test(tc, test_np_gate);
    tcase_add_test(tc, test_double_fault);
    tcase_add_test(tc, test_benign_then_contributory);
    tcase_add_test(tc, test_triple_fault);
    tcase_add_test(tc, test_prot_far);
    tcase_add_test(tc, test_long_ist);
    tcase_add_test(tc, test_long_int_dpl_error_code);
    tcase_add_test(tc, test_iretq_to_compat);
    tcase_add_test(tc, test_hook_veto);
    tcase_add_test(tc, test_syscall_64);
    tcase_add_test(tc, test_callgate32);
    tcase_add_test(tc, test_sysret_ss_attrs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

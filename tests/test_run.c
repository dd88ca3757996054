/*
 * test_run.c - the dispatch loop: exits, the instruction limit, unsupported
 * instructions, self-modifying code and the decoded-instruction cache,
 * single-step traps, I/O exits and their completion.
 *
 * Expected values are derived from the SDM by hand (comments name the
 * section); the machine is a flat 32-bit protected-mode CPU at CPL 0 built
 * through the public API.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ringcore.h"

#define RAM 0x100000u
#define CODE 0x1000u

static rc_cpu *flat32(rc_vendor v, const char *hex)
{
    rc_config cfg = RC_CONFIG_INIT;
    cfg.vendor = v;
    rc_cpu *cpu = NULL;
    ck_assert_int_eq(rc_create(&cfg, &cpu), RC_OK);
    ck_assert_int_eq(rc_map_ram(cpu, 0, RAM, NULL, 0), RC_OK);
    rc_segment code = { .selector = 0x08, .base = 0, .limit = 0xffffffff, .type = 0xb, .s = 1,
                        .present = 1, .db = 1, .g = 1 };
    rc_segment data = { .selector = 0x10, .base = 0, .limit = 0xffffffff, .type = 0x3, .s = 1,
                        .present = 1, .db = 1, .g = 1 };
    rc_set_reg(cpu, RC_REG_CR0, 0x11); /* PE | ET */
    rc_set_seg(cpu, RC_SEG_CS, &code);
    for (rc_seg_reg r = RC_SEG_ES; r <= RC_SEG_GS; r++)
        if (r != RC_SEG_CS)
            rc_set_seg(cpu, r, &data);
    rc_set_reg(cpu, RC_REG_CPL, 0);
    rc_set_reg(cpu, RC_REG_RFLAGS, 2);
    rc_set_reg(cpu, RC_REG_RSP, 0x8000);
    rc_set_reg(cpu, RC_REG_RIP, CODE);
    uint8_t buf[256];
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1]; p += 2)
        buf[n++] = (uint8_t)strtoul((char[]){ p[0], p[1], 0 }, NULL, 16);
    ck_assert_int_eq(rc_write_phys(cpu, CODE, buf, n), RC_OK);
    rc_set_intercept(cpu, 0xffffffffu);
    return cpu;
}

static uint64_t reg(rc_cpu *cpu, rc_reg r)
{
    uint64_t v = 0;
    ck_assert_int_eq(rc_get_reg(cpu, r, &v), RC_OK);
    return v;
}

/* HLT at CPL 0 ends the run; RIP is after the HLT (SDM Vol. 2A HLT: the
 * saved instruction pointer points to the instruction after HLT). */
START_TEST(test_hlt_exit)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "b805000000f4");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX), 5);
    ck_assert_uint_eq(reg(cpu, RC_REG_RIP), CODE + 6);
    ck_assert_uint_eq(ex.icount, 2);
    rc_destroy(cpu);
}
END_TEST

/* The limit stops exactly after N instructions: EB FE is "jmp $". */
START_TEST(test_limit)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "40ebfd");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 1001, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    ck_assert_uint_eq(ex.icount, 1001);
    /* 501 INC EAX and 500 JMP: EAX = 501, back at the INC */
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX) & 0xffffffff, 501);
    rc_destroy(cpu);
}
END_TEST

/* x87 is out of scope: an explicit unsupported exit with bytes and address. */
START_TEST(test_unsupported_x87)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "90d9c0f4");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_UNSUPPORTED);
    ck_assert_uint_eq(ex.u.unsupported.rip, CODE + 1);
    ck_assert_uint_eq(ex.u.unsupported.len, 2);
    ck_assert_uint_eq(ex.u.unsupported.bytes[0], 0xd9);
    ck_assert_uint_eq(ex.u.unsupported.bytes[1], 0xc0);
    ck_assert_ptr_nonnull(strstr(ex.u.unsupported.what, "x87"));
    ck_assert_uint_eq(reg(cpu, RC_REG_RIP), CODE + 1); /* state at the instruction */
    rc_destroy(cpu);
}
END_TEST

/* 16 prefix bytes: longer than 15 -> #GP(0) (SDM Vol. 2A 2.3.11). */
START_TEST(test_too_long)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "66666666666666666666666666666666" "90");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, 13);
    ck_assert_uint_eq(ex.u.exception.error_code, 0);
    ck_assert_uint_eq(ex.u.exception.rip, CODE);
    rc_destroy(cpu);
}
END_TEST

/* Self-modifying code (SDM Vol. 3A 11.6): a store into the next
 * instruction's bytes must be seen by its fetch, even after the loop body
 * was cached.
 *   1000: b9 02 00 00 00     mov ecx, 2
 *   1005: c6 05 13 10 00 00 40   mov byte [0x1013], 0x40   (40 = inc eax)
 *   100c: 90 (x7 .. to 0x1013)
 * Simpler: loop twice over code that patches its own next instruction:
 *   1000: 31 c0              xor eax, eax
 *   1002: b9 02 00 00 00     mov ecx, 2
 *   1007: 90                 nop   <- patched to 40 (inc eax) on pass 1
 *   1008: c6 05 07 10 00 00 40   mov byte [0x1007], 0x40
 *   100f: e2 f6              loop 0x1007
 *   1011: f4                 hlt
 * Pass 1 runs NOP (cached), patches; pass 2 must run INC: EAX = 1. */
START_TEST(test_self_modifying)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "31c0b90200000090c60507100000" "40e2f6f4");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX), 1);
    /* And a patch through rc_write_phys (DMA) between runs is seen too. */
    uint8_t inc = 0x40;
    rc_set_reg(cpu, RC_REG_RIP, CODE);
    ck_assert_int_eq(rc_write_phys(cpu, CODE + 0x11, &inc, 1), RC_OK); /* hlt -> inc */
    uint8_t hlt = 0xf4;
    ck_assert_int_eq(rc_write_phys(cpu, CODE + 0x12, &hlt, 1), RC_OK);
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    /* xor -> 0; pass 1: nop... but byte 0x1007 is already 40: inc twice, then inc at 0x1011 */
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX), 3);
    rc_destroy(cpu);
}
END_TEST

/* Code the embedder writes straight into RAM it owns is seen after
 * rc_invalidate_code (the documented contract, docs/api.md). */
START_TEST(test_invalidate_code)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "b801000000f4"); /* mov eax, 1; hlt */
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX), 1);
    uint8_t *ram = rc_ram_ptr(cpu, CODE, 16);
    ck_assert_ptr_nonnull(ram);
    ram[1] = 7; /* mov eax, 7 */
    ck_assert_int_eq(rc_invalidate_code(cpu, CODE + 1, 1), RC_OK);
    rc_set_reg(cpu, RC_REG_RIP, CODE);
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX), 7);
    ck_assert_int_eq(rc_invalidate_code(NULL, 0, 1), RC_ERR_INVALID_ARG);
    rc_destroy(cpu);
}
END_TEST

/* REP MOVS with overlapping source and destination (SDM Vol. 2B MOVS/REP:
 * each iteration reads its element, then writes it, moving forwards):
 *   bytes, d = s + 1, ECX = 7 over "ABCDEFGHIJ": iteration i copies byte i
 *   to i+1, which the previous iteration already set to 'A' -> "AAAAAAAAIJ".
 *   dwords, d = s + 1, ECX = 2 over "ABCDEFGHIJ": iteration 0 reads "ABCD"
 *   and writes bytes 1..4 -> "AABCDFGHIJ"; iteration 1 reads bytes 4..7
 *   "DFGH" and writes bytes 5..8 -> "AABCDDFGHJ".
 * Code: mov esi, 0x3000; mov edi, 0x3001; mov ecx, 7; rep movsb;
 *       mov esi, 0x3100; mov edi, 0x3101; mov ecx, 2; rep movsd; hlt */
START_TEST(test_rep_movs_overlap)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "be00300000bf01300000b907000000f3a4"
                                          "be00310000bf01310000b902000000f3a5f4");
    ck_assert_int_eq(rc_write_phys(cpu, 0x3000, "ABCDEFGHIJ", 10), RC_OK);
    ck_assert_int_eq(rc_write_phys(cpu, 0x3100, "ABCDEFGHIJ", 10), RC_OK);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    char b1[11] = { 0 }, b2[11] = { 0 };
    ck_assert_int_eq(rc_read_phys(cpu, 0x3000, b1, 10), RC_OK);
    ck_assert_int_eq(rc_read_phys(cpu, 0x3100, b2, 10), RC_OK);
    ck_assert_str_eq(b1, "AAAAAAAAIJ");
    ck_assert_str_eq(b2, "AABCDDFGHJ");
    ck_assert_uint_eq(reg(cpu, RC_REG_RSI), 0x3108);
    ck_assert_uint_eq(reg(cpu, RC_REG_RDI), 0x3109);
    ck_assert_uint_eq(reg(cpu, RC_REG_RCX), 0);
    rc_destroy(cpu);
}
END_TEST

/* Alignment check (SDM Vol. 3A 6.15, Interrupt 17): CR0.AM = 1,
 * RFLAGS.AC = 1, CPL 3 and a dword read at 0x2001 (not a multiple of 4) ->
 * #AC(0) with RIP at the instruction. The same read at CPL 0, or with
 * RFLAGS.AC = 0, or a byte read, does not fault.
 *   8b 05 01 20 00 00   mov eax, [0x2001]        */
START_TEST(test_alignment_check)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "8b0501200000f4");
    rc_segment code3 = { .selector = 0x1b, .base = 0, .limit = 0xffffffff, .type = 0xb, .s = 1,
                         .dpl = 3, .present = 1, .db = 1, .g = 1 };
    rc_segment data3 = { .selector = 0x23, .base = 0, .limit = 0xffffffff, .type = 0x3, .s = 1,
                         .dpl = 3, .present = 1, .db = 1, .g = 1 };
    rc_set_seg(cpu, RC_SEG_CS, &code3);
    rc_set_seg(cpu, RC_SEG_SS, &data3);
    rc_set_seg(cpu, RC_SEG_DS, &data3);
    rc_set_reg(cpu, RC_REG_CPL, 3);
    rc_set_reg(cpu, RC_REG_CR0, 0x11 | (1u << 18)); /* PE | ET | AM */
    rc_set_reg(cpu, RC_REG_RFLAGS, 2 | (1u << 18)); /* AC */
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 10, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, 17);
    ck_assert_uint_eq(ex.u.exception.error_code, 0);
    ck_assert_uint_eq(reg(cpu, RC_REG_RIP), CODE);
    /* RFLAGS.AC = 0: no check */
    rc_set_reg(cpu, RC_REG_RFLAGS, 2);
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    /* CPL 0: no check */
    rc_set_reg(cpu, RC_REG_RIP, CODE);
    rc_set_reg(cpu, RC_REG_RFLAGS, 2 | (1u << 18));
    rc_set_reg(cpu, RC_REG_CPL, 0);
    ck_assert_int_eq(rc_run(cpu, 1, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_LIMIT);
    rc_destroy(cpu);
}
END_TEST

/* Single-step: with TF = 1, #DB is raised after each instruction with
 * DR6.BS set and the saved RIP at the next instruction (SDM Vol. 3A
 * 18.3.1.4). */
START_TEST(test_single_step)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "4040f4");
    rc_set_reg(cpu, RC_REG_RFLAGS, 2 | 0x100);
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_EXCEPTION);
    ck_assert_uint_eq(ex.u.exception.vector, 1);
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX), 1);
    ck_assert_uint_eq(reg(cpu, RC_REG_RIP), CODE + 1);
    ck_assert(reg(cpu, RC_REG_DR6) & (1u << 14));
    rc_destroy(cpu);
}
END_TEST

/* Port I/O without callbacks: the run stops with RC_EXIT_IO; after
 * rc_complete_io the IN completes with the embedder's value.
 *   e4 60   in al, 0x60
 *   f4      hlt */
START_TEST(test_io_exit)
{
    rc_cpu *cpu = flat32(RC_VENDOR_INTEL, "e460f4");
    rc_exit ex;
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_IO);
    ck_assert_uint_eq(ex.u.io.port, 0x60);
    ck_assert_uint_eq(ex.u.io.size, 1);
    ck_assert_uint_eq(ex.u.io.is_write, 0);
    ck_assert_int_eq(rc_complete_io(cpu, 0xab), RC_OK);
    ck_assert_int_eq(rc_run(cpu, 100, &ex), RC_OK);
    ck_assert_int_eq(ex.reason, RC_EXIT_HLT);
    ck_assert_uint_eq(reg(cpu, RC_REG_RAX) & 0xff, 0xab);
    rc_destroy(cpu);
}
END_TEST

/* Two CPUs in one process do not share state. */
START_TEST(test_two_cpus)
{
    rc_cpu *a = flat32(RC_VENDOR_INTEL, "b801000000f4");
    rc_cpu *b = flat32(RC_VENDOR_AMD, "b802000000f4");
    rc_exit ex;
    ck_assert_int_eq(rc_run(a, 10, &ex), RC_OK);
    ck_assert_int_eq(rc_run(b, 10, &ex), RC_OK);
    ck_assert_uint_eq(reg(a, RC_REG_RAX), 1);
    ck_assert_uint_eq(reg(b, RC_REG_RAX), 2);
    rc_destroy(a);
    rc_destroy(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    tcase_add_test(tc, test_hlt_exit);
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_unsupported_x87);
    tcase_add_test(tc, test_too_long);
    tcase_add_test(tc, test_self_modifying);
    tcase_add_test(tc, test_single_step);
    tcase_add_test(tc, test_invalidate_code);
    tcase_add_test(tc, test_rep_movs_overlap);
    tcase_add_test(tc, test_alignment_check);
    tcase_add_test(tc, test_io_exit);
    tcase_add_test(tc, test_two_cpus);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

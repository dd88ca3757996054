/* tests/test_kernel_vectors.c: `ringcore vectors check|record --oracle qemu`
 * (tools/lib/vb_qemu.c): vectors run inside QEMU (TCG) through the test
 * kernel (tests/kernel/README.md) and judged from QEMU's monitor.
 *
 *   - a fixed sample of corpus vectors, recorded by other judges (the
 *     manuals, the host CPU, Unicorn), each checked on its own: QEMU must
 *     agree (CPL-0 HLT ends in long and prot32 mode, CPL-3/CPL-1 exceptions
 *     delivered to ring 0 in long, compat and prot32 mode, #PF, INT n);
 *   - tests/vectors/ring0/delivery.json (hand-derived from SDM Vol. 3A
 *     chapter 6: deliveries with and without a ring change, an IST switch,
 *     trap gates, #GP with an error code at CPL 0, and two triple faults
 *     that end in shutdown) must agree as
 *     a whole, and so must ring0/transitions.json (IRET to ring 3, call
 *     gates into ring 0);
 *   - the check can fail: a copy of a hand-derived vector with one field
 *     changed must DISAGREE on exactly that field, and the two known QEMU
 *     differences (tests/vectors/ring0/qemu-differs.json: SS after an IST
 *     switch without a privilege change; RF in a fault frame, judged with
 *     RC_QEMU_JUDGE_RF=1) are reported with both values;
 *   - record: a vector without an expectation gets one whose values match a
 *     derivation by hand (INT3 at CPL 3 in long mode, SDM Vol. 3A 6.14.2).
 * The wall time of every QEMU run is printed. Skips (with the reason) when
 * qemu-system-x86_64 or the kernel's disk image is missing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "support/kernel_boot.h"

#define DISK RC_BINARY_DIR "/tests/kernel/disk.img"
#define VEC RC_SOURCE_DIR "/tests/vectors/"

static char g_dir[256];


static int can_run(const char *test)
{
    if (!rck_have_program("qemu-system-x86_64")) {
        printf("SKIP %s: qemu-system-x86_64 not installed (Debian: qemu-system-x86)\n", test);
        return 0;
    }
    if (access(DISK, R_OK)) {
        printf("SKIP %s: no test kernel image %s (nasm missing at build time?)\n", test, DISK);
        return 0;
    }
    return 1;
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/rc-kvec.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd)) {
    }
}

/* ---------------------------------------------------------------- corpus sample */
START_TEST(corpus_sample_agrees)
{
    if (can_run("corpus_sample_agrees"))
        rck_check_corpus_sample("qemu", DISK, g_dir, VEC);
}
END_TEST

/* ---------------------------------------------------------------- hand-derived ring-0 vectors */
START_TEST(ring0_delivery_agrees)
{
    if (!can_run("ring0_delivery_agrees"))
        return;
    char *out;
    double s;
    int st = rck_cli(NULL, DISK,
                     "vectors check --oracle qemu --verbose '" VEC "ring0/delivery.json'", &out,
                     &s);
    printf("qemu check ring0/delivery.json (9 vectors) %.2f s\n%s", s, out);
    ck_assert_msg(st == 0 && strstr(out, "9 vectors judged, 9 agree"), "exit %d:\n%s", st, out);
    free(out);
}
END_TEST

/* tests/vectors/ring0/transitions.json: IRETQ/IRETD to ring 3 (DS..GS
 * nulled by IRETD), far CALL through 32- and 64-bit call gates into ring 0
 * (hand-derived from SDM Vol. 2A CALL/IRET, Vol. 3A 5.8.5-5.8.6). */
START_TEST(ring0_transitions_agree)
{
    if (!can_run("ring0_transitions_agree"))
        return;
    char *out;
    double s;
    int st = rck_cli(NULL, DISK,
                     "vectors check --oracle qemu --verbose '" VEC "ring0/transitions.json'", &out,
                     &s);
    printf("qemu check ring0/transitions.json (4 vectors) %.2f s\n%s", s, out);
    ck_assert_msg(st == 0 && strstr(out, "4 vectors judged, 4 agree"), "exit %d:\n%s", st, out);
    free(out);
}
END_TEST

/* The IST case where QEMU differs from the SDM: reported, with both values. */
START_TEST(ring0_qemu_difference_reported)
{
    if (!can_run("ring0_qemu_difference_reported"))
        return;
    char *out;
    double s;
    int st = rck_cli(NULL, DISK, "vectors check --oracle qemu '" VEC "ring0/qemu-differs.json'",
                     &out, &s);
    printf("qemu check ring0/qemu-differs.json %.2f s\n%s", s, out);
    ck_assert_int_eq(st, 3);
    ck_assert_msg(strstr(out, "DISAGREE") && strstr(out, "\"int21-ist5-cpl0-long\"") &&
                  strstr(out, "expect.segs.ss: expected 0x18, got 0x0"), "%s", out);
    free(out);
}
END_TEST

/* RF in a fault frame, judged on request: QEMU pushes RF = 0 (SDM: 1). */
START_TEST(fault_frame_rf_difference_reported)
{
    if (!can_run("fault_frame_rf_difference_reported"))
        return;
    char path[512], args[700], *out;
    double s;
    /* A #PF at CPL 3 (pf/basic.json; SDM and sources: RF = 1 in the frame). */
    rck_extract(g_dir, VEC "pf/basic.json", "pf-write-ro-user-cpl3-long", path, sizeof path);
    snprintf(args, sizeof args, "vectors check --oracle qemu '%s'", path);
    int st = rck_cli("RC_QEMU_JUDGE_RF=1", DISK, args, &out, &s);
    printf("qemu check (RC_QEMU_JUDGE_RF=1) pf-write-ro-user-cpl3-long %.2f s\n%s", s, out);
    ck_assert_int_eq(st, 3);
    ck_assert_msg(strstr(out, "expect.frame.rflags: expected 0x10002, got 0x2"), "%s", out);
    free(out);
}
END_TEST

/* A wrong expectation must fail: the hand-derived frame RSP of the CPL-3 ->
 * ring-0 trap-gate vector (0x410000) replaced by 0x410008. */
START_TEST(wrong_field_disagrees)
{
    if (!can_run("wrong_field_disagrees"))
        return;
    char *out = rck_wrong_frame_rsp_disagrees("qemu", DISK, g_dir, VEC);
    free(out);
}
END_TEST

/* record: INT3 at CPL 3 in long mode, checked against the hand derivation
 * (rck_record_int3_long, tests/support/kernel_boot.c). */
START_TEST(record_writes_hand_checkable_expectation)
{
    if (!can_run("record_writes_hand_checkable_expectation"))
        return;
    cJSON_Delete(rck_record_int3_long("qemu", DISK, g_dir));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernel_vectors");
    TCase *t = tcase_create("qemu");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, corpus_sample_agrees);
    tcase_add_test(t, ring0_delivery_agrees);
    tcase_add_test(t, ring0_transitions_agree);
    tcase_add_test(t, ring0_qemu_difference_reported);
    tcase_add_test(t, fault_frame_rf_difference_reported);
    tcase_add_test(t, wrong_field_disagrees);
    tcase_add_test(t, record_writes_hand_checkable_expectation);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* tests/test_kernel_bochs.c: `ringcore vectors check --oracle bochs`
 * (tools/lib/vb_bochs.c): vectors run inside Bochs 2.7 through the test
 * kernel (tests/kernel/README.md), the end state read from Bochs' own
 * debugger (r, sreg, creg, dreg, writemem) driven through a pipe.
 *
 *   - tests/vectors/ring0 (hand-derived from SDM Vol. 3A chapter 6 and Vol.
 *     2A CALL/IRET: deliveries with and without a ring change, IST, trap
 *     gates, #GP with an error code, two triple faults, IRET to ring 3,
 *     call gates into ring 0) must agree as a whole, including
 *     qemu-differs.json, where QEMU differs from the SDM and Bochs does not;
 *   - a fixed sample of corpus vectors recorded by other judges (the
 *     manuals, the host CPU, Unicorn), each checked on its own: Bochs must
 *     agree, the frame's RFLAGS of faults (RF = 1, SDM Vol. 3A 18.3.1.1)
 *     included, which QEMU cannot judge;
 *   - the check can fail: a copy of a hand-derived vector with one field
 *     changed must DISAGREE on exactly that field;
 *   - record: a vector without an expectation gets one whose values match a
 *     derivation by hand (INT3 at CPL 3 in long mode).
 * The wall time of every Bochs run is printed. Skips (with the reason) when
 * bochs, its BIOS images or the kernel's disk image are missing. */
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
#define BIOS "/usr/share/bochs/BIOS-bochs-latest"
#define VGABIOS "/usr/share/vgabios/vgabios.bin"

static char g_dir[256];


static int can_run(const char *test)
{
    if (!rck_have_program("bochs")) {
        printf("SKIP %s: bochs not installed (Debian: bochs bochs-sdl bochsbios vgabios)\n", test);
        return 0;
    }
    if (access(BIOS, R_OK) || access(VGABIOS, R_OK)) {
        printf("SKIP %s: %s or %s missing (Debian: bochsbios vgabios)\n", test, BIOS, VGABIOS);
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
    snprintf(g_dir, sizeof g_dir, "/tmp/rc-kbochs.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd)) {
    }
}

/* ---------------------------------------------------------------- ring0/ */

/* The 14 first hand-derived ring-0 vectors: delivery.json (9), transitions.json
 * (4) and qemu-differs.json (1: SS after an IST switch without a privilege
 * change stays the old SS, SDM Vol. 3A 6.14.4 — where QEMU 7.2 nulls it). */
START_TEST(ring0_agrees)
{
    if (!can_run("ring0_agrees"))
        return;
    char *out;
    double s;
    int st = rck_cli(NULL, DISK,
                     "vectors check --oracle bochs --verbose '" VEC "ring0/delivery.json' '" VEC
                     "ring0/transitions.json' '" VEC "ring0/qemu-differs.json'",
                     &out, &s);
    printf("bochs check ring0/ (14 vectors) %.2f s, %.2f s per vector\n%s", s, s / 14, out);
    ck_assert_msg(st == 0 && strstr(out, "14 vectors judged, 14 agree"), "exit %d:\n%s", st, out);
    ck_assert_msg(strstr(out, "AGREE ") && strstr(out, "\"int21-ist5-cpl0-long\""), "%s", out);
    free(out);
}
END_TEST

/* ---------------------------------------------------------------- corpus sample */
START_TEST(corpus_sample_agrees)
{
    if (can_run("corpus_sample_agrees"))
        rck_check_corpus_sample("bochs", DISK, g_dir, VEC);
}
END_TEST

/* A wrong expectation must fail: the hand-derived frame RSP of the CPL-3 ->
 * ring-0 trap-gate vector (0x410000, ring0/delivery.json) replaced by
 * 0x410008; nothing else may differ. */
START_TEST(wrong_field_disagrees)
{
    if (!can_run("wrong_field_disagrees"))
        return;
    char *out = rck_wrong_frame_rsp_disagrees("bochs", DISK, g_dir, VEC);
    ck_assert_msg(strstr(out, "0 agree"), "%s", out);
    free(out);
}
END_TEST

/* record: INT3 at CPL 3 in long mode, checked against the hand derivation
 * (rck_record_int3_long, tests/support/kernel_boot.c); Bochs also shows the
 * SS after the switch (null: SDM Vol. 3A 6.14.4) and its source names the
 * Intel model. */
START_TEST(record_matches_hand_derivation)
{
    if (!can_run("record_matches_hand_derivation"))
        return;
    cJSON *root = rck_record_int3_long("bochs", DISK, g_dir);
    cJSON *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(root, 0), "expect");
    cJSON *segs = cJSON_GetObjectItemCaseSensitive(e, "segs");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(segs, "ss")->valuestring, "0x0");
    const cJSON *src = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "sources"), 0);
    ck_assert_msg(cJSON_IsString(src) && !strncmp(src->valuestring, "bochs-", 6) &&
                  strstr(src->valuestring, ":corei7_skylake_x"), "source %s",
                  cJSON_IsString(src) ? src->valuestring : "?");
    cJSON_Delete(root);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernel_bochs");
    TCase *t = tcase_create("bochs");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, ring0_agrees);
    tcase_add_test(t, corpus_sample_agrees);
    tcase_add_test(t, wrong_field_disagrees);
    tcase_add_test(t, record_matches_hand_derivation);
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

/*
 * test_kernel_boot.c - the bootable test kernel (tests/kernel/) under QEMU
 * (TCG) and Bochs, booted through tools/kernel-run.sh.
 *
 * What each boot must log on port 0xE9 is the protocol of
 * tests/kernel/README.md ("The 0xE9 log"); the values in it come from
 * outside the kernel:
 *   - the CPU vendor is the one the test asks the emulator for (QEMU
 *     qemu64,vendor=...; Bochs corei7_skylake_x = GenuineIntel, ryzen =
 *     AuthenticAMD);
 *   - the payload's length and CRC-32 are those of bytes this test makes,
 *     computed here on the host (rck_crc32, itself checked against the
 *     published check value of CRC-32);
 *   - the exception line for UD2: #UD is vector 6 and pushes no error code
 *     (SDM Vol. 3A Table 7-1, "Protected-Mode Exceptions and Interrupts"),
 *     it is a fault so the saved RIP is the UD2 itself (SDM Vol. 3A 7.5
 *     "Exception Classifications"), and the saved CS is the kernel's 64-bit
 *     code selector 0x18 (tests/kernel/README.md, "Memory map");
 *   - the exit code: the README's table.
 * A run also has to end the way the README says: QEMU through isa-debug-exit
 * with status (code << 1) | 1, Bochs through its shutdown port.
 *
 * A missing emulator or disk image (nasm not installed) makes the affected
 * tests print "skipped: <reason>" and pass. Each boot prints its wall time.
 */
#define _GNU_SOURCE
#include <check.h>
#include <ftw.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/kernel_boot.h"

#define BOOT_TIMEOUT_S 30
#define PAYLOAD_BYTES 300000u /* 586 sectors: ten 64-sector chunks, the last partial */
#define SMALL_PAYLOAD_BYTES 1000u

enum { EMU_QEMU, EMU_BOCHS, N_EMU };
enum { VENDOR_INTEL, VENDOR_AMD, N_VENDOR };

static const char *const emu_name[N_EMU] = { "qemu", "bochs" };
static const char *const emu_program[N_EMU] = { "qemu-system-x86_64", "bochs" };
static const char *const vendor_arg[N_VENDOR] = { "intel", "amd" };
/* SDM Vol. 2A CPUID leaf 0 / AMD APM Vol. 3 CPUID Fn0000_0000: the vendor
 * strings of Intel and AMD processors. */
static const char *const vendor_string[N_VENDOR] = { "GenuineIntel", "AuthenticAMD" };

static char g_disk[2048];   /* the built tests/kernel/disk.img */
static char g_script[2048]; /* tools/kernel-run.sh */
static char g_tmp[1024];    /* this run's scratch directory */

/* ---------------------------------------------------------------- helpers */

static void locate(void)
{
    const char *env = getenv("RC_KERNEL_DISK");
    if (env && *env) {
        snprintf(g_disk, sizeof g_disk, "%s", env);
    } else {
#ifdef RC_BINARY_DIR
        snprintf(g_disk, sizeof g_disk, "%s/tests/kernel/disk.img", RC_BINARY_DIR);
#else
        /* The CLI is built at the top of the build tree. */
        char cli[4096];
        snprintf(cli, sizeof cli, "%s", RC_CLI_PATH);
        snprintf(g_disk, sizeof g_disk, "%s/tests/kernel/disk.img", dirname(cli));
#endif
    }
    snprintf(g_script, sizeof g_script, "%s/tools/kernel-run.sh", RC_SOURCE_DIR);
}

/* 1 when the emulator and the disk image are there; otherwise prints why
 * the test is skipped and returns 0. */
static int can_boot(int emu, const char *test)
{
    if (access(g_disk, R_OK) != 0) {
        printf("%s: skipped: no disk image %s (tests/kernel is built only when nasm is "
               "installed)\n", test, g_disk);
        return 0;
    }
    if (!rck_have_program(emu_program[emu])) {
        printf("%s: skipped: %s is not installed\n", test, emu_program[emu]);
        return 0;
    }
    return 1;
}

struct boot {
    int status;     /* kernel-run.sh's exit status */
    double seconds; /* wall time of the run */
    char dir[4096]; /* its OUTDIR */
    char *log;      /* OUTDIR/e9.log */
};

static char *read_in(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = rck_read_file(path, NULL);
    return s ? s : strdup("");
}

/* Boot `disk` under `emu` with `vendor`; returns 0 when the run happened,
 * -1 when the emulator turned out not to be usable (the test was skipped,
 * with the reason printed). */
static int boot(int emu, int vendor, const char *disk, const char *what, struct boot *b)
{
    snprintf(b->dir, sizeof b->dir, "%s/%s-%s-%s", g_tmp, emu_name[emu], vendor_arg[vendor],
             what);
    b->status = rck_run(g_script, emu_name[emu], vendor_arg[vendor], BOOT_TIMEOUT_S, disk, b->dir,
                        &b->seconds);
    printf("kernel_boot: %s %s %s: %.2f s wall, kernel-run status %d\n", emu_name[emu],
           vendor_arg[vendor], what, b->seconds, b->status);
    if (b->status == RCK_RUN_NOT_INSTALLED) {
        char *why = read_in(b->dir, "run.txt");
        printf("kernel_boot %s: skipped: %s", emu_name[emu], why);
        free(why);
        b->log = NULL;
        return -1;
    }
    b->log = read_in(b->dir, "e9.log");
    return 0;
}

/* The emulator-specific evidence that the guest ended the run itself. */
static void check_clean_end(int emu, const struct boot *b, const char *expected_log)
{
    if (emu == EMU_QEMU) {
        /* QEMU's debug console file holds the guest's bytes and nothing else. */
        char *raw = read_in(b->dir, "e9.raw");
        ck_assert_str_eq(raw, expected_log);
        free(raw);
        char *st = read_in(b->dir, "emulator.status");
        int code = b->status;
        ck_assert_int_eq(atoi(st), (code << 1) | 1); /* isa-debug-exit */
        free(st);
    } else {
        /* Bochs prints port 0xE9 to stdout between its own lines: the log
         * must be there in one piece, then the shutdown port's message. */
        char *out = read_in(b->dir, "emulator.out");
        ck_assert_msg(strstr(out, expected_log) != NULL,
                      "the guest's lines are not contiguous in Bochs' stdout (%s)", b->dir);
        free(out);
        char *err = read_in(b->dir, "emulator.err");
        ck_assert_msg(strstr(err, "Shutdown port: shutdown requested") != NULL,
                      "Bochs did not end through the shutdown port (%s)", b->dir);
        free(err);
    }
}

/* The log every boot that reaches the payload check starts with. */
static void expected_prefix(char *buf, size_t n, int vendor, uint32_t bytes, uint32_t crc)
{
    snprintf(buf, n,
             "ringcore-boot: mbr\n"
             "ringcore-kernel: protected mode\n"
             "ringcore-kernel: long mode\n"
             "ringcore-kernel: cpu vendor %s\n"
             "ringcore-kernel: payload bytes=%u crc32=%08x\n",
             vendor_string[vendor], bytes, crc);
}

/* Deterministic bytes (xorshift32, Marsaglia 2003) for a payload. */
static uint8_t *make_payload(uint32_t n, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    uint32_t x = seed;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
    return p;
}

/* Write a disk image with `payload` into the scratch directory. */
static void write_disk(const char *name, const uint8_t *payload, uint32_t n,
                       const uint32_t *header_crc, uint32_t flags, char *path, size_t pathlen)
{
    char err[512];
    snprintf(path, pathlen, "%s/%s.img", g_tmp, name);
    int rc = rck_write_disk(g_disk, path, payload, n, header_crc, flags, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
}

/* ---------------------------------------------------------------- tests */

/* CRC-32/ISO-HDLC (the IEEE 802.3 / zlib CRC): the check value, i.e. the CRC
 * of the ASCII bytes "123456789", is 0xCBF43926 (Williams, "A Painless Guide
 * to CRC Error Detection Algorithms", and the CRC catalogue); the CRC of no
 * bytes is 0 (preset ~0, inverted at the end). */
START_TEST(crc32_check_value)
{
    ck_assert_uint_eq(rck_crc32("123456789", 9), 0xcbf43926u);
    ck_assert_uint_eq(rck_crc32("", 0), 0u);
}
END_TEST

/* The image as built: empty payload (CRC-32 0), clean exit 0. */
static void boot_built_image(int emu, int vendor)
{
    char test[64];
    snprintf(test, sizeof test, "%s_%s_built_image", emu_name[emu], vendor_arg[vendor]);
    if (!can_boot(emu, test))
        return;
    struct boot b;
    if (boot(emu, vendor, g_disk, "built", &b) != 0)
        return;
    char expected[1024];
    expected_prefix(expected, sizeof expected, vendor, 0, 0);
    strcat(expected, "ringcore-kernel: exit 0\n");
    ck_assert_str_eq(b.log, expected);
    ck_assert_int_eq(b.status, 0);
    check_clean_end(emu, &b, expected);
    free(b.log);
}

START_TEST(qemu_built_image)
{
    boot_built_image(EMU_QEMU, _i);
}
END_TEST

START_TEST(bochs_built_image)
{
    boot_built_image(EMU_BOCHS, _i);
}
END_TEST

/* A 300,000-byte payload: ten INT 13h chunks, the last one partial and the
 * length not a whole number of sectors. The kernel's CRC of what landed at
 * 32 MiB must be the host's CRC of what the test wrote. */
START_TEST(payload_loaded_above_16mib)
{
    int emu = _i;
    if (!can_boot(emu, "payload_loaded_above_16mib"))
        return;
    uint8_t *payload = make_payload(PAYLOAD_BYTES, 0x2545f491u);
    uint32_t crc = rck_crc32(payload, PAYLOAD_BYTES);
    char disk[4200];
    write_disk(emu_name[emu], payload, PAYLOAD_BYTES, NULL, 0, disk, sizeof disk);
    free(payload);
    struct boot b;
    if (boot(emu, VENDOR_INTEL, disk, "payload", &b) != 0)
        return;
    char expected[1024];
    expected_prefix(expected, sizeof expected, VENDOR_INTEL, PAYLOAD_BYTES, crc);
    strcat(expected, "ringcore-kernel: exit 0\n");
    ck_assert_str_eq(b.log, expected);
    ck_assert_int_eq(b.status, 0);
    check_clean_end(emu, &b, expected);
    free(b.log);
}
END_TEST

/* Header flag RCK_FLAG_TEST_UD2: the kernel executes UD2 after the payload
 * check; its 64-bit IDT must catch #UD and report it (derivation in the file
 * comment), then exit with code 2 (README: exception). */
START_TEST(ud2_reported_by_the_idt)
{
    int emu = _i;
    if (!can_boot(emu, "ud2_reported_by_the_idt"))
        return;
    uint8_t *payload = make_payload(SMALL_PAYLOAD_BYTES, 7);
    uint32_t crc = rck_crc32(payload, SMALL_PAYLOAD_BYTES);
    char disk[4200];
    char name[32];
    snprintf(name, sizeof name, "%s-ud2", emu_name[emu]);
    write_disk(name, payload, SMALL_PAYLOAD_BYTES, NULL, RCK_FLAG_TEST_UD2, disk, sizeof disk);
    free(payload);
    struct boot b;
    if (boot(emu, VENDOR_AMD, disk, "ud2", &b) != 0)
        return;
    char expected[1024];
    expected_prefix(expected, sizeof expected, VENDOR_AMD, SMALL_PAYLOAD_BYTES, crc);
    strcat(expected,
           "ringcore-kernel: exception vector=6 error=0x0000 cs=0x0018 rip=test_ud2\n"
           "ringcore-kernel: exit 2\n");
    ck_assert_str_eq(b.log, expected);
    ck_assert_int_eq(b.status, 2);
    check_clean_end(emu, &b, expected);
    free(b.log);
}
END_TEST

/* A header whose CRC-32 does not match the payload: the kernel computes the
 * real one (the host's), says so and exits with code 3. */
START_TEST(payload_crc_mismatch_detected)
{
    int emu = _i;
    if (!can_boot(emu, "payload_crc_mismatch_detected"))
        return;
    uint8_t *payload = make_payload(SMALL_PAYLOAD_BYTES, 11);
    uint32_t crc = rck_crc32(payload, SMALL_PAYLOAD_BYTES);
    uint32_t wrong = crc ^ 1u;
    char disk[4200];
    char name[32];
    snprintf(name, sizeof name, "%s-badcrc", emu_name[emu]);
    write_disk(name, payload, SMALL_PAYLOAD_BYTES, &wrong, 0, disk, sizeof disk);
    free(payload);
    struct boot b;
    if (boot(emu, VENDOR_INTEL, disk, "badcrc", &b) != 0)
        return;
    char expected[1024], tail[200];
    expected_prefix(expected, sizeof expected, VENDOR_INTEL, SMALL_PAYLOAD_BYTES, crc);
    snprintf(tail, sizeof tail,
             "ringcore-kernel: error payload crc32 differs from the header's %08x\n"
             "ringcore-kernel: exit 3\n", wrong);
    strcat(expected, tail);
    ck_assert_str_eq(b.log, expected);
    ck_assert_int_eq(b.status, 3);
    check_clean_end(emu, &b, expected);
    free(b.log);
}
END_TEST

/* A header sector without the magic: the boot sector stops before loading
 * anything, with exit code 4 and the letter 'h' (README: boot failures). */
START_TEST(bad_header_stops_the_boot_sector)
{
    int emu = _i;
    if (!can_boot(emu, "bad_header_stops_the_boot_sector"))
        return;
    char disk[4200];
    char name[32];
    snprintf(name, sizeof name, "%s-nomagic", emu_name[emu]);
    write_disk(name, NULL, 0, NULL, 0, disk, sizeof disk);
    ck_assert_int_eq(rck_patch_file(disk, RCK_HEADER_LBA * RCK_SECTOR + RCK_H_MAGIC, "XCKDISK1", 8),
                     0);
    struct boot b;
    if (boot(emu, VENDOR_INTEL, disk, "nomagic", &b) != 0)
        return;
    const char *expected = "ringcore-boot: mbr\n"
                           "ringcore-boot: exit 4 h\n";
    ck_assert_str_eq(b.log, expected);
    ck_assert_int_eq(b.status, 4);
    check_clean_end(emu, &b, expected);
    free(b.log);
}
END_TEST

/* ---------------------------------------------------------------- main */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    locate();
    const char *tmpdir = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/rc-kernel-boot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }

    Suite *s = suite_create("kernel_boot");
    TCase *host = tcase_create("host");
    tcase_add_test(host, crc32_check_value);
    suite_add_tcase(s, host);

    TCase *tc = tcase_create("boot");
    /* Each boot takes a fraction of a second; the runner's own timeout
     * (BOOT_TIMEOUT_S per boot) ends a hung emulator first. */
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, qemu_built_image, VENDOR_INTEL, N_VENDOR);
    tcase_add_loop_test(tc, bochs_built_image, VENDOR_INTEL, N_VENDOR);
    tcase_add_loop_test(tc, payload_loaded_above_16mib, EMU_QEMU, N_EMU);
    tcase_add_loop_test(tc, ud2_reported_by_the_idt, EMU_QEMU, N_EMU);
    tcase_add_loop_test(tc, payload_crc_mismatch_detected, EMU_QEMU, N_EMU);
    tcase_add_loop_test(tc, bad_header_stops_the_boot_sector, EMU_QEMU, N_EMU);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed)
        printf("kernel_boot: the runs' files are kept in %s\n", g_tmp);
    else
        nftw(g_tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}

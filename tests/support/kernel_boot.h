/* tests/support/kernel_boot.h: host-side helpers for the bootable test
 * kernel (tests/kernel/README.md): write a disk image with a chosen payload,
 * boot it under QEMU or Bochs through tools/kernel-run.sh, read the log. */
#ifndef RC_TESTS_SUPPORT_KERNEL_BOOT_H
#define RC_TESTS_SUPPORT_KERNEL_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The header sector (LBA 1), as tests/kernel/layout.inc lays it out. */
#define RCK_SECTOR 512u
#define RCK_HEADER_LBA 1u
#define RCK_CYLINDER_BYTES (16u * 63u * RCK_SECTOR)
#define RCK_H_MAGIC 0x00
#define RCK_H_VERSION 0x08
#define RCK_H_PAYLOAD_LBA 0x1c
#define RCK_H_PAYLOAD_BYTES 0x20
#define RCK_H_PAYLOAD_LOAD 0x24
#define RCK_H_PAYLOAD_CRC32 0x28
#define RCK_H_FLAGS 0x2c
#define RCK_MAGIC "RCKDISK1"
#define RCK_FLAG_TEST_UD2 1u
#define RCK_PAYLOAD_MAX (0x4000000u - 0x2000000u) /* RAM_BYTES - PAYLOAD_LOAD */

/* tools/kernel-run.sh's exit statuses besides the guest's own code. */
#define RCK_RUN_TIMEOUT 124
#define RCK_RUN_EMULATOR_ENDED 125
#define RCK_RUN_NOT_INSTALLED 126

/* CRC-32 (IEEE 802.3 / zlib; check value of "123456789" is 0xCBF43926). */
uint32_t rck_crc32(const void *data, size_t n);

/* Write out_img: sectors 0 .. payload_lba - 1 of base_img (boot sector,
 * header, kernel), then `payload` padded to whole sectors, then zeros to a
 * whole number of cylinders; the header gets the payload's length, CRC-32
 * (header_crc32 when not NULL, to test the kernel's check) and `flags`.
 * Returns 0, or -1 with a message in err. */
int rck_write_disk(const char *base_img, const char *out_img, const void *payload,
                   uint32_t payload_bytes, const uint32_t *header_crc32, uint32_t flags,
                   char *err, size_t errlen);

/* Overwrite `len` bytes at byte offset `off` of an image file (0 or -1). */
int rck_patch_file(const char *img, long off, const void *bytes, size_t len);

/* True when `name` is an executable file in a PATH directory. */
int rck_have_program(const char *name);

/* Run `script` (tools/kernel-run.sh) as: bash script --vendor VENDOR
 * --timeout TIMEOUT_S EMU DISK OUTDIR, its stdout and stderr going to
 * OUTDIR/run.txt. Returns the script's exit status (-1 if it could not run)
 * and the wall time in *seconds. */
int rck_run(const char *script, const char *emu, const char *vendor, int timeout_s,
            const char *disk, const char *outdir, double *seconds);

/* Read a whole file into a NUL-terminated malloc'd buffer (NULL on error). */
char *rck_read_file(const char *path, size_t *len);

/* For the suites that run `ringcore vectors ... --oracle qemu|bochs`
 * (test_kernel_vectors.c, test_kernel_bochs.c). Run the CLI (RC_CLI_PATH)
 * with `args`, an optional environment prefix `env` and RC_KERNEL_IMAGE set
 * to `disk`: its output into *out (malloc'd), its exit status returned, the
 * wall time in *secs. */
int rck_cli(const char *env, const char *disk, const char *args, char **out, double *secs);

/* The vector `name` of corpus file `file`, alone in a new file under `dir`;
 * returns `path`. Check assertions fail the calling test on error. */
const char *rck_extract(const char *dir, const char *file, const char *name, char *path,
                        size_t n);

/* `vectors check --oracle ORACLE --verbose` of the one vector `name` of
 * corpus file `file` (extracted under `dir`): it must agree. Prints a line
 * with `what` and the time; returns the seconds. */
double rck_check_one_agrees(const char *oracle, const char *disk, const char *dir,
                            const char *file, const char *name, const char *what);

/* The corpus sample both emulator suites check: every vector of it, one
 * run each, must agree (rck_check_one_agrees); prints the time per vector. */
void rck_check_corpus_sample(const char *oracle, const char *disk, const char *dir,
                             const char *vec_dir);

/* A wrong expectation must fail: the hand-derived frame RSP (0x410000) of
 * ring0/delivery.json's int40-dpl3-trapgate-cpl3-long (a CPL-3 -> ring-0
 * trap gate) replaced by 0x410008; `check --oracle ORACLE` must exit 3 and
 * name that field and no other frame field. Returns its output (malloc'd). */
char *rck_wrong_frame_rsp_disagrees(const char *oracle, const char *disk, const char *dir,
                                    const char *vec_dir);

/* `vectors record --oracle ORACLE` of a vector written without expectation:
 * INT3 at CPL 3 in long mode after MOV EAX, 5 (b8 05 00 00 00 cc), then
 * the recorded expectation checked field by field against the hand
 * derivation (in kernel_boot.c), then `check` of the recording on a second
 * run. Returns the parsed file (the caller checks the judge's own fields
 * and frees it). */
cJSON *rck_record_int3_long(const char *oracle, const char *disk, const char *dir);

#endif

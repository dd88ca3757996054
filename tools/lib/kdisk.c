/*
 * kdisk.c - what the emulator judges (vb_qemu.c, vb_bochs.c) share on the
 * host side: finding the built test-kernel image, writing a disk that
 * carries one vector's payload, and a clock for their time-outs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kimage_host.h"
#include "lib/scenario.h"

/* tests/kernel/layout.inc: the header sector (LBA 1) and its fields. */
#define SECTOR 512u
#define H_PAYLOAD_LBA 0x1c
#define H_PAYLOAD_BYTES 0x20
#define H_PAYLOAD_CRC32 0x28
#define H_FLAGS 0x2c
#define PAYLOAD_MAX 0x2000000u /* what the boot sector loads (32 MiB) */

/* CRC-32 as the kernel checks it (IEEE 802.3 / zlib: reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF). */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (unsigned k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set_le32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int rck_find_image(char *path, size_t n, char *err, size_t en)
{
    const char *env = getenv("RC_KERNEL_IMAGE");
    if (env && env[0]) {
        snprintf(path, n, "%s", env);
    } else {
        char exe[4096];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k <= 0) {
            snprintf(err, en, "cannot find the test kernel: set RC_KERNEL_IMAGE");
            return -1;
        }
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        if ((size_t)snprintf(path, n, "%s/tests/kernel/disk.img", exe) >= n) {
            snprintf(err, en, "path too long: set RC_KERNEL_IMAGE");
            return -1;
        }
    }
    if (access(path, R_OK)) {
        snprintf(err, en, "no test kernel image at %s (build it: make build; or set "
                 "RC_KERNEL_IMAGE)", path);
        return -1;
    }
    return 0;
}

size_t rck_write_payload_disk(const char *base, const char *out, const uint8_t *payload,
                              size_t len, char *err, size_t n)
{
    if (len > PAYLOAD_MAX) {
        snprintf(err, n, "payload of %zu bytes is larger than the kernel loads", len);
        return 0;
    }
    FILE *f = fopen(base, "rb");
    uint8_t hdr[SECTOR * 2];
    if (!f || fread(hdr, 1, sizeof hdr, f) != sizeof hdr || memcmp(hdr + SECTOR, "RCKDISK1", 8)) {
        snprintf(err, n, "%s: not the test kernel's disk image", base);
        if (f)
            fclose(f);
        return 0;
    }
    size_t head = (size_t)le32(hdr + SECTOR + H_PAYLOAD_LBA) * SECTOR;
    size_t total = head + (len + SECTOR - 1) / SECTOR * SECTOR;
    total = (total + RCK_CYLINDER - 1) / RCK_CYLINDER * RCK_CYLINDER;
    uint8_t *img = calloc(1, total);
    if (!img || fseek(f, 0, SEEK_SET) || fread(img, 1, head, f) != head) {
        snprintf(err, n, "%s: cannot read the kernel's sectors", base);
        fclose(f);
        free(img);
        return 0;
    }
    fclose(f);
    memcpy(img + head, payload, len);
    uint8_t *h = img + SECTOR;
    set_le32(h + H_PAYLOAD_BYTES, (uint32_t)len);
    set_le32(h + H_PAYLOAD_CRC32, crc32_ieee(payload, len));
    set_le32(h + H_FLAGS, 0);
    f = fopen(out, "wb");
    bool ok = f && fwrite(img, 1, total, f) == total;
    if (f && fclose(f))
        ok = false;
    free(img);
    if (!ok) {
        snprintf(err, n, "%s: cannot write: %s", out, strerror(errno));
        return 0;
    }
    return total;
}

size_t rck_vector_disk(const rcv_vector *v, const char *out, char *err, size_t n)
{
    char base[4096];
    if (rck_find_image(base, sizeof base, err, n))
        return 0;
    rc_cpu *cpu;
    if (rcv_scenario_build(v, &cpu, err, n))
        return 0;
    uint8_t *payload = NULL;
    size_t plen = 0, size = 0;
    if (rck_vector_payload(v, cpu, &payload, &plen, err, n) == 0)
        size = rck_write_payload_disk(base, out, payload, plen, err, n);
    rc_destroy(cpu);
    free(payload);
    return size;
}

void rck_program_version(const char *command, const char *format, int *major, int *minor)
{
    *major = *minor = 0;
    FILE *p = popen(command, "r");
    if (!p)
        return;
    char line[256];
    while (fgets(line, sizeof line, p))
        if (sscanf(line, format, major, minor) == 2)
            break;
    pclose(p);
}

double rck_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void rck_sleep_ms(unsigned ms)
{
    struct timespec t = { 0, (long)ms * 1000000L };
    nanosleep(&t, NULL);
}

/* tests/support/kernel_boot.c: see kernel_boot.h. */
#include "kernel_boot.h"

#include <check.h>
#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* CRC-32 as IEEE 802.3 and zlib define it: reflected polynomial 0xEDB88320,
 * register preset to all ones, result inverted. Bitwise, no table: the host
 * side stays independent of the kernel's table-driven loop. */
uint32_t rck_crc32(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

char *rck_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *bigger = realloc(buf, cap + 1);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

int rck_write_disk(const char *base_img, const char *out_img, const void *payload,
                   uint32_t payload_bytes, const uint32_t *header_crc32, uint32_t flags,
                   char *err, size_t errlen)
{
    size_t base_len = 0;
    uint8_t *base = (uint8_t *)rck_read_file(base_img, &base_len);
    if (!base) {
        snprintf(err, errlen, "cannot read %s: %s", base_img, strerror(errno));
        return -1;
    }
    int rc = -1;
    uint8_t *hdr = base + RCK_HEADER_LBA * RCK_SECTOR;
    if (base_len < 2 * RCK_SECTOR || memcmp(hdr + RCK_H_MAGIC, RCK_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s has no RCKDISK1 header at LBA 1", base_img);
        goto out;
    }
    uint32_t lba = get32(hdr + RCK_H_PAYLOAD_LBA);
    size_t keep = (size_t)lba * RCK_SECTOR;
    if (keep > base_len || payload_bytes > RCK_PAYLOAD_MAX) {
        snprintf(err, errlen, "payload LBA %u or size %u out of range", lba, payload_bytes);
        goto out;
    }
    put32(hdr + RCK_H_PAYLOAD_BYTES, payload_bytes);
    put32(hdr + RCK_H_PAYLOAD_CRC32,
          header_crc32 ? *header_crc32 : rck_crc32(payload, payload_bytes));
    put32(hdr + RCK_H_FLAGS, flags);

    size_t total = keep + ((size_t)payload_bytes + RCK_SECTOR - 1) / RCK_SECTOR * RCK_SECTOR;
    total = (total + RCK_CYLINDER_BYTES - 1) / RCK_CYLINDER_BYTES * RCK_CYLINDER_BYTES;
    FILE *f = fopen(out_img, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", out_img, strerror(errno));
        goto out;
    }
    int ok = fwrite(base, 1, keep, f) == keep
             && (payload_bytes == 0 || fwrite(payload, 1, payload_bytes, f) == payload_bytes);
    for (size_t at = keep + payload_bytes; ok && at < total; at++)
        ok = fputc(0, f) != EOF;
    if (fclose(f) != 0 || !ok) {
        snprintf(err, errlen, "cannot write %s", out_img);
        goto out;
    }
    rc = 0;
out:
    free(base);
    return rc;
}

int rck_patch_file(const char *img, long off, const void *bytes, size_t len)
{
    FILE *f = fopen(img, "r+b");
    if (!f)
        return -1;
    int ok = fseek(f, off, SEEK_SET) == 0 && fwrite(bytes, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int rck_have_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        int n = (int)strcspn(path, ":");
        char full[4096];
        if (n > 0 && snprintf(full, sizeof full, "%.*s/%s", n, path, name) < (int)sizeof full
            && access(full, X_OK) == 0)
            return 1;
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

int rck_run(const char *script, const char *emu, const char *vendor, int timeout_s,
            const char *disk, const char *outdir, double *seconds)
{
    char timeout_arg[16], log[4096];
    snprintf(timeout_arg, sizeof timeout_arg, "%d", timeout_s);
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(log, sizeof log, "%s/run.txt", outdir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0)
            _exit(127);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("bash", "bash", script, "--vendor", vendor, "--timeout", timeout_arg, emu, disk,
               outdir, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (seconds)
        *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double secs_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int rck_cli(const char *env, const char *disk, const char *args, char **out, double *secs)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s RC_KERNEL_IMAGE='%s' '%s' %s 2>&1", env ? env : "", disk,
             RC_CLI_PATH, args);
    double t0 = secs_now();
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    while ((got = fread(buf + len, 1, cap - 1 - len, p)) > 0)
        len += got;
    buf[len] = 0;
    int st = pclose(p);
    *secs = secs_now() - t0;
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *rck_extract(const char *dir, const char *file, const char *name, char *path,
                        size_t n)
{
    char *text = rck_read_file(file, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", file);
    cJSON *root = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(root);
    cJSON *arr = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "vectors");
    cJSON *found = NULL, *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name))
            found = it;
    }
    ck_assert_msg(found != NULL, "%s has no vector %s", file, name);
    cJSON *one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_Duplicate(found, 1));
    char *s = cJSON_Print(one);
    snprintf(path, n, "%s/%s.json", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(s, f);
    fclose(f);
    free(s);
    cJSON_Delete(one);
    cJSON_Delete(root);
    return path;
}

static const char *item_str(const cJSON *o, const char *name)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    ck_assert_msg(cJSON_IsString(x), "no string %s in the recording", name);
    return x->valuestring;
}

/* By hand (SDM Vol. 3A 6.14.2, 6.14.4; docs/standard-machine.md): #BP is a
 * trap, frame RIP = 0x400006 (after the CC), CS 0x33, RFLAGS 0x2, RSP
 * 0x410000, SS 0x2b; the stack switches to RSP0 = 0x110000, five 8-byte
 * slots: RSP 0x10ffd8; RIP = 0x4000 + 16 x 3 = 0x4030; CPL 0. */
cJSON *rck_record_int3_long(const char *oracle, const char *disk, const char *dir)
{
    char path[512], args[700], *out;
    double s;
    snprintf(path, sizeof path, "%s/rec.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[{\"name\": \"rec-int3-long-cpl3\", \"mode\": \"long\", \"cpl\": 3, "
          "\"code\": \"b805000000cc\"}]\n", f);
    fclose(f);
    snprintf(args, sizeof args, "vectors record --oracle %s '%s'", oracle, path);
    int st = rck_cli(NULL, disk, args, &out, &s);
    printf("%s record rec-int3-long-cpl3 %.2f s\n%s", oracle, s, out);
    ck_assert_msg(st == 0 && strstr(out, "1 expectations written"), "%s", out);
    free(out);
    char *text = rck_read_file(path, NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(root);
    cJSON *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(root, 0), "expect");
    ck_assert_ptr_nonnull(e);
    cJSON *fr = cJSON_GetObjectItemCaseSensitive(e, "frame");
    cJSON *regs = cJSON_GetObjectItemCaseSensitive(e, "regs");
    ck_assert_str_eq(item_str(e, "end"), "exception");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(e, "vector")->valueint, 3);
    ck_assert_str_eq(item_str(fr, "rip"), "0x400006");
    ck_assert_str_eq(item_str(fr, "cs"), "0x33");
    ck_assert_str_eq(item_str(fr, "rflags"), "0x2");
    ck_assert_str_eq(item_str(fr, "rsp"), "0x410000");
    ck_assert_str_eq(item_str(fr, "ss"), "0x2b");
    ck_assert_str_eq(item_str(regs, "rax"), "0x5");
    ck_assert_str_eq(item_str(regs, "rsp"), "0x10ffd8");
    ck_assert_str_eq(item_str(regs, "rip"), "0x4030");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(e, "cpl")->valueint, 0);
    /* The recording agrees with a second run. */
    snprintf(args, sizeof args, "vectors check --oracle %s '%s'", oracle, path);
    st = rck_cli(NULL, disk, args, &out, &s);
    ck_assert_msg(st == 0 && strstr(out, "1 agree"), "%s", out);
    free(out);
    return root;
}

double rck_check_one_agrees(const char *oracle, const char *disk, const char *dir,
                            const char *file, const char *name, const char *what)
{
    char path[512], args[700], *out;
    double s;
    rck_extract(dir, file, name, path, sizeof path);
    snprintf(args, sizeof args, "vectors check --oracle %s --verbose '%s'", oracle, path);
    int st = rck_cli(NULL, disk, args, &out, &s);
    printf("%s check %-32s %-44s %.2f s\n", oracle, name, what, s);
    ck_assert_msg(st == 0 && strstr(out, "AGREE ") && strstr(out, "1 agree"), "%s: exit %d:\n%s",
                  name, st, out);
    free(out);
    return s;
}

char *rck_wrong_frame_rsp_disagrees(const char *oracle, const char *disk, const char *dir,
                                    const char *vec_dir)
{
    char file[512], path[512], args[700], *out;
    double s;
    snprintf(file, sizeof file, "%sring0/delivery.json", vec_dir);
    rck_extract(dir, file, "int40-dpl3-trapgate-cpl3-long", path, sizeof path);
    char *text = rck_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, "\"rsp\":\t\"0x410000\"");
    ck_assert_msg(at != NULL, "frame rsp not found in %s", text);
    memcpy(strstr(at, "0x410000"), "0x410008", 8);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(text);
    snprintf(args, sizeof args, "vectors check --oracle %s '%s'", oracle, path);
    int st = rck_cli(NULL, disk, args, &out, &s);
    printf("%s check (frame.rsp made wrong) %.2f s\n%s", oracle, s, out);
    ck_assert_int_eq(st, 3);
    ck_assert_msg(strstr(out, "expect.frame.rsp: expected 0x410008, got 0x410000") &&
                  !strstr(out, "expect.frame.rip"), "%s", out);
    return out;
}

/* A sample across modes, CPLs, ends and both vendors. */
static const struct { const char *file, *name, *what; } corpus_sample[] = {
    { "docs/kernel.json", "add-push-pop-hlt-long-cpl0", "CPL-0 HLT, long" },
    { "docs/kernel.json", "shl-hlt-prot32-cpl0-amd", "CPL-0 HLT, prot32, AMD (ryzen)" },
    { "exceptions/basic.json", "hlt-cpl3-long", "CPL 3 -> #GP(0) at ring 0, long" },
    { "exceptions/basic.json", "hlt-cpl3-prot32", "CPL 3 -> #GP(0) at ring 0, prot32" },
    { "exceptions/basic.json", "hlt-cpl1-prot32", "CPL 1 -> #GP(0) at ring 0, prot32" },
    { "exceptions/basic.json", "int3-cpl3-compat", "CPL 3 #BP, compat" },
    { "exceptions/basic.json", "int3-cpl0-long", "CPL 0 #BP, no ring change, long" },
    { "exceptions/basic.json", "int80-cpl3-long", "INT 0x80 through the DPL-3 gate, long" },
    { "exceptions/basic.json", "int80-cpl3-prot32", "INT 0x80 through the DPL-3 gate, prot32" },
    { "pf/basic.json", "pf-write-ro-user-cpl3-long", "#PF, CPL 3, long (frame RF = 1)" },
    { "pf/basic.json", "pf-read-page0-cpl0-prot32", "#PF, CPL 0, prot32" },
};

void rck_check_corpus_sample(const char *oracle, const char *disk, const char *dir,
                             const char *vec_dir)
{
    double total = 0;
    size_t n = sizeof corpus_sample / sizeof corpus_sample[0];
    for (size_t i = 0; i < n; i++) {
        char file[512];
        snprintf(file, sizeof file, "%s%s", vec_dir, corpus_sample[i].file);
        total += rck_check_one_agrees(oracle, disk, dir, file, corpus_sample[i].name,
                                      corpus_sample[i].what);
    }
    printf("%s check: %zu corpus vectors, %.2f s per vector\n", oracle, n, total / n);
}

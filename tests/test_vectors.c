/*
 * test_vectors.c - the vector format (tools/lib/vector.c), the scenario
 * builder (tools/lib/scenario.c) and `ringcore vectors run`.
 *
 * 1. The corpus: `ringcore vectors run tests/vectors` must pass (it holds
 *    ringcore against expectations derived by hand or by other judges).
 * 2. The runner must be able to fail: a vector with a wrong expectation
 *    gives a FAIL line with the field diff and exit status 3.
 * 3. Malformed files: each gives its precise message (file, vector, field)
 *    from the parser and a non-zero exit from the CLI.
 * 4. The scenario builder writes what the format says: descriptor bytes
 *    and PTEs are checked against values encoded by hand below.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/native.h"
#include "lib/scenario.h"
#include "lib/vbackend.h"
#include "lib/vector.h"

/* ------------------------------------------------------------------ helpers */

typedef struct proc {
    int status;
    char out[1 << 23];
    char err[1 << 14];
} proc;

static void slurp(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
}

static proc *run_cli(const char *const *args)
{
    static proc p;
    memset(&p, 0, sizeof p);
    char o_tmpl[] = "/tmp/rc_vec_outXXXXXX", e_tmpl[] = "/tmp/rc_vec_errXXXXXX";
    int of = mkstemp(o_tmpl), ef = mkstemp(e_tmpl);
    ck_assert(of >= 0 && ef >= 0);
    unlink(o_tmpl);
    unlink(e_tmpl);
    const char *argv[32] = { RC_CLI_PATH };
    int n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        dup2(of, 1);
        dup2(ef, 2);
        execv(RC_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    p.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    slurp(of, p.out, sizeof p.out);
    slurp(ef, p.err, sizeof p.err);
    return &p;
}

#define RUN(...) run_cli((const char *const[]){ __VA_ARGS__, NULL })

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fputs(text, f);
    fclose(f);
}

/* ------------------------------------------------------------------ corpus */

START_TEST(corpus_passes)
{
    proc *p = RUN("vectors", "run", RC_SOURCE_DIR "/tests/vectors");
    ck_assert_msg(p->status == 0, "vectors run failed (%d):\n%s\n%s", p->status, p->out, p->err);
    ck_assert_msg(strstr(p->out, "area") && strstr(p->out, "source") && strstr(p->out, "total:"),
                  "no summary table:\n%s", p->out);
    ck_assert_msg(strstr(p->out, " 0 fail"), "%s", p->out);
    printf("%s", strstr(p->out, "total:"));
}
END_TEST

START_TEST(corpus_json)
{
    proc *p = RUN("vectors", "run", "--json", RC_SOURCE_DIR "/tests/vectors");
    ck_assert_int_eq(p->status, 0);
    ck_assert(strstr(p->out, "\"results\":[") && strstr(p->out, "\"fail\":0"));
}
END_TEST

/* The recorded Unicorn expectations must still be Unicorn's: a stale or
 * hand-edited one fails here (check compares the live judge with the file). */
START_TEST(corpus_unicorn_check)
{
#ifdef RC_HAVE_UNICORN
    proc *p = RUN("vectors", "check", "--oracle", "unicorn", RC_SOURCE_DIR "/tests/vectors");
    ck_assert_msg(p->status == 0, "check failed (%d):\n%s", p->status, p->out);
    const char *sum = strstr(p->out, "check --oracle unicorn: ");
    ck_assert(sum);
    unsigned judged = 0;
    ck_assert(sscanf(sum, "check --oracle unicorn: %u vectors judged", &judged) == 1);
    ck_assert_msg(judged >= 100, "%s", sum);
    printf("%s", sum);
#else
    printf("corpus_unicorn_check: skipped: built without Unicorn\n");
#endif
}
END_TEST

/* A Unicorn-recorded value changed by hand must be caught by check. */
START_TEST(unicorn_check_catches_edit)
{
#ifdef RC_HAVE_UNICORN
    const char *path = "/tmp/rc_vec_uc.json";
    /* 7 + 6: 13 = 0xd, flags: 0b1101 has three ones (PF = 0), no AF/CF: RFLAGS 0x2. The
     * file claims 0xe: check must disagree. */
    write_file(path, "{\"name\": \"edited\", \"mode\": \"long\", \"code\": \"b807000000 83c006 f4\","
                     " \"expect\": {\"end\": \"hlt\", \"regs\": {\"rax\": \"0xe\"},"
                     " \"sources\": [\"unicorn-2.0.1\"]}}");
    proc *p = RUN("vectors", "check", "--oracle", "unicorn", path);
    ck_assert_int_eq(p->status, 3);
    ck_assert_msg(strstr(p->out, "DISAGREE /tmp/rc_vec_uc.json: vector \"edited\": unicorn-2.0.1 "
                                 "says expect.regs.rax: expected 0xe, got 0xd"), "%s", p->out);
    /* record refreshes it from the judge; then check agrees. */
    p = RUN("vectors", "record", "--oracle", "unicorn", path);
    ck_assert_int_eq(p->status, 0);
    p = RUN("vectors", "check", "--oracle", "unicorn", path);
    ck_assert_msg(p->status == 0, "%s", p->out);
    p = RUN("vectors", "run", path);
    ck_assert_msg(p->status == 0, "%s", p->out);
    unlink(path);
#endif
}
END_TEST

/* At CPL 3 Unicorn judges a vector that ends at an INT3: the GPRs and the
 * frame's RIP/RFLAGS/RSP, never CS/SS (it has no privilege levels), and
 * it refuses to record such a vector (it cannot see the delivery). */
START_TEST(unicorn_check_cpl3_int3)
{
#ifdef RC_HAVE_UNICORN
    const char *path = "/tmp/rc_vec_uc3.json";
    /* ADD EAX,6 with EAX = 7, then INT3; the code is at 0x400000 (0x100000 x
     * (CPL + 1), docs/vectors.md). 7 + 6 = 13 = 0b1101: three ones, so PF = 0;
     * 0b0111 + 0b0110 does not carry out of bit 3, so AF = 0; no CF/ZF/SF/OF:
     * RFLAGS = 0x202 as it started. The frame's RIP follows the 3-byte ADD
     * and the INT3 (a trap, SDM Vol. 3A 6.5): 0x400004.
     * The file claims RFLAGS 0x206 and CS 0x99 (which Unicorn cannot see). */
    write_file(path, "{\"name\": \"e3\", \"mode\": \"long\", \"cpl\": 3, \"code\": \"83c006 cc\","
                     " \"regs\": {\"rax\": \"7\", \"rflags\": \"0x202\"},"
                     " \"expect\": {\"end\": \"exception\", \"vector\": \"#BP\","
                     " \"error_code\": \"none\", \"frame\": {\"rip\": \"0x400004\", \"cs\": "
                     "\"0x99\", \"rflags\": \"0x206\"}, \"regs\": {\"rax\": \"0xd\"},"
                     " \"sources\": [\"unicorn-2.0.1\"]}}");
    proc *p = RUN("vectors", "check", "--oracle", "unicorn", path);
    ck_assert_int_eq(p->status, 3);
    ck_assert_msg(strstr(p->out, "says expect.frame.rflags: expected 0x206, got 0x202"), "%s",
                  p->out);
    ck_assert_msg(!strstr(p->out, "expect.frame.cs"), "Unicorn cannot see CS:\n%s", p->out);
    ck_assert_msg(!strstr(p->out, "expect.regs.rax"), "%s", p->out);
    /* Recording from Unicorn would lose the delivery side: refused. */
    p = RUN("vectors", "record", "--oracle", "unicorn", path);
    ck_assert_msg(strstr(p->out, "0 expectations written"), "%s", p->out);
    /* Without an expectation Unicorn refuses to record a CPL-3 vector. */
    write_file(path, "{\"name\": \"e3\", \"mode\": \"long\", \"cpl\": 3, \"code\": \"cc\"}");
    p = RUN("vectors", "record", "--oracle", "unicorn", path);
    ck_assert_msg(strstr(p->out, "record it with --oracle native") &&
                      strstr(p->out, "0 expectations written"), "%s", p->out);
    unlink(path);
#endif
}
END_TEST

/* The host CPU at ring 3 must still agree with every vector it can judge,
 * and a hand-edited frame value must be caught. */
START_TEST(corpus_native_check)
{
    const char *why = NULL;
    if (!rc_native_available(&why)) {
        printf("corpus_native_check: skipped: the native judge is not available: %s\n",
               why ? why : "?");
        return;
    }
    proc *p = RUN("vectors", "check", "--oracle", "native", RC_SOURCE_DIR "/tests/vectors");
    ck_assert_msg(p->status == 0, "native check failed (%d):\n%s", p->status, p->out);
    const char *sum = strstr(p->out, "check --oracle native: ");
    unsigned judged = 0;
    ck_assert(sum && sscanf(sum, "check --oracle native: %u vectors judged", &judged) == 1);
    ck_assert_msg(judged >= 50, "%s", sum);
    printf("%s", sum);

    /* INT3 is a trap: the interrupted RIP is the next instruction, 0x400001 (SDM Vol. 2A
     * INT3). The file claims 0x400000: the CPU must disagree (a failure for a vector of
     * the host's vendor; for the other vendor's a VENDOR line, not a failure: the host
     * cannot tell a vendor difference from a wrong expectation). */
    bool amd = !strncmp(rc_native_cpu_name(), "AuthenticAMD", 12);
    const char *path = "/tmp/rc_vec_nat.json";
    char text[512];
    for (int other = 0; other < 2; other++) {
        snprintf(text, sizeof text,
                 "{\"name\": \"edited\", \"vendor\": \"%s\", \"mode\": \"long\", \"cpl\": 3, "
                 "\"code\": \"cc\", \"expect\": {\"end\": \"exception\", \"vector\": 3, "
                 "\"error_code\": \"none\", \"frame\": {\"rip\": \"0x400000\", \"cs\": \"0x33\"},"
                 " \"sources\": [\"sdm:Vol.2A/INT3\"]}}", amd != other ? "amd" : "intel");
        write_file(path, text);
        p = RUN("vectors", "check", "--oracle", "native", path);
        unlink(path);
        ck_assert_int_eq(p->status, other ? 0 : 3);
        ck_assert_msg(strstr(p->out, other ? "VENDOR /tmp/rc_vec_nat.json: vector \"edited\": native:"
                                           : "DISAGREE /tmp/rc_vec_nat.json: vector \"edited\": native:") &&
                      strstr(p->out, "says expect.frame.rip: expected 0x400000, got 0x400001"),
                      "%s", p->out);
    }
}
END_TEST

/* record --oracle native fills an expectation from the CPU. MOV EAX,7 (5 bytes)
 * then INT3 at 0x400005: #BP is a trap, so the frame RIP is 0x400006 (SDM Vol. 2A
 * INT3), CS 0x33, RSP 0x410000 (nothing pushed at CPL 3), and RAX = 7. */
START_TEST(native_record)
{
    const char *why = NULL;
    if (!rc_native_available(&why)) {
        printf("native_record: skipped: %s\n", why ? why : "?");
        return;
    }
    const char *path = "/tmp/rc_vec_natrec.json";
    write_file(path, "[{\"name\": \"mov-int3\", \"vendor\": \"amd\", \"mode\": \"long\", \"cpl\": 3,"
                     " \"code\": \"b807000000 cc\"}]");
    proc *p = RUN("vectors", "record", "--oracle", "native", path);
    ck_assert_msg(p->status == 0 && strstr(p->out, "1 expectations written"), "%s", p->out);
    rcv_file f;
    char err[512];
    ck_assert_msg(!rcv_file_load(path, &f, err, sizeof err), "%s", err);
    const rcv_expect *e = &f.v[0].expect;
    ck_assert_int_eq(e->end, RCV_END_EXCEPTION);
    ck_assert_int_eq(e->vector, 3);
    ck_assert_int_eq(e->has_error_code, 0);
    ck_assert_uint_eq(e->frame_rip, 0x400006);
    ck_assert_uint_eq(e->frame_cs, 0x33);
    ck_assert_uint_eq(e->frame_rsp, 0x410000);
    ck_assert_uint_eq(e->nregs, 1);
    ck_assert_str_eq(e->regs[0].name, "rax");
    ck_assert_uint_eq(e->regs[0].value, 7);
    ck_assert_msg(!strncmp(e->sources[0], "native:", 7), "%s", e->sources[0]);
    rcv_file_free(&f);
    p = RUN("vectors", "run", path);
    ck_assert_msg(p->status == 0, "%s", p->out);
    unlink(path);
}
END_TEST

/* The native judge reads back the user memory the code changed: record
 * writes it, and check catches a wrong byte. PUSH RAX at RSP = 0x410000
 * stores RAX's 8 bytes at 0x40fff8 (SDM Vol. 2A "PUSH": RSP -= 8, then the
 * store), little-endian: 0x1234 -> 34 12 00 ... (the stack was zero, so only
 * 34 12 changed). */
START_TEST(native_memory)
{
    const char *why = NULL;
    if (!rc_native_available(&why)) {
        printf("native_memory: skipped: %s\n", why ? why : "?");
        return;
    }
    const char *path = "/tmp/rc_vec_natmem.json";
    write_file(path, "[{\"name\": \"push\", \"vendor\": \"amd\", \"mode\": \"long\", \"cpl\": 3,"
                     " \"regs\": {\"rax\": \"0x1234\"}, \"code\": \"50 cc\"}]");
    proc *p = RUN("vectors", "record", "--oracle", "native", path);
    ck_assert_msg(p->status == 0 && strstr(p->out, "1 expectations written"), "%s", p->out);
    rcv_file f;
    char err[512];
    ck_assert_msg(!rcv_file_load(path, &f, err, sizeof err), "%s", err);
    const rcv_expect *e = &f.v[0].expect;
    ck_assert_uint_eq(e->nmem, 1);
    ck_assert_uint_eq(e->mem[0].addr, 0x40fff8);
    ck_assert_uint_eq(e->mem[0].len, 2);
    ck_assert_uint_eq(e->mem[0].bytes[0], 0x34);
    ck_assert_uint_eq(e->mem[0].bytes[1], 0x12);
    rcv_file_free(&f);
    p = RUN("vectors", "run", path);
    ck_assert_msg(p->status == 0, "%s", p->out);
    /* The same vector claiming 0x1235 was pushed: the CPU must disagree. */
    write_file(path, "[{\"name\": \"push\", \"vendor\": \"amd\", \"mode\": \"long\", \"cpl\": 3,"
                     " \"regs\": {\"rax\": \"0x1234\"}, \"code\": \"50 cc\", \"expect\": {"
                     "\"end\": \"exception\", \"vector\": 3, \"mem\": [{\"addr\": \"0x40fff8\","
                     " \"bytes\": \"3512\"}], \"sources\": [\"sdm:Vol.2A/PUSH\"]}}]");
    p = RUN("vectors", "check", "--oracle", "native", path);
    unlink(path);
    ck_assert_int_eq(p->status, 3);
    ck_assert_msg(strstr(p->out, "expect.mem[0]: byte at 0x40fff8: expected 0x35, got 0x34"), "%s",
                  p->out);
}
END_TEST

/* ------------------------------------------------------------------ the runner fails */

/* INT 0x80 leaves RAX alone: SDM Vol. 2A "INT n" changes no GPR but RSP.
 * So RAX = 5 at the end, and an expectation of 6 must fail with the diff. */
START_TEST(wrong_expectation_fails)
{
    const char *path = "/tmp/rc_vec_wrong.json";
    write_file(path,
               "[{\"name\": \"right\", \"mode\": \"long\", \"cpl\": 3, \"code\": \"cd80\","
               "  \"regs\": {\"rax\": 5},"
               "  \"expect\": {\"end\": \"int\", \"vector\": 128, \"regs\": {\"rax\": \"0x5\"},"
               "              \"sources\": [\"sdm:Vol.2A/INT n\"]}},"
               " {\"name\": \"wrong\", \"mode\": \"long\", \"cpl\": 3, \"code\": \"cd80\","
               "  \"regs\": {\"rax\": 5},"
               "  \"expect\": {\"end\": \"int\", \"vector\": 128, \"regs\": {\"rax\": \"0x6\"},"
               "              \"sources\": [\"sdm:Vol.2A/INT n\"]}},"
               " {\"name\": \"wrong-end\", \"mode\": \"long\", \"code\": \"f4\","
               "  \"expect\": {\"end\": \"exception\", \"vector\": \"#GP\", \"error_code\": 0,"
               "              \"sources\": [\"sdm:Vol.2A/HLT\"]}}]");
    proc *p = RUN("vectors", "run", path);
    unlink(path);
    ck_assert_int_eq(p->status, 3);
    ck_assert_msg(strstr(p->out, "FAIL /tmp/rc_vec_wrong.json: vector \"wrong\": "
                                 "expect.regs.rax: expected 0x6, got 0x5\n"), "%s", p->out);
    /* HLT at CPL 0 is legal: the run ends with hlt, not #GP. */
    ck_assert_msg(strstr(p->out, "vector \"wrong-end\": expect.end: expected exception 13 (0xd), "
                                 "got hlt"), "%s", p->out);
    ck_assert_msg(!strstr(p->out, "vector \"right\""), "%s", p->out);
    ck_assert_msg(strstr(p->out, "total: 3 vectors, 1 pass, 2 fail"), "%s", p->out);
}
END_TEST

/* ------------------------------------------------------------------ malformed files */

static const char *const V_OK_HEAD = "{\"name\": \"v1\", \"mode\": \"long\", \"code\": \"f4\", ";
static const char *const EXP_OK = "\"expect\": {\"end\": \"hlt\", \"sources\": [\"sdm:x\"]}";

static void expect_parse_error(const char *json, const char *msg)
{
    rcv_file f;
    char err[1024] = "";
    int r = rcv_file_parse("t/x.json", json, &f, err, sizeof err);
    ck_assert_msg(r == -1, "accepted: %s", json);
    ck_assert_msg(!strcmp(err, msg), "for %s\n  got      \"%s\"\n  expected \"%s\"", json, err,
                  msg);
}

START_TEST(malformed_messages)
{
    char buf[2048];
#define WITH(extra, exp) (snprintf(buf, sizeof buf, "%s%s%s}", V_OK_HEAD, extra, exp), buf)
    expect_parse_error(WITH("", "\"expect\": {\"end\": \"hlt\", \"regs\": {\"rax\": [1]}, "
                                "\"sources\": [\"sdm:x\"]}"),
                       "t/x.json: vector \"v1\": field expect.regs.rax: expected a hex string "
                       "(\"0x...\") or an integer");
    expect_parse_error(WITH("\"expct\": 1, ", EXP_OK),
                       "t/x.json: vector \"v1\": field expct: unknown field (allowed here: name, "
                       "area, why, vendor, mode, cpl, paging, code, max_insns, regs, segs, msrs, "
                       "gdt, ldt, idt, tss, pages, mem, expect, known_bug)");
    expect_parse_error(WITH("\"regs\": {\"rxa\": 1}, ", EXP_OK),
                       "t/x.json: vector \"v1\": field regs.rxa: unknown register name");
    expect_parse_error(WITH("\"regs\": {\"al\": \"0x100\"}, ", EXP_OK),
                       "t/x.json: vector \"v1\": field regs.al: value 0x100 does not fit in 8 bits");
    expect_parse_error(WITH("\"cpl\": 4, ", EXP_OK),
                       "t/x.json: vector \"v1\": field cpl: value 0x4 is out of range (at most "
                       "0x3)");
    expect_parse_error(WITH("\"gdt\": [{\"index\": 12, \"tpye\": 3}], ", EXP_OK),
                       "t/x.json: vector \"v1\": field gdt[0].tpye: unknown field (allowed here: "
                       "index, raw, raw_hi, base, limit, type, s, dpl, p, avl, l, db, g, "
                       "selector, offset, params)");
    expect_parse_error(WITH("\"gdt\": [{\"index\": 10, \"type\": 3}], ", EXP_OK),
                       "t/x.json: vector \"v1\": field gdt[0].index: entry 10 is reserved for "
                       "the vector's LDT descriptor");
    expect_parse_error(WITH("\"pages\": [{\"addr\": \"0x500000\", \"nx\": 2}], ", EXP_OK),
                       "t/x.json: vector \"v1\": field pages[0].nx: expected true/false or 0/1");
    expect_parse_error(WITH("\"tss\": {\"esp0\": 1}, ", EXP_OK),
                       "t/x.json: vector \"v1\": field tss.esp0: not a field of the 64-bit TSS "
                       "in long mode");
    expect_parse_error(WITH("", "\"expect\": {\"end\": \"exception\", \"sources\": [\"sdm:x\"]}"),
                       "t/x.json: vector \"v1\": field expect.vector: missing: an exception end "
                       "names its vector");
    expect_parse_error(WITH("", "\"expect\": {\"end\": \"hlt\"}"),
                       "t/x.json: vector \"v1\": field expect.sources: missing: every "
                       "expectation names its judges");
    expect_parse_error(WITH("", "\"expect\": {\"end\": \"hlt\", \"sources\": [\"ringcore\"]}"),
                       "t/x.json: vector \"v1\": field expect.sources[0]: \"ringcore\" is not a "
                       "judge: expected native:<vendor-family-model>, unicorn-<version>, "
                       "bochs-<version>:<cpu>, qemu-<version>:<cpu>, kvm:<vendor-family-model>, "
                       "sdm:<vol/section> or apm:<vol/section>");
    /* A software KVM is never a judge (docs/kvm.md). */
    expect_parse_error(WITH("", "\"expect\": {\"end\": \"hlt\", \"sources\": "
                                "[\"kvm-software:AuthenticAMD-25-1\"]}"),
                       "t/x.json: vector \"v1\": field expect.sources[0]: "
                       "\"kvm-software:AuthenticAMD-25-1\" is not a judge: expected "
                       "native:<vendor-family-model>, unicorn-<version>, bochs-<version>:<cpu>, "
                       "qemu-<version>:<cpu>, kvm:<vendor-family-model>, sdm:<vol/section> or "
                       "apm:<vol/section>");
    expect_parse_error(WITH("", "\"expect\": {\"end\": \"exception\", \"vector\": \"#XX\", "
                                "\"sources\": [\"sdm:x\"]}"),
                       "t/x.json: vector \"v1\": field expect.vector: unknown exception "
                       "mnemonic \"#XX\"");
    expect_parse_error("[{\"mode\": \"long\", \"code\": \"f4\"}]",
                       "t/x.json: vector #1: field name: missing");
    expect_parse_error("{\"name\": \"a\", \"mode\": \"lng\", \"code\": \"f4\"}",
                       "t/x.json: vector \"a\": field mode: \"lng\": expected real, prot16, "
                       "prot32, compat or long");
    expect_parse_error("{\"name\": \"a\", \"mode\": \"long\", \"code\": \"f\"}",
                       "t/x.json: vector \"a\": field code: expected hex bytes (\"0f 0b\"): "
                       "position 1: the group \"f\" has an odd number of hex digits (1); every "
                       "byte needs two");
    expect_parse_error("{\"name\": \"a\", \"mode\": \"long\", \"code\": \"f4\"}",
                       "t/x.json: vector \"a\": field expect: missing (use `ringcore vectors "
                       "record` or write it by hand)");
    expect_parse_error("{\"name\": \"a\",\n \"mode\": long}",
                       "t/x.json: line 2, column 10: not valid JSON");
    expect_parse_error("[]", "t/x.json: the file holds no vectors");
    snprintf(buf, sizeof buf, "[%s%s}, %s%s}]", V_OK_HEAD, EXP_OK, V_OK_HEAD, EXP_OK);
    expect_parse_error(buf, "t/x.json: vector \"v1\": field name: the name is used twice in "
                            "this file (also vector #1)");
#undef WITH
}
END_TEST

START_TEST(malformed_cli_exit)
{
    const char *path = "/tmp/rc_vec_bad.json";
    write_file(path, "{\"name\": \"int3-cpl3\", \"mode\": \"long\", \"cpl\": 3, \"code\": \"cc\", "
                     "\"expect\": {\"end\": \"exception\", \"vector\": 3, "
                     "\"regs\": {\"rax\": true}, \"sources\": [\"sdm:x\"]}}");
    proc *p = RUN("vectors", "run", path);
    unlink(path);
    ck_assert_int_eq(p->status, 1);
    ck_assert_msg(strstr(p->err, "ringcore: /tmp/rc_vec_bad.json: vector \"int3-cpl3\": field "
                                 "expect.regs.rax: expected a hex string (\"0x...\") or an "
                                 "integer\n"), "%s", p->err);
    p = RUN("vectors", "run", "/nonexistent/dir");
    ck_assert_int_eq(p->status, 1);
    p = RUN("vectors", "frobnicate");
    ck_assert_int_eq(p->status, 2);
}
END_TEST

/* ------------------------------------------------------------------ scenario builder */

static uint64_t rd64(rc_cpu *cpu, uint64_t pa)
{
    uint8_t b[8];
    ck_assert(rc_read_phys(cpu, pa, b, 8) == RC_OK);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

START_TEST(scenario_tables)
{
    const char *json =
        "{\"name\": \"s\", \"mode\": \"prot32\", \"cpl\": 3, \"code\": \"cc\","
        " \"gdt\": [{\"index\": 12, \"base\": \"0x12345678\", \"limit\": \"0xabcde\", \"type\": 3,"
        "            \"dpl\": 3, \"db\": 1, \"g\": 1},"
        "          {\"index\": 13, \"selector\": \"0x23\", \"offset\": \"0x400010\", \"dpl\": 3,"
        "           \"params\": 2},"
        "          {\"index\": 5, \"dpl\": 2}],"
        " \"ldt\": [{\"index\": 1, \"base\": \"0x500000\", \"limit\": \"0xfff\", \"type\": 3,"
        "           \"dpl\": 3, \"db\": 1}],"
        " \"idt\": [{\"vector\": 3, \"type\": 15, \"dpl\": 0}],"
        " \"pages\": [{\"addr\": \"0x500123\", \"rw\": false}],"
        " \"tss\": {\"esp0\": \"0x123450\"},"
        " \"segs\": {\"ds\": \"0x0f\"},"
        " \"regs\": {\"ecx\": \"0x77\"},"
        " \"mem\": [{\"addr\": \"0x600000\", \"bytes\": \"de ad\"}],"
        " \"expect\": {\"end\": \"exception\", \"vector\": 3, \"sources\": [\"sdm:x\"]}}";
    rcv_file f;
    char err[512];
    ck_assert_msg(!rcv_file_parse("t/s.json", json, &f, err, sizeof err), "%s", err);
    rc_cpu *cpu;
    ck_assert_msg(!rcv_scenario_build(&f.v[0], &cpu, err, sizeof err), "%s", err);
    /* Figure 3-8: limit[15:0]=0xbcde, base[23:0]=0x345678, type 3 | S | DPL 3 | P = 0xf3,
     * limit[19:16]=0xa | D/B (0x40) | G (0x80) = 0xca, base[31:24] = 0x12. */
    ck_assert_uint_eq(rd64(cpu, 0x1000 + 12 * 8), 0x12caf3345678bcdeull);
    /* Call gate, Figure 5-8: offset[15:0]=0x0010, selector 0x23, params 2, type 12 | DPL 3 |
     * P = 0xec, offset[31:16] = 0x0040. */
    ck_assert_uint_eq(rd64(cpu, 0x1000 + 13 * 8), 0x0040ec0200230010ull);
    /* GDT limit grew to cover entry 13: 14 * 8 - 1 = 0x6f < 0xef, so it stays 0xef. */
    rc_dtable gdtr;
    rc_get_gdtr(cpu, &gdtr);
    ck_assert_uint_eq(gdtr.limit, 0xef);
    /* Entry 5 (0x2b) keeps the standard fields, DPL 2: 0x00cff3.. -> access byte 0xd3. */
    ck_assert_uint_eq(rd64(cpu, 0x1000 + 5 * 8), 0x00cfd3000000ffffull);
    /* LDT entry 1: limit 0x0fff, base 0x500000, access 0xf3, D/B -> 0x40. LDT descriptor in
     * GDT entry 10: base 0x6000, limit 15 (entries 0..1),
     * type 2, P: 0x0000820060000000 | 0xf. */
    ck_assert_uint_eq(rd64(cpu, 0x6008), 0x0040f35000000fffull);
    ck_assert_uint_eq(rd64(cpu, 0x1000 + 10 * 8), 0x000082006000000full);
    rc_segment s;
    rc_get_seg(cpu, RC_SEG_LDTR, &s);
    ck_assert_uint_eq(s.selector, 0x50);
    ck_assert_uint_eq(s.base, 0x6000);
    /* DS = 0x0f: LDT entry 1 -> base 0x500000, byte limit 0xfff. */
    rc_get_seg(cpu, RC_SEG_DS, &s);
    ck_assert_uint_eq(s.selector, 0x0f);
    ck_assert_uint_eq(s.base, 0x500000);
    ck_assert_uint_eq(s.limit, 0xfff);
    /* IDT gate 3 (8-byte legacy): standard 0x0000ee0000104030 becomes a DPL-0 trap gate:
     * access byte 0x8f. */
    ck_assert_uint_eq(rd64(cpu, 0x2000 + 3 * 8), 0x00008f0000104030ull);
    /* 32-bit paging PTE of 0x500000: PT base 0x11000 + 4 * 0x500 = 0x12400; 0x500007 - R/W. */
    uint8_t pte[4];
    rc_read_phys(cpu, 0x12400, pte, 4);
    ck_assert_uint_eq(pte[0] | pte[1] << 8 | pte[2] << 16 | (uint32_t)pte[3] << 24, 0x500005u);
    /* TSS ESP0 at offset 4. */
    ck_assert_uint_eq(rd64(cpu, 0x3004) & 0xffffffffu, 0x123450u);
    uint64_t rcx;
    rc_get_reg(cpu, RC_REG_RCX, &rcx);
    ck_assert_uint_eq(rcx, 0x77);
    uint8_t m[2];
    rc_read_phys(cpu, 0x600000, m, 2);
    ck_assert(m[0] == 0xde && m[1] == 0xad);
    rc_destroy(cpu);
    rcv_file_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vectors");
    TCase *t = tcase_create("vectors");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, corpus_passes);
    tcase_add_test(t, corpus_json);
    tcase_add_test(t, corpus_unicorn_check);
    tcase_add_test(t, unicorn_check_catches_edit);
    tcase_add_test(t, unicorn_check_cpl3_int3);
    tcase_add_test(t, corpus_native_check);
    tcase_add_test(t, native_record);
    tcase_add_test(t, native_memory);
    tcase_add_test(t, wrong_expectation_fails);
    tcase_add_test(t, malformed_messages);
    tcase_add_test(t, malformed_cli_exit);
    tcase_add_test(t, scenario_tables);
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

/*
 * test_cli.c - the `ringcore run` command line and the standard machine.
 *
 * Unit tests of the hex/number parser and of the machine's descriptor
 * values (each expected value derived by hand below from SDM Vol. 3A
 * 3.4.5 Figure 3-8 / 6.14.1 Figure 6-8), then the built CLI (RC_CLI_PATH)
 * run as a subprocess: exit statuses and the key lines of its output.
 * Expected register values, error codes and CR2 values are derived by
 * hand in the comments from the SDM and docs/standard-machine.md.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef RC_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#include "lib/hex.h"
#include "lib/machine.h"

/* ------------------------------------------------------------------ helpers */

typedef struct proc {
    int status;     /* exit status, or -1 if killed by a signal */
    char out[65536];
    char err[8192];
} proc;

static void slurp(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
}

/* Run the CLI with argv (NULL-terminated, without the program name). */
static proc *run_cli(const char *const *args)
{
    static proc p;
    memset(&p, 0, sizeof p);
    char o_tmpl[] = "/tmp/rc_cli_outXXXXXX", e_tmpl[] = "/tmp/rc_cli_errXXXXXX";
    int of = mkstemp(o_tmpl), ef = mkstemp(e_tmpl);
    ck_assert(of >= 0 && ef >= 0);
    unlink(o_tmpl);
    unlink(e_tmpl);
    const char *argv[64] = { RC_CLI_PATH };
    int n = 1;
    for (; args[n - 1] && n < 63; n++)
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

static void expect_in(const char *hay, const char *needle, const proc *p)
{
    ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in output\n--- stdout:\n%s\n"
                  "--- stderr:\n%s", needle, p->out, p->err);
}

/* The library parts the CLI needs (RAM, registers, rc_run) must work: the
 * standard machine builds and runs a HLT, or the end-to-end tests fail. */
static int library_ready(void)
{
    rcm_options o = RCM_OPTIONS_INIT;
    rc_cpu *cpu = NULL;
    char err[256];
    if (rcm_build(&o, &cpu, err, sizeof err) != RC_OK) {
        printf("FAIL: the standard machine cannot be built (%s)\n", err);
        return 0;
    }
    /* one HLT: is rc_run there? */
    static const uint8_t hlt = 0xf4;
    rcm_load_code(cpu, &o, &hlt, 1, err, sizeof err);
    rc_exit ex;
    rc_status st = rc_run(cpu, 10, &ex);
    rc_destroy(cpu);
    if (st != RC_OK || ex.reason != RC_EXIT_HLT) {
        printf("FAIL: rc_run cannot run HLT (status %d, exit %d)\n", st, ex.reason);
        return 0;
    }
    return 1;
}

#define NEED_LIBRARY() ck_assert_msg(library_ready(), "the library cannot run the standard machine")

/* ------------------------------------------------------------------ hex parser */

START_TEST(hex_good)
{
    uint8_t b[32];
    size_t n = 0;
    char err[256];
    const char *a1[] = { "48c7c0 05000000", "F4" };
    ck_assert_int_eq(rct_hex_parse(a1, 2, b, sizeof b, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 8);
    static const uint8_t want[] = { 0x48, 0xc7, 0xc0, 0x05, 0x00, 0x00, 0x00, 0xf4 };
    ck_assert_mem_eq(b, want, sizeof want);
    const char *a2[] = { "  90\t90  " };
    ck_assert_int_eq(rct_hex_parse(a2, 1, b, sizeof b, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(hex_bad)
{
    uint8_t b[4];
    size_t n = 0;
    char err[256];
    const char *zz[] = { "zz" };
    ck_assert_int_eq(rct_hex_parse(zz, 1, b, sizeof b, &n, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "argument 1, position 1"));
    ck_assert_ptr_nonnull(strstr(err, "'z'"));
    const char *mid[] = { "90", "90 9g" };
    ck_assert_int_eq(rct_hex_parse(mid, 2, b, sizeof b, &n, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "argument 2, position 5"));
    const char *odd[] = { "90 f" };
    ck_assert_int_eq(rct_hex_parse(odd, 1, b, sizeof b, &n, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "odd number"));
    ck_assert_ptr_nonnull(strstr(err, "position 4"));
    const char *empty[] = { "   " };
    ck_assert_int_eq(rct_hex_parse(empty, 1, b, sizeof b, &n, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "no bytes"));
    const char *big[] = { "0102030405" };
    ck_assert_int_eq(rct_hex_parse(big, 1, b, sizeof b, &n, err, sizeof err), -1);
}
END_TEST

START_TEST(numbers)
{
    uint64_t v;
    char err[256];
    ck_assert_int_eq(rct_parse_u64("0x10", &v, err, sizeof err), 0);
    ck_assert_uint_eq(v, 16);
    ck_assert_int_eq(rct_parse_u64("42", &v, err, sizeof err), 0);
    ck_assert_uint_eq(v, 42);
    ck_assert_int_eq(rct_parse_u64("0b101", &v, err, sizeof err), 0);
    ck_assert_uint_eq(v, 5);
    ck_assert_int_eq(rct_parse_u64("-1", &v, err, sizeof err), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(rct_parse_u64("0xffff_8000_0000_0000", &v, err, sizeof err), 0);
    ck_assert_uint_eq(v, 0xffff800000000000ull);
    ck_assert_int_eq(rct_parse_u64("12q", &v, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "position 3"));
    ck_assert_int_eq(rct_parse_u64("", &v, err, sizeof err), -1);
    ck_assert_int_eq(rct_parse_u64("0x", &v, err, sizeof err), -1);
    ck_assert_int_eq(rct_parse_u64("0x10000000000000000", &v, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "64 bits"));
}
END_TEST

/* ------------------------------------------------------------------ machine descriptors */

/*
 * Hand derivation (SDM Vol. 3A 3.4.5 Figure 3-8): a descriptor is
 *   limit[15:0] | base[23:0] << 16 | access << 40 | limit[19:16] << 48
 *   | (G<<3 | D/B<<2 | L<<1 | AVL) << 52 | base[31:24] << 56
 * with access = P<<7 | DPL<<5 | S<<4 | type.
 * Flat (base 0, limit 0xfffff, G = 1):
 *   32-bit code DPL 0: access 0x9b, flags 0xc -> 0x00cf9b000000ffff
 *   64-bit code DPL 0: flags 0xa (G, L)       -> 0x00af9b000000ffff
 *   data DPL 0: access 0x93                   -> 0x00cf93000000ffff
 *   DPL 3: access 0xfb (code) / 0xf3 (data); DPL 1: 0xbb / 0xb3.
 * TSS: base 0x3000, limit 0x67, type 0xb, S 0, P 1: 0x67 | 0x3000 << 16 |
 *   0x8b << 40 = 0x00008b0030000067.
 * 16-bit ring 3 code: base 0x400000 -> 0x400000 << 16 = 0x4000000000,
 *   limit 0xffff, access 0xfb, flags 0 -> 0x0000fb400000ffff.
 */
START_TEST(gdt_values)
{
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 0), 0);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 1), 0x00cf9b000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 2), 0x00af9b000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 3), 0x00cf93000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 4), 0x00cffb000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 5), 0x00cff3000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 6), 0x00affb000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 7), 0);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 8), 0x00008b0030000067ull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 9), 0);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 17), 0x00afbb000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 18), 0x00cfb3000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 28), 0x0000fb400000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 29), 0x0000f3400000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_LONG, 30), 0);
    /* Legacy machines: the 64-bit code entries become 32-bit code (L = 0, D = 1). */
    ck_assert_uint_eq(rcm_gdt_entry(RCM_PROT32, 2), 0x00cf9b000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_PROT32, 6), 0x00cffb000000ffffull);
    ck_assert_uint_eq(rcm_gdt_entry(RCM_PROT16, 22), 0x00009b100000ffffull);

    /* Selectors: index * 8 | RPL (docs/standard-machine.md). */
    ck_assert_uint_eq(rcm_code_selector(RCM_LONG, 3), 0x33);
    ck_assert_uint_eq(rcm_code_selector(RCM_LONG, 0), 0x10);
    ck_assert_uint_eq(rcm_code_selector(RCM_PROT32, 3), 0x23);
    ck_assert_uint_eq(rcm_code_selector(RCM_COMPAT, 0), 0x08);
    ck_assert_uint_eq(rcm_code_selector(RCM_PROT16, 3), 0xe3); /* index 28 */
    ck_assert_uint_eq(rcm_data_selector(RCM_PROT16, 1), 0xc9); /* index 25 */
    ck_assert_uint_eq(rcm_data_selector(RCM_LONG, 2), 0xaa);   /* index 21 */

    /* Segment cache from a G = 1 descriptor: limit 0xfffff -> 0xffffffff. */
    rc_segment s;
    rcm_desc_to_seg(0x00affb000000ffffull, 0x33, &s);
    ck_assert_uint_eq(s.limit, 0xffffffffu);
    ck_assert(s.l == 1 && s.db == 0 && s.dpl == 3 && s.type == 0xb && s.s == 1);

    ck_assert_uint_eq(rcm_handler_addr(13), 0x40d0);
    ck_assert_int_eq(rcm_handler_vector(0x40d5), 13);
    ck_assert_int_eq(rcm_handler_vector(0x3fff), -1);
    ck_assert_int_eq(rcm_handler_vector(0x5000), -1);
}
END_TEST

static uint64_t rd64(rc_cpu *cpu, uint64_t gpa)
{
    uint8_t b[8];
    ck_assert_int_eq(rc_read_phys(cpu, gpa, b, 8), RC_OK);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

/* The machine as built in memory and registers matches the document. */
START_TEST(machine_memory)
{
    NEED_LIBRARY();
    rcm_options o = RCM_OPTIONS_INIT;
    o.cpl = 3;
    rc_cpu *cpu;
    char err[256];
    ck_assert_int_eq(rcm_build(&o, &cpu, err, sizeof err), RC_OK);
    /* GDT at 0x1000: entry 6 (0x33) = 64-bit user code. */
    ck_assert_uint_eq(rd64(cpu, 0x1000 + 6 * 8), 0x00affb000000ffffull);
    ck_assert_uint_eq(rd64(cpu, 0x1000 + 8 * 8), 0x00008b0030000067ull);
    /* IDT at 0x2000, vector 13, SDM Vol. 3A 6.14.1 Figure 6-8:
     * offset 0x40d0 -> bits 15:0 = 0x40d0, selector 0x10 << 16, IST 0,
     * P DPL0 type 14 = 0x8e << 40 -> 0x00008e00001040d0, upper qword 0. */
    ck_assert_uint_eq(rd64(cpu, 0x2000 + 13 * 16), 0x00008e00001040d0ull);
    ck_assert_uint_eq(rd64(cpu, 0x2000 + 13 * 16 + 8), 0);
    /* Vector 8 (#DF): offset 0x4080, IST1 in byte 4 -> 0x00008e0100104080. */
    ck_assert_uint_eq(rd64(cpu, 0x2000 + 8 * 16), 0x00008e0100104080ull);
    /* TSS RSP0 at offset 4 = 0x110000; IST1 at offset 36 = 0x21000. */
    ck_assert_uint_eq(rd64(cpu, 0x3004), 0x110000);
    ck_assert_uint_eq(rd64(cpu, 0x3000 + 36), 0x21000);
    /* Page tables: PML4[0] = 0x11007; PTE for 0x400000 (PT 2, entry 0) =
     * 0x400007 at 0x13000 + 8 * 0x400 = 0x15000; for 0x1000 = 0x1003; page 0 absent. */
    ck_assert_uint_eq(rd64(cpu, 0x10000), 0x11007);
    ck_assert_uint_eq(rd64(cpu, 0x15000), 0x400007);
    ck_assert_uint_eq(rd64(cpu, 0x13008), 0x1003);
    ck_assert_uint_eq(rd64(cpu, 0x13000), 0);
    /* Registers. */
    rc_segment cs, ss;
    ck_assert_int_eq(rc_get_seg(cpu, RC_SEG_CS, &cs), RC_OK);
    ck_assert_int_eq(rc_get_seg(cpu, RC_SEG_SS, &ss), RC_OK);
    ck_assert_uint_eq(cs.selector, 0x33);
    ck_assert(cs.l == 1 && cs.dpl == 3);
    ck_assert_uint_eq(ss.selector, 0x2b);
    uint64_t v;
    rc_get_reg(cpu, RC_REG_CPL, &v);
    ck_assert_uint_eq(v, 3);
    rc_get_reg(cpu, RC_REG_RIP, &v);
    ck_assert_uint_eq(v, 0x400000);
    rc_get_reg(cpu, RC_REG_RSP, &v);
    ck_assert_uint_eq(v, 0x410000);
    rc_get_reg(cpu, RC_REG_CR0, &v);
    ck_assert_uint_eq(v, 0x80010033);
    rc_get_reg(cpu, RC_REG_EFER, &v);
    ck_assert_uint_eq(v, 0xd01);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_LONG64);
    ck_assert_int_eq(rc_get_msr(cpu, 0xc0000081, &v), RC_OK);
    ck_assert_uint_eq(v, 0x0023001000005020ull);
    /* The debugger view walks our tables: 0x400000 maps to itself, page 0 does not. */
    uint64_t gpa;
    ck_assert_int_eq(rc_translate_linear(cpu, 0x400123, &gpa), RC_OK);
    ck_assert_uint_eq(gpa, 0x400123);
    ck_assert_int_eq(rc_translate_linear(cpu, 0x0, &gpa), RC_ERR_NOT_MAPPED);
    ck_assert_int_eq(rc_translate_linear(cpu, 0x1000000, &gpa), RC_ERR_NOT_MAPPED);
    rc_destroy(cpu);

    /* prot16 CPL 3: CS 0xe3 with base 0x400000, IP 0, SP 0. */
    o.mode = RCM_PROT16;
    ck_assert_int_eq(rcm_build(&o, &cpu, err, sizeof err), RC_OK);
    ck_assert_int_eq(rc_get_seg(cpu, RC_SEG_CS, &cs), RC_OK);
    ck_assert_uint_eq(cs.selector, 0xe3);
    ck_assert_uint_eq(cs.base, 0x400000);
    ck_assert_uint_eq(cs.limit, 0xffff);
    ck_assert_int_eq(rc_get_mode(cpu), RC_MODE_PROT16);
    rc_destroy(cpu);
}
END_TEST

/* ------------------------------------------------------------------ CLI: arguments */

START_TEST(cli_usage_errors)
{
    proc *p = RUN("run", "--mode", "long", "zz");
    ck_assert_int_eq(p->status, 1);
    expect_in(p->err, "'z' is not a hex digit", p);
    expect_in(p->err, "position 1", p);

    p = RUN("run", "--mode", "long", "90f");
    ck_assert_int_eq(p->status, 1);
    expect_in(p->err, "odd number of hex digits", p);

    p = RUN("run", "--frobnicate", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "unknown option '--frobnicate'", p);

    p = RUN("run", "--set", "foo=1", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "unknown register 'foo'", p);

    p = RUN("run", "--set", "rax=12q", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "not a number", p);

    p = RUN("run", "--set", "rax", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "REG=VALUE", p);

    p = RUN("run", "--mode", "prot64", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "--mode 'prot64'", p);

    p = RUN("run", "--cpl", "4", "f4");
    ck_assert_int_eq(p->status, 2);
    p = RUN("run", "--mode", "real", "--cpl", "3", "f4");
    ck_assert_int_eq(p->status, 2);
    p = RUN("run", "--max", "0", "f4");
    ck_assert_int_eq(p->status, 2);
    p = RUN("run", "--max");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "needs a value", p);
    p = RUN("run");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "no code", p);
    p = RUN("run", "  ");
    ck_assert_int_eq(p->status, 1);
    expect_in(p->err, "no bytes", p);
    p = RUN("run", "--file", "/nonexistent/code.bin");
    ck_assert_int_eq(p->status, 1);
    expect_in(p->err, "/nonexistent/code.bin", p);
    p = RUN("run", "--file", "/dev/null");
    ck_assert_int_eq(p->status, 1);
    expect_in(p->err, "empty", p);
    p = RUN("frob");
    ck_assert_int_eq(p->status, 2);

    p = RUN("--help");
    ck_assert_int_eq(p->status, 0);
    expect_in(p->out, "--deliver", p);
    p = RUN("--version");
    ck_assert_int_eq(p->status, 0);
    expect_in(p->out, "ringcore 0.1.0", p);
}
END_TEST

/* ------------------------------------------------------------------ CLI: runs */

/* HLT at CPL 3 in prot32: HLT is privileged (SDM Vol. 2A "HLT": #GP(0) if
 * the current privilege level is not 0), raised at CPL 3 with error code 0,
 * at the code address 0x23:0x400000. Exit status 3 (exception). */
START_TEST(cli_hlt_cpl3)
{
    NEED_LIBRARY();
    proc *p = RUN("run", "--mode", "prot32", "--cpl", "3", "f4");
    ck_assert_int_eq(p->status, 3);
    expect_in(p->out, "end: exception #GP(0) general protection, raised at CPL 3", p);
    expect_in(p->out, "0023:00400000", p);
    expect_in(p->out, "error code 0: no selector is involved", p);
    expect_in(p->out, "why: ", p);
    expect_in(p->out, "hlt", p);

    p = RUN("run", "--mode", "prot32", "--cpl", "3", "--expect", "#GP", "f4");
    ck_assert_int_eq(p->status, 0);
    p = RUN("run", "--mode", "prot32", "--cpl", "3", "--expect", "hlt", "f4");
    ck_assert_int_eq(p->status, 9);
}
END_TEST

/* The same with --deliver: the #GP goes through IDT vector 13, a 32-bit
 * interrupt gate to 0x10:0x40d0, DPL 0 < CPL 3 so the stack switches to
 * SS0:ESP0 = 0x18:0x110000 (SDM Vol. 3A 6.12.1) and the CPU pushes SS
 * 0x2b, ESP 0x410000, EFLAGS 0x10002 (0x2 with RF = 1: SDM Vol. 3A
 * 18.3.1.1, "for any fault-class exception except a debug exception
 * generated in response to an instruction breakpoint, the value pushed
 * for RF is 1"), CS 0x23, EIP 0x400000, error code 0:
 * six dwords, ESP = 0x110000 - 24 = 0x10ffe8. HLT at the stub ends the run
 * at CPL 0 with RIP = 0x40d1. Exit status 3 (exception delivered). */
START_TEST(cli_deliver)
{
    NEED_LIBRARY();
    proc *p = RUN("run", "--mode", "prot32", "--cpl", "3", "--deliver", "f4");
    ck_assert_int_eq(p->status, 3);
    expect_in(p->out, "HLT in the handler stub of vector 13 (#GP", p);
    expect_in(p->out, "frame at ss:esp 0018:0010ffe8", p);
    expect_in(p->out, "error=0x0 eip=0x400000 cs=0x23 eflags=0x10002 esp=0x410000 ss=0x2b", p);
}
END_TEST

/*
 * A program with results derived by hand (long mode, CPL 0):
 *   b8 07 00 00 00     mov eax, 7          rax = 7
 *   b9 06 00 00 00     mov ecx, 6          rcx = 6
 *   0f af c1           imul eax, ecx       rax = 42 = 0x2a
 *   83 c0 10           add eax, 0x10       rax = 58 = 0x3a
 *   48 8d 14 40        lea rdx, [rax+rax*2] rdx = 174 = 0xae
 *   50                 push rax            [0x10fff8] = 0x3a, rsp = 0x110000 - 8
 *   f4                 hlt
 * Stack top for CPL 0 = 0x110000 (docs/standard-machine.md).
 */
START_TEST(cli_program)
{
    NEED_LIBRARY();
    const char *code = "b807000000 b906000000 0fafc1 83c010 488d1440 50 f4";
    proc *p = RUN("run", "--mode", "long", code);
    ck_assert_int_eq(p->status, 0);
    expect_in(p->out, "rax      0x2a -> 0x3a", p);
    expect_in(p->out, "mem[0x10fff8] <- 0x000000000000003a", p);
    expect_in(p->out, "end: HLT at CPL 0", p);
    expect_in(p->out, "rdx=0xae", p);
    expect_in(p->out, "rsp=0x10fff8", p);
    expect_in(p->out, "imul eax, ecx", p);
#ifdef RC_HAVE_CJSON
    p = RUN("run", "--mode", "long", "--json", code);
    ck_assert_int_eq(p->status, 0);
    /* one object per line: 7 steps + the end */
    char *save = NULL, *line, *last = NULL;
    int lines = 0;
    for (line = strtok_r(p->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        ck_assert_msg(o != NULL, "line %d is not JSON: %s", lines + 1, line);
        if (lines == 2) {
            const cJSON *ch = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "changes"), "rax");
            ck_assert_ptr_nonnull(ch);
            ck_assert_str_eq(cJSON_GetObjectItem(ch, "new")->valuestring, "0x2a");
            ck_assert_str_eq(cJSON_GetObjectItem(o, "bytes")->valuestring, "0fafc1");
            ck_assert_str_eq(cJSON_GetObjectItem(o, "rip")->valuestring, "0x10000a");
        }
        cJSON_Delete(o);
        last = line;
        lines++;
    }
    ck_assert_int_eq(lines, 8);
    cJSON *end = cJSON_Parse(last);
    ck_assert_str_eq(cJSON_GetObjectItem(end, "end")->valuestring, "hlt");
    ck_assert_int_eq(cJSON_GetObjectItem(end, "steps")->valueint, 7);
    cJSON *regs = cJSON_GetObjectItem(end, "regs");
    ck_assert_str_eq(cJSON_GetObjectItem(regs, "rax")->valuestring, "0x3a");
    ck_assert_str_eq(cJSON_GetObjectItem(regs, "rcx")->valuestring, "0x6");
    ck_assert_str_eq(cJSON_GetObjectItem(regs, "rdx")->valuestring, "0xae");
    ck_assert_str_eq(cJSON_GetObjectItem(regs, "rsp")->valuestring, "0x10fff8");
    ck_assert_str_eq(cJSON_GetObjectItem(regs, "rip")->valuestring, "0x100016");
    cJSON_Delete(end);
#endif
}
END_TEST

/*
 * #PF at an unmapped address, long mode CPL 3:
 *   8b 04 25 00 00 00 01   mov eax, [0x1000000]
 * 0x1000000: PML4 index 0, PDPT index 0, PD index 8 -> the PD has entries
 * 0..7 only, so the walk stops at a not-present PDE. SDM Vol. 3A 4.7:
 * P = 0 (not present), W/R = 0 (read), U/S = 1 (CPL 3) -> error code 0x4,
 * CR2 = 0x1000000.
 * And a user write to a supervisor page:
 *   88 04 25 00 10 00 00   mov [0x1000], al
 * 0x1000 is present with U/S = 0 -> P = 1, W/R = 1, U/S = 1: 0x7, CR2 0x1000.
 */
START_TEST(cli_page_fault)
{
    NEED_LIBRARY();
    proc *p = RUN("run", "--mode", "long", "--cpl", "3", "8b042500000001");
    ck_assert_int_eq(p->status, 3);
    expect_in(p->out, "end: exception #PF(0x4) page fault, raised at CPL 3", p);
    expect_in(p->out, "P=0 (page not present), W/R=0 (read), U/S=1 (user-mode access)", p);
    expect_in(p->out, "CR2 = 0x1000000", p);

    p = RUN("run", "--mode", "long", "--cpl", "3", "88042500100000");
    ck_assert_int_eq(p->status, 3);
    expect_in(p->out, "#PF(0x7)", p);
    expect_in(p->out, "P=1 (protection violation on a present page), W/R=1 (write)", p);
    expect_in(p->out, "CR2 = 0x1000:", p);
#ifdef RC_HAVE_CJSON
    p = RUN("run", "--mode", "long", "--cpl", "3", "--json", "--quiet", "8b042500000001");
    ck_assert_int_eq(p->status, 3);
    cJSON *end = cJSON_Parse(p->out);
    ck_assert_ptr_nonnull(end);
    cJSON *e = cJSON_GetObjectItem(end, "exception");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(cJSON_GetObjectItem(e, "vector")->valueint, 14);
    ck_assert_int_eq(cJSON_GetObjectItem(e, "error_code")->valueint, 4);
    ck_assert_str_eq(cJSON_GetObjectItem(e, "cr2")->valuestring, "0x1000000");
    ck_assert_int_eq(cJSON_GetObjectItem(e, "cpl")->valueint, 3);
    ck_assert_str_eq(cJSON_GetObjectItem(e, "name")->valuestring, "#PF");
    cJSON_Delete(end);
#endif
}
END_TEST

/*
 * Real mode at 0000:7C00:
 *   b8 34 12   mov ax, 0x1234
 *   05 01 00   add ax, 1        ax = 0x1235
 *   f4         hlt              next IP 0x7c07
 */
START_TEST(cli_real_mode)
{
    NEED_LIBRARY();
    proc *p = RUN("run", "--mode", "real", "b83412 050100 f4");
    ck_assert_int_eq(p->status, 0);
    expect_in(p->out, "0000:7c00  b83412", p);
    expect_in(p->out, "mov ax, 0x1234", p);
    expect_in(p->out, "ax       0x1234 -> 0x1235", p);
    expect_in(p->out, "end: HLT at CPL 0, next RIP 0000:7c07", p);
}
END_TEST

/* --set: eax=5 then add eax, ecx with ecx=0x10 -> 0x15; cs=0x23 in long
 * mode at CPL 0 switches to 32-bit compatibility code at CPL 3, where HLT
 * raises #GP(0) at CPL 3. */
START_TEST(cli_set)
{
    NEED_LIBRARY();
    proc *p = RUN("run", "--set", "eax=5", "--set", "ecx=0x10", "01c8f4");
    ck_assert_int_eq(p->status, 0);
    expect_in(p->out, "rax      0x5 -> 0x15", p);
    p = RUN("run", "--set", "cs=0x23", "f4");
    ck_assert_int_eq(p->status, 3);
    expect_in(p->out, "raised at CPL 3", p);
    p = RUN("run", "--set", "cs=0x7", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "LDT", p);
    p = RUN("run", "--set", "ax=0x10000", "f4");
    ck_assert_int_eq(p->status, 2);
    expect_in(p->err, "does not fit in 16 bits", p);
    p = RUN("run", "--max", "3", "ebfe");
    ck_assert_int_eq(p->status, 5);
    expect_in(p->out, "instruction limit reached (3", p);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *u = tcase_create("units");
    tcase_add_test(u, hex_good);
    tcase_add_test(u, hex_bad);
    tcase_add_test(u, numbers);
    tcase_add_test(u, gdt_values);
    tcase_add_test(u, machine_memory);
    suite_add_tcase(s, u);
    TCase *c = tcase_create("command");
    tcase_set_timeout(c, 120);
    tcase_add_test(c, cli_usage_errors);
    tcase_add_test(c, cli_hlt_cpl3);
    tcase_add_test(c, cli_deliver);
    tcase_add_test(c, cli_program);
    tcase_add_test(c, cli_page_fault);
    tcase_add_test(c, cli_real_mode);
    tcase_add_test(c, cli_set);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(cli_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* tests/test_kvm.c: the KVM judge (tools/lib/vb_kvm.c, docs/kvm.md).
 *
 *   - detection, as a pure decision over made-up facts (the cpuinfo flags,
 *     the API version, whether kvm_pvm is loaded), table-driven;
 *   - the refusal on a host whose /dev/kvm is kvm_pvm (this one): nothing is
 *     judged, the reason names kvm_pvm, and `record` gets no expectation;
 *   - what can_judge/run refuse on any KVM (the other vendor, instructions
 *     KVM intercepts, task switches), through the development escape hatch
 *     RC_KVM_ALLOW_SOFTWARE=1 where KVM is software;
 *   - the run path: long-mode vectors run through /dev/kvm (kvm_pvm here,
 *     hardware elsewhere), each result checked against a derivation from
 *     the SDM written next to it. kvm_pvm runs these correctly; what it gets
 *     wrong (INT n, SYSCALL/SYSRET, every legacy-mode vector) is in
 *     docs/kvm.md, and is why it is refused as a judge.
 * Tests that need /dev/kvm skip with a printed reason without one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/vb_kvm.h"
#include "lib/vbackend.h"
#include "lib/vector.h"

#define PVM_MODULE "/sys/module/kvm_pvm"
#define SRC "\"sources\": [\"sdm:Vol.3A/6.14\"]"

static bool have_pvm(void)
{
    struct stat st;
    return stat(PVM_MODULE, &st) == 0;
}

static const char *host_vendor(void)
{
    static char v[16];
    const char *s = rcv_backend_kvm.source();
    const char *colon = strchr(s, ':');
    snprintf(v, sizeof v, "%s", colon && !strncmp(colon + 1, "GenuineIntel", 12) ? "intel"
                                                                                : "amd");
    return v;
}

/* Whether the judge will run here (hardware, or software with the hatch). */
static bool kvm_runs(const char *test)
{
    char why[512];
    rcv_kvm_kind k = rcv_kvm_probe(why, sizeof why);
    if (k == RCV_KVM_HARDWARE)
        return true;
    if (k == RCV_KVM_SOFTWARE) {
        setenv("RC_KVM_ALLOW_SOFTWARE", "1", 1);
        return true;
    }
    printf("SKIP %s: %s\n", test, why);
    return false;
}

/* One vector of the host's vendor from a JSON template with one %s (the
 * vendor). */
static void load(rcv_file *f, const char *fmt)
{
    char json[4096], err[1024];
    snprintf(json, sizeof json, fmt, host_vendor());
    ck_assert_msg(!rcv_file_parse("test_kvm.json", json, f, err, sizeof err), "%s", err);
}

static void run_ok(const char *fmt, rcv_file *f, rcv_result *r)
{
    char why[512] = "";
    load(f, fmt);
    ck_assert_msg(rcv_backend_kvm.can_judge(&f->v[0], why, sizeof why), "refused: %s", why);
    ck_assert_msg(!rcv_backend_kvm.run(&f->v[0], r, why, sizeof why), "run failed: %s", why);
}

/* ------------------------------------------------------------------ detection */

START_TEST(has_flag_whole_words)
{
    const char *flags = "flags\t\t: fpu vme svm_lock vmxon sse4a svm\n";
    ck_assert(rcv_kvm_has_flag(flags, "svm"));
    ck_assert(rcv_kvm_has_flag(flags, "fpu"));
    ck_assert(!rcv_kvm_has_flag(flags, "vmx"));      /* only "vmxon" */
    ck_assert(!rcv_kvm_has_flag("flags : svm_lock", "svm"));
    ck_assert(!rcv_kvm_has_flag(NULL, "svm"));
}
END_TEST

START_TEST(classify_table)
{
    static const struct {
        bool open;
        const char *err;
        int api;
        const char *flags;
        bool pvm;
        rcv_kvm_kind kind;
        const char *says, *says2;
    } t[] = {
        { false, "Permission denied", 12, "flags : fpu vmx", false, RCV_KVM_NONE,
          "cannot be opened (Permission denied)", NULL },
        { false, NULL, 12, "flags : fpu vmx", false, RCV_KVM_NONE, "no such device", NULL },
        { true, NULL, 11, "flags : fpu vmx", false, RCV_KVM_NONE, "with 11, not 12", NULL },
        { true, NULL, 12, "flags : fpu vmx sse", false, RCV_KVM_HARDWARE, "VMX", NULL },
        { true, NULL, 12, "flags : fpu sse svm", false, RCV_KVM_HARDWARE, "SVM", NULL },
        /* this host: kvm_pvm, no vmx/svm, the hypervisor flag */
        { true, NULL, 12, "flags : fpu sse hypervisor lm", true, RCV_KVM_SOFTWARE,
          "/dev/kvm is kvm_pvm, a software hypervisor", "neither vmx nor svm" },
        /* kvm_pvm is refused even where the CPU has SVM */
        { true, NULL, 12, "flags : fpu svm", true, RCV_KVM_SOFTWARE, "kvm_pvm",
          "refusing to judge" },
        { true, NULL, 12, "flags : fpu sse", false, RCV_KVM_SOFTWARE,
          "neither the vmx nor the svm flag", "refusing to judge" },
        { true, NULL, 12, "flags : svm_lock vmxon", false, RCV_KVM_SOFTWARE,
          "neither the vmx nor the svm flag", NULL },
        { true, NULL, 12, NULL, false, RCV_KVM_SOFTWARE, "unreadable", NULL },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        rcv_kvm_facts f = { t[i].open, t[i].err, t[i].api, t[i].flags, t[i].pvm };
        char why[512] = "";
        rcv_kvm_kind k = rcv_kvm_classify(&f, why, sizeof why);
        ck_assert_msg(k == t[i].kind, "row %zu: kind %d, expected %d (%s)", i, k, t[i].kind, why);
        ck_assert_msg(strstr(why, t[i].says), "row %zu: \"%s\" lacks \"%s\"", i, why, t[i].says);
        ck_assert_msg(!t[i].says2 || strstr(why, t[i].says2), "row %zu: \"%s\" lacks \"%s\"", i,
                      why, t[i].says2);
    }
}
END_TEST

/* ------------------------------------------------------------------ this host */

START_TEST(refuses_kvm_pvm)
{
    if (!have_pvm()) {
        printf("SKIP refuses_kvm_pvm: " PVM_MODULE " does not exist on this host\n");
        return;
    }
    unsetenv("RC_KVM_ALLOW_SOFTWARE");
    char why[512] = "";
    ck_assert(!rcv_kvm_available(why, sizeof why));
    ck_assert_msg(strstr(why, "kvm_pvm, a software hypervisor") && strstr(why, "refusing"),
                  "%s", why);
    ck_assert(!rcv_kvm_software_allowed());
    rcv_file f;
    load(&f, "{\"name\": \"hlt\", \"vendor\": \"%s\", \"mode\": \"long\", \"code\": \"f4\", "
             "\"expect\": {\"end\": \"hlt\", " SRC "}}");
    why[0] = 0;
    ck_assert(!rcv_backend_kvm.can_judge(&f.v[0], why, sizeof why));
    ck_assert_msg(strstr(why, "kvm_pvm"), "%s", why);
    rcv_result r;
    why[0] = 0;
    ck_assert(rcv_backend_kvm.run(&f.v[0], &r, why, sizeof why) == -1);
    ck_assert_msg(strstr(why, "kvm_pvm"), "%s", why);
    ck_assert_str_eq(rcv_backend_kvm.name, "kvm");
    ck_assert_msg(!strncmp(rcv_backend_kvm.source(), "kvm-software:", 13), "%s",
                  rcv_backend_kvm.source());
    /* record: never an expectation from a software KVM */
    memset(&r, 0, sizeof r);
    r.end = RCV_END_HLT;
    why[0] = 0;
    ck_assert_ptr_null(rcv_kvm_expect(&f.v[0], &r, why, sizeof why));
    ck_assert_msg(strstr(why, "never recorded"), "%s", why);
    rcv_file_free(&f);
}
END_TEST

/* The CLI on this host: check says once why nothing is judged; record
 * writes nothing, not even with RC_KVM_ALLOW_SOFTWARE=1 (docs/kvm.md). */
START_TEST(cli_refuses_and_records_nothing)
{
    if (!have_pvm()) {
        printf("SKIP cli_refuses_and_records_nothing: " PVM_MODULE " does not exist here\n");
        return;
    }
    char dir[] = "/tmp/rc-kvm-cli-XXXXXX", path[256], cmd[1024], out[4096];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/v.json", dir);
    static const char text[] = "[{\"name\": \"mov-hlt\", \"mode\": \"long\", "
                               "\"code\": \"b805000000f4\"}]\n";
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    static const char *const runs[] = {
        "'%s' vectors check --oracle kvm '%s' 2>&1",
        "'%s' vectors record --oracle kvm '%s' 2>&1",
        "RC_KVM_ALLOW_SOFTWARE=1 '%s' vectors record --oracle kvm '%s' 2>&1",
    };
    static const char *const says[] = { "no vector is judged on this host: /dev/kvm is kvm_pvm",
                                         "no vector is judged on this host",
                                         "a software KVM is not a judge" };
    for (unsigned i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, runs[i], RC_CLI_PATH, path);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        pclose(p);
        ck_assert_msg(strstr(out, says[i]), "%s:\n%s", cmd, out);
        ck_assert_msg(strstr(out, "0 vectors judged"), "%s:\n%s", cmd, out);
        f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        char back[sizeof text + 16];
        size_t k = fread(back, 1, sizeof back - 1, f);
        back[k] = 0;
        fclose(f);
        ck_assert_str_eq(back, text); /* nothing was written */
    }
    remove(path);
    rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ refusals */

static void refused(const char *fmt, const char *says)
{
    rcv_file f;
    char why[512] = "";
    load(&f, fmt);
    ck_assert_msg(!rcv_backend_kvm.can_judge(&f.v[0], why, sizeof why), "not refused: %s", fmt);
    ck_assert_msg(strstr(why, says), "\"%s\" lacks \"%s\"", why, says);
    rcv_file_free(&f);
}

START_TEST(refuses_what_kvm_answers)
{
    if (!kvm_runs("refuses_what_kvm_answers"))
        return;
    /* The other vendor: the guest runs on this CPU whatever CPUID says. */
    rcv_file f;
    char json[512], why[512] = "";
    snprintf(json, sizeof json, "{\"name\": \"x\", \"vendor\": \"%s\", \"mode\": \"long\", "
             "\"code\": \"f4\", \"expect\": {\"end\": \"hlt\", " SRC "}}",
             strcmp(host_vendor(), "amd") ? "amd" : "intel");
    ck_assert(!rcv_file_parse("t.json", json, &f, why, sizeof why));
    ck_assert(!rcv_backend_kvm.can_judge(&f.v[0], why, sizeof why));
    ck_assert_msg(strstr(why, "this host's CPU is not"), "%s", why);
    rcv_file_free(&f);
    /* Instructions VMX/SVM hand to KVM (SDM Vol. 3C 26.1.2-26.1.3). */
    refused("{\"name\": \"in\", \"vendor\": \"%s\", \"mode\": \"long\", \"code\": \"ec f4\", "
            "\"expect\": {\"end\": \"hlt\", " SRC "}}", "I/O");
    refused("{\"name\": \"wrmsr\", \"vendor\": \"%s\", \"mode\": \"long\", \"code\": \"0f30 f4\", "
            "\"expect\": {\"end\": \"hlt\", " SRC "}}", "RDMSR/WRMSR");
    refused("{\"name\": \"cpuid\", \"vendor\": \"%s\", \"mode\": \"prot32\", "
            "\"code\": \"0fa2 f4\", "
            "\"expect\": {\"end\": \"hlt\", " SRC "}}", "CPUID");
    refused("{\"name\": \"movcr0\", \"vendor\": \"%s\", \"mode\": \"long\", "
            "\"code\": \"0f22c0 f4\", \"expect\": {\"end\": \"hlt\", " SRC "}}",
            "control register");
    refused("{\"name\": \"movdr7\", \"vendor\": \"%s\", \"mode\": \"long\", "
            "\"code\": \"0f21f8 f4\", \"expect\": {\"end\": \"hlt\", " SRC "}}", "debug register");
    /* Reading CR0 is not intercepted (VMX: the read shadow; SVM: not with
     * KVM's intercepts), so a vector that does is judged. */
    load(&f, "{\"name\": \"rdcr0\", \"vendor\": \"%s\", \"mode\": \"long\", "
             "\"code\": \"0f20c0 f4\", \"expect\": {\"end\": \"hlt\", " SRC "}}");
    ck_assert_msg(rcv_backend_kvm.can_judge(&f.v[0], why, sizeof why), "%s", why);
    rcv_file_free(&f);
}
END_TEST

/* A task gate in the IDT, an available TSS in the GDT: run() refuses them
 * before any VM exists (task switches are KVM's emulation, docs/kvm.md). */
START_TEST(refuses_task_switches)
{
    if (!kvm_runs("refuses_task_switches"))
        return;
    static const char *const vecs[] = {
        "{\"name\": \"taskgate\", \"vendor\": \"%s\", \"mode\": \"prot32\", \"code\": \"cc\", "
        "\"idt\": [{\"vector\": 3, \"type\": 5, \"selector\": \"0x40\"}], "
        "\"expect\": {\"end\": \"exception\", \"vector\": 3, " SRC "}}",
        "{\"name\": \"tss\", \"vendor\": \"%s\", \"mode\": \"prot32\", \"code\": \"f4\", "
        "\"gdt\": [{\"index\": 12, \"raw\": \"0x0000890030000067\"}], "
        "\"expect\": {\"end\": \"hlt\", " SRC "}}",
        "{\"name\": \"nt\", \"vendor\": \"%s\", \"mode\": \"prot32\", \"code\": \"cf\", "
        "\"regs\": {\"eflags\": \"0x4002\"}, \"expect\": {\"end\": \"hlt\", " SRC "}}",
    };
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        rcv_file f;
        rcv_result r;
        char why[512] = "";
        load(&f, vecs[i]);
        ck_assert(rcv_backend_kvm.run(&f.v[0], &r, why, sizeof why) == -1);
        ck_assert_msg(strstr(why, "task"), "vector %zu: %s", i, why);
        rcv_file_free(&f);
    }
}
END_TEST

/* ------------------------------------------------------------------ the run path */

/* MOV RAX, 5; HLT at CPL 0 in long mode. 48 C7 C0 imm32 is 7 bytes at
 * 0x100000 (MOV r/m64, imm32 sign-extends: RAX = 5, SDM Vol. 2B "MOV"); HLT
 * at 0x100007 ends the vector with RIP past it, 0x100008 (docs/vectors.md
 * "hlt"). Nothing else moves: RSP = 0x110000, CPL 0, CS 0x10. */
START_TEST(run_mov_hlt)
{
    if (!kvm_runs("run_mov_hlt"))
        return;
    rcv_file f;
    rcv_result r;
    run_ok("{\"name\": \"mov-hlt\", \"vendor\": \"%s\", \"mode\": \"long\", "
           "\"code\": \"48c7c005000000 f4\", \"expect\": {\"end\": \"hlt\", " SRC "}}", &f, &r);
    ck_assert_int_eq(r.end, RCV_END_HLT);
    ck_assert_uint_eq(r.reg[RC_REG_RAX], 5);
    ck_assert_uint_eq(r.reg[RC_REG_RIP], 0x100008);
    ck_assert_uint_eq(r.reg[RC_REG_RSP], 0x110000);
    ck_assert_uint_eq(r.reg[RC_REG_CPL], 0);
    ck_assert_uint_eq(r.seg[RC_SEG_CS].selector, 0x10);
    ck_assert(r.seg[RC_SEG_CS].l);
    /* EFER as the standard machine sets it: SCE LME LMA NXE = 0xd01. */
    ck_assert_uint_eq(r.reg[RC_REG_EFER], 0xd01);
    rcv_backend_kvm.release(&r);
    rcv_file_free(&f);
}
END_TEST

/* MOV DWORD [0x500000], 0x12345678; HLT: C7 04 25 disp32 imm32 is 11 bytes,
 * so the HLT is at 0x10000b and RIP ends at 0x10000c. The store is read
 * back through the final page tables (identity map: linear = physical), as
 * little-endian bytes 78 56 34 12. The MSRs read back are the standard
 * machine's (docs/standard-machine.md "MSRs"): STAR 0x0023001000005020,
 * LSTAR 0x5000, SYSENTER_ESP 0x110000. */
START_TEST(run_store_and_msrs)
{
    if (!kvm_runs("run_store_and_msrs"))
        return;
    rcv_file f;
    rcv_result r;
    run_ok("{\"name\": \"store\", \"vendor\": \"%s\", \"mode\": \"long\", "
           "\"code\": \"c7042500005000 78563412 f4\", \"expect\": {\"end\": \"hlt\", " SRC "}}",
           &f, &r);
    ck_assert_int_eq(r.end, RCV_END_HLT);
    ck_assert_uint_eq(r.reg[RC_REG_RIP], 0x10000c);
    uint8_t b[4];
    ck_assert(r.read_mem && !r.read_mem(r.ctx, 0x500000, b, 4));
    ck_assert(b[0] == 0x78 && b[1] == 0x56 && b[2] == 0x34 && b[3] == 0x12);
    /* Linear 16 MiB is not mapped (docs/standard-machine.md "Page tables"). */
    ck_assert(r.read_mem(r.ctx, 0x1000000, b, 1) == -1);
    uint64_t x = 0;
    ck_assert(r.read_msr && !r.read_msr(r.ctx, 0xc0000081u, &x));
    ck_assert_uint_eq(x, 0x0023001000005020ull);
    ck_assert(!r.read_msr(r.ctx, 0xc0000082u, &x));
    ck_assert_uint_eq(x, 0x5000);
    ck_assert(!r.read_msr(r.ctx, 0x175u, &x));
    ck_assert_uint_eq(x, 0x110000);
    rcv_backend_kvm.release(&r);
    rcv_file_free(&f);
}
END_TEST

/* INT3 at CPL 3 in long mode. #BP is a trap through the standard DPL-3
 * interrupt gate 3 (0x10:0x4030). SDM Vol. 3A 6.14.2-6.14.4: the privilege
 * change loads RSP0 = 0x110000 from the TSS, aligns it to 16 (it is), and
 * pushes SS, RSP, RFLAGS, CS, RIP: 5 x 8 = 40 bytes, RSP = 0x10ffd8. The
 * frame holds the interrupted context: RIP after the INT3 (0x400001), CS
 * 0x33, RFLAGS 0x2 (a trap: RF is not set, 18.3.1.1), RSP 0x410000, SS 0x2b.
 * The new SS is a null selector with RPL 0 (6.14.4: "the new SS is set to
 * NULL if there is a change in CPL"). CPL 0, RIP = the stub 0x4030. */
START_TEST(run_int3_cpl3)
{
    if (!kvm_runs("run_int3_cpl3"))
        return;
    rcv_file f;
    rcv_result r;
    run_ok("{\"name\": \"int3\", \"vendor\": \"%s\", \"mode\": \"long\", \"cpl\": 3, "
           "\"code\": \"cc\", \"expect\": {\"end\": \"exception\", \"vector\": 3, " SRC "}}",
           &f, &r);
    ck_assert_int_eq(r.end, RCV_END_EXCEPTION);
    ck_assert_int_eq(r.vector, 3);
    ck_assert_int_eq(r.has_error_code, 0);
    ck_assert_uint_eq(r.frame_mask, RCV_FR_RIP | RCV_FR_CS | RCV_FR_RFLAGS | RCV_FR_RSP |
                                    RCV_FR_SS);
    ck_assert_uint_eq(r.frame_rip, 0x400001);
    ck_assert_uint_eq(r.frame_cs, 0x33);
    ck_assert_uint_eq(r.frame_rflags, 0x2);
    ck_assert_uint_eq(r.frame_rsp, 0x410000);
    ck_assert_uint_eq(r.frame_ss, 0x2b);
    ck_assert_uint_eq(r.reg[RC_REG_RIP], 0x4030);
    ck_assert_uint_eq(r.reg[RC_REG_RSP], 0x10ffd8);
    ck_assert_uint_eq(r.reg[RC_REG_CPL], 0);
    ck_assert_uint_eq(r.seg[RC_SEG_CS].selector, 0x10);
    ck_assert_uint_eq(r.seg[RC_SEG_SS].selector, 0);
    rcv_backend_kvm.release(&r);
    rcv_file_free(&f);
}
END_TEST

/* HLT at CPL 3: #GP(0) (SDM Vol. 2A "HLT": CPL > 0). A fault: the frame's RIP
 * is the HLT itself (0x400000) and RFLAGS has RF = 1, 0x10002 (Vol. 3A
 * 18.3.1.1). With the error code, 6 x 8 = 48 bytes below RSP0: 0x10ffd0;
 * the handler stub of vector 13 is 0x40d0. */
START_TEST(run_hlt_cpl3_gp)
{
    if (!kvm_runs("run_hlt_cpl3_gp"))
        return;
    rcv_file f;
    rcv_result r;
    run_ok("{\"name\": \"hlt3\", \"vendor\": \"%s\", \"mode\": \"long\", \"cpl\": 3, "
           "\"code\": \"f4\", \"expect\": {\"end\": \"exception\", \"vector\": 13, " SRC
           "}}", &f, &r);
    ck_assert_int_eq(r.end, RCV_END_EXCEPTION);
    ck_assert_int_eq(r.vector, 13);
    ck_assert_int_eq(r.has_error_code, 1);
    ck_assert_uint_eq(r.error_code, 0);
    ck_assert_uint_eq(r.frame_rip, 0x400000);
    ck_assert_uint_eq(r.frame_cs, 0x33);
    ck_assert_uint_eq(r.frame_rflags, 0x10002);
    ck_assert_uint_eq(r.frame_rsp, 0x410000);
    ck_assert_uint_eq(r.frame_ss, 0x2b);
    ck_assert_uint_eq(r.reg[RC_REG_RIP], 0x40d0);
    ck_assert_uint_eq(r.reg[RC_REG_RSP], 0x10ffd0);
    rcv_backend_kvm.release(&r);
    rcv_file_free(&f);
}
END_TEST

/* MOV RAX, [0x1000000] at CPL 0: linear 16 MiB meets a zero PDE (index 8;
 * docs/standard-machine.md) -> #PF (SDM Vol. 3A 4.7): error code P = 0,
 * W/R = 0 (read), U/S = 0 (CPL 0), I/D = 0 -> 0; CR2 = 0x1000000. No
 * privilege change, but IA-32e delivery pushes SS:RSP anyway (6.14.2):
 * error code + 5 slots = 48 bytes below 0x110000 = 0x10ffd0; frame RIP the
 * faulting MOV (0x100000), CS 0x10, RFLAGS 0x10002 (RF of a fault), RSP
 * 0x110000, SS 0x18. The stub of vector 14 is 0x40e0. */
START_TEST(run_page_fault)
{
    if (!kvm_runs("run_page_fault"))
        return;
    rcv_file f;
    rcv_result r;
    run_ok("{\"name\": \"pf\", \"vendor\": \"%s\", \"mode\": \"long\", "
           "\"code\": \"488b042500000001 f4\", "
           "\"expect\": {\"end\": \"exception\", \"vector\": 14, "
           SRC "}}", &f, &r);
    ck_assert_int_eq(r.end, RCV_END_EXCEPTION);
    ck_assert_int_eq(r.vector, 14);
    ck_assert_int_eq(r.has_error_code, 1);
    ck_assert_uint_eq(r.error_code, 0);
    ck_assert_uint_eq(r.reg[RC_REG_CR2], 0x1000000);
    ck_assert_uint_eq(r.frame_rip, 0x100000);
    ck_assert_uint_eq(r.frame_cs, 0x10);
    ck_assert_uint_eq(r.frame_rflags, 0x10002);
    ck_assert_uint_eq(r.frame_rsp, 0x110000);
    ck_assert_uint_eq(r.frame_ss, 0x18);
    ck_assert_uint_eq(r.reg[RC_REG_RIP], 0x40e0);
    ck_assert_uint_eq(r.reg[RC_REG_RSP], 0x10ffd0);
    rcv_backend_kvm.release(&r);
    rcv_file_free(&f);
}
END_TEST

/* UD2 with IDT gates 6, 11 and 8 not present: #UD -> #NP on gate 6 ->
 * (contributory during contributory) #DF -> gate 8 not present: shutdown
 * (SDM Vol. 3A 6.15 "Interrupt 8", Table 6-5). KVM reports KVM_EXIT_SHUTDOWN. */
START_TEST(run_triple_fault)
{
    if (!kvm_runs("run_triple_fault"))
        return;
    rcv_file f;
    rcv_result r;
    run_ok("{\"name\": \"tf\", \"vendor\": \"%s\", \"mode\": \"long\", \"code\": \"0f0b\", "
           "\"idt\": [{\"vector\": 6, \"p\": 0}, {\"vector\": 11, \"p\": 0}, "
           "{\"vector\": 8, \"p\": 0}], \"expect\": {\"end\": \"shutdown\", " SRC "}}", &f, &r);
    ck_assert_int_eq(r.end, RCV_END_SHUTDOWN);
    rcv_backend_kvm.release(&r);
    rcv_file_free(&f);
}
END_TEST

/* JMP $ never ends: the watchdog stops KVM_RUN after RC_KVM_TIMEOUT. */
START_TEST(run_bounded)
{
    if (!kvm_runs("run_bounded"))
        return;
    setenv("RC_KVM_TIMEOUT", "0.3", 1);
    rcv_file f;
    rcv_result r;
    char why[512] = "";
    load(&f, "{\"name\": \"loop\", \"vendor\": \"%s\", \"mode\": \"long\", \"code\": \"ebfe\", "
             "\"expect\": {\"end\": \"hlt\", " SRC "}}");
    ck_assert(rcv_backend_kvm.run(&f.v[0], &r, why, sizeof why) == -1);
    ck_assert_msg(strstr(why, "did not end within 0.3 s"), "%s", why);
    unsetenv("RC_KVM_TIMEOUT");
    rcv_file_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kvm");
    TCase *d = tcase_create("detection");
    tcase_add_test(d, has_flag_whole_words);
    tcase_add_test(d, classify_table);
    tcase_add_test(d, refuses_kvm_pvm);
    tcase_add_test(d, cli_refuses_and_records_nothing);
    suite_add_tcase(s, d);
    TCase *k = tcase_create("judge");
    tcase_set_timeout(k, 60);
    tcase_add_test(k, refuses_what_kvm_answers);
    tcase_add_test(k, refuses_task_switches);
    tcase_add_test(k, run_mov_hlt);
    tcase_add_test(k, run_store_and_msrs);
    tcase_add_test(k, run_int3_cpl3);
    tcase_add_test(k, run_hlt_cpl3_gp);
    tcase_add_test(k, run_page_fault);
    tcase_add_test(k, run_triple_fault);
    tcase_add_test(k, run_bounded);
    suite_add_tcase(s, k);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/*
 * test_sys.c - system instructions (src/cpu/exec_sys.c) and the vendor
 * models (src/cpu/model.c).
 *
 * Judges:
 *  - the SDM/APM pseudo-code and exception lists worked by hand (each test
 *    says which section and how the expected value follows);
 *  - the real CPU of this host (AMD EPYC) at ring 3 for LAR/LSL/VERR/VERW:
 *    descriptors are installed in this process's LDT with modify_ldt(2),
 *    read back raw with modify_ldt(0), probed natively, then the same raw
 *    bytes are given to ringcore and the results compared;
 *  - the CPUID consistency checks: every feature bit the model reports is
 *    probed against the code that should implement it.
 * Instructions are decoded by rc_decode and run by their handler directly.
 * Tests that need guest memory skip (with a printed reason) while the
 * memory layer (src/mmu) is not in the tree.
 */
#include <asm/ldt.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"

#define RAM_SIZE 0x100000u
#define GDT_BASE 0x1000u
#define LDT_BASE 0x2000u
#define DATA_AT 0x3000u
#define PT_ROOT 0x10000u

/* ------------------------------------------------------------------ machine */

static rc_segment seg_make(uint16_t sel, uint32_t limit, uint8_t type, uint8_t db, uint8_t l,
                           uint8_t dpl)
{
    rc_segment s = { 0 };
    s.selector = sel;
    s.limit = limit;
    s.type = type;
    s.s = 1;
    s.dpl = dpl;
    s.present = 1;
    s.db = db;
    s.l = l;
    s.g = limit > 0xfffff;
    return s;
}

/* A CPU with 1 MiB of RAM (paging off except in long mode, which the
 * tests here drive without memory access), in the given mode and CPL. */
enum { M_REAL, M_PROT32, M_LONG64 };

static rc_cpu *mk(rc_vendor v, int mode, unsigned cpl)
{
    rc_cpu *cpu = calloc(1, sizeof(*cpu));
    uint8_t *ram = calloc(1, RAM_SIZE);
    ck_assert_ptr_nonnull(cpu);
    ck_assert_ptr_nonnull(ram);
    cpu->regions[0] = (rc_region){ .gpa = 0, .size = RAM_SIZE, .host = ram };
    cpu->nregions = 1;
    cpu->model = rc_model_get(v);
    rc_segment code, data;
    if (mode == M_REAL) {
        code = seg_make(0, 0xffff, 0xb, 0, 0, 0);
        data = seg_make(0, 0xffff, 0x3, 0, 0, 0);
        cpu->cr0 = RC_CR0_ET;
        cpl = 0;
    } else if (mode == M_PROT32) {
        code = seg_make((uint16_t)(0x08 | cpl), 0xffffffff, 0xb, 1, 0, (uint8_t)cpl);
        data = seg_make((uint16_t)(0x10 | cpl), 0xffffffff, 0x3, 1, 0, (uint8_t)cpl);
        cpu->cr0 = RC_CR0_PE | RC_CR0_ET;
    } else {
        code = seg_make((uint16_t)(0x08 | cpl), 0xffffffff, 0xb, 0, 1, (uint8_t)cpl);
        data = seg_make((uint16_t)(0x10 | cpl), 0xffffffff, 0x3, 1, 0, (uint8_t)cpl);
        cpu->cr4 = RC_CR4_PAE;
        cpu->efer = RC_EFER_LME | RC_EFER_LMA;
        cpu->cr0 = RC_CR0_PE | RC_CR0_ET | RC_CR0_PG;
        /* Identity map of the first 2 MiB: PML4[0] -> PDPT[0] -> PD[0] =
         * 2-MiB page (P RW U PS), SDM Vol. 3A 4.5. */
        uint64_t e = (PT_ROOT + 0x1000) | 7;
        memcpy(ram + PT_ROOT, &e, 8);
        e = (PT_ROOT + 0x2000) | 7;
        memcpy(ram + PT_ROOT + 0x1000, &e, 8);
        e = 0x87;
        memcpy(ram + PT_ROOT + 0x2000, &e, 8);
        cpu->cr3 = PT_ROOT;
    }
    cpu->seg[RC_SEG_CS] = code;
    for (int s = RC_SEG_ES; s <= RC_SEG_GS; s++)
        if (s != RC_SEG_CS)
            cpu->seg[s] = data;
    cpu->seg[RC_SEG_LDTR].unusable = 1;
    cpu->seg[RC_SEG_TR] = (rc_segment){ .type = RC_DT_TSS_BUSY, .present = 1, .limit = 0x67 };
    cpu->gdtr = (rc_dtable){ GDT_BASE, 0xff };
    cpu->cpl = (uint8_t)cpl;
    cpu->rflags = RC_FLAG_FIXED1;
    cpu->dr[6] = 0xFFFF0FF0;
    cpu->dr[7] = 0x400;
    rc_update_mode(cpu);
    return cpu;
}

static void drop(rc_cpu *cpu)
{
    free(cpu->regions[0].host);
    free(cpu);
}

static uint8_t *ram(rc_cpu *cpu) { return cpu->regions[0].host; }

/* Decode the hex bytes for the CPU's code size and run the handler. */
static rc_fault run(rc_cpu *cpu, const char *hex)
{
    uint8_t b[15];
    unsigned n = 0;
    for (const char *p = hex; *p && n < 15;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        ck_assert_int_eq(sscanf(p, "%2x", &v), 1);
        b[n++] = (uint8_t)v;
        p += 2;
    }
    rc_insn in;
    rc_fault f = rc_decode(cpu, b, n, cpu->code_size, &in);
    if (RC_FAILED(f))
        return f;
    ck_assert_uint_eq(in.len, n);
    cpu->insn_rip = 0x100;
    cpu->rip = 0x100 + n;
    cpu->fault_reason = NULL;
    return in.exec(cpu, &in);
}

static void expect_ok(rc_fault f)
{
    ck_assert_msg(!RC_FAILED(f), "unexpected fault kind %u vector %u", f.kind, f.vector);
}
static void expect_exc(rc_fault f, unsigned vec, bool has_err, uint32_t err)
{
    ck_assert_msg(f.kind == RCF_EXCEPTION, "expected exception %u, got kind %u", vec, f.kind);
    ck_assert_uint_eq(f.vector, vec);
    ck_assert_uint_eq(f.has_error, has_err);
    if (has_err)
        ck_assert_uint_eq(f.error, err);
}
#define expect_gp0(f) expect_exc((f), RC_EXC_GP, true, 0)
#define expect_ud(f) expect_exc((f), RC_EXC_UD, false, 0)

static bool zf(rc_cpu *cpu) { return (rc_get_rflags(cpu) & RC_FLAG_ZF) != 0; }

/* Memory works when a plain read through DS succeeds (src/mmu present). */
static bool have_memory(rc_cpu *cpu, const char *test)
{
    uint64_t v;
    rc_fault f = rc_read(cpu, RC_SEG_DS, DATA_AT, 1, RC_ACC_READ, &v);
    if (f.kind == RCF_NONE) {
        rc_desc d;
        /* descriptor fetch from a GDT full of zeros: entry 1 exists */
        f = rc_desc_fetch(cpu, 0x08, false, RC_EXC_GP, &d);
        if (f.kind == RCF_NONE)
            return true;
    }
    printf("SKIP %s: guest memory / descriptor fetch not available yet (src/mmu)\n", test);
    return false;
}

static void put64(rc_cpu *cpu, uint32_t a, uint64_t v) { memcpy(ram(cpu) + a, &v, 8); }

/* ------------------------------------------------------------------ CPUID */

static void cpuid(rc_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    /* Dirty upper halves: CPUID clears bits 63:32 of RAX..RDX (SDM Vol. 2A CPUID). */
    cpu->gpr[RC_REG_RAX] = 0xdead000000000000ull | leaf;
    cpu->gpr[RC_REG_RCX] = 0xdead000000000000ull | sub;
    cpu->gpr[RC_REG_RBX] = cpu->gpr[RC_REG_RDX] = 0xdeaddeaddeaddeadull;
    expect_ok(run(cpu, "0f a2"));
    uint64_t g[4] = { cpu->gpr[RC_REG_RAX], cpu->gpr[RC_REG_RBX], cpu->gpr[RC_REG_RCX],
                      cpu->gpr[RC_REG_RDX] };
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(g[i] >> 32, 0);
        r[i] = (uint32_t)g[i];
    }
}

START_TEST(cpuid_vendor_strings)
{
    /* SDM/APM leaf 0: EBX, EDX, ECX hold the 12 vendor characters in that order. */
    static const char *const want[2] = { "GenuineIntel", "AuthenticAMD" };
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 3);
        uint32_t r[4];
        char s[13];
        cpuid(cpu, 0, 0, r);
        memcpy(s, &r[1], 4);
        memcpy(s + 4, &r[3], 4);
        memcpy(s + 8, &r[2], 4);
        s[12] = 0;
        ck_assert_str_eq(s, want[v]);
        ck_assert_uint_ge(r[0], 7); /* leaf 7 is reported, so max basic >= 7 */
        ck_assert_str_eq(cpu->model->name, want[v]);
        /* AMD repeats the vendor string in 8000_0000h (APM E.4.1); Intel reserves it. */
        cpuid(cpu, 0x80000000u, 0, r);
        ck_assert_uint_ge(r[0], 0x80000008u);
        if (v == RC_VENDOR_AMD) {
            memcpy(s, &r[1], 4);
            memcpy(s + 4, &r[3], 4);
            memcpy(s + 8, &r[2], 4);
            ck_assert_str_eq(s, want[v]);
        } else {
            ck_assert_uint_eq(r[1] | r[2] | r[3], 0);
        }
        drop(cpu);
    }
}
END_TEST

START_TEST(cpuid_signature)
{
    /* SDM Vol. 2A Figure 3-6 / APM E.3.2: DisplayFamily = Family, plus
     * ExtendedFamily when Family = 0Fh; DisplayModel = (ExtModel << 4) + Model
     * when Family is 06h or 0Fh. Intel: family 6 model 55h; AMD: family 17h. */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 0);
    uint32_t r[4];
    cpuid(cpu, 1, 0, r);
    unsigned fam = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
    unsigned xfam = (r[0] >> 20) & 0xff, xmodel = (r[0] >> 16) & 0xf;
    ck_assert_uint_eq(fam == 0xf ? fam + xfam : fam, 6);
    ck_assert_uint_eq((xmodel << 4) + model, 0x55);
    drop(cpu);

    cpu = mk(RC_VENDOR_AMD, M_PROT32, 0);
    cpuid(cpu, 1, 0, r);
    fam = (r[0] >> 8) & 0xf;
    xfam = (r[0] >> 20) & 0xff;
    ck_assert_uint_eq(fam, 0xf);
    ck_assert_uint_eq(fam + xfam, 0x17);
    uint32_t r81[4];
    cpuid(cpu, 0x80000001u, 0, r81);
    ck_assert_uint_eq(r81[0], r[0]); /* APM: 8000_0001h EAX repeats the signature */
    drop(cpu);
}
END_TEST

START_TEST(cpuid_out_of_range)
{
    /* Intel (SDM Vol. 2A CPUID note): a leaf above the maximum returns the
     * highest basic leaf's data -- here leaf 7 (sub-leaf as given). AMD
     * (APM E.1): zeros. */
    const uint32_t probes[] = { 8, 0x20, 0x40000000u, 0x80000009u, 0xC0000000u, 0xFFFFFFFFu };
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 0);
        uint32_t max[4], r[4], l0[4];
        cpuid(cpu, 0, 0, l0);
        cpuid(cpu, l0[0], 0, max);
        for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            cpuid(cpu, probes[i], 0, r);
            if (v == RC_VENDOR_INTEL)
                ck_assert_mem_eq(r, max, sizeof(r));
            else
                ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
        }
        drop(cpu);
    }
    /* IA32_MISC_ENABLE[22] (Limit CPUID Maxval, SDM Vol. 4 Table 2-2):
     * leaf 0 reports 2, and leaf 7 becomes out of range -> leaf 2's data. */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 0);
    uint32_t r[4], l2[4];
    cpu->msr.misc_enable |= 1ull << 22;
    cpuid(cpu, 0, 0, r);
    ck_assert_uint_eq(r[0], 2);
    cpuid(cpu, 2, 0, l2);
    cpuid(cpu, 7, 0, r);
    ck_assert_mem_eq(r, l2, sizeof(r));
    drop(cpu);
}
END_TEST

START_TEST(cpuid_brand_string)
{
    /* SDM: leaves 8000_0002h..4h give a 48-byte, NUL-terminated ASCII brand. */
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 0);
        char brand[49] = { 0 };
        for (unsigned i = 0; i < 3; i++) {
            uint32_t r[4];
            cpuid(cpu, 0x80000002u + i, 0, r);
            memcpy(brand + 16 * i, r, 16);
        }
        ck_assert_uint_gt(strlen(brand), 8);
        ck_assert_uint_lt(strlen(brand), 48);
        for (size_t i = 0; i < strlen(brand); i++)
            ck_assert(brand[i] >= 0x20 && brand[i] < 0x7f);
        drop(cpu);
    }
}
END_TEST

/* Feature bits must match what ringcore implements: for each bit the model
 * reports, probe the code that implements it; for the big families ringcore
 * does not execute (x87, SSE), the bit must be 0. */
static bool decodes_unsupported(rc_cpu *cpu, const uint8_t *b, unsigned n)
{
    rc_insn in;
    rc_fault f = rc_decode(cpu, b, n, cpu->code_size, &in);
    if (f.kind == RCF_NONE)
        f = in.exec(cpu, &in);
    return f.kind == RCF_UNSUPPORTED;
}

START_TEST(cpuid_bits_are_implemented)
{
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 0);
        uint32_t l1[4], l7[4], l81[4];
        cpuid(cpu, 1, 0, l1);
        cpuid(cpu, 7, 0, l7);
        cpuid(cpu, 0x80000001u, 0, l81);
        uint32_t edx = l1[3], ecx = l1[2];

        /* x87 (FLD1 = D9 E8) and SSE (XORPS = 0F 57 C0) are not executed:
         * FPU, MMX, FXSR, SSE, SSE2 must read 0. */
        static const uint8_t fld1[] = { 0xd9, 0xe8 }, xorps[] = { 0x0f, 0x57, 0xc0 };
        if (decodes_unsupported(cpu, fld1, 2))
            ck_assert_uint_eq(edx & 1u, 0);
        if (decodes_unsupported(cpu, xorps, 3))
            ck_assert_uint_eq(edx & ((1u << 23) | (1u << 24) | (1u << 25) | (1u << 26)), 0);
        /* RDTSCP (0F 01 F9) and RDFSBASE (F3 0F AE C0) */
        static const uint8_t rdtscp[] = { 0x0f, 0x01, 0xf9 }, rdfsbase[] = { 0xf3, 0x0f, 0xae, 0xc0 };
        if (decodes_unsupported(cpu, rdtscp, 3))
            ck_assert_uint_eq(l81[3] & (1u << 27), 0);
        if (decodes_unsupported(cpu, rdfsbase, 4))
            ck_assert_uint_eq(l7[1] & 1u, 0);
        /* Nothing of VME, MCE, APIC, MTRR, MCA, PSE-36, CLFSH, HTT is modeled. */
        ck_assert_uint_eq(edx & ((1u << 1) | (1u << 7) | (1u << 9) | (1u << 12) | (1u << 14) |
                                 (1u << 17) | (1u << 19) | (1u << 28)), 0);
        /* No leaf-1 ECX feature (SSE3.., VMX, CX16 probed below, POPCNT, XSAVE). */
        ck_assert_uint_eq(ecx & ~(1u << 13), 0);

        /* TSC: RDTSC runs. */
        if (edx & (1u << 4))
            expect_ok(run(cpu, "0f 31"));
        /* MSR: the MSR file answers (TSC MSR 10h when TSC is reported). */
        if (edx & (1u << 5)) {
            uint64_t val;
            ck_assert_uint_ne(rc_msr_read(cpu, 0x10, &val).kind, RCF_UNSUPPORTED);
        }
        /* DE: CR4.DE can be set and then DR4 is #UD (SDM Vol. 3B 17.2.2). */
        if (edx & (1u << 2)) {
            cpu->gpr[0] = RC_CR4_PAE | RC_CR4_DE;
            expect_ok(run(cpu, "0f 22 e0"));      /* mov cr4, rax */
            expect_ud(run(cpu, "0f 21 e0"));      /* mov rax, dr4 */
            cpu->gpr[0] = RC_CR4_PAE;
            expect_ok(run(cpu, "0f 22 e0"));
        }
        /* CMOV: CMOVE EAX, ECX with ZF = 1 moves. */
        if (edx & (1u << 15)) {
            rc_set_status_flags(cpu, RC_FLAG_ZF, RC_FLAG_ZF);
            cpu->gpr[0] = 1, cpu->gpr[1] = 0x1234;
            expect_ok(run(cpu, "0f 44 c1"));
            ck_assert_uint_eq(cpu->gpr[0], 0x1234);
        }
        /* LAHF in 64-bit mode: runs and AH = low byte of FLAGS (bit 1 set). */
        if (l81[2] & 1u) {
            cpu->gpr[0] = 0;
            expect_ok(run(cpu, "9f"));
            ck_assert_uint_eq((cpu->gpr[0] >> 8) & 2, 2);
        }
        /* SYSCALL with EFER.SCE = 0 -> #UD (SDM Vol. 2B SYSCALL), not "unsupported". */
        if (l81[3] & (1u << 11))
            expect_ud(run(cpu, "0f 05"));
        /* LM: rc_update_mode derives LMA from LME and PG (SDM Vol. 3A 10.8.5). */
        if (l81[3] & (1u << 29))
            ck_assert_uint_ne(cpu->efer & RC_EFER_LMA, 0);
        /* CX8/CX16: CMPXCHG8B with equal operands stores ECX:EBX. */
        if ((edx & (1u << 8)) || (ecx & (1u << 13))) {
            if (have_memory(cpu, "cpuid CX8 probe")) {
                put64(cpu, DATA_AT, 0x1111111122222222ull);
                cpu->gpr[RC_REG_RAX] = 0x22222222, cpu->gpr[RC_REG_RDX] = 0x11111111;
                cpu->gpr[RC_REG_RBX] = 0x44444444, cpu->gpr[RC_REG_RCX] = 0x33333333;
                cpu->gpr[RC_REG_RSI] = DATA_AT;
                expect_ok(run(cpu, "0f c7 0e")); /* cmpxchg8b [rsi] */
                uint64_t m;
                memcpy(&m, ram(cpu) + DATA_AT, 8);
                ck_assert_uint_eq(m, 0x3333333344444444ull);
            }
        }
        /* Paging features, judged by rc_translate on hand-built tables
         * (SDM Vol. 3A 4.3 Table 4-4, 4.5 Tables 4-16/4-18, 4.6). */
        if (have_memory(cpu, "cpuid paging probes")) {
            uint64_t phys, e;
            if (l81[3] & (1u << 26)) { /* Page1GB: PDPT[1] = 1-GiB page at 0 */
                e = 0x87;
                memcpy(ram(cpu) + PT_ROOT + 0x1000 + 8, &e, 8);
                expect_ok(rc_translate(cpu, 0x40000123, RC_ACC_READ, &phys));
                ck_assert_uint_eq(phys, 0x123);
            }
            if (l81[3] & (1u << 20)) { /* NX: XD on the 2-MiB page blocks fetches */
                cpu->efer |= RC_EFER_NXE;
                e = 0x87 | (1ull << 63);
                memcpy(ram(cpu) + PT_ROOT + 0x2000, &e, 8);
                rc_tlb_flush_all(cpu, false);
                rc_fault pf = rc_translate(cpu, 0x3000, RC_ACC_EXEC, &phys);
                /* SDM Vol. 3A 4.7: I/D = 1 for the fetch. (P should be 1 too,
                 * a protection violation on a present page; paging.c gives
                 * 0x10 -- reported to the MMU owner, not judged here.) */
                ck_assert_uint_eq(pf.vector, RC_EXC_PF);
                ck_assert_uint_ne(pf.error & 0x10, 0);
                e = 0x87;
                memcpy(ram(cpu) + PT_ROOT + 0x2000, &e, 8);
                rc_tlb_flush_all(cpu, false);
            }
        }
        drop(cpu);
        if (edx & (1u << 3)) { /* PSE: 32-bit paging, PDE[1] = 4-MiB page at 0 */
            cpu = mk((rc_vendor)v, M_PROT32, 0);
            uint64_t phys;
            uint32_t pde = 0x83;
            memcpy(ram(cpu) + PT_ROOT + 4, &pde, 4);
            cpu->cr3 = PT_ROOT;
            cpu->cr4 = RC_CR4_PSE;
            cpu->cr0 |= RC_CR0_PG;
            rc_update_mode(cpu);
            expect_ok(rc_translate(cpu, 0x400123, RC_ACC_READ, &phys));
            ck_assert_uint_eq(phys, 0x123);
            drop(cpu);
        }

        /* SEP: SYSENTER with IA32_SYSENTER_CS = 0 -> #GP(0) (SDM Vol. 2B SYSENTER). */
        if (edx & (1u << 11)) {
            cpu = mk((rc_vendor)v, M_PROT32, 3);
            cpu->msr.sysenter_cs = 0;
            expect_gp0(run(cpu, "0f 34"));
            drop(cpu);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------ HLT, CLI/STI, RDTSC */

START_TEST(hlt_cpl)
{
    /* SDM Vol. 2A HLT: #GP(0) at CPL > 0. */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 3);
    expect_gp0(run(cpu, "f4"));
    ck_assert_str_eq(cpu->fault_reason, "HLT at CPL 3: privileged instruction (SDM Vol. 2A HLT)");
    drop(cpu);
    cpu = mk(RC_VENDOR_AMD, M_LONG64, 0);
    rc_fault f = run(cpu, "f4");
    ck_assert_uint_eq(f.kind, RCF_EXIT);
    ck_assert_uint_eq(cpu->exit_pending.reason, RC_EXIT_HLT);
    ck_assert(!cpu->exit_restart);
    ck_assert_uint_eq(cpu->rip, 0x101); /* after the HLT */
    drop(cpu);
}
END_TEST

START_TEST(cli_sti_iopl)
{
    /* SDM Vol. 2A CLI / Vol. 2B STI: protected mode needs CPL <= IOPL. */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 3);
    cpu->rflags |= RC_FLAG_IF;
    expect_gp0(run(cpu, "fa"));
    ck_assert_uint_ne(cpu->rflags & RC_FLAG_IF, 0); /* unchanged on the fault */
    cpu->rflags |= RC_FLAG_IOPL; /* IOPL 3: allowed at CPL 3 (EDGE-CASES iopl.c) */
    expect_ok(run(cpu, "fa"));
    ck_assert_uint_eq(cpu->rflags & RC_FLAG_IF, 0);
    /* STI with IF = 0 sets the interrupt shadow; with IF = 1 it does not. */
    cpu->inhibit_irq = 0;
    expect_ok(run(cpu, "fb"));
    ck_assert_uint_ne(cpu->rflags & RC_FLAG_IF, 0);
    ck_assert_uint_eq(cpu->inhibit_irq, 1);
    cpu->inhibit_irq = 0;
    expect_ok(run(cpu, "fb"));
    ck_assert_uint_eq(cpu->inhibit_irq, 0);
    drop(cpu);
    /* Real mode: always allowed. */
    cpu = mk(RC_VENDOR_AMD, M_REAL, 0);
    expect_ok(run(cpu, "fb"));
    ck_assert_uint_ne(cpu->rflags & RC_FLAG_IF, 0);
    drop(cpu);
}
END_TEST

START_TEST(rdtsc_tsd)
{
    /* SDM Vol. 2B RDTSC: #GP(0) iff CR4.TSD = 1 and CPL > 0. */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 3);
    cpu->cr4 |= RC_CR4_TSD;
    cpu->gpr[0] = 0x55;
    expect_gp0(run(cpu, "0f 31"));
    ck_assert_uint_eq(cpu->gpr[0], 0x55);
    cpu->cr4 &= ~RC_CR4_TSD;
    expect_ok(run(cpu, "0f 31"));
    uint64_t t1 = (cpu->gpr[2] << 32) | cpu->gpr[0];
    cpu->icount_total += 5; /* five instructions retire */
    cpu->cpl = 0;
    cpu->cr4 |= RC_CR4_TSD; /* CPL 0 is always allowed */
    expect_ok(run(cpu, "0f 31"));
    uint64_t t2 = (cpu->gpr[2] << 32) | cpu->gpr[0];
    ck_assert_uint_gt(t2, t1);
    drop(cpu);
}
END_TEST

START_TEST(rdmsr_rdpmc_cpl)
{
    rc_cpu *cpu = mk(RC_VENDOR_AMD, M_PROT32, 3);
    expect_gp0(run(cpu, "0f 32")); /* SDM Vol. 2B RDMSR: #GP(0) if CPL != 0 */
    expect_gp0(run(cpu, "0f 30"));
    expect_gp0(run(cpu, "0f 33")); /* RDPMC with CR4.PCE = 0 at CPL 3 */
    cpu->cr4 |= 1ull << 8;         /* PCE: allowed, counters not modeled */
    ck_assert_uint_eq(run(cpu, "0f 33").kind, RCF_UNSUPPORTED);
    drop(cpu);
}
END_TEST

/* ------------------------------------------------------------------ control and debug registers */

START_TEST(mov_cr_priority_and_cpl)
{
    /* CR1 is #UD even at CPL 3: decode-class fault first (SDM Vol. 3A 6.9). */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 3);
    expect_ud(run(cpu, "0f 20 c8")); /* mov eax, cr1 */
    expect_gp0(run(cpu, "0f 20 c0")); /* mov eax, cr0 at CPL 3 */
    drop(cpu);
}
END_TEST

START_TEST(cr0_rules)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 0);
    uint64_t cr0 = cpu->cr0;
    /* PG = 1 with PE = 0: #GP(0). */
    cpu->gpr[0] = RC_CR0_PG | RC_CR0_ET;
    expect_gp0(run(cpu, "0f 22 c0"));
    ck_assert_uint_eq(cpu->cr0, cr0);
    /* NW = 1 with CD = 0: #GP(0). */
    cpu->gpr[0] = RC_CR0_PE | RC_CR0_NW;
    expect_gp0(run(cpu, "0f 22 c0"));
    /* Reserved bit 6 is ignored, ET reads 1 (SDM Vol. 3A 2.5). */
    cpu->gpr[0] = RC_CR0_PE | (1u << 6);
    expect_ok(run(cpu, "0f 22 c0"));
    ck_assert_uint_eq(cpu->cr0, RC_CR0_PE | RC_CR0_ET);
    /* Enabling paging with LME = 1 and PAE = 0: #GP(0); with PAE: LMA = 1. */
    cpu->efer = RC_EFER_LME;
    cpu->gpr[0] = RC_CR0_PE | RC_CR0_PG;
    expect_gp0(run(cpu, "0f 22 c0"));
    ck_assert_uint_eq(cpu->efer & RC_EFER_LMA, 0);
    cpu->cr4 = RC_CR4_PAE;
    expect_ok(run(cpu, "0f 22 c0"));
    ck_assert_uint_ne(cpu->efer & RC_EFER_LMA, 0);
    ck_assert_int_eq(cpu->mode, RC_MODE_COMPAT32);
    drop(cpu);

    /* 64-bit mode: clearing PG, or any bit in 63:32: #GP(0). */
    cpu = mk(RC_VENDOR_AMD, M_LONG64, 0);
    cpu->gpr[0] = RC_CR0_PE;
    expect_gp0(run(cpu, "0f 22 c0"));
    cpu->gpr[0] = cpu->cr0 | (1ull << 32);
    expect_gp0(run(cpu, "0f 22 c0"));
    /* MOV from CR0 into RAX: 64 bits. */
    cpu->gpr[0] = ~0ull;
    expect_ok(run(cpu, "0f 20 c0"));
    ck_assert_uint_eq(cpu->gpr[0], cpu->cr0);
    /* The mod field is ignored: 0F 20 00 is "mov rax, cr0" too (SDM MOV CR). */
    cpu->gpr[0] = ~0ull;
    expect_ok(run(cpu, "0f 20 00"));
    ck_assert_uint_eq(cpu->gpr[0], cpu->cr0);
    drop(cpu);
}
END_TEST

START_TEST(cr4_rules)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 0);
    /* Reserved/unreported bits: LA57 (12), bit 15, bit 31, bit 32: #GP(0)
     * (SDM Vol. 3A 2.5). (FSGSBASE, bit 16, is reported: fsgsbase below.) */
    const uint64_t bad[] = { 1ull << 12, 1ull << 31, 1ull << 32, 1ull << 15 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cpu->gpr[0] = RC_CR4_PAE | bad[i];
        expect_gp0(run(cpu, "0f 22 e0"));
        ck_assert_uint_eq(cpu->cr4, RC_CR4_PAE);
    }
    /* Clearing PAE in IA-32e mode: #GP(0). */
    cpu->gpr[0] = 0;
    expect_gp0(run(cpu, "0f 22 e0"));
    /* TSD and PCE are always available. */
    cpu->gpr[0] = RC_CR4_PAE | RC_CR4_TSD | (1ull << 8);
    expect_ok(run(cpu, "0f 22 e0"));
    ck_assert_uint_eq(cpu->cr4, RC_CR4_PAE | RC_CR4_TSD | (1ull << 8));
    drop(cpu);
}
END_TEST

/* RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE, SDM Vol. 2B/2D, worked by hand:
 * #UD while CR4.FSGSBASE = 0 and outside 64-bit mode; with it set,
 * WRFSBASE RAX (F3 48 0F AE D0) loads FS.base = RAX; RDGSBASE ECX (F3 0F AE
 * C9) gives ECX = GS.base[31:0] zero-extended; WRGSBASE with a
 * non-canonical RAX is #GP(0) and leaves GS.base alone. */
START_TEST(fsgsbase)
{
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 0);
        uint32_t l7[4];
        cpuid(cpu, 7, 0, l7);
        ck_assert_uint_eq(l7[1] & 1u, 1u); /* CPUID.07H:EBX.FSGSBASE */
        cpu->gpr[0] = 0x123456789abcull;
        expect_ud(run(cpu, "f3 48 0f ae d0"));            /* CR4.FSGSBASE = 0 */
        cpu->gpr[0] = RC_CR4_PAE | RC_CR4_FSGSBASE;
        expect_ok(run(cpu, "0f 22 e0"));                  /* mov cr4, rax */
        cpu->gpr[0] = 0x123456789abcull;
        expect_ok(run(cpu, "f3 48 0f ae d0"));            /* wrfsbase rax */
        ck_assert_uint_eq(cpu->seg[RC_SEG_FS].base, 0x123456789abcull);
        cpu->seg[RC_SEG_GS].base = 0xffff8000deadbeefull;
        cpu->gpr[1] = ~0ull;
        expect_ok(run(cpu, "f3 0f ae c9"));               /* rdgsbase ecx */
        ck_assert_uint_eq(cpu->gpr[1], 0xdeadbeefull);
        expect_ok(run(cpu, "f3 48 0f ae c2"));            /* rdfsbase rdx */
        ck_assert_uint_eq(cpu->gpr[2], 0x123456789abcull);
        cpu->gpr[0] = 0x0000800000000000ull;
        expect_gp0(run(cpu, "f3 48 0f ae d8"));           /* wrgsbase rax: non-canonical */
        ck_assert_uint_eq(cpu->seg[RC_SEG_GS].base, 0xffff8000deadbeefull);
        expect_ud(run(cpu, "f0 f3 48 0f ae d0"));         /* LOCK */
        drop(cpu);
        cpu = mk((rc_vendor)v, M_PROT32, 0);
        cpu->cr4 |= RC_CR4_FSGSBASE;
        expect_ud(run(cpu, "f3 0f ae c0"));               /* outside 64-bit mode */
        drop(cpu);
    }
}
END_TEST

START_TEST(cr3_and_cr8)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 0);
    /* CR3 bits 63:MAXPHYADDR reserved in IA-32e mode; MAXPHYADDR is what
     * CPUID 8000_0008h EAX[7:0] says (SDM Vol. 3A 4.1.4). */
    uint32_t r[4];
    cpuid(cpu, 0x80000008u, 0, r);
    unsigned m = r[0] & 0xff;
    ck_assert_uint_ge(m, 36);
    cpu->gpr[0] = 1ull << m;
    expect_gp0(run(cpu, "0f 22 d8"));
    cpu->gpr[0] = (1ull << (m - 1)) | 0x1000;
    expect_ok(run(cpu, "0f 22 d8"));
    ck_assert_uint_eq(cpu->cr3, (1ull << (m - 1)) | 0x1000);
    /* CR8 (REX.R): bits 63:4 reserved. */
    cpu->gpr[0] = 0x10;
    expect_gp0(run(cpu, "44 0f 22 c0"));
    cpu->gpr[0] = 0xa;
    expect_ok(run(cpu, "44 0f 22 c0"));
    cpu->gpr[1] = ~0ull;
    expect_ok(run(cpu, "44 0f 20 c1")); /* mov rcx, cr8 */
    ck_assert_uint_eq(cpu->gpr[1], 0xa);
    /* CR9 (REX.R + reg 1) does not exist: #UD. */
    expect_ud(run(cpu, "44 0f 20 c8"));
    drop(cpu);
}
END_TEST

/* MOV CR3 flushes the non-global TLB entries and keeps the global ones
 * (SDM Vol. 3A 4.10.4.1). Judged on the TLB arrays directly. */
START_TEST(cr3_flushes_tlb)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 0);
    cpu->tlb[0][1] = (rc_tlb_entry){ .tag = 2, .phys = 0x1000, .global = 0 };
    rc_tlb_flush_all(cpu, true);
    if (cpu->tlb[0][1].tag == 2) {
        printf("SKIP cr3_flushes_tlb: rc_tlb_flush_all not implemented yet (src/mmu)\n");
        drop(cpu);
        return;
    }
    cpu->tlb[0][1] = (rc_tlb_entry){ .tag = 2, .phys = 0x1000, .global = 0 };
    cpu->tlb[0][2] = (rc_tlb_entry){ .tag = 3, .phys = 0x2000, .global = 1 };
    cpu->gpr[0] = 0x5000;
    expect_ok(run(cpu, "0f 22 d8"));
    ck_assert_uint_eq(cpu->tlb[0][1].tag, 0);
    ck_assert_uint_eq(cpu->tlb[0][2].tag, 3);
    /* Toggling CR4.PGE flushes everything, global entries included
     * (SDM Vol. 3A 4.10.4.1) -- when the model reports PGE. */
    uint32_t r[4];
    cpuid(cpu, 1, 0, r);
    if (r[3] & (1u << 13)) {
        cpu->gpr[0] = RC_CR4_PAE | RC_CR4_PGE;
        expect_ok(run(cpu, "0f 22 e0"));
        cpu->tlb[0][2] = (rc_tlb_entry){ .tag = 3, .phys = 0x2000, .global = 1 };
        cpu->gpr[0] = RC_CR4_PAE;
        expect_ok(run(cpu, "0f 22 e0"));
        ck_assert_uint_eq(cpu->tlb[0][2].tag, 0);
    }
    drop(cpu);
}
END_TEST

START_TEST(mov_dr_rules)
{
    rc_cpu *cpu = mk(RC_VENDOR_AMD, M_LONG64, 0);
    /* DR6 write 0: reads back 0xFFFF0FF0 (fixed bits, SDM Vol. 3B 17.2.3). */
    cpu->gpr[0] = 0;
    expect_ok(run(cpu, "0f 23 f0"));
    ck_assert_uint_eq(cpu->dr[6], 0xFFFF0FF0u);
    /* DR7 write 0: bit 10 reads 1. */
    expect_ok(run(cpu, "0f 23 f8"));
    ck_assert_uint_eq(cpu->dr[7], 0x400);
    /* 64-bit mode: bits 63:32 of DR6/DR7 -> #GP(0). */
    cpu->gpr[0] = 1ull << 32;
    expect_gp0(run(cpu, "0f 23 f8"));
    /* DR4 without CR4.DE aliases DR6. */
    cpu->gpr[1] = 0;
    expect_ok(run(cpu, "0f 21 e1")); /* mov rcx, dr4 */
    ck_assert_uint_eq(cpu->gpr[1], 0xFFFF0FF0u);
    /* DR8 (REX.R): #UD. */
    expect_ud(run(cpu, "44 0f 21 c0"));
    drop(cpu);
    cpu = mk(RC_VENDOR_AMD, M_PROT32, 1);
    expect_gp0(run(cpu, "0f 21 c0")); /* CPL 1 */
    drop(cpu);
}
END_TEST

START_TEST(smsw_lmsw_clts)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 0);
    /* LMSW loads PE MP EM TS only and cannot clear PE (SDM Vol. 2A LMSW). */
    cpu->gpr[0] = 0xFFFE; /* PE = 0, MP EM TS = 1, other bits ignored */
    expect_ok(run(cpu, "0f 01 f0"));
    ck_assert_uint_eq(cpu->cr0, RC_CR0_PE | RC_CR0_ET | RC_CR0_MP | RC_CR0_EM | RC_CR0_TS);
    /* CLTS clears TS. */
    expect_ok(run(cpu, "0f 06"));
    ck_assert_uint_eq(cpu->cr0 & RC_CR0_TS, 0);
    /* SMSW r32: CR0's low 32 bits; SMSW r16 (66): only AX. */
    cpu->gpr[1] = 0xAAAAAAAAAAAAAAAAull;
    expect_ok(run(cpu, "0f 01 e1"));
    ck_assert_uint_eq(cpu->gpr[1], cpu->cr0);
    cpu->gpr[1] = 0xAAAAAAAAAAAAAAAAull;
    expect_ok(run(cpu, "66 0f 01 e1"));
    ck_assert_uint_eq(cpu->gpr[1], 0xAAAAAAAAAAAA0000ull | (cpu->cr0 & 0xffff));
    drop(cpu);
    cpu = mk(RC_VENDOR_INTEL, M_PROT32, 3);
    expect_gp0(run(cpu, "0f 01 f0")); /* LMSW at CPL 3 */
    drop(cpu);
}
END_TEST

START_TEST(grp7_register_forms)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 0);
    expect_ud(run(cpu, "0f 01 c1"));       /* VMCALL outside VMX operation */
    expect_ud(run(cpu, "0f 01 c8"));       /* MONITOR, CPUID MONITOR = 0 */
    expect_ud(run(cpu, "0f 01 d0"));       /* XGETBV, CR4.OSXSAVE = 0 */
    expect_ud(run(cpu, "0f 01 d8"));       /* VMRUN, no SVM */
    expect_ud(run(cpu, "0f 01 f8"));       /* SWAPGS outside 64-bit mode */
    drop(cpu);
    cpu = mk(RC_VENDOR_INTEL, M_LONG64, 3);
    expect_gp0(run(cpu, "0f 01 f8"));      /* SWAPGS at CPL 3 */
    drop(cpu);
}
END_TEST

/* RDTSCP and RDPID (SDM Vol. 2B), and the CPUID bits of the fast system
 * calls, by hand: TSC_AUX = 0xfeedface12345678
 * (Intel keeps 32 bits: WRMSR of bits 63:32 is #GP, so 0x12345678; AMD
 * ignores the upper half): RDTSCP writes ECX = 0x12345678 with RCX[63:32]
 * cleared and RDX:RAX = the TSC (RDX[63:32], RAX[63:32] cleared); at CPL 3
 * with CR4.TSD it is #GP(0). RDPID RAX (F3 0F C7 F8) in 64-bit mode writes
 * all 64 bits of TSC_AUX; RDPID has no TSD check. CPUID reports both. */
START_TEST(rdtscp_rdpid)
{
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 0);
        uint32_t l7[4], l81[4];
        cpuid(cpu, 7, 0, l7);
        cpuid(cpu, 0x80000001u, 0, l81);
        ck_assert_uint_eq(l81[3] >> 27 & 1, 1);  /* RDTSCP */
        ck_assert_uint_eq(l7[2] >> 22 & 1, 1);   /* RDPID */
        /* SEP (leaf 1 EDX[11]) and SYSCALL (8000_0001h EDX[11], in 64-bit
         * mode) are reported now that src/syscall/fast.c implements them. */
        uint32_t l1[4];
        cpuid(cpu, 1, 0, l1);
        ck_assert_uint_eq(l1[3] >> 11 & 1, 1);
        ck_assert_uint_eq(l81[3] >> 11 & 1, 1);
        ck_assert_uint_eq(rc_msr_write(cpu, 0xc0000103, 0x12345678).kind, RCF_NONE);
        cpu->gpr[0] = cpu->gpr[1] = cpu->gpr[2] = ~0ull;
        expect_ok(run(cpu, "0f 01 f9"));
        ck_assert_uint_eq(cpu->gpr[1], 0x12345678);
        ck_assert_uint_eq(cpu->gpr[0] >> 32, 0);
        ck_assert_uint_eq(cpu->gpr[2] >> 32, 0);
        cpu->gpr[0] = ~0ull;
        expect_ok(run(cpu, "f3 0f c7 f8"));       /* rdpid rax */
        ck_assert_uint_eq(cpu->gpr[0], 0x12345678);
        cpu->cr4 |= RC_CR4_TSD;
        cpu->cpl = 3;
        expect_gp0(run(cpu, "0f 01 f9"));
        expect_ok(run(cpu, "f3 0f c7 f8"));
        drop(cpu);
    }
}
END_TEST

/* ------------------------------------------------------------------ segment registers, ARPL */

START_TEST(mov_sreg_forms)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 3);
    cpu->seg[RC_SEG_DS].selector = 0x2b;
    /* MOV r32, DS zero-extends (SDM Vol. 2B MOV). */
    cpu->gpr[0] = ~0ull;
    expect_ok(run(cpu, "8c d8"));
    ck_assert_uint_eq(cpu->gpr[0], 0x2b);
    /* MOV r16, DS (66) writes only AX. */
    cpu->gpr[0] = ~0ull;
    expect_ok(run(cpu, "66 8c d8"));
    ck_assert_uint_eq(cpu->gpr[0], 0xFFFFFFFFFFFF002Bull);
    /* Sreg 6: #UD; MOV to CS: #UD. */
    expect_ud(run(cpu, "8c f0"));
    expect_ud(run(cpu, "8e c8"));
    /* LSS with a register operand: #UD. */
    expect_ud(run(cpu, "0f b2 c0"));
    drop(cpu);
}
END_TEST

START_TEST(arpl_register)
{
    /* SDM Vol. 2A ARPL: dest.RPL < src.RPL -> ZF = 1, dest.RPL = src.RPL. */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 3);
    cpu->gpr[0] = 0x12340009; /* AX = 0009: RPL 1 */
    cpu->gpr[1] = 0x0000000b; /* CX: RPL 3 */
    expect_ok(run(cpu, "63 c8")); /* arpl ax, cx */
    ck_assert_uint_eq(cpu->gpr[0], 0x1234000b);
    ck_assert(zf(cpu));
    expect_ok(run(cpu, "63 c8"));  /* now equal: ZF = 0, unchanged */
    ck_assert_uint_eq(cpu->gpr[0], 0x1234000b);
    ck_assert(!zf(cpu));
    drop(cpu);
    cpu = mk(RC_VENDOR_INTEL, M_REAL, 0);
    expect_ud(run(cpu, "63 c8"));  /* real mode: #UD */
    expect_ud(run(cpu, "0f 00 c0"));/* SLDT in real mode: #UD */
    expect_ud(run(cpu, "0f 02 c0"));/* LAR in real mode: #UD */
    drop(cpu);
}
END_TEST

/* ------------------------------------------------------------------ descriptors: LAR/LSL/VERR/VERW */

/* Build a code/data descriptor (SDM Vol. 3A Figure 3-8). */
static uint64_t desc(uint32_t base, uint32_t limit, unsigned type, unsigned s, unsigned dpl,
                     unsigned p, unsigned g, unsigned db, unsigned l)
{
    uint64_t d = (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16);
    d |= (uint64_t)(type & 0xf) << 40 | (uint64_t)s << 44 | (uint64_t)dpl << 45 |
         (uint64_t)p << 47;
    d |= (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)l << 53 | (uint64_t)db << 54 |
         (uint64_t)g << 55;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

typedef struct lar_case {
    uint64_t d;
    uint16_t rpl;
    bool lar_ok, lsl_ok;
    uint32_t lar, lsl;
} lar_case;

START_TEST(lar_lsl_hand)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 2);
    if (!have_memory(cpu, "lar_lsl_hand")) {
        drop(cpu);
        return;
    }
    /* Expectations from SDM Vol. 2A LAR/LSL, at CPL 2:
     *  LAR value = second dword & 00FFFF00H; LSL value = byte-granular limit. */
    const lar_case cases[] = {
        /* data RW, DPL 3, G = 1 limit 0xFFFFF: (0xFFFFF << 12) | 0xFFF */
        { desc(0, 0xfffff, 3, 1, 3, 1, 1, 1, 0), 0, true, true, 0x00CFF300, 0xFFFFFFFF },
        /* data DPL 1 < CPL 2: invisible */
        { desc(0, 0xfff, 3, 1, 1, 1, 0, 1, 0), 0, false, false, 0, 0 },
        /* data DPL 2, RPL 3 > DPL: invisible */
        { desc(0, 0xfff, 3, 1, 2, 1, 0, 1, 0), 3, false, false, 0, 0 },
        /* conforming code DPL 0: visible at any CPL/RPL (type 0xF) */
        { desc(0, 0x1234, 0xf, 1, 0, 1, 0, 1, 0), 3, true, true, 0x00409F00, 0x1234 },
        /* not present data DPL 3, G = 1 limit 1: LAR/LSL do not check P */
        { desc(0, 1, 3, 1, 3, 0, 1, 0, 0), 0, true, true, 0x00807300, 0x1FFF },
        /* LDT (type 2) DPL 3 */
        { desc(0x5000, 0x27, 2, 0, 3, 1, 0, 0, 0), 0, true, true, 0x0000E200, 0x27 },
        /* available 32-bit TSS DPL 3 */
        { desc(0x6000, 0x67, 9, 0, 3, 1, 0, 0, 0), 0, true, true, 0x0000E900, 0x67 },
        /* 32-bit call gate DPL 3: LAR yes, LSL no */
        { desc(0, 0, 0xc, 0, 3, 1, 0, 0, 0), 0, true, false, 0x0000EC00, 0 },
        /* 32-bit interrupt gate: neither */
        { desc(0, 0, 0xe, 0, 3, 1, 0, 0, 0), 0, false, false, 0, 0 },
        /* reserved system type 0: neither */
        { desc(0, 0, 0, 0, 3, 1, 0, 0, 0), 0, false, false, 0, 0 },
        /* TSS with DPL 1 < CPL 2: invisible */
        { desc(0x6000, 0x67, 9, 0, 1, 1, 0, 0, 0), 0, false, false, 0, 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put64(cpu, GDT_BASE + 8, cases[i].d);
        uint16_t sel = (uint16_t)(8 | cases[i].rpl);
        cpu->gpr[1] = sel;
        cpu->gpr[0] = 0x5555555555555555ull;
        expect_ok(run(cpu, "0f 02 c1")); /* lar eax, ecx */
        ck_assert_msg(zf(cpu) == cases[i].lar_ok, "case %u LAR ZF", i);
        ck_assert_uint_eq(cpu->gpr[0], cases[i].lar_ok ? cases[i].lar : 0x5555555555555555ull);
        cpu->gpr[0] = 0x5555555555555555ull;
        expect_ok(run(cpu, "0f 03 c1")); /* lsl eax, ecx */
        ck_assert_msg(zf(cpu) == cases[i].lsl_ok, "case %u LSL ZF", i);
        ck_assert_uint_eq(cpu->gpr[0], cases[i].lsl_ok ? cases[i].lsl : 0x5555555555555555ull);
    }
    /* NULL selector and beyond the GDT limit (0xFF): ZF = 0, no fault. */
    cpu->gpr[1] = 0;
    expect_ok(run(cpu, "0f 02 c1"));
    ck_assert(!zf(cpu));
    cpu->gpr[1] = 0x100;
    expect_ok(run(cpu, "0f 03 c1"));
    ck_assert(!zf(cpu));
    drop(cpu);
}
END_TEST

/* ---- native oracle through modify_ldt */

static long modify_ldt_sys(int func, void *p, unsigned long n)
{
    return syscall(SYS_modify_ldt, func, p, n);
}

typedef struct native_res {
    uint32_t lar, lsl;
    bool lar_zf, lsl_zf, verr, verw;
} native_res;

static native_res native_probe(uint16_t sel)
{
    native_res r = { 0, 0, false, false, false, false };
    uint32_t s = sel;
    uint8_t z;
    __asm__ volatile("lar %2, %0; setz %1" : "+r"(r.lar), "=q"(z) : "r"(s) : "cc");
    r.lar_zf = z;
    __asm__ volatile("lsl %2, %0; setz %1" : "+r"(r.lsl), "=q"(z) : "r"(s) : "cc");
    r.lsl_zf = z;
    __asm__ volatile("verr %w1; setz %0" : "=q"(z) : "r"(s) : "cc");
    r.verr = z;
    __asm__ volatile("verw %w1; setz %0" : "=q"(z) : "r"(s) : "cc");
    r.verw = z;
    return r;
}

START_TEST(lar_lsl_verr_native)
{
    /* Judge: this host's CPU at ring 3. Each user_desc becomes LDT entry i;
     * the kernel writes the raw descriptor, which we read back and hand to
     * ringcore's LDT unchanged. */
    struct user_desc cfgs[] = {
        { .entry_number = 0, .base_addr = 0, .limit = 0xfffff, .seg_32bit = 1, .contents = 0,
          .read_exec_only = 0, .limit_in_pages = 1, .seg_not_present = 0, .useable = 1 },
        { .entry_number = 1, .base_addr = 0x1000, .limit = 0x1234, .seg_32bit = 0, .contents = 0,
          .read_exec_only = 1, .limit_in_pages = 0, .seg_not_present = 0, .useable = 0 },
        { .entry_number = 2, .base_addr = 0, .limit = 0x10, .seg_32bit = 1, .contents = 1,
          .read_exec_only = 0, .limit_in_pages = 1, .seg_not_present = 0, .useable = 0 },
        { .entry_number = 3, .base_addr = 0, .limit = 0xabcde, .seg_32bit = 1, .contents = 2,
          .read_exec_only = 0, .limit_in_pages = 0, .seg_not_present = 0, .useable = 0 },
        { .entry_number = 4, .base_addr = 0, .limit = 0xfff, .seg_32bit = 1, .contents = 2,
          .read_exec_only = 1, .limit_in_pages = 0, .seg_not_present = 0, .useable = 0 },
        { .entry_number = 5, .base_addr = 0, .limit = 0x5, .seg_32bit = 1, .contents = 0,
          .read_exec_only = 0, .limit_in_pages = 1, .seg_not_present = 1, .useable = 0 },
        { .entry_number = 6, .base_addr = 0, .limit = 0x77, .seg_32bit = 1, .contents = 3,
          .read_exec_only = 0, .limit_in_pages = 0, .seg_not_present = 1, .useable = 0 },
    };
    unsigned n = sizeof(cfgs) / sizeof(cfgs[0]);
    unsigned installed = 0;
    for (unsigned i = 0; i < n; i++)
        if (modify_ldt_sys(1, &cfgs[i], sizeof(cfgs[i])) == 0)
            installed |= 1u << i;
    if (!installed) {
        printf("SKIP lar_lsl_verr_native: modify_ldt unavailable on this kernel\n");
        return;
    }
    uint64_t raw[16] = { 0 };
    long got = modify_ldt_sys(0, raw, sizeof(raw));
    ck_assert_int_ge(got, 0);

    rc_cpu *cpu = mk(RC_VENDOR_AMD, M_PROT32, 3);
    if (!have_memory(cpu, "lar_lsl_verr_native")) {
        drop(cpu);
        return;
    }
    memcpy(ram(cpu) + LDT_BASE, raw, sizeof(raw));
    cpu->seg[RC_SEG_LDTR] = (rc_segment){ .selector = 0x18, .base = LDT_BASE,
                                          .limit = sizeof(raw) - 1, .type = RC_DT_LDT,
                                          .present = 1 };
    unsigned compared = 0;
    for (unsigned i = 0; i < n + 2; i++) { /* two more: empty entries */
        if (i < n && !(installed & (1u << i)))
            continue;
        for (unsigned rpl = 0; rpl < 4; rpl += 3) {
            uint16_t sel = (uint16_t)((i << 3) | 4 | rpl);
            native_res nr = native_probe(sel);
            cpu->gpr[1] = sel;
            cpu->gpr[0] = 0;
            expect_ok(run(cpu, "0f 02 c1"));
            ck_assert_msg(zf(cpu) == nr.lar_zf, "LDT %u rpl %u: LAR ZF", i, rpl);
            if (nr.lar_zf)
                ck_assert_uint_eq((uint32_t)cpu->gpr[0], nr.lar);
            cpu->gpr[0] = 0;
            expect_ok(run(cpu, "0f 03 c1"));
            ck_assert_msg(zf(cpu) == nr.lsl_zf, "LDT %u rpl %u: LSL ZF", i, rpl);
            if (nr.lsl_zf)
                ck_assert_uint_eq((uint32_t)cpu->gpr[0], nr.lsl);
            expect_ok(run(cpu, "0f 00 e1")); /* verr cx */
            ck_assert_msg(zf(cpu) == nr.verr, "LDT %u rpl %u: VERR", i, rpl);
            expect_ok(run(cpu, "0f 00 e9")); /* verw cx */
            ck_assert_msg(zf(cpu) == nr.verw, "LDT %u rpl %u: VERW", i, rpl);
            compared++;
        }
    }
    printf("lar_lsl_verr_native: %u selectors compared with the host CPU\n", compared);
    drop(cpu);
}
END_TEST

/* ------------------------------------------------------------------ LLDT / LTR */

START_TEST(lldt_ltr_checks)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 0);
    if (!have_memory(cpu, "lldt_ltr_checks")) {
        drop(cpu);
        return;
    }
    put64(cpu, GDT_BASE + 0x08, desc(0x5000, 0x27, RC_DT_LDT, 0, 0, 1, 0, 0, 0));
    put64(cpu, GDT_BASE + 0x10, desc(0x6000, 0x67, RC_DT_TSS_AVAIL, 0, 0, 1, 0, 0, 0));
    put64(cpu, GDT_BASE + 0x18, desc(0x6000, 0x67, RC_DT_TSS_BUSY, 0, 0, 1, 0, 0, 0));
    put64(cpu, GDT_BASE + 0x20, desc(0x6000, 0x67, RC_DT_TSS_AVAIL, 0, 0, 0, 0, 0, 0));
    put64(cpu, GDT_BASE + 0x28, desc(0, 0xfffff, 3, 1, 0, 1, 1, 1, 0));

    /* SDM Vol. 2A LLDT: an LDT descriptor loads; a TSS is #GP(sel); TI = 1
     * is #GP(sel); NULL makes LDTR unusable. */
    cpu->gpr[0] = 0x08;
    expect_ok(run(cpu, "0f 00 d0")); /* lldt ax */
    ck_assert_uint_eq(cpu->seg[RC_SEG_LDTR].base, 0x5000);
    ck_assert_uint_eq(cpu->seg[RC_SEG_LDTR].limit, 0x27);
    cpu->gpr[0] = 0x13;
    expect_exc(run(cpu, "0f 00 d0"), RC_EXC_GP, true, 0x10);
    cpu->gpr[0] = 0x0c;
    expect_exc(run(cpu, "0f 00 d0"), RC_EXC_GP, true, 0x0c);
    cpu->gpr[0] = 0x200; /* beyond the GDT limit 0xFF */
    expect_exc(run(cpu, "0f 00 d0"), RC_EXC_GP, true, 0x200);
    cpu->gpr[0] = 0;
    expect_ok(run(cpu, "0f 00 d0"));
    ck_assert(cpu->seg[RC_SEG_LDTR].unusable);

    /* SDM Vol. 2A LTR: NULL -> #GP(0); busy TSS -> #GP(sel); data -> #GP(sel);
     * not present -> #NP(sel); available TSS loads and becomes busy in memory. */
    cpu->gpr[0] = 0;
    expect_gp0(run(cpu, "0f 00 d8"));
    cpu->gpr[0] = 0x18;
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_GP, true, 0x18);
    cpu->gpr[0] = 0x28;
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_GP, true, 0x28);
    cpu->gpr[0] = 0x20;
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_NP, true, 0x20);
    cpu->gpr[0] = 0x10;
    expect_ok(run(cpu, "0f 00 d8"));
    ck_assert_uint_eq(cpu->seg[RC_SEG_TR].selector, 0x10);
    ck_assert_uint_eq(cpu->seg[RC_SEG_TR].type, RC_DT_TSS_BUSY);
    ck_assert_uint_eq(cpu->seg[RC_SEG_TR].base, 0x6000);
    ck_assert_uint_eq(ram(cpu)[GDT_BASE + 0x10 + 5] & 0xf, RC_DT_TSS_BUSY);
    /* Loading it again: now busy -> #GP(sel). */
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_GP, true, 0x10);
    /* STR returns it. */
    cpu->gpr[1] = ~0ull;
    expect_ok(run(cpu, "0f 00 c9")); /* str ecx */
    ck_assert_uint_eq(cpu->gpr[1], 0x10);
    drop(cpu);

    /* CPL 3: LLDT/LTR #GP(0). */
    cpu = mk(RC_VENDOR_INTEL, M_PROT32, 3);
    cpu->gpr[0] = 0x08;
    expect_gp0(run(cpu, "0f 00 d0"));
    expect_gp0(run(cpu, "0f 00 d8"));
    drop(cpu);
}
END_TEST

/* ------------------------------------------------------------------ SGDT / SIDT / LGDT */

START_TEST(sgdt_sidt_sizes)
{
    /* SDM Vol. 2B SGDT: 16- and 32-bit operand size store limit + full
     * 32-bit base (6 bytes, the byte after untouched); 64-bit mode stores
     * limit + 64-bit base (10 bytes). */
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_PROT32, 0);
    if (!have_memory(cpu, "sgdt_sidt_sizes")) {
        drop(cpu);
        return;
    }
    cpu->gdtr = (rc_dtable){ 0x12345678, 0x01ff };
    cpu->idtr = (rc_dtable){ 0x9abcdef0, 0x0fff };
    for (int osz = 0; osz < 2; osz++) {
        memset(ram(cpu) + DATA_AT, 0xcc, 16);
        cpu->gpr[RC_REG_RBX] = DATA_AT;
        expect_ok(run(cpu, osz ? "0f 01 03" : "66 0f 01 03")); /* sgdt [ebx] */
        const uint8_t want[7] = { 0xff, 0x01, 0x78, 0x56, 0x34, 0x12, 0xcc };
        ck_assert_mem_eq(ram(cpu) + DATA_AT, want, 7);
    }
    expect_ok(run(cpu, "0f 01 0b")); /* sidt [ebx] */
    const uint8_t wanti[7] = { 0xff, 0x0f, 0xf0, 0xde, 0xbc, 0x9a, 0xcc };
    ck_assert_mem_eq(ram(cpu) + DATA_AT, wanti, 7);

    /* LGDT with 16-bit operand size loads 24 bits of base (SDM Vol. 2A LGDT). */
    const uint8_t src[6] = { 0x34, 0x12, 0x11, 0x22, 0x33, 0x44 };
    memcpy(ram(cpu) + DATA_AT + 0x10, src, 6);
    cpu->gpr[RC_REG_RBX] = DATA_AT + 0x10;
    expect_ok(run(cpu, "66 0f 01 13")); /* lgdt [ebx], o16 */
    ck_assert_uint_eq(cpu->gdtr.limit, 0x1234);
    ck_assert_uint_eq(cpu->gdtr.base, 0x332211);
    expect_ok(run(cpu, "0f 01 13"));
    ck_assert_uint_eq(cpu->gdtr.base, 0x44332211);
    drop(cpu);
}
END_TEST

START_TEST(long_mode_tables)
{
    rc_cpu *cpu = mk(RC_VENDOR_INTEL, M_LONG64, 0);
    if (!have_memory(cpu, "long_mode_tables")) {
        drop(cpu);
        return;
    }
    /* SGDT in 64-bit mode: 2 + 8 bytes (SDM Vol. 2B SGDT). */
    cpu->gdtr = (rc_dtable){ 0xffff800012345678ull, 0x00ff };
    memset(ram(cpu) + DATA_AT, 0xcc, 16);
    cpu->gpr[RC_REG_RBX] = DATA_AT;
    expect_ok(run(cpu, "0f 01 03"));
    const uint8_t want[11] = { 0xff, 0x00, 0x78, 0x56, 0x34, 0x12, 0x00, 0x80, 0xff, 0xff, 0xcc };
    ck_assert_mem_eq(ram(cpu) + DATA_AT, want, 11);
    /* LGDT with a non-canonical base in 64-bit mode: #GP(0), GDTR unchanged. */
    const uint8_t bad[10] = { 0xff, 0x00, 0, 0, 0, 0, 0, 0x80, 0, 0 }; /* 0000800000000000 */
    memcpy(ram(cpu) + DATA_AT, bad, 10);
    expect_gp0(run(cpu, "0f 01 13"));
    ck_assert_uint_eq(cpu->gdtr.base, 0xffff800012345678ull);
    cpu->gdtr = (rc_dtable){ GDT_BASE, 0xff };

    /* LTR in IA-32e mode reads a 16-byte TSS descriptor (SDM Vol. 3A 8.2.3):
     * base 63:32 from the upper half; a non-canonical base or a non-zero
     * upper type field -> #GP(sel); a 16-bit TSS type -> #GP(sel). */
    put64(cpu, GDT_BASE + 0x40, desc(0x6000, 0x67, RC_DT_TSS_AVAIL, 0, 0, 1, 0, 0, 0));
    put64(cpu, GDT_BASE + 0x48, 0x0000800000000000ull >> 32); /* base 63:32 = 00008000H */
    cpu->gpr[0] = 0x40;
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_GP, true, 0x40);
    put64(cpu, GDT_BASE + 0x48, 0xffff8000ull | (1ull << 40)); /* upper type 1 */
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_GP, true, 0x40);
    put64(cpu, GDT_BASE + 0x48, 0xffff8000ull);
    expect_ok(run(cpu, "0f 00 d8"));
    ck_assert_uint_eq(cpu->seg[RC_SEG_TR].base, 0xffff800000006000ull);
    ck_assert_uint_eq(cpu->seg[RC_SEG_TR].type, RC_DT_TSS_BUSY);
    put64(cpu, GDT_BASE + 0x50, desc(0x6000, 0x67, RC_DT_TSS16_AVAIL, 0, 0, 1, 0, 0, 0));
    put64(cpu, GDT_BASE + 0x58, 0);
    cpu->gpr[0] = 0x50;
    expect_exc(run(cpu, "0f 00 d8"), RC_EXC_GP, true, 0x50);
    /* LAR in IA-32e mode: a 16-bit TSS is not accepted, a 64-bit TSS is. */
    cpu->gpr[1] = 0x50;
    expect_ok(run(cpu, "0f 02 c1"));
    ck_assert(!zf(cpu));
    cpu->gpr[1] = 0x40;
    cpu->gpr[0] = 0;
    expect_ok(run(cpu, "0f 02 c1"));
    ck_assert(zf(cpu));
    ck_assert_uint_eq(cpu->gpr[0], 0x00008B00); /* busy 64-bit TSS, DPL 0, P */
    drop(cpu);
}
END_TEST

START_TEST(lxs_vendor_offset)
{
    /* REX.W LGS: Intel m16:64 (SDM), AMD m16:32 -- measured on the host:
     * the same bytes natively give RAX = 0000000055667788H. */
    const uint8_t m[10] = { 0x88, 0x77, 0x66, 0x55, 0, 0, 0xaa, 0xaa, 0, 0 };
    uint64_t native = 0xdeadbeefdeadbeefull;
    __asm__ volatile(".byte 0x48, 0x0f, 0xb5, 0x07" : "+a"(native) : "D"(m) : "memory");
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = mk((rc_vendor)v, M_LONG64, 3);
        if (!have_memory(cpu, "lxs_vendor_offset")) {
            drop(cpu);
            return;
        }
        memcpy(ram(cpu) + DATA_AT, m, sizeof(m));
        cpu->gpr[RC_REG_RDI] = DATA_AT;
        cpu->gpr[0] = 0xdeadbeefdeadbeefull;
        expect_ok(run(cpu, "48 0f b5 07"));
        if (v == RC_VENDOR_AMD)
            ck_assert_uint_eq(cpu->gpr[0], native);
        else
            ck_assert_uint_eq(cpu->gpr[0], 0xaaaa000055667788ull);
        ck_assert_uint_eq(cpu->seg[RC_SEG_GS].selector, 0);
        drop(cpu);
    }
}
END_TEST

static Suite *sys_suite(void)
{
    Suite *s = suite_create("sys");
    TCase *t = tcase_create("cpuid");
    tcase_add_test(t, cpuid_vendor_strings);
    tcase_add_test(t, cpuid_signature);
    tcase_add_test(t, cpuid_out_of_range);
    tcase_add_test(t, cpuid_brand_string);
    tcase_add_test(t, cpuid_bits_are_implemented);
    suite_add_tcase(s, t);
    t = tcase_create("simple");
    tcase_add_test(t, hlt_cpl);
    tcase_add_test(t, cli_sti_iopl);
    tcase_add_test(t, rdtsc_tsd);
    tcase_add_test(t, rdmsr_rdpmc_cpl);
    tcase_add_test(t, mov_sreg_forms);
    tcase_add_test(t, arpl_register);
    suite_add_tcase(s, t);
    t = tcase_create("crdr");
    tcase_add_test(t, mov_cr_priority_and_cpl);
    tcase_add_test(t, cr0_rules);
    tcase_add_test(t, cr4_rules);
    tcase_add_test(t, fsgsbase);
    tcase_add_test(t, rdtscp_rdpid);
    tcase_add_test(t, cr3_and_cr8);
    tcase_add_test(t, cr3_flushes_tlb);
    tcase_add_test(t, mov_dr_rules);
    tcase_add_test(t, smsw_lmsw_clts);
    tcase_add_test(t, grp7_register_forms);
    suite_add_tcase(s, t);
    t = tcase_create("descriptors");
    tcase_add_test(t, lar_lsl_hand);
    tcase_add_test(t, lar_lsl_verr_native);
    tcase_add_test(t, lldt_ltr_checks);
    tcase_add_test(t, sgdt_sidt_sizes);
    tcase_add_test(t, long_mode_tables);
    tcase_add_test(t, lxs_vendor_offset);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sys_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * model.c - the vendor models: the quirk table (rc_model) and CPUID.
 *
 * Vendor is data: the few rules where Intel and AMD silicon differ ask
 * cpu->model one named question. docs/quirks.md lists every quirk with its
 * source. CPUID reports exactly what ringcore implements -- a guest must see
 * the truth: a feature bit is 1 only when the instructions, control bits and
 * MSRs it announces are modeled (tests/test_sys.c probes each reported bit).
 *
 * References: SDM Vol. 2A "CPUID" (Tables 3-8 .. 3-20), AMD APM Vol. 3
 * "CPUID" and Appendix E "Obtaining Processor Information Via CPUID".
 */
#include "cpu.h"

/* ------------------------------------------------------------------ quirks */

static const rc_model model_intel = {
    .vendor = RC_VENDOR_INTEL,
    .name = "GenuineIntel",
    /* Loading a NULL selector into DS/ES/FS/GS zeroes the hidden base (and
     * limit): Linux arch/x86/kernel/cpu/common.c detect_null_seg_behavior()
     * ("writing zero to a segment selector on Intel does clear the base"),
     * Xen XSA-191 / XTF test xsa-191. */
    .null_sel_clears_base = true,
    /* SYSRET with a non-canonical RCX raises #GP(0) while still at CPL 0,
     * on the user's RSP: SDM Vol. 2B "SYSRET" (#GP(0) if RCX not canonical),
     * CVE-2012-0217, Xen XSA-7. */
    .sysret_canonical_gp_cpl0 = true,
    /* SYSRET loads SS with fixed flat attributes: SDM Vol. 2B "SYSRET". */
    .sysret_ss_attrs_stale = false,
    /* SYSCALL/SYSRET are valid only in 64-bit mode: SDM Vol. 2B "SYSCALL"
     * (#UD if CS.L = 0 or EFER.LMA = 0). */
    .syscall_legacy = false,
    /* SYSENTER/SYSEXIT are valid in IA-32e mode: SDM Vol. 2B "SYSENTER". */
    .sysenter_long = true,
    /* BSF/BSR with a zero source: SDM Vol. 2A says "undefined"; Intel
     * silicon leaves the destination unchanged (Linux
     * arch/x86/include/asm/bitops.h, comment on ffs(): Intel's CPU
     * architects confirm the destination is written with its old value). */
    .bsf_zero_keeps_dest = true,
    /* A far CALL to a code segment checks everything, then pushes (SDM
     * Vol. 2A CALL: "IF stack not large enough ... #SS(0)" and the
     * instruction-pointer check come before Push(CS), Push(EIP)). */
    .far_call_pushes_first = false,
};

static const rc_model model_amd = {
    .vendor = RC_VENDOR_AMD,
    .name = "AuthenticAMD",
    /* NULL selector loads clear the base on the modeled family 17h model
     * 31h (Zen 2) as on Intel: Linux check_null_seg_clears_base() ("Zen2
     * CPUs also have this behaviour, but no CPUID bit": family 17h is
     * probed with detect_null_seg_behavior()); this host's family 19h
     * clears it too (segments/loads-native.json xsa191-*). Earlier AMD
     * parts keep base and limit (X86_BUG_NULL_SEG, Xen XSA-191): not the
     * modeled CPU; the quirk stays a field for such a model. */
    .null_sel_clears_base = true,
    /* SYSRET does not check RCX: the #GP comes at CPL 3 on the fetch.
     * APM Vol. 3 "SYSRET"; Xen XSA-7 (AMD not affected). */
    .sysret_canonical_gp_cpl0 = false,
    /* SYSRET writes only the SS selector; the hidden attributes stay as
     * they were: Linux commit 61f01dd941ba (X86_BUG_SYSRET_SS_ATTRS),
     * selftest tools/testing/selftests/x86/sysret_ss_attrs.c. */
    .sysret_ss_attrs_stale = true,
    /* SYSCALL/SYSRET work in legacy and compatibility mode: APM Vol. 3
     * "SYSCALL" (legacy: EIP <- STAR[31:0]; compat: RIP <- CSTAR). */
    .syscall_legacy = true,
    /* SYSENTER/SYSEXIT raise #UD in long mode: APM Vol. 3 "SYSENTER". */
    .sysenter_long = false,
    /* APM Vol. 3 "BSF": a zero source leaves the destination unchanged. */
    .bsf_zero_keeps_dest = true,
    /* A far CALL to a code segment pushes CS, then the return IP, each
     * with its own stack check, and only then checks the target IP against
     * the CS limit; a fault leaves the bytes written and rSP as it was.
     * Measured on this host (family 19h) and Bochs 2.7 `ryzen` agrees:
     * segments/far6.json f6-callf-eip-beyond-limit-gp-*, f6-callf-no-room-
     * ss-* (APM Vol. 3 "CALL (Far)" lists the checks, not their order). */
    .far_call_pushes_first = true,
};

const rc_model *rc_model_get(rc_vendor v)
{
    return v == RC_VENDOR_AMD ? &model_amd : &model_intel;
}

/* ------------------------------------------------------------------ CPUID feature bits */

/* Leaf 1 EDX (SDM Vol. 2A Table 3-11; APM Vol. 3 E.3.2). */
#define CPUID_1_EDX_FPU (1u << 0)   /* x87: not modeled (decoder: unsupported) */
#define CPUID_1_EDX_VME (1u << 1)   /* CR4.VME/PVI: not modeled */
#define CPUID_1_EDX_DE (1u << 2)    /* CR4.DE: DR4/DR5 #UD (exec_sys.c MOV DR) */
#define CPUID_1_EDX_PSE (1u << 3)   /* 4-MiB pages with CR4.PSE (paging) */
#define CPUID_1_EDX_TSC (1u << 4)   /* RDTSC, CR4.TSD (exec_sys.c) */
#define CPUID_1_EDX_MSR (1u << 5)   /* RDMSR/WRMSR (exec_sys.c + src/msr) */
#define CPUID_1_EDX_PAE (1u << 6)   /* PAE paging (paging) */
#define CPUID_1_EDX_MCE (1u << 7)   /* machine-check exception: not modeled */
#define CPUID_1_EDX_CX8 (1u << 8)   /* CMPXCHG8B (exec_alu.c grp9) */
#define CPUID_1_EDX_APIC (1u << 9)  /* local APIC: not modeled */
#define CPUID_1_EDX_SEP (1u << 11)  /* SYSENTER/SYSEXIT (src/syscall) */
#define CPUID_1_EDX_MTRR (1u << 12) /* MTRRs: not modeled */
#define CPUID_1_EDX_PGE (1u << 13)  /* global pages, CR4.PGE (paging) */
#define CPUID_1_EDX_MCA (1u << 14)  /* machine-check architecture: not modeled */
#define CPUID_1_EDX_CMOV (1u << 15) /* CMOVcc (exec_alu.c) */
#define CPUID_1_EDX_PAT (1u << 16)  /* IA32_PAT (src/msr; no caches, so no effect) */
#define CPUID_1_EDX_CLFSH (1u << 19)/* CLFLUSH: not decoded as an instruction */
#define CPUID_1_EDX_MMX (1u << 23)
#define CPUID_1_EDX_FXSR (1u << 24)
#define CPUID_1_EDX_SSE (1u << 25)
#define CPUID_1_EDX_SSE2 (1u << 26)

/* Leaf 1 ECX (SDM Vol. 2A Table 3-10). */
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_CX16 (1u << 13)
#define CPUID_1_ECX_PCID (1u << 17)
#define CPUID_1_ECX_POPCNT (1u << 23)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/* Leaf 7 sub-leaf 0 (SDM Vol. 2A Table 3-8, leaf 07H). */
#define CPUID_7_EBX_FSGSBASE (1u << 0)
#define CPUID_7_EBX_SMEP (1u << 7)
#define CPUID_7_EBX_SMAP (1u << 20)
#define CPUID_7_ECX_UMIP (1u << 2)
#define CPUID_7_ECX_PKU (1u << 3)
#define CPUID_7_ECX_RDPID (1u << 22)

/* Leaf 8000_0001h EDX (SDM Table 3-8; APM E.4.2). */
#define CPUID_81_EDX_SYSCALL (1u << 11) /* SYSCALL/SYSRET (src/syscall) */
#define CPUID_81_EDX_NX (1u << 20)      /* EFER.NXE, XD page bit (paging) */
#define CPUID_81_EDX_PAGE1GB (1u << 26) /* 1-GiB pages (paging) */
#define CPUID_81_EDX_RDTSCP (1u << 27)  /* RDTSCP, IA32_TSC_AUX (exec_sys.c) */
#define CPUID_81_EDX_LM (1u << 29)      /* IA-32e / long mode (mode.c) */
/* Leaf 8000_0001h ECX. */
#define CPUID_81_ECX_LAHF (1u << 0)     /* LAHF/SAHF in 64-bit mode (exec_alu.c) */
#define CPUID_81_ECX_SVM (1u << 2)      /* AMD SVM: not modeled */
#define CPUID_81_ECX_ALTMOVCR8 (1u << 4)/* AMD: LOCK MOV CR0 = MOV CR8: the decoder
                                           rejects LOCK on MOV CR, so not reported */

/*
 * What ringcore reports. A bit belongs here only when everything it
 * announces works; tests/test_sys.c "cpuid_bits_are_implemented" probes
 * each one. x87/MMX/SSE are not executed (the decoder reports them as
 * unsupported), so FPU, MMX, FXSR, SSE and SSE2 are 0 even though every
 * real x86-64 CPU has them: a guest that checks CPUID sees the truth.
 */
#define RC_LEAF1_EDX                                                                               \
    (CPUID_1_EDX_DE | CPUID_1_EDX_PSE | CPUID_1_EDX_TSC | CPUID_1_EDX_MSR | CPUID_1_EDX_PAE |     \
     CPUID_1_EDX_CX8 | CPUID_1_EDX_SEP | CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV)
#define RC_LEAF1_ECX 0u
#define RC_LEAF7_EBX CPUID_7_EBX_FSGSBASE /* RD/WR FS/GS BASE (exec_sys.c ex_grp15) */
#define RC_LEAF7_ECX CPUID_7_ECX_RDPID /* RDPID (exec_alu.c ex_grp9) */
#define RC_LEAF81_EDX                                                                              \
    (CPUID_81_EDX_SYSCALL | CPUID_81_EDX_NX | CPUID_81_EDX_PAGE1GB | CPUID_81_EDX_RDTSCP |        \
     CPUID_81_EDX_LM)
#define RC_LEAF81_ECX (CPUID_81_ECX_LAHF)
/* AMD mirrors these leaf-1 EDX bits in 8000_0001h EDX (APM E.4.2). */
#define RC_AMD_MIRRORED_EDX 0x0183F3FFu

/* Leaf 0 / 8000_0000h: the highest leaf of each range. */
#define RC_MAX_BASIC_LEAF 7u
#define RC_MAX_BASIC_LEAF_LIMITED 2u /* IA32_MISC_ENABLE[22] "Limit CPUID Maxval" */
#define RC_MAX_EXT_LEAF 0x80000008u
#define RC_EXT_BASE 0x80000000u
#define RC_MISC_ENABLE_LIMIT_CPUID (1ull << 22) /* SDM Vol. 4 Table 2-2, IA32_MISC_ENABLE */

/* Address sizes (leaf 8000_0008h EAX[7:0] physical, [15:8] linear):
 * Skylake-SP reports 46 physical bits, EPYC 7002 48; both 48 linear. */
#define RC_INTEL_PHYS_BITS 46u
#define RC_AMD_PHYS_BITS 48u
#define RC_LINEAR_BITS 48u

/* Leaf 1 EAX: stepping [3:0], model [7:4], family [11:8], extended model
 * [19:16], extended family [27:20] (SDM Figure 3-6). */
#define CPUID_SIGNATURE(fam, ext_fam, model, ext_model, stepping)                                  \
    (((uint32_t)(ext_fam) << 20) | ((uint32_t)(ext_model) << 16) | ((uint32_t)(fam) << 8) |       \
     ((uint32_t)(model) << 4) | (uint32_t)(stepping))
/* Intel family 6 model 0x55 stepping 4 (Skylake-SP): display family 6,
 * display model (5 << 4) | 5. */
#define RC_INTEL_SIGNATURE CPUID_SIGNATURE(6, 0, 5, 5, 4)
/* AMD family 17h model 31h stepping 0 (EPYC 7002 "Rome"): base family 0xF
 * + extended family 8 = 0x17; model (3 << 4) | 1. */
#define RC_AMD_SIGNATURE CPUID_SIGNATURE(0xF, 8, 1, 3, 0)

/* Vendor strings in EBX, EDX, ECX order (SDM "CPUID" leaf 0). */
static const char intel_vendor[12] = { 'G', 'e', 'n', 'u', 'i', 'n', 'e', 'I', 'n', 't', 'e', 'l' };
static const char amd_vendor[12] = { 'A', 'u', 't', 'h', 'e', 'n', 't', 'i', 'c', 'A', 'M', 'D' };

/* Brand strings, 48 bytes with NUL padding (leaves 8000_0002h..4h). */
static const char intel_brand[48] = "ringcore model of Intel Xeon (fam 6 model 55h)";
static const char amd_brand[48] = "ringcore model of AMD EPYC (fam 17h model 31h)";

static uint32_t le32(const char *p)
{
    return (uint32_t)(uint8_t)p[0] | (uint32_t)(uint8_t)p[1] << 8 | (uint32_t)(uint8_t)p[2] << 16 |
           (uint32_t)(uint8_t)p[3] << 24;
}

static void set4(uint32_t out[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    out[0] = a, out[1] = b, out[2] = c, out[3] = d;
}

/* The highest basic leaf: IA32_MISC_ENABLE[22] limits it to 2 on Intel. */
static uint32_t max_basic_leaf(const rc_cpu *cpu, bool intel)
{
    if (intel && (cpu->msr.misc_enable & RC_MISC_ENABLE_LIMIT_CPUID))
        return RC_MAX_BASIC_LEAF_LIMITED;
    return RC_MAX_BASIC_LEAF;
}

/* Leaves that exist; returns false for an out-of-range or undefined leaf. */
static bool cpuid_defined(const rc_cpu *cpu, bool intel, uint32_t leaf, uint32_t subleaf,
                          uint32_t out[4])
{
    const char *vendor = intel ? intel_vendor : amd_vendor;
    uint32_t sig = intel ? RC_INTEL_SIGNATURE : RC_AMD_SIGNATURE;
    uint32_t maxb = max_basic_leaf(cpu, intel);

    set4(out, 0, 0, 0, 0);
    if (leaf < RC_EXT_BASE && leaf > maxb)
        return false;
    if (leaf >= RC_EXT_BASE && leaf > RC_MAX_EXT_LEAF)
        return false;

    switch (leaf) {
    case 0:
        set4(out, maxb, le32(vendor), le32(vendor + 8), le32(vendor + 4));
        return true;
    case 1:
        /* EBX: brand index 0, CLFLUSH size 0 (no CLFSH), no HTT, APIC ID 0. */
        set4(out, sig, 0, RC_LEAF1_ECX, RC_LEAF1_EDX);
        return true;
    case 2:
        /* Intel: AL = 01h, every other descriptor byte 00h ("null"): no
         * cache/TLB information (SDM Table 3-12). AMD: reserved, zeros. */
        if (intel)
            out[0] = 1;
        return true;
    case 3: case 4: case 5: case 6:
        /* Serial number (off), deterministic cache parameters (sub-leaf 0
         * type 0 = no more caches), MONITOR, power: nothing to report. */
        return true;
    case 7:
        /* Sub-leaf 0: EAX = highest sub-leaf (0). Other sub-leaves: zeros. */
        if (subleaf == 0)
            set4(out, 0, RC_LEAF7_EBX, RC_LEAF7_ECX, 0);
        return true;
    case RC_EXT_BASE:
        /* AMD repeats the vendor string here; Intel reserves EBX..EDX. */
        if (intel)
            set4(out, RC_MAX_EXT_LEAF, 0, 0, 0);
        else
            set4(out, RC_MAX_EXT_LEAF, le32(vendor), le32(vendor + 8), le32(vendor + 4));
        return true;
    case RC_EXT_BASE + 1:
        if (intel)
            /* SDM Table 3-8: EAX reserved; EDX[11] "SYSCALL/SYSRET available
             * in 64-bit mode": Intel reports it only when CPUID itself runs
             * in 64-bit mode, where the instructions exist. */
            set4(out, 0, 0, RC_LEAF81_ECX,
                 cpu->mode == RC_MODE_LONG64 ? RC_LEAF81_EDX
                                             : (RC_LEAF81_EDX & ~CPUID_81_EDX_SYSCALL));
        else
            /* APM E.4.2: EAX repeats the signature; EDX mirrors leaf 1. */
            set4(out, sig, 0, RC_LEAF81_ECX,
                 RC_LEAF81_EDX | (RC_LEAF1_EDX & RC_AMD_MIRRORED_EDX));
        return true;
    case RC_EXT_BASE + 2: case RC_EXT_BASE + 3: case RC_EXT_BASE + 4: {
        const char *b = (intel ? intel_brand : amd_brand) + 16 * (leaf - (RC_EXT_BASE + 2));
        set4(out, le32(b), le32(b + 4), le32(b + 8), le32(b + 12));
        return true;
    }
    case RC_EXT_BASE + 5: case RC_EXT_BASE + 6: case RC_EXT_BASE + 7:
        /* Cache/TLB descriptors and power management (no invariant TSC is
         * claimed): zeros. */
        return true;
    case RC_EXT_BASE + 8:
        out[0] = (RC_LINEAR_BITS << 8) | (intel ? RC_INTEL_PHYS_BITS : RC_AMD_PHYS_BITS);
        return true;
    default:
        return false;
    }
}

void rc_model_cpuid(const struct rc_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    bool intel = !cpu->model || cpu->model->vendor != RC_VENDOR_AMD;
    if (cpuid_defined(cpu, intel, leaf, subleaf, out))
        return;
    /*
     * An undefined leaf. Intel: "If a value entered for CPUID.EAX is higher
     * than the maximum input value for basic or extended function for that
     * processor then the data for the highest basic information leaf is
     * returned" (SDM Vol. 2A "CPUID", note under Table 3-8), with the
     * sub-leaf as given (Linux arch/x86/kvm/cpuid.c
     * get_out_of_range_cpuid_entry). AMD: all zeros for any undefined leaf
     * (APM Vol. 3 E.1; the same KVM function).
     */
    if (intel)
        cpuid_defined(cpu, intel, max_basic_leaf(cpu, intel), subleaf, out);
    else
        set4(out, 0, 0, 0, 0);
}

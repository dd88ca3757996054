/*
 * msr.c - the MSR file: one table per vendor model.
 *
 * Each entry names an MSR the vendor's silicon has, the CPUID feature it
 * depends on, the bits a guest may not set (#GP(0)), whether the value must
 * be a canonical address, and the accessors into the CPU state. The guest's
 * RDMSR/WRMSR rules are applied generically by rc_msr_read/rc_msr_write from
 * these facts; the embedder's view (rc_get_msr/rc_set_msr) skips them.
 *
 * Sources: SDM Vol. 4 Table 2-2 "IA-32 Architectural MSRs"; SDM Vol. 2B
 * "RDMSR"/"WRMSR" (#GP(0) for an unimplemented MSR, a reserved bit, or a
 * non-canonical address written to IA32_FS_BASE, IA32_GS_BASE,
 * IA32_KERNEL_GS_BASE, IA32_LSTAR, IA32_SYSENTER_EIP, IA32_SYSENTER_ESP);
 * APM Vol. 2 Appendix A "MSR Cross-Reference", APM Vol. 3 "WRMSR", APM
 * Vol. 2 6.1.1 (LSTAR/CSTAR must be canonical). docs/api.md "MSR table".
 */
#include "api.h"
#include "msr/msr.h"

/* ------------------------------------------------------------------ CPUID features */

enum { CPUID_EAX = 0, CPUID_EBX = 1, CPUID_ECX = 2, CPUID_EDX = 3 };

#define NO_FEATURE { 0, 0, 0 }
#define FEAT_TSC { 0x00000001u, CPUID_EDX, 4 }      /* CPUID.01H:EDX.TSC */
#define FEAT_APIC { 0x00000001u, CPUID_EDX, 9 }     /* CPUID.01H:EDX.APIC */
#define FEAT_SEP { 0x00000001u, CPUID_EDX, 11 }     /* CPUID.01H:EDX.SEP */
#define FEAT_PAT { 0x00000001u, CPUID_EDX, 16 }     /* CPUID.01H:EDX.PAT */
#define FEAT_SYSCALL { 0x80000001u, CPUID_EDX, 11 } /* CPUID.80000001H:EDX.SYSCALL */
#define FEAT_NX { 0x80000001u, CPUID_EDX, 20 }      /* CPUID.80000001H:EDX.NX */
#define FEAT_RDTSCP { 0x80000001u, CPUID_EDX, 27 }  /* CPUID.80000001H:EDX.RDTSCP */
#define FEAT_LM { 0x80000001u, CPUID_EDX, 29 }      /* CPUID.80000001H:EDX.LM */

static bool has_feature(const rc_cpu *cpu, rc_msr_feature f)
{
    uint32_t r[4] = { 0, 0, 0, 0 };
    if (f.leaf == 0)
        return true;
    rc_model_cpuid(cpu, f.leaf, 0, r);
    return (r[f.reg] >> f.bit) & 1;
}

/* MAXPHYADDR: CPUID.80000008H:EAX[7:0], 36 when the leaf is absent (SDM
 * Vol. 3A 4.1.4). */
static unsigned max_phys_addr(const rc_cpu *cpu)
{
    uint32_t r[4] = { 0, 0, 0, 0 };
    rc_model_cpuid(cpu, 0x80000000u, 0, r);
    if (r[CPUID_EAX] < 0x80000008u)
        return 36;
    rc_model_cpuid(cpu, 0x80000008u, 0, r);
    unsigned n = r[CPUID_EAX] & 0xff;
    return n >= 32 && n <= 52 ? n : 36;
}

#define LOW32 0xFFFFFFFFull
#define HIGH32 0xFFFFFFFF00000000ull

/* ------------------------------------------------------------------ accessors */

#define FIELD_ACCESSORS(fname)                                                                     \
    static uint64_t get_##fname(const rc_cpu *cpu) { return cpu->msr.fname; }                      \
    static void set_##fname(rc_cpu *cpu, uint64_t v) { cpu->msr.fname = v; }

FIELD_ACCESSORS(star)
FIELD_ACCESSORS(lstar)
FIELD_ACCESSORS(cstar)
FIELD_ACCESSORS(sfmask)
FIELD_ACCESSORS(sysenter_cs)
FIELD_ACCESSORS(sysenter_esp)
FIELD_ACCESSORS(sysenter_eip)
FIELD_ACCESSORS(kernel_gs_base)
FIELD_ACCESSORS(tsc_aux)
FIELD_ACCESSORS(pat)
FIELD_ACCESSORS(apic_base)

/* The TSC counts retired instructions: TSC = icount_total + tsc_offset.
 * Writing it sets the offset (SDM Vol. 3B 18.17 "Time-Stamp Counter"). */
static uint64_t get_tsc(const rc_cpu *cpu) { return cpu->icount_total + cpu->msr.tsc_offset; }
static void set_tsc(rc_cpu *cpu, uint64_t v) { cpu->msr.tsc_offset = v - cpu->icount_total; }

/* FS.base and GS.base are the segment caches themselves (SDM Vol. 3A 3.4.4). */
static uint64_t get_fs_base(const rc_cpu *cpu) { return cpu->seg[RC_SEG_FS].base; }
static void set_fs_base(rc_cpu *cpu, uint64_t v) { cpu->seg[RC_SEG_FS].base = v; }
static uint64_t get_gs_base(const rc_cpu *cpu) { return cpu->seg[RC_SEG_GS].base; }
static void set_gs_base(rc_cpu *cpu, uint64_t v) { cpu->seg[RC_SEG_GS].base = v; }

/* ---- IA32_MISC_ENABLE (Intel only), SDM Vol. 4 Table 2-2 */
#define MISC_FAST_STRINGS (1ull << 0)
#define MISC_BTS_UNAVAIL (1ull << 11)   /* read-only */
#define MISC_PEBS_UNAVAIL (1ull << 12)  /* read-only */
#define MISC_LIMIT_CPUID (1ull << 22)
#define MISC_XD_DISABLE (1ull << 34)
#define MISC_READONLY (MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL)
#define MISC_RESERVED                                                                              \
    (~(MISC_FAST_STRINGS | MISC_READONLY | MISC_LIMIT_CPUID | MISC_XD_DISABLE))

static uint64_t get_misc_enable(const rc_cpu *cpu) { return cpu->msr.misc_enable; }
/* Read-only bits keep their value: BTS and PEBS are unavailable. */
static void set_misc_enable(rc_cpu *cpu, uint64_t v)
{
    cpu->msr.misc_enable = (v & ~MISC_READONLY) | MISC_READONLY;
}
/* Limit-CPUID-maxval and XD-disable change what CPUID reports and whether
 * NX exists; ringcore's CPUID model does not follow them. */
static rc_fault check_misc_enable(rc_cpu *cpu, uint64_t v)
{
    if (v & MISC_LIMIT_CPUID)
        return rc_unsupported(cpu, "IA32_MISC_ENABLE.LIMIT_CPUID_MAXVAL (bit 22) = 1");
    if (v & MISC_XD_DISABLE)
        return rc_unsupported(cpu, "IA32_MISC_ENABLE.XD_DISABLE (bit 34) = 1");
    return RC_NOFAULT;
}

/* ---- IA32_PAT. SDM Vol. 3A 13.12.2 Table 13-10: memory types 0 (UC), 1 (WC),
 * 4 (WT), 5 (WP), 6 (WB), 7 (UC-); 2, 3 and 8-FFH are reserved. SDM Vol. 2B
 * WRMSR: writing a reserved encoding to IA32_PAT is #GP(0). */
static bool pat_type_valid(uint8_t t)
{
    return t <= 1 || (t >= 4 && t <= 7);
}
static rc_fault check_pat(rc_cpu *cpu, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        FAULT_IF(cpu, !pat_type_valid((uint8_t)(v >> (8 * i))), RC_EXC_GP, 0,
                 "WRMSR IA32_PAT: an entry holds a reserved memory type (SDM Vol. 3A 13.12.2)");
    return RC_NOFAULT;
}

/* ---- IA32_APIC_BASE. SDM Vol. 3A 12.4.4 Figure 12-5: bits 7:0, 9, 10 (x2APIC
 * enable, not modeled) and MAXPHYADDR..63 are reserved. No local APIC is
 * modeled: the value is only stored. */
#define APIC_BASE_RESERVED_LOW 0x6FFull
static rc_fault check_apic_base(rc_cpu *cpu, uint64_t v)
{
    uint64_t reserved = APIC_BASE_RESERVED_LOW | ~((1ull << max_phys_addr(cpu)) - 1);
    FAULT_IF(cpu, v & reserved, RC_EXC_GP, 0,
             "WRMSR IA32_APIC_BASE: a reserved bit is set (SDM Vol. 3A 12.4.4)");
    return RC_NOFAULT;
}

/* ---- IA32_EFER. SDM Vol. 4 Table 2-2 / APM Vol. 2 3.1.7: SCE (0), LME (8),
 * LMA (10, read-only), NXE (11); everything else is reserved or not modeled. */
#define EFER_MODELED RC_EFER_MODELED

/* EFER bits other AMD features define, which ringcore does not model: a
 * guest whose model advertises the feature gets "unsupported", otherwise
 * the bit is reserved (#GP(0)). APM Vol. 2 3.1.7 Figure 3-8. */
static const struct {
    uint8_t bit;
    rc_msr_feature feature;
    const char *what;
} efer_unmodeled[] = {
    { 12, { 0x80000001u, CPUID_ECX, 2 }, "EFER.SVME (secure virtual machine enable)" },
    { 14, { 0x80000001u, CPUID_EDX, 25 }, "EFER.FFXSR (fast FXSAVE/FXRSTOR)" },
    { 15, { 0x80000001u, CPUID_ECX, 17 }, "EFER.TCE (translation cache extension)" },
};

static uint64_t get_efer(const rc_cpu *cpu) { return cpu->efer; }

/* LMA is not written: rc_update_mode derives it from LME and CR0.PG (SDM
 * Vol. 3A 9.8.5). A change of NXE changes what cached translations permit. */
static void set_efer(rc_cpu *cpu, uint64_t v)
{
    uint64_t old = cpu->efer;
    cpu->efer = (v & EFER_MODELED & ~RC_EFER_LMA) | (old & RC_EFER_LMA);
    rc_update_mode(cpu);
    if ((old ^ cpu->efer) & RC_EFER_NXE)
        rc_tlb_flush_all(cpu, false);
}

static rc_fault check_efer(rc_cpu *cpu, uint64_t v)
{
    for (unsigned i = 0; i < sizeof(efer_unmodeled) / sizeof(efer_unmodeled[0]); i++)
        if (((v >> efer_unmodeled[i].bit) & 1) && has_feature(cpu, efer_unmodeled[i].feature))
            return rc_unsupported(cpu, efer_unmodeled[i].what);
    /* Reserved bits (and NXE/LME without their CPUID feature): #GP(0). SDM
     * Vol. 2B WRMSR; KVM and Bochs tie NXE to CPUID NX and LME to LM. */
    uint64_t allowed = EFER_MODELED;
    if (!has_feature(cpu, (rc_msr_feature)FEAT_NX))
        allowed &= ~RC_EFER_NXE;
    if (!has_feature(cpu, (rc_msr_feature)FEAT_LM))
        allowed &= ~(RC_EFER_LME | RC_EFER_LMA);
    FAULT_IF(cpu, v & ~allowed, RC_EXC_GP, 0,
             "WRMSR IA32_EFER: a reserved bit is set (SDM Vol. 4 Table 2-2, APM Vol. 2 3.1.7)");
    /* SDM Vol. 3A 9.8.5: "IA32_EFER.LME cannot be modified while paging is
     * enabled (CR0.PG = 1). Attempts to do so using WRMSR cause a #GP(0)."
     * APM Vol. 2 14.6.1 says the same for AMD. */
    FAULT_IF(cpu, (cpu->cr0 & RC_CR0_PG) && ((v ^ cpu->efer) & RC_EFER_LME), RC_EXC_GP, 0,
             "WRMSR IA32_EFER: LME changed while CR0.PG = 1 (SDM Vol. 3A 9.8.5)");
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ the tables */

#define MSR_RW(idx, nm, fl, rsv, feat, acc, doc_)                                                  \
    { idx, nm, fl, rsv, feat, get_##acc, NULL, set_##acc, 0, doc_ }
#define MSR_CHECKED(idx, nm, fl, rsv, feat, acc, chk, unm, doc_)                                   \
    { idx, nm, fl, rsv, feat, get_##acc, chk, set_##acc, unm, doc_ }

static const rc_msr_def intel_msrs[] = {
    MSR_RW(RC_MSR_TSC, "IA32_TIME_STAMP_COUNTER", 0, 0, FEAT_TSC, tsc,
           "instructions retired + offset; a write sets the offset"),
    MSR_CHECKED(RC_MSR_APIC_BASE, "IA32_APIC_BASE", 0, 0, FEAT_APIC, apic_base, check_apic_base,
                0, "stored only (no local APIC is modeled); bits 7:0, 9, 10, 63:MAXPHYADDR "
                   "reserved"),
    MSR_RW(RC_MSR_SYSENTER_CS, "IA32_SYSENTER_CS", 0, 0, FEAT_SEP, sysenter_cs,
           "bits 15:0 used; 63:16 read and written (SDM: not used)"),
    MSR_RW(RC_MSR_SYSENTER_ESP, "IA32_SYSENTER_ESP", RC_MSRF_CANONICAL, 0, FEAT_SEP,
           sysenter_esp, "must be canonical (SDM Vol. 2B WRMSR)"),
    MSR_RW(RC_MSR_SYSENTER_EIP, "IA32_SYSENTER_EIP", RC_MSRF_CANONICAL, 0, FEAT_SEP,
           sysenter_eip, "must be canonical (SDM Vol. 2B WRMSR)"),
    MSR_CHECKED(RC_MSR_MISC_ENABLE, "IA32_MISC_ENABLE", 0, MISC_RESERVED, NO_FEATURE,
                misc_enable, check_misc_enable, 0,
                "bit 0 fast strings (R/W), 11/12 read-only 1, 22/34 unsupported, others "
                "reserved"),
    MSR_CHECKED(RC_MSR_PAT, "IA32_PAT", 0, 0, FEAT_PAT, pat, check_pat, 0,
                "each byte a valid memory type 0,1,4,5,6,7"),
    MSR_CHECKED(RC_MSR_EFER, "IA32_EFER", 0, 0, FEAT_LM, efer, check_efer, ~EFER_MODELED,
                "SCE, LME (not while CR0.PG=1), LMA (read-only), NXE (needs CPUID NX)"),
    MSR_RW(RC_MSR_STAR, "IA32_STAR", 0, 0, FEAT_LM, star,
           "SYSCALL/SYSRET selectors (63:48, 47:32) and legacy EIP (31:0)"),
    MSR_RW(RC_MSR_LSTAR, "IA32_LSTAR", RC_MSRF_CANONICAL, 0, FEAT_LM, lstar,
           "64-bit SYSCALL target; must be canonical"),
    MSR_RW(RC_MSR_CSTAR, "IA32_CSTAR", 0, 0, FEAT_LM, cstar,
           "exists but unused on Intel (compat SYSCALL is #UD); not in WRMSR's canonical list"),
    MSR_RW(RC_MSR_SFMASK, "IA32_FMASK", 0, HIGH32, FEAT_LM, sfmask,
           "SYSCALL RFLAGS mask; bits 63:32 reserved"),
    MSR_RW(RC_MSR_FS_BASE, "IA32_FS_BASE", RC_MSRF_CANONICAL, 0, FEAT_LM, fs_base,
           "FS.base; must be canonical"),
    MSR_RW(RC_MSR_GS_BASE, "IA32_GS_BASE", RC_MSRF_CANONICAL, 0, FEAT_LM, gs_base,
           "GS.base; must be canonical"),
    MSR_RW(RC_MSR_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE", RC_MSRF_CANONICAL, 0, FEAT_LM,
           kernel_gs_base, "SWAPGS value; must be canonical"),
    MSR_RW(RC_MSR_TSC_AUX, "IA32_TSC_AUX", 0, HIGH32, FEAT_RDTSCP, tsc_aux,
           "RDTSCP/RDPID value; bits 63:32 reserved"),
};

static const rc_msr_def amd_msrs[] = {
    MSR_RW(RC_MSR_TSC, "TSC", 0, 0, FEAT_TSC, tsc,
           "instructions retired + offset; a write sets the offset"),
    MSR_CHECKED(RC_MSR_APIC_BASE, "APIC_BASE", 0, 0, FEAT_APIC, apic_base, check_apic_base, 0,
                "stored only (no local APIC is modeled); bits 7:0, 9, 10, 63:MAXPHYADDR "
                "reserved"),
    /* AMD keeps only the low 32 bits of SYSENTER_ESP/EIP: the upper half of a
     * write is ignored and reads as 0, no canonical check (APM Vol. 2 6.1.2
     * "SYSENTER and SYSEXIT (legacy mode only)"; KVM commit 854e8bb1). */
    MSR_RW(RC_MSR_SYSENTER_CS, "SYSENTER_CS", 0, 0, FEAT_SEP, sysenter_cs,
           "bits 15:0 used; 63:16 read and written"),
    MSR_RW(RC_MSR_SYSENTER_ESP, "SYSENTER_ESP", RC_MSRF_TRUNC32, 0, FEAT_SEP, sysenter_esp,
           "32 bits: upper half ignored, reads as 0"),
    MSR_RW(RC_MSR_SYSENTER_EIP, "SYSENTER_EIP", RC_MSRF_TRUNC32, 0, FEAT_SEP, sysenter_eip,
           "32 bits: upper half ignored, reads as 0"),
    MSR_CHECKED(RC_MSR_PAT, "PAT", 0, 0, FEAT_PAT, pat, check_pat, 0,
                "each byte a valid memory type 0,1,4,5,6,7"),
    MSR_CHECKED(RC_MSR_EFER, "EFER", 0, 0, FEAT_LM, efer, check_efer, ~EFER_MODELED,
                "SCE, LME (not while CR0.PG=1), LMA (read-only), NXE; SVME/FFXSR/TCE "
                "unsupported"),
    MSR_RW(RC_MSR_STAR, "STAR", 0, 0, FEAT_SYSCALL, star,
           "SYSCALL/SYSRET selectors (63:48, 47:32) and legacy EIP (31:0)"),
    /* APM Vol. 2 6.1.1: "If an RIP written by WRMSR is not in canonical form,
     * a #GP occurs" -- for LSTAR and CSTAR. */
    MSR_RW(RC_MSR_LSTAR, "LSTAR", RC_MSRF_CANONICAL, 0, FEAT_LM, lstar,
           "64-bit SYSCALL target; must be canonical"),
    MSR_RW(RC_MSR_CSTAR, "CSTAR", RC_MSRF_CANONICAL, 0, FEAT_LM, cstar,
           "compatibility-mode SYSCALL target; must be canonical"),
    MSR_RW(RC_MSR_SFMASK, "SFMASK", 0, HIGH32, FEAT_SYSCALL, sfmask,
           "SYSCALL RFLAGS mask; bits 63:32 reserved"),
    MSR_RW(RC_MSR_FS_BASE, "FS_BASE", RC_MSRF_CANONICAL, 0, FEAT_LM, fs_base,
           "FS.base; must be canonical"),
    MSR_RW(RC_MSR_GS_BASE, "GS_BASE", RC_MSRF_CANONICAL, 0, FEAT_LM, gs_base,
           "GS.base; must be canonical"),
    MSR_RW(RC_MSR_KERNEL_GS_BASE, "KERNEL_GS_BASE", RC_MSRF_CANONICAL, 0, FEAT_LM,
           kernel_gs_base, "SWAPGS value; must be canonical"),
    /* AMD ignores bits 63:32 of TSC_AUX (they read as 0); Intel reserves them.
     * APM Vol. 3 "RDTSCP"; KVM's MSR_TSC_AUX handling documents the difference. */
    MSR_RW(RC_MSR_TSC_AUX, "TSC_AUX", RC_MSRF_TRUNC32, 0, FEAT_RDTSCP, tsc_aux,
           "RDTSCP/RDPID value; 32 bits, upper half ignored"),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const rc_msr_def *rc_msr_table(rc_vendor vendor, unsigned *count)
{
    if (vendor == RC_VENDOR_AMD) {
        *count = COUNT(amd_msrs);
        return amd_msrs;
    }
    *count = COUNT(intel_msrs);
    return intel_msrs;
}

const rc_msr_def *rc_msr_lookup(rc_vendor vendor, uint32_t index)
{
    unsigned n;
    const rc_msr_def *t = rc_msr_table(vendor, &n);
    for (unsigned i = 0; i < n; i++)
        if (t[i].index == index)
            return &t[i];
    return NULL;
}

/* SDM Vol. 4 Table 2-2 "Comment" column: an architectural MSR exists when
 * the CPUID feature it names is reported. */
const rc_msr_def *rc_msr_find(const rc_cpu *cpu, uint32_t index)
{
    const rc_msr_def *d = rc_msr_lookup(cpu->model->vendor, index);
    return d && has_feature(cpu, d->needs) ? d : NULL;
}

/* ------------------------------------------------------------------ guest view */

/* SDM Vol. 2B RDMSR: "#GP(0) if the value in ECX specifies a reserved or
 * unimplemented MSR address"; APM Vol. 3 RDMSR likewise. (CPL > 0 is
 * checked by the decode table: RDMSR is RC_OPF_PRIV.) */
rc_fault rc_msr_read(rc_cpu *cpu, uint32_t index, uint64_t *val)
{
    const rc_msr_def *d = rc_msr_find(cpu, index);
    FAULT_IF(cpu, !d, RC_EXC_GP, 0,
             "RDMSR of an MSR this vendor model does not implement (SDM Vol. 2B RDMSR)");
    *val = d->get(cpu);
    return RC_NOFAULT;
}

/* SDM Vol. 2B WRMSR / APM Vol. 3 WRMSR: #GP(0) for an unimplemented MSR, a
 * reserved bit set, or a non-canonical address in an address MSR. All
 * checks come before the write (nothing changes on a fault). */
rc_fault rc_msr_write(rc_cpu *cpu, uint32_t index, uint64_t val)
{
    const rc_msr_def *d = rc_msr_find(cpu, index);
    FAULT_IF(cpu, !d, RC_EXC_GP, 0,
             "WRMSR to an MSR this vendor model does not implement (SDM Vol. 2B WRMSR)");
    FAULT_IF(cpu, d->flags & RC_MSRF_READONLY, RC_EXC_GP, 0, "WRMSR to a read-only MSR");
    if (d->flags & RC_MSRF_TRUNC32)
        val &= LOW32;
    FAULT_IF(cpu, val & d->reserved, RC_EXC_GP, 0,
             "WRMSR sets a reserved bit of the MSR (SDM Vol. 2B WRMSR)");
    FAULT_IF(cpu, (d->flags & RC_MSRF_CANONICAL) && !rc_is_canonical(val), RC_EXC_GP, 0,
             "WRMSR of a non-canonical address to an address MSR (SDM Vol. 2B WRMSR, APM "
             "Vol. 2 6.1.1)");
    if (d->check)
        TRY(d->check(cpu, val));
    d->set(cpu, val);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ embedder view */

static int extra_slot(const rc_cpu *cpu, uint32_t index)
{
    for (uint32_t i = 0; i < cpu->msr.extra_count && i < RC_MAX_EXTRA_MSRS; i++)
        if (cpu->msr.extra_index[i] == index)
            return (int)i;
    return -1;
}

/* The embedder sees every MSR of the vendor table, whatever CPUID reports
 * (the guest sees only those whose feature is reported). */
rc_status rc_msr_get_api(const rc_cpu *cpu, uint32_t index, uint64_t *value)
{
    const rc_msr_def *d = rc_msr_lookup(cpu->model->vendor, index);
    if (d) {
        *value = d->get(cpu);
        return RC_OK;
    }
    if (cpu->msr_policy != RC_MSR_POLICY_STORE)
        return RC_ERR_UNKNOWN_MSR;
    int s = extra_slot(cpu, index);
    *value = s >= 0 ? cpu->msr.extra_value[s] : 0; /* never written: 0 */
    return RC_OK;
}

rc_status rc_msr_set_api(rc_cpu *cpu, uint32_t index, uint64_t value)
{
    const rc_msr_def *d = rc_msr_lookup(cpu->model->vendor, index);
    if (d) {
        if ((d->flags & RC_MSRF_READONLY) || (value & d->unmodeled))
            return RC_ERR_BAD_VALUE;
        if (d->flags & RC_MSRF_TRUNC32)
            value &= LOW32; /* the register has 32 bits: not a check, its width */
        d->set(cpu, value);
        return RC_OK;
    }
    if (cpu->msr_policy != RC_MSR_POLICY_STORE)
        return RC_ERR_UNKNOWN_MSR;
    int s = extra_slot(cpu, index);
    if (s < 0) {
        if (cpu->msr.extra_count >= RC_MAX_EXTRA_MSRS)
            return RC_ERR_NO_MEMORY;
        s = (int)cpu->msr.extra_count++;
        cpu->msr.extra_index[s] = index;
    }
    cpu->msr.extra_value[s] = value;
    return RC_OK;
}

/* Power-up values: SDM Vol. 3A 10.1.1 Table 10-1 and Vol. 4 Table 2-2;
 * IA32_PAT = 0007040600070406H (SDM Vol. 3A 13.12.4); APIC base FEE00000H
 * with the BSP and global-enable flags (SDM Vol. 3A 12.4.4); MISC_ENABLE:
 * fast strings on, BTS and PEBS unavailable. TSC = 0. */
void rc_msr_reset(rc_cpu *cpu)
{
    rc_msr_state *m = &cpu->msr;
    m->star = m->lstar = m->cstar = m->sfmask = 0;
    m->sysenter_cs = m->sysenter_esp = m->sysenter_eip = 0;
    m->fs_base_unused = 0;
    m->kernel_gs_base = 0;
    m->tsc_aux = 0;
    m->pat = RC_PAT_RESET;
    m->apic_base = RC_APIC_BASE_DEFAULT | RC_APIC_BASE_BSP | RC_APIC_BASE_EN;
    m->misc_enable =
        cpu->model->vendor == RC_VENDOR_INTEL ? MISC_FAST_STRINGS | MISC_READONLY : 0;
    m->tsc_offset = 0 - cpu->icount_total;
}

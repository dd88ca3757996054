/*
 * msr.h - the MSR file (src/msr/msr.c): which MSRs each vendor model has,
 * their reserved bits and write rules, and the embedder's view of them.
 *
 * The guest's view (RDMSR/WRMSR) is rc_msr_read / rc_msr_write in cpu.h.
 * docs/api.md "MSR table" documents every entry.
 */
#ifndef RC_MSR_H
#define RC_MSR_H

#include "cpu.h"

/* Architectural MSR indices (SDM Vol. 4 Table 2-2, APM Vol. 2 Appendix A). */
#define RC_MSR_TSC 0x00000010u
#define RC_MSR_APIC_BASE 0x0000001Bu
#define RC_MSR_SYSENTER_CS 0x00000174u
#define RC_MSR_SYSENTER_ESP 0x00000175u
#define RC_MSR_SYSENTER_EIP 0x00000176u
#define RC_MSR_MISC_ENABLE 0x000001A0u
#define RC_MSR_PAT 0x00000277u
#define RC_MSR_EFER 0xC0000080u
#define RC_MSR_STAR 0xC0000081u
#define RC_MSR_LSTAR 0xC0000082u
#define RC_MSR_CSTAR 0xC0000083u
#define RC_MSR_SFMASK 0xC0000084u
#define RC_MSR_FS_BASE 0xC0000100u
#define RC_MSR_GS_BASE 0xC0000101u
#define RC_MSR_KERNEL_GS_BASE 0xC0000102u
#define RC_MSR_TSC_AUX 0xC0000103u

/* Power-up values (SDM Vol. 3A 10.1.1 / 13.12.4, Vol. 4 Table 2-2). */
#define RC_PAT_RESET 0x0007040600070406ull
#define RC_APIC_BASE_DEFAULT 0xFEE00000ull
#define RC_APIC_BASE_BSP (1ull << 8)
#define RC_APIC_BASE_EN (1ull << 11)

/* Flags of an MSR entry. */
#define RC_MSRF_CANONICAL (1u << 0) /* guest write of a non-canonical value: #GP(0) */
#define RC_MSRF_TRUNC32 (1u << 1)   /* only bits 31:0 exist: upper bits dropped, read as 0 */
#define RC_MSRF_READONLY (1u << 2)  /* guest write: #GP(0); embedder write: RC_ERR_BAD_VALUE */

/* A CPUID feature bit an MSR depends on (leaf, register 0..3 = EAX..EDX, bit). */
typedef struct rc_msr_feature {
    uint32_t leaf;
    uint8_t reg;
    uint8_t bit;
} rc_msr_feature;

typedef struct rc_msr_def {
    uint32_t index;
    const char *name;
    uint32_t flags;           /* RC_MSRF_* */
    uint64_t reserved;        /* guest write with any of these bits set: #GP(0) */
    rc_msr_feature needs;     /* leaf 0 = no CPUID requirement */
    uint64_t (*get)(const rc_cpu *cpu);
    /* Extra guest-write rule beyond reserved/canonical (PAT types, EFER.LME). */
    rc_fault (*check)(rc_cpu *cpu, uint64_t value);
    void (*set)(rc_cpu *cpu, uint64_t value);
    uint64_t unmodeled;       /* bits ringcore cannot hold: embedder write -> RC_ERR_BAD_VALUE */
    const char *doc;          /* one line for docs/api.md and the CLI */
} rc_msr_def;

/* The entry for 'index' in the vendor's table, or NULL. */
const rc_msr_def *rc_msr_lookup(rc_vendor vendor, uint32_t index);
/* The entry for 'index' as the guest sees it: NULL when the vendor does not
 * have that MSR or the model's CPUID does not report its feature. */
const rc_msr_def *rc_msr_find(const rc_cpu *cpu, uint32_t index);
/* The vendor's whole table (for tools and tests). */
const rc_msr_def *rc_msr_table(rc_vendor vendor, unsigned *count);

/* Embedder view (rc_get_msr / rc_set_msr): no guest checks, unknown MSRs
 * follow cpu->msr_policy. */
rc_status rc_msr_get_api(const rc_cpu *cpu, uint32_t index, uint64_t *value);
rc_status rc_msr_set_api(rc_cpu *cpu, uint32_t index, uint64_t value);

/* Power-up values of the MSRs (called by rc_reset). The side table of
 * embedder-stored MSRs is kept. */
void rc_msr_reset(rc_cpu *cpu);

#endif /* RC_MSR_H */

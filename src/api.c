/*
 * api.c - the public API: CPU lifetime, reset, registers, segments,
 * descriptor tables, MSRs (through src/msr/msr.c), hooks, names.
 *
 * Memory calls live in src/mmu/, run control in src/cpu/run.c, snapshots in
 * src/snapshot.c. docs/api.md documents every call.
 *
 * Writes through the API apply no architectural checks (the embedder
 * knows best): a value is refused only when ringcore cannot represent it
 * (an RFLAGS reserved bit, CPL > 3, CR8 > 15, an EFER bit that is not
 * modeled, a segment attribute wider than its field).
 */
#include <stdlib.h>

#include "api.h"
#include "msr/msr.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ names */

static const char *const status_names[RC_STATUS_COUNT] = {
    [RC_OK] = "success",
    [RC_ERR_INVALID_ARG] = "invalid argument (NULL pointer or value out of range)",
    [RC_ERR_NO_MEMORY] = "out of memory",
    [RC_ERR_UNKNOWN_REG] = "unknown register",
    [RC_ERR_UNKNOWN_MSR] = "MSR not in the vendor model",
    [RC_ERR_BAD_VALUE] = "value not valid for the register or MSR",
    [RC_ERR_MAP_OVERLAP] = "mapping overlaps an existing one",
    [RC_ERR_MAP_ALIGN] = "mapping not 4 KiB aligned",
    [RC_ERR_NOT_MAPPED] = "physical address not backed by RAM",
    [RC_ERR_SNAPSHOT_FORMAT] = "not a ringcore snapshot",
    [RC_ERR_SNAPSHOT_VERSION] = "snapshot format version not supported",
    [RC_ERR_SNAPSHOT_CORRUPT] = "snapshot corrupt (size, checksum or field check failed)",
    [RC_ERR_BUFFER_TOO_SMALL] = "buffer too small",
    [RC_ERR_STATE] = "call not valid in the current state",
};

const char *rc_strerror(rc_status status)
{
    if ((unsigned)status < COUNT(status_names) && status_names[status])
        return status_names[status];
    return "unknown status";
}

static const char *const reg_names[RC_REG_COUNT] = {
    [RC_REG_RAX] = "rax", [RC_REG_RCX] = "rcx", [RC_REG_RDX] = "rdx", [RC_REG_RBX] = "rbx",
    [RC_REG_RSP] = "rsp", [RC_REG_RBP] = "rbp", [RC_REG_RSI] = "rsi", [RC_REG_RDI] = "rdi",
    [RC_REG_R8] = "r8",   [RC_REG_R9] = "r9",   [RC_REG_R10] = "r10", [RC_REG_R11] = "r11",
    [RC_REG_R12] = "r12", [RC_REG_R13] = "r13", [RC_REG_R14] = "r14", [RC_REG_R15] = "r15",
    [RC_REG_RIP] = "rip", [RC_REG_RFLAGS] = "rflags",
    [RC_REG_CR0] = "cr0", [RC_REG_CR2] = "cr2", [RC_REG_CR3] = "cr3", [RC_REG_CR4] = "cr4",
    [RC_REG_CR8] = "cr8",
    [RC_REG_DR0] = "dr0", [RC_REG_DR1] = "dr1", [RC_REG_DR2] = "dr2", [RC_REG_DR3] = "dr3",
    [RC_REG_DR6] = "dr6", [RC_REG_DR7] = "dr7",
    [RC_REG_EFER] = "efer", [RC_REG_CPL] = "cpl",
};

const char *rc_reg_name(rc_reg reg)
{
    if ((unsigned)reg < COUNT(reg_names) && reg_names[reg])
        return reg_names[reg];
    return "unknown register";
}

static const char *const exit_names[RC_EXIT_COUNT] = {
    [RC_EXIT_NONE] = "none",           [RC_EXIT_HLT] = "hlt",
    [RC_EXIT_SHUTDOWN] = "shutdown",   [RC_EXIT_EXCEPTION] = "exception",
    [RC_EXIT_IO] = "io",               [RC_EXIT_MMIO] = "mmio",
    [RC_EXIT_LIMIT] = "limit",         [RC_EXIT_UNSUPPORTED] = "unsupported",
    [RC_EXIT_HOOK] = "hook",
};

const char *rc_exit_reason_name(rc_exit_reason reason)
{
    if ((unsigned)reason < COUNT(exit_names) && exit_names[reason])
        return exit_names[reason];
    return "unknown exit reason";
}

/* ------------------------------------------------------------------ lifetime */

/* The code-page bitmap covers the first 4 GiB of physical memory: one bit
 * per 4 KiB page, 128 KiB. Code above it is not marked (see docs/api.md). */
#define CODE_PAGES_COVERED (1ull << (32 - RC_PAGE_SHIFT))

void rc_api_flush_caches(rc_cpu *cpu)
{
    rc_tlb_flush_all(cpu, false);
    rc_icache_flush_all(cpu);
}

rc_status rc_create(const rc_config *cfg, rc_cpu **out)
{
    if (out)
        *out = NULL;
    if (!cfg || !out)
        return RC_ERR_INVALID_ARG;
    if ((unsigned)cfg->vendor > RC_VENDOR_AMD || (unsigned)cfg->msr_policy > RC_MSR_POLICY_STORE ||
        cfg->flags != 0)
        return RC_ERR_INVALID_ARG;
    const rc_model *model = rc_model_get(cfg->vendor);
    if (!model)
        return RC_ERR_STATE; /* the vendor model is missing from this build */

    rc_cpu *cpu = calloc(1, sizeof(*cpu));
    if (!cpu)
        return RC_ERR_NO_MEMORY;
    cpu->model = model;
    cpu->msr_policy = cfg->msr_policy;
    cpu->icache = calloc(RC_ICACHE_SIZE, sizeof(*cpu->icache));
    cpu->code_pages = calloc((size_t)(CODE_PAGES_COVERED / 8), 1);
    if (!cpu->icache || !cpu->code_pages) {
        free(cpu->icache);
        free(cpu->code_pages);
        free(cpu);
        return RC_ERR_NO_MEMORY;
    }
    cpu->code_pages_limit = CODE_PAGES_COVERED;
    rc_reset(cpu);
    *out = cpu;
    return RC_OK;
}

void rc_destroy(rc_cpu *cpu)
{
    if (!cpu)
        return;
    rc_bus_free(cpu);
    free(cpu->icache);
    free(cpu->blocks);
    free(cpu->code_pages);
    free(cpu);
}

rc_vendor rc_get_vendor(const rc_cpu *cpu)
{
    return cpu && cpu->model ? cpu->model->vendor : RC_VENDOR_INTEL;
}

/* ------------------------------------------------------------------ reset */

/* Segment attribute types used at reset (SDM Vol. 3A Table 3-1, 3-2). */
#define SEG_TYPE_DATA_RW_ACCESSED 0x3
#define SEG_TYPE_CODE_XR_ACCESSED 0xB
#define RESET_SEG_LIMIT 0xFFFFu
#define RESET_CS_SELECTOR 0xF000u
#define RESET_CS_BASE 0xFFFF0000ull
#define RESET_RIP 0xFFF0ull
#define RESET_RFLAGS 0x2ull
#define RESET_CR0 0x60000010ull /* CD, NW, ET */
#define RESET_DR6 0xFFFF0FF0ull
#define RESET_DR7 0x400ull

static rc_segment reset_segment(uint16_t sel, uint64_t base, uint8_t type, uint8_t s)
{
    return (rc_segment){ .selector = sel, .base = base, .limit = RESET_SEG_LIMIT, .type = type,
                         .s = s, .dpl = 0, .present = 1 };
}

/* SDM Vol. 3A 10.1.1 Table 10-1 "IA-32 and Intel 64 Processor States
 * Following Power-up, Reset, or INIT" (APM Vol. 2 14.1.3 Table 14-1 gives
 * the same values for AMD):
 *   EFLAGS 00000002H; EIP 0000FFF0H; CR0 60000010H; CR2, CR3, CR4 0;
 *   CS selector F000H, base FFFF0000H, limit FFFFH, AR present, R/W, accessed;
 *   SS DS ES FS GS selector 0, base 0, limit FFFFH, AR present, R/W, accessed;
 *   EDX 000n06xxH (the processor signature = CPUID.01H:EAX); other GPRs 0;
 *   GDTR, IDTR base 0, limit FFFFH; LDTR, TR selector 0, base 0, limit FFFFH,
 *   present; DR0-DR3 0, DR6 FFFF0FF0H, DR7 00000400H; IA32_EFER 0.
 * The table says "R/W" for LDTR and TR; ringcore gives them the system
 * types an LDT (2) and a busy 32-bit TSS (11), as Bochs, QEMU and KVM do. */
rc_status rc_reset(rc_cpu *cpu)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;

    memset(cpu->gpr, 0, sizeof(cpu->gpr));
    uint32_t sig[4] = { 0, 0, 0, 0 };
    rc_model_cpuid(cpu, 1, 0, sig);
    cpu->gpr[RC_REG_RDX] = sig[0];
    cpu->rip = RESET_RIP;
    cpu->lz_op = LZ_NONE;
    cpu->lz_size = 0;
    cpu->lz_res = cpu->lz_src1 = cpu->lz_src2 = 0;
    cpu->lz_cf_in = 0;
    rc_set_rflags(cpu, RESET_RFLAGS);

    for (unsigned s = RC_SEG_ES; s <= RC_SEG_GS; s++)
        cpu->seg[s] = reset_segment(0, 0, SEG_TYPE_DATA_RW_ACCESSED, 1);
    cpu->seg[RC_SEG_CS] =
        reset_segment(RESET_CS_SELECTOR, RESET_CS_BASE, SEG_TYPE_CODE_XR_ACCESSED, 1);
    cpu->seg[RC_SEG_LDTR] = reset_segment(0, 0, RC_DT_LDT, 0);
    cpu->seg[RC_SEG_TR] = reset_segment(0, 0, RC_DT_TSS_BUSY, 0);
    cpu->gdtr = (rc_dtable){ 0, RESET_SEG_LIMIT };
    cpu->idtr = (rc_dtable){ 0, RESET_SEG_LIMIT };

    cpu->cr0 = RESET_CR0;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = RESET_DR6;
    cpu->dr[7] = RESET_DR7;
    cpu->efer = 0;
    cpu->cpl = 0;
    rc_msr_reset(cpu);

    /* Run state: nothing pending. */
    cpu->halted = false;
    cpu->inhibit_irq = 0;
    cpu->io_pending = false;
    cpu->io_value = cpu->io_key = 0;
    cpu->exit_restart = false;
    cpu->delivering = false;
    cpu->delivering_vector = 0;
    memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
    cpu->insn_rip = cpu->rip;
    cpu->cur_insn = NULL;
    cpu->fault_reason = NULL;
    cpu->unsupported_what = NULL;
    cpu->fault_cr2 = 0;
    cpu->transition_text[0] = '\0';

    rc_update_mode(cpu);
    rc_api_flush_caches(cpu);
    return RC_OK;
}

/* ------------------------------------------------------------------ registers */

void rc_api_set_efer(rc_cpu *cpu, uint64_t v)
{
    cpu->efer = v & ~RC_EFER_LMA; /* LMA = LME & PG, derived by rc_update_mode */
    rc_update_mode(cpu);
    rc_tlb_flush_all(cpu, false);
}

static int dr_slot(rc_reg reg)
{
    switch (reg) {
    case RC_REG_DR0: return 0;
    case RC_REG_DR1: return 1;
    case RC_REG_DR2: return 2;
    case RC_REG_DR3: return 3;
    case RC_REG_DR6: return 6;
    case RC_REG_DR7: return 7;
    default: return -1;
    }
}

rc_status rc_get_reg(const rc_cpu *cpu, rc_reg reg, uint64_t *value)
{
    if (!cpu || !value)
        return RC_ERR_INVALID_ARG;
    if ((unsigned)reg <= RC_REG_R15) {
        *value = cpu->gpr[reg];
        return RC_OK;
    }
    switch (reg) {
    case RC_REG_RIP: *value = cpu->rip; return RC_OK;
    case RC_REG_RFLAGS:
        /* Materializing the lazy flags changes no architectural state: the
         * object is ours (heap), so dropping const here is sound. */
        *value = rc_get_rflags((rc_cpu *)cpu);
        return RC_OK;
    case RC_REG_CR0: *value = cpu->cr0; return RC_OK;
    case RC_REG_CR2: *value = cpu->cr2; return RC_OK;
    case RC_REG_CR3: *value = cpu->cr3; return RC_OK;
    case RC_REG_CR4: *value = cpu->cr4; return RC_OK;
    case RC_REG_CR8: *value = cpu->cr8; return RC_OK;
    case RC_REG_EFER: *value = cpu->efer; return RC_OK;
    case RC_REG_CPL: *value = cpu->cpl; return RC_OK;
    default: break;
    }
    int d = dr_slot(reg);
    if (d < 0)
        return RC_ERR_UNKNOWN_REG;
    *value = cpu->dr[d];
    return RC_OK;
}

rc_status rc_set_reg(rc_cpu *cpu, rc_reg reg, uint64_t value)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    if ((unsigned)reg <= RC_REG_R15) {
        cpu->gpr[reg] = value;
        return RC_OK;
    }
    switch (reg) {
    case RC_REG_RIP: cpu->rip = value; return RC_OK;
    case RC_REG_RFLAGS:
        if (value & ~(uint64_t)RC_RFLAGS_DEFINED)
            return RC_ERR_BAD_VALUE;
        rc_set_rflags(cpu, value); /* bit 1 forced to 1 */
        rc_update_mode(cpu);       /* RFLAGS.VM selects virtual-8086 mode */
        return RC_OK;
    case RC_REG_CR0:
    case RC_REG_CR4:
        if (reg == RC_REG_CR0)
            cpu->cr0 = value;
        else
            cpu->cr4 = value;
        rc_update_mode(cpu);
        rc_tlb_flush_all(cpu, false);
        return RC_OK;
    case RC_REG_CR2: cpu->cr2 = value; return RC_OK;
    case RC_REG_CR3:
        cpu->cr3 = value;
        rc_tlb_flush_all(cpu, false);
        return RC_OK;
    case RC_REG_CR8:
        if (value > RC_CR8_MAX) /* CR8 is the 4-bit TPR (SDM Vol. 3A 2.5) */
            return RC_ERR_BAD_VALUE;
        cpu->cr8 = value;
        return RC_OK;
    case RC_REG_EFER:
        if (value & ~RC_EFER_MODELED)
            return RC_ERR_BAD_VALUE;
        rc_api_set_efer(cpu, value);
        return RC_OK;
    case RC_REG_CPL:
        if (value > RC_CPL_MAX)
            return RC_ERR_BAD_VALUE;
        cpu->cpl = (uint8_t)value;
        rc_update_mode(cpu);
        return RC_OK;
    default: break;
    }
    int d = dr_slot(reg);
    if (d < 0)
        return RC_ERR_UNKNOWN_REG;
    cpu->dr[d] = value;
    return RC_OK;
}

/* ------------------------------------------------------------------ segments, tables */

bool rc_api_seg_valid(const rc_segment *s)
{
    return s->type <= 0xF && s->s <= 1 && s->dpl <= 3 && s->present <= 1 && s->avl <= 1 &&
           s->l <= 1 && s->db <= 1 && s->g <= 1 && s->unusable <= 1;
}

rc_status rc_get_seg(const rc_cpu *cpu, rc_seg_reg seg, rc_segment *out)
{
    if (!cpu || !out || (unsigned)seg >= RC_SEG_COUNT)
        return RC_ERR_INVALID_ARG;
    *out = cpu->seg[seg];
    return RC_OK;
}

/* Sets the selector and the hidden part as given: no descriptor table is
 * read and no privilege rule is applied. CS and SS change the derived code
 * and stack sizes. The CPL is its own register (RC_REG_CPL). */
rc_status rc_set_seg(rc_cpu *cpu, rc_seg_reg seg, const rc_segment *in)
{
    if (!cpu || !in || (unsigned)seg >= RC_SEG_COUNT)
        return RC_ERR_INVALID_ARG;
    if (!rc_api_seg_valid(in))
        return RC_ERR_BAD_VALUE;
    cpu->seg[seg] = *in;
    if (seg == RC_SEG_CS || seg == RC_SEG_SS)
        rc_update_mode(cpu);
    return RC_OK;
}

rc_status rc_get_gdtr(const rc_cpu *cpu, rc_dtable *out)
{
    if (!cpu || !out)
        return RC_ERR_INVALID_ARG;
    *out = cpu->gdtr;
    return RC_OK;
}

rc_status rc_set_gdtr(rc_cpu *cpu, const rc_dtable *in)
{
    if (!cpu || !in)
        return RC_ERR_INVALID_ARG;
    cpu->gdtr = *in;
    return RC_OK;
}

rc_status rc_get_idtr(const rc_cpu *cpu, rc_dtable *out)
{
    if (!cpu || !out)
        return RC_ERR_INVALID_ARG;
    *out = cpu->idtr;
    return RC_OK;
}

rc_status rc_set_idtr(rc_cpu *cpu, const rc_dtable *in)
{
    if (!cpu || !in)
        return RC_ERR_INVALID_ARG;
    cpu->idtr = *in;
    return RC_OK;
}

/* ------------------------------------------------------------------ MSRs */

rc_status rc_get_msr(const rc_cpu *cpu, uint32_t index, uint64_t *value)
{
    if (!cpu || !value)
        return RC_ERR_INVALID_ARG;
    return rc_msr_get_api(cpu, index, value);
}

rc_status rc_set_msr(rc_cpu *cpu, uint32_t index, uint64_t value)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    return rc_msr_set_api(cpu, index, value);
}

/* ------------------------------------------------------------------ hooks */

rc_status rc_set_hooks(rc_cpu *cpu, const rc_hooks *hooks)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    if (hooks)
        cpu->hooks = *hooks;
    else
        memset(&cpu->hooks, 0, sizeof(cpu->hooks));
    cpu->have_hooks_slow = cpu->hooks.insn != NULL || cpu->hooks.mem != NULL;
    /* Cached translations may bypass the memory hook: start afresh. */
    rc_tlb_flush_all(cpu, false);
    return RC_OK;
}

/* Calls the before- or after-transition hook. An action outside the enum
 * counts as RC_HOOK_STOP; after the fact, VETO means STOP (the transition
 * already happened) and REDIRECT means CONTINUE (nothing left to skip). */
rc_hook_action rc_fire_transition(rc_cpu *cpu, const rc_transition *t, bool before)
{
    rc_hook_action (*fn)(void *, rc_cpu *, const rc_transition *) =
        before ? cpu->hooks.transition_before : cpu->hooks.transition_after;
    if (!fn)
        return RC_HOOK_CONTINUE;
    rc_hook_action a = fn(cpu->hooks.opaque, cpu, t);
    if ((unsigned)a > RC_HOOK_STOP)
        return RC_HOOK_STOP;
    if (!before && a == RC_HOOK_VETO)
        return RC_HOOK_STOP;
    if (!before && a == RC_HOOK_REDIRECT)
        return RC_HOOK_CONTINUE;
    return a;
}

/* regs.c - register names for --set and the trace (see regs.h). */
#include "regs.h"

#include <stdio.h>
#include <strings.h>

#include "machine.h"

static const char *const gpr64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const gpr32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                       "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d",
                                       "r15d" };
static const char *const gpr16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                       "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w",
                                       "r15w" };

const char *rct_gpr_name(unsigned n, unsigned width)
{
    n &= 15;
    return width == 8 ? gpr64[n] : width == 4 ? gpr32[n] : gpr16[n];
}

const rct_msr_name rct_watched_msrs[] = {
    { 0x174, "sysenter_cs" }, { 0x175, "sysenter_esp" }, { 0x176, "sysenter_eip" },
    { 0xc0000081, "star" }, { 0xc0000082, "lstar" }, { 0xc0000083, "cstar" },
    { 0xc0000084, "sfmask" }, { 0xc0000102, "kernel_gs_base" }, { 0xc0000103, "tsc_aux" },
    { 0, NULL },
};

static const rct_reg_ref others[] = {
    { "rip", RCT_REG_PART, RC_REG_RIP, 64, 0 },     { "eip", RCT_REG_PART, RC_REG_RIP, 32, 0 },
    { "ip", RCT_REG_PART, RC_REG_RIP, 16, 0 },
    { "rflags", RCT_REG_PART, RC_REG_RFLAGS, 64, 0 },
    { "eflags", RCT_REG_PART, RC_REG_RFLAGS, 32, 0 },
    { "flags", RCT_REG_PART, RC_REG_RFLAGS, 16, 0 },
    { "cr0", RCT_REG_PART, RC_REG_CR0, 64, 0 },     { "cr2", RCT_REG_PART, RC_REG_CR2, 64, 0 },
    { "cr3", RCT_REG_PART, RC_REG_CR3, 64, 0 },     { "cr4", RCT_REG_PART, RC_REG_CR4, 64, 0 },
    { "cr8", RCT_REG_PART, RC_REG_CR8, 64, 0 },     { "dr0", RCT_REG_PART, RC_REG_DR0, 64, 0 },
    { "dr1", RCT_REG_PART, RC_REG_DR1, 64, 0 },     { "dr2", RCT_REG_PART, RC_REG_DR2, 64, 0 },
    { "dr3", RCT_REG_PART, RC_REG_DR3, 64, 0 },     { "dr6", RCT_REG_PART, RC_REG_DR6, 64, 0 },
    { "dr7", RCT_REG_PART, RC_REG_DR7, 64, 0 },     { "efer", RCT_REG_PART, RC_REG_EFER, 64, 0 },
    { "es", RCT_REG_SEG, RC_SEG_ES, 16, 0 },        { "cs", RCT_REG_SEG, RC_SEG_CS, 16, 0 },
    { "ss", RCT_REG_SEG, RC_SEG_SS, 16, 0 },        { "ds", RCT_REG_SEG, RC_SEG_DS, 16, 0 },
    { "fs", RCT_REG_SEG, RC_SEG_FS, 16, 0 },        { "gs", RCT_REG_SEG, RC_SEG_GS, 16, 0 },
    { "star", RCT_REG_MSR, 0xc0000081, 64, 0 },     { "lstar", RCT_REG_MSR, 0xc0000082, 64, 0 },
    { "cstar", RCT_REG_MSR, 0xc0000083, 64, 0 },    { "sfmask", RCT_REG_MSR, 0xc0000084, 64, 0 },
    { "sysenter_cs", RCT_REG_MSR, 0x174, 64, 0 },   { "sysenter_esp", RCT_REG_MSR, 0x175, 64, 0 },
    { "sysenter_eip", RCT_REG_MSR, 0x176, 64, 0 },
    { "fs_base", RCT_REG_MSR, 0xc0000100, 64, 0 },  { "gs_base", RCT_REG_MSR, 0xc0000101, 64, 0 },
    { "kernel_gs_base", RCT_REG_MSR, 0xc0000102, 64, 0 },
    { "tsc_aux", RCT_REG_MSR, 0xc0000103, 64, 0 },
};

/* 8-bit names: AL..BL (low byte), AH..BH (bits 15:8), SPL..DIL, R8B..R15B. */
static const char *const gpr8[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                      "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b",
                                      "r15b" };
static const char *const gpr8h[4] = { "ah", "ch", "dh", "bh" };

const rct_reg_ref *rct_reg_lookup(const char *name)
{
    /* Constant table: GPR n at 4n (64-, 32-, 16-, 8-bit), then AH..BH. */
    static const rct_reg_ref gprs[16 * 4 + 4] = {
#define G(n) { NULL, RCT_REG_PART, n, 64, 0 }, { NULL, RCT_REG_PART, n, 32, 0 },                   \
             { NULL, RCT_REG_PART, n, 16, 0 }, { NULL, RCT_REG_PART, n, 8, 0 }
        G(0), G(1), G(2), G(3), G(4), G(5), G(6), G(7),
        G(8), G(9), G(10), G(11), G(12), G(13), G(14), G(15),
#undef G
        { NULL, RCT_REG_PART, 0, 8, 8 }, { NULL, RCT_REG_PART, 1, 8, 8 },
        { NULL, RCT_REG_PART, 2, 8, 8 }, { NULL, RCT_REG_PART, 3, 8, 8 },
    };
    for (unsigned n = 0; n < 16; n++) {
        if (!strcasecmp(name, gpr64[n]))
            return &gprs[4 * n];
        if (!strcasecmp(name, gpr32[n]))
            return &gprs[4 * n + 1];
        if (!strcasecmp(name, gpr16[n]))
            return &gprs[4 * n + 2];
        if (!strcasecmp(name, gpr8[n]))
            return &gprs[4 * n + 3];
    }
    for (unsigned n = 0; n < 4; n++)
        if (!strcasecmp(name, gpr8h[n]))
            return &gprs[64 + n];
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (!strcasecmp(name, others[i].name))
            return &others[i];
    return NULL;
}

int rct_reg_assign(rc_cpu *cpu, const rct_reg_ref *r, uint64_t value, char *err, size_t errlen)
{
    rc_status st;
    if (r->width < 64 && (value >> r->width) != 0) {
        snprintf(err, errlen, "value 0x%llx does not fit in %u bits",
                 (unsigned long long)value, r->width);
        return -1;
    }
    switch (r->kind) {
    case RCT_REG_SEG:
        st = rcm_load_segment(cpu, (rc_seg_reg)r->id, (uint16_t)value, err, errlen);
        if (st != RC_OK && !err[0])
            snprintf(err, errlen, "%s", rc_strerror(st) ? rc_strerror(st) : "error");
        return st == RC_OK ? 0 : -1;
    case RCT_REG_MSR:
        st = rc_set_msr(cpu, r->id, value);
        break;
    default: {
        uint64_t old = 0, v = value;
        if (r->width < 64 && r->width != 32) {
            /* 16- and 8-bit writes merge into the register. */
            st = rc_get_reg(cpu, (rc_reg)r->id, &old);
            if (st != RC_OK)
                break;
            uint64_t mask = ((1ull << r->width) - 1) << r->shift;
            v = (old & ~mask) | (value << r->shift);
        }
        st = rc_set_reg(cpu, (rc_reg)r->id, v);
        break;
    }
    }
    if (st != RC_OK) {
        snprintf(err, errlen, "%s", rc_strerror(st) ? rc_strerror(st) : "error");
        return -1;
    }
    return 0;
}

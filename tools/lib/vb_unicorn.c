/*
 * vb_unicorn.c - the Unicorn backend: a judge for ordinary instructions in
 * flat 32- and 64-bit code (Unicorn 2.0.1, QEMU's TCG).
 *
 * Unicorn runs the scenario's code flat: no descriptor tables, no paging,
 * no privilege levels. It hands INT n / SYSCALL / SYSENTER to hooks instead
 * of transitioning and reports most exceptions as errors without a frame
 * (and #DE not at all: it just stops). So it judges only vectors that
 *   - run in long mode (64-bit code) or in prot32/compat mode (32-bit code,
 *     which Unicorn runs as flat UC_MODE_32: the same for ordinary
 *     instructions) with flat segments,
 *   - change no descriptor table, TSS, page table, segment register or MSR,
 *   - and end either with HLT at CPL 0, or at CPL 3 with the #BP of an INT3
 *     (CC) byte: Unicorn hands the INT3 to its interrupt hook with RIP after
 *     it, which is the interrupted state a CPL-3 vector's frame records.
 * Of a HLT end it sees the GPRs, RIP, RFLAGS and memory; of an INT3 end the
 * GPRs but RSP, the frame's RIP, RFLAGS and RSP, and memory - never CR2, CPL,
 * segment caches, the frame's CS/SS or MSRs, nor the delivery itself (handler
 * RIP, ring-0 stack). Anything else is refused with the reason.
 */
#ifdef RC_HAVE_UNICORN

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "lib/scenario.h"
#include "lib/vbackend.h"

#define OP_HLT 0xf4
#define OP_INT3 0xcc
#define RFLAGS_TF 0x100ull
#define RFLAGS_AC 0x40000ull
#define UC_FIRST_PAGE 0x1000ull /* page 0 stays unmapped, as in the standard machine */

static const int uc_gpr64[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP,
    UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,
    UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
    UC_X86_REG_R15,
};
static const int uc_gpr32[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};

typedef struct uc_ctx {
    uc_engine *uc;
    rc_cpu *image;          /* the scenario: its RAM is Unicorn's memory */
    bool cpl3;              /* a CPL-3 vector: it must end at an INT3 */
    bool hlt, intr, syscall;
    uint32_t intno;
} uc_ctx;

static const char *source(void) { return "unicorn-2.0.1"; }

static bool can_judge(const rcv_vector *v, char *why, size_t n)
{
    const char *no = NULL;
    if (v->m.mode != RCM_LONG && v->m.mode != RCM_PROT32 && v->m.mode != RCM_COMPAT)
        no = "Unicorn runs flat 32- or 64-bit code only (mode long, compat or prot32)";
    else if (v->m.cpl != 0 && v->m.cpl != 3)
        no = "Unicorn has no privilege levels: only CPL-0 vectors that end with HLT and "
             "CPL-3 vectors that end at an INT3";
    else if (v->m.cpl == 3 && !(v->expect.present && v->expect.end == RCV_END_EXCEPTION &&
                                v->expect.vector == RC_EXC_BP))
        no = v->expect.present
                 ? "a CPL-3 vector is judged by Unicorn only when it ends with the #BP of an "
                   "INT3: Unicorn delivers no other exception"
                 : "Unicorn sees a CPL-3 vector's interrupted state but not the delivery that "
                   "ends it: record it with --oracle native, then confirm with check";
    else if (v->ngdt || v->has_ldt || v->nidt || v->ntss || v->npages || v->nsegs || v->nmsrs)
        no = "Unicorn runs without descriptor tables, TSS, paging, segment caches or MSRs";
    else if (v->m.cpl == 0 && v->expect.present && v->expect.end != RCV_END_HLT)
        no = "Unicorn reports exceptions without a frame (and #DE not at all): at CPL 0 "
             "only HLT ends";
    for (unsigned i = 0; !no && i < v->nregs; i++)
        if (v->regs[i].id > RC_REG_RFLAGS)
            no = "Unicorn is given only GPRs, RIP and RFLAGS (not CRn, DRn, EFER)";
    /* The vector's own refusal, as the other judges honour it
     * (docs/vectors.md "Not judged": fields "*"). */
    if (!no)
        no = rcv_vector_refuses(v, "unicorn");
    if (no && why)
        snprintf(why, n, "%s", no);
    return no == NULL;
}

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)size;
    uc_ctx *c = opaque;
    uint8_t b = 0;
    /* HLT ends a CPL-0 vector; at CPL 3 it is #GP(0), which Unicorn would not
     * deliver, so the run stops there too and is refused. */
    if (uc_mem_read(uc, addr, &b, 1) == UC_ERR_OK && b == OP_HLT) {
        c->hlt = true;
        uc_emu_stop(uc);
    }
}

static void on_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    uc_ctx *c = opaque;
    c->intr = true;
    c->intno = intno;
    uc_emu_stop(uc);
}

static void on_syscall(uc_engine *uc, void *opaque)
{
    ((uc_ctx *)opaque)->syscall = true;
    uc_emu_stop(uc);
}

static int rd_mem(void *ctx, uint64_t linear, void *buf, size_t len)
{
    uc_ctx *c = ctx;
    return uc_mem_read(c->uc, linear, buf, len) == UC_ERR_OK ? 0 : -1;
}

static void release(rcv_result *r)
{
    uc_ctx *c = r->ctx;
    if (!c)
        return;
    if (c->uc)
        uc_close(c->uc);
    if (c->image)
        rc_destroy(c->image);
    free(c);
    r->ctx = NULL;
}

static int run(const rcv_vector *v, rcv_result *r, char *err, size_t n)
{
    memset(r, 0, sizeof *r);
    r->vector = -1;
    if (!can_judge(v, err, n))
        return -1;
    uc_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    r->ctx = c;
    if (rcv_scenario_build(v, &c->image, err, n)) {
        release(r);
        return -1;
    }
    bool wide = v->m.mode == RCM_LONG;
    uint8_t *ram = rc_ram_ptr(c->image, 0, RCM_RAM_SIZE);
    uc_err e;
    uc_hook h1, h2, h3;
    if (!ram || (e = uc_open(UC_ARCH_X86, wide ? UC_MODE_64 : UC_MODE_32, &c->uc)) ||
        (e = uc_mem_map_ptr(c->uc, UC_FIRST_PAGE, RCM_RAM_SIZE - UC_FIRST_PAGE, UC_PROT_ALL,
                            ram + UC_FIRST_PAGE)) ||
        (e = uc_hook_add(c->uc, &h1, UC_HOOK_CODE, (void *)on_code, c, 1, 0)) ||
        (e = uc_hook_add(c->uc, &h2, UC_HOOK_INTR, (void *)on_intr, c, 1, 0)) ||
        (e = uc_hook_add(c->uc, &h3, UC_HOOK_INSN, (void *)on_syscall, c, 1, 0,
                         UC_X86_INS_SYSCALL))) {
        snprintf(err, n, "Unicorn setup failed: %s", ram ? uc_strerror(e) : "no RAM image");
        release(r);
        return -1;
    }
    uint64_t v64;
    for (unsigned i = 0; i < (wide ? 16u : 8u); i++) {
        rc_get_reg(c->image, (rc_reg)i, &v64);
        if (!wide)
            v64 &= 0xffffffffu;
        uc_reg_write(c->uc, wide ? uc_gpr64[i] : uc_gpr32[i], &v64);
    }
    uint64_t rip, fl;
    rc_get_reg(c->image, RC_REG_RIP, &rip);
    rc_get_reg(c->image, RC_REG_RFLAGS, &fl);
    c->cpl3 = v->m.cpl == 3;
    if (c->cpl3 && (fl & (RFLAGS_TF | RFLAGS_AC))) {
        snprintf(err, n, "the vector starts with %s set: Unicorn models neither single-step "
                 "traps nor alignment checks", fl & RFLAGS_TF ? "TF" : "AC");
        release(r);
        return -1;
    }
    uc_reg_write(c->uc, UC_X86_REG_EFLAGS, &fl);
    e = uc_emu_start(c->uc, rip, 0, 0, v->max_insns + 1);
    uint64_t pc = 0;
    uc_reg_read(c->uc, wide ? UC_X86_REG_RIP : UC_X86_REG_EIP, &pc);
    if (!wide)
        pc &= 0xffffffffu;
    /* Unicorn 2.0.1 calls the interrupt hook for INT3 with RIP already past
     * the CC byte: the return address the #BP frame holds (SDM Vol. 3A 6.5:
     * #BP is a trap). */
    uint8_t before = 0;
    bool int3 = c->intr && c->intno == RC_EXC_BP && pc > 0 &&
                uc_mem_read(c->uc, pc - 1, &before, 1) == UC_ERR_OK && before == OP_INT3;
    if (c->cpl3 && !int3) {
        snprintf(err, n, "Unicorn stopped at 0x%llx %s: at CPL 3 it judges only a run that "
                 "ends at an INT3", (unsigned long long)pc,
                 c->hlt ? "at a HLT (#GP(0) at CPL 3, which it does not deliver)"
                 : c->syscall ? "at SYSCALL, handed to a hook"
                 : c->intr ? "in its interrupt hook for INT n or an exception"
                 : e != UC_ERR_OK ? uc_strerror(e) : "without an exception");
        release(r);
        return -1;
    }
    if (!c->cpl3 && (c->intr || c->syscall)) {
        snprintf(err, n, "Unicorn hands %s to a hook instead of transitioning: not judged",
                 c->syscall ? "SYSCALL" : "INT n / an exception");
        release(r);
        return -1;
    }
    if (!c->cpl3 && (e != UC_ERR_OK || !c->hlt)) {
        snprintf(err, n, "Unicorn stopped at 0x%llx without reaching HLT (%s): an exception it "
                 "does not report with a frame; not judged", (unsigned long long)pc,
                 e != UC_ERR_OK ? uc_strerror(e) : "no error reported");
        release(r);
        return -1;
    }
    for (unsigned i = 0; i < (wide ? 16u : 8u); i++) {
        uc_reg_read(c->uc, wide ? uc_gpr64[i] : uc_gpr32[i], &v64);
        r->reg[i] = wide ? v64 : v64 & 0xffffffffu;
        r->reg_valid |= 1ull << i;
    }
    /* Unicorn 2.0.1 leaves junk above bit 31 of the EFLAGS it reports in 64-bit
     * mode; RFLAGS[63:22] are reserved and read as 0 (SDM Vol. 1 3.4.3). */
    uc_reg_read(c->uc, UC_X86_REG_EFLAGS, &fl);
    fl &= 0x3fffffu;
    if (c->cpl3) {
        /* The interrupted state is the frame; the GPRs but RSP are the final
         * ones (delivery changes no other GPR), RSP is the ring-0 stack. */
        r->end = RCV_END_EXCEPTION;
        r->vector = RC_EXC_BP;
        r->has_error_code = 0;
        r->reg_valid &= ~(1ull << RC_REG_RSP);
        r->frame_rip = pc;
        r->frame_rflags = fl;
        r->frame_rsp = r->reg[RC_REG_RSP];
        r->frame_mask = RCV_FR_RIP | RCV_FR_RFLAGS | RCV_FR_RSP;
    } else {
        /* Unicorn stops at the HLT; the vector's end state is after it (HLT is 1 byte). */
        r->end = RCV_END_HLT;
        r->reg[RC_REG_RIP] = pc + 1;
        r->reg[RC_REG_RFLAGS] = fl;
        r->reg_valid |= 1ull << RC_REG_RIP | 1ull << RC_REG_RFLAGS;
    }
    r->read_mem = rd_mem;
    return 0;
}

const rcv_backend rcv_backend_unicorn = { "unicorn", source, can_judge, run, release };

#endif /* RC_HAVE_UNICORN */

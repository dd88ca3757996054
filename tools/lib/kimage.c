/*
 * kimage.c - one vector as the test kernel's payload (kimage.h; the format
 * and the entry sequence are described in tests/kernel/README.md, "The
 * vector payload"). The state is read from the rc_cpu that
 * rcv_scenario_build() made, through the public API only; the RAM image
 * is sent as its non-zero 4 KiB pages.
 *
 * rck_vector_check() says which vectors the kernel can install exactly:
 * the kernel loads the segment registers by selector (MOV Sreg at CPL 0,
 * then IRET), so a hidden part no descriptor holds cannot be made, and some
 * states cannot survive the entry (listed there, each with its rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kimage.h"
#include "lib/kimage_host.h"

#define CR0_PG (1ull << 31)
#define CR0_PE 1ull
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
/* SDM Vol. 1 3.4.3 Figure 3-8: EFLAGS bits. */
#define FL_TF (1ull << 8)
#define FL_RF (1ull << 16)
#define FL_VM (1ull << 17)
#define FL_VIF (1ull << 19)
#define FL_VIP (1ull << 20)
/* The PC's legacy VGA window and BIOS area: not RAM the kernel can fill. */
#define PC_HOLE_LO 0xa0000ull
#define PC_HOLE_HI 0x100000ull
#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

/* MSRs the kernel writes (SDM Vol. 4 Table 2-2), besides EFER and the
 * FS/GS bases (which come with the segment loads). */
static const uint32_t vec_msrs[] = {
    0xc0000081u, /* STAR */
    0xc0000082u, /* LSTAR */
    0xc0000083u, /* CSTAR */
    0xc0000084u, /* SFMASK */
    0x174u,      /* SYSENTER_CS */
    0x175u,      /* SYSENTER_ESP */
    0x176u,      /* SYSENTER_EIP */
    0xc0000102u, /* KERNEL_GS_BASE (IA-32e only) */
};
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_EFER 0xc0000080u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u

static bool ia32e(rcm_mode m) { return m == RCM_LONG || m == RCM_COMPAT; }

static uint64_t rd64(const uint8_t *ram, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, ram + pa, sizeof v);
    return v;
}

int rck_kernel_pdes(const uint8_t *ram, rcm_mode mode, uint64_t cr0, uint64_t cr3,
                    uint64_t addr[RCK_KERNEL_PDES], unsigned *count, char *why, size_t n)
{
    *count = 0;
    if (!(cr0 & CR0_PG))
        return 0; /* no paging: the kernel's window is reachable as it is */
    uint64_t a;
    if (ia32e(mode)) {
        /* SDM Vol. 3A 4.5: linear 28 MiB = PML4 index 0, PDPT index 0, PD
         * index 14; the kernel makes that PD entry a 2-MByte page. */
        uint64_t pml4 = cr3 & ADDR_MASK;
        if (pml4 + 8 > RCK_VEC_RAM || !(rd64(ram, pml4) & PTE_P)) {
            snprintf(why, n, "the vector's PML4 entry 0 is not present: the kernel cannot map "
                     "its window next to the vector");
            return -1;
        }
        uint64_t pdpt = rd64(ram, pml4) & ADDR_MASK;
        uint64_t pdpte = pdpt + 8 <= RCK_VEC_RAM ? rd64(ram, pdpt) : 0;
        if (!(pdpte & PTE_P) || (pdpte & PTE_PS)) {
            snprintf(why, n, "the vector's PDPT entry 0 is not a present page-directory "
                     "pointer: the kernel cannot map its window next to the vector");
            return -1;
        }
        a = (pdpte & ADDR_MASK) + 8 * (RCK_KERNEL_WINDOW >> 21);
        if (a + 8 > RCK_VEC_RAM || rd64(ram, a)) {
            snprintf(why, n, "the vector maps linear 0x%llx (PD entry %llu), the kernel's "
                     "window", (unsigned long long)RCK_KERNEL_WINDOW,
                     (unsigned long long)(RCK_KERNEL_WINDOW >> 21));
            return -1;
        }
    } else {
        /* SDM Vol. 3A 4.3: 32-bit paging, PDE 7 covers 28..32 MiB; the kernel
         * points it at a page table of its own. */
        a = (cr3 & 0xfffff000ull) + 4 * (RCK_KERNEL_WINDOW >> 22);
        uint32_t e = 0;
        if (a + 4 <= RCK_VEC_RAM)
            memcpy(&e, ram + a, 4);
        if (a + 4 > RCK_VEC_RAM || e) {
            snprintf(why, n, "the vector maps linear 0x%llx (PDE %llu), the kernel's window",
                     (unsigned long long)RCK_KERNEL_WINDOW,
                     (unsigned long long)(RCK_KERNEL_WINDOW >> 22));
            return -1;
        }
    }
    addr[(*count)++] = a;
    return 0;
}

/* A data segment register as MOV Sreg at CPL 0 loads it and as IRET to the
 * vector's CPL keeps it (SDM Vol. 2B MOV "Operation": a non-null selector
 * needs a present data or readable code segment, and for data and
 * non-conforming code DPL >= RPL; Vol. 2A IRET "RETURN-TO-OUTER-PRIVILEGE-
 * LEVEL": ES, FS, GS, DS holding data or non-conforming code with
 * DPL < CPL are made null). */
static const char *data_seg_problem(const rc_segment *s, unsigned cpl)
{
    if ((s->selector & ~3u) == 0)
        return s->unusable ? NULL : "a null selector whose register is usable";
    if (s->unusable || !s->present)
        return "an unusable register with a non-null selector";
    if (!s->s)
        return "a system descriptor";
    bool code = s->type & 8, conforming = code && (s->type & 4), readable = s->type & 2;
    if (code && !readable)
        return "an execute-only code segment";
    if (!conforming && s->dpl < (s->selector & 3u))
        return "DPL < RPL";
    if (!conforming && s->dpl < cpl)
        return "DPL < CPL (IRET to the vector's CPL would make it null)";
    return NULL;
}

int rck_vector_check(const rcv_vector *v, rc_cpu *cpu, char *why, size_t n)
{
    rcm_mode m = v->m.mode;
    for (unsigned i = 0; i < v->nsegs; i++)
        if (!v->segs[i].load) {
            snprintf(why, n, "segs.%u is given by hidden-part fields: the kernel loads segment "
                     "registers by selector, so a hidden part no descriptor holds cannot be "
                     "installed", v->segs[i].reg);
            return -1;
        }
    for (unsigned i = 0; i < v->nregs; i++) {
        unsigned id = v->regs[i].id;
        if (id == RC_REG_CR8 || (id >= RC_REG_DR0 && id <= RC_REG_DR7)) {
            snprintf(why, n, "the kernel does not install %s yet", v->regs[i].name);
            return -1;
        }
    }
    for (unsigned i = 0; i < v->nmsrs; i++) {
        uint32_t x = v->msrs[i].index;
        bool known = x == MSR_EFER || x == MSR_FS_BASE || x == MSR_GS_BASE;
        for (unsigned k = 0; k < sizeof vec_msrs / sizeof vec_msrs[0]; k++)
            known |= x == vec_msrs[k];
        if (!known) {
            snprintf(why, n, "the kernel does not install MSR 0x%x (%s) yet", x,
                     v->msrs[i].name);
            return -1;
        }
    }
    uint64_t cr0 = 0, cr4 = 0, efer = 0, fl = 0;
    rc_get_reg(cpu, RC_REG_CR0, &cr0);
    rc_get_reg(cpu, RC_REG_CR4, &cr4);
    rc_get_reg(cpu, RC_REG_EFER, &efer);
    rc_get_reg(cpu, RC_REG_RFLAGS, &fl);
    if (fl & FL_VM) {
        snprintf(why, n, "RFLAGS.VM = 1 (virtual-8086 mode) is not entered by the kernel");
        return -1;
    }
    if (ia32e(m) && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || !(efer & EFER_LME))) {
        snprintf(why, n, "an IA-32e vector needs CR0.PG, CR4.PAE and EFER.LME");
        return -1;
    }
    if (!ia32e(m) && ((cr4 & CR4_PAE) || (efer & EFER_LME))) {
        snprintf(why, n, "a legacy vector with CR4.PAE or EFER.LME: the kernel enters 32-bit "
                 "paging only");
        return -1;
    }
    rc_segment s;
    uint64_t rsp = 0;
    rc_get_seg(cpu, RC_SEG_SS, &s);
    rc_get_reg(cpu, RC_REG_RSP, &rsp);
    if (!ia32e(m) && v->m.cpl > 0 && !s.db && rsp > 0xffff) {
        /* IRETD to a 16-bit SS loads only SP; ESP[31:16] keep the entry
         * stack's bits, which entry.asm makes 0 (SDM Vol. 2A IRET). */
        snprintf(why, n, "a 16-bit SS with ESP 0x%llx >= 64 KiB: IRET to a 16-bit stack "
                 "loads only SP, so the kernel cannot give ESP[31:16] the vector's bits",
                 (unsigned long long)rsp);
        return -1;
    }
    if (m == RCM_REAL) {
        /* entry.asm enter_real: POPFD, LSS and a far JMP after PE = 0; LLDT
         * and LTR are #UD in real mode (SDM Vol. 2A), so they are not done. */
        rc_segment l, t;
        rc_get_seg(cpu, RC_SEG_LDTR, &l);
        rc_get_seg(cpu, RC_SEG_TR, &t);
        if (fl & (FL_TF | FL_RF | FL_VIF | FL_VIP)) {
            snprintf(why, n, "a real-mode vector starting with TF, RF, VIF or VIP: the kernel "
                     "enters it with POPFD, which cannot set them as the vector has them");
            return -1;
        }
        if (((l.selector & ~3u) && !l.unusable) || ((t.selector & ~3u) && !t.unusable)) {
            snprintf(why, n, "a real-mode vector with LDTR or TR loaded: the kernel does not "
                     "install them for real mode");
            return -1;
        }
        if (cr0 & (CR0_PG | CR0_PE)) {
            snprintf(why, n, "a real-mode vector with CR0.PE or PG set");
            return -1;
        }
        uint64_t rip = 0;
        rc_get_reg(cpu, RC_REG_RIP, &rip);
        if (rip > 0xffff) {
            snprintf(why, n, "a real-mode vector with IP > 0xffff");
            return -1;
        }
    } else if (!ia32e(m) && v->m.cpl == 0) {
        /* Legacy CPL 0: entered with POPFD + far JMP (IRET to the same level
         * would leave its frame below the vector's stack pointer). */
        if (fl & (FL_TF | FL_RF | FL_VIF | FL_VIP)) {
            snprintf(why, n, "a legacy CPL-0 vector starting with TF, RF, VIF or VIP: the "
                     "kernel enters it with POPFD, which cannot set them as the vector has them");
            return -1;
        }
        rc_get_seg(cpu, RC_SEG_SS, &s);
        if (s.base || s.limit != 0xffffffffu || !s.db || (s.type & 4)) {
            snprintf(why, n, "a legacy CPL-0 vector whose SS is not flat (base 0, 4 GiB, "
                     "B = 1, expand-up)");
            return -1;
        }
    }
    /* Real mode: a segment load gives base = selector x 16 and keeps the
     * 64 KiB limit of step 4 (SDM Vol. 3A 21.1.1, 10.9.2). */
    for (unsigned i = 0; m == RCM_REAL && i < 6; i++) {
        rc_get_seg(cpu, (rc_seg_reg)i, &s);
        if (s.base != (uint64_t)s.selector << 4 || s.limit != 0xffff) {
            snprintf(why, n, "segment register %s: base 0x%llx, limit 0x%x: a real-mode load "
                     "gives base = selector x 16 and keeps the 64 KiB limit",
                     "ES\0CS\0SS\0DS\0FS\0GS" + 3 * i, (unsigned long long)s.base, s.limit);
            return -1;
        }
    }
    static const rc_seg_reg data[4] = { RC_SEG_ES, RC_SEG_DS, RC_SEG_FS, RC_SEG_GS };
    for (unsigned i = 0; m != RCM_REAL && i < 4; i++) {
        rc_get_seg(cpu, data[i], &s);
        const char *p = data_seg_problem(&s, v->m.cpl);
        if (p) {
            snprintf(why, n, "segment register %s: %s; the kernel loads it with MOV at CPL 0 "
                     "and IRET keeps it only if valid", "ES\0DS\0FS\0GS" + 3 * i, p);
            return -1;
        }
    }
    const uint8_t *ram = rc_ram_ptr(cpu, 0, RCK_VEC_RAM);
    if (!ram) {
        snprintf(why, n, "no RAM image");
        return -1;
    }
    for (uint64_t a = PC_HOLE_LO; a < PC_HOLE_HI; a++)
        if (ram[a]) {
            snprintf(why, n, "the image has bytes at 0x%llx, in the PC's VGA/BIOS window "
                     "0xa0000-0xfffff, which is not RAM under a BIOS", (unsigned long long)a);
            return -1;
        }
    uint64_t cr3 = 0, pdes[RCK_KERNEL_PDES];
    unsigned npde;
    rc_get_reg(cpu, RC_REG_CR3, &cr3);
    return rck_kernel_pdes(ram, m, cr0, cr3, pdes, &npde, why, n);
}

static bool page_is_zero(const uint8_t *p)
{
    for (unsigned i = 0; i < RCK_VEC_PAGE; i++)
        if (p[i])
            return false;
    return true;
}

int rck_vector_payload(const rcv_vector *v, rc_cpu *cpu, uint8_t **out, size_t *len, char *why,
                       size_t n)
{
    *out = NULL;
    *len = 0;
    if (rck_vector_check(v, cpu, why, n))
        return -1;
    const uint8_t *ram = rc_ram_ptr(cpu, 0, RCK_VEC_RAM);
    unsigned npages = 0;
    for (uint64_t a = 0; a < RCK_VEC_RAM; a += RCK_VEC_PAGE)
        npages += !page_is_zero(ram + a);
    size_t total = sizeof(rck_vstate) + (size_t)npages * sizeof(rck_vpage);
    uint8_t *buf = calloc(1, total);
    if (!buf) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    rck_vstate *st = (rck_vstate *)buf;
    memcpy(st->magic, RCK_VEC_MAGIC, 8);
    st->version = RCK_VEC_VERSION;
    st->mode = v->m.mode == RCM_LONG ? RCK_VMODE_LONG
               : v->m.mode == RCM_COMPAT ? RCK_VMODE_COMPAT
               : v->m.mode == RCM_PROT16 ? RCK_VMODE_PROT16
               : v->m.mode == RCM_REAL ? RCK_VMODE_REAL : RCK_VMODE_PROT32;
    st->cpl = v->m.cpl;
    st->vendor = v->m.vendor == RC_VENDOR_AMD;
    for (unsigned i = 0; i < 16; i++)
        rc_get_reg(cpu, (rc_reg)i, &st->gpr[i]);
    rc_get_reg(cpu, RC_REG_RIP, &st->rip);
    rc_get_reg(cpu, RC_REG_RFLAGS, &st->rflags);
    rc_get_reg(cpu, RC_REG_CR0, &st->cr0);
    rc_get_reg(cpu, RC_REG_CR2, &st->cr2);
    rc_get_reg(cpu, RC_REG_CR3, &st->cr3);
    rc_get_reg(cpu, RC_REG_CR4, &st->cr4);
    rc_get_reg(cpu, RC_REG_EFER, &st->efer);
    if (st->cr0 & CR0_PG)
        st->flags |= RCK_VF_PAGING;
    rc_segment s;
    for (unsigned i = 0; i < 6; i++) {
        rc_get_seg(cpu, (rc_seg_reg)i, &s);
        st->seg[i] = s.selector;
        if (i == RC_SEG_FS)
            st->fs_base = s.base;
        if (i == RC_SEG_GS)
            st->gs_base = s.base;
    }
    rc_get_seg(cpu, RC_SEG_LDTR, &s);
    st->ldtr = s.selector;
    if ((s.selector & ~3u) && !s.unusable)
        st->flags |= RCK_VF_LOAD_LDTR;
    rc_get_seg(cpu, RC_SEG_TR, &s);
    st->tr = s.selector;
    if ((s.selector & ~3u) && !s.unusable)
        st->flags |= RCK_VF_LOAD_TR;
    rc_dtable d;
    rc_get_gdtr(cpu, &d);
    st->gdtr_limit = (uint64_t)d.limit << 48;
    st->gdtr_base = d.base;
    rc_get_idtr(cpu, &d);
    st->idtr_limit = (uint64_t)d.limit << 48;
    st->idtr_base = d.base;
    for (unsigned i = 0; i < sizeof vec_msrs / sizeof vec_msrs[0]; i++) {
        uint64_t val;
        if (vec_msrs[i] == MSR_KERNEL_GS_BASE && !ia32e(v->m.mode))
            continue;
        if (rc_get_msr(cpu, vec_msrs[i], &val) != RC_OK)
            continue;
        st->msrs[st->nmsrs].index = vec_msrs[i];
        st->msrs[st->nmsrs++].value = val;
    }
    st->npages = npages;
    rck_vpage *pg = (rck_vpage *)(buf + sizeof *st);
    for (uint64_t a = 0; a < RCK_VEC_RAM; a += RCK_VEC_PAGE)
        if (!page_is_zero(ram + a)) {
            pg->addr = a;
            memcpy(pg->bytes, ram + a, RCK_VEC_PAGE);
            pg++;
        }
    *out = buf;
    *len = total;
    return 0;
}

/*
 * kend.c - the end of a vector run inside the test kernel, as the QEMU and
 * Bochs judges see it: the CPU halted, and where it halted and what lies on
 * the stack say how the vector ended (kimage_host.h, rck_judge_halt).
 */
#include <stdio.h>
#include <string.h>

#include "lib/kimage_host.h"
#include "lib/machine.h"

#define OP_INT_N 0xcd    /* INT imm8 (SDM Vol. 2A INT n) */
#define EFER_LMA (1ull << 10)
#define CR0_PE 1ull
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define PC_HOLE_LO 0xa0000ull
#define PC_HOLE_HI 0x100000ull

/* ------------------------------------------------------------------ the final memory */

static bool ram_read(const rck_ram_image *m, uint64_t pa, void *out, size_t len)
{
    if (!m->ram || pa >= m->size || len > m->size - pa)
        return false;
    memcpy(out, m->ram + pa, len);
    return true;
}

/* SDM Vol. 3A 4.3 (32-bit paging, 4 KiB and with CR4.PSE 4 MiB pages), 4.4
 * (PAE paging, 4 KiB and 2 MiB), 4.5 (4-level paging, 4 KiB, 2 MiB, 1 GiB). */
bool rck_translate(const rck_ram_image *m, uint64_t lin, uint64_t *pa)
{
    const uint64_t frame = 0x000ffffffffff000ull;
    if (!(m->cr0 & CR0_PG)) {
        *pa = lin & 0xffffffffu;
        return true;
    }
    if (m->cr4 & CR4_PAE) {
        bool lma = m->efer & EFER_LMA;
        int top = lma ? 3 : 2;
        uint64_t e;
        uint64_t table = lma ? m->cr3 & frame : m->cr3 & 0xffffffe0u;
        if (!lma) {
            lin &= 0xffffffffu;
            if (!ram_read(m, table + 8 * ((lin >> 30) & 3), &e, 8) || !(e & 1))
                return false;
            table = e & frame;
            top = 1;
        }
        for (int level = top; level >= 0; level--) {
            if (!ram_read(m, table + 8 * ((lin >> (12 + 9 * level)) & 511), &e, 8) || !(e & 1))
                return false;
            if (level > 0 && level < 3 && (e & 0x80)) {
                uint64_t size = 1ull << (12 + 9 * level);
                *pa = (e & frame & ~(size - 1)) | (lin & (size - 1));
                return true;
            }
            table = e & frame;
        }
        *pa = table | (lin & 0xfff);
        return true;
    }
    lin &= 0xffffffffu;
    uint32_t pde, pte;
    if (!ram_read(m, (m->cr3 & 0xfffff000u) + 4 * (lin >> 22), &pde, 4) || !(pde & 1))
        return false;
    if ((pde & 0x80) && (m->cr4 & CR4_PSE)) {
        *pa = (pde & 0xffc00000u) | (lin & 0x3fffff);
        return true;
    }
    if (!ram_read(m, (pde & 0xfffff000u) + 4 * ((lin >> 12) & 1023), &pte, 4) || !(pte & 1))
        return false;
    *pa = (pte & 0xfffff000u) | (lin & 0xfff);
    return true;
}

int rck_read_linear(const rck_ram_image *m, uint64_t lin, void *buf, size_t len,
                    bool skip_pc_hole)
{
    uint8_t *out = buf;
    while (len) {
        uint64_t pa;
        size_t chunk = 0x1000 - (lin & 0xfff);
        if (chunk > len)
            chunk = len;
        if (!rck_translate(m, lin, &pa) ||
            (skip_pc_hole && pa < PC_HOLE_HI && pa + chunk > PC_HOLE_LO) ||
            !ram_read(m, pa, out, chunk))
            return -1;
        out += chunk;
        lin += chunk;
        len -= chunk;
    }
    return 0;
}

/* ------------------------------------------------------------------ the end */

/* SDM Vol. 3A 7.3.1 Table 7-1 (6.3.1 in older editions): exceptions that
 * push an error code; AMD APM Vol. 2 8.2: #VC (29), #SX (30). Real mode
 * pushes none (SDM Vol. 3A 21.1.4). */
static bool pushes_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static uint64_t rd_le(const rck_end_view *w, uint64_t lin, unsigned size, bool *ok)
{
    uint8_t x[8] = { 0 };
    if (w->read(w->ctx, lin, x, size))
        *ok = false;
    uint64_t v = 0;
    for (int i = (int)size - 1; i >= 0; i--)
        v = v << 8 | x[i];
    return v;
}

/* The base of the code segment selector sel names: selector x 16 in real
 * mode (SDM Vol. 3A 21.1.1); else read from the final GDT or (TI = 1) LDT,
 * 0 for a 64-bit code segment (3.4.4) or when the descriptor cannot be
 * read. Descriptor layout: 3.4.5 Figure 3-8. */
static uint64_t cs_base(const rck_end_view *w, const rcv_result *r, bool real, uint16_t sel)
{
    if (real)
        return (uint64_t)sel << 4;
    bool ok = true;
    uint64_t table = (sel & 4) ? r->seg[RC_SEG_LDTR].base : w->gdt_base;
    uint64_t d = rd_le(w, table + (sel & ~7u), 8, &ok);
    if (!ok || (d >> 53 & 1))
        return 0;
    return ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
}

const char *rck_kernel_refuses(const rcv_vector *v, const char *judge)
{
    for (unsigned i = 0; i < v->nidt; i++)
        if (v->idt[i].mask & (RCV_DF_RAW | RCV_DF_RAW_HI | RCV_DF_OFFSET | RCV_DF_SELECTOR))
            return "an IDT gate with its own handler address: the judge recognises a delivery "
                   "by the standard handler stub it halts in";
    for (unsigned i = 0; i < v->nsegs; i++)
        if (!v->segs[i].load)
            return "a segment register given by hidden-part fields: the kernel loads segment "
                   "registers by selector, so a hidden part no descriptor holds cannot be made";
    return rcv_vector_refuses(v, judge);
}

int rck_judge_halt(const rck_end_view *w, rcv_result *r, char *err, size_t n)
{
    uint64_t at = r->seg[RC_SEG_CS].base + r->reg[RC_REG_RIP] - 1;
    if (!(w->efer & EFER_LMA))
        at &= 0xffffffffull;
    if (at < RCM_HANDLERS || at >= RCM_HANDLERS + 256ull * RCM_HANDLER_STRIDE ||
        (at - RCM_HANDLERS) % RCM_HANDLER_STRIDE) {
        r->end = RCV_END_HLT;
        return 0;
    }
    unsigned vec = (unsigned)((at - RCM_HANDLERS) / RCM_HANDLER_STRIDE);
    r->reg[RC_REG_RIP] -= 1;
    /* The frame (docs/vectors.md "The frame"): IA-32e 8-byte slots, always
     * SS:RSP (SDM Vol. 3A 7.14.2); legacy 4-byte slots (2-byte through a
     * 16-bit gate, types 6/7: 7.11 Figure 7-2), SS:ESP only on a privilege
     * change (7.12.1); real mode FLAGS, CS, IP as words (21.1.4). */
    bool lma = w->efer & EFER_LMA, real = !(r->reg[RC_REG_CR0] & CR0_PE), ok = true;
    unsigned slot = lma ? 8 : real ? 2 : 4;
    if (!lma && !real) {
        uint64_t gate = rd_le(w, w->idt_base + 8ull * vec, 8, &ok);
        unsigned type = (gate >> 40) & 0xf;
        if (ok && (type == 6 || type == 7))
            slot = 2;
    }
    uint64_t ssb = lma ? 0 : r->seg[RC_SEG_SS].base;
    uint64_t smask = lma                              ? ~0ull
                     : !real && r->seg[RC_SEG_SS].db ? 0xffffffffull
                                                      : 0xffffull;
    uint64_t vmask = slot == 8 ? ~0ull : slot == 4 ? 0xffffffffull : 0xffffull;
    uint64_t sp = r->reg[RC_REG_RSP];
#define SLOT(k) (rd_le(w, ssb + ((sp + (uint64_t)(k) * slot) & smask), slot, &ok) & vmask)
    /* INT n pushes no error code even for vectors whose exceptions do (SDM
     * Vol. 3A 7.13). It is recognised by its bytes: CD n right before the
     * return address of a frame read without one (docs/vectors.md). */
    uint64_t a_rip = SLOT(0), a_cs = SLOT(1) & 0xffff;
    uint64_t ret = cs_base(w, r, real, (uint16_t)a_cs) + a_rip;
    if (!lma)
        ret &= 0xffffffffull;
    uint8_t b[2];
    bool int_n = ok && ret >= 2 && !w->read(w->ctx, ret - 2, b, 2) && b[0] == OP_INT_N &&
                 b[1] == vec;
    /* A 16-bit gate pushes IP[15:0] only (SDM Vol. 3A 7.12.1): the INT may
     * lie above 64 KiB in a flat code segment, where the code started. */
    if (ok && !int_n && slot == 2 && !real) {
        uint64_t ret2 = ret + (w->code_addr & ~0xffffull);
        int_n = ret2 >= 2 && !w->read(w->ctx, ret2 - 2, b, 2) && b[0] == OP_INT_N &&
                b[1] == vec;
    }
    r->end = int_n ? RCV_END_INT : RCV_END_EXCEPTION;
    r->vector = (int)vec;
    r->has_error_code = !int_n && !real && pushes_error_code(vec);
    unsigned k = 0;
    if (r->has_error_code)
        r->error_code = (uint32_t)SLOT(k++);
    r->frame_rip = SLOT(k);
    r->frame_cs = SLOT(k + 1) & 0xffff;
    r->frame_rflags = SLOT(k + 2);
    r->frame_mask = RCV_FR_RIP | RCV_FR_CS | RCV_FR_RFLAGS;
    if (lma || (!real && (r->frame_cs & 3) != r->reg[RC_REG_CPL])) {
        r->frame_rsp = SLOT(k + 3);
        r->frame_ss = SLOT(k + 4) & 0xffff;
        r->frame_mask |= RCV_FR_RSP | RCV_FR_SS;
    }
#undef SLOT
    if (!ok) {
        snprintf(err, n, "%s halted in handler stub %u but its frame at SS:RSP 0x%llx is not "
                 "readable", w->judge, vec, (unsigned long long)sp);
        return -1;
    }
    /* A fault of the kernel's last instruction (IRET / far JMP into the
     * vector) is delivered through the vector's IDT too; its frame points
     * into the kernel: the judge refused the state, the vector never ran. */
    uint64_t from = cs_base(w, r, real, (uint16_t)r->frame_cs) + r->frame_rip;
    if (from >= RCK_KERNEL_WINDOW && from < RCK_KERNEL_WINDOW_END) {
        snprintf(err, n, "%s refused the vector's state: vector %u (error code 0x%x) was "
                 "raised by the kernel's entry instruction at 0x%llx", w->judge, vec,
                 r->error_code, (unsigned long long)from);
        return -1;
    }
    /* The kernel's window is mapped under the vector's paging (tests/kernel/
     * README.md): a page fault there would not be the standard machine's. */
    uint64_t cr2 = r->reg[RC_REG_CR2];
    if (vec == 14 && !int_n && cr2 >= RCK_KERNEL_WINDOW && cr2 < RCK_KERNEL_WINDOW_END) {
        snprintf(err, n, "the vector touched linear 0x%llx, inside the kernel's window "
                 "0x%llx-0x%llx, which is mapped there", (unsigned long long)cr2,
                 (unsigned long long)RCK_KERNEL_WINDOW, (unsigned long long)RCK_KERNEL_WINDOW_END);
        return -1;
    }
    return 0;
}

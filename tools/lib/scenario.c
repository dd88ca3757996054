/*
 * scenario.c - vector -> guest image + initial state (docs/vectors.md).
 *
 * The standard machine (machine.c) is built first; the vector's overrides
 * are then written into guest memory and registers through the public API.
 */
#include "scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/regs.h"

#define GATE_TYPE_CALL 0xcu   /* SDM Vol. 3A 3.5 Table 3-2: 32-bit/64-bit call gate */
#define SYS_TYPE_LDT 0x2u     /* LDT descriptor type */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_XD (1ull << 63)
#define PT4_BASE 0x13000ull   /* docs/standard-machine.md "Page tables" */
#define PT2_BASE 0x11000ull

static int err_at(char *err, size_t n, const rcv_vector *v, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, n, "%s: vector \"%s\": %s", v->file, v->name, msg);
    return -1;
}

static bool ia32e(rcm_mode m) { return m == RCM_LONG || m == RCM_COMPAT; }

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A gate descriptor, SDM Vol. 3A 5.8.3 Figure 5-8 (call gate), 6.11 Figure
 * 6-2 (interrupt/trap gates), 6.14.1 Figure 6-8 and 5.8.3.1 Figure 5-9
 * (IA-32e: 16 bytes, offset[63:32] in the upper half). */
typedef struct gate {
    uint64_t offset;
    uint16_t selector;
    uint8_t byte4;   /* IST (IA-32e interrupt/trap gates) or parameter count (call gates) */
    uint8_t type, dpl, p;
} gate;

static void gate_decode(uint64_t lo, uint64_t hi, gate *g)
{
    g->offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | (hi & 0xffffffffull) << 32;
    g->selector = (uint16_t)(lo >> 16);
    g->byte4 = (uint8_t)(lo >> 32);
    g->type = (lo >> 40) & 0xf;
    g->dpl = (lo >> 45) & 3;
    g->p = (lo >> 47) & 1;
}

static void gate_encode(const gate *g, uint64_t *lo, uint64_t *hi)
{
    *lo = (g->offset & 0xffff) | (uint64_t)g->selector << 16 | (uint64_t)g->byte4 << 32 |
          (uint64_t)(g->type & 0xf) << 40 | (uint64_t)(g->dpl & 3) << 45 |
          (uint64_t)(g->p & 1) << 47 | ((g->offset >> 16) & 0xffff) << 48;
    *hi = g->offset >> 32;
}

static bool is_gate_form(const rcv_desc *d)
{
    return d->mask & (RCV_DF_SELECTOR | RCV_DF_OFFSET | RCV_DF_PARAMS);
}

/* GDT/LDT entry: raw, a gate, or segment fields over the standard entry. */
static void desc_bytes(const rcv_vector *v, const rcv_desc *d, uint64_t std, uint64_t *lo,
                       uint64_t *hi, bool *wide)
{
    *wide = false;
    *hi = 0;
    if (d->mask & (RCV_DF_RAW | RCV_DF_RAW_HI)) {
        *lo = d->raw;
        *hi = d->raw_hi;
        *wide = (d->mask & RCV_DF_RAW_HI) != 0;
        return;
    }
    if (is_gate_form(d)) {
        gate g = { d->offset, d->selector, d->params, GATE_TYPE_CALL, d->dpl, 1 };
        if (d->mask & RCV_DF_TYPE)
            g.type = d->type;
        if (d->mask & RCV_DF_P)
            g.p = d->p;
        gate_encode(&g, lo, hi);
        /* IA-32e call gates are 16 bytes and have no parameter count. */
        *wide = ia32e(v->m.mode);
        return;
    }
    rcm_desc_fields f;
    rcm_desc_decode(std, &f);
    if (!std) {
        f.s = 1;
        f.p = 1;
    }
    if (d->mask & RCV_DF_BASE) f.base = (uint32_t)d->base;
    if (d->mask & RCV_DF_LIMIT) f.limit = d->limit;
    if (d->mask & RCV_DF_TYPE) f.type = d->type;
    if (d->mask & RCV_DF_S) f.s = d->s;
    if (d->mask & RCV_DF_DPL) f.dpl = d->dpl;
    if (d->mask & RCV_DF_P) f.p = d->p;
    if (d->mask & RCV_DF_AVL) f.avl = d->avl;
    if (d->mask & RCV_DF_L) f.l = d->l;
    if (d->mask & RCV_DF_DB) f.db = d->db;
    if (d->mask & RCV_DF_G) f.g = d->g;
    *lo = rcm_desc_encode(&f);
}

static int write_table_entry(rc_cpu *cpu, const rcv_vector *v, uint64_t table, unsigned index,
                             uint64_t lo, uint64_t hi, bool wide, char *err, size_t n)
{
    uint8_t b[16];
    put64(b, lo);
    put64(b + 8, hi);
    if (rc_write_phys(cpu, table + 8ull * index, b, wide ? 16 : 8) != RC_OK)
        return err_at(err, n, v, "writing descriptor-table entry %u failed", index);
    return 0;
}

static int apply_gdt(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    rc_dtable gdtr;
    rc_get_gdtr(cpu, &gdtr);
    for (unsigned i = 0; i < v->ngdt; i++) {
        const rcv_desc *d = &v->gdt[i];
        uint64_t std = d->index < RCM_GDT_ENTRIES ? rcm_gdt_entry(v->m.mode, d->index) : 0;
        uint64_t lo, hi;
        bool wide;
        desc_bytes(v, d, std, &lo, &hi, &wide);
        if (write_table_entry(cpu, v, RCM_GDT, d->index, lo, hi, wide, err, n))
            return -1;
        /* The TSS descriptor (selector 0x40): TR's hidden part follows the
         * edit, as if the machine had loaded TR from it (docs/vectors.md
         * "gdt"): a 16-bit TSS, another limit (an I/O bitmap), another
         * base. In IA-32e mode the base's upper half is the next entry. */
        if (d->index == RCM_SEL_TSS >> 3) {
            rc_segment tr;
            rcm_desc_to_seg(lo, RCM_SEL_TSS, &tr);
            if (wide)
                tr.base |= (hi & 0xffffffffull) << 32;
            if (rc_set_seg(cpu, RC_SEG_TR, &tr) != RC_OK)
                return err_at(err, n, v, "gdt[%u]: setting TR from the TSS descriptor failed",
                              d->index);
        }
        uint32_t end = 8 * (d->index + (wide ? 2 : 1)) - 1;
        if (end > gdtr.limit)
            gdtr.limit = (uint16_t)end;
    }
    rc_set_gdtr(cpu, &gdtr);
    return 0;
}

/* The vector's LDT at RCV_LDT_ADDR, its descriptor in GDT entry 10 (0x50),
 * LDTR loaded with it (SDM Vol. 3A 3.5.1 "Segment Descriptor Tables"). */
static int apply_ldt(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    if (!v->has_ldt)
        return 0;
    unsigned top = 0;
    for (unsigned i = 0; i < v->nldt; i++) {
        const rcv_desc *d = &v->ldt[i];
        uint64_t lo, hi;
        bool wide;
        desc_bytes(v, d, 0, &lo, &hi, &wide);
        if (write_table_entry(cpu, v, RCV_LDT_ADDR, d->index, lo, hi, wide, err, n))
            return -1;
        unsigned last = d->index + (wide ? 1 : 0);
        if (last > top)
            top = last;
    }
    rcm_desc_fields f = { (uint32_t)RCV_LDT_ADDR, 8 * top + 7, SYS_TYPE_LDT, 0, 0, 1, 0, 0, 0,
                          0 };
    uint64_t desc = rcm_desc_encode(&f);
    if (write_table_entry(cpu, v, RCM_GDT, RCV_LDT_GDT_INDEX, desc, 0, ia32e(v->m.mode), err, n))
        return -1;
    rc_segment s;
    rcm_desc_to_seg(desc, RCV_LDT_GDT_INDEX << 3, &s);
    if (rc_set_seg(cpu, RC_SEG_LDTR, &s) != RC_OK)
        return err_at(err, n, v, "ldt: setting LDTR failed");
    return 0;
}

static int apply_idt(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    rc_dtable idtr;
    rc_get_idtr(cpu, &idtr);
    bool wide = ia32e(v->m.mode);
    for (unsigned i = 0; i < v->nidt; i++) {
        const rcv_desc *d = &v->idt[i];
        if (v->m.mode == RCM_REAL) {
            /* IVT entry: offset(16), segment(16), SDM Vol. 3A 21.1.4. */
            if (d->mask & ~(RCV_DF_OFFSET | RCV_DF_SELECTOR | RCV_DF_RAW))
                return err_at(err, n, v, "field idt[%u]: a real-mode IVT entry has only "
                              "\"offset\", \"selector\" (the segment) or \"raw\"", i);
            uint8_t b[4];
            rc_read_phys(cpu, RCM_IVT + 4ull * d->index, b, 4);
            uint32_t e = (uint32_t)b[0] | b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            if (d->mask & RCV_DF_RAW) e = (uint32_t)d->raw;
            if (d->mask & RCV_DF_OFFSET) e = (e & 0xffff0000u) | (uint16_t)d->offset;
            if (d->mask & RCV_DF_SELECTOR) e = (e & 0xffffu) | (uint32_t)d->selector << 16;
            for (int k = 0; k < 4; k++)
                b[k] = (uint8_t)(e >> (8 * k));
            rc_write_phys(cpu, RCM_IVT + 4ull * d->index, b, 4);
            continue;
        }
        uint64_t at = RCM_IDT + (wide ? 16ull : 8ull) * d->index;
        uint8_t b[16] = { 0 };
        rc_read_phys(cpu, at, b, wide ? 16 : 8);
        uint64_t lo = get64(b), hi = wide ? get64(b + 8) : 0;
        if (d->mask & (RCV_DF_RAW | RCV_DF_RAW_HI)) {
            lo = d->raw;
            if (d->mask & RCV_DF_RAW_HI)
                hi = d->raw_hi;
        } else {
            gate g;
            gate_decode(lo, hi, &g);
            if (d->mask & RCV_DF_OFFSET) g.offset = d->offset;
            if (d->mask & RCV_DF_SELECTOR) g.selector = d->selector;
            if (d->mask & RCV_DF_IST) g.byte4 = d->ist;
            if (d->mask & RCV_DF_TYPE) g.type = d->type;
            if (d->mask & RCV_DF_DPL) g.dpl = d->dpl;
            if (d->mask & RCV_DF_P) g.p = d->p;
            gate_encode(&g, &lo, &hi);
        }
        put64(b, lo);
        put64(b + 8, hi);
        if (rc_write_phys(cpu, at, b, wide ? 16 : 8) != RC_OK)
            return err_at(err, n, v, "writing IDT entry %u failed", d->index);
    }
    return 0;
}

static int apply_tss(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    for (unsigned i = 0; i < v->ntss; i++) {
        const rcv_tssval *t = &v->tss[i];
        uint8_t b[8];
        for (unsigned k = 0; k < 8; k++)
            b[k] = (uint8_t)(t->value >> (8 * k));
        if (rc_write_phys(cpu, RCM_TSS + t->off, b, t->size) != RC_OK)
            return err_at(err, n, v, "writing tss.%s failed", t->name);
    }
    return 0;
}

uint64_t rcv_pte_addr(rcm_mode mode, uint64_t addr, unsigned *size)
{
    *size = ia32e(mode) ? 8 : 4;
    return (ia32e(mode) ? PT4_BASE : PT2_BASE) + *size * (addr >> 12);
}

/* PTE bits: SDM Vol. 3A 4.3 Table 4-6 (32-bit), 4.5 Table 4-19 (4-level). */
static int apply_pages(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    for (unsigned i = 0; i < v->npages; i++) {
        const rcv_page *p = &v->pages[i];
        unsigned size;
        uint64_t at = rcv_pte_addr(v->m.mode, p->addr, &size);
        uint8_t b[8] = { 0 };
        rc_read_phys(cpu, at, b, size);
        uint64_t e = get64(b);
        if (p->mask & RCV_PF_RAW)
            e = p->raw;
        if (p->mask & RCV_PF_P) e = p->p ? e | PTE_P : e & ~PTE_P;
        if (p->mask & RCV_PF_RW) e = p->rw ? e | PTE_RW : e & ~PTE_RW;
        if (p->mask & RCV_PF_US) e = p->us ? e | PTE_US : e & ~PTE_US;
        if (p->mask & RCV_PF_NX) e = p->nx ? e | PTE_XD : e & ~PTE_XD;
        if (p->mask & RCV_PF_FRAME) {
            uint64_t frame_mask = size == 8 ? 0x000ffffffffff000ull : 0xfffff000ull;
            e = (e & ~frame_mask) | p->frame;
        }
        put64(b, e);
        if (rc_write_phys(cpu, at, b, size) != RC_OK)
            return err_at(err, n, v, "writing the PTE of pages[%u] failed", i);
    }
    return 0;
}

/* Load a segment register by selector from the GDT or the vector's LDT,
 * filling the hidden part as a descriptor load would (no checks: the
 * vector states the machine, it does not execute a MOV). */
static int load_selector(rc_cpu *cpu, const rcv_vector *v, unsigned reg, uint16_t sel,
                         char *err, size_t n)
{
    rc_segment s;
    memset(&s, 0, sizeof s);
    if (v->m.mode == RCM_REAL) {
        rc_get_seg(cpu, (rc_seg_reg)reg, &s);
        s.selector = sel;
        s.base = (uint64_t)sel << 4;
        return rc_set_seg(cpu, (rc_seg_reg)reg, &s) == RC_OK ? 0 : -1;
    }
    if ((sel & ~3u) == 0) {
        if (reg == RC_SEG_CS)
            return err_at(err, n, v, "field segs.cs: a null selector cannot be loaded into CS");
        s.selector = sel;
        s.unusable = 1;
        return rc_set_seg(cpu, (rc_seg_reg)reg, &s) == RC_OK ? 0 : -1;
    }
    uint64_t table = RCM_GDT;
    uint32_t limit;
    if (sel & 4) {
        rc_segment ldtr;
        rc_get_seg(cpu, RC_SEG_LDTR, &ldtr);
        if (!v->has_ldt)
            return err_at(err, n, v, "field segs: selector 0x%x names the LDT, and the vector "
                          "has no \"ldt\"", sel);
        table = ldtr.base;
        limit = ldtr.limit;
    } else {
        rc_dtable gdtr;
        rc_get_gdtr(cpu, &gdtr);
        limit = gdtr.limit;
    }
    if ((uint32_t)(sel | 7) > limit)
        return err_at(err, n, v, "field segs: selector 0x%x is beyond the table limit 0x%x", sel,
                      limit);
    uint8_t b[8];
    if (rc_read_phys(cpu, table + (sel & ~7u), b, 8) != RC_OK)
        return err_at(err, n, v, "field segs: reading the descriptor of 0x%x failed", sel);
    rcm_desc_to_seg(get64(b), sel, &s);
    return rc_set_seg(cpu, (rc_seg_reg)reg, &s) == RC_OK ? 0 : -1;
}

static int apply_segs(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    for (unsigned i = 0; i < v->nsegs; i++) {
        const rcv_segval *sv = &v->segs[i];
        if (sv->load) {
            if (load_selector(cpu, v, sv->reg, sv->s.selector, err, n))
                return -1;
        } else {
            rc_segment s;
            rc_get_seg(cpu, (rc_seg_reg)sv->reg, &s);
            if (sv->mask & RCV_SF_SELECTOR) s.selector = sv->s.selector;
            if (sv->mask & RCV_SF_BASE) s.base = sv->s.base;
            if (sv->mask & RCV_SF_LIMIT) s.limit = sv->s.limit;
            if (sv->mask & RCV_SF_TYPE) s.type = sv->s.type;
            if (sv->mask & RCV_SF_S) s.s = sv->s.s;
            if (sv->mask & RCV_SF_DPL) s.dpl = sv->s.dpl;
            if (sv->mask & RCV_SF_P) s.present = sv->s.present;
            if (sv->mask & RCV_SF_AVL) s.avl = sv->s.avl;
            if (sv->mask & RCV_SF_L) s.l = sv->s.l;
            if (sv->mask & RCV_SF_DB) s.db = sv->s.db;
            if (sv->mask & RCV_SF_G) s.g = sv->s.g;
            if (sv->mask & RCV_SF_UNUSABLE) s.unusable = sv->s.unusable;
            if (rc_set_seg(cpu, (rc_seg_reg)sv->reg, &s) != RC_OK)
                return err_at(err, n, v, "field segs: the library refused the segment value");
        }
        /* CPL = CS.RPL (SDM Vol. 3A 5.5), as after a far transfer. */
        if (sv->reg == RC_SEG_CS && v->m.mode != RCM_REAL && (sv->mask & RCV_SF_SELECTOR))
            rc_set_reg(cpu, RC_REG_CPL, sv->s.selector & 3u);
    }
    return 0;
}

static int apply_regs(rc_cpu *cpu, const rcv_vector *v, char *err, size_t n)
{
    for (unsigned i = 0; i < v->nregs; i++) {
        const rcv_regval *r = &v->regs[i];
        const rct_reg_ref *ref = rct_reg_lookup(r->name);
        char e[200] = "";
        if (!ref || rct_reg_assign(cpu, ref, r->value, e, sizeof e))
            return err_at(err, n, v, "field regs.%s: %s", r->name, e[0] ? e : "not settable");
    }
    for (unsigned i = 0; i < v->nmsrs; i++)
        if (rc_set_msr(cpu, v->msrs[i].index, v->msrs[i].value) != RC_OK)
            return err_at(err, n, v, "field msrs.%s: the library refused MSR 0x%x = 0x%llx",
                          v->msrs[i].name, v->msrs[i].index,
                          (unsigned long long)v->msrs[i].value);
    return 0;
}

int rcv_scenario_build(const rcv_vector *v, rc_cpu **out, char *err, size_t n)
{
    *out = NULL;
    rc_cpu *cpu;
    char e[256];
    if (rcm_build(&v->m, &cpu, e, sizeof e) != RC_OK)
        return err_at(err, n, v, "%s", e);
    int r = apply_gdt(cpu, v, err, n);
    if (!r) r = apply_ldt(cpu, v, err, n);
    if (!r) r = apply_idt(cpu, v, err, n);
    if (!r) r = apply_tss(cpu, v, err, n);
    if (!r) r = apply_pages(cpu, v, err, n);
    for (unsigned i = 0; !r && i < v->nmem; i++)
        if (rc_write_phys(cpu, v->mem[i].addr, v->mem[i].bytes, v->mem[i].len) != RC_OK)
            r = err_at(err, n, v, "field mem[%u]: writing guest memory failed", i);
    if (!r && rcm_load_code(cpu, &v->m, v->code, v->code_len, e, sizeof e) != RC_OK)
        r = err_at(err, n, v, "field code: %s", e);
    if (!r) r = apply_segs(cpu, v, err, n);
    if (!r) r = apply_regs(cpu, v, err, n);
    if (r) {
        rc_destroy(cpu);
        return -1;
    }
    *out = cpu;
    return 0;
}

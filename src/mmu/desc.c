/*
 * desc.c - segment descriptors: decoding (SDM Vol. 3A 3.4.5, 5.8.3, 6.11,
 * 6.14.1, 7.2.3, 8.2.3), fetching from the GDT/LDT with the table-limit
 * check (3.5.1), and the accessed bit (3.4.5.1).
 */
#include "mmu.h"

/* Descriptor fields (SDM Vol. 3A Figure 3-8). */
#define DESC_TYPE_SHIFT 40
#define DESC_S_BIT (1ull << 44)
#define DESC_DPL_SHIFT 45
#define DESC_P_BIT (1ull << 47)
#define DESC_AVL_BIT (1ull << 52)
#define DESC_L_BIT (1ull << 53)
#define DESC_DB_BIT (1ull << 54)
#define DESC_G_BIT (1ull << 55)
#define DESC_ACCESS_BYTE 5        /* byte holding type/S/DPL/P */
#define SEG_TYPE_ACCESSED 1u      /* code/data type bit 0 */
#define SEL_TI 4u
#define SEL_INDEX_MASK 0xFFF8u
#define SEL_ERR_MASK 0xFFFCu

static bool is_gate(unsigned type)
{
    return type == RC_DT_CALLGATE16 || type == RC_DT_TASKGATE || type == RC_DT_INTGATE16 ||
           type == RC_DT_TRAPGATE16 || type == RC_DT_CALLGATE || type == RC_DT_INTGATE ||
           type == RC_DT_TRAPGATE;
}

void rc_desc_decode(uint64_t lo, uint64_t hi, rc_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->lo = lo;
    d->hi = hi;
    rc_segment *s = &d->seg;
    /* Figure 3-8: limit 15:0 in bits 15:0 and 19:16 in bits 51:48; base
     * 23:0 in bits 39:16 and 31:24 in bits 63:56. */
    uint32_t limit = (uint32_t)(lo & 0xFFFF) | (uint32_t)((lo >> 32) & 0xF0000);
    s->base = ((lo >> 16) & 0xFFFFFF) | (((lo >> 56) & 0xFF) << 24);
    s->type = (uint8_t)((lo >> DESC_TYPE_SHIFT) & 0xF);
    s->s = (lo & DESC_S_BIT) != 0;
    s->dpl = (uint8_t)((lo >> DESC_DPL_SHIFT) & 3);
    s->present = (lo & DESC_P_BIT) != 0;
    s->avl = (lo & DESC_AVL_BIT) != 0;
    s->l = (lo & DESC_L_BIT) != 0;
    s->db = (lo & DESC_DB_BIT) != 0;
    s->g = (lo & DESC_G_BIT) != 0;
    /* 3.4.5: with G = 1 the limit counts 4-KiB units: (limit << 12) | 0xFFF. */
    s->limit = s->g ? (limit << 12) | 0xFFFu : limit;
    s->unusable = 0;

    if (s->s)
        return;
    /* 7.2.3 / 8.2.3: in IA-32e mode LDT and TSS descriptors are 16 bytes,
     * base 63:32 in the upper 8 bytes (hi = 0 for 8-byte descriptors). */
    if (s->type == RC_DT_LDT || s->type == RC_DT_TSS_AVAIL || s->type == RC_DT_TSS_BUSY)
        s->base |= (hi & 0xFFFFFFFFull) << 32;
    if (is_gate(s->type)) {
        /* 5.8.3 Figure 5-8, 6.11 Figure 6-2, 6.14.1 Figure 6-8: selector in
         * bits 31:16, offset 15:0 in bits 15:0 and 31:16 in bits 63:48
         * (32-bit and 64-bit gates), 63:32 in the upper 8 bytes. */
        d->gate_sel = (uint16_t)(lo >> 16);
        if (s->type == RC_DT_TASKGATE) {
            d->gate_off = 0;
        } else if (s->type == RC_DT_CALLGATE16 || s->type == RC_DT_INTGATE16 ||
                   s->type == RC_DT_TRAPGATE16) {
            d->gate_off = lo & 0xFFFF; /* 16-bit gates: a 16-bit offset */
        } else {
            d->gate_off = (lo & 0xFFFF) | (((lo >> 48) & 0xFFFF) << 16) |
                          ((hi & 0xFFFFFFFFull) << 32);
        }
        d->gate_params = (uint8_t)((lo >> 32) & 0x1F); /* call gates: bits 36:32 */
        d->ist = (uint8_t)((lo >> 32) & 0x7);          /* IA-32e int/trap gates: bits 34:32 */
    }
}

/* Linear address of the descriptor 'sel' names, after the checks of SDM
 * Vol. 3A 3.5.1 / 5.3 (the selector's index must lie within the table
 * limit; TI = 1 needs a usable LDT): failure -> vec(sel & 0xFFFC). */
static rc_fault desc_lin(rc_cpu *cpu, uint16_t sel, unsigned bytes, uint8_t vec, uint64_t *lin)
{
    uint64_t base;
    uint32_t limit;
    if (sel & SEL_TI) {
        const rc_segment *ldtr = &cpu->seg[RC_SEG_LDTR];
        FAULT_IF(cpu, ldtr->unusable, vec, sel & SEL_ERR_MASK,
                 "selector names the LDT (TI = 1) but LDTR is null");
        base = ldtr->base;
        limit = ldtr->limit;
    } else {
        base = cpu->gdtr.base;
        limit = cpu->gdtr.limit;
    }
    uint32_t index = sel & SEL_INDEX_MASK;
    FAULT_IF(cpu, (uint64_t)index + bytes - 1 > limit, vec, sel & SEL_ERR_MASK,
             "selector index beyond the descriptor-table limit");
    *lin = base + index;
    /* Outside IA-32e mode descriptor-table bases are 32-bit (3.5.1). */
    if (!(cpu->efer & RC_EFER_LMA))
        *lin &= 0xFFFFFFFFull;
    return RC_NOFAULT;
}

rc_fault rc_desc_fetch(rc_cpu *cpu, uint16_t sel, bool wide, uint8_t vec, rc_desc *d)
{
    uint64_t lin, lo, hi = 0;
    TRY(desc_lin(cpu, sel, wide ? 16 : 8, vec, &lin));
    /* Descriptor reads are implicit supervisor-mode accesses (SDM Vol. 3A 4.6). */
    TRY(rc_sys_read(cpu, lin, 8, &lo));
    if (wide)
        TRY(rc_sys_read(cpu, lin + 8, 8, &hi));
    rc_desc_decode(lo, hi, d);
    return RC_NOFAULT;
}

rc_fault rc_desc_set_accessed(rc_cpu *cpu, uint16_t sel, rc_desc *d)
{
    /* 3.4.5.1: the processor sets the accessed bit of a code/data segment
     * descriptor when it loads the selector (a locked write of the access
     * byte; a read-only GDT page faults here). */
    if (!d->seg.s || (d->seg.type & SEG_TYPE_ACCESSED))
        return RC_NOFAULT;
    uint64_t lin;
    TRY(desc_lin(cpu, sel, 8, RC_EXC_GP, &lin));
    uint8_t access = (uint8_t)((d->lo >> DESC_TYPE_SHIFT) | SEG_TYPE_ACCESSED);
    TRY(rc_lin_write(cpu, lin + DESC_ACCESS_BYTE, 1, RC_ACC_WRITE | RC_ACC_SUPERVISOR, access));
    d->lo |= (uint64_t)SEG_TYPE_ACCESSED << DESC_TYPE_SHIFT;
    d->seg.type |= SEG_TYPE_ACCESSED;
    return RC_NOFAULT;
}

void rc_seg_from_desc(rc_segment *s, uint16_t sel, const rc_desc *d)
{
    *s = d->seg;
    s->selector = sel;
    s->unusable = 0;
}

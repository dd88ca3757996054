/*
 * seg.c - segmentation: seg:offset -> linear with the checks of SDM Vol. 3A
 * 5.3 (limit), 5.4-5.5 (type), 3.4.5 and 3.3.7.1 / 5.3.1 (64-bit mode:
 * canonical addresses, FS/GS bases only), the accessors handlers use
 * (rc_read / rc_write / rc_fetch), and segment-register loads for MOV/POP
 * Sreg and LDS/LES/LFS/LGS/LSS (SDM Vol. 2B "MOV", "POP", "LDS/LES/..."),
 * with the vendor difference of null-selector loads (XSA-191).
 */
#include "exec.h"
#include "mmu.h"

#define LOW32 0xFFFFFFFFull
#define LIMIT_4G 0xFFFFFFFFu
#define SEL_NULL_MASK 0xFFFCu     /* index and TI: zero means a null selector */
#define SEL_ERR_MASK 0xFFFCu
#define SEL_RPL_MASK 3u

/* Code/data descriptor type bits (SDM Vol. 3A Table 3-1). */
#define TYPE_CODE 8u      /* 1 = code */
#define TYPE_CONFORM 4u   /* code: conforming */
#define TYPE_EXPDOWN 4u   /* data: expand-down */
#define TYPE_READ 2u      /* code: readable */
#define TYPE_WRITE 2u     /* data: writable */
#define TYPE_ACCESSED 1u
#define TYPE_DATA_RW_ACCESSED (TYPE_WRITE | TYPE_ACCESSED)

/* ------------------------------------------------------------------ addressing checks */

static inline rc_fault seg_fault(rc_cpu *cpu, unsigned seg, const char *why)
{
    /* Faults from SS-based references are #SS(0), all others #GP(0)
     * (SDM Vol. 3A 6.15 "Interrupt 12", "Interrupt 13"). */
    cpu->fault_reason = why;
    return rc_exc_err(seg == RC_SEG_SS ? RC_EXC_SS : RC_EXC_GP, 0);
}

static inline bool is_real_like(const rc_cpu *cpu)
{
    return cpu->mode == RC_MODE_REAL || cpu->mode == RC_MODE_VM86;
}

/* SDM Vol. 3A 5.3: the last byte of the access must be within the limit.
 * Expand-down data segments hold the offsets limit+1 .. 0xFFFF (B = 0) or
 * 0xFFFFFFFF (B = 1). With an effective limit of 0xFFFFFFFF an access that
 * runs past 4 GiB "may or may not" fault (5.3, implementation-specific):
 * ringcore lets it wrap, like Bochs. */
static inline bool seg_limit_ok(const rc_segment *s, uint64_t off, unsigned size)
{
    uint64_t last = off + size - 1;
    if (__builtin_expect(s->s && !(s->type & TYPE_CODE) && (s->type & TYPE_EXPDOWN), 0)) {
        uint64_t upper = s->db ? LOW32 : 0xFFFFu;
        return off > s->limit && last <= upper;
    }
    return s->limit == LIMIT_4G || last <= s->limit;
}

/* SDM Vol. 3A 5.4-5.5 (and the #GP conditions of 6.15): writes need a
 * writable data segment, reads a data or readable code segment. */
static rc_fault seg_type_check(rc_cpu *cpu, unsigned seg, const rc_segment *s, rc_access acc)
{
    if (acc == RC_ACC_EXEC)
        return RC_NOFAULT;
    if (!s->s)
        return seg_fault(cpu, seg, "memory access through a system-segment descriptor");
    bool code = (s->type & TYPE_CODE) != 0;
    if (acc == RC_ACC_WRITE || acc == RC_ACC_RMW) {
        if (code)
            return seg_fault(cpu, seg, "write to a code segment");
        if (!(s->type & TYPE_WRITE))
            return seg_fault(cpu, seg, "write to a read-only data segment");
    } else if (code && !(s->type & TYPE_READ)) {
        return seg_fault(cpu, seg, "read from an execute-only code segment");
    }
    return RC_NOFAULT;
}

/* Protected, compatibility, real and virtual-8086 mode. */
static rc_fault seg_linear_legacy(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
                                  rc_access acc, uint64_t *lin)
{
    const rc_segment *s = &cpu->seg[seg];
    if (!is_real_like(cpu)) {
        /* SDM Vol. 3A 5.4.1 / 3.4.2: a segment register holding a null
         * selector cannot be used for memory references: #GP(0) (#SS(0)). */
        if (s->unusable)
            return seg_fault(cpu, seg, "memory reference through a null segment register");
        TRY(seg_type_check(cpu, seg, s, acc));
    }
    /* Real and virtual-8086 mode: the limit in the descriptor cache still
     * applies (SDM Vol. 3A 20.1.1; offset 0xFFFF + 1 -> #GP / #SS). */
    if (!seg_limit_ok(s, off, size))
        return seg_fault(cpu, seg, "offset beyond the segment limit");
    /* Outside 64-bit mode linear addresses are 32 bits (compatibility mode
     * truncates too: SDM Vol. 3A 3.4.4). */
    *lin = (s->base + off) & LOW32;
    return RC_NOFAULT;
}

/* The common cases inline: 64-bit mode, and a usable flat writable
 * expand-up data segment (every check below passes for it in every mode). */
static inline __attribute__((always_inline)) rc_fault
seg_linear(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc, uint64_t *lin)
{
    if (__builtin_expect(cpu->mode == RC_MODE_LONG64, 1)) {
        /* SDM Vol. 3A 3.4.4 / 5.3.1: no limit or type checks in 64-bit
         * mode; only FS and GS have a base. 3.3.7.1: the address (first and
         * last byte) must be canonical, else #SS(0) for SS references
         * (RSP/RBP-based), #GP(0) otherwise. */
        uint64_t l = off + (seg >= RC_SEG_FS ? cpu->seg[seg].base : 0);
        if (__builtin_expect(!rc_is_canonical(l) || !rc_is_canonical(l + size - 1), 0))
            return seg_fault(cpu, seg, "non-canonical address in 64-bit mode");
        *lin = l;
        return RC_NOFAULT;
    }
    const rc_segment *s = &cpu->seg[seg];
    if (__builtin_expect(s->limit == LIMIT_4G && s->s && !s->unusable &&
                             (s->type & (TYPE_CODE | TYPE_WRITE | TYPE_EXPDOWN)) == TYPE_WRITE,
                         1)) {
        *lin = (s->base + off) & LOW32;
        return RC_NOFAULT;
    }
    return seg_linear_legacy(cpu, seg, off, size, acc, lin);
}

rc_fault rc_seg_linear(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc,
                       uint64_t *lin)
{
    return seg_linear(cpu, seg, off, size, acc, lin);
}

/* ------------------------------------------------------------------ accessors */

/* SDM Vol. 3A 6.15 "Interrupt 17 -- Alignment Check Exception (#AC)": a
 * data or stack reference at CPL 3 whose linear address is not a multiple
 * of its size raises #AC(0) when CR0.AM = 1 and RFLAGS.AC = 1. Checked
 * after segmentation and before paging (the order Bochs uses; the SDM does
 * not rank them). Implicit supervisor accesses never reach here. */
static inline rc_fault ac_check(rc_cpu *cpu, uint64_t lin, unsigned size)
{
    if (__builtin_expect((lin & (size - 1)) != 0, 0) && rc_ac_enabled(cpu)) {
        cpu->fault_reason = "misaligned data access at CPL 3 with CR0.AM = 1 and RFLAGS.AC = 1";
        return rc_exc_err(RC_EXC_AC, 0);
    }
    return RC_NOFAULT;
}

rc_fault rc_read(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc,
                 uint64_t *val)
{
    uint64_t lin;
    TRY(seg_linear(cpu, seg, off, size, acc, &lin));
    TRY(ac_check(cpu, lin, size));
    uint8_t *p = mmu_fast_ptr(cpu, lin, size, acc);
    if (__builtin_expect(p != NULL, 1)) {
        *val = mmu_load(p, size);
        return RC_NOFAULT;
    }
    return rc_lin_read(cpu, lin, size, acc, val);
}

rc_fault rc_write(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t val)
{
    uint64_t lin;
    TRY(seg_linear(cpu, seg, off, size, RC_ACC_WRITE, &lin));
    TRY(ac_check(cpu, lin, size));
    uint8_t *p = mmu_fast_ptr(cpu, lin, size, RC_ACC_WRITE);
    if (__builtin_expect(p != NULL, 1)) {
        const rc_tlb_entry *e = mmu_tlb_entry(cpu, mmu_tlb_kind(cpu, RC_ACC_WRITE), lin);
        mmu_note_code_write(cpu, e->phys);
        mmu_store(p, size, val);
        return RC_NOFAULT;
    }
    return rc_lin_write(cpu, lin, size, RC_ACC_WRITE, val);
}

/* One fetched chunk inside one page, from RAM, MMIO with a read callback,
 * or the open bus. */
static rc_fault fetch_phys(rc_cpu *cpu, uint64_t phys, uint8_t *buf, unsigned n)
{
    uint8_t *host = rc_bus_host_page(cpu, phys, false);
    if (host) {
        memcpy(buf, host + (phys & (RC_PAGE_SIZE - 1)), n);
        return RC_NOFAULT;
    }
    rc_region *r = rc_bus_find(cpu, phys);
    if (r && !r->rd)
        return rc_unsupported(cpu, "instruction fetch from MMIO without a read callback");
    for (unsigned i = 0; i < n; i++) {
        uint64_t v;
        TRY(rc_phys_read(cpu, phys + i, 1, &v));
        buf[i] = (uint8_t)v;
    }
    return RC_NOFAULT;
}

rc_fault rc_fetch(rc_cpu *cpu, uint64_t rip, uint8_t *buf, unsigned len, unsigned *got)
{
    uint64_t lin;
    unsigned avail = len;
    *got = 0;
    if (cpu->mode == RC_MODE_LONG64) {
        /* SDM Vol. 3A 3.3.7.1: a non-canonical RIP -> #GP(0). Bytes past
         * the top of the lower canonical half cannot be fetched. */
        if (!rc_is_canonical(rip))
            return seg_fault(cpu, RC_SEG_CS, "instruction fetch from a non-canonical address");
        if ((int64_t)rip >= 0 && (1ull << 47) - rip < avail)
            avail = (unsigned)((1ull << 47) - rip);
        lin = rip;
    } else {
        /* SDM Vol. 3A 5.3: instruction bytes beyond the CS limit -> #GP(0). */
        const rc_segment *cs = &cpu->seg[RC_SEG_CS];
        if (cs->limit != LIMIT_4G) {
            if (rip > cs->limit)
                return seg_fault(cpu, RC_SEG_CS, "instruction fetch beyond the CS limit");
            if ((uint64_t)cs->limit - rip + 1 < avail)
                avail = (unsigned)(cs->limit - rip + 1);
        }
        lin = (cs->base + rip) & LOW32;
    }
    unsigned n = 0;
    while (n < avail) {
        uint64_t l = cpu->mode == RC_MODE_LONG64 ? lin + n : (lin + n) & LOW32;
        uint64_t phys;
        rc_fault f = rc_translate(cpu, l, RC_ACC_EXEC, &phys);
        if (RC_FAILED(f)) {
            if (n == 0 || f.kind != RCF_EXCEPTION)
                return f;
            break; /* the decoder asks again for the first missing byte */
        }
        unsigned chunk = (unsigned)(RC_PAGE_SIZE - (l & (RC_PAGE_SIZE - 1)));
        if (chunk > avail - n)
            chunk = avail - n;
        TRY(fetch_phys(cpu, phys, buf + n, chunk));
        n += chunk;
    }
    *got = n;
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ segment loads */

/* Real-address and virtual-8086 mode (SDM Vol. 3A 20.1.1, 20.2.1): the base
 * is selector << 4. In real mode only the selector and base change: the
 * limit and attributes stay as they were ("big real mode", as QEMU and
 * Bochs do). In virtual-8086 mode the cache is the fixed 8086 segment:
 * limit 0xFFFF, read/write accessed data, DPL 3, 16-bit. */
static rc_fault load_seg_real(rc_cpu *cpu, unsigned seg, uint16_t sel)
{
    rc_segment *s = &cpu->seg[seg];
    s->selector = sel;
    s->base = (uint64_t)sel << 4;
    s->unusable = 0;
    s->present = 1;
    s->s = 1;
    if (cpu->mode == RC_MODE_VM86) {
        s->limit = 0xFFFF;
        s->type = seg == RC_SEG_CS ? (TYPE_CODE | TYPE_READ | TYPE_ACCESSED)
                                   : TYPE_DATA_RW_ACCESSED;
        s->dpl = 3;
        s->db = s->g = s->l = s->avl = 0;
    }
    if (seg == RC_SEG_SS || seg == RC_SEG_CS)
        rc_update_mode(cpu);
    return RC_NOFAULT;
}

/* A null selector in DS/ES/FS/GS (SDM Vol. 2B "MOV": the register is marked
 * unusable). What happens to the hidden part differs by vendor (Xen XSA-191,
 * Linux X86_BUG_NULL_SEG): Intel zeroes the base, sets the limit to the
 * maximum and clears the attributes; AMD keeps base and limit and only
 * marks the segment not present. */
static void load_null_data_seg(rc_cpu *cpu, unsigned seg, uint16_t sel)
{
    rc_segment *s = &cpu->seg[seg];
    if (cpu->model && cpu->model->null_sel_clears_base) {
        uint16_t keep_sel = sel;
        memset(s, 0, sizeof(*s));
        s->selector = keep_sel;
        s->limit = LIMIT_4G;
    } else {
        s->selector = sel;
        s->present = 0;
    }
    s->unusable = 1;
}

/* SDM Vol. 2B "MOV" / "POP" / "LSS", operation for SS. */
static rc_fault load_ss(rc_cpu *cpu, uint16_t sel)
{
    unsigned rpl = sel & SEL_RPL_MASK;
    if ((sel & SEL_NULL_MASK) == 0) {
        /* 64-bit mode allows a null SS at CPL < 3 when RPL = CPL; the
         * register becomes unusable (SDM Vol. 2B "MOV", 64-bit column;
         * Vol. 3A 5.4.1.1). Elsewhere: #GP(0). */
        FAULT_IF(cpu, cpu->mode != RC_MODE_LONG64 || cpu->cpl == 3 || rpl != cpu->cpl, RC_EXC_GP,
                 0, "null selector loaded into SS");
        rc_segment *s = &cpu->seg[RC_SEG_SS];
        s->selector = sel;
        s->unusable = 1;
        s->dpl = (uint8_t)rpl;
        rc_update_mode(cpu);
        return RC_NOFAULT;
    }
    rc_desc d;
    /* Index beyond the table limit -> #GP(selector). */
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_GP, &d));
    uint32_t err = sel & SEL_ERR_MASK;
    FAULT_IF(cpu, rpl != cpu->cpl, RC_EXC_GP, err, "SS selector RPL differs from CPL");
    FAULT_IF(cpu, !d.seg.s || (d.seg.type & TYPE_CODE) || !(d.seg.type & TYPE_WRITE), RC_EXC_GP,
             err, "SS descriptor is not a writable data segment");
    FAULT_IF(cpu, d.seg.dpl != cpu->cpl, RC_EXC_GP, err, "SS descriptor DPL differs from CPL");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_SS, err, "SS segment not present");
    TRY(rc_desc_set_accessed(cpu, sel, &d));
    rc_seg_from_desc(&cpu->seg[RC_SEG_SS], sel, &d);
    rc_update_mode(cpu); /* SS.B -> stack size */
    return RC_NOFAULT;
}

/* SDM Vol. 2B "MOV" / "POP" / "LDS/LES/LFS/LGS", operation for DS..GS. */
static rc_fault load_data_seg(rc_cpu *cpu, unsigned seg, uint16_t sel)
{
    if ((sel & SEL_NULL_MASK) == 0) {
        load_null_data_seg(cpu, seg, sel);
        return RC_NOFAULT;
    }
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, false, RC_EXC_GP, &d));
    uint32_t err = sel & SEL_ERR_MASK;
    unsigned rpl = sel & SEL_RPL_MASK;
    bool code = (d.seg.type & TYPE_CODE) != 0;
    FAULT_IF(cpu, !d.seg.s || (code && !(d.seg.type & TYPE_READ)), RC_EXC_GP, err,
             "not a data or readable code segment");
    /* Data and non-conforming code: RPL > DPL or CPL > DPL -> #GP(sel). */
    bool conforming = code && (d.seg.type & TYPE_CONFORM);
    FAULT_IF(cpu, !conforming && (rpl > d.seg.dpl || cpu->cpl > d.seg.dpl), RC_EXC_GP, err,
             "segment DPL is less than CPL or RPL");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_NP, err, "segment not present");
    TRY(rc_desc_set_accessed(cpu, sel, &d));
    rc_seg_from_desc(&cpu->seg[seg], sel, &d);
    return RC_NOFAULT;
}

rc_fault rc_load_seg(rc_cpu *cpu, unsigned seg, uint16_t sel)
{
    if (seg > RC_SEG_GS)
        return rc_unsupported(cpu, "rc_load_seg for LDTR/TR (LLDT/LTR load those)");
    if (is_real_like(cpu))
        return load_seg_real(cpu, seg, sel);
    if (seg == RC_SEG_CS)
        return rc_unsupported(cpu, "loading CS in protected mode outside a far transfer");
    if (seg == RC_SEG_SS)
        return load_ss(cpu, sel);
    return load_data_seg(cpu, seg, sel);
}

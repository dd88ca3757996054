/*
 * machine.c - the standard machine (docs/standard-machine.md).
 *
 * Built through the public API only, the way any embedder would: RAM, the
 * descriptor tables, the TSS, the page tables and the handler stubs are
 * written into guest memory, and every register (with the hidden parts of
 * the segment registers) is set directly.
 */
#include "machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ constants */

/* Descriptor access bits, SDM Vol. 3A 3.4.5 Figure 3-8 and Table 3-1. */
#define TYPE_DATA_RW_A 0x3   /* read/write, accessed */
#define TYPE_CODE_RX_A 0xb   /* execute/read, accessed */
#define TYPE_TSS_BUSY 0xb    /* 32-bit / 64-bit TSS, busy (Table 3-2) */
#define TYPE_INT_GATE 0xe    /* 32-bit / 64-bit interrupt gate */
#define LIMIT_4G 0xfffff     /* with G = 1: 4 GiB */
#define TSS_LIMIT 0x67       /* 104-byte TSS, no I/O bitmap */

/* Page-table entry bits, SDM Vol. 3A 4.3 Table 4-6 and 4.5 Table 4-19. */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull

/* Control-register values (cpu.h has the same bits for the library). */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define RFLAGS_FIXED 0x2ull

/* MSR indices, SDM Vol. 4 Table 2-2. */
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u

#define OP_HLT 0xf4
#define NUM_VECTORS 256
#define VEC_INT80 0x80
/* Linux's IST use (arch/x86/include/asm/page_64_types.h): IST index + 1. */
#define IST_DF 1
#define IST_NMI 2
#define IST_DB 3
#define IST_MC 4

/* GDT indices (selector >> 3). */
enum {
    GDT_KERNEL32_CS = 1, GDT_KERNEL_CS = 2, GDT_KERNEL_DS = 3, GDT_USER32_CS = 4,
    GDT_USER_DS = 5, GDT_USER_CS = 6, GDT_TSS = 8, GDT_TSS_HI = 9,
    GDT_RING1_CS32 = 16, GDT_RING1_CS = 17, GDT_RING1_DS = 18,
    GDT_RING2_CS32 = 19, GDT_RING2_CS = 20, GDT_RING2_DS = 21,
    GDT_16BIT_FIRST = 22, /* ring r: 22 + 2r code, 23 + 2r data */
};

static bool ia32e(rcm_mode m) { return m == RCM_LONG || m == RCM_COMPAT; }

/* ------------------------------------------------------------------ names */

static const char *const mode_names[RCM_MODE_COUNT] = { "real", "prot16", "prot32", "compat",
                                                        "long" };

const char *rcm_mode_name(rcm_mode mode)
{
    return (unsigned)mode < RCM_MODE_COUNT ? mode_names[mode] : "?";
}

int rcm_mode_parse(const char *s, rcm_mode *out)
{
    for (unsigned i = 0; i < RCM_MODE_COUNT; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (rcm_mode)i;
            return 0;
        }
    return -1;
}

unsigned rcm_code_size(rcm_mode mode)
{
    switch (mode) {
    case RCM_REAL:
    case RCM_PROT16: return 2;
    case RCM_LONG: return 8;
    default: return 4;
    }
}

/* ------------------------------------------------------------------ descriptors */

/* SDM Vol. 3A 3.4.5 Figure 3-8: the segment-descriptor bit layout. */
uint64_t rcm_desc_encode(const rcm_desc_fields *f)
{
    uint64_t d = 0;
    d |= (uint64_t)(f->limit & 0xffff);
    d |= (uint64_t)(f->base & 0xffffff) << 16;
    d |= (uint64_t)(f->type & 0xf) << 40;
    d |= (uint64_t)(f->s & 1) << 44;
    d |= (uint64_t)(f->dpl & 3) << 45;
    d |= (uint64_t)(f->p & 1) << 47;
    d |= (uint64_t)((f->limit >> 16) & 0xf) << 48;
    d |= (uint64_t)(f->avl & 1) << 52;
    d |= (uint64_t)(f->l & 1) << 53;
    d |= (uint64_t)(f->db & 1) << 54;
    d |= (uint64_t)(f->g & 1) << 55;
    d |= (uint64_t)((f->base >> 24) & 0xff) << 56;
    return d;
}

void rcm_desc_decode(uint64_t d, rcm_desc_fields *f)
{
    f->limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    f->base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
    f->type = (d >> 40) & 0xf;
    f->s = (d >> 44) & 1;
    f->dpl = (d >> 45) & 3;
    f->p = (d >> 47) & 1;
    f->avl = (d >> 52) & 1;
    f->l = (d >> 53) & 1;
    f->db = (d >> 54) & 1;
    f->g = (d >> 55) & 1;
}

void rcm_desc_to_seg(uint64_t d, uint16_t sel, rc_segment *s)
{
    rcm_desc_fields f;
    rcm_desc_decode(d, &f);
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = f.base;
    /* SDM Vol. 3A 3.4.5: with G = 1 the limit is scaled by 4 KiB, low 12 bits set. */
    s->limit = f.g ? (f.limit << 12) | 0xfff : f.limit;
    s->type = f.type;
    s->s = f.s;
    s->dpl = f.dpl;
    s->present = f.p;
    s->avl = f.avl;
    s->l = f.l;
    s->db = f.db;
    s->g = f.g;
    s->unusable = 0;
}

static uint64_t flat(uint8_t type, unsigned dpl, bool l)
{
    rcm_desc_fields f = { 0, LIMIT_4G, type, 1, (uint8_t)dpl, 1, 0, l, !l, 1 };
    return rcm_desc_encode(&f);
}

static uint64_t seg16(uint8_t type, unsigned ring)
{
    rcm_desc_fields f = { (uint32_t)((ring + 1) * RCM_RING_BASE), 0xffff, type, 1,
                          (uint8_t)ring, 1, 0, 0, 0, 0 };
    return rcm_desc_encode(&f);
}

/* The GDT (docs/standard-machine.md "GDT"). 64-bit code descriptors exist
 * only in IA-32e machines; a legacy machine gets 32-bit code in their
 * place, since L is reserved outside IA-32e mode (SDM Vol. 3A 3.4.5). */
uint64_t rcm_gdt_entry(rcm_mode mode, unsigned index)
{
    bool l = ia32e(mode);
    switch (index) {
    case GDT_KERNEL32_CS: return flat(TYPE_CODE_RX_A, 0, false);
    case GDT_KERNEL_CS: return flat(TYPE_CODE_RX_A, 0, l);
    case GDT_KERNEL_DS: return flat(TYPE_DATA_RW_A, 0, false);
    case GDT_USER32_CS: return flat(TYPE_CODE_RX_A, 3, false);
    case GDT_USER_DS: return flat(TYPE_DATA_RW_A, 3, false);
    case GDT_USER_CS: return flat(TYPE_CODE_RX_A, 3, l);
    case GDT_TSS: {
        rcm_desc_fields f = { (uint32_t)RCM_TSS, TSS_LIMIT, TYPE_TSS_BUSY, 0, 0, 1, 0, 0, 0, 0 };
        return rcm_desc_encode(&f);
    }
    case GDT_TSS_HI: return 0; /* base[63:32] = 0 (long mode); null in legacy */
    case GDT_RING1_CS32: return flat(TYPE_CODE_RX_A, 1, false);
    case GDT_RING1_CS: return flat(TYPE_CODE_RX_A, 1, l);
    case GDT_RING1_DS: return flat(TYPE_DATA_RW_A, 1, false);
    case GDT_RING2_CS32: return flat(TYPE_CODE_RX_A, 2, false);
    case GDT_RING2_CS: return flat(TYPE_CODE_RX_A, 2, l);
    case GDT_RING2_DS: return flat(TYPE_DATA_RW_A, 2, false);
    default:
        if (index >= GDT_16BIT_FIRST && index < RCM_GDT_ENTRIES) {
            unsigned k = index - GDT_16BIT_FIRST;
            return seg16(k & 1 ? TYPE_DATA_RW_A : TYPE_CODE_RX_A, k / 2);
        }
        return 0;
    }
}

/* ------------------------------------------------------------------ addresses */

uint64_t rcm_code_addr(rcm_mode mode, unsigned cpl)
{
    return mode == RCM_REAL ? RCM_REAL_CODE : (cpl + 1) * RCM_RING_BASE;
}

uint64_t rcm_code_max(rcm_mode mode)
{
    return mode == RCM_REAL ? RCM_REAL_CODE_MAX : RCM_RING_CODE_MAX;
}

uint64_t rcm_ring_stack_top(unsigned ring)
{
    return (ring + 1) * RCM_RING_BASE + RCM_RING_STACK_OFF;
}

uint64_t rcm_stack_pointer(rcm_mode mode, unsigned cpl)
{
    if (mode == RCM_REAL)
        return RCM_REAL_CODE; /* SS = 0: the stack grows down below the code */
    if (mode == RCM_PROT16)
        return 0; /* SS.base = region, SP = 0: the first push goes to 0xFFFE */
    return rcm_ring_stack_top(cpl);
}

static const uint16_t code32_sel[4] = { RCM_SEL_KERNEL32_CS, RCM_SEL_RING1_CS32,
                                        RCM_SEL_RING2_CS32, RCM_SEL_USER32_CS };
static const uint16_t code64_sel[4] = { RCM_SEL_KERNEL_CS, RCM_SEL_RING1_CS, RCM_SEL_RING2_CS,
                                        RCM_SEL_USER_CS };
static const uint16_t data_sel[4] = { RCM_SEL_KERNEL_DS, RCM_SEL_RING1_DS, RCM_SEL_RING2_DS,
                                      RCM_SEL_USER_DS };

uint16_t rcm_code_selector(rcm_mode mode, unsigned cpl)
{
    switch (mode) {
    case RCM_REAL: return 0;
    case RCM_PROT16: return RCM_SEL_CS16(cpl);
    case RCM_LONG: return code64_sel[cpl & 3];
    default: return code32_sel[cpl & 3];
    }
}

uint16_t rcm_data_selector(rcm_mode mode, unsigned cpl)
{
    switch (mode) {
    case RCM_REAL: return 0;
    case RCM_PROT16: return RCM_SEL_DS16(cpl);
    default: return data_sel[cpl & 3];
    }
}

uint64_t rcm_handler_addr(unsigned vector)
{
    return RCM_HANDLERS + (uint64_t)vector * RCM_HANDLER_STRIDE;
}

int rcm_handler_vector(uint64_t linear)
{
    if (linear < RCM_HANDLERS || linear >= RCM_HANDLERS + NUM_VECTORS * RCM_HANDLER_STRIDE)
        return -1;
    return (int)((linear - RCM_HANDLERS) / RCM_HANDLER_STRIDE);
}

const char *rcm_entry_name(uint64_t linear)
{
    if (linear >= RCM_ENTRY_LSTAR && linear < RCM_ENTRY_LSTAR + 16)
        return "the 64-bit SYSCALL entry (LSTAR)";
    if (linear >= RCM_ENTRY_CSTAR && linear < RCM_ENTRY_CSTAR + 16)
        return "the compatibility-mode SYSCALL entry (CSTAR)";
    if (linear >= RCM_ENTRY_STAR && linear < RCM_ENTRY_STAR + 16)
        return "the legacy-mode SYSCALL entry (STAR[31:0])";
    if (linear >= RCM_ENTRY_SYSENTER && linear < RCM_ENTRY_SYSENTER + 16)
        return "the SYSENTER entry (SYSENTER_EIP)";
    return NULL;
}

/* ------------------------------------------------------------------ building */

typedef struct builder {
    rc_cpu *cpu;
    const rcm_options *o;
    char *err;
    size_t errlen;
} builder;

#define CHECK(b, call, what)                                                                       \
    do {                                                                                           \
        rc_status st_ = (call);                                                                    \
        if (st_ != RC_OK) {                                                                        \
            snprintf((b)->err, (b)->errlen, "standard machine: %s failed: %s", (what),             \
                     rc_strerror(st_) ? rc_strerror(st_) : "error");                               \
            return st_;                                                                            \
        }                                                                                          \
    } while (0)

#define TRY_ST(call)                                                                               \
    do {                                                                                           \
        rc_status st2_ = (call);                                                                   \
        if (st2_ != RC_OK)                                                                         \
            return st2_;                                                                           \
    } while (0)

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static rc_status write_gdt(builder *b)
{
    uint8_t gdt[RCM_GDT_ENTRIES * 8];
    for (unsigned i = 0; i < RCM_GDT_ENTRIES; i++)
        put64(gdt + 8 * i, rcm_gdt_entry(b->o->mode, i));
    CHECK(b, rc_write_phys(b->cpu, RCM_GDT, gdt, sizeof gdt), "writing the GDT");
    return RC_OK;
}

static unsigned gate_dpl(unsigned vector)
{
    /* Linux: INT3, INTO and INT 0x80 may be used from user mode (DPL 3). */
    return vector == RC_EXC_BP || vector == RC_EXC_OF || vector == VEC_INT80 ? 3 : 0;
}

static unsigned gate_ist(unsigned vector)
{
    switch (vector) {
    case RC_EXC_DF: return IST_DF;
    case RC_EXC_NMI: return IST_NMI;
    case RC_EXC_DB: return IST_DB;
    case RC_EXC_MC: return IST_MC;
    default: return 0;
    }
}

/* IDT: SDM Vol. 3A 6.11 Figure 6-2 (32-bit gates), 6.14.1 Figure 6-8 (64-bit). */
static rc_status write_idt(builder *b)
{
    uint8_t idt[NUM_VECTORS * 16];
    memset(idt, 0, sizeof idt);
    bool wide = ia32e(b->o->mode);
    for (unsigned v = 0; v < NUM_VECTORS; v++) {
        uint64_t off = rcm_handler_addr(v);
        uint8_t *g = idt + v * (wide ? 16 : 8);
        put16(g + 0, (uint16_t)off);
        put16(g + 2, RCM_SEL_KERNEL_CS);
        g[4] = wide ? (uint8_t)gate_ist(v) : 0;
        g[5] = (uint8_t)(0x80 | gate_dpl(v) << 5 | TYPE_INT_GATE);
        put16(g + 6, (uint16_t)(off >> 16));
        if (wide)
            put32(g + 8, (uint32_t)(off >> 32));
    }
    CHECK(b, rc_write_phys(b->cpu, RCM_IDT, idt, NUM_VECTORS * (wide ? 16 : 8)),
          "writing the IDT");

    /* Real-mode IVT: vector n -> 0000:(handler offset), SDM Vol. 3A 21.1.4. */
    uint8_t ivt[NUM_VECTORS * 4];
    for (unsigned v = 0; v < NUM_VECTORS; v++) {
        put16(ivt + 4 * v, (uint16_t)rcm_handler_addr(v));
        put16(ivt + 4 * v + 2, 0);
    }
    CHECK(b, rc_write_phys(b->cpu, RCM_IVT, ivt, sizeof ivt), "writing the IVT");

    /* Handler stubs and syscall entries: HLT, HLT, ... */
    uint8_t hlt[NUM_VECTORS * RCM_HANDLER_STRIDE + 64];
    memset(hlt, OP_HLT, sizeof hlt);
    CHECK(b, rc_write_phys(b->cpu, RCM_HANDLERS, hlt, sizeof hlt), "writing the handler stubs");
    return RC_OK;
}

/* TSS: SDM Vol. 3A 8.2.1 Figure 8-2 (32-bit), 8.7 Figure 8-11 (64-bit). */
static rc_status write_tss(builder *b)
{
    uint8_t tss[TSS_LIMIT + 1];
    memset(tss, 0, sizeof tss);
    if (ia32e(b->o->mode)) {
        for (unsigned r = 0; r < 3; r++)
            put64(tss + 4 + 8 * r, rcm_ring_stack_top(r)); /* RSP0..RSP2 */
        for (unsigned k = 1; k <= 7; k++)
            put64(tss + 36 + 8 * (k - 1), RCM_IST_BASE + k * RCM_IST_SIZE); /* IST1..7 */
    } else {
        for (unsigned r = 0; r < 3; r++) {
            put32(tss + 4 + 8 * r, (uint32_t)rcm_ring_stack_top(r)); /* ESPr */
            put16(tss + 8 + 8 * r, data_sel[r]);                      /* SSr */
        }
        put32(tss + 28, b->o->no_paging ? 0 : (uint32_t)RCM_PT_ROOT); /* CR3 */
    }
    put16(tss + 102, TSS_LIMIT + 1); /* I/O map base beyond the limit: no bitmap */
    CHECK(b, rc_write_phys(b->cpu, RCM_TSS, tss, sizeof tss), "writing the TSS");
    return RC_OK;
}

static uint64_t page_flags(uint64_t addr)
{
    return PTE_P | PTE_RW | (addr >= RCM_USER_START ? PTE_US : 0);
}

/* 4-level paging, SDM Vol. 3A 4.5: PML4 -> PDPT -> PD -> 8 PTs of 4 KiB
 * pages identity-mapping RAM; page 0 and everything above RAM not present. */
static rc_status write_paging4(builder *b)
{
    enum { SIZE = (3 + RCM_RAM_SIZE / 0x200000) * 0x1000 };
    uint8_t *t = calloc(1, SIZE);
    if (!t)
        return RC_ERR_NO_MEMORY;
    const uint64_t pml4 = RCM_PT_ROOT, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000,
                   pt = pml4 + 0x3000;
    const uint64_t upper = PTE_P | PTE_RW | PTE_US;
    put64(t + 0, pdpt | upper);
    put64(t + 0x1000, pd | upper);
    for (uint64_t i = 0; i < RCM_RAM_SIZE / 0x200000; i++)
        put64(t + 0x2000 + 8 * i, (pt + i * 0x1000) | upper);
    for (uint64_t a = 0x1000; a < RCM_RAM_SIZE; a += 0x1000)
        put64(t + 0x3000 + 8 * (a >> 12), a | page_flags(a));
    rc_status st = rc_write_phys(b->cpu, pml4, t, SIZE);
    free(t);
    CHECK(b, st, "writing the 4-level page tables");
    return RC_OK;
}

/* 32-bit paging, SDM Vol. 3A 4.3: a page directory and 4 page tables. */
static rc_status write_paging2(builder *b)
{
    enum { SIZE = (1 + RCM_RAM_SIZE / 0x400000) * 0x1000 };
    uint8_t *t = calloc(1, SIZE);
    if (!t)
        return RC_ERR_NO_MEMORY;
    const uint64_t pd = RCM_PT_ROOT, pt = pd + 0x1000;
    for (uint64_t i = 0; i < RCM_RAM_SIZE / 0x400000; i++)
        put32(t + 4 * i, (uint32_t)((pt + i * 0x1000) | PTE_P | PTE_RW | PTE_US));
    for (uint64_t a = 0x1000; a < RCM_RAM_SIZE; a += 0x1000)
        put32(t + 0x1000 + 4 * (a >> 12), (uint32_t)(a | page_flags(a)));
    rc_status st = rc_write_phys(b->cpu, pd, t, SIZE);
    free(t);
    CHECK(b, st, "writing the 32-bit page tables");
    return RC_OK;
}

static rc_status set_msrs(builder *b)
{
    static const struct { uint32_t index; const char *name; } msrs[] = {
        { MSR_STAR, "STAR" }, { MSR_LSTAR, "LSTAR" }, { MSR_CSTAR, "CSTAR" },
        { MSR_SFMASK, "SFMASK" }, { MSR_SYSENTER_CS, "SYSENTER_CS" },
        { MSR_SYSENTER_ESP, "SYSENTER_ESP" }, { MSR_SYSENTER_EIP, "SYSENTER_EIP" },
    };
    /* Linux: STAR[63:48] = __USER32_CS, STAR[47:32] = __KERNEL_CS. */
    const uint64_t values[] = {
        (uint64_t)RCM_SEL_USER32_CS << 48 | (uint64_t)RCM_SEL_KERNEL_CS << 32 | RCM_ENTRY_STAR,
        RCM_ENTRY_LSTAR, RCM_ENTRY_CSTAR, RCM_SFMASK, RCM_SEL_KERNEL_CS, rcm_ring_stack_top(0),
        RCM_ENTRY_SYSENTER,
    };
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "setting MSR %s", msrs[i].name);
        CHECK(b, rc_set_msr(b->cpu, msrs[i].index, values[i]), what);
    }
    return RC_OK;
}

static rc_status set_seg(builder *b, rc_seg_reg r, const rc_segment *s, const char *what)
{
    CHECK(b, rc_set_seg(b->cpu, r, s), what);
    return RC_OK;
}

static void real_seg(rc_segment *s, uint16_t sel, bool code)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = (uint64_t)sel << 4;
    s->limit = 0xffff;
    s->type = code ? TYPE_CODE_RX_A : TYPE_DATA_RW_A;
    s->s = 1;
    s->present = 1;
}

static rc_status set_segments(builder *b)
{
    const rcm_options *o = b->o;
    static const rc_seg_reg data_regs[] = { RC_SEG_SS, RC_SEG_DS, RC_SEG_ES, RC_SEG_FS,
                                            RC_SEG_GS };
    rc_segment s;
    if (o->mode == RCM_REAL) {
        real_seg(&s, 0, true);
        TRY_ST(set_seg(b, RC_SEG_CS, &s, "setting CS"));
        real_seg(&s, 0, false);
        for (size_t i = 0; i < 5; i++)
            TRY_ST(set_seg(b, data_regs[i], &s, "setting a data segment register"));
        return RC_OK;
    }
    uint16_t cs = rcm_code_selector(o->mode, o->cpl), ds = rcm_data_selector(o->mode, o->cpl);
    rcm_desc_to_seg(rcm_gdt_entry(o->mode, cs >> 3), cs, &s);
    TRY_ST(set_seg(b, RC_SEG_CS, &s, "setting CS"));
    rcm_desc_to_seg(rcm_gdt_entry(o->mode, ds >> 3), ds, &s);
    for (size_t i = 0; i < 5; i++)
        TRY_ST(set_seg(b, data_regs[i], &s, "setting a data segment register"));

    /* TR as LTR leaves it: the busy TSS; LDTR null (unusable). */
    rcm_desc_to_seg(rcm_gdt_entry(o->mode, GDT_TSS), RCM_SEL_TSS, &s);
    TRY_ST(set_seg(b, RC_SEG_TR, &s, "setting TR"));
    memset(&s, 0, sizeof s);
    s.unusable = 1;
    TRY_ST(set_seg(b, RC_SEG_LDTR, &s, "setting LDTR"));
    return RC_OK;
}

static rc_status set_registers(builder *b)
{
    const rcm_options *o = b->o;
    uint64_t cr0, cr3 = RCM_PT_ROOT, cr4 = 0, efer = 0;
    switch (o->mode) {
    case RCM_REAL:
        cr0 = CR0_ET; /* caches on, protection off */
        break;
    case RCM_PROT16:
    case RCM_PROT32:
        cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | (o->no_paging ? 0 : CR0_WP | CR0_PG);
        if (o->no_paging)
            cr3 = 0;
        efer = EFER_SCE;
        break;
    default:
        cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
        cr4 = CR4_PAE;
        efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
        break;
    }
    CHECK(b, rc_set_reg(b->cpu, RC_REG_CR4, cr4), "setting CR4");
    CHECK(b, rc_set_reg(b->cpu, RC_REG_EFER, efer), "setting EFER");
    CHECK(b, rc_set_reg(b->cpu, RC_REG_CR3, cr3), "setting CR3");
    CHECK(b, rc_set_reg(b->cpu, RC_REG_CR0, cr0), "setting CR0");

    rc_dtable gdtr = { RCM_GDT, RCM_GDT_LIMIT };
    rc_dtable idtr = { RCM_IDT, (uint16_t)(NUM_VECTORS * (ia32e(o->mode) ? 16 : 8) - 1) };
    if (o->mode == RCM_REAL)
        idtr = (rc_dtable){ RCM_IVT, NUM_VECTORS * 4 - 1 };
    CHECK(b, rc_set_gdtr(b->cpu, &gdtr), "setting GDTR");
    CHECK(b, rc_set_idtr(b->cpu, &idtr), "setting IDTR");

    TRY_ST(set_segments(b));
    CHECK(b, rc_set_reg(b->cpu, RC_REG_CPL, o->cpl), "setting CPL");

    rc_segment cs;
    CHECK(b, rc_get_seg(b->cpu, RC_SEG_CS, &cs), "reading CS");
    CHECK(b, rc_set_reg(b->cpu, RC_REG_RIP, rcm_code_addr(o->mode, o->cpl) - cs.base),
          "setting RIP");
    CHECK(b, rc_set_reg(b->cpu, RC_REG_RSP, rcm_stack_pointer(o->mode, o->cpl)), "setting RSP");
    CHECK(b, rc_set_reg(b->cpu, RC_REG_RFLAGS, RFLAGS_FIXED), "setting RFLAGS");
    /* Every other GPR starts at 0 (reset leaves a signature in EDX). */
    for (unsigned r = RC_REG_RAX; r <= RC_REG_R15; r++)
        if (r != RC_REG_RSP)
            CHECK(b, rc_set_reg(b->cpu, (rc_reg)r, 0), "clearing the GPRs");
    return RC_OK;
}

static rc_status build(builder *b)
{
    CHECK(b, rc_map_ram(b->cpu, 0, RCM_RAM_SIZE, NULL, 0), "mapping 16 MiB of RAM");
    TRY_ST(write_gdt(b));
    TRY_ST(write_idt(b));
    TRY_ST(write_tss(b));
    TRY_ST(ia32e(b->o->mode) ? write_paging4(b) : write_paging2(b));
    TRY_ST(set_msrs(b));
    TRY_ST(set_registers(b));
    return RC_OK;
}

rc_status rcm_build(const rcm_options *o, rc_cpu **out, char *err, size_t errlen)
{
    *out = NULL;
    if ((unsigned)o->mode >= RCM_MODE_COUNT || o->cpl > 3 || (o->mode == RCM_REAL && o->cpl)) {
        snprintf(err, errlen, "standard machine: %s", o->cpl > 3 ? "CPL must be 0..3"
                 : (unsigned)o->mode >= RCM_MODE_COUNT ? "unknown mode"
                 : "real mode has no CPL other than 0");
        return RC_ERR_INVALID_ARG;
    }
    rc_config cfg = RC_CONFIG_INIT;
    cfg.vendor = o->vendor;
    rc_cpu *cpu = NULL;
    rc_status st = rc_create(&cfg, &cpu);
    if (st != RC_OK || !cpu) {
        snprintf(err, errlen, "standard machine: rc_create failed: %s",
                 rc_strerror(st) ? rc_strerror(st) : "error");
        return st != RC_OK ? st : RC_ERR_STATE;
    }
    builder b = { cpu, o, err, errlen };
    st = build(&b);
    if (st != RC_OK) {
        rc_destroy(cpu);
        return st;
    }
    *out = cpu;
    return RC_OK;
}

rc_status rcm_load_code(rc_cpu *cpu, const rcm_options *o, const uint8_t *code, size_t len,
                        char *err, size_t errlen)
{
    if (len == 0 || len > rcm_code_max(o->mode)) {
        snprintf(err, errlen, "code is %zu bytes; the standard machine takes 1 to %llu bytes in "
                 "%s mode", len, (unsigned long long)rcm_code_max(o->mode),
                 rcm_mode_name(o->mode));
        return RC_ERR_INVALID_ARG;
    }
    uint64_t at = rcm_code_addr(o->mode, o->cpl);
    rc_status st = rc_write_phys(cpu, at, code, len);
    if (st != RC_OK) {
        snprintf(err, errlen, "writing the code at 0x%llx failed: %s", (unsigned long long)at,
                 rc_strerror(st) ? rc_strerror(st) : "error");
        return st;
    }
    return RC_OK;
}

rc_status rcm_load_segment(rc_cpu *cpu, rc_seg_reg seg, uint16_t sel, char *err, size_t errlen)
{
    rc_segment s;
    rc_status st = rc_get_seg(cpu, seg, &s);
    if (st != RC_OK) {
        snprintf(err, errlen, "reading the segment register failed: %s",
                 rc_strerror(st) ? rc_strerror(st) : "error");
        return st;
    }
    uint64_t cr0 = 0;
    rc_get_reg(cpu, RC_REG_CR0, &cr0);
    if (!(cr0 & CR0_PE)) {
        /* Real mode: SDM Vol. 3A 21.1.1, base = selector * 16; attributes kept. */
        s.selector = sel;
        s.base = (uint64_t)sel << 4;
        return rc_set_seg(cpu, seg, &s);
    }
    if (sel & 4) {
        snprintf(err, errlen, "selector 0x%x names the LDT; the standard machine has no LDT", sel);
        return RC_ERR_BAD_VALUE;
    }
    if ((sel & ~3u) == 0) {
        if (seg == RC_SEG_CS || seg == RC_SEG_SS) {
            snprintf(err, errlen, "a null selector cannot be loaded into %s",
                     seg == RC_SEG_CS ? "CS" : "SS");
            return RC_ERR_BAD_VALUE;
        }
        memset(&s, 0, sizeof s);
        s.selector = sel;
        s.unusable = 1;
        return rc_set_seg(cpu, seg, &s);
    }
    rc_dtable gdtr;
    st = rc_get_gdtr(cpu, &gdtr);
    if (st == RC_OK && (uint32_t)(sel | 7) > gdtr.limit) {
        snprintf(err, errlen, "selector 0x%x is beyond the GDT limit 0x%x", sel, gdtr.limit);
        return RC_ERR_BAD_VALUE;
    }
    uint8_t raw[8];
    if (st == RC_OK)
        st = rc_read_phys(cpu, gdtr.base + (sel & ~7u), raw, sizeof raw);
    if (st != RC_OK) {
        snprintf(err, errlen, "reading GDT entry 0x%x failed: %s", sel,
                 rc_strerror(st) ? rc_strerror(st) : "error");
        return st;
    }
    uint64_t d = 0;
    for (int i = 7; i >= 0; i--)
        d = d << 8 | raw[i];
    if (!(d & (1ull << 47))) {
        snprintf(err, errlen, "GDT entry 0x%x is not present (descriptor 0x%016llx)", sel & ~7u,
                 (unsigned long long)d);
        return RC_ERR_BAD_VALUE;
    }
    rcm_desc_to_seg(d, sel, &s);
    st = rc_set_seg(cpu, seg, &s);
    if (st == RC_OK && seg == RC_SEG_CS)
        st = rc_set_reg(cpu, RC_REG_CPL, sel & 3);
    return st;
}

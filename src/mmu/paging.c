/*
 * paging.c - linear -> physical: the page walks of SDM Vol. 3A chapter 4
 * (32-bit, PAE and 4-level paging), the access-rights rules of 4.6, the
 * #PF error code of 4.7, the accessed/dirty flags of 4.8, the software TLB
 * (mmu.h, docs/mmu.md) and the linear-address accessors rc_lin_*.
 *
 * Not modeled (the walk returns "unsupported" when CR4 enables them, never
 * a silently different translation): SMEP, SMAP, protection keys, PCIDs,
 * 5-level paging. PAE PDPTE registers are not modeled: the four PDPTEs are
 * read from memory on every walk (docs/mmu.md).
 */
#include "mmu.h"

/* CR3 in 32-bit paging: bits 31:12 hold the page-directory address (SDM
 * Vol. 3A 4.3 Table 4-3); in PAE paging bits 31:5 address the PDPT (4.4.1). */
#define CR3_PD32_MASK 0xFFFFF000ull
#define CR3_PDPT_MASK 0xFFFFFFE0ull
#define LOW32 0xFFFFFFFFull

/* Fixed reserved bits, SDM Vol. 3A 4.4.2 Tables 4-8..4-11, 4.5 Tables 4-14..4-20. */
#define PAE_PDPTE_RSVD_LOW 0x1E6ull       /* PAE PDPTE bits 2:1 and 8:5 */
#define LARGE_2M_RSVD (0xFFull << 13)     /* 2-MiB leaf: bits 20:13 */
#define LARGE_1G_RSVD (0x1FFFFull << 13)  /* 1-GiB leaf: bits 29:13 */
#define PML4E_RSVD_PS PTE_PS              /* PML4E bit 7 */
#define PSE_4M_RSVD_BIT21 (1ull << 21)    /* 32-bit 4-MiB PDE bit 21 */

#define CPUID_81_EDX_PAGE1GB (1u << 26)   /* SDM Vol. 2A CPUID leaf 80000001H EDX[26] */

unsigned rc_mmu_maxphyaddr(const rc_cpu *cpu)
{
    /* SDM Vol. 3A 4.1.4: CPUID.80000008H:EAX[7:0]; 36 if the leaf is absent. */
    uint32_t r[4] = { 0, 0, 0, 0 };
    rc_model_cpuid(cpu, 0x80000000u, 0, r);
    if (r[0] < 0x80000008u)
        return 36;
    rc_model_cpuid(cpu, 0x80000008u, 0, r);
    unsigned n = r[0] & 0xff;
    return n >= 32 && n <= 52 ? n : 36;
}

static bool model_has_1g_pages(const rc_cpu *cpu)
{
    uint32_t r[4] = { 0, 0, 0, 0 };
    rc_model_cpuid(cpu, 0x80000000u, 0, r);
    if (r[0] < 0x80000001u)
        return false;
    rc_model_cpuid(cpu, 0x80000001u, 0, r);
    return (r[3] & CPUID_81_EDX_PAGE1GB) != 0;
}

/* ------------------------------------------------------------------ the walk */

typedef struct walk {
    rc_cpu *cpu;
    uint64_t lin;
    bool probe;        /* debugger view: no checks, no A/D, no callbacks */
    bool user, write, exec;
    bool nxe;
    uint32_t pfec;     /* W/R, U/S, I/D bits describing the access (4.7) */
    uint64_t addr_mask;/* bits (MAXPHYADDR-1):12 */
    unsigned maxphy;
    /* the entries used, top level first, for the A/D update */
    unsigned n;
    uint64_t ent_addr[4], ent_val[4];
    uint8_t ent_size;  /* 4 (32-bit paging) or 8 */
    bool ent_has_a[4]; /* PAE PDPTEs have no accessed flag */
    /* combined rights (4.6): AND of R/W and U/S, OR of XD */
    bool rw, us, xd;
    /* result */
    uint64_t phys;
    uint8_t size_class;
    bool global;
} walk;

#define WALK_NOT_PRESENT 0 /* P = 0 in an entry: error-code P = 0 */
#define WALK_RSVD 1        /* reserved bit: P = 1, RSVD = 1 */
#define WALK_PROT 2        /* access-rights violation: P = 1 */

static rc_fault walk_fault(walk *w, int why, const char *reason)
{
    uint32_t err = w->pfec;
    if (why == WALK_RSVD)
        err |= PFEC_P | PFEC_RSVD;
    else if (why == WALK_PROT)
        err |= PFEC_P;
    if (!w->probe) {
        w->cpu->fault_cr2 = w->lin;
        w->cpu->fault_reason = reason;
    }
    return rc_exc_err(RC_EXC_PF, err);
}

/* Read one paging-structure entry and record it. */
static rc_fault walk_read(walk *w, uint64_t addr, bool has_a, uint64_t *val)
{
    uint64_t v = 0;
    if (w->probe) {
        /* Side-effect free: RAM only (MMIO callbacks are never called). */
        uint8_t *p = rc_bus_host_page(w->cpu, addr, false);
        if (!p)
            return walk_fault(w, WALK_NOT_PRESENT, "paging structure not in RAM");
        v = mmu_load(p + (addr & (RC_PAGE_SIZE - 1)), w->ent_size);
    } else {
        TRY(rc_bus_walk_read(w->cpu, addr, w->ent_size, &v));
    }
    w->ent_addr[w->n] = addr;
    w->ent_val[w->n] = v;
    w->ent_has_a[w->n] = has_a;
    w->n++;
    *val = v;
    return RC_NOFAULT;
}

/* A present entry's contribution to the access rights (SDM Vol. 3A 4.6). */
static void walk_rights(walk *w, uint64_t e)
{
    w->rw &= (e & PTE_RW) != 0;
    w->us &= (e & PTE_US) != 0;
    if (w->nxe)
        w->xd |= (e & PTE_XD) != 0;
}

/* SDM Vol. 3A 4.3: 32-bit paging (4-KiB pages, 4-MiB pages with CR4.PSE). */
static rc_fault walk_32(walk *w)
{
    rc_cpu *cpu = w->cpu;
    uint32_t lin = (uint32_t)w->lin;
    uint64_t pde, pte;
    w->ent_size = 4;

    TRY(walk_read(w, (cpu->cr3 & CR3_PD32_MASK) | ((lin >> 22) << 2), true, &pde));
    if (!(pde & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "page-directory entry not present");
    walk_rights(w, pde);

    if ((pde & PTE_PS) && (cpu->cr4 & RC_CR4_PSE)) {
        /* Table 4-4: a 4-MiB page. PSE-36: bits (M-20):13 are physical
         * address bits (M-1):32 with M = min(MAXPHYADDR, 40); bits 21:(M-19)
         * are reserved. */
        unsigned m = w->maxphy < 40 ? w->maxphy : 40;
        uint64_t rsvd = PSE_4M_RSVD_BIT21 | (((1ull << 22) - 1) & ~((1ull << (m - 19)) - 1));
        if (pde & rsvd)
            return walk_fault(w, WALK_RSVD, "reserved bit set in a 4-MiB page-directory entry");
        uint64_t hi = (pde >> 13) & ((1ull << (m - 32)) - 1);
        w->phys = (pde & 0xFFC00000ull) | (hi << 32) | (lin & 0x3FFFFFu);
        w->size_class = TLB_SZ_4M;
        w->global = (pde & PTE_G) != 0;
        return RC_NOFAULT;
    }
    /* Table 4-5/4-6: no reserved bits in a PDE that references a page
     * table or in a PTE (PS is ignored when CR4.PSE = 0). */
    TRY(walk_read(w, (pde & 0xFFFFF000ull) | (((lin >> 12) & 0x3FF) << 2), true, &pte));
    if (!(pte & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "page-table entry not present");
    walk_rights(w, pte);
    w->phys = (pte & 0xFFFFF000ull) | (lin & 0xFFFu);
    w->size_class = TLB_SZ_4K;
    w->global = (pte & PTE_G) != 0;
    return RC_NOFAULT;
}

/* Reserved bits common to PAE and 4-level entries above the address:
 * bits 51:M (4-level) or 62:M (PAE), and XD when EFER.NXE = 0 (SDM Vol. 3A
 * 4.4.2 and 4.5, note to Figures 4-7/4-11: "If IA32_EFER.NXE = 0 and the P
 * flag is 1, the XD flag is reserved"). */
static uint64_t high_rsvd(const walk *w, unsigned top_bit)
{
    uint64_t m = ((1ull << (top_bit + 1)) - 1) & ~((1ull << w->maxphy) - 1);
    return m | (w->nxe ? 0 : PTE_XD);
}

/* The PDE and PTE levels shared by PAE and 4-level paging. */
static rc_fault walk_pd_pt(walk *w, uint64_t pd_base, uint64_t rsvd)
{
    uint64_t pde, pte;
    TRY(walk_read(w, pd_base + (((w->lin >> 21) & 0x1FF) << 3), true, &pde));
    if (!(pde & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "page-directory entry not present");
    if (pde & PTE_PS) {
        /* 2-MiB page (Tables 4-10 / 4-17): bits 20:13 reserved. */
        if (pde & (rsvd | LARGE_2M_RSVD))
            return walk_fault(w, WALK_RSVD, "reserved bit set in a 2-MiB page-directory entry");
        walk_rights(w, pde);
        w->phys = (pde & w->addr_mask & ~0x1FFFFFull) | (w->lin & 0x1FFFFF);
        w->size_class = TLB_SZ_2M;
        w->global = (pde & PTE_G) != 0;
        return RC_NOFAULT;
    }
    if (pde & rsvd)
        return walk_fault(w, WALK_RSVD, "reserved bit set in a page-directory entry");
    walk_rights(w, pde);
    TRY(walk_read(w, (pde & w->addr_mask) + (((w->lin >> 12) & 0x1FF) << 3), true, &pte));
    if (!(pte & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "page-table entry not present");
    if (pte & rsvd)
        return walk_fault(w, WALK_RSVD, "reserved bit set in a page-table entry");
    walk_rights(w, pte);
    w->phys = (pte & w->addr_mask) | (w->lin & 0xFFF);
    w->size_class = TLB_SZ_4K;
    w->global = (pte & PTE_G) != 0;
    return RC_NOFAULT;
}

/* SDM Vol. 3A 4.4: PAE paging. The PDPTE is read here on every walk (the
 * PDPTE registers loaded by MOV CR3 are not modeled). A PAE PDPTE has no
 * R/W, U/S, XD or accessed flag (Table 4-8). */
static rc_fault walk_pae(walk *w)
{
    rc_cpu *cpu = w->cpu;
    uint64_t pdpte;
    w->ent_size = 8;
    w->lin &= LOW32;
    TRY(walk_read(w, (cpu->cr3 & CR3_PDPT_MASK) + ((w->lin >> 30) << 3), false, &pdpte));
    if (!(pdpte & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "PDPTE not present");
    uint64_t pdpte_rsvd = PAE_PDPTE_RSVD_LOW | (~0ull & ~((1ull << w->maxphy) - 1));
    if (pdpte & pdpte_rsvd)
        return walk_fault(w, WALK_RSVD, "reserved bit set in a PAE PDPTE");
    return walk_pd_pt(w, pdpte & w->addr_mask, high_rsvd(w, 62));
}

/* SDM Vol. 3A 4.5: 4-level paging. */
static rc_fault walk_4level(walk *w)
{
    rc_cpu *cpu = w->cpu;
    uint64_t pml4e, pdpte;
    uint64_t rsvd = high_rsvd(w, 51);
    w->ent_size = 8;

    TRY(walk_read(w, (cpu->cr3 & w->addr_mask) + (((w->lin >> 39) & 0x1FF) << 3), true, &pml4e));
    if (!(pml4e & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "PML4 entry not present");
    /* Table 4-15: PML4E bit 7 is reserved. */
    if (pml4e & (rsvd | PML4E_RSVD_PS))
        return walk_fault(w, WALK_RSVD, "reserved bit set in a PML4 entry");
    walk_rights(w, pml4e);

    TRY(walk_read(w, (pml4e & w->addr_mask) + (((w->lin >> 30) & 0x1FF) << 3), true, &pdpte));
    if (!(pdpte & PTE_P))
        return walk_fault(w, WALK_NOT_PRESENT, "PDPT entry not present");
    if (pdpte & PTE_PS) {
        /* Table 4-16: a 1-GiB page, bits 29:13 reserved; PS is reserved
         * when the processor does not support 1-GiB pages (CPUID
         * 80000001H:EDX[26], 4.1.4). */
        if (!model_has_1g_pages(cpu) || (pdpte & (rsvd | LARGE_1G_RSVD)))
            return walk_fault(w, WALK_RSVD, "reserved bit set in a 1-GiB PDPT entry");
        walk_rights(w, pdpte);
        w->phys = (pdpte & w->addr_mask & ~0x3FFFFFFFull) | (w->lin & 0x3FFFFFFF);
        w->size_class = TLB_SZ_1G;
        w->global = (pdpte & PTE_G) != 0;
        return RC_NOFAULT;
    }
    if (pdpte & rsvd)
        return walk_fault(w, WALK_RSVD, "reserved bit set in a PDPT entry");
    walk_rights(w, pdpte);
    return walk_pd_pt(w, pdpte & w->addr_mask, rsvd);
}

/* SDM Vol. 3A 4.6: may this access use the translation? */
static rc_fault walk_check_rights(walk *w)
{
    rc_cpu *cpu = w->cpu;
    if (w->user) {
        /* User-mode accesses need U/S = 1 at every level; writes also R/W = 1
         * at every level (CR0.WP does not matter for user accesses). */
        if (!w->us)
            return walk_fault(w, WALK_PROT, "user-mode access to a supervisor-mode page");
        if (w->write && !w->rw)
            return walk_fault(w, WALK_PROT, "user-mode write to a read-only page");
    } else if (w->write && !w->rw && (cpu->cr0 & RC_CR0_WP)) {
        /* Supervisor writes to read-only pages fault only with CR0.WP = 1. */
        return walk_fault(w, WALK_PROT, "supervisor-mode write to a read-only page with CR0.WP = 1");
    }
    /* Instruction fetches need XD = 0 at every level when EFER.NXE = 1. */
    if (w->exec && w->xd)
        return walk_fault(w, WALK_PROT, "instruction fetch from an execute-disable page");
    return RC_NOFAULT;
}

/* Set A in every entry used and D in the leaf for writes (SDM Vol. 3A 4.8),
 * as a locked OR of the entry in memory. Done once the access is known to
 * be allowed (the SDM lets a processor set A flags earlier; docs/mmu.md). */
static rc_fault walk_set_ad(walk *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        uint64_t bits = w->ent_has_a[i] ? PTE_A : 0;
        if (i == w->n - 1 && w->write)
            bits |= PTE_D;
        if ((w->ent_val[i] & bits) == bits)
            continue;
        uint64_t cur;
        TRY(rc_phys_read(w->cpu, w->ent_addr[i], w->ent_size, &cur));
        if ((cur & bits) != bits)
            TRY(rc_phys_write(w->cpu, w->ent_addr[i], w->ent_size, cur | bits));
    }
    return RC_NOFAULT;
}

static rc_fault unsupported_cr4(rc_cpu *cpu)
{
    uint64_t cr4 = cpu->cr4;
    if (cr4 & RC_CR4_SMEP)
        return rc_unsupported(cpu, "CR4.SMEP (supervisor-mode execution prevention)");
    if (cr4 & RC_CR4_SMAP)
        return rc_unsupported(cpu, "CR4.SMAP (supervisor-mode access prevention)");
    if (cpu->paging == 4) {
        if (cr4 & RC_CR4_PKE)
            return rc_unsupported(cpu, "CR4.PKE (protection keys)");
        if (cr4 & RC_CR4_PCIDE)
            return rc_unsupported(cpu, "CR4.PCIDE (process-context identifiers)");
        if (cr4 & RC_CR4_LA57)
            return rc_unsupported(cpu, "CR4.LA57 (5-level paging)");
    }
    return RC_NOFAULT;
}

static void walk_init(walk *w, rc_cpu *cpu, uint64_t lin, unsigned acc, bool probe)
{
    memset(w, 0, sizeof(*w));
    w->cpu = cpu;
    w->lin = lin;
    w->probe = probe;
    w->user = mmu_acc_is_user(cpu, acc);
    w->write = mmu_acc_is_write(acc);
    w->exec = mmu_acc_kind(acc) == RC_ACC_EXEC;
    /* EFER.NXE matters only with PAE or 4-level paging (4.1.3). */
    w->nxe = cpu->paging >= 3 && (cpu->efer & RC_EFER_NXE);
    w->maxphy = rc_mmu_maxphyaddr(cpu);
    w->addr_mask = ((1ull << w->maxphy) - 1) & RC_PAGE_MASK;
    w->rw = w->us = true;
    /* SDM Vol. 3A 4.7: W/R is 1 for writes (RMW included), U/S for
     * user-mode accesses, I/D for fetches when PAE/4-level paging is in use
     * with EFER.NXE = 1 (SMEP is not modeled). */
    w->pfec = (w->write ? PFEC_W : 0) | (w->user ? PFEC_U : 0) |
              (w->exec && w->nxe ? PFEC_ID : 0);
}

static rc_fault walk_run(walk *w)
{
    switch (w->cpu->paging) {
    case 2: return walk_32(w);
    case 3: return walk_pae(w);
    default: return walk_4level(w);
    }
}

/* ------------------------------------------------------------------ rc_translate and the TLB */

static void tlb_fill(rc_cpu *cpu, unsigned kind, uint64_t lin, uint64_t phys, uint8_t size_class,
                     bool global)
{
    rc_tlb_entry *e = mmu_tlb_entry(cpu, kind, lin);
    e->tag = mmu_tlb_tag(lin);
    e->phys = (phys & RC_PAGE_MASK) | size_class;
    e->host = rc_bus_host_page(cpu, phys, kind == TLB_SUP_WRITE || kind == TLB_USER_WRITE);
    /* SDM Vol. 3A 4.10.2.4: G matters only with CR4.PGE = 1. */
    e->global = global && (cpu->cr4 & RC_CR4_PGE);
}

rc_fault rc_translate(rc_cpu *cpu, uint64_t lin, unsigned acc, uint64_t *phys)
{
    unsigned kind = mmu_tlb_kind(cpu, acc);
    rc_tlb_entry *e = mmu_tlb_entry(cpu, kind, lin);
    if (__builtin_expect(e->tag == mmu_tlb_tag(lin), 1)) {
        *phys = (e->phys & RC_PAGE_MASK) | (lin & (RC_PAGE_SIZE - 1));
        return RC_NOFAULT;
    }
    if (cpu->paging == 0) {
        /* No paging: the (32-bit) linear address is the physical address. */
        *phys = lin & LOW32;
        tlb_fill(cpu, kind, lin, *phys, TLB_SZ_4K, false);
        return RC_NOFAULT;
    }
    TRY(unsupported_cr4(cpu));
    if (cpu->paging == 4 && !rc_is_canonical(lin)) {
        /* Callers check canonicality first (SDM Vol. 3A 3.3.7.1); this is
         * the backstop for linear addresses built elsewhere. */
        cpu->fault_reason = "non-canonical linear address";
        return rc_exc_err(RC_EXC_GP, 0);
    }
    walk w;
    walk_init(&w, cpu, cpu->paging == 4 ? lin : lin & LOW32, acc, false);
    TRY(walk_run(&w));
    TRY(walk_check_rights(&w));
    TRY(walk_set_ad(&w));
    *phys = w.phys;
    tlb_fill(cpu, kind, lin, w.phys, w.size_class, w.global);
    return RC_NOFAULT;
}

void rc_tlb_flush_all(rc_cpu *cpu, bool keep_global)
{
    cpu->fetch_tag = 0;
    for (unsigned k = 0; k < RC_TLB_KINDS; k++)
        for (unsigned i = 0; i < RC_TLB_SIZE; i++) {
            rc_tlb_entry *e = &cpu->tlb[k][i];
            if (!keep_global || !e->global)
                e->tag = 0;
        }
}

/* INVLPG (SDM Vol. 2A "INVLPG", Vol. 3A 4.10.4.1): drop the translation of
 * the page holding 'lin', global or not, whatever its size: every 4-KiB
 * piece of a large page goes too. */
void rc_tlb_flush_page(rc_cpu *cpu, uint64_t lin)
{
    cpu->fetch_tag = 0;
    static const uint64_t span[4] = {
        [TLB_SZ_4K] = 1ull << 12, [TLB_SZ_2M] = 1ull << 21, [TLB_SZ_4M] = 1ull << 22,
        [TLB_SZ_1G] = 1ull << 30,
    };
    for (unsigned k = 0; k < RC_TLB_KINDS; k++) {
        rc_tlb_entry *d = mmu_tlb_entry(cpu, k, lin);
        if (d->tag == mmu_tlb_tag(lin))
            d->tag = 0;
        for (unsigned i = 0; i < RC_TLB_SIZE; i++) {
            rc_tlb_entry *e = &cpu->tlb[k][i];
            unsigned sz = (unsigned)(e->phys & TLB_SZ_MASK);
            if (e->tag && sz != TLB_SZ_4K &&
                ((((e->tag - 1) << RC_PAGE_SHIFT) ^ lin) & ~(span[sz] - 1)) == 0)
                e->tag = 0;
        }
    }
}

/* ------------------------------------------------------------------ debugger view */

static rc_status probe_translate(rc_cpu *cpu, uint64_t linear, uint64_t *gpa)
{
    if (cpu->paging == 0) {
        *gpa = linear & LOW32;
    } else {
        if (cpu->paging == 4 && (cpu->cr4 & RC_CR4_LA57))
            return RC_ERR_STATE;
        if (cpu->paging == 4 && !rc_is_canonical(linear))
            return RC_ERR_NOT_MAPPED;
        walk w;
        walk_init(&w, cpu, cpu->paging == 4 ? linear : linear & LOW32, RC_ACC_READ, true);
        if (RC_FAILED(walk_run(&w)))
            return RC_ERR_NOT_MAPPED;
        *gpa = w.phys;
    }
    return rc_bus_host_page(cpu, *gpa, false) ? RC_OK : RC_ERR_NOT_MAPPED;
}

rc_status rc_translate_linear(rc_cpu *cpu, uint64_t linear, uint64_t *gpa)
{
    if (!cpu || !gpa)
        return RC_ERR_INVALID_ARG;
    return probe_translate(cpu, linear, gpa);
}

rc_status rc_read_linear(rc_cpu *cpu, uint64_t linear, void *buf, size_t len)
{
    if (!cpu || (!buf && len))
        return RC_ERR_INVALID_ARG;
    uint8_t *out = buf;
    while (len) {
        uint64_t gpa;
        rc_status st = probe_translate(cpu, linear, &gpa);
        if (st != RC_OK)
            return st;
        size_t n = RC_PAGE_SIZE - (linear & (RC_PAGE_SIZE - 1));
        if (n > len)
            n = len;
        memcpy(out, rc_bus_host_page(cpu, gpa, false) + (gpa & (RC_PAGE_SIZE - 1)), n);
        out += n;
        len -= n;
        linear += n;
        if (cpu->paging != 4)
            linear &= LOW32;
    }
    return RC_OK;
}

/* ------------------------------------------------------------------ linear accessors */

static void fire_mem_hook(rc_cpu *cpu, uint64_t lin, uint64_t phys, unsigned size, bool write,
                          uint64_t val)
{
    if (cpu->hooks.mem)
        cpu->hooks.mem(cpu->hooks.opaque, cpu, lin, phys, size, write, val);
}

/* The next page's linear address: 32-bit linear addresses wrap at 4 GiB
 * outside 64-bit mode. */
static uint64_t next_lin(const rc_cpu *cpu, uint64_t lin)
{
    return cpu->mode == RC_MODE_LONG64 ? lin : lin & LOW32;
}

static rc_fault lin_read_slow(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc,
                              uint64_t *val)
{
    unsigned first = (unsigned)(RC_PAGE_SIZE - (lin & (RC_PAGE_SIZE - 1)));
    uint64_t p1, p2, lo = 0, hi = 0;
    if (first >= size) {
        TRY(rc_translate(cpu, lin, acc, &p1));
        TRY(rc_phys_read(cpu, p1, size, &lo));
    } else {
        /* A page-crossing access: both translations first (SDM Vol. 3A 4.7:
         * either page can fault), then the two parts. */
        TRY(rc_translate(cpu, lin, acc, &p1));
        TRY(rc_translate(cpu, next_lin(cpu, lin + first), acc, &p2));
        TRY(rc_phys_read(cpu, p1, first, &lo));
        TRY(rc_phys_read(cpu, p2, size - first, &hi));
        lo |= hi << (first * 8);
    }
    *val = lo;
    fire_mem_hook(cpu, lin, p1, size, false, lo);
    return RC_NOFAULT;
}

rc_fault rc_lin_read(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc, uint64_t *val)
{
    uint8_t *p = mmu_fast_ptr(cpu, lin, size, acc);
    if (__builtin_expect(p != NULL, 1)) {
        *val = mmu_load(p, size);
        return RC_NOFAULT;
    }
    return lin_read_slow(cpu, lin, size, acc, val);
}

static rc_fault lin_write_slow(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc,
                               uint64_t val)
{
    unsigned first = (unsigned)(RC_PAGE_SIZE - (lin & (RC_PAGE_SIZE - 1)));
    uint64_t p1, p2;
    if (first >= size) {
        TRY(rc_translate(cpu, lin, acc, &p1));
        TRY(rc_phys_write(cpu, p1, size, val));
    } else {
        /* Check both pages before writing anything: a write that crosses
         * into a faulting page leaves the first page unchanged. */
        TRY(rc_translate(cpu, lin, acc, &p1));
        TRY(rc_translate(cpu, next_lin(cpu, lin + first), acc, &p2));
        TRY(rc_phys_write(cpu, p1, first, val));
        TRY(rc_phys_write(cpu, p2, size - first, val >> (first * 8)));
    }
    fire_mem_hook(cpu, lin, p1, size, true, val & rc_size_mask(size));
    return RC_NOFAULT;
}

rc_fault rc_lin_write(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc, uint64_t val)
{
    acc = (acc & ~3u) | RC_ACC_WRITE;
    uint8_t *p = mmu_fast_ptr(cpu, lin, size, acc);
    if (__builtin_expect(p != NULL, 1)) {
        rc_tlb_entry *e = mmu_tlb_entry(cpu, mmu_tlb_kind(cpu, acc), lin);
        mmu_note_code_write(cpu, e->phys);
        mmu_store(p, size, val);
        return RC_NOFAULT;
    }
    return lin_write_slow(cpu, lin, size, acc, val);
}

/* Byte strings of any length (descriptor tables, TSS, far pointers). */
rc_fault rc_lin_read_bytes(rc_cpu *cpu, uint64_t lin, void *buf, unsigned len, unsigned acc)
{
    uint8_t *out = buf;
    uint64_t first_phys = 0;
    for (unsigned done = 0; done < len;) {
        uint64_t l = next_lin(cpu, lin + done), phys;
        TRY(rc_translate(cpu, l, acc, &phys));
        if (!done)
            first_phys = phys;
        unsigned n = (unsigned)(RC_PAGE_SIZE - (l & (RC_PAGE_SIZE - 1)));
        if (n > len - done)
            n = len - done;
        for (unsigned i = 0; i < n;) {
            unsigned c = n - i < 8 ? n - i : 8;
            uint64_t v;
            TRY(rc_phys_read(cpu, phys + i, c, &v));
            memcpy(out + done + i, &v, c);
            i += c;
        }
        done += n;
    }
    if (cpu->hooks.mem && len) {
        uint64_t v = 0;
        memcpy(&v, out, len < 8 ? len : 8);
        fire_mem_hook(cpu, lin, first_phys, len, false, v);
    }
    return RC_NOFAULT;
}

rc_fault rc_lin_write_bytes(rc_cpu *cpu, uint64_t lin, const void *buf, unsigned len, unsigned acc)
{
    const uint8_t *in = buf;
    acc = (acc & ~3u) | RC_ACC_WRITE;
    uint64_t first_phys = 0;
    /* Pass 1: every page must allow the write before any byte is stored. */
    for (unsigned done = 0; done < len;) {
        uint64_t l = next_lin(cpu, lin + done), phys;
        TRY(rc_translate(cpu, l, acc, &phys));
        if (!done)
            first_phys = phys;
        done += (unsigned)(RC_PAGE_SIZE - (l & (RC_PAGE_SIZE - 1)));
    }
    /* Pass 2: store (the translations are now TLB hits). */
    for (unsigned done = 0; done < len;) {
        uint64_t l = next_lin(cpu, lin + done), phys;
        TRY(rc_translate(cpu, l, acc, &phys));
        unsigned n = (unsigned)(RC_PAGE_SIZE - (l & (RC_PAGE_SIZE - 1)));
        if (n > len - done)
            n = len - done;
        for (unsigned i = 0; i < n;) {
            unsigned c = n - i < 8 ? n - i : 8;
            uint64_t v = 0;
            memcpy(&v, in + done + i, c);
            TRY(rc_phys_write(cpu, phys + i, c, v));
            i += c;
        }
        done += n;
    }
    if (cpu->hooks.mem && len) {
        uint64_t v = 0;
        memcpy(&v, in, len < 8 ? len : 8);
        fire_mem_hook(cpu, lin, first_phys, len, true, v);
    }
    return RC_NOFAULT;
}

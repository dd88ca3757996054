/*
 * mmu.h - private to src/mmu: page-table entry bits, the software-TLB
 * layout, the I/O completion keys, and the inline fast paths that
 * rc_read / rc_write / rc_lin_* share.
 *
 * The TLB (docs/mmu.md "TLB design"): cpu->tlb[kind][index], kind = one of
 * six access classes (supervisor/user x read/write/exec), index = linear
 * page number mod RC_TLB_SIZE, direct-mapped. An entry exists only when
 * that access class is permitted on that page (and, for writes, the D bit
 * is already set), so a hit needs no permission test. 'phys' holds the
 * 4 KiB physical page; its low bits (always zero in a page address) hold
 * the size class of the translation it came from, so INVLPG can drop every
 * 4 KiB piece of a large page.
 */
#ifndef RC_MMU_H
#define RC_MMU_H

#include "cpu.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ringcore's memory fast paths assume a little-endian host (guest memory is little-endian)"
#endif

/* ------------------------------------------------------------------ page-table entry bits */

/* SDM Vol. 3A 4.3 (Tables 4-4..4-6), 4.4.2 (Tables 4-8..4-11), 4.5 (4-14..4-20). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_XD (1ull << 63)

/* #PF error code, SDM Vol. 3A 4.7 Figure 4-12. */
#define PFEC_P (1u << 0)
#define PFEC_W (1u << 1)
#define PFEC_U (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_ID (1u << 4)

/* ------------------------------------------------------------------ TLB */

enum {
    TLB_SUP_READ = 0, TLB_SUP_WRITE = 1, TLB_USER_READ = 2, TLB_USER_WRITE = 3,
    TLB_SUP_EXEC = 4, TLB_USER_EXEC = 5
};

/* Size class kept in the low bits of rc_tlb_entry.phys. */
enum { TLB_SZ_4K = 0, TLB_SZ_2M = 1, TLB_SZ_4M = 2, TLB_SZ_1G = 3 };
#define TLB_SZ_MASK 3ull

static inline unsigned mmu_acc_kind(unsigned acc)
{
    return acc & 3u; /* RC_ACC_READ / WRITE / EXEC / RMW */
}
static inline bool mmu_acc_is_write(unsigned acc)
{
    return (acc & 1u) != 0; /* WRITE (1) and RMW (3) */
}

/* A user-mode access: CPL 3 and not an implicit supervisor access (SDM Vol.
 * 3A 4.6: descriptor-table and TSS accesses are supervisor-mode accesses
 * even at CPL 3). */
static inline bool mmu_acc_is_user(const rc_cpu *cpu, unsigned acc)
{
    return cpu->cpl == 3 && !(acc & RC_ACC_SUPERVISOR);
}

static inline unsigned mmu_tlb_kind(const rc_cpu *cpu, unsigned acc)
{
    /* [user][READ, WRITE, EXEC, RMW] */
    static const uint8_t kinds[2][4] = {
        { TLB_SUP_READ, TLB_SUP_WRITE, TLB_SUP_EXEC, TLB_SUP_WRITE },
        { TLB_USER_READ, TLB_USER_WRITE, TLB_USER_EXEC, TLB_USER_WRITE },
    };
    return kinds[mmu_acc_is_user(cpu, acc)][mmu_acc_kind(acc)];
}

static inline rc_tlb_entry *mmu_tlb_entry(rc_cpu *cpu, unsigned kind, uint64_t lin)
{
    return &cpu->tlb[kind][(lin >> RC_PAGE_SHIFT) & (RC_TLB_SIZE - 1)];
}

static inline uint64_t mmu_tlb_tag(uint64_t lin)
{
    return (lin >> RC_PAGE_SHIFT) + 1;
}

/* Host pointer for a hit in RAM, or NULL (miss, MMIO, unmapped, ROM write). */
static inline uint8_t *mmu_tlb_host(rc_cpu *cpu, unsigned kind, uint64_t lin)
{
    rc_tlb_entry *e = mmu_tlb_entry(cpu, kind, lin);
    if (__builtin_expect(e->tag == mmu_tlb_tag(lin) && e->host != NULL, 1))
        return e->host + (lin & (RC_PAGE_SIZE - 1));
    return NULL;
}

/* ------------------------------------------------------------------ fast paths */

/* Read 'size' (1..8) little-endian bytes from host memory, zero-extended. */
static inline uint64_t mmu_load(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    switch (size) {
    case 1: v = *p; break;
    case 2: { uint16_t t; memcpy(&t, p, 2); v = t; break; }
    case 4: { uint32_t t; memcpy(&t, p, 4); v = t; break; }
    case 8: memcpy(&v, p, 8); break;
    default: memcpy(&v, p, size); break;
    }
    return v;
}

static inline void mmu_store(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t t = (uint16_t)v; memcpy(p, &t, 2); break; }
    case 4: { uint32_t t = (uint32_t)v; memcpy(p, &t, 4); break; }
    case 8: memcpy(p, &v, 8); break;
    default: memcpy(p, &v, size); break;
    }
}

/* Can a linear access of 'size' bytes at 'lin' be served by one host
 * pointer? (no hooks, TLB hit with a host page, no page crossing) */
static inline uint8_t *mmu_fast_ptr(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc)
{
    if (__builtin_expect(cpu->hooks.mem != NULL, 0))
        return NULL;
    if (__builtin_expect((lin & (RC_PAGE_SIZE - 1)) + size > RC_PAGE_SIZE, 0))
        return NULL;
    return mmu_tlb_host(cpu, mmu_tlb_kind(cpu, acc), lin);
}

/* A guest store through a host pointer: drop decoded instructions cached
 * from that physical page first (self-modifying code). */
static inline void mmu_note_code_write(rc_cpu *cpu, uint64_t phys)
{
    if (__builtin_expect(rc_icache_page_has_code(cpu, phys), 0))
        rc_icache_invalidate_page(cpu, phys);
}

/* ------------------------------------------------------------------ I/O completion keys */

/*
 * cpu->io_key names the one access a pending rc_complete_io answers
 * (docs/mmu.md "I/O and MMIO exits"). Bit 63 is never set in a key so
 * 0 can mean "none".
 *   MMIO: bits 51:0 gpa, 55:52 size, 56 is_write, 57 = 0
 *   port: bits 15:0 port, 55:52 size, 56 is_write, 57 = 1
 */
#define IOKEY_PORT (1ull << 57)
#define IOKEY_WRITE (1ull << 56)
static inline uint64_t mmu_iokey_mmio(uint64_t gpa, unsigned size, bool is_write)
{
    return (gpa & ((1ull << 52) - 1)) | ((uint64_t)(size & 0xf) << 52) |
           (is_write ? IOKEY_WRITE : 0);
}
static inline uint64_t mmu_iokey_port(uint16_t port, unsigned size, bool is_write)
{
    return IOKEY_PORT | port | ((uint64_t)(size & 0xf) << 52) | (is_write ? IOKEY_WRITE : 0);
}

/* ------------------------------------------------------------------ shared between mmu files */

/* MAXPHYADDR of the CPU model (CPUID.80000008H:EAX[7:0]; 36 without the
 * leaf, SDM Vol. 3A 4.1.4). paging.c */
unsigned rc_mmu_maxphyaddr(const rc_cpu *cpu);

/* Physical read/write for page walks: RAM, MMIO with callbacks, all-ones
 * for unmapped; MMIO without a callback is unsupported. bus.c */
rc_fault rc_bus_walk_read(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val);

#endif /* RC_MMU_H */

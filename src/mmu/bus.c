/*
 * bus.c - the physical bus: RAM regions, MMIO regions, port I/O.
 *
 * What the guest sees (docs/mmu.md "Physical bus"):
 *  - RAM answers reads and writes; RC_MAP_READONLY RAM (ROM) drops writes.
 *  - An address with nothing mapped reads as all-ones and drops writes
 *    (an open bus: the PC's floating data lines; Bochs and QEMU do the same).
 *  - MMIO with callbacks calls them; MMIO without a callback (and port I/O
 *    without callbacks) ends rc_run with RC_EXIT_MMIO / RC_EXIT_IO. The
 *    instruction is re-executed after rc_complete_io and the access then
 *    takes the completed value (cpu->io_key names the access; mmu.h).
 * Regions are 4 KiB aligned, so an access that stays in one 4 KiB page
 * stays in one region.
 */
#include <stdlib.h>

#include "mmu.h"

/* Physical addresses have at most 52 bits (SDM Vol. 3A 4.1.4: MAXPHYADDR <= 52). */
#define PHYS_LIMIT (1ull << 52)

rc_region *rc_bus_find(rc_cpu *cpu, uint64_t gpa)
{
    for (unsigned i = 0; i < cpu->nregions; i++) {
        rc_region *r = &cpu->regions[i];
        if (gpa - r->gpa < r->size)
            return r;
    }
    return NULL;
}

uint8_t *rc_bus_host_page(rc_cpu *cpu, uint64_t gpa, bool for_write)
{
    rc_region *r = rc_bus_find(cpu, gpa);
    if (!r || !r->host || (for_write && r->readonly))
        return NULL;
    return r->host + ((gpa & RC_PAGE_MASK) - r->gpa);
}

/* ------------------------------------------------------------------ mapping */

static rc_status check_new_region(const rc_cpu *cpu, uint64_t gpa, uint64_t size)
{
    if (size == 0 || gpa >= PHYS_LIMIT || size > PHYS_LIMIT - gpa)
        return RC_ERR_INVALID_ARG;
    if ((gpa | size) & (RC_PAGE_SIZE - 1))
        return RC_ERR_MAP_ALIGN;
    for (unsigned i = 0; i < cpu->nregions; i++) {
        const rc_region *r = &cpu->regions[i];
        if (gpa < r->gpa + r->size && r->gpa < gpa + size)
            return RC_ERR_MAP_OVERLAP;
    }
    if (cpu->nregions >= RC_MAX_REGIONS)
        return RC_ERR_NO_MEMORY;
    return RC_OK;
}

/* A new region changes what cached translations point at. */
static void bus_changed(rc_cpu *cpu)
{
    rc_tlb_flush_all(cpu, false);
}

rc_status rc_map_ram(rc_cpu *cpu, uint64_t gpa, uint64_t size, void *host, uint32_t flags)
{
    if (!cpu || (flags & ~RC_MAP_READONLY))
        return RC_ERR_INVALID_ARG;
    rc_status st = check_new_region(cpu, gpa, size);
    if (st != RC_OK)
        return st;
    uint8_t owned = 0;
    if (!host) {
        if (size > SIZE_MAX)
            return RC_ERR_NO_MEMORY;
        host = calloc(1, (size_t)size);
        if (!host)
            return RC_ERR_NO_MEMORY;
        owned = 1;
    }
    cpu->regions[cpu->nregions++] = (rc_region){
        .gpa = gpa, .size = size, .host = host, .owned = owned,
        .readonly = (flags & RC_MAP_READONLY) != 0,
    };
    bus_changed(cpu);
    return RC_OK;
}

rc_status rc_map_mmio(rc_cpu *cpu, uint64_t gpa, uint64_t size, rc_mmio_read_fn rd,
                      rc_mmio_write_fn wr, void *opaque)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    rc_status st = check_new_region(cpu, gpa, size);
    if (st != RC_OK)
        return st;
    cpu->regions[cpu->nregions++] = (rc_region){
        .gpa = gpa, .size = size, .rd = rd, .wr = wr, .opaque = opaque,
    };
    bus_changed(cpu);
    return RC_OK;
}

rc_status rc_set_port_io(rc_cpu *cpu, rc_pio_in_fn in, rc_pio_out_fn out, void *opaque)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    cpu->pio_in = in;
    cpu->pio_out = out;
    cpu->pio_opaque = opaque;
    return RC_OK;
}

void rc_bus_free(rc_cpu *cpu)
{
    if (!cpu)
        return;
    for (unsigned i = 0; i < cpu->nregions; i++)
        if (cpu->regions[i].owned)
            free(cpu->regions[i].host);
    memset(cpu->regions, 0, sizeof(cpu->regions));
    cpu->nregions = 0;
}

/* ------------------------------------------------------------------ embedder's physical view */

/* Host pointer for [gpa, gpa+len) if it lies in one RAM region. */
static uint8_t *ram_span(rc_cpu *cpu, uint64_t gpa, uint64_t len)
{
    rc_region *r = rc_bus_find(cpu, gpa);
    if (!r || !r->host || len > r->size - (gpa - r->gpa))
        return NULL;
    return r->host + (gpa - r->gpa);
}

void *rc_ram_ptr(rc_cpu *cpu, uint64_t gpa, uint64_t size)
{
    if (!cpu)
        return NULL;
    return ram_span(cpu, gpa, size ? size : 1);
}

/* Walk [gpa, gpa+len) region by region; all of it must be RAM. */
static rc_status phys_copy(rc_cpu *cpu, uint64_t gpa, uint8_t *buf, size_t len, bool write,
                           bool check_only)
{
    while (len) {
        rc_region *r = rc_bus_find(cpu, gpa);
        if (!r || !r->host)
            return RC_ERR_NOT_MAPPED;
        uint64_t avail = r->size - (gpa - r->gpa);
        size_t n = avail < len ? (size_t)avail : len;
        if (!check_only) {
            uint8_t *p = r->host + (gpa - r->gpa);
            if (write) {
                memcpy(p, buf, n);
                /* Writes (DMA, loaders) into cached code drop its decodes. */
                for (uint64_t pg = gpa & RC_PAGE_MASK; pg < gpa + n; pg += RC_PAGE_SIZE)
                    mmu_note_code_write(cpu, pg);
            } else {
                memcpy(buf, p, n);
            }
        }
        gpa += n;
        buf += n;
        len -= n;
    }
    return RC_OK;
}

/* Physical read/write for the embedder: RAM only (ROM included: this is how
 * an embedder loads it); MMIO and holes are RC_ERR_NOT_MAPPED and nothing
 * is transferred. MMIO callbacks are never called from here. */
rc_status rc_read_phys(rc_cpu *cpu, uint64_t gpa, void *buf, size_t len)
{
    if (!cpu || (!buf && len))
        return RC_ERR_INVALID_ARG;
    rc_status st = phys_copy(cpu, gpa, buf, len, false, true);
    return st != RC_OK ? st : phys_copy(cpu, gpa, buf, len, false, false);
}

rc_status rc_write_phys(rc_cpu *cpu, uint64_t gpa, const void *buf, size_t len)
{
    if (!cpu || (!buf && len))
        return RC_ERR_INVALID_ARG;
    rc_status st = phys_copy(cpu, gpa, (uint8_t *)buf, len, true, true);
    return st != RC_OK ? st : phys_copy(cpu, gpa, (uint8_t *)buf, len, true, false);
}

/* ------------------------------------------------------------------ exits and their completion */

/*
 * A callback-less MMIO or port access. First time: describe it in
 * cpu->exit_pending, remember its key and end the run with the instruction
 * to be restarted. After rc_complete_io the restarted instruction reaches
 * the same access again: it takes the completed value (reads) or counts as
 * done (writes). An instruction that would need a second exit in the same
 * execution (e.g. a read-modify-write of such MMIO) would restart forever:
 * that is reported as unsupported instead (docs/mmu.md).
 */
static rc_fault io_exit(rc_cpu *cpu, uint64_t key, unsigned size, uint64_t *val)
{
    if (cpu->io_pending) {
        if (cpu->io_key == key) {
            cpu->io_pending = false;
            cpu->io_key = 0;
            if (val)
                *val = cpu->io_value & rc_size_mask(size);
            return RC_NOFAULT;
        }
        return rc_unsupported(cpu, "an instruction that needs more than one MMIO/port-I/O exit "
                                   "(two callback-less accesses, e.g. read-modify-write of MMIO)");
    }
    cpu->io_key = key;
    cpu->exit_restart = true;
    return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 };
}

static rc_fault mmio_access(rc_cpu *cpu, rc_region *r, uint64_t gpa, unsigned size, bool write,
                            uint64_t *val)
{
    if (write && r->wr) {
        r->wr(r->opaque, gpa, size, *val & rc_size_mask(size));
        return RC_NOFAULT;
    }
    if (!write && r->rd) {
        *val = r->rd(r->opaque, gpa, size) & rc_size_mask(size);
        return RC_NOFAULT;
    }
    uint64_t key = mmu_iokey_mmio(gpa, size, write);
    if (!cpu->io_pending) {
        memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
        cpu->exit_pending.reason = RC_EXIT_MMIO;
        cpu->exit_pending.u.mmio.gpa = gpa;
        cpu->exit_pending.u.mmio.size = (uint8_t)size;
        cpu->exit_pending.u.mmio.is_write = write;
        cpu->exit_pending.u.mmio.value = write ? (*val & rc_size_mask(size)) : 0;
    }
    return io_exit(cpu, key, size, write ? NULL : val);
}

/* ------------------------------------------------------------------ guest physical access */

/* One access inside one 4 KiB page (hence inside one region or hole). */
static rc_fault phys_rw_page(rc_cpu *cpu, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    rc_region *r = rc_bus_find(cpu, gpa);
    if (!r) {
        /* Open bus: all-ones, writes dropped (docs/mmu.md). */
        if (!write)
            *val = rc_size_mask(size);
        return RC_NOFAULT;
    }
    if (r->host) {
        uint8_t *p = r->host + (gpa - r->gpa);
        if (!write) {
            *val = mmu_load(p, size);
        } else if (!r->readonly) {
            mmu_note_code_write(cpu, gpa);
            mmu_store(p, size, *val);
        }
        return RC_NOFAULT;
    }
    return mmio_access(cpu, r, gpa, size, write, val);
}

/* size 1..8; an access that crosses a 4 KiB boundary is split in two. */
static rc_fault phys_rw(rc_cpu *cpu, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    unsigned first = (unsigned)(RC_PAGE_SIZE - (gpa & (RC_PAGE_SIZE - 1)));
    if (__builtin_expect(first >= size, 1))
        return phys_rw_page(cpu, gpa, size, write, val);
    uint64_t lo = *val, hi = *val >> (first * 8);
    TRY(phys_rw_page(cpu, gpa, first, write, &lo));
    TRY(phys_rw_page(cpu, gpa + first, size - first, write, &hi));
    if (!write)
        *val = (lo & rc_size_mask(first)) | (hi << (first * 8));
    return RC_NOFAULT;
}

rc_fault rc_phys_read(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val)
{
    *val = 0;
    return phys_rw(cpu, gpa, size, false, val);
}

rc_fault rc_phys_write(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val)
{
    return phys_rw(cpu, gpa, size, true, &val);
}

rc_fault rc_bus_walk_read(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val)
{
    rc_region *r = rc_bus_find(cpu, gpa);
    if (r && !r->host && !r->rd)
        return rc_unsupported(cpu, "paging-structure entry in MMIO without a read callback");
    return rc_phys_read(cpu, gpa, size, val);
}

/* ------------------------------------------------------------------ port I/O */

rc_fault rc_port_in(rc_cpu *cpu, uint16_t port, unsigned size, uint32_t *val)
{
    if (cpu->pio_in) {
        *val = (uint32_t)(cpu->pio_in(cpu->pio_opaque, port, size) & rc_size_mask(size));
        return RC_NOFAULT;
    }
    if (!cpu->io_pending) {
        memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
        cpu->exit_pending.reason = RC_EXIT_IO;
        cpu->exit_pending.u.io.port = port;
        cpu->exit_pending.u.io.size = (uint8_t)size;
        cpu->exit_pending.u.io.is_write = 0;
    }
    uint64_t v = 0;
    TRY(io_exit(cpu, mmu_iokey_port(port, size, false), size, &v));
    *val = (uint32_t)v;
    return RC_NOFAULT;
}

rc_fault rc_port_out(rc_cpu *cpu, uint16_t port, unsigned size, uint32_t val)
{
    val &= (uint32_t)rc_size_mask(size);
    if (cpu->pio_out) {
        cpu->pio_out(cpu->pio_opaque, port, size, val);
        return RC_NOFAULT;
    }
    if (!cpu->io_pending) {
        memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
        cpu->exit_pending.reason = RC_EXIT_IO;
        cpu->exit_pending.u.io.port = port;
        cpu->exit_pending.u.io.size = (uint8_t)size;
        cpu->exit_pending.u.io.is_write = 1;
        cpu->exit_pending.u.io.value = val;
    }
    return io_exit(cpu, mmu_iokey_port(port, size, true), size, NULL);
}

/*
 * snapshot.c - rc_save / rc_load: the architectural state as a portable,
 * versioned, checksummed byte string.
 *
 * Every field is written one by one in little-endian order (never a copy
 * of the C struct), so a snapshot means the same on every host and
 * compiler. One routine, xfer_state(), lists the fields once and serves
 * both directions, so the writer and the reader cannot drift apart.
 * docs/api.md "Snapshot format" gives the byte layout.
 *
 *   offset  size  field
 *   0       8     magic "RINGCORE"
 *   8       4     format version (1)
 *   12      4     vendor (rc_vendor)
 *   16      8     total length in bytes, header and checksum included
 *   24      ...   state (xfer_state below)
 *   len-8   8     FNV-1a 64 of bytes [0, len-8)
 */
#include "api.h"
#include "msr/msr.h"

#define SNAP_MAGIC "RINGCORE"
#define SNAP_MAGIC_LEN 8
#define SNAP_VERSION 1u
#define SNAP_HEADER_LEN 24
#define SNAP_CHECKSUM_LEN 8
#define SNAP_DR_COUNT 6 /* DR0-DR3, DR6, DR7 */
#define SNAP_INHIBIT_MAX 3

static const unsigned snap_dr_index[SNAP_DR_COUNT] = { 0, 1, 2, 3, 6, 7 };

/* The state a snapshot carries, staged outside the CPU so that rc_load can
 * validate everything before changing anything. */
typedef struct snap_state {
    uint64_t gpr[16], rip, rflags;
    rc_segment seg[RC_SEG_COUNT];
    rc_dtable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t dr[SNAP_DR_COUNT];
    uint64_t efer;
    uint8_t cpl;
    uint64_t tsc;
    uint64_t star, lstar, cstar, sfmask;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t kernel_gs_base, tsc_aux, pat, apic_base, misc_enable;
    uint32_t extra_count;
    uint32_t extra_index[RC_MAX_EXTRA_MSRS];
    uint64_t extra_value[RC_MAX_EXTRA_MSRS];
    uint8_t halted, inhibit_irq, io_pending;
    uint64_t io_value, io_key;
} snap_state;

/* ------------------------------------------------------------------ byte transfer */

/* One cursor for both directions. Writing with out == NULL only counts. */
typedef struct xfer {
    bool writing;
    uint8_t *out;
    const uint8_t *in;
    size_t pos, len; /* len: bytes available for reading */
    bool short_input;
} xfer;

static void xbytes(xfer *x, uint64_t *v, unsigned n)
{
    if (x->writing) {
        if (x->out)
            for (unsigned i = 0; i < n; i++)
                x->out[x->pos + i] = (uint8_t)(*v >> (8 * i));
    } else {
        uint64_t r = 0;
        if (x->pos + n > x->len) {
            x->short_input = true;
        } else {
            for (unsigned i = 0; i < n; i++)
                r |= (uint64_t)x->in[x->pos + i] << (8 * i);
        }
        *v = r;
    }
    x->pos += n;
}

static void x64(xfer *x, uint64_t *v) { xbytes(x, v, 8); }
static void x32(xfer *x, uint32_t *v)
{
    uint64_t t = *v;
    xbytes(x, &t, 4);
    *v = (uint32_t)t;
}
static void x16(xfer *x, uint16_t *v)
{
    uint64_t t = *v;
    xbytes(x, &t, 2);
    *v = (uint16_t)t;
}
static void x8(xfer *x, uint8_t *v)
{
    uint64_t t = *v;
    xbytes(x, &t, 1);
    *v = (uint8_t)t;
}

/* A segment: selector (2), base (8), limit (4), then one byte each for
 * type, s, dpl, present, avl, l, db, g, unusable: 23 bytes. */
static void xfer_segment(xfer *x, rc_segment *s)
{
    x16(x, &s->selector);
    x64(x, &s->base);
    x32(x, &s->limit);
    x8(x, &s->type);
    x8(x, &s->s);
    x8(x, &s->dpl);
    x8(x, &s->present);
    x8(x, &s->avl);
    x8(x, &s->l);
    x8(x, &s->db);
    x8(x, &s->g);
    x8(x, &s->unusable);
}

static void xfer_dtable(xfer *x, rc_dtable *t)
{
    x64(x, &t->base);
    x16(x, &t->limit);
}

/* The state, in snapshot order (docs/api.md lists the same order). */
static void xfer_state(xfer *x, snap_state *s)
{
    for (unsigned i = 0; i < 16; i++)
        x64(x, &s->gpr[i]);
    x64(x, &s->rip);
    x64(x, &s->rflags);
    for (unsigned i = 0; i < RC_SEG_COUNT; i++)
        xfer_segment(x, &s->seg[i]);
    xfer_dtable(x, &s->gdtr);
    xfer_dtable(x, &s->idtr);
    x64(x, &s->cr0);
    x64(x, &s->cr2);
    x64(x, &s->cr3);
    x64(x, &s->cr4);
    x64(x, &s->cr8);
    for (unsigned i = 0; i < SNAP_DR_COUNT; i++)
        x64(x, &s->dr[i]);
    x64(x, &s->efer);
    x8(x, &s->cpl);
    x64(x, &s->tsc);
    x64(x, &s->star);
    x64(x, &s->lstar);
    x64(x, &s->cstar);
    x64(x, &s->sfmask);
    x64(x, &s->sysenter_cs);
    x64(x, &s->sysenter_esp);
    x64(x, &s->sysenter_eip);
    x64(x, &s->kernel_gs_base);
    x64(x, &s->tsc_aux);
    x64(x, &s->pat);
    x64(x, &s->apic_base);
    x64(x, &s->misc_enable);
    x8(x, &s->halted);
    x8(x, &s->inhibit_irq);
    x8(x, &s->io_pending);
    x64(x, &s->io_value);
    x64(x, &s->io_key);
    x32(x, &s->extra_count);
    uint32_t n = s->extra_count <= RC_MAX_EXTRA_MSRS ? s->extra_count : 0;
    for (uint32_t i = 0; i < n; i++) {
        x32(x, &s->extra_index[i]);
        x64(x, &s->extra_value[i]);
    }
}

/* FNV-1a, 64-bit (offset basis CBF29CE484222325H, prime 100000001B3H).
 * Every step is a bijection of the running hash, so any single changed
 * byte changes the result. */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ------------------------------------------------------------------ CPU <-> staging */

static void stage_from_cpu(const rc_cpu *cpu, snap_state *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->gpr, cpu->gpr, sizeof(s->gpr));
    s->rip = cpu->rip;
    /* Lazy flags are materialized: a snapshot holds architectural RFLAGS.
     * (This changes no architectural state; the CPU object is ours.) */
    s->rflags = rc_get_rflags((rc_cpu *)cpu);
    memcpy(s->seg, cpu->seg, sizeof(s->seg));
    s->gdtr = cpu->gdtr;
    s->idtr = cpu->idtr;
    s->cr0 = cpu->cr0;
    s->cr2 = cpu->cr2;
    s->cr3 = cpu->cr3;
    s->cr4 = cpu->cr4;
    s->cr8 = cpu->cr8;
    for (unsigned i = 0; i < SNAP_DR_COUNT; i++)
        s->dr[i] = cpu->dr[snap_dr_index[i]];
    s->efer = cpu->efer;
    s->cpl = cpu->cpl;
    const rc_msr_state *m = &cpu->msr;
    s->tsc = cpu->icount_total + m->tsc_offset;
    s->star = m->star;
    s->lstar = m->lstar;
    s->cstar = m->cstar;
    s->sfmask = m->sfmask;
    s->sysenter_cs = m->sysenter_cs;
    s->sysenter_esp = m->sysenter_esp;
    s->sysenter_eip = m->sysenter_eip;
    s->kernel_gs_base = m->kernel_gs_base;
    s->tsc_aux = m->tsc_aux;
    s->pat = m->pat;
    s->apic_base = m->apic_base;
    s->misc_enable = m->misc_enable;
    s->extra_count = m->extra_count <= RC_MAX_EXTRA_MSRS ? m->extra_count : RC_MAX_EXTRA_MSRS;
    for (uint32_t i = 0; i < s->extra_count; i++) {
        s->extra_index[i] = m->extra_index[i];
        s->extra_value[i] = m->extra_value[i];
    }
    s->halted = cpu->halted;
    s->inhibit_irq = cpu->inhibit_irq;
    s->io_pending = cpu->io_pending;
    s->io_value = cpu->io_value;
    s->io_key = cpu->io_key;
}

/* Field ranges: what rc_set_reg / rc_set_seg would refuse, a snapshot may
 * not hold either. */
static bool stage_valid(const rc_cpu *cpu, const snap_state *s)
{
    if ((s->rflags & ~(uint64_t)RC_RFLAGS_DEFINED) || !(s->rflags & RC_FLAG_FIXED1))
        return false;
    for (unsigned i = 0; i < RC_SEG_COUNT; i++)
        if (!rc_api_seg_valid(&s->seg[i]))
            return false;
    if (s->cr8 > RC_CR8_MAX || s->cpl > RC_CPL_MAX || (s->efer & ~RC_EFER_MODELED))
        return false;
    if (s->halted > 1 || s->io_pending > 1 || s->inhibit_irq > SNAP_INHIBIT_MAX)
        return false;
    if (s->extra_count > RC_MAX_EXTRA_MSRS)
        return false;
    for (uint32_t i = 0; i < s->extra_count; i++) {
        /* A side-table entry is an MSR the model does not have, listed once. */
        if (rc_msr_lookup(cpu->model->vendor, s->extra_index[i]))
            return false;
        for (uint32_t j = 0; j < i; j++)
            if (s->extra_index[j] == s->extra_index[i])
                return false;
    }
    return true;
}

static void commit_to_cpu(rc_cpu *cpu, const snap_state *s)
{
    memcpy(cpu->gpr, s->gpr, sizeof(cpu->gpr));
    cpu->rip = s->rip;
    rc_set_rflags(cpu, s->rflags); /* also clears the lazy-flags record */
    memcpy(cpu->seg, s->seg, sizeof(cpu->seg));
    cpu->gdtr = s->gdtr;
    cpu->idtr = s->idtr;
    cpu->cr0 = s->cr0;
    cpu->cr2 = s->cr2;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    cpu->cr8 = s->cr8;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    for (unsigned i = 0; i < SNAP_DR_COUNT; i++)
        cpu->dr[snap_dr_index[i]] = s->dr[i];
    cpu->efer = s->efer;
    cpu->cpl = s->cpl;
    rc_msr_state *m = &cpu->msr;
    m->tsc_offset = s->tsc - cpu->icount_total;
    m->star = s->star;
    m->lstar = s->lstar;
    m->cstar = s->cstar;
    m->sfmask = s->sfmask;
    m->sysenter_cs = s->sysenter_cs;
    m->sysenter_esp = s->sysenter_esp;
    m->sysenter_eip = s->sysenter_eip;
    m->kernel_gs_base = s->kernel_gs_base;
    m->tsc_aux = s->tsc_aux;
    m->pat = s->pat;
    m->apic_base = s->apic_base;
    m->misc_enable = s->misc_enable;
    memset(m->extra_index, 0, sizeof(m->extra_index));
    memset(m->extra_value, 0, sizeof(m->extra_value));
    m->extra_count = s->extra_count;
    for (uint32_t i = 0; i < s->extra_count; i++) {
        m->extra_index[i] = s->extra_index[i];
        m->extra_value[i] = s->extra_value[i];
    }
    cpu->halted = s->halted != 0;
    cpu->inhibit_irq = s->inhibit_irq;
    cpu->io_pending = s->io_pending != 0;
    cpu->io_value = s->io_value;
    cpu->io_key = s->io_key;

    /* Transient run state does not survive a load. */
    memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
    cpu->exit_restart = false;
    cpu->delivering = false;
    cpu->cur_insn = NULL;
    cpu->insn_rip = cpu->rip;

    rc_update_mode(cpu);
    rc_api_flush_caches(cpu);
}

/* ------------------------------------------------------------------ save / load */

static size_t snapshot_size(snap_state *s)
{
    xfer x = { .writing = true };
    xfer_state(&x, s);
    return SNAP_HEADER_LEN + x.pos + SNAP_CHECKSUM_LEN;
}

rc_status rc_save(const rc_cpu *cpu, void *buf, size_t *len)
{
    if (!cpu || !len)
        return RC_ERR_INVALID_ARG;
    snap_state s;
    stage_from_cpu(cpu, &s);
    size_t need = snapshot_size(&s);
    if (!buf) {
        *len = need;
        return RC_OK;
    }
    if (*len < need) {
        *len = need;
        return RC_ERR_BUFFER_TOO_SMALL;
    }
    uint8_t *p = buf;
    memcpy(p, SNAP_MAGIC, SNAP_MAGIC_LEN);
    xfer h = { .writing = true, .out = p, .pos = SNAP_MAGIC_LEN };
    uint32_t version = SNAP_VERSION, vendor = (uint32_t)cpu->model->vendor;
    uint64_t total = need;
    x32(&h, &version);
    x32(&h, &vendor);
    x64(&h, &total);
    xfer b = { .writing = true, .out = p, .pos = SNAP_HEADER_LEN };
    xfer_state(&b, &s);
    put_le64(p + need - SNAP_CHECKSUM_LEN, fnv1a64(p, need - SNAP_CHECKSUM_LEN));
    *len = need;
    return RC_OK;
}

/* Checks, in order: magic (FORMAT), version (VERSION), length and checksum
 * (CORRUPT), vendor (CORRUPT if not an rc_vendor, STATE if another CPU's),
 * then every field's range (CORRUPT). Nothing changes unless all pass. */
rc_status rc_load(rc_cpu *cpu, const void *buf, size_t len)
{
    if (!cpu || !buf)
        return RC_ERR_INVALID_ARG;
    const uint8_t *p = buf;
    if (len < SNAP_MAGIC_LEN || memcmp(p, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
        return RC_ERR_SNAPSHOT_FORMAT;
    xfer h = { .writing = false, .in = p, .pos = SNAP_MAGIC_LEN, .len = len };
    uint32_t version = 0, vendor = 0;
    uint64_t total = 0;
    x32(&h, &version);
    if (h.short_input)
        return RC_ERR_SNAPSHOT_CORRUPT;
    if (version != SNAP_VERSION)
        return RC_ERR_SNAPSHOT_VERSION;
    x32(&h, &vendor);
    x64(&h, &total);
    if (h.short_input || len < SNAP_HEADER_LEN + SNAP_CHECKSUM_LEN || total != len)
        return RC_ERR_SNAPSHOT_CORRUPT;
    if (get_le64(p + len - SNAP_CHECKSUM_LEN) != fnv1a64(p, len - SNAP_CHECKSUM_LEN))
        return RC_ERR_SNAPSHOT_CORRUPT;
    if (vendor > RC_VENDOR_AMD)
        return RC_ERR_SNAPSHOT_CORRUPT;
    if (vendor != (uint32_t)cpu->model->vendor)
        return RC_ERR_STATE; /* the MSR file and quirks would mean something else */

    static const snap_state zero;
    snap_state s = zero;
    xfer b = { .writing = false, .in = p, .pos = SNAP_HEADER_LEN,
               .len = len - SNAP_CHECKSUM_LEN };
    xfer_state(&b, &s);
    if (b.short_input || b.pos != len - SNAP_CHECKSUM_LEN)
        return RC_ERR_SNAPSHOT_CORRUPT;
    if (!stage_valid(cpu, &s))
        return RC_ERR_SNAPSHOT_CORRUPT;
    commit_to_cpu(cpu, &s);
    return RC_OK;
}

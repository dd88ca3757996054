/*
 * exec_string.c - the string instructions MOVS CMPS STOS LODS SCAS INS OUTS
 * with their REP/REPE/REPNE prefixes, and port I/O (IN, OUT) with the
 * protected-mode I/O permission check.
 *
 * String rules (SDM Vol. 2B 4.3 "REP/REPE/REPZ/REPNE/REPNZ", "MOVS", ...):
 *   - the ADDRESS size picks SI/ESI/RSI, DI/EDI/RDI and CX/ECX/RCX, and the
 *     width at which they wrap (16-bit addressing wraps SI/DI at 64 KiB and
 *     leaves the upper halves of ESI/EDI alone);
 *   - the destination is always ES:rDI (no override); the source is
 *     DS:rSI unless a segment prefix overrides it;
 *   - RFLAGS.DF = 0 increments the index registers by the element size,
 *     DF = 1 decrements them;
 *   - REP with a zero count does nothing; F2 and F3 both mean REP for MOVS,
 *     STOS, LODS, INS, OUTS; for CMPS and SCAS F3 is REPE (stop when
 *     ZF = 0) and F2 is REPNE (stop when ZF = 1), tested after the count
 *     was decremented.
 *
 * Faults in the middle of a REP: this is the one documented exception to
 * "a faulting instruction changed nothing". The registers are updated after
 * every completed iteration, so a fault in iteration k leaves rCX, rSI and
 * rDI describing k completed iterations and RIP at the instruction; the
 * handler of the fault (or the embedder after rc_complete_io) restarts it
 * and it resumes with iteration k+1 -- the architectural contract (SDM
 * Vol. 2B "REP": "A repeating string operation can be suspended by an
 * exception or interrupt. When this happens, the state of the registers is
 * preserved to allow the string operation to be resumed upon a return from
 * the exception or interrupt handler"; Vol. 3A 6.6 "Program or Task
 * Restart").
 *
 * Responsiveness: one dispatch runs at most REP_MAX_ITER iterations; if rCX
 * is still non-zero, RIP is set back to the instruction so that the next
 * step continues it (the same thing the CPU does when it takes an
 * interrupt between iterations). With RFLAGS.TF = 1 only one iteration
 * runs per dispatch: the single-step trap comes after each iteration (SDM
 * Vol. 3B 18.3.1.4 "Single-Step Exception Condition").
 */
#include "exec.h"

#define REG_RAX 0
#define REG_RCX 1
#define REG_RDX 2
#define REG_RSI 6
#define REG_RDI 7
#define CC_E 4              /* condition "E/Z" */
#define REP_MAX_ITER 4096u  /* iterations per dispatch */
#define IO_MAX_SIZE 4u      /* IN/OUT/INS/OUTS move at most 32 bits (REX.W ignored) */

/* ------------------------------------------------------------------ port I/O permission */

#define TSS_IOMAP_BASE_OFF 0x66 /* 16-bit I/O map base address in a 32/64-bit TSS */
#define TSS_MIN_LIMIT 0x67      /* the TSS must reach the I/O map base field */
#define IOPL_SHIFT 12

/* A TSS-relative linear address: 32-bit outside IA-32e mode. */
static inline uint64_t tss_lin(const rc_cpu *cpu, uint64_t addr)
{
    return (cpu->efer & RC_EFER_LMA) ? addr : (addr & 0xffffffffull);
}

/* SDM Vol. 1 19.5 "Protected-Mode I/O" and 19.5.2 "I/O Permission Bit Map"
 * (and the IN/OUT/INS/OUTS pseudo-code: "IF ((PE = 1) and ((CPL > IOPL) or
 * (VM = 1)))"): in protected mode with CPL > IOPL, and always in
 * virtual-8086 mode, every bit of the I/O bitmap that covers a byte of the
 * access must be 0, otherwise #GP(0). The bitmap starts at the 16-bit
 * offset stored at TSS+0x66; it must lie within the TSS limit. The check
 * reads two bitmap bytes (an access of up to 4 ports starting anywhere in
 * a byte spans at most two), so both must be within the limit -- the
 * reason the SDM asks for a trailing 0xFF byte; Bochs and QEMU apply the
 * same two-byte limit test. Only a 32/64-bit TSS (types 9/11) has a map:
 * with a 16-bit TSS or no usable TR the access faults. */
static rc_fault io_permitted(rc_cpu *cpu, uint16_t port, unsigned size)
{
    if (!(cpu->cr0 & RC_CR0_PE))
        return RC_NOFAULT;
    unsigned iopl = (unsigned)((cpu->rflags & RC_FLAG_IOPL) >> IOPL_SHIFT);
    if (!(cpu->rflags & RC_FLAG_VM) && cpu->cpl <= iopl)
        return RC_NOFAULT;

    const rc_segment *tr = &cpu->seg[RC_SEG_TR];
    bool tss32 = tr->present && !tr->unusable && tr->s == 0 &&
                 (tr->type == RC_DT_TSS_AVAIL || tr->type == RC_DT_TSS_BUSY);
    FAULT_IF(cpu, !tss32 || tr->limit < TSS_MIN_LIMIT, RC_EXC_GP, 0,
             "I/O at CPL > IOPL (or VM86) and the TSS has no I/O permission bitmap");
    uint64_t map_base, bits;
    TRY(rc_sys_read(cpu, tss_lin(cpu, tr->base + TSS_IOMAP_BASE_OFF), 2, &map_base));
    uint64_t off = map_base + port / 8u;
    FAULT_IF(cpu, off + 1 > tr->limit, RC_EXC_GP, 0,
             "I/O at CPL > IOPL (or VM86): the port's bitmap bytes lie beyond the TSS limit");
    TRY(rc_sys_read(cpu, tss_lin(cpu, tr->base + off), 2, &bits));
    uint64_t need = ((1ull << size) - 1) << (port & 7u);
    FAULT_IF(cpu, (bits & need) != 0, RC_EXC_GP, 0,
             "I/O at CPL > IOPL (or VM86): the I/O permission bitmap denies the port");
    return RC_NOFAULT;
}

/* Width of an IN/OUT/INS/OUTS access: 8 bits for the byte forms, else 16 or
 * 32 by operand size (SDM IN: "in 64-bit mode, the operand size is fixed
 * at 8, 16 or 32 bits"). */
static inline unsigned io_size(const rc_insn *in)
{
    if (in->flags & RC_OPF_BYTE)
        return 1;
    return in->opsize > IO_MAX_SIZE ? IO_MAX_SIZE : in->opsize;
}

/* SDM Vol. 2A 3.3 "IN" (E4/E5 imm8, EC/ED DX): permission check, then the
 * bus (rc_port_in: a callback, or an RC_EXIT_IO exit after which the
 * instruction re-executes with the embedder's value). A 32-bit IN writes
 * EAX and so zero-extends RAX in 64-bit mode. */
RC_HANDLER(ex_in)
{
    unsigned size = io_size(in);
    uint16_t port = in->opcode <= 0xE7 ? (uint16_t)(in->imm & 0xff)
                                       : (uint16_t)cpu->gpr[REG_RDX];
    uint32_t v;
    TRY(io_permitted(cpu, port, size));
    TRY(rc_port_in(cpu, port, size, &v));
    rc_set_gpr(cpu, REG_RAX, size, true, v);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "OUT" (E6/E7 imm8, EE/EF DX). */
RC_HANDLER(ex_out)
{
    unsigned size = io_size(in);
    uint16_t port = in->opcode <= 0xE7 ? (uint16_t)(in->imm & 0xff)
                                       : (uint16_t)cpu->gpr[REG_RDX];
    TRY(io_permitted(cpu, port, size));
    return rc_port_out(cpu, port, size, (uint32_t)rc_get_gpr(cpu, REG_RAX, size, true));
}

/* ------------------------------------------------------------------ string machinery */

typedef rc_fault (*str_iter_fn)(rc_cpu *cpu, const rc_insn *in, unsigned size);

/* Advance an index register by one element, in the direction of DF, at the
 * address size (wrapping there). */
static inline void str_advance(rc_cpu *cpu, const rc_insn *in, unsigned reg, unsigned size)
{
    unsigned as = in->addrsize;
    uint64_t v = rc_get_gpr(cpu, reg, as, true);
    v = (cpu->rflags & RC_FLAG_DF) ? v - size : v + size;
    rc_set_gpr(cpu, reg, as, true, v & rc_size_mask(as));
}

static inline uint64_t str_index(const rc_cpu *cpu, const rc_insn *in, unsigned reg)
{
    return rc_get_gpr(cpu, reg, in->addrsize, true);
}

/* Run one iteration, or the REP loop (see the file comment). 'cond' marks
 * CMPS/SCAS, whose F3/F2 prefixes also test ZF. */
static rc_fault str_run(rc_cpu *cpu, const rc_insn *in, unsigned size, str_iter_fn iter,
                        bool cond)
{
    if (in->rep == RC_REP_NONE)
        return iter(cpu, in, size);

    unsigned as = in->addrsize;
    unsigned max = (cpu->rflags & RC_FLAG_TF) ? 1 : REP_MAX_ITER;
    for (unsigned n = 0; n < max; n++) {
        uint64_t count = rc_get_gpr(cpu, REG_RCX, as, true);
        if (count == 0)
            return RC_NOFAULT;
        TRY(iter(cpu, in, size));
        rc_set_gpr(cpu, REG_RCX, as, true, (count - 1) & rc_size_mask(as));
        if (cond) {
            bool zf = rc_cond(cpu, CC_E);
            if (in->rep == RC_REP_F3 ? !zf : zf)
                return RC_NOFAULT;
        }
    }
    if (rc_get_gpr(cpu, REG_RCX, as, true) != 0)
        cpu->rip = cpu->insn_rip; /* continue on the next step */
    return RC_NOFAULT;
}

static inline unsigned str_size(const rc_insn *in)
{
    return (in->flags & RC_OPF_BYTE) ? 1 : in->opsize;
}

/* ------------------------------------------------------------------ the iterations */

/* SDM Vol. 2B 4.3 "MOVS": DEST (ES:rDI) <- SRC (seg:rSI). */
static rc_fault movs_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    uint64_t v;
    TRY(rc_read(cpu, in->seg, str_index(cpu, in, REG_RSI), size, RC_ACC_READ, &v));
    TRY(rc_write(cpu, RC_SEG_ES, str_index(cpu, in, REG_RDI), size, v));
    str_advance(cpu, in, REG_RSI, size);
    str_advance(cpu, in, REG_RDI, size);
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "CMPS": temp <- SRC1 (seg:rSI) - SRC2 (ES:rDI); flags as
 * SUB/CMP. */
static rc_fault cmps_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    uint64_t a, b;
    TRY(rc_read(cpu, in->seg, str_index(cpu, in, REG_RSI), size, RC_ACC_READ, &a));
    TRY(rc_read(cpu, RC_SEG_ES, str_index(cpu, in, REG_RDI), size, RC_ACC_READ, &b));
    str_advance(cpu, in, REG_RSI, size);
    str_advance(cpu, in, REG_RDI, size);
    rc_lazy(cpu, LZ_SUB, size, a - b, a, b);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "STOS": ES:rDI <- AL/AX/EAX/RAX. */
static rc_fault stos_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    TRY(rc_write(cpu, RC_SEG_ES, str_index(cpu, in, REG_RDI), size,
                 rc_get_gpr(cpu, REG_RAX, size, true)));
    str_advance(cpu, in, REG_RDI, size);
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "LODS": AL/AX/EAX/RAX <- seg:rSI. */
static rc_fault lods_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    uint64_t v;
    TRY(rc_read(cpu, in->seg, str_index(cpu, in, REG_RSI), size, RC_ACC_READ, &v));
    rc_set_gpr(cpu, REG_RAX, size, true, v);
    str_advance(cpu, in, REG_RSI, size);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "SCAS": temp <- AL/AX/EAX/RAX - ES:rDI; flags as CMP. */
static rc_fault scas_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    uint64_t a = rc_get_gpr(cpu, REG_RAX, size, true), b;
    TRY(rc_read(cpu, RC_SEG_ES, str_index(cpu, in, REG_RDI), size, RC_ACC_READ, &b));
    str_advance(cpu, in, REG_RDI, size);
    rc_lazy(cpu, LZ_SUB, size, a - b, a, b);
    return RC_NOFAULT;
}

/* Raise now whatever fault a write of 'size' bytes at seg:off would raise,
 * without touching memory (segmentation, then paging of the first and last
 * byte). */
static rc_fault probe_write(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size)
{
    uint64_t lin, phys;
    TRY(rc_seg_linear(cpu, seg, off, size, RC_ACC_WRITE, &lin));
    if (!cpu->paging)
        return RC_NOFAULT;
    TRY(rc_translate(cpu, lin, RC_ACC_WRITE, &phys));
    uint64_t last = lin + size - 1;
    if (!(cpu->efer & RC_EFER_LMA))
        last &= 0xffffffffull;
    if ((last >> RC_PAGE_SHIFT) != (lin >> RC_PAGE_SHIFT))
        TRY(rc_translate(cpu, last, RC_ACC_WRITE, &phys));
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "INS": ES:rDI <- port DX. The permission check comes
 * first; the destination's segment/page faults are raised before the port
 * is read so that a device read is not lost to a fault (Bochs probes the
 * destination the same way). */
static rc_fault ins_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    uint16_t port = (uint16_t)cpu->gpr[REG_RDX];
    uint64_t di = str_index(cpu, in, REG_RDI);
    uint32_t v;
    TRY(io_permitted(cpu, port, size));
    TRY(probe_write(cpu, RC_SEG_ES, di, size));
    TRY(rc_port_in(cpu, port, size, &v));
    TRY(rc_write(cpu, RC_SEG_ES, di, size, v));
    str_advance(cpu, in, REG_RDI, size);
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "OUTS": port DX <- seg:rSI. */
static rc_fault outs_iter(rc_cpu *cpu, const rc_insn *in, unsigned size)
{
    uint16_t port = (uint16_t)cpu->gpr[REG_RDX];
    uint64_t v;
    TRY(io_permitted(cpu, port, size));
    TRY(rc_read(cpu, in->seg, str_index(cpu, in, REG_RSI), size, RC_ACC_READ, &v));
    TRY(rc_port_out(cpu, port, size, (uint32_t)v));
    str_advance(cpu, in, REG_RSI, size);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ handlers */

/* ------------------------------------------------------------------ bulk REP MOVS / STOS */

/* A host pointer to 'len' bytes at seg:off, all in one RAM page, when every
 * check for the access passes; NULL sends the caller to the per-iteration
 * path, which raises any fault with the exact partial-progress rules. The
 * translation sets the A (and D) bits the accesses would set anyway. */
static uint8_t *bulk_ptr(rc_cpu *cpu, unsigned seg, uint64_t off, uint64_t len, rc_access acc)
{
    uint64_t lin, phys;
    if (RC_FAILED(rc_seg_linear(cpu, seg, off, (unsigned)len, acc, &lin)))
        return NULL;
    if ((lin & (RC_PAGE_SIZE - 1)) + len > RC_PAGE_SIZE)
        return NULL;
    if (RC_FAILED(rc_translate(cpu, lin, acc, &phys)))
        return NULL;
    uint8_t *host = rc_bus_host_page(cpu, phys, acc == RC_ACC_WRITE);
    if (!host)
        return NULL;
    if (acc == RC_ACC_WRITE && rc_icache_page_has_code(cpu, phys))
        rc_icache_invalidate_page(cpu, phys); /* self-modifying code stays coherent */
    return host + (phys & (RC_PAGE_SIZE - 1));
}

/* Elements of 'size' bytes from linear 'lin' to the end of its page. */
static inline uint64_t page_room(uint64_t lin, unsigned size)
{
    return (RC_PAGE_SIZE - (lin & (RC_PAGE_SIZE - 1))) / size;
}

/* REP MOVS / REP STOS forwards (DF = 0) between RAM pages: do as many
 * iterations as fit in the current source and destination pages at once.
 * Exactly what the iterations would do (element by element when the
 * ranges overlap); returns false when this shortcut does not apply. */
static bool rep_bulk(rc_cpu *cpu, const rc_insn *in, unsigned size, bool movs)
{
    if (in->rep == RC_REP_NONE || (cpu->rflags & (RC_FLAG_DF | RC_FLAG_TF)) || cpu->hooks.mem ||
        rc_ac_enabled(cpu))
        return false;
    unsigned as = in->addrsize;
    uint64_t mask = rc_size_mask(as);
    uint64_t count = rc_get_gpr(cpu, REG_RCX, as, true);
    uint64_t di = rc_get_gpr(cpu, REG_RDI, as, true);
    uint64_t si = movs ? rc_get_gpr(cpu, REG_RSI, as, true) : 0;
    uint64_t dlin, slin;
    if (count < 2 || RC_FAILED(rc_seg_linear(cpu, RC_SEG_ES, di, size, RC_ACC_WRITE, &dlin)))
        return false;
    uint64_t n = page_room(dlin, size);
    if (movs) {
        if (RC_FAILED(rc_seg_linear(cpu, in->seg, si, size, RC_ACC_READ, &slin)))
            return false;
        uint64_t r = page_room(slin, size);
        n = r < n ? r : n;
    }
    n = n < count ? n : count;
    n = n < REP_MAX_ITER ? n : REP_MAX_ITER;
    uint64_t bytes = n * size;
    /* The index registers must not wrap inside the chunk (address size). */
    if (n < 2 || di + bytes - 1 > mask || (movs && si + bytes - 1 > mask))
        return false;
    uint8_t *d = bulk_ptr(cpu, RC_SEG_ES, di, bytes, RC_ACC_WRITE);
    uint8_t *src = movs ? bulk_ptr(cpu, in->seg, si, bytes, RC_ACC_READ) : NULL;
    if (!d || (movs && !src))
        return false;
    if (movs) {
        if (d + bytes <= src || src + bytes <= d) {
            memcpy(d, src, bytes);
        } else {
            /* Overlap: each iteration reads its element, then writes it. */
            for (uint64_t i = 0; i < bytes; i += size) {
                uint64_t v;
                memcpy(&v, src + i, size);
                memcpy(d + i, &v, size);
            }
        }
        rc_set_gpr(cpu, REG_RSI, as, true, (si + bytes) & mask);
    } else {
        uint64_t v = rc_get_gpr(cpu, REG_RAX, size, true); /* little-endian host */
        if (size == 1)
            memset(d, (int)v, bytes);
        else
            for (uint64_t i = 0; i < bytes; i += size)
                memcpy(d + i, &v, size);
    }
    rc_set_gpr(cpu, REG_RDI, as, true, (di + bytes) & mask);
    rc_set_gpr(cpu, REG_RCX, as, true, count - n);
    if (count - n != 0)
        cpu->rip = cpu->insn_rip; /* continue on the next step */
    return true;
}

RC_HANDLER(ex_movs)
{
    if (rep_bulk(cpu, in, str_size(in), true))
        return RC_NOFAULT;
    return str_run(cpu, in, str_size(in), movs_iter, false);
}
RC_HANDLER(ex_cmps) { return str_run(cpu, in, str_size(in), cmps_iter, true); }
RC_HANDLER(ex_stos)
{
    if (rep_bulk(cpu, in, str_size(in), false))
        return RC_NOFAULT;
    return str_run(cpu, in, str_size(in), stos_iter, false);
}
RC_HANDLER(ex_lods) { return str_run(cpu, in, str_size(in), lods_iter, false); }
RC_HANDLER(ex_scas) { return str_run(cpu, in, str_size(in), scas_iter, true); }
RC_HANDLER(ex_ins) { return str_run(cpu, in, io_size(in), ins_iter, false); }
RC_HANDLER(ex_outs) { return str_run(cpu, in, io_size(in), outs_iter, false); }

/*
 * diffgen.c - random instruction cases from templates (see diffgen.h).
 *
 * Every template knows its encoding (SDM Vol. 2A 2.1-2.2: legacy prefixes,
 * REX, opcode, ModRM, SIB, displacement, immediate) and the status flags the
 * SDM's "Flags Affected" section leaves undefined for it. Memory operands
 * are built so that the effective address lands in the data area: the
 * base/index registers are given the values that make base + index*scale +
 * disp equal the chosen target.
 */
#include "support/diffgen.h"

#include <stdio.h>
#include <string.h>

uint64_t dg_next(dg_rng *r)
{
    /* splitmix64: any seed (even 0) gives a full-period stream */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

const char *dg_flag_name(unsigned bit)
{
    switch (bit) {
    case 0: return "CF";
    case 2: return "PF";
    case 4: return "AF";
    case 6: return "ZF";
    case 7: return "SF";
    case 11: return "OF";
    default: return "?";
    }
}

/* ------------------------------------------------------------------ registers */
enum { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI };
#define BIT(r) (1u << (r))
#define NOREG (-1)

/* A ModRM r/m operand: a register or a memory reference. */
typedef struct dg_rm {
    bool is_mem;
    unsigned reg;          /* register form */
    int base, index;       /* memory form, NOREG when absent */
    unsigned scale;        /* 0..3 */
    int32_t disp;
    unsigned disp_size;    /* 0, 1, 4 */
    bool no_sib_abs;       /* 32-bit mode: [disp32] as mod=00 rm=101 */
} dg_rm;

typedef struct dg_insn {
    uint8_t prefix[4];
    unsigned nprefix;
    bool rex_w, rex_force;
    uint8_t op[3];
    unsigned nop;
    bool plus_r;           /* register number added to the last opcode byte */
    unsigned opreg;
    bool has_modrm;
    unsigned reg;          /* ModRM.reg (register 0..15 or /digit) */
    dg_rm rm;
    uint64_t imm;
    unsigned imm_size;
} dg_insn;

typedef struct gen {
    dg_rng *r;
    dg_case *c;
    uint8_t *data;
    uint8_t *stack;
    unsigned mode;
    bool norex;            /* byte registers 4..7 mean AH..BH: no REX, registers 0..7 only */
    uint64_t target;       /* effective address of the memory operand */
} gen;

static uint64_t rnd(gen *g) { return dg_next(g->r); }
static unsigned below(gen *g, unsigned n) { return dg_below(g->r, n); }
static bool chance(gen *g, unsigned pct) { return below(g, 100) < pct; }

static uint64_t size_mask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }
static int64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;
    return (int64_t)(v << sh) >> sh;
}

/* Interesting values: boundaries are where flags go wrong. */
static uint64_t rnd_value(gen *g)
{
    static const uint64_t edges[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
        0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~1ull,
    };
    switch (below(g, 8)) {
    case 0: return edges[below(g, sizeof edges / sizeof edges[0])];
    case 1: return rnd(g) & 0xff;
    case 2: return (uint64_t)(int64_t)(int8_t)rnd(g);
    default: return rnd(g);
    }
}

/* Registers available to this instruction (0..7 without REX). */
static unsigned reg_count(const gen *g) { return (g->mode == 8 && !g->norex) ? 16 : 8; }

static unsigned pick_reg(gen *g, uint32_t avoid)
{
    for (;;) {
        unsigned r = below(g, reg_count(g));
        if (!(avoid & BIT(r)))
            return r;
    }
}

static uint64_t addr_mask(const gen *g) { return g->mode == 8 ? ~0ull : 0xffffffffull; }

/* GPR read/write by operand size with the legacy high-byte rule
 * (SDM Vol. 1 3.4.1.1: without REX, byte registers 4..7 are AH, CH, DH, BH). */
static bool legacy_bytes(const gen *g) { return g->mode == 4 || g->norex; }

static uint64_t get_reg(gen *g, unsigned r, unsigned size)
{
    if (size == 1 && legacy_bytes(g) && r >= 4 && r < 8)
        return (g->c->gpr[r - 4] >> 8) & 0xff;
    return g->c->gpr[r] & size_mask(size);
}

static void set_reg(gen *g, unsigned r, unsigned size, uint64_t v)
{
    uint64_t *p;
    if (size == 1 && legacy_bytes(g) && r >= 4 && r < 8) {
        p = &g->c->gpr[r - 4];
        *p = (*p & ~0xff00ull) | ((v & 0xff) << 8);
        return;
    }
    p = &g->c->gpr[r];
    *p = (*p & ~size_mask(size)) | (v & size_mask(size));
}

static uint8_t *data_at(gen *g, uint64_t addr) { return g->data + (addr - DG_DATA); }

static uint64_t get_rm(gen *g, const dg_rm *rm, unsigned size)
{
    if (!rm->is_mem)
        return get_reg(g, rm->reg, size);
    uint64_t v = 0;
    memcpy(&v, data_at(g, g->target), size);
    return v;
}

static void set_rm(gen *g, const dg_rm *rm, unsigned size, uint64_t v)
{
    if (!rm->is_mem)
        set_reg(g, rm->reg, size, v);
    else
        memcpy(data_at(g, g->target), &v, size);
}

/* ------------------------------------------------------------------ memory operands */

/* Build a memory operand whose effective address is a random target in the
 * data area. Registers in 'avoid' keep their values (they carry other
 * constraints); base/index registers receive the values that produce the
 * target. SDM Vol. 2A 2.1.5 Tables 2-2/2-3 (ModRM/SIB), 3.3.7 (address
 * computation wraps at the address size). */
static void make_mem(gen *g, dg_rm *m, uint32_t avoid, bool constrain)
{
    memset(m, 0, sizeof *m);
    m->is_mem = true;
    m->base = m->index = NOREG;
    g->target = DG_TARGET_LO + below(g, (unsigned)(DG_TARGET_HI - DG_TARGET_LO));
    unsigned form = below(g, 8);
    if (form == 0) {                      /* [disp32] */
        m->disp_size = 4;
        m->no_sib_abs = g->mode == 4 && chance(g, 50);
    } else if (form == 1) {               /* [index*s + disp32] */
        m->index = (int)pick_reg(g, avoid | BIT(RSP));
        m->scale = below(g, 4);
        m->disp_size = 4;
    } else {                              /* [base (+ index*s) (+ disp)] */
        m->base = (int)pick_reg(g, avoid);
        if (form >= 5)
            m->index = (int)pick_reg(g, avoid | BIT(RSP) | BIT((unsigned)m->base));
        m->scale = below(g, 4);
        m->disp_size = (unsigned[]){ 0, 1, 4 }[below(g, 3)];
        if (m->disp_size == 0 && (m->base & 7) == RBP)
            m->disp_size = 1;             /* mod=00 base=101 means "no base" */
    }

    uint64_t idx_val = 0;
    if (m->index != NOREG) {
        idx_val = chance(g, 80) ? (uint64_t)((int64_t)below(g, 513) - 256) : rnd(g);
        if (m->base == NOREG)
            idx_val = (uint64_t)((int64_t)below(g, 513) - 256); /* disp32 must reach */
    }
    int64_t disp = 0;
    if (m->disp_size == 1)
        disp = (int8_t)rnd(g);
    else if (m->disp_size == 4)
        disp = (int32_t)rnd(g);
    uint64_t scaled = idx_val << m->scale;
    if (m->base == NOREG)
        disp = (int64_t)(g->target - scaled);     /* fits: target < 2^31, |idx| small */
    m->disp = (int32_t)disp;
    if (!constrain)
        return;
    if (m->index != NOREG)
        g->c->gpr[m->index] = idx_val & addr_mask(g);
    if (m->base != NOREG)
        g->c->gpr[m->base] = (g->target - scaled - (uint64_t)disp) & addr_mask(g);
}

/* r/m operand: register (probability pct_reg) or memory. */
static void make_rm(gen *g, dg_rm *m, uint32_t avoid, unsigned pct_reg)
{
    if (chance(g, (int)pct_reg)) {
        memset(m, 0, sizeof *m);
        m->reg = below(g, reg_count(g));
        return;
    }
    make_mem(g, m, avoid, true);
}

/* ------------------------------------------------------------------ encoder */

static unsigned enc_modrm(const gen *g, const dg_insn *d, uint8_t *out)
{
    const dg_rm *m = &d->rm;
    unsigned regf = d->reg & 7, n = 0;
    if (!m->is_mem) {
        out[n++] = (uint8_t)(0xC0 | regf << 3 | (m->reg & 7));
        return n;
    }
    if (m->base == NOREG) {
        if (m->index == NOREG && m->no_sib_abs) {
            out[n++] = (uint8_t)(regf << 3 | 5);
        } else {
            unsigned idx = m->index == NOREG ? 4 : (unsigned)m->index & 7;
            out[n++] = (uint8_t)(regf << 3 | 4);
            out[n++] = (uint8_t)(m->scale << 6 | idx << 3 | 5);
        }
        memcpy(out + n, &m->disp, 4);
        return n + 4;
    }
    (void)g;
    unsigned mod = m->disp_size == 0 ? 0 : m->disp_size == 1 ? 1 : 2;
    if (m->index != NOREG || (m->base & 7) == RSP) {
        unsigned idx = m->index == NOREG ? 4 : (unsigned)m->index & 7;
        out[n++] = (uint8_t)(mod << 6 | regf << 3 | 4);
        out[n++] = (uint8_t)(m->scale << 6 | idx << 3 | ((unsigned)m->base & 7));
    } else {
        out[n++] = (uint8_t)(mod << 6 | regf << 3 | ((unsigned)m->base & 7));
    }
    if (m->disp_size == 1)
        out[n++] = (uint8_t)m->disp;
    else if (m->disp_size == 4) {
        memcpy(out + n, &m->disp, 4);
        n += 4;
    }
    return n;
}

/* SDM Vol. 2A 2.2.1: REX = 0100WRXB, right before the opcode. */
static void emit(gen *g, const dg_insn *d)
{
    uint8_t buf[20];
    unsigned n = 0;
    for (unsigned i = 0; i < d->nprefix; i++)
        buf[n++] = d->prefix[i];
    if (g->mode == 8) {
        unsigned rex = 0x40;
        if (d->rex_w)
            rex |= 8;
        if (d->has_modrm) {
            if (d->reg >= 8)
                rex |= 4;
            if (d->rm.is_mem) {
                if (d->rm.index >= 8)
                    rex |= 2;
                if (d->rm.base >= 8)
                    rex |= 1;
            } else if (d->rm.reg >= 8) {
                rex |= 1;
            }
        }
        if (d->plus_r && d->opreg >= 8)
            rex |= 1;
        if (rex != 0x40 || d->rex_force)
            buf[n++] = (uint8_t)rex;
    }
    for (unsigned i = 0; i < d->nop; i++)
        buf[n++] = d->op[i];
    if (d->plus_r)
        buf[n - 1] = (uint8_t)(buf[n - 1] + (d->opreg & 7));
    if (d->has_modrm)
        n += enc_modrm(g, d, buf + n);
    for (unsigned i = 0; i < d->imm_size; i++)
        buf[n++] = (uint8_t)(d->imm >> (8 * i));
    if (g->c->len + n <= DG_MAX_CODE - 8) {
        memcpy(g->c->code + g->c->len, buf, n);
        g->c->len += n;
        g->c->ninsn++;
    }
}

/* ------------------------------------------------------------------ operand size */

/* Random operand size for a non-byte instruction, with its prefixes
 * (SDM Vol. 2A 2.2.1.2: REX.W wins over 66). */
static unsigned pick_size(gen *g, dg_insn *d, bool allow_byte)
{
    unsigned choices = g->mode == 8 ? 4 : 3;
    unsigned k = below(g, choices) + (allow_byte ? 0 : 1);
    if (k >= choices)
        k = choices - 1 - below(g, choices - 1);
    unsigned size = 1u << k;
    g->norex = false;
    if (size == 2)
        d->prefix[d->nprefix++] = 0x66;
    if (size == 8) {
        d->rex_w = true;
        if (chance(g, 5))
            d->prefix[d->nprefix++] = 0x66; /* ignored under REX.W */
    }
    if (size == 1 && g->mode == 8) {
        g->norex = chance(g, 50);
        d->rex_force = !g->norex;
    }
    if (size == 1 && g->mode == 4)
        g->norex = true;
    if (g->mode == 8 && !d->rex_w && !g->norex && chance(g, 5))
        d->rex_force = true;                 /* redundant REX */
    return size;
}

static uint64_t rnd_imm(gen *g, unsigned bytes)
{
    return rnd_value(g) & size_mask(bytes);
}

/* ------------------------------------------------------------------ families */

/* Names used in statistics and docs/unicorn-divergences.md. */
static const char *const alu_names[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
#define WHY_LOGIC "SDM Vol. 2A AND/OR/XOR/TEST Flags Affected: AF undefined"
#define WHY_MUL "SDM Vol. 2A MUL/IMUL Flags Affected: SF, ZF, AF, PF undefined"
#define WHY_DIV "SDM Vol. 2A DIV/IDIV Flags Affected: CF, OF, SF, ZF, AF, PF undefined"
#define WHY_BT "SDM Vol. 2A BT/BTS/BTR/BTC Flags Affected: OF, SF, AF, PF undefined"
#define WHY_BSF "SDM Vol. 2A BSF/BSR Flags Affected: CF, OF, SF, AF, PF undefined"
#define WHY_SHIFT "SDM Vol. 2B SAL/SAR/SHL/SHR Flags Affected: AF undefined for a nonzero count, " \
                  "OF undefined for counts > 1, CF undefined for SHL/SHR counts >= operand width"
#define WHY_ROT "SDM Vol. 2B RCL/RCR/ROL/ROR Flags Affected: OF undefined unless the masked count is 1"

static bool lock_ok(gen *g, const dg_insn *d) { return d->rm.is_mem && chance(g, 10); }

/* 00-3D, 80-83: ADD OR ADC SBB AND SUB XOR CMP (SDM Vol. 2A "ADD" etc.) */
static void gen_alu(gen *g)
{
    dg_insn d = { 0 };
    unsigned op = below(g, 8);
    unsigned form = below(g, g->mode == 4 ? 7 : 6);
    unsigned size = pick_size(g, &d, true);
    bool byte = size == 1;
    d.has_modrm = true;
    g->c->family = alu_names[op];
    if (op == 1 || op == 4 || op == 6) {
        g->c->undef = DG_AF;
        g->c->undef_why = WHY_LOGIC;
    }
    switch (form) {
    case 0: /* op r/m, r */
    case 1: /* op r, r/m */
        d.op[d.nop++] = (uint8_t)(op * 8 + (form == 0 ? 0 : 2) + (byte ? 0 : 1));
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
        if (form == 0 && op != 7 && lock_ok(g, &d))
            d.prefix[d.nprefix++] = 0xF0;
        break;
    case 2: /* op AL/eAX, imm */
        d.has_modrm = false;
        d.op[d.nop++] = (uint8_t)(op * 8 + (byte ? 4 : 5));
        d.imm_size = byte ? 1 : size == 2 ? 2 : 4;
        d.imm = rnd_imm(g, d.imm_size);
        break;
    case 3: /* 80/81 /op imm */
    case 4: /* 83 /op imm8 (sign-extended) */
    case 6: /* 82 /op imm8 (32-bit mode only: alias of 80) */
        if (form == 4 && byte)
            form = 3;
        if (form == 6 && !byte)
            form = 4;
        d.op[d.nop++] = form == 3 ? (byte ? 0x80 : 0x81) : form == 4 ? 0x83 : 0x82;
        d.reg = op;
        make_rm(g, &d.rm, 0, 50);
        d.imm_size = (form == 3 && !byte) ? (size == 2 ? 2 : 4) : 1;
        d.imm = rnd_imm(g, d.imm_size);
        if (op != 7 && lock_ok(g, &d))
            d.prefix[d.nprefix++] = 0xF0;
        break;
    default: /* 5: op r, r/m register-register with both regs the same */
        d.op[d.nop++] = (uint8_t)(op * 8 + 2 + (byte ? 0 : 1));
        d.reg = pick_reg(g, 0);
        d.rm.reg = d.reg;
        break;
    }
    emit(g, &d);
}

/* 84 85 A8 A9 F6/F7 /0: TEST */
static void gen_test(gen *g)
{
    dg_insn d = { 0 };
    unsigned size = pick_size(g, &d, true);
    bool byte = size == 1;
    g->c->family = "test";
    g->c->undef = DG_AF;
    g->c->undef_why = WHY_LOGIC;
    switch (below(g, 3)) {
    case 0:
        d.op[d.nop++] = byte ? 0x84 : 0x85;
        d.has_modrm = true;
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
        break;
    case 1:
        d.op[d.nop++] = byte ? 0xA8 : 0xA9;
        d.imm_size = byte ? 1 : size == 2 ? 2 : 4;
        d.imm = rnd_imm(g, d.imm_size);
        break;
    default:
        d.op[d.nop++] = byte ? 0xF6 : 0xF7;
        d.has_modrm = true;
        d.reg = 0;
        make_rm(g, &d.rm, 0, 50);
        d.imm_size = byte ? 1 : size == 2 ? 2 : 4;
        d.imm = rnd_imm(g, d.imm_size);
        break;
    }
    emit(g, &d);
}

/* FE/FF /0 /1, 40-4F (32-bit mode): INC/DEC; F6/F7 /2 /3: NOT/NEG */
static void gen_unary(gen *g)
{
    dg_insn d = { 0 };
    unsigned size = pick_size(g, &d, true);
    unsigned kind = below(g, 4); /* inc dec not neg */
    static const char *const names[4] = { "inc", "dec", "not", "neg" };
    g->c->family = names[kind];
    if (kind < 2 && size != 1 && g->mode == 4 && chance(g, 30)) {
        d.plus_r = true;
        d.op[d.nop++] = kind == 0 ? 0x40 : 0x48;
        d.opreg = pick_reg(g, 0);
        emit(g, &d);
        return;
    }
    d.has_modrm = true;
    if (kind < 2) {
        d.op[d.nop++] = size == 1 ? 0xFE : 0xFF;
        d.reg = kind;
    } else {
        d.op[d.nop++] = size == 1 ? 0xF6 : 0xF7;
        d.reg = kind;
    }
    make_rm(g, &d.rm, 0, 50);
    if (lock_ok(g, &d))
        d.prefix[d.nprefix++] = 0xF0;
    emit(g, &d);
}

/* C0 C1 D0-D3: ROL ROR RCL RCR SHL SHR SAR (SDM Vol. 2B). The count is
 * masked to 5 bits (6 with REX.W); the undefined flags follow from it. */
static void gen_shift(gen *g)
{
    static const char *const names[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal6", "sar" };
    dg_insn d = { 0 };
    unsigned op;
    do
        op = below(g, 8);
    while (op == 6); /* /6 is an undocumented SHL alias */
    unsigned size = pick_size(g, &d, true);
    unsigned bits = size * 8;
    unsigned form = below(g, 3); /* 0: by 1, 1: by CL, 2: by imm8 */
    uint8_t count;
    static const uint8_t edge[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
    count = chance(g, 50) ? edge[below(g, sizeof edge)] : (uint8_t)below(g, 256);
    if (form == 0)
        count = 1;
    d.has_modrm = true;
    d.reg = op;
    d.op[d.nop++] = (uint8_t)((form == 0 ? 0xD0 : form == 1 ? 0xD2 : 0xC0) + (size == 1 ? 0 : 1));
    make_rm(g, &d.rm, form == 1 ? BIT(RCX) : 0, 50);
    if (form == 1) {
        /* the r/m operand may itself be CL/CX/ECX/RCX (then the count is its value) */
        g->c->gpr[RCX] = (g->c->gpr[RCX] & ~0xffull) | count;
    }
    if (form == 2) {
        d.imm_size = 1;
        d.imm = count;
    }
    unsigned masked = count & (size == 8 ? 0x3f : 0x1f);
    g->c->family = names[op];
    if (masked != 0) {
        if (op >= 4) {
            g->c->undef = DG_AF | (masked > 1 ? DG_OF : 0);
            if (op != 7 && masked >= bits)
                g->c->undef |= DG_CF;
            g->c->undef_why = WHY_SHIFT;
        } else if (masked > 1) {
            g->c->undef = DG_OF;
            g->c->undef_why = WHY_ROT;
        }
    }
    emit(g, &d);
}

/* F6/F7 /4 /5, 0F AF, 69, 6B: MUL and the three IMUL forms */
static void gen_mul(gen *g)
{
    dg_insn d = { 0 };
    unsigned form = below(g, 4);
    unsigned size = pick_size(g, &d, form == 0);
    d.has_modrm = true;
    g->c->undef = DG_SF | DG_ZF | DG_AF | DG_PF;
    g->c->undef_why = WHY_MUL;
    if (form == 0) {
        unsigned which = below(g, 2);
        g->c->family = which ? "imul1" : "mul";
        d.op[d.nop++] = size == 1 ? 0xF6 : 0xF7;
        d.reg = 4 + which;
        make_rm(g, &d.rm, 0, 50);
    } else if (form == 1) {
        g->c->family = "imul2";
        d.op[d.nop++] = 0x0F;
        d.op[d.nop++] = 0xAF;
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
    } else {
        g->c->family = "imul3";
        d.op[d.nop++] = form == 2 ? 0x69 : 0x6B;
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
        d.imm_size = form == 3 ? 1 : size == 2 ? 2 : 4;
        d.imm = rnd_imm(g, d.imm_size);
    }
    emit(g, &d);
}

/* Does DIV/IDIV with this dividend and divisor raise #DE? SDM Vol. 2A DIV:
 * "IF SRC = 0 THEN #DE; temp <- DEST / SRC; IF temp > FFH (etc.) THEN #DE";
 * IDIV: "IF (temp > 7FH) or (temp < 80H) THEN #DE" (per size). */
static bool div_faults(bool is_signed, unsigned size, unsigned __int128 hi_lo_u, uint64_t divisor)
{
    unsigned bits = size * 8;
    if (divisor == 0)
        return true;
    if (!is_signed) {
        unsigned __int128 q = hi_lo_u / divisor;
        return q > (unsigned __int128)size_mask(size);
    }
    /* sign-extend the 2*size dividend */
    __int128 dividend;
    if (bits == 64)
        dividend = (__int128)hi_lo_u;
    else
        dividend = sext((uint64_t)hi_lo_u, 2 * size);
    __int128 dv = sext(divisor, size);
    if (dv == -1 && bits == 64 && dividend == (__int128)((unsigned __int128)1 << 127))
        return true; /* the one overflow of 128-bit division itself */
    __int128 q = dividend / dv;
    __int128 max = ((__int128)1 << (bits - 1)) - 1, min = -((__int128)1 << (bits - 1));
    return q > max || q < min;
}

static unsigned __int128 div_dividend(gen *g, unsigned size)
{
    if (size == 1)
        return g->c->gpr[RAX] & 0xffff;
    uint64_t lo = g->c->gpr[RAX] & size_mask(size), hi = g->c->gpr[RDX] & size_mask(size);
    return ((unsigned __int128)hi << (size * 8)) | lo;
}

/* F6/F7 /6 /7: DIV IDIV. Inputs are drawn until no #DE (5% keep a #DE). */
static void gen_div(gen *g)
{
    dg_insn d = { 0 };
    unsigned size = pick_size(g, &d, true);
    bool is_signed = below(g, 2);
    g->c->family = is_signed ? "idiv" : "div";
    g->c->undef = DG_STATUS;
    g->c->undef_why = WHY_DIV;
    d.has_modrm = true;
    d.op[d.nop++] = size == 1 ? 0xF6 : 0xF7;
    d.reg = 6 + is_signed;
    make_rm(g, &d.rm, BIT(RAX) | BIT(RDX), 50);
    bool want_de = chance(g, 5);
    for (int tries = 0; tries < 64; tries++) {
        uint64_t divisor = get_rm(g, &d.rm, size);
        if (divisor == 0 && !want_de)
            set_rm(g, &d.rm, size, divisor = (rnd_value(g) | 1));
        divisor = get_rm(g, &d.rm, size);
        /* a small high half makes the quotient fit */
        uint64_t hi = chance(g, 50) ? 0 : rnd_value(g);
        if (is_signed && chance(g, 50))
            hi = ~0ull;
        if (size == 1)
            g->c->gpr[RAX] = (g->c->gpr[RAX] & ~0xff00ull) | ((hi & 0xff) << 8);
        else
            g->c->gpr[RDX] = (g->c->gpr[RDX] & ~size_mask(size)) | (hi & size_mask(size));
        if (g->mode == 4)
            g->c->gpr[RDX] &= 0xffffffffull;
        divisor = get_rm(g, &d.rm, size); /* the r/m may be AH/DX/... itself */
        bool de = div_faults(is_signed, size, div_dividend(g, size), divisor);
        if (de == want_de || tries == 63) {
            g->c->expect_de = de;
            break;
        }
        if (!d.rm.is_mem && chance(g, 50))
            set_rm(g, &d.rm, size, rnd_value(g));
    }
    emit(g, &d);
}

/* 0F A3/AB/B3/BB, 0F BA /4-/7: BT BTS BTR BTC */
static void gen_bt(gen *g)
{
    static const char *const names[4] = { "bt", "bts", "btr", "btc" };
    dg_insn d = { 0 };
    unsigned size = pick_size(g, &d, false);
    unsigned kind = below(g, 4);
    g->c->family = names[kind];
    g->c->undef = DG_OF | DG_SF | DG_AF | DG_PF;
    g->c->undef_why = WHY_BT;
    d.has_modrm = true;
    d.op[d.nop++] = 0x0F;
    if (chance(g, 50)) {
        d.op[d.nop++] = (uint8_t)(0xA3 + 8 * kind);
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, BIT(d.reg), 50);
        if (d.rm.is_mem) {
            /* SDM Vol. 2A BT: a register bit offset selects a bit anywhere in
             * the bit string (signed, operand-size wide); keep it within
             * +-0x7f0 bytes of the target so it stays in the data area. */
            int64_t off = (int64_t)below(g, 2 * 0x7f0 * 8) - 0x7f0 * 8;
            uint64_t v = g->c->gpr[d.reg];
            v = (v & ~size_mask(size)) | ((uint64_t)off & size_mask(size));
            if (g->mode == 4)
                v &= 0xffffffffull;
            g->c->gpr[d.reg] = v;
        }
    } else {
        d.op[d.nop++] = 0xBA;
        d.reg = 4 + kind;
        make_rm(g, &d.rm, 0, 50);
        d.imm_size = 1;
        d.imm = rnd(g) & 0xff;
    }
    if (kind != 0 && lock_ok(g, &d))
        d.prefix[d.nprefix++] = 0xF0;
    emit(g, &d);
}

/* 0F BC/BD: BSF BSR with a nonzero source (a zero source leaves the
 * destination undefined per SDM; see docs/unicorn-divergences.md) */
static void gen_bsf(gen *g)
{
    dg_insn d = { 0 };
    unsigned size = pick_size(g, &d, false);
    bool rev = below(g, 2);
    g->c->family = rev ? "bsr" : "bsf";
    g->c->undef = DG_CF | DG_OF | DG_SF | DG_AF | DG_PF;
    g->c->undef_why = WHY_BSF;
    d.has_modrm = true;
    d.op[d.nop++] = 0x0F;
    d.op[d.nop++] = rev ? 0xBD : 0xBC;
    d.reg = pick_reg(g, 0);
    make_rm(g, &d.rm, 0, 50);
    if (get_rm(g, &d.rm, size) == 0)
        set_rm(g, &d.rm, size, 1ull << below(g, size * 8));
    emit(g, &d);
}

/* 0F C8+r: BSWAP r32/r64 (the 16-bit form is undefined: not generated) */
static void gen_bswap(gen *g)
{
    dg_insn d = { 0 };
    g->norex = false;
    g->c->family = "bswap";
    if (g->mode == 8 && chance(g, 50))
        d.rex_w = true;
    d.op[d.nop++] = 0x0F;
    d.op[d.nop++] = 0xC8;
    d.plus_r = true;
    d.opreg = pick_reg(g, 0);
    emit(g, &d);
}

/* 88-8B, C6/C7 /0, B0-BF, A0-A3, 0F B6/B7/BE/BF, 63: MOV MOVZX MOVSX MOVSXD */
static void gen_mov(gen *g)
{
    dg_insn d = { 0 };
    unsigned form = below(g, g->mode == 8 ? 7 : 6);
    if (form == 0 || form == 1 || form == 2 || form == 3) {
        unsigned size = pick_size(g, &d, true);
        bool byte = size == 1;
        if (form == 0) {
            g->c->family = "mov";
            d.has_modrm = true;
            d.op[d.nop++] = (uint8_t)(0x88 + 2 * below(g, 2) + (byte ? 0 : 1));
            d.reg = pick_reg(g, 0);
            make_rm(g, &d.rm, 0, 50);
        } else if (form == 1) {
            g->c->family = "mov-imm";
            d.has_modrm = true;
            d.op[d.nop++] = byte ? 0xC6 : 0xC7;
            make_rm(g, &d.rm, 0, 50);
            d.imm_size = byte ? 1 : size == 2 ? 2 : 4;
            d.imm = rnd_imm(g, d.imm_size);
        } else if (form == 2) {
            g->c->family = "mov-imm";
            d.op[d.nop++] = byte ? 0xB0 : 0xB8;
            d.plus_r = true;
            d.opreg = pick_reg(g, 0);
            d.imm_size = size; /* B8+r with REX.W takes an imm64 */
            d.imm = rnd_imm(g, size);
        } else {
            /* A0-A3: moffs, an address-size-wide absolute offset */
            g->c->family = "mov-moffs";
            g->norex = true; /* AL/eAX only: no REX needed */
            d.rex_force = false;
            d.op[d.nop++] = (uint8_t)(0xA0 + 2 * below(g, 2) + (byte ? 0 : 1));
            g->target = DG_TARGET_LO + below(g, (unsigned)(DG_TARGET_HI - DG_TARGET_LO));
            d.imm = g->target;
            d.imm_size = g->mode;
        }
    } else if (form == 4 || form == 5) {
        bool sx = form == 5;
        bool word_src = below(g, 2);
        if (pick_size(g, &d, false) == 2 && word_src)
            d.nprefix = 0; /* MOVZX r16, r/m16 is not an SDM form: use r32 */
        g->c->family = sx ? "movsx" : "movzx";
        d.has_modrm = true;
        d.op[d.nop++] = 0x0F;
        d.op[d.nop++] = (uint8_t)((sx ? 0xBE : 0xB6) + word_src);
        if (!word_src && g->mode == 8) {
            g->norex = chance(g, 50); /* the byte source may be AH..BH */
            if (g->norex)
                d.rex_w = false, d.rex_force = false;
        }
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
    } else {
        /* 63 /r with REX.W: MOVSXD r64, r/m32 (64-bit mode) */
        g->c->family = "movsxd";
        g->norex = false;
        d.rex_w = true;
        d.has_modrm = true;
        d.op[d.nop++] = 0x63;
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
    }
    emit(g, &d);
}

/* 8D: LEA, any registers (no memory is accessed); 67 in 64-bit mode for
 * 32-bit address computation (SDM Vol. 2A LEA Table 3-54). */
static void gen_lea(gen *g)
{
    dg_insn d = { 0 };
    pick_size(g, &d, false);
    g->c->family = "lea";
    if (g->mode == 8 && chance(g, 25))
        d.prefix[d.nprefix++] = 0x67;
    d.has_modrm = true;
    d.op[d.nop++] = 0x8D;
    d.reg = pick_reg(g, 0);
    make_mem(g, &d.rm, 0, false);
    emit(g, &d);
}

/* 86/87, 90+r: XCHG; 0F C0/C1: XADD; 0F B0/B1: CMPXCHG */
static void gen_xchg(gen *g)
{
    dg_insn d = { 0 };
    unsigned kind = below(g, 4);
    unsigned size = pick_size(g, &d, kind != 1);
    bool byte = size == 1;
    if (kind == 1) {
        g->c->family = "xchg-ax";
        d.op[d.nop++] = 0x90;
        d.plus_r = true;
        d.opreg = pick_reg(g, 0);
        emit(g, &d);
        return;
    }
    d.has_modrm = true;
    d.reg = pick_reg(g, 0);
    if (kind == 0) {
        g->c->family = "xchg";
        d.op[d.nop++] = byte ? 0x86 : 0x87;
        make_rm(g, &d.rm, 0, 50);
    } else if (kind == 2) {
        g->c->family = "xadd";
        d.op[d.nop++] = 0x0F;
        d.op[d.nop++] = byte ? 0xC0 : 0xC1;
        make_rm(g, &d.rm, 0, 50);
    } else {
        g->c->family = "cmpxchg";
        d.op[d.nop++] = 0x0F;
        d.op[d.nop++] = byte ? 0xB0 : 0xB1;
        make_rm(g, &d.rm, BIT(RAX), 50);
        if (chance(g, 50)) /* take the "equal" path: accumulator = destination */
            set_reg(g, RAX, size, get_rm(g, &d.rm, size));
    }
    if (lock_ok(g, &d))
        d.prefix[d.nprefix++] = 0xF0;
    emit(g, &d);
}

/* 98 99: CBW/CWDE/CDQE, CWD/CDQ/CQO; 9E 9F: SAHF LAHF; F5 F8 F9: CMC CLC STC */
static void gen_misc(gen *g)
{
    static const uint8_t ops[] = { 0x98, 0x99, 0x9E, 0x9F, 0xF5, 0xF8, 0xF9 };
    static const char *const names[] = { "cbw", "cwd", "sahf", "lahf", "cmc", "clc", "stc" };
    dg_insn d = { 0 };
    unsigned k = below(g, sizeof ops);
    if (k < 2)
        pick_size(g, &d, false);
    g->c->family = names[k];
    d.op[d.nop++] = ops[k];
    emit(g, &d);
}

/* 0F 90-9F: SETcc r/m8; 0F 40-4F: CMOVcc r, r/m */
static void gen_cc(gen *g)
{
    dg_insn d = { 0 };
    unsigned cc = below(g, 16);
    d.has_modrm = true;
    d.op[d.nop++] = 0x0F;
    if (chance(g, 50)) {
        g->c->family = "setcc";
        if (g->mode == 8) {
            g->norex = chance(g, 50);
            d.rex_force = !g->norex;
        } else {
            g->norex = true;
        }
        d.op[d.nop++] = (uint8_t)(0x90 + cc);
        d.reg = 0;
        make_rm(g, &d.rm, 0, 50);
    } else {
        g->c->family = "cmovcc";
        pick_size(g, &d, false);
        d.op[d.nop++] = (uint8_t)(0x40 + cc);
        d.reg = pick_reg(g, 0);
        make_rm(g, &d.rm, 0, 50);
    }
    emit(g, &d);
}

/* 50-5F, 68, 6A, FF /6, 8F /0: PUSH and POP (SDM Vol. 2B PUSH/POP). The
 * stack pointer starts in the stack page; memory operands avoid RSP. */
static void gen_stack(gen *g)
{
    dg_insn d = { 0 };
    unsigned form = below(g, 5);
    bool word = chance(g, 20);
    g->norex = false;
    g->c->family = "push";
    if (word)
        d.prefix[d.nprefix++] = 0x66;
    g->c->gpr[RSP] = DG_STACK_TOP - 64 + below(g, 128);
    switch (form) {
    case 0:
        d.op[d.nop++] = 0x50;
        d.plus_r = true;
        d.opreg = pick_reg(g, 0);
        break;
    case 1:
        g->c->family = "pop";
        d.op[d.nop++] = 0x58;
        d.plus_r = true;
        d.opreg = pick_reg(g, 0);
        break;
    case 2:
        g->c->family = "push-imm";
        if (chance(g, 50)) {
            d.op[d.nop++] = 0x6A;
            d.imm_size = 1;
        } else {
            d.op[d.nop++] = 0x68;
            d.imm_size = word ? 2 : 4;
        }
        d.imm = rnd_imm(g, d.imm_size);
        break;
    case 3:
        d.op[d.nop++] = 0xFF;
        d.has_modrm = true;
        d.reg = 6;
        make_rm(g, &d.rm, BIT(RSP), 50);
        break;
    default:
        g->c->family = "pop";
        d.op[d.nop++] = 0x8F;
        d.has_modrm = true;
        d.reg = 0;
        make_rm(g, &d.rm, BIT(RSP), 50);
        break;
    }
    emit(g, &d);
}

/* ------------------------------------------------------------------ blocks with Jcc */

/* One instruction whose flags are all defined (so a later Jcc, ADC or
 * SETcc reads defined inputs): ALU without the logic ops, INC/DEC/NEG,
 * MOV, LEA, CMOVcc, SETcc, flag ops. Register operands only. */
static void gen_defined_reg_insn(gen *g)
{
    dg_insn d = { 0 };
    unsigned k = below(g, 7);
    unsigned size;
    switch (k) {
    case 0: case 1: {
        static const unsigned defined_ops[5] = { 0, 2, 3, 5, 7 }; /* add adc sbb sub cmp */
        unsigned op = defined_ops[below(g, 5)];
        size = pick_size(g, &d, true);
        d.has_modrm = true;
        if (chance(g, 50)) {
            d.op[d.nop++] = (uint8_t)(op * 8 + (size == 1 ? 0 : 1)); /* op r/m, r */
            d.reg = pick_reg(g, BIT(RSP));
            d.rm.reg = pick_reg(g, BIT(RSP));
        } else {
            d.op[d.nop++] = size == 1 ? 0x80 : 0x83;
            d.reg = op;
            d.rm.reg = pick_reg(g, BIT(RSP));
            d.imm_size = 1;
            d.imm = rnd(g) & 0xff;
        }
        break;
    }
    case 2:
        size = pick_size(g, &d, true);
        d.has_modrm = true;
        d.op[d.nop++] = size == 1 ? 0xFE : 0xFF;
        d.reg = below(g, 2);
        d.rm.reg = pick_reg(g, BIT(RSP));
        break;
    case 3:
        size = pick_size(g, &d, true);
        d.has_modrm = true;
        d.op[d.nop++] = size == 1 ? 0xF6 : 0xF7;
        d.reg = 3; /* NEG */
        d.rm.reg = pick_reg(g, BIT(RSP));
        break;
    case 4:
        pick_size(g, &d, false);
        d.has_modrm = true;
        d.op[d.nop++] = 0x0F;
        d.op[d.nop++] = (uint8_t)(0x40 + below(g, 16));
        d.reg = pick_reg(g, BIT(RSP));
        d.rm.reg = pick_reg(g, BIT(RSP));
        break;
    case 5:
        g->norex = g->mode == 4;
        d.has_modrm = true;
        d.rex_force = g->mode == 8;
        d.op[d.nop++] = 0x0F;
        d.op[d.nop++] = (uint8_t)(0x90 + below(g, 16));
        d.rm.reg = pick_reg(g, BIT(RSP));
        break;
    default:
        d.op[d.nop++] = (uint8_t[]){ 0xF5, 0xF8, 0xF9 }[below(g, 3)];
        break;
    }
    emit(g, &d);
}

/* A short block with one or two forward conditional jumps (70-7F rel8 or
 * 0F 80-8F rel32) or a JMP rel8, skipping 0..3 following instructions. */
static void gen_jcc_block(gen *g)
{
    g->c->family = "jcc-block";
    unsigned n = 2 + below(g, 5);
    unsigned njumps = 1 + below(g, 2);
    /* lay the instructions out first, then patch the jumps' targets */
    unsigned starts[16], jump_at[4] = { 99, 99, 99, 99 };
    unsigned jpos[4], jsize[4], jskip[4];
    unsigned total = n + njumps;
    for (unsigned j = 0; j < njumps; j++)
        jump_at[j] = below(g, total);
    unsigned jn = 0;
    for (unsigned i = 0; i < total && i < 16; i++) {
        starts[i] = g->c->len;
        bool is_jump = false;
        for (unsigned j = 0; j < njumps; j++)
            if (jump_at[j] == i)
                is_jump = true;
        if (is_jump && jn < 4) {
            dg_insn d = { 0 };
            unsigned cc = below(g, 16);
            unsigned kind = below(g, 5); /* 0..2 rel8 Jcc, 3 rel32 Jcc, 4 JMP rel8 */
            if (kind == 3) {
                d.op[d.nop++] = 0x0F;
                d.op[d.nop++] = (uint8_t)(0x80 + cc);
                d.imm_size = 4;
            } else {
                d.op[d.nop++] = kind == 4 ? 0xEB : (uint8_t)(0x70 + cc);
                d.imm_size = 1;
            }
            g->norex = false;
            emit(g, &d);
            jpos[jn] = i;
            jsize[jn] = d.imm_size;
            jskip[jn] = below(g, 4);
            jn++;
        } else {
            gen_defined_reg_insn(g);
        }
    }
    starts[total] = g->c->len;
    for (unsigned j = 0; j < jn; j++) {
        unsigned from = jpos[j] + 1;
        unsigned to = from + jskip[j];
        if (to > total)
            to = total;
        int32_t rel = (int32_t)(starts[to] - starts[from]);
        uint8_t *imm = g->c->code + starts[from] - jsize[j];
        if (jsize[j] == 1)
            imm[0] = (uint8_t)rel; /* rel < 128: at most 3 short instructions */
        else
            memcpy(imm, &rel, 4);
    }
}

/* ------------------------------------------------------------------ the case */

typedef void (*gen_fn)(gen *g);
static const struct {
    gen_fn fn;
    unsigned weight;
} families[] = {
    { gen_alu, 20 }, { gen_test, 3 }, { gen_unary, 6 }, { gen_shift, 14 }, { gen_mul, 7 },
    { gen_div, 6 }, { gen_bt, 6 }, { gen_bsf, 3 }, { gen_bswap, 2 }, { gen_mov, 8 },
    { gen_lea, 4 }, { gen_xchg, 6 }, { gen_misc, 4 }, { gen_cc, 6 }, { gen_stack, 4 },
    { gen_jcc_block, 6 },
};

void dg_generate(dg_rng *r, unsigned mode, dg_case *c, uint8_t *data, uint8_t *stack)
{
    gen g = { .r = r, .c = c, .data = data, .stack = stack, .mode = mode };
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->native_ok = true;
    for (unsigned i = 0; i < 16; i++)
        c->gpr[i] = (mode == 8 || i < 8) ? rnd_value(&g) & addr_mask(&g) : 0;
    c->rflags = DG_FIXED1 | (rnd(&g) & DG_STATUS);
    for (unsigned i = 0; i < DG_DATA_SIZE; i += 8) {
        uint64_t v = chance(&g, 90) ? rnd(&g) : rnd_value(&g);
        memcpy(data + i, &v, 8);
    }
    for (unsigned i = 0; i < DG_STACK_SIZE; i += 8) {
        uint64_t v = rnd(&g);
        memcpy(stack + i, &v, 8);
    }
    unsigned total = 0;
    for (unsigned i = 0; i < sizeof families / sizeof families[0]; i++)
        total += families[i].weight;
    unsigned pick = below(&g, total);
    for (unsigned i = 0; i < sizeof families / sizeof families[0]; i++) {
        if (pick < families[i].weight) {
            families[i].fn(&g);
            break;
        }
        pick -= families[i].weight;
    }
    if (mode == 4)
        for (unsigned i = 0; i < 16; i++)
            c->gpr[i] = i < 8 ? c->gpr[i] & 0xffffffffull : 0;
}

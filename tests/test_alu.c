/*
 * test_alu.c - the ordinary data and arithmetic instructions and the lazy
 * flags (src/cpu/exec_alu.c, exec_shift.c, exec_muldiv.c, exec_bits.c,
 * flags.c).
 *
 * Judges:
 *  - native: this host's CPU (an AMD EPYC) runs the same instruction bytes
 *    at ring 3, from the same register file and flags, in a small JIT
 *    stub; result registers and all six status flags must be equal. The
 *    bytes are decoded by rc_decode and executed by the handler, so the
 *    decoder's view of the encoding is exercised too. For the AMD model
 *    the comparison is exact, undefined flags included. For the Intel
 *    model the flags the SDM calls undefined are masked (the host is not
 *    an Intel CPU, so it is no judge for those), and the few encodings
 *    whose undefined *result* differs between vendors are skipped here
 *    and checked against their documented Intel value in test_intel_*.
 *  - the SDM pseudo-code worked by hand (test_sdm_*), including every
 *    #DE/#UD rule, and the BCD instructions (invalid in 64-bit mode, so
 *    native cannot run them here): hand-worked SDM examples and Unicorn
 *    (32-bit mode) on the SDM-defined flags.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef RC_HAVE_UNICORN
#include <unicorn/unicorn.h>
#endif

#include "exec.h"

static const rc_model intel_model = {
    .vendor = RC_VENDOR_INTEL, .name = "GenuineIntel", .bsf_zero_keeps_dest = true
};
static const rc_model amd_model = {
    .vendor = RC_VENDOR_AMD, .name = "AuthenticAMD", .bsf_zero_keeps_dest = true
};

static rc_cpu *new_cpu(const rc_model *m)
{
    rc_cpu *cpu = calloc(1, sizeof(*cpu));
    cpu->model = m;
    cpu->mode = RC_MODE_LONG64;
    cpu->code_size = 8;
    cpu->stack_size = 8;
    cpu->rflags = RC_FLAG_FIXED1;
    return cpu;
}

/* ------------------------------------------------------------------ native runner */

typedef struct nstate {
    uint64_t r[16];
    uint64_t flags;
} nstate;

/* Prologue/epilogue around the instruction under test (rdi = nstate *).
 * They save the callee-saved registers, load all GPRs but RSP and RFLAGS
 * from the state, and store them back afterwards; the epilogue clears DF
 * as the ABI requires on return. */
__asm__(".text\n"
        "alu_pro_start:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  push %rdi\n"
        "  pushq 128(%rdi)\n  popfq\n"
        "  mov 0(%rdi),%rax\n  mov 8(%rdi),%rcx\n  mov 16(%rdi),%rdx\n  mov 24(%rdi),%rbx\n"
        "  mov 40(%rdi),%rbp\n  mov 48(%rdi),%rsi\n"
        "  mov 64(%rdi),%r8\n  mov 72(%rdi),%r9\n  mov 80(%rdi),%r10\n  mov 88(%rdi),%r11\n"
        "  mov 96(%rdi),%r12\n  mov 104(%rdi),%r13\n  mov 112(%rdi),%r14\n  mov 120(%rdi),%r15\n"
        "  mov 56(%rdi),%rdi\n"
        "alu_pro_end:\n"
        "alu_epi_start:\n"
        "  pushfq\n  cld\n  push %rdi\n  mov 16(%rsp),%rdi\n"
        "  popq 56(%rdi)\n  popq 128(%rdi)\n"
        "  mov %rax,0(%rdi)\n  mov %rcx,8(%rdi)\n  mov %rdx,16(%rdi)\n  mov %rbx,24(%rdi)\n"
        "  mov %rbp,40(%rdi)\n  mov %rsi,48(%rdi)\n"
        "  mov %r8,64(%rdi)\n  mov %r9,72(%rdi)\n  mov %r10,80(%rdi)\n  mov %r11,88(%rdi)\n"
        "  mov %r12,96(%rdi)\n  mov %r13,104(%rdi)\n  mov %r14,112(%rdi)\n  mov %r15,120(%rdi)\n"
        "  pop %rdi\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
        "alu_epi_end:\n");
extern const uint8_t alu_pro_start[], alu_pro_end[], alu_epi_start[], alu_epi_end[];

static uint8_t *jit;

static void native_run(const uint8_t *code, unsigned n, nstate *st)
{
    if (!jit) {
        jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
        ck_assert_ptr_ne(jit, MAP_FAILED);
    }
    size_t pro = (size_t)(alu_pro_end - alu_pro_start), epi = (size_t)(alu_epi_end - alu_epi_start);
    memcpy(jit, alu_pro_start, pro);
    memcpy(jit + pro, code, n);
    memcpy(jit + pro + n, alu_epi_start, epi);
    ((void (*)(nstate *))(void *)jit)(st);
}

/* ------------------------------------------------------------------ random operands */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull; /* RC_ALU_SEED overrides */
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Values that reach the flag edge cases often: 0, 1, all-ones, the sign
 * boundaries of every width, small numbers, and plain random bits. */
static uint64_t rnd_val(void)
{
    static const uint64_t edge[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000ull,
        0xffffffffull, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, 0x0f, 0x10, 0x99,
    };
    uint64_t hi = rnd() & ~0xffull;
    switch (rnd() % 6) {
    case 0: return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
    case 1: return hi | edge[rnd() % 6];
    case 2: return rnd() & 0xff;
    case 3: return rnd() >> (rnd() % 64);
    default: return rnd();
    }
}

static uint64_t rnd_flags(void)
{
    return RC_FLAG_FIXED1 | RC_FLAG_IF | (rnd() & RC_FLAGS_ARITH);
}

/* ------------------------------------------------------------------ encoding */

typedef struct enc {
    uint8_t b[32];
    unsigned n;
} enc;

static void put(enc *e, uint8_t v) { e->b[e->n++] = v; }
static void put_imm(enc *e, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        put(e, (uint8_t)(v >> (8 * i)));
}

/* One register-form instruction: [66] [REX] [0F] op [ModRM] [imm].
 * size 1/2/4/8; reg and rm 0..15 (reg may be a /digit). */
static void emit(enc *e, unsigned size, bool twobyte, uint8_t op, bool modrm, unsigned reg,
                 unsigned rm, bool force_rex)
{
    uint8_t rex = 0x40 | (size == 8 ? 8 : 0) | (modrm && reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
    if (size == 2)
        put(e, 0x66);
    if (rex != 0x40 || force_rex)
        put(e, rex);
    if (twobyte)
        put(e, 0x0f);
    if (modrm) {
        put(e, op);
        put(e, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
    } else {
        put(e, (uint8_t)(op | (rm & 7)));
    }
}

/* A register usable at 'size': never RSP (the stub's stack); for byte
 * operands, with REX any of the 16 low bytes but SPL, without REX AL..BH. */
static unsigned pick_reg(unsigned size, bool rex)
{
    for (;;) {
        unsigned r = rnd() % 16;
        if (size == 1 && !rex)
            return r & 7;
        if (r != 4)
            return r;
    }
}

static unsigned rnd_size(void) { return 1u << (rnd() % 4); }
static unsigned rnd_size_wide(void) { return 2u << (rnd() % 3); }

/* ------------------------------------------------------------------ comparison */

static unsigned long n_native, n_native_intel, n_skipped_intel;

/* Decode and execute every instruction of 'code' in ringcore. */
static rc_fault emu_run(rc_cpu *cpu, const uint8_t *code, unsigned n, unsigned code_size)
{
    unsigned off = 0;
    while (off < n) {
        rc_insn in;
        rc_fault f = rc_decode(cpu, code + off, n - off, code_size, &in);
        if (RC_FAILED(f))
            return f;
        cpu->insn_rip = off;
        cpu->rip = off + in.len;
        f = in.exec(cpu, &in);
        if (RC_FAILED(f))
            return f;
        off += in.len;
    }
    return RC_NOFAULT;
}

static void dump(const char *what, const uint8_t *code, unsigned n, const nstate *in,
                 const nstate *nat, const uint64_t *emu_r, uint64_t emu_f)
{
    fprintf(stderr, "MISMATCH %s bytes:", what);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, " %02x", code[i]);
    fprintf(stderr, "\n  flags in %03llx native %03llx emu %03llx\n",
            (unsigned long long)(in->flags & 0xfff), (unsigned long long)(nat->flags & 0xfff),
            (unsigned long long)(emu_f & 0xfff));
    for (unsigned i = 0; i < 16; i++)
        if (i != 4 && (nat->r[i] != emu_r[i] || in->r[i] != nat->r[i]))
            fprintf(stderr, "  r%-2u in %016llx native %016llx emu %016llx\n", i,
                    (unsigned long long)in->r[i], (unsigned long long)nat->r[i],
                    (unsigned long long)emu_r[i]);
}

/* Run 'code' natively and in ringcore with the AMD model (exact: all six
 * status flags), and with the Intel model (flags in 'intel_undef' masked;
 * skipped entirely when intel_skip). emu_code/emu_n/emu_cs: what ringcore
 * runs when it differs from the native bytes (32-bit-only encodings). */
typedef struct ccase {
    const char *what;
    enc native;
    const enc *emu; /* NULL: same bytes as native, 64-bit mode */
    unsigned emu_cs;
    uint32_t intel_undef;
    bool intel_skip;
    uint32_t extra_mask; /* further RFLAGS bits to compare (DF) */
} ccase;

static void compare_one(const ccase *c, const nstate *start)
{
    nstate nat = *start;
    native_run(c->native.b, c->native.n, &nat);
    const uint8_t *ecode = c->emu ? c->emu->b : c->native.b;
    unsigned en = c->emu ? c->emu->n : c->native.n, ecs = c->emu ? c->emu_cs : 8;

    for (int v = 0; v < 2; v++) {
        const rc_model *m = v == 0 ? &amd_model : &intel_model;
        if (v == 1 && c->intel_skip) {
            n_skipped_intel++;
            continue;
        }
        rc_cpu *cpu = new_cpu(m);
        memcpy(cpu->gpr, start->r, sizeof(cpu->gpr));
        rc_set_rflags(cpu, start->flags);
        rc_fault f = emu_run(cpu, ecode, en, ecs);
        if (RC_FAILED(f)) {
            fprintf(stderr, "%s: ringcore fault kind %u vector %u (%s)\n", c->what, f.kind,
                    f.vector, cpu->fault_reason ? cpu->fault_reason : "");
            ck_abort_msg("%s: unexpected fault", c->what);
        }
        uint64_t ef = rc_get_rflags(cpu);
        uint32_t mask = (RC_FLAGS_ARITH | c->extra_mask) & ~(v == 1 ? c->intel_undef : 0);
        bool ok = ((ef ^ nat.flags) & mask) == 0;
        for (unsigned i = 0; i < 16; i++)
            if (i != 4 && cpu->gpr[i] != nat.r[i])
                ok = false;
        if (!ok)
            dump(v == 0 ? c->what : "(intel model)", c->native.b, c->native.n, start, &nat,
                 cpu->gpr, ef);
        ck_assert_msg(ok, "%s differs from native (%s model)", c->what, m->name);
        free(cpu);
        if (v == 0)
            n_native++;
        else
            n_native_intel++;
    }
}

static void random_state(nstate *s)
{
    for (unsigned i = 0; i < 16; i++)
        s->r[i] = rnd_val();
    s->r[4] = 0;
    s->flags = rnd_flags();
}

#define ITER 600

/* ------------------------------------------------------------------ families */

#define F_LOGIC_AF RC_FLAG_AF
#define UNDEF_MUL (RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_AF | RC_FLAG_PF)

/* 00-3D all forms, 80/81/83: ADD OR ADC SBB AND SUB XOR CMP. */
START_TEST(test_native_alu)
{
    for (int i = 0; i < ITER * 4; i++) {
        ccase c = { .what = "alu" };
        unsigned size = rnd_size(), op = rnd() % 8, form = rnd() % 5;
        bool rex = size != 1 || (rnd() & 1);
        unsigned reg = pick_reg(size, rex), rm = pick_reg(size, rex);
        unsigned isz = size == 1 ? 1 : size == 2 ? 2 : 4;
        uint8_t byte = size == 1 ? 0 : 1;
        switch (form) {
        case 0: emit(&c.native, size, false, (uint8_t)(op * 8 + byte), true, reg, rm, rex); break;
        case 1: emit(&c.native, size, false, (uint8_t)(op * 8 + 2 + byte), true, reg, rm, rex); break;
        case 2: break; /* built below: no ModRM */
        case 3:
            emit(&c.native, size, false, size == 1 ? 0x80 : 0x81, true, op, rm, rex);
            put_imm(&c.native, rnd_val(), isz);
            break;
        default:
            emit(&c.native, size, false, size == 1 ? 0x80 : 0x83, true, op, rm, rex);
            put_imm(&c.native, rnd_val(), 1);
            break;
        }
        if (form == 2) {
            enc e = { .n = 0 };
            if (size == 2)
                put(&e, 0x66);
            if (size == 8)
                put(&e, 0x48);
            put(&e, (uint8_t)(op * 8 + 4 + byte));
            put_imm(&e, rnd_val(), isz);
            c.native = e;
        }
        /* SDM: AF undefined after AND/OR/XOR. */
        c.intel_undef = (op == 1 || op == 4 || op == 6) ? F_LOGIC_AF : 0;
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* FE /0 /1 (byte) natively and in ringcore; FF /0 /1 natively against
 * ringcore's 40-4F (32-bit mode) for 16/32-bit operands -- the same
 * operation, whose 64-bit-mode encoding (FF) belongs to group 5. */
START_TEST(test_native_incdec)
{
    for (int i = 0; i < ITER; i++) {
        ccase c = { .what = "inc/dec" };
        enc e = { .n = 0 };
        unsigned size = 1u << (rnd() % 3), dec = rnd() & 1;
        bool rex = size != 1 && false;
        unsigned rm = size == 1 ? pick_reg(1, false) : (rnd() % 8);
        if (rm == 4 && size != 1)
            rm = 0;
        if (size == 1) {
            emit(&c.native, 1, false, 0xfe, true, dec, rm, rex);
        } else {
            emit(&c.native, size, false, 0xff, true, dec, rm, false);
            if (size == 2)
                put(&e, 0x66);
            put(&e, (uint8_t)(0x40 | dec << 3 | rm));
            c.emu = &e;
            c.emu_cs = 4;
        }
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* 84 85 A8 A9 F6/F7 /0, and F6/F7 /2 NOT /3 NEG. */
START_TEST(test_native_test_not_neg)
{
    for (int i = 0; i < ITER * 2; i++) {
        ccase c = { .what = "test/not/neg" };
        unsigned size = rnd_size(), kind = rnd() % 4;
        bool rex = size != 1 || (rnd() & 1);
        unsigned reg = pick_reg(size, rex), rm = pick_reg(size, rex);
        unsigned isz = size == 1 ? 1 : size == 2 ? 2 : 4;
        switch (kind) {
        case 0: emit(&c.native, size, false, size == 1 ? 0x84 : 0x85, true, reg, rm, rex); break;
        case 1:
            emit(&c.native, size, false, size == 1 ? 0xf6 : 0xf7, true, 0, rm, rex);
            put_imm(&c.native, rnd_val(), isz);
            break;
        default:
            emit(&c.native, size, false, size == 1 ? 0xf6 : 0xf7, true, kind, rm, rex);
            break;
        }
        c.intel_undef = kind < 2 ? F_LOGIC_AF : 0;
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* F6/F7 /4 MUL /5 IMUL, 0F AF, 69, 6B. */
START_TEST(test_native_mul)
{
    for (int i = 0; i < ITER * 2; i++) {
        ccase c = { .what = "mul/imul" };
        unsigned kind = rnd() % 4, size = kind < 2 ? rnd_size() : rnd_size_wide();
        bool rex = size != 1 || (rnd() & 1);
        unsigned reg = pick_reg(size, rex), rm = pick_reg(size, rex);
        switch (kind) {
        case 0:
        case 1: emit(&c.native, size, false, size == 1 ? 0xf6 : 0xf7, true, 4 + kind, rm, rex); break;
        case 2: emit(&c.native, size, true, 0xaf, true, reg, rm, rex); break;
        default:
            if (rnd() & 1) {
                emit(&c.native, size, false, 0x69, true, reg, rm, rex);
                put_imm(&c.native, rnd_val(), size == 2 ? 2 : 4);
            } else {
                emit(&c.native, size, false, 0x6b, true, reg, rm, rex);
                put_imm(&c.native, rnd_val(), 1);
            }
            break;
        }
        c.intel_undef = UNDEF_MUL;
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* F6/F7 /6 DIV /7 IDIV, operands chosen so the host does not fault (the
 * #DE cases are in test_sdm_div_faults). */
static bool div_ok(const nstate *s, unsigned size, unsigned rm, bool rex, bool sgn)
{
    rc_cpu tmp;
    memcpy(tmp.gpr, s->r, sizeof(tmp.gpr));
    uint64_t m = rc_size_mask(size);
    uint64_t d = rc_get_gpr(&tmp, rm, size, rex);
    unsigned bits = size * 8;
    unsigned __int128 lo = size == 1 ? (s->r[0] & 0xffff) : (s->r[0] & m);
    unsigned __int128 dd = size == 1 ? lo : ((unsigned __int128)(s->r[2] & m) << bits) | lo;
    if (d == 0)
        return false;
    if (!sgn)
        return dd / d <= m;
    unsigned sh = 128 - 2 * bits;
    __int128 sdd = (__int128)(dd << sh) >> sh, sd = rc_sext(d, size);
    if (sd == -1)
        return false; /* covers the one overflow C cannot even compute */
    __int128 q = sdd / sd, max = ((__int128)1 << (bits - 1)) - 1;
    return q <= max && q >= -max - 1;
}

START_TEST(test_native_div)
{
    int done = 0;
    while (done < ITER) {
        ccase c = { .what = "div/idiv" };
        unsigned size = rnd_size(), sgn = rnd() & 1;
        bool rex = size != 1 || (rnd() & 1);
        unsigned rm = pick_reg(size, rex);
        emit(&c.native, size, false, size == 1 ? 0xf6 : 0xf7, true, 6 + sgn, rm, rex);
        nstate s;
        random_state(&s);
        /* Make most dividends small enough for a quotient that fits. */
        if (rnd() % 4)
            s.r[2] = (rnd() & 1) ? 0 : ~0ull;
        if (size == 1 && (rnd() % 4))
            s.r[0] &= ~0xff00ull;
        if (!div_ok(&s, size, rm, rex, sgn))
            continue;
        c.intel_undef = RC_FLAGS_ARITH;
        compare_one(&c, &s);
        done++;
    }
}
END_TEST

/* C0 C1 D0-D3: every op, counts 0..255 (masked by the CPU). */
START_TEST(test_native_shift)
{
    for (int i = 0; i < ITER * 6; i++) {
        ccase c = { .what = "shift/rotate" };
        unsigned size = rnd_size(), op = rnd() % 8, form = rnd() % 3;
        bool rex = size != 1 || (rnd() & 1);
        unsigned rm = pick_reg(size, rex);
        nstate s;
        random_state(&s);
        unsigned count;
        if (rm == 1 && form == 1)
            rm = 2; /* keep CL as the count only */
        switch (form) {
        case 0:
            emit(&c.native, size, false, size == 1 ? 0xd0 : 0xd1, true, op, rm, rex);
            count = 1;
            break;
        case 1:
            emit(&c.native, size, false, size == 1 ? 0xd2 : 0xd3, true, op, rm, rex);
            s.r[1] = (s.r[1] & ~0xffull) | (rnd() % 4 ? rnd() % 70 : rnd() & 0xff);
            count = s.r[1] & 0xff;
            break;
        default:
            emit(&c.native, size, false, size == 1 ? 0xc0 : 0xc1, true, op, rm, rex);
            count = rnd() % 4 ? rnd() % 70 : rnd() & 0xff;
            put_imm(&c.native, count, 1);
            break;
        }
        unsigned mc = count & (size == 8 ? 63 : 31);
        /* SDM: OF undefined unless the (masked) count is 1; AF undefined
         * for shifts; CF undefined for SHL/SHR when count >= width. */
        if (mc != 0) {
            if (mc != 1)
                c.intel_undef |= RC_FLAG_OF;
            if (op >= 4)
                c.intel_undef |= RC_FLAG_AF;
            if ((op == 4 || op == 5 || op == 6) && mc >= size * 8)
                c.intel_undef |= RC_FLAG_CF;
        }
        compare_one(&c, &s);
    }
}
END_TEST

/* 0F A4 A5 AC AD: SHLD/SHRD, 16/32/64-bit, counts 0..255. */
START_TEST(test_native_shxd)
{
    for (int i = 0; i < ITER * 3; i++) {
        ccase c = { .what = "shld/shrd" };
        unsigned size = rnd_size_wide(), right = rnd() & 1, by_cl = rnd() & 1;
        unsigned reg = pick_reg(size, true), rm = pick_reg(size, true);
        nstate s;
        random_state(&s);
        unsigned count = rnd() % 4 ? rnd() % 70 : rnd() & 0xff;
        if (by_cl) {
            if (rm == 1)
                rm = 2;
            if (reg == 1)
                reg = 3;
            s.r[1] = (s.r[1] & ~0xffull) | count;
        }
        emit(&c.native, size, true, (uint8_t)((right ? 0xac : 0xa4) + by_cl), true, reg, rm, true);
        if (!by_cl)
            put_imm(&c.native, count, 1);
        unsigned mc = count & (size == 8 ? 63 : 31);
        if (mc != 0) {
            c.intel_undef = RC_FLAG_AF | (mc != 1 ? RC_FLAG_OF : 0);
            /* SDM: count > operand size: result and flags undefined; Intel's
             * value is checked in test_intel_shxd16. */
            c.intel_skip = mc > size * 8;
        }
        compare_one(&c, &s);
    }
}
END_TEST

/* 0F A3 AB B3 BB (register bit offset) and 0F BA /4-/7 (imm8). */
START_TEST(test_native_bt)
{
    for (int i = 0; i < ITER * 2; i++) {
        ccase c = { .what = "bt" };
        unsigned size = rnd_size_wide(), op = rnd() % 4;
        unsigned reg = pick_reg(size, true), rm = pick_reg(size, true);
        if (rnd() & 1) {
            emit(&c.native, size, true, (uint8_t)(0xa3 + op * 8), true, reg, rm, true);
        } else {
            emit(&c.native, size, true, 0xba, true, 4 + op, rm, true);
            put_imm(&c.native, rnd() & 0xff, 1);
        }
        c.intel_undef = RC_FLAG_OF | RC_FLAG_SF | RC_FLAG_AF | RC_FLAG_PF;
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* 0F BC BSF / 0F BD BSR, including zero sources. */
START_TEST(test_native_bsf_bsr)
{
    for (int i = 0; i < ITER; i++) {
        ccase c = { .what = "bsf/bsr" };
        unsigned size = rnd_size_wide(), reg = pick_reg(size, true), rm = pick_reg(size, true);
        emit(&c.native, size, true, (uint8_t)(0xbc + (rnd() & 1)), true, reg, rm, true);
        nstate s;
        random_state(&s);
        if (rnd() % 4 == 0)
            s.r[rm] &= ~rc_size_mask(size);
        c.intel_undef = RC_FLAG_CF | RC_FLAG_OF | RC_FLAG_SF | RC_FLAG_AF | RC_FLAG_PF;
        /* Zero source with a 32-bit operand: the vendors differ (upper half);
         * Intel's value is checked in test_intel_bsf_zero. */
        c.intel_skip = (s.r[rm] & rc_size_mask(size)) == 0;
        compare_one(&c, &s);
    }
}
END_TEST

/* 0F C0 C1 XADD, 0F B0 B1 CMPXCHG, 86 87 XCHG, 88-8B MOV, C6/C7 /0. */
START_TEST(test_native_xchg_family)
{
    for (int i = 0; i < ITER * 2; i++) {
        ccase c = { .what = "xadd/cmpxchg/xchg/mov" };
        unsigned size = rnd_size(), kind = rnd() % 5;
        bool rex = size != 1 || (rnd() & 1);
        unsigned reg = pick_reg(size, rex), rm = pick_reg(size, rex);
        uint8_t byte = size == 1 ? 0 : 1;
        nstate s;
        random_state(&s);
        switch (kind) {
        case 0: emit(&c.native, size, true, (uint8_t)(0xc0 + byte), true, reg, rm, rex); break;
        case 1:
            emit(&c.native, size, true, (uint8_t)(0xb0 + byte), true, reg, rm, rex);
            if (rnd() & 1) { /* make the comparison succeed half the time */
                rc_cpu tmp;
                memcpy(tmp.gpr, s.r, sizeof(tmp.gpr));
                rc_set_gpr(&tmp, 0, size, rex, rc_get_gpr(&tmp, rm, size, rex));
                s.r[0] = tmp.gpr[0];
            }
            break;
        case 2: emit(&c.native, size, false, (uint8_t)(0x86 + byte), true, reg, rm, rex); break;
        case 3:
            emit(&c.native, size, false, (uint8_t)(0x88 + byte + (rnd() & 2)), true, reg, rm, rex);
            break;
        default:
            emit(&c.native, size, false, (uint8_t)(0xc6 + byte), true, 0, rm, rex);
            put_imm(&c.native, rnd_val(), size == 1 ? 1 : size == 2 ? 2 : 4);
            break;
        }
        compare_one(&c, &s);
    }
}
END_TEST

/* An arithmetic instruction (lazy flags) followed by SETcc or CMOVcc:
 * rc_cond over every lazy operation and every condition. */
START_TEST(test_native_conditions)
{
    for (int i = 0; i < ITER * 4; i++) {
        ccase c = { .what = "alu + setcc/cmovcc" };
        unsigned size = rnd_size(), kind = rnd() % 4;
        bool rex = true;
        unsigned reg = pick_reg(size, rex), rm = pick_reg(size, rex);
        switch (kind) {
        case 0: emit(&c.native, size, false, (uint8_t)((rnd() % 8) * 8 + (size != 1)), true, reg, rm, rex); break;
        case 1: emit(&c.native, size, false, size == 1 ? 0xfe : 0xf7, true, size == 1 ? rnd() & 1 : 3, rm, rex); break;
        case 2: emit(&c.native, size, false, size == 1 ? 0x84 : 0x85, true, reg, rm, rex); break;
        default: break; /* flags straight from popf (LZ_NONE) */
        }
        unsigned cc = rnd() % 16, r2 = pick_reg(4, true), r3 = pick_reg(4, true);
        if (rnd() & 1)
            emit(&c.native, 1, true, (uint8_t)(0x90 + cc), true, 0, r2, true);
        else
            emit(&c.native, rnd_size_wide(), true, (uint8_t)(0x40 + cc), true, r2, r3, true);
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* Moves and conversions: MOVZX/MOVSX, MOVSXD, CBW/CWD family, BSWAP,
 * MOV r,imm (B0-BF incl. imm64), XCHG rAX (90-97 incl. NOP/PAUSE),
 * CMC/CLC/STC/CLD/STD. */
START_TEST(test_native_moves)
{
    for (int i = 0; i < ITER * 3; i++) {
        ccase c = { .what = "moves" };
        unsigned size = rnd_size_wide(), kind = rnd() % 9;
        unsigned reg = pick_reg(size, true), rm = pick_reg(size, true);
        switch (kind) {
        case 0: emit(&c.native, size, true, (uint8_t)(0xb6 + (rnd() & 1) + (rnd() & 8)), true, reg, rm, true); break;
        case 1: emit(&c.native, size, false, 0x63, true, reg, rm, rnd() & 1); break;
        case 2: emit(&c.native, size, false, (uint8_t)(0x98 + (rnd() & 1)), false, 0, 0, false); break;
        case 3: emit(&c.native, size, true, 0xc8, false, 0, rm, rnd() & 1); break;
        case 4: {
            unsigned bsize = (rnd() & 1) ? 1 : size;
            emit(&c.native, bsize, false, bsize == 1 ? 0xb0 : 0xb8, false, 0, pick_reg(bsize, true), true);
            put_imm(&c.native, rnd_val(), bsize == 8 ? 8 : bsize == 4 ? 4 : bsize);
            break;
        }
        case 5: {
            unsigned r = rnd() % 3 ? rm : 0;
            if (rnd() % 4 == 0)
                put(&c.native, 0xf3);
            emit(&c.native, size, false, 0x90, false, 0, r, rnd() & 1);
            break;
        }
        case 6: {
            static const uint8_t ops[] = { 0xf5, 0xf8, 0xf9, 0xfc, 0xfd };
            put(&c.native, ops[rnd() % 5]);
            c.extra_mask = RC_FLAG_DF;
            break;
        }
        case 7: emit(&c.native, size, false, 0x8b, true, reg, rm, true); break;
        default: emit(&c.native, 1, false, 0x8a, true, pick_reg(1, false), pick_reg(1, false), false); break;
        }
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* SAHF/LAHF in 64-bit mode: both need the model's CPUID LAHF-SAHF bit. */
START_TEST(test_native_sahf_lahf)
{
    rc_cpu *cpu = new_cpu(&amd_model);
    uint32_t out[4] = { 0, 0, 0, 0 };
    rc_model_cpuid(cpu, 0x80000001u, 0, out);
    free(cpu);
    if (!(out[2] & 1)) {
        printf("test_native_sahf_lahf: SKIP (the model's CPUID has no LAHF-SAHF bit yet: "
               "src/cpu/model.c not present)\n");
        return;
    }
    for (int i = 0; i < ITER; i++) {
        ccase c = { .what = "sahf/lahf" };
        put(&c.native, (rnd() & 1) ? 0x9e : 0x9f);
        nstate s;
        random_state(&s);
        compare_one(&c, &s);
    }
}
END_TEST

/* ------------------------------------------------------------------ Intel-specific values */

/* SHLD/SHRD r16 by 17..31: Intel P6 and later shift DEST:SRC:DEST (Bochs
 * cpu/shift16.cc records it). Worked: SHLD AX, CX, 20 with AX = 0x1234,
 * CX = 0xABCD: the 48-bit quantity 1234 ABCD 1234 shifted left by 20 and
 * its top word taken = bits 47..32 of (q << 20) = bits 27..12 of q =
 * 0xBCD1 (q = 0x1234ABCD1234: q >> 12 = 0x1234ABCD1, low word 0xBCD1).
 * AMD (native): 1234 ABCD ABCD -> q >> 12 low word = 0xBCDA. */
START_TEST(test_intel_shxd16)
{
    const uint8_t shld[] = { 0x66, 0x0f, 0xa4, 0xc8, 20 }; /* shld ax, cx, 20 */
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = new_cpu(v ? &amd_model : &intel_model);
        cpu->gpr[0] = 0x1234;
        cpu->gpr[1] = 0xabcd;
        ck_assert(!RC_FAILED(emu_run(cpu, shld, sizeof(shld), 8)));
        ck_assert_uint_eq(cpu->gpr[0], v ? 0xbcda : 0xbcd1);
        free(cpu);
    }
    /* And the AMD value agrees with this host. */
    nstate s = { .flags = 0x202 };
    s.r[0] = 0x1234;
    s.r[1] = 0xabcd;
    native_run(shld, sizeof(shld), &s);
    ck_assert_uint_eq(s.r[0], 0xbcda);
}
END_TEST

/* BSF r32 with a zero source: the low half keeps its value on both; Intel
 * writes it back zero-extended, AMD leaves bits 63:32 (native). */
START_TEST(test_intel_bsf_zero)
{
    const uint8_t bsf[] = { 0x0f, 0xbc, 0xc1 }; /* bsf eax, ecx */
    for (int v = 0; v < 2; v++) {
        rc_cpu *cpu = new_cpu(v ? &amd_model : &intel_model);
        cpu->gpr[0] = 0xffffffff12345678ull;
        cpu->gpr[1] = 0;
        ck_assert(!RC_FAILED(emu_run(cpu, bsf, sizeof(bsf), 8)));
        ck_assert_uint_eq(cpu->gpr[0], v ? 0xffffffff12345678ull : 0x12345678ull);
        ck_assert(rc_get_rflags(cpu) & RC_FLAG_ZF);
        free(cpu);
    }
}
END_TEST

/* ------------------------------------------------------------------ SDM worked examples */

static rc_cpu *run_bytes(const rc_model *m, const uint8_t *b, unsigned n, unsigned cs,
                         const uint64_t *regs, uint64_t flags, rc_fault *f)
{
    rc_cpu *cpu = new_cpu(m);
    if (cs != 8)
        cpu->mode = RC_MODE_PROT32, cpu->code_size = (uint8_t)cs;
    for (unsigned i = 0; i < 16; i++)
        cpu->gpr[i] = regs ? regs[i] : 0;
    rc_set_rflags(cpu, flags);
    *f = emu_run(cpu, b, n, cs);
    return cpu;
}

/* SDM "Flags Affected" worked by hand. */
START_TEST(test_sdm_flags)
{
    rc_fault f;
    uint64_t r[16] = { 0 };
    /* ADD AL, 1 with AL = 7F: 0x80; OF (7F+1 changes sign), SF, AF (F+1
     * carries out of bit 3); CF 0; PF: 0x80 has one 1 bit -> odd -> 0. */
    const uint8_t add[] = { 0x04, 0x01 };
    r[0] = 0x7f;
    rc_cpu *cpu = run_bytes(&intel_model, add, 2, 8, r, 0x2, &f);
    ck_assert(!RC_FAILED(f));
    ck_assert_uint_eq(cpu->gpr[0], 0x80);
    ck_assert_uint_eq(rc_get_rflags(cpu) & RC_FLAGS_ARITH, RC_FLAG_OF | RC_FLAG_SF | RC_FLAG_AF);
    ck_assert(rc_cond(cpu, 0x0) && !rc_cond(cpu, 0x2) && rc_cond(cpu, 0x8));
    free(cpu);

    /* SUB AL, 1 with AL = 0 (2C 01): FF; CF (borrow), SF, AF (borrow from
     * bit 4), PF (8 ones: even), OF 0 (0 - 1 = -1 fits). JB/JL taken. */
    const uint8_t sub[] = { 0x2c, 0x01 };
    r[0] = 0;
    cpu = run_bytes(&intel_model, sub, 2, 8, r, 0x2, &f);
    ck_assert_uint_eq(cpu->gpr[0], 0xff);
    ck_assert(rc_cond(cpu, 0x2) && rc_cond(cpu, 0xc) && rc_cond(cpu, 0x6) && !rc_cond(cpu, 0x7));
    ck_assert_uint_eq(rc_get_rflags(cpu) & RC_FLAGS_ARITH,
                      RC_FLAG_CF | RC_FLAG_SF | RC_FLAG_AF | RC_FLAG_PF);
    free(cpu);

    /* INC keeps CF: STC; INC EAX (32-bit mode 40) with EAX = FFFFFFFF ->
     * 0, ZF, AF, PF, CF still 1 (SDM "INC": CF not affected). */
    const uint8_t inc[] = { 0xf9, 0x40 };
    r[0] = 0xffffffff;
    cpu = run_bytes(&intel_model, inc, 2, 4, r, 0x2, &f);
    ck_assert(!RC_FAILED(f));
    ck_assert_uint_eq(cpu->gpr[0], 0);
    ck_assert_uint_eq(rc_get_rflags(cpu) & RC_FLAGS_ARITH,
                      RC_FLAG_CF | RC_FLAG_ZF | RC_FLAG_AF | RC_FLAG_PF);
    free(cpu);

    /* ADC with CF = 1: ADC AL, FF (14 FF) with AL = 0 -> 0 + FF + 1 = 0x100:
     * AL 0, CF 1, ZF 1, AF 1 (F + F + 1 carries), OF 0. */
    const uint8_t adc[] = { 0x14, 0xff };
    r[0] = 0;
    cpu = run_bytes(&intel_model, adc, 2, 8, r, 0x3, &f);
    ck_assert_uint_eq(cpu->gpr[0], 0);
    ck_assert_uint_eq(rc_get_rflags(cpu) & RC_FLAGS_ARITH,
                      RC_FLAG_CF | RC_FLAG_ZF | RC_FLAG_AF | RC_FLAG_PF);
    free(cpu);

    /* 32-bit writes zero-extend: ADD EAX, 0 (83 C0 00) clears RAX[63:32]. */
    const uint8_t add32[] = { 0x83, 0xc0, 0x00 };
    r[0] = 0xdeadbeef00000001ull;
    cpu = run_bytes(&intel_model, add32, 3, 8, r, 0x2, &f);
    ck_assert_uint_eq(cpu->gpr[0], 1);
    free(cpu);

    /* High-byte register: ADD AH, BH (00 FC: mod 11 reg 7 (BH) rm 4 (AH))
     * with AX = 0x0100, BX = 0x0200 -> AH = 3, AL untouched. */
    const uint8_t addh[] = { 0x00, 0xfc };
    r[0] = 0x0100;
    r[3] = 0x0200;
    cpu = run_bytes(&intel_model, addh, 2, 8, r, 0x2, &f);
    ck_assert_uint_eq(cpu->gpr[0], 0x0300);
    free(cpu);
    r[3] = 0;

    /* SALC (D6, 32-bit mode only): AL <- FF when CF = 1. */
    const uint8_t salc[] = { 0xd6 };
    r[0] = 0x1234;
    cpu = run_bytes(&intel_model, salc, 1, 4, r, 0x3, &f);
    ck_assert(!RC_FAILED(f));
    ck_assert_uint_eq(cpu->gpr[0], 0x12ff);
    free(cpu);
}
END_TEST

/* SDM "DIV"/"IDIV": #DE on a zero divisor and on a quotient too large,
 * including IDIV of the most negative dividend by -1; nothing changes. */
START_TEST(test_sdm_div_faults)
{
    struct {
        uint8_t b[4];
        unsigned n;
        uint64_t rax, rdx, rcx;
        const char *why;
    } cases[] = {
        { { 0xf7, 0xf1 }, 2, 5, 0, 0, "DIV ECX, ECX = 0" },
        { { 0xf6, 0xf1 }, 2, 0x1000, 0, 0x10, "DIV CL: 1000h / 10h = 100h > FFh" },
        { { 0xf7, 0xf9 }, 2, 0x80000000ull, 0xffffffffull, 0xffffffffull,
          "IDIV ECX: EDX:EAX = -2^31, ECX = -1 -> 2^31 > 7FFFFFFFh" },
        { { 0x48, 0xf7, 0xf9 }, 3, 0, 0x8000000000000000ull, ~0ull,
          "IDIV RCX: RDX:RAX = -2^127 / -1 -> 2^127 does not fit" },
        { { 0x48, 0xf7, 0xf1 }, 3, 0, 1, 1, "DIV RCX: 2^64 / 1 does not fit" },
        { { 0xf6, 0xf9 }, 2, 0x0080, 0, 0xff, "IDIV CL: AX = 128, CL = -1 -> -128 fits? no: AX/CL = -128 fits" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t r[16] = { 0 };
        r[0] = cases[i].rax, r[1] = cases[i].rcx, r[2] = cases[i].rdx;
        rc_fault f;
        rc_cpu *cpu = run_bytes(&amd_model, cases[i].b, cases[i].n, 8, r, 0x2 | RC_FLAG_ZF, &f);
        if (i == 5) {
            /* 128 / -1 = -128 = 80h fits in AL (range -128..127): no fault,
             * AL = 80h, AH = 0 (remainder). */
            ck_assert(!RC_FAILED(f));
            ck_assert_uint_eq(cpu->gpr[0] & 0xffff, 0x0080);
        } else {
            ck_assert_msg(RC_FAILED(f) && f.vector == RC_EXC_DE, "%s", cases[i].why);
            ck_assert_uint_eq(cpu->gpr[0], r[0]);
            ck_assert_uint_eq(cpu->gpr[2], r[2]);
            ck_assert_uint_eq(rc_get_rflags(cpu), 0x2 | RC_FLAG_ZF);
        }
        free(cpu);
    }
}
END_TEST

/* LOCK rules (SDM Vol. 2A "LOCK") at the handler: a register destination
 * or a non-lockable instruction is #UD even if a decoder let it through. */
START_TEST(test_sdm_lock)
{
    rc_cpu *cpu = new_cpu(&intel_model);
    rc_insn in;
    const uint8_t add[] = { 0x01, 0xc8 }; /* add eax, ecx */
    ck_assert(!RC_FAILED(rc_decode(cpu, add, 2, 8, &in)));
    in.lock = 1;
    rc_fault f = in.exec(cpu, &in);
    ck_assert(RC_FAILED(f) && f.vector == RC_EXC_UD);
    const uint8_t mov[] = { 0x89, 0xc8 };
    ck_assert(!RC_FAILED(rc_decode(cpu, mov, 2, 8, &in)));
    in.lock = 1;
    in.mod = 0; /* pretend memory: MOV is never lockable */
    f = in.exec(cpu, &in);
    ck_assert(RC_FAILED(f) && f.vector == RC_EXC_UD);
    /* LEA with a register source is #UD (SDM "LEA"). */
    const uint8_t lea[] = { 0x8d, 0xc1 };
    ck_assert(!RC_FAILED(rc_decode(cpu, lea, 2, 8, &in)));
    f = in.exec(cpu, &in);
    ck_assert(RC_FAILED(f) && f.vector == RC_EXC_UD);
    /* CMPXCHG8B with a register operand (0F C7 C8) is #UD. */
    const uint8_t c8b[] = { 0x0f, 0xc7, 0xc8 };
    ck_assert(!RC_FAILED(rc_decode(cpu, c8b, 3, 8, &in)));
    f = in.exec(cpu, &in);
    ck_assert(RC_FAILED(f) && f.vector == RC_EXC_UD);
    free(cpu);
}
END_TEST

/* BCD, SDM Vol. 2A pseudo-code worked by hand (32-bit mode). */
START_TEST(test_sdm_bcd)
{
    struct {
        uint8_t b[3];
        unsigned n;
        uint16_t ax;
        uint32_t fin;
        uint16_t ax_out;
        uint32_t defined, fout;
        const char *why;
    } cases[] = {
        /* 79 + 35 = AE (ADD leaves AF 0, CF 0). DAA: AE low nibble E > 9 ->
         * AL = B4, AF 1; old AL AE > 99 -> AL = 14, CF 1. SF 0, ZF 0, PF(14h
         * = 2 ones) 1. */
        { { 0x27 }, 1, 0x00ae, 0x2, 0x0014, RC_FLAG_CF | RC_FLAG_AF | RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF,
          RC_FLAG_CF | RC_FLAG_AF | RC_FLAG_PF, "DAA after 79h+35h" },
        /* 35 - 47 = EE with CF 1, AF 1. DAS: AF -> AL = E8, AF 1, CF = old CF
         * = 1; old CF -> AL = 88, CF 1. SF 1, PF(88h: 2 ones) 1. */
        { { 0x2f }, 1, 0x00ee, 0x2 | RC_FLAG_CF | RC_FLAG_AF, 0x0088,
          RC_FLAG_CF | RC_FLAG_AF | RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF,
          RC_FLAG_CF | RC_FLAG_AF | RC_FLAG_SF | RC_FLAG_PF, "DAS after 35h-47h" },
        /* AAA with AL = 0C (9 + 3): nibble C > 9 -> AX = 000C + 106 = 0112,
         * AL AND 0F -> AX = 0102, AF = CF = 1. */
        { { 0x37 }, 1, 0x000c, 0x2, 0x0102, RC_FLAG_CF | RC_FLAG_AF, RC_FLAG_CF | RC_FLAG_AF,
          "AAA after 9+3" },
        /* AAS with AX = 01FD, AF 1 (2 - 5): AX - 6 = 01F7, AH - 1 = 00 ->
         * AL AND 0F = 07: AX = 0007, AF = CF = 1. */
        { { 0x3f }, 1, 0x01fd, 0x2 | RC_FLAG_AF, 0x0007, RC_FLAG_CF | RC_FLAG_AF,
          RC_FLAG_CF | RC_FLAG_AF, "AAS after 2-5" },
        /* AAM 10 with AL = 4F (79): AH = 7, AL = 9. SF 0 ZF 0 PF(09: 2 ones) 1. */
        { { 0xd4, 0x0a }, 2, 0x004f, 0x2, 0x0709, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF,
          RC_FLAG_PF, "AAM 10 of 79" },
        /* AAD 10 with AX = 0705: AL = 5 + 7*10 = 75 = 4Bh, AH = 0. PF(4B: 4
         * ones) 1. */
        { { 0xd5, 0x0a }, 2, 0x0705, 0x2, 0x004b, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF,
          RC_FLAG_PF, "AAD 10 of 0705h" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t r[16] = { 0 };
        r[0] = cases[i].ax;
        rc_fault f;
        rc_cpu *cpu = run_bytes(&intel_model, cases[i].b, cases[i].n, 4, r, cases[i].fin, &f);
        ck_assert_msg(!RC_FAILED(f), "%s", cases[i].why);
        ck_assert_msg((cpu->gpr[0] & 0xffff) == cases[i].ax_out, "%s: AX %04llx", cases[i].why,
                      (unsigned long long)cpu->gpr[0]);
        ck_assert_msg((rc_get_rflags(cpu) & cases[i].defined) == cases[i].fout, "%s: flags %03llx",
                      cases[i].why, (unsigned long long)rc_get_rflags(cpu));
        free(cpu);
    }
    /* AAM 0 -> #DE (SDM "AAM"). */
    const uint8_t aam0[] = { 0xd4, 0x00 };
    rc_fault f;
    rc_cpu *cpu = run_bytes(&intel_model, aam0, 2, 4, NULL, 0x2, &f);
    ck_assert(RC_FAILED(f) && f.vector == RC_EXC_DE);
    free(cpu);
}
END_TEST

/* BCD against Unicorn in 32-bit mode, on the flags the SDM defines. */
START_TEST(test_unicorn_bcd)
{
#ifndef RC_HAVE_UNICORN
    printf("test_unicorn_bcd: SKIP (built without Unicorn)\n");
#else
    static const struct {
        uint8_t b[2];
        unsigned n;
        uint32_t defined;
    } ops[] = {
        { { 0x27 }, 1, RC_FLAG_CF | RC_FLAG_AF | RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF },
        { { 0x2f }, 1, RC_FLAG_CF | RC_FLAG_AF | RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF },
        { { 0x37 }, 1, RC_FLAG_CF | RC_FLAG_AF },
        { { 0x3f }, 1, RC_FLAG_CF | RC_FLAG_AF },
        { { 0xd4, 0x0a }, 2, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF },
        { { 0xd5, 0x0a }, 2, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF },
        { { 0xd4, 0x07 }, 2, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF },
        { { 0xd5, 0x13 }, 2, RC_FLAG_SF | RC_FLAG_ZF | RC_FLAG_PF },
    };
    uc_engine *uc;
    ck_assert_int_eq(uc_open(UC_ARCH_X86, UC_MODE_32, &uc), UC_ERR_OK);
    ck_assert_int_eq(uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL), UC_ERR_OK);
    unsigned long n = 0;
    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        for (int i = 0; i < 300; i++) {
            uint32_t eax = (uint32_t)rnd(), efl = (uint32_t)rnd_flags(), eip = 0x1000;
            uc_mem_write(uc, 0x1000, ops[k].b, ops[k].n);
            uc_reg_write(uc, UC_X86_REG_EAX, &eax);
            uc_reg_write(uc, UC_X86_REG_EFLAGS, &efl);
            uc_reg_write(uc, UC_X86_REG_EIP, &eip);
            ck_assert_int_eq(uc_emu_start(uc, 0x1000, 0x1000 + ops[k].n, 0, 1), UC_ERR_OK);
            uint32_t ueax, ufl;
            uc_reg_read(uc, UC_X86_REG_EAX, &ueax);
            uc_reg_read(uc, UC_X86_REG_EFLAGS, &ufl);

            uint64_t r[16] = { 0 };
            r[0] = eax;
            rc_fault f;
            rc_cpu *cpu = run_bytes(&amd_model, ops[k].b, ops[k].n, 4, r, efl, &f);
            ck_assert(!RC_FAILED(f));
            uint32_t ef = (uint32_t)rc_get_rflags(cpu);
            if ((uint32_t)cpu->gpr[0] != ueax || ((ef ^ ufl) & ops[k].defined)) {
                fprintf(stderr, "BCD %02x eax %08x fl %03x: unicorn %08x %03x ringcore %08x %03x\n",
                        ops[k].b[0], eax, efl, ueax, ufl, (uint32_t)cpu->gpr[0], ef);
                ck_abort_msg("BCD differs from Unicorn");
            }
            free(cpu);
            n++;
        }
    }
    uc_close(uc);
    printf("test_unicorn_bcd: %lu comparisons with Unicorn\n", n);
#endif
}
END_TEST

START_TEST(test_report)
{
    printf("test_alu: %lu native comparisons (AMD model, exact), %lu (Intel model, defined "
           "flags), %lu Intel comparisons skipped (vendor-specific undefined results)\n",
           n_native, n_native_intel, n_skipped_intel);
    ck_assert_uint_gt(n_native, 10000);
}
END_TEST

int main(void)
{
    const char *seed = getenv("RC_ALU_SEED");
    if (seed && strtoull(seed, NULL, 0))
        rng_state = strtoull(seed, NULL, 0);
    printf("test_alu: random seed %#llx (set RC_ALU_SEED to change)\n",
           (unsigned long long)rng_state);
    Suite *s = suite_create("alu");
    TCase *tc = tcase_create("alu");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_sdm_flags);
    tcase_add_test(tc, test_sdm_div_faults);
    tcase_add_test(tc, test_sdm_lock);
    tcase_add_test(tc, test_sdm_bcd);
    tcase_add_test(tc, test_unicorn_bcd);
    tcase_add_test(tc, test_intel_shxd16);
    tcase_add_test(tc, test_intel_bsf_zero);
    tcase_add_test(tc, test_native_alu);
    tcase_add_test(tc, test_native_incdec);
    tcase_add_test(tc, test_native_test_not_neg);
    tcase_add_test(tc, test_native_mul);
    tcase_add_test(tc, test_native_div);
    tcase_add_test(tc, test_native_shift);
    tcase_add_test(tc, test_native_shxd);
    tcase_add_test(tc, test_native_bt);
    tcase_add_test(tc, test_native_bsf_bsr);
    tcase_add_test(tc, test_native_xchg_family);
    tcase_add_test(tc, test_native_conditions);
    tcase_add_test(tc, test_native_moves);
    tcase_add_test(tc, test_native_sahf_lahf);
    tcase_add_test(tc, test_report);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* counters are shared across tests */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

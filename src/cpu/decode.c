/*
 * decode.c - the x86 instruction decoder.
 *
 * Every byte sequence ends in exactly one of: a decoded instruction, #UD,
 * #GP(0) (longer than 15 bytes), "need more bytes", or "unsupported" (an
 * encoding ringcore recognizes -- and measures -- but does not execute:
 * x87, SSE, AVX...). References: SDM Vol. 2A chapter 2 "Instruction
 * Format", 2.2.1 (REX), 2.3 (VEX), 2.7 (EVEX); AMD APM Vol. 3 chapter 1.
 */
#include "optable.h"

#define MAX_INSN_LEN 15

typedef enum dstatus { D_OK = 0, D_UD, D_GP15, D_MORE, D_UNSUP } dstatus;

typedef struct dstate {
    const uint8_t *p;
    unsigned avail;
    unsigned pos;
    dstatus st;
} dstate;

/* Take n bytes (little-endian). Past the 15-byte limit: #GP(0); past the
 * available bytes: "need more". SDM Vol. 2A 2.3.11: the length limit
 * applies whatever the bytes are. */
static uint64_t take(dstate *d, unsigned n)
{
    uint64_t v = 0;
    if (d->st != D_OK)
        return 0;
    if (d->pos + n > MAX_INSN_LEN) {
        d->st = D_GP15;
        return 0;
    }
    if (d->pos + n > d->avail) {
        d->st = D_MORE;
        return 0;
    }
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)d->p[d->pos + i] << (8 * i);
    d->pos += n;
    return v;
}

static inline bool peek(const dstate *d, unsigned off, uint8_t *b)
{
    if (d->pos + off >= d->avail)
        return false;
    *b = d->p[d->pos + off];
    return true;
}

/* ModRM, SIB and displacement (SDM Vol. 2A 2.1.5 Tables 2-1..2-3). */
static void decode_modrm(dstate *d, rc_insn *in, bool mode64)
{
    in->has_modrm = 1;
    in->modrm = (uint8_t)take(d, 1);
    if (d->st != D_OK)
        return;
    in->mod = in->modrm >> 6;
    /* MOV to/from CR/DR: "the 2 bits in the mod field are ignored" -- always
     * the register form, no SIB or displacement (SDM Vol. 2B MOV CR/DR). */
    if (in->map == RC_MAP_0F && in->opcode >= 0x20 && in->opcode <= 0x23)
        in->mod = 3;
    in->reg = ((in->modrm >> 3) & 7) | ((in->rex & 4) << 1);
    in->rm = (in->modrm & 7) | ((in->rex & 1) << 3);
    in->base = RC_REG_NONE;
    in->index = RC_REG_NONE;
    in->scale = 0;
    in->disp = 0;
    if (in->mod == 3)
        return;

    bool ss_default = false;
    unsigned rm = in->modrm & 7;
    if (in->addrsize == 2) {
        /* 16-bit forms: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP/disp16, BX */
        static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
        static const uint8_t index16[8] = { 6, 7, 6, 7, RC_REG_NONE, RC_REG_NONE, RC_REG_NONE,
                                            RC_REG_NONE };
        if (in->mod == 0 && rm == 6) {
            in->disp = (int16_t)take(d, 2);
        } else {
            in->base = base16[rm];
            in->index = index16[rm];
            ss_default = (rm == 2 || rm == 3 || rm == 6);
            if (in->mod == 1)
                in->disp = (int8_t)take(d, 1);
            else if (in->mod == 2)
                in->disp = (int16_t)take(d, 2);
        }
    } else {
        if (rm == 4) {
            uint8_t sib = (uint8_t)take(d, 1);
            unsigned sbase = sib & 7;
            unsigned sindex = ((sib >> 3) & 7) | ((in->rex & 2) << 2);
            in->scale = sib >> 6;
            if (sindex != 4)
                in->index = (uint8_t)sindex;
            if (sbase == 5 && in->mod == 0) {
                in->disp = (int32_t)take(d, 4);
            } else {
                in->base = (uint8_t)(sbase | ((in->rex & 1) << 3));
                ss_default = (in->base == 4 || in->base == 5);
            }
        } else if (rm == 5 && in->mod == 0) {
            in->disp = (int32_t)take(d, 4);
            if (mode64)
                in->base = RC_REG_RIPREL; /* SDM 2.2.1.6 RIP-relative addressing */
        } else {
            in->base = (uint8_t)in->rm;
            ss_default = (in->base == 4 || in->base == 5);
        }
        if (in->mod == 1)
            in->disp = (int8_t)take(d, 1);
        else if (in->mod == 2)
            in->disp = (int32_t)take(d, 4);
    }
    if (!in->seg_override)
        in->seg = ss_default ? RC_SEG_SS : RC_SEG_DS;
}

static void decode_imm(dstate *d, rc_insn *in, unsigned kind, unsigned code_size)
{
    unsigned z = in->opsize == 2 ? 2 : 4;
    switch (kind) {
    case IMM_NONE: break;
    case IMM_B: case IMM_REL8: in->imm = (uint64_t)(int8_t)take(d, 1); in->imm_size = 1; break;
    case IMM_BU: in->imm = take(d, 1); in->imm_size = 1; break;
    case IMM_WU: in->imm = take(d, 2); in->imm_size = 2; break;
    case IMM_Z:
    case IMM_RELZ:
        in->imm = (uint64_t)rc_sext(take(d, z), z);
        in->imm_size = (uint8_t)z;
        break;
    case IMM_V:
        in->imm = take(d, in->opsize);
        in->imm_size = in->opsize;
        break;
    case IMM_ENTER:
        in->imm = take(d, 2);
        in->imm2 = take(d, 1);
        in->imm_size = 3;
        break;
    case IMM_FAR:
        in->imm = take(d, z);
        in->imm2 = take(d, 2);
        in->imm_size = (uint8_t)(z + 2);
        break;
    case IMM_MOFFS:
        in->imm = take(d, in->addrsize);
        in->imm_size = in->addrsize;
        break;
    case IMM_GRP3:
        if (((in->modrm >> 3) & 7) < 2)
            decode_imm(d, in, (in->flags & RC_OPF_BYTE) ? IMM_B : IMM_Z, code_size);
        break;
    }
}

/* VEX (C4/C5), EVEX (62) and XOP (8F): recognized and measured so that the
 * length is right, then reported as unsupported. SDM Vol. 2A 2.3, 2.7. */
static void decode_vex_like(dstate *d, rc_insn *in, unsigned prefix_byte, bool mode64)
{
    unsigned map, vexlen;
    const char *what;
    if (prefix_byte == 0xC5) {
        vexlen = 2, map = 1, what = "AVX instruction (VEX)";
    } else if (prefix_byte == 0xC4) {
        uint8_t b1 = 0;
        peek(d, 1, &b1);
        vexlen = 3, map = b1 & 0x1f, what = "AVX instruction (VEX)";
    } else if (prefix_byte == 0x62) {
        uint8_t b1 = 0;
        peek(d, 1, &b1);
        vexlen = 4, map = b1 & 0x07, what = "AVX-512 instruction (EVEX)";
    } else {
        uint8_t b1 = 0;
        peek(d, 1, &b1);
        vexlen = 3, map = b1 & 0x1f, what = "XOP instruction (AMD)";
    }
    /* Legacy 66/F2/F3/REX/LOCK before a VEX prefix: #UD (SDM 2.3.2). */
    if (in->opsize_prefix || in->rep || in->lock || in->rex) {
        take(d, vexlen);
        if (d->st == D_OK)
            d->st = D_UD;
        return;
    }
    take(d, vexlen);
    in->opcode = (uint8_t)take(d, 1);
    if (d->st != D_OK)
        return;
    /* Unknown maps are #UD (VEX m-mmmm 0 and > 3; EVEX mm 0, 4, 7). */
    bool map_ok = (prefix_byte == 0x8F) ? (map >= 8 && map <= 10)
                  : (prefix_byte == 0x62) ? (map == 1 || map == 2 || map == 3 || map == 5 || map == 6)
                                          : (map >= 1 && map <= 3);
    if (!map_ok) {
        d->st = D_UD;
        return;
    }
    /* The VEX forms have no REX; extension bits are in the prefix. Address
     * size and ModRM decode as usual (REX-free view is enough for length). */
    uint8_t saved_rex = in->rex;
    in->rex = 0;
    bool has_modrm = !(prefix_byte != 0x62 && map == 1 && in->opcode == 0x77); /* VZEROUPPER/ALL */
    if (has_modrm)
        decode_modrm(d, in, mode64);
    in->rex = saved_rex;
    unsigned imm = 0;
    if (prefix_byte == 0x8F)
        imm = (map == 8) ? 1 : (map == 10) ? 4 : 0;
    else if (map == 3)
        imm = 1;
    else if (map == 1)
        imm = rc_optable_0f[in->opcode].imm == IMM_BU ? 1 : 0;
    if (imm)
        take(d, imm);
    in->name = what;
    if (d->st == D_OK)
        d->st = D_UNSUP;
}

/* Opcodes of the 0F 38 and 0F 3A maps (legacy encodings) that some x86
 * processor defines (SDM Vol. 2D Tables ):
 * SSSE3/SSE4.1/4.2, AES, SHA, GFNI, PCLMULQDQ, INVEPT/INVVPID/INVPCID,
 * MOVBE/CRC32, ADCX/ADOX, WRSS/WRUSS, MOVDIRI/MOVDIR64B/ENQCMD,
 * ENCODEKEY, AADD... Generous on purpose: these end the run as
 * "unsupported"; every other opcode of the two maps is #UD on every CPU. */
static bool map0f38_defined(uint8_t op)
{
    return op <= 0x0b || op == 0x10 || op == 0x14 || op == 0x15 || op == 0x17 ||
           (op >= 0x1c && op <= 0x1e) || (op >= 0x20 && op <= 0x25) ||
           (op >= 0x28 && op <= 0x2b) || (op >= 0x30 && op <= 0x35) ||
           (op >= 0x37 && op <= 0x41) || (op >= 0x80 && op <= 0x82) ||
           (op >= 0xc8 && op <= 0xcf) || (op >= 0xdb && op <= 0xdf) ||
           (op >= 0xf0 && op <= 0xf6) || (op >= 0xf8 && op <= 0xfc);
}
static bool map0f3a_defined(uint8_t op)
{
    return (op >= 0x08 && op <= 0x0f) || (op >= 0x14 && op <= 0x17) ||
           (op >= 0x20 && op <= 0x22) || (op >= 0x40 && op <= 0x42) || op == 0x44 ||
           (op >= 0x60 && op <= 0x63) || op == 0xcc || op == 0xce || op == 0xcf || op == 0xdf;
}

static dstatus decode(const rc_model *model, const uint8_t *bytes, unsigned avail,
                      unsigned code_size, rc_insn *in)
{
    dstate d = { bytes, avail, 0, D_OK };
    bool mode64 = code_size == 8;
    bool amd = model && model->vendor == RC_VENDOR_AMD;
    bool addr_prefix = false;
    memset(in, 0, sizeof(*in));
    in->seg = RC_SEG_DS;
    in->base = RC_REG_NONE;
    in->index = RC_REG_NONE;

    /* Legacy prefixes in any order and number, then an optional REX that
     * counts only if it is the last byte before the opcode (SDM 2.2.1). */
    uint8_t b;
    for (;;) {
        b = (uint8_t)take(&d, 1);
        if (d.st != D_OK)
            return d.st;
        switch (b) {
        case 0x26: in->seg = RC_SEG_ES; in->seg_override = 1; in->rex = 0; continue;
        case 0x2E: in->seg = RC_SEG_CS; in->seg_override = 1; in->rex = 0; continue;
        case 0x36: in->seg = RC_SEG_SS; in->seg_override = 1; in->rex = 0; continue;
        case 0x3E: in->seg = RC_SEG_DS; in->seg_override = 1; in->rex = 0; continue;
        case 0x64: in->seg = RC_SEG_FS; in->seg_override = 1; in->rex = 0; continue;
        case 0x65: in->seg = RC_SEG_GS; in->seg_override = 1; in->rex = 0; continue;
        case 0x66: in->opsize_prefix = 1; in->rex = 0; continue;
        case 0x67: addr_prefix = true; in->rex = 0; continue;
        case 0xF0: in->lock = 1; in->rex = 0; continue;
        case 0xF2: in->rep = RC_REP_F2; in->rex = 0; continue;
        case 0xF3: in->rep = RC_REP_F3; in->rex = 0; continue;
        default: break;
        }
        if (mode64 && (b & 0xF0) == 0x40) {
            in->rex = b; /* a later legacy prefix cancels it (reset above) */
            continue;
        }
        break;
    }

    /* Address size (SDM Vol. 1 3.6, Table 3-4). */
    if (code_size == 8)
        in->addrsize = addr_prefix ? 4 : 8;
    else if (code_size == 4)
        in->addrsize = addr_prefix ? 2 : 4;
    else
        in->addrsize = addr_prefix ? 4 : 2;

    const rc_opdef *op;
    in->map = RC_MAP_1BYTE;
    in->opcode = b;
    if (b == 0x0F) {
        uint8_t b2 = (uint8_t)take(&d, 1);
        if (d.st != D_OK)
            return d.st;
        if (b2 == 0x38 || b2 == 0x3A) {
            /* 0F 38 / 0F 3A: SSSE3/SSE4 and friends; ModRM always, imm8 in 0F 3A. */
            in->map = b2 == 0x38 ? RC_MAP_0F38 : RC_MAP_0F3A;
            in->opcode = (uint8_t)take(&d, 1);
            in->opsize = 4;
            decode_modrm(&d, in, mode64);
            if (in->map == RC_MAP_0F3A)
                take(&d, 1);
            in->name = "SSE4/SSSE3 instruction (0F 38/0F 3A map)";
            in->len = (uint8_t)d.pos;
            if (d.st != D_OK)
                return d.st;
            bool defined = in->map == RC_MAP_0F38 ? map0f38_defined(in->opcode)
                                                  : map0f3a_defined(in->opcode);
            return defined ? D_UNSUP : D_UD;
        }
        in->map = RC_MAP_0F;
        in->opcode = b2;
        op = &rc_optable_0f[b2];
    } else {
        op = &rc_optable_1byte[b];
        /* Opcodes that are prefixes of other encodings in some modes. */
        if (b == 0xC4 || b == 0xC5 || b == 0x62) {
            uint8_t nb = 0;
            bool have = peek(&d, 0, &nb);
            if (mode64 || (have && (nb & 0xC0) == 0xC0)) {
                d.pos--;
                decode_vex_like(&d, in, b, mode64);
                in->len = (uint8_t)d.pos;
                return d.st;
            }
            if (!have)
                return D_MORE;
        } else if (b == 0x8F) {
            uint8_t nb = 0;
            if (!peek(&d, 0, &nb))
                return D_MORE;
            if (((nb >> 3) & 7) != 0) {
                if (amd && (nb & 0x1f) >= 8) {
                    d.pos--;
                    decode_vex_like(&d, in, b, mode64);
                    in->len = (uint8_t)d.pos;
                    return d.st;
                }
                /* 8F /1../7 without XOP: #UD (length: ModRM form). */
            }
        }
    }
    in->flags = op->flags;
    in->exec = op->exec;
    in->name = op->name;

    /* 63 is MOVSXD in 64-bit mode (SDM Vol. 2B MOVSX/MOVSXD), ARPL elsewhere. */
    if (in->map == RC_MAP_1BYTE && b == 0x63 && mode64) {
        in->exec = ex_movsxd;
        in->name = "movsxd";
    }

    /* Operand size (SDM Vol. 1 3.6.1, Table 3-4; 64-bit: Vol. 2A 2.2.1.2).
     * FF /2 and /4 (near indirect CALL/JMP) behave like near branches and
     * FF /6 (PUSH) like a default-64 stack operation: decided after ModRM. */
    uint32_t fl = in->flags;
    if (op->modrm) {
        decode_modrm(&d, in, mode64); /* modrm needs addrsize only */
        if (d.st != D_OK)
            return d.st;
        if (in->map == RC_MAP_1BYTE && b == 0xFF) {
            unsigned r = (in->modrm >> 3) & 7;
            if (r == 2 || r == 4)
                fl |= RC_OPF_FORCE64;
            else if (r == 6)
                fl |= RC_OPF_DEF64;
        }
    }
    if (code_size == 8) {
        if (in->rex & 8)
            in->opsize = 8;
        else if (fl & RC_OPF_FORCE64)
            /* Intel ignores 66 on near branches in 64-bit mode; AMD honours
             * it (16-bit target). SDM Vol. 2A 2.2.1.3 vs APM Vol. 3 1.2.2. */
            in->opsize = (amd && in->opsize_prefix) ? 2 : 8;
        else if (fl & RC_OPF_DEF64)
            in->opsize = in->opsize_prefix ? 2 : 8;
        else
            in->opsize = in->opsize_prefix ? 2 : 4;
    } else if (code_size == 4) {
        in->opsize = in->opsize_prefix ? 2 : 4;
    } else {
        in->opsize = in->opsize_prefix ? 4 : 2;
    }
    in->flags = fl;

    /* Immediates. FF/F6/F7/C6/C7 need the ModRM first (already done). */
    if (in->map == RC_MAP_1BYTE && (b == 0xC6 || b == 0xC7)) {
        unsigned r = (in->modrm >> 3) & 7;
        if (r == 7 && in->modrm == 0xF8) {
            /* XABORT ib / XBEGIN relz: RTM, which neither model reports in
             * CPUID (leaf 7 EBX[11]), so #UD as on a CPU without it (SDM
             * Vol. 2D XBEGIN: #UD if CPUID.(EAX=7,ECX=0):EBX.RTM[bit 11] = 0). */
            decode_imm(&d, in, b == 0xC6 ? IMM_BU : IMM_RELZ, code_size);
            in->name = b == 0xC6 ? "xabort (RTM)" : "xbegin (RTM)";
            in->len = (uint8_t)d.pos;
            return d.st == D_OK ? D_UD : d.st;
        }
        decode_imm(&d, in, op->imm, code_size);
        if (d.st == D_OK && r != 0)
            d.st = D_UD;
    } else if (in->map == RC_MAP_0F && in->opcode == 0x78 && in->mod == 3 &&
               (in->opsize_prefix || in->rep == RC_REP_F2)) {
        /* 66/F2 0F 78 /r ib ib, register form: SSE4a EXTRQ/INSERTQ (AMD APM Vol. 4). */
        take(&d, 2);
        in->name = "SSE4a extrq/insertq";
        in->len = (uint8_t)d.pos;
        return d.st == D_OK ? D_UNSUP : d.st;
    } else {
        decode_imm(&d, in, op->imm, code_size);
    }
    in->len = (uint8_t)d.pos;
    if (d.st != D_OK)
        return d.st;

    /* Existence checks (decode-table facts, SDM Vol. 2 "64-Bit Mode" columns). */
    if (op->ud)
        return D_UD;
    if ((in->flags & RC_OPF_INVALID64) && mode64)
        return D_UD;
    if ((in->flags & RC_OPF_ONLY64) && !mode64)
        return D_UD;
    if (in->map == RC_MAP_1BYTE && b == 0x8F && ((in->modrm >> 3) & 7) != 0)
        return D_UD;
    if (in->map == RC_MAP_0F && in->opcode == 0x0F && !amd)
        return D_UD; /* 3DNow! exists only on (old) AMD CPUs */

    /* LOCK: #UD unless the instruction is lockable and its destination is
     * memory (SDM Vol. 2A "LOCK"). */
    if (in->lock) {
        unsigned r = in->has_modrm ? ((in->modrm >> 3) & 7) : 0;
        if (!in->has_modrm || in->mod == 3 || !((op->lock_regs >> r) & 1))
            return D_UD;
    }
    if (!in->exec)
        return D_UNSUP;
    return D_OK;
}

rc_fault rc_decode(rc_cpu *cpu, const uint8_t *bytes, unsigned avail, unsigned code_size,
                   rc_insn *out)
{
    switch (decode(cpu->model, bytes, avail, code_size, out)) {
    case D_OK: return RC_NOFAULT;
    case D_MORE: return (rc_fault){ RCF_EXCEPTION, RC_DECODE_NEED_MORE, 0, 0, 0 };
    case D_GP15:
        cpu->fault_reason = "instruction longer than 15 bytes (SDM Vol. 2A 2.3.11)";
        return rc_exc_err(RC_EXC_GP, 0);
    case D_UNSUP: return rc_unsupported(cpu, out->name ? out->name : "instruction");
    case D_UD:
    default:
        cpu->fault_reason = "invalid opcode (#UD) for this mode or prefix combination";
        return rc_exc(RC_EXC_UD);
    }
}

unsigned rc_decode_length(const uint8_t *bytes, unsigned avail, unsigned code_size)
{
    rc_insn in;
    dstatus st = decode(rc_model_get(RC_VENDOR_INTEL), bytes, avail, code_size, &in);
    return (st == D_OK || st == D_UNSUP) ? in.len : 0;
}

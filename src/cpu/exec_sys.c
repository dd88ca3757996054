/*
 * exec_sys.c - system instructions: HLT, CLI/STI, CPUID, RDTSC, RDMSR/WRMSR,
 * RDPMC, segment-register moves and far-pointer loads, MOV CR/DR, the 0F 00
 * (SLDT STR LLDT LTR VERR VERW) and 0F 01 (SGDT SIDT LGDT LIDT SMSW LMSW
 * INVLPG ...) groups, LAR/LSL, CLTS, INVD/WBINVD, ARPL.
 *
 * Every rule names its manual section. Handlers check everything first and
 * commit last, so a fault leaves the architectural state as it was.
 */
#include "exec.h"

/* ------------------------------------------------------------------ constants */

#define SEL_RPL 3u
#define SEL_TI 4u           /* table indicator: 1 = LDT */
#define SEL_INDEX 0xFFF8u
#define SEL_ERR(sel) ((uint32_t)((sel) & 0xFFFCu)) /* error code of a selector fault */

/* Code/data descriptor type bits (SDM Vol. 3A 3.4.5.1, Table 3-1). */
#define TYPE_ACCESSED 1u
#define TYPE_WRITABLE 2u    /* data */
#define TYPE_READABLE 2u    /* code */
#define TYPE_CONFORMING 4u  /* code */
#define TYPE_CODE 8u
#define TYPE_TSS_BUSY 2u    /* TSS descriptors: available 9 / busy 11 (1 / 3) */

/* 16-byte system descriptors: the upper 8 bytes hold a type field in bits
 * 12:8 of their second dword that must be 0 (SDM Vol. 3A 8.2.3 Figure 8-4). */
#define DESC_HI_TYPE_SHIFT 40
#define DESC_HI_TYPE_MASK 0x1Fu
#define DESC_ACCESS_SHIFT 40 /* access byte (P DPL S type) in the low 8 bytes */
#define DESC_ACCESS_OFFSET 5 /* its byte offset in the descriptor */

/* LAR result masks (SDM Vol. 2A "LAR"): the second descriptor dword masked
 * by 00FxFF00H; bits 19:16 are the limit's high nibble on both vendors
 * (measured on AMD EPYC ring 3: LAR 0x2B = 00CFF300H). */
#define LAR_MASK16 0x0000FF00u
#define LAR_MASK32 0x00FFFF00u

#define RC_CR4_PCE (1ull << 8)         /* SDM Vol. 3A 2.5: RDPMC at any CPL */
#define RC_CR4_MCE (1ull << 6)
#define RC_CR4_OSFXSR (1ull << 9)
#define RC_CR4_OSXMMEXCPT (1ull << 10)
#define RC_CR4_VMXE (1ull << 13)
#define RC_CR4_SMXE (1ull << 14)
#define RC_CR4_OSXSAVE (1ull << 18)
#define RC_EFER_SVME (1ull << 12)

/* CR0 bits software can set (SDM Vol. 3A 2.5; the others in 31:0 are
 * reserved and writes to them are ignored, ET is hard-wired to 1). */
#define CR0_WRITABLE                                                                               \
    (RC_CR0_PE | RC_CR0_MP | RC_CR0_EM | RC_CR0_TS | RC_CR0_NE | RC_CR0_WP | RC_CR0_AM |          \
     RC_CR0_NW | RC_CR0_CD | RC_CR0_PG)
#define CR0_LMSW_BITS (RC_CR0_PE | RC_CR0_MP | RC_CR0_EM | RC_CR0_TS)
#define CR8_TPR_MASK 0xFull

/* Debug registers (SDM Vol. 3B 17.2.3, 17.2.4; APM Vol. 2 13.1.1). */
#define DR6_WRITABLE 0x0000E00Full /* B0-B3, BD, BS, BT */
#define DR6_FIXED1 0xFFFF0FF0ull   /* bits 4-11 and 16-31 read as 1, bit 12 as 0 */
#define DR7_WRITABLE 0xFFFF23FFull /* L0-G3, LE, GE, GD, R/W0-LEN3 */
#define DR7_FIXED1 0x00000400ull   /* bit 10 reads as 1 */
#define DR7_GD (1ull << 13)

/* CPUID bits consulted here (SDM Vol. 2A Tables 3-8, 3-10, 3-11). */
#define CPUID_EDX_VME (1u << 1)
#define CPUID_EDX_DE (1u << 2)
#define CPUID_EDX_PSE (1u << 3)
#define CPUID_EDX_TSC (1u << 4)
#define CPUID_EDX_PAE (1u << 6)
#define CPUID_EDX_MCE (1u << 7)
#define CPUID_EDX_PGE (1u << 13)
#define CPUID_EDX_FXSR (1u << 24)
#define CPUID_EDX_SSE (1u << 25)
#define CPUID_ECX_VMX (1u << 5)
#define CPUID_ECX_SMX (1u << 6)
#define CPUID_ECX_PCID (1u << 17)
#define CPUID_ECX_XSAVE (1u << 26)
#define CPUID7_EBX_FSGSBASE (1u << 0)
#define CPUID7_EBX_SMEP (1u << 7)
#define CPUID7_EBX_SMAP (1u << 20)
#define CPUID7_ECX_UMIP (1u << 2)
#define CPUID7_ECX_PKU (1u << 3)
#define CPUID7_ECX_LA57 (1u << 16)
#define CPUID_LEAF_ADDR_SIZES 0x80000008u

enum { R_EAX = 0, R_EBX = 1, R_ECX = 2, R_EDX = 3 };

/* ------------------------------------------------------------------ small predicates */

static inline bool real_or_vm86(const rc_cpu *cpu)
{
    return cpu->mode == RC_MODE_REAL || cpu->mode == RC_MODE_VM86;
}
static inline bool long64(const rc_cpu *cpu) { return cpu->mode == RC_MODE_LONG64; }
static inline bool ia32e(const rc_cpu *cpu) { return (cpu->efer & RC_EFER_LMA) != 0; }
static inline unsigned iopl(const rc_cpu *cpu) { return (unsigned)(cpu->rflags >> 12) & 3; }
static inline bool rex(const rc_insn *in) { return in->rex != 0; }

static inline void set_zf(rc_cpu *cpu, bool zf)
{
    rc_set_status_flags(cpu, RC_FLAG_ZF, zf ? RC_FLAG_ZF : 0);
}

static rc_fault exit_now(void) { return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 }; }

/* The TSC: retired instructions plus the offset IA32_TSC writes set. It is
 * deterministic (no host time) and monotonic between TSC writes. */
static inline uint64_t tsc_now(const rc_cpu *cpu)
{
    return cpu->icount_total + cpu->msr.tsc_offset;
}

static uint32_t cpuid_reg(const rc_cpu *cpu, uint32_t leaf, unsigned reg)
{
    uint32_t r[4];
    rc_model_cpuid(cpu, leaf, 0, r);
    return r[reg];
}

/* ------------------------------------------------------------------ HLT, CLI/STI */

static const char *const hlt_reason[4] = {
    "HLT",
    "HLT at CPL 1: privileged instruction (SDM Vol. 2A HLT)",
    "HLT at CPL 2: privileged instruction (SDM Vol. 2A HLT)",
    "HLT at CPL 3: privileged instruction (SDM Vol. 2A HLT)",
};

RC_HANDLER(ex_hlt)
{
    (void)in;
    /* SDM Vol. 2A "HLT": #GP(0) if CPL != 0 (virtual-8086 mode runs at 3). */
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, hlt_reason[cpu->cpl & 3]);
    cpu->exit_pending.reason = RC_EXIT_HLT;
    cpu->exit_restart = false; /* RIP stays after the HLT */
    return exit_now();
}

/*
 * SDM Vol. 2A "CLI" / "STI" pseudo-code:
 *   real mode: IF <- 0/1.
 *   protected mode: IOPL >= CPL -> IF; else CPL = 3 and CR4.PVI -> VIF; else #GP(0).
 *   virtual-8086: IOPL = 3 -> IF; else CR4.VME -> VIF; else #GP(0).
 * VIF (PVI/VME) is not modeled: CPUID reports VME = 0 so CR4.VME/PVI cannot
 * be set by the guest; set through the API they end the run as unsupported.
 * STI: "If IF = 0, maskable hardware interrupts remain inhibited on the
 * instruction boundary following an execution of STI."
 */
RC_HANDLER(ex_cli_sti)
{
    bool sti = in->opcode == 0xFB;
    if (cpu->mode == RC_MODE_VM86) {
        if (iopl(cpu) < 3) {
            if (cpu->cr4 & RC_CR4_VME)
                return rc_unsupported(cpu, sti ? "STI in virtual-8086 mode with CR4.VME (VIF)"
                                               : "CLI in virtual-8086 mode with CR4.VME (VIF)");
            FAULT_IF(cpu, true, RC_EXC_GP, 0,
                     sti ? "STI in virtual-8086 mode with IOPL < 3 (SDM Vol. 2B STI)"
                         : "CLI in virtual-8086 mode with IOPL < 3 (SDM Vol. 2A CLI)");
        }
    } else if (cpu->mode != RC_MODE_REAL && cpu->cpl > iopl(cpu)) {
        if (cpu->cpl == 3 && (cpu->cr4 & RC_CR4_PVI))
            return rc_unsupported(cpu, sti ? "STI at CPL 3 with CR4.PVI (VIF)"
                                           : "CLI at CPL 3 with CR4.PVI (VIF)");
        FAULT_IF(cpu, true, RC_EXC_GP, 0,
                 sti ? "STI with CPL > IOPL (SDM Vol. 2B STI)"
                     : "CLI with CPL > IOPL (SDM Vol. 2A CLI)");
    }
    if (sti) {
        if (!(cpu->rflags & RC_FLAG_IF))
            cpu->inhibit_irq = 1;
        cpu->rflags |= RC_FLAG_IF;
    } else {
        cpu->rflags &= ~(uint64_t)RC_FLAG_IF;
    }
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ CPUID, RDTSC, MSRs, RDPMC */

/* SDM Vol. 2A "CPUID": EAX = leaf, ECX = sub-leaf; the results are written
 * to EAX, EBX, ECX, EDX and the upper 32 bits of RAX..RDX are cleared. */
RC_HANDLER(ex_cpuid)
{
    (void)in;
    uint32_t r[4];
    rc_model_cpuid(cpu, (uint32_t)cpu->gpr[RC_REG_RAX], (uint32_t)cpu->gpr[RC_REG_RCX], r);
    cpu->gpr[RC_REG_RAX] = r[R_EAX];
    cpu->gpr[RC_REG_RBX] = r[R_EBX];
    cpu->gpr[RC_REG_RCX] = r[R_ECX];
    cpu->gpr[RC_REG_RDX] = r[R_EDX];
    return RC_NOFAULT;
}

/* SDM Vol. 2B "RDTSC": #GP(0) if CR4.TSD = 1 and CPL > 0; EDX:EAX <- TSC. */
RC_HANDLER(ex_rdtsc)
{
    (void)in;
    FAULT_IF(cpu, (cpu->cr4 & RC_CR4_TSD) && cpu->cpl != 0, RC_EXC_GP, 0,
             "RDTSC at CPL > 0 with CR4.TSD = 1 (SDM Vol. 2B RDTSC)");
    uint64_t tsc = tsc_now(cpu);
    cpu->gpr[RC_REG_RAX] = (uint32_t)tsc;
    cpu->gpr[RC_REG_RDX] = tsc >> 32;
    return RC_NOFAULT;
}

/* SDM Vol. 2B "RDMSR": #GP(0) if CPL != 0; EDX:EAX <- MSR[ECX]. The MSR
 * file (src/msr/msr.c) raises #GP(0) for MSRs the model does not have. */
RC_HANDLER(ex_rdmsr)
{
    (void)in;
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "RDMSR at CPL > 0 (SDM Vol. 2B RDMSR)");
    uint64_t v;
    TRY(rc_msr_read(cpu, (uint32_t)cpu->gpr[RC_REG_RCX], &v));
    cpu->gpr[RC_REG_RAX] = (uint32_t)v;
    cpu->gpr[RC_REG_RDX] = v >> 32;
    return RC_NOFAULT;
}

/* SDM Vol. 2B "WRMSR": #GP(0) if CPL != 0; MSR[ECX] <- EDX:EAX. */
RC_HANDLER(ex_wrmsr)
{
    (void)in;
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "WRMSR at CPL > 0 (SDM Vol. 2B WRMSR)");
    uint64_t v = (cpu->gpr[RC_REG_RDX] << 32) | (uint32_t)cpu->gpr[RC_REG_RAX];
    return rc_msr_write(cpu, (uint32_t)cpu->gpr[RC_REG_RCX], v);
}

/*
 * SDM Vol. 2B "RDPMC": #GP(0) if CPL != 0 and CR4.PCE = 0. The counters
 * themselves are not modeled, so a permitted RDPMC ends the run as
 * unsupported: #GP for every index would be wrong on AMD, whose four
 * legacy counters always exist (APM Vol. 2 13.2.1).
 */
RC_HANDLER(ex_rdpmc)
{
    (void)in;
    FAULT_IF(cpu, cpu->cpl != 0 && !(cpu->cr4 & RC_CR4_PCE), RC_EXC_GP, 0,
             "RDPMC at CPL > 0 with CR4.PCE = 0 (SDM Vol. 2B RDPMC)");
    return rc_unsupported(cpu, "RDPMC: performance-monitoring counters are not modeled");
}

/* ------------------------------------------------------------------ segment registers */

/* The Sreg field of 8C/8E is ModRM.reg without REX.R (SDM Vol. 2A 3.1.1.3:
 * "Sreg" operand; ES=0 CS=1 SS=2 DS=3 FS=4 GS=5, 6 and 7 reserved). */
static inline unsigned sreg_of(const rc_insn *in) { return (in->modrm >> 3) & 7; }

/* SDM Vol. 2B "MOV": MOV r/m16, Sreg. A register destination of 32/64 bits
 * receives the selector zero-extended; a memory destination is always 16
 * bits whatever the operand size. */
RC_HANDLER(ex_mov_from_sreg)
{
    unsigned s = sreg_of(in);
    FAULT_NOERR_IF(cpu, s > RC_SEG_GS, RC_EXC_UD,
                   "MOV from Sreg 6 or 7: no such segment register (SDM Vol. 2B MOV)");
    uint16_t sel = cpu->seg[s].selector;
    if (in->mod == 3) {
        rc_set_gpr(cpu, in->rm, in->opsize, rex(in), sel);
        return RC_NOFAULT;
    }
    return rc_write(cpu, in->seg, rc_effective_addr(cpu, in), 2, sel);
}

/* SDM Vol. 2B "MOV": MOV Sreg, r/m16. CS cannot be loaded (#UD); loading SS
 * inhibits interrupts (and debug traps) until after the next instruction. */
RC_HANDLER(ex_mov_to_sreg)
{
    unsigned s = sreg_of(in);
    FAULT_NOERR_IF(cpu, s == RC_SEG_CS, RC_EXC_UD, "MOV to CS is invalid (SDM Vol. 2B MOV: #UD)");
    FAULT_NOERR_IF(cpu, s > RC_SEG_GS, RC_EXC_UD,
                   "MOV to Sreg 6 or 7: no such segment register (SDM Vol. 2B MOV)");
    uint64_t sel;
    TRY(rc_rm_read(cpu, in, 2, RC_ACC_READ, &sel));
    TRY(rc_load_seg(cpu, s, (uint16_t)sel));
    if (s == RC_SEG_SS) {
        cpu->inhibit_irq = 1;
        rc_update_mode(cpu); /* SS.B decides the stack size */
    }
    return RC_NOFAULT;
}

static unsigned lxs_segment(const rc_insn *in)
{
    if (in->map == RC_MAP_1BYTE)
        return in->opcode == 0xC4 ? RC_SEG_ES : RC_SEG_DS;
    switch (in->opcode) {
    case 0xB2: return RC_SEG_SS;
    case 0xB4: return RC_SEG_FS;
    default: return RC_SEG_GS;
    }
}

/* AMD reads m16:32 for LFS/LGS/LSS with REX.W (the offset is zero-extended);
 * Intel reads m16:64 (SDM Vol. 2A "LDS/LES/LFS/LGS/LSS": REX.W + 0F B5 is
 * "LGS r64, m16:64"). Measured on AMD EPYC at ring 3: REX.W LGS over
 * 88 77 66 55 00 00 AA AA 00 00 loads RAX = 0000000055667788H. */
static inline bool far_ptr_has_64bit_offset(const rc_cpu *cpu)
{
    return !cpu->model || cpu->model->vendor != RC_VENDOR_AMD;
}

/* SDM Vol. 2A "LDS/LES/LFS/LGS/LSS": #UD with a register operand; the
 * offset comes first in memory, the selector after it. The segment load
 * (with all its checks) happens before the register is written. */
RC_HANDLER(ex_lxs)
{
    FAULT_NOERR_IF(cpu, in->mod == 3, RC_EXC_UD,
                   "LDS/LES/LFS/LGS/LSS with a register operand (SDM Vol. 2A: #UD)");
    unsigned osz = in->opsize;
    if (osz == 8 && !far_ptr_has_64bit_offset(cpu))
        osz = 4;
    uint64_t ea = rc_effective_addr(cpu, in);
    uint64_t off, sel;
    TRY(rc_read(cpu, in->seg, ea, osz, RC_ACC_READ, &off));
    TRY(rc_read(cpu, in->seg, (ea + osz) & rc_size_mask(in->addrsize), 2, RC_ACC_READ, &sel));
    TRY(rc_load_seg(cpu, lxs_segment(in), (uint16_t)sel));
    if (lxs_segment(in) == RC_SEG_SS)
        rc_update_mode(cpu);
    rc_set_gpr(cpu, in->reg, in->opsize, rex(in), off);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ control registers */

static bool cr_exists(unsigned cr)
{
    return cr == 0 || cr == 2 || cr == 3 || cr == 4 || cr == 8;
}

/* CR4 bits this CPU model lets software set: the architectural ones with
 * no CPUID bit (TSD needs TSC, PCE) and the ones whose feature CPUID
 * reports. Every other bit is reserved: #GP(0) (SDM Vol. 3A 2.5, 2.6). */
static uint64_t cr4_allowed(const rc_cpu *cpu)
{
    uint32_t edx1 = cpuid_reg(cpu, 1, R_EDX), ecx1 = cpuid_reg(cpu, 1, R_ECX);
    uint32_t ebx7 = cpuid_reg(cpu, 7, R_EBX), ecx7 = cpuid_reg(cpu, 7, R_ECX);
    uint64_t m = RC_CR4_PCE;
    if (edx1 & CPUID_EDX_VME) m |= RC_CR4_VME | RC_CR4_PVI;
    if (edx1 & CPUID_EDX_TSC) m |= RC_CR4_TSD;
    if (edx1 & CPUID_EDX_DE) m |= RC_CR4_DE;
    if (edx1 & CPUID_EDX_PSE) m |= RC_CR4_PSE;
    if (edx1 & CPUID_EDX_PAE) m |= RC_CR4_PAE;
    if (edx1 & CPUID_EDX_MCE) m |= RC_CR4_MCE;
    if (edx1 & CPUID_EDX_PGE) m |= RC_CR4_PGE;
    if (edx1 & CPUID_EDX_FXSR) m |= RC_CR4_OSFXSR;
    if (edx1 & CPUID_EDX_SSE) m |= RC_CR4_OSXMMEXCPT;
    if (ecx1 & CPUID_ECX_VMX) m |= RC_CR4_VMXE;
    if (ecx1 & CPUID_ECX_SMX) m |= RC_CR4_SMXE;
    if (ecx1 & CPUID_ECX_PCID) m |= RC_CR4_PCIDE;
    if (ecx1 & CPUID_ECX_XSAVE) m |= RC_CR4_OSXSAVE;
    if (ebx7 & CPUID7_EBX_FSGSBASE) m |= RC_CR4_FSGSBASE;
    if (ebx7 & CPUID7_EBX_SMEP) m |= RC_CR4_SMEP;
    if (ebx7 & CPUID7_EBX_SMAP) m |= RC_CR4_SMAP;
    if (ecx7 & CPUID7_ECX_UMIP) m |= RC_CR4_UMIP;
    if (ecx7 & CPUID7_ECX_PKU) m |= RC_CR4_PKE;
    if (ecx7 & CPUID7_ECX_LA57) m |= RC_CR4_LA57;
    return m;
}

/* MAXPHYADDR as CPUID 8000_0008h reports it (SDM Vol. 3A 4.1.4). */
static unsigned maxphyaddr(const rc_cpu *cpu)
{
    return cpuid_reg(cpu, CPUID_LEAF_ADDR_SIZES, R_EAX) & 0xFF;
}

static bool tr_is_16bit_tss(const rc_cpu *cpu)
{
    const rc_segment *tr = &cpu->seg[RC_SEG_TR];
    return !tr->unusable && !tr->s &&
           (tr->type == RC_DT_TSS16_AVAIL || tr->type == RC_DT_TSS16_BUSY);
}

/*
 * MOV to CR0. SDM Vol. 3A 2.5 and Vol. 2B "MOV—Move to/from Control
 * Registers" (#GP(0) list), Vol. 3A 10.8.5 (IA-32e mode activation):
 *   bits 63:32 set                                  -> #GP(0)
 *   PG = 1 and PE = 0                               -> #GP(0)
 *   NW = 1 and CD = 0                               -> #GP(0)
 *   PG 0->1 with EFER.LME = 1 and CR4.PAE = 0       -> #GP(0)
 *   PG 0->1 with EFER.LME = 1 and CS.L = 1          -> #GP(0)
 *   PG 0->1 with EFER.LME = 1 and a 16-bit TSS in TR -> #GP(0)
 *   PG 1->0 in 64-bit mode                          -> #GP(0)
 * Reserved bits in 31:0 are ignored; ET reads as 1.
 */
static rc_fault write_cr0(rc_cpu *cpu, uint64_t v)
{
    FAULT_IF(cpu, v >> 32, RC_EXC_GP, 0, "MOV to CR0 with a bit in 63:32 set (SDM Vol. 3A 2.5)");
    v = (v & CR0_WRITABLE) | RC_CR0_ET;
    FAULT_IF(cpu, (v & RC_CR0_PG) && !(v & RC_CR0_PE), RC_EXC_GP, 0,
             "MOV to CR0 with PG = 1 and PE = 0 (SDM Vol. 2B MOV CR)");
    FAULT_IF(cpu, (v & RC_CR0_NW) && !(v & RC_CR0_CD), RC_EXC_GP, 0,
             "MOV to CR0 with NW = 1 and CD = 0 (SDM Vol. 2B MOV CR)");
    bool pg_on = (v & RC_CR0_PG) && !(cpu->cr0 & RC_CR0_PG);
    if (pg_on && (cpu->efer & RC_EFER_LME)) {
        FAULT_IF(cpu, !(cpu->cr4 & RC_CR4_PAE), RC_EXC_GP, 0,
                 "enabling paging with EFER.LME = 1 and CR4.PAE = 0 (SDM Vol. 3A 10.8.5)");
        FAULT_IF(cpu, cpu->seg[RC_SEG_CS].l, RC_EXC_GP, 0,
                 "activating IA-32e mode with CS.L = 1 (SDM Vol. 2B MOV CR)");
        FAULT_IF(cpu, tr_is_16bit_tss(cpu), RC_EXC_GP, 0,
                 "activating IA-32e mode with a 16-bit TSS in TR (SDM Vol. 2B MOV CR)");
    }
    FAULT_IF(cpu, long64(cpu) && !(v & RC_CR0_PG), RC_EXC_GP, 0,
             "clearing CR0.PG in 64-bit mode (SDM Vol. 2B MOV CR)");

    uint64_t old = cpu->cr0;
    cpu->cr0 = v;
    if ((old ^ v) & (RC_CR0_PE | RC_CR0_PG))
        rc_update_mode(cpu);
    /* The software TLB caches permissions: a PG or WP change invalidates
     * every entry, global ones included (SDM Vol. 3A 4.10.4.1). */
    if ((old ^ v) & (RC_CR0_PG | RC_CR0_WP))
        rc_tlb_flush_all(cpu, false);
    return RC_NOFAULT;
}

/*
 * MOV to CR3. In IA-32e mode bits 63:MAXPHYADDR are reserved -> #GP(0)
 * (SDM Vol. 2B MOV CR; Vol. 3A 4.5); outside it the operand is 32 bits.
 * Non-global TLB entries are invalidated (SDM Vol. 3A 4.10.4.1).
 * Not modeled: Intel's PAE-mode PDPTE load at MOV CR3 (and its #GP on
 * reserved PDPTE bits, Vol. 3A 4.4.1); ringcore reads PDPTEs at walk time.
 */
static rc_fault write_cr3(rc_cpu *cpu, uint64_t v)
{
    if (ia32e(cpu)) {
        unsigned m = maxphyaddr(cpu);
        FAULT_IF(cpu, m < 64 && (v >> m) != 0, RC_EXC_GP, 0,
                 "MOV to CR3 setting a bit above MAXPHYADDR in IA-32e mode (SDM Vol. 2B MOV CR)");
    }
    cpu->cr3 = v;
    rc_tlb_flush_all(cpu, true);
    return RC_NOFAULT;
}

/*
 * MOV to CR4. SDM Vol. 3A 2.5, Vol. 2B MOV CR: setting a reserved bit
 * (here: any bit of a feature this model's CPUID does not report) or a bit
 * in 63:32 -> #GP(0); clearing PAE in IA-32e mode -> #GP(0). A change of
 * PGE, PAE, PSE, SMEP, SMAP or PKE invalidates every TLB entry
 * (SDM Vol. 3A 4.10.4.1; PSE/SMEP/SMAP/PKE because the software TLB caches
 * permissions and page sizes).
 */
static rc_fault write_cr4(rc_cpu *cpu, uint64_t v)
{
    FAULT_IF(cpu, v & ~cr4_allowed(cpu), RC_EXC_GP, 0,
             "MOV to CR4 setting a reserved bit or a feature this CPU model does not report "
             "(SDM Vol. 3A 2.5)");
    FAULT_IF(cpu, ia32e(cpu) && !(v & RC_CR4_PAE), RC_EXC_GP, 0,
             "clearing CR4.PAE in IA-32e mode (SDM Vol. 2B MOV CR)");
    uint64_t old = cpu->cr4;
    cpu->cr4 = v;
    if ((old ^ v) & RC_CR4_PAE)
        rc_update_mode(cpu);
    if ((old ^ v) & (RC_CR4_PGE | RC_CR4_PAE | RC_CR4_PSE | RC_CR4_SMEP | RC_CR4_SMAP | RC_CR4_PKE))
        rc_tlb_flush_all(cpu, false);
    return RC_NOFAULT;
}

/* MOV to CR8 (TPR, 64-bit mode): bits 63:4 reserved -> #GP(0)
 * (SDM Vol. 3A 2.5 "CR8", Vol. 2B MOV CR). No local APIC is modeled, so
 * the TPR masks nothing; it is kept for reading back. */
static rc_fault write_cr8(rc_cpu *cpu, uint64_t v)
{
    FAULT_IF(cpu, v & ~CR8_TPR_MASK, RC_EXC_GP, 0,
             "MOV to CR8 with a bit in 63:4 set (SDM Vol. 2B MOV CR)");
    cpu->cr8 = v;
    return RC_NOFAULT;
}

static uint64_t read_cr(const rc_cpu *cpu, unsigned cr)
{
    switch (cr) {
    case 0: return cpu->cr0;
    case 2: return cpu->cr2;
    case 3: return cpu->cr3;
    case 4: return cpu->cr4;
    default: return cpu->cr8 & CR8_TPR_MASK;
    }
}

/*
 * 0F 20 (MOV r, CRn) and 0F 22 (MOV CRn, r). SDM Vol. 2B "MOV—Move to/from
 * Control Registers": the operand is 64 bits in 64-bit mode and 32 bits
 * elsewhere, whatever the prefixes; "the 2 bits in the mod field are
 * ignored" (always a register); REX.R selects CR8. CR1, CR5-CR7 and
 * CR9-CR15 -> #UD, which as a decode-time fault takes priority over the
 * CPL check (SDM Vol. 3A 6.9 Table 6-2: class 8 before class 9);
 * CPL != 0 -> #GP(0). LOCK is rejected by the decoder (#UD), so AMD's
 * AltMovCr8 (LOCK MOV CR0 = CR8) is not offered and CPUID says so.
 */
RC_HANDLER(ex_mov_cr)
{
    unsigned cr = in->reg;
    unsigned size = long64(cpu) ? 8 : 4;
    FAULT_NOERR_IF(cpu, !cr_exists(cr), RC_EXC_UD,
                   "MOV CR with CR1, CR5-CR7 or CR9-CR15 (SDM Vol. 2B MOV CR: #UD)");
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "MOV CR at CPL > 0 (SDM Vol. 2B MOV CR)");
    if (in->opcode == 0x20) {
        rc_set_gpr(cpu, in->rm, size, true, read_cr(cpu, cr));
        return RC_NOFAULT;
    }
    uint64_t v = rc_get_gpr(cpu, in->rm, size, true);
    switch (cr) {
    case 0: return write_cr0(cpu, v);
    case 2: cpu->cr2 = v; return RC_NOFAULT;
    case 3: return write_cr3(cpu, v);
    case 4: return write_cr4(cpu, v);
    default: return write_cr8(cpu, v);
    }
}

/* ------------------------------------------------------------------ debug registers */

/*
 * 0F 21 (MOV r, DRn) and 0F 23 (MOV DRn, r). SDM Vol. 2B "MOV—Move to/from
 * Debug Registers", Vol. 3B 17.2:
 *   REX.R (DR8-DR15) -> #UD; CPL != 0 -> #GP(0);
 *   DR4/DR5 with CR4.DE = 1 -> #UD, else they alias DR6/DR7;
 *   DR7.GD = 1 -> #DB before the access: not modeled (unsupported);
 *   64-bit mode: writing a 1 to bits 63:32 of DR6/DR7 -> #GP(0).
 * Fixed bits of DR6/DR7 read back as the manual gives them. Enabled
 * breakpoints are reported as unsupported by the dispatch loop.
 */
RC_HANDLER(ex_mov_dr)
{
    unsigned dr = in->reg;
    unsigned size = long64(cpu) ? 8 : 4;
    FAULT_NOERR_IF(cpu, dr > 7, RC_EXC_UD, "MOV DR8-DR15 (REX.R) do not exist (SDM Vol. 2B MOV DR)");
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "MOV DR at CPL > 0 (SDM Vol. 2B MOV DR)");
    if (dr == 4 || dr == 5) {
        FAULT_NOERR_IF(cpu, cpu->cr4 & RC_CR4_DE, RC_EXC_UD,
                       "MOV DR4/DR5 with CR4.DE = 1 (SDM Vol. 3B 17.2.2)");
        dr += 2;
    }
    if (cpu->dr[7] & DR7_GD)
        return rc_unsupported(cpu, "MOV DR with DR7.GD = 1 (general-detect #DB is not modeled)");
    if (in->opcode == 0x21) {
        rc_set_gpr(cpu, in->rm, size, true, cpu->dr[dr]);
        return RC_NOFAULT;
    }
    uint64_t v = rc_get_gpr(cpu, in->rm, size, true);
    if (dr == 6 || dr == 7)
        FAULT_IF(cpu, v >> 32, RC_EXC_GP, 0,
                 "MOV to DR6/DR7 with a bit in 63:32 set (SDM Vol. 2B MOV DR)");
    if (dr == 6)
        v = (v & DR6_WRITABLE) | DR6_FIXED1;
    else if (dr == 7)
        v = (v & DR7_WRITABLE) | DR7_FIXED1;
    cpu->dr[dr] = v;
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ descriptor probes */

/* Read a descriptor for LAR/LSL/VERR/VERW, where a selector beyond the
 * table limit (or into an unusable LDT) is not a fault but ZF = 0 (SDM
 * Vol. 2A "LAR" pseudo-code): *found = false. Page faults on the table
 * read are real faults and propagate. */
static rc_fault probe_desc(rc_cpu *cpu, uint16_t sel, bool wide, rc_desc *d, bool *found)
{
    *found = false;
    if ((sel & ~SEL_RPL) == 0) /* index 0 in the GDT: the NULL selector */
        return RC_NOFAULT;
    rc_fault f = rc_desc_fetch(cpu, sel, wide, RC_EXC_GP, d);
    if (f.kind == RCF_EXCEPTION && f.vector == RC_EXC_GP) {
        cpu->fault_reason = NULL;
        return RC_NOFAULT;
    }
    TRY(f);
    *found = true;
    return RC_NOFAULT;
}

static inline unsigned desc_hi_type(const rc_desc *d)
{
    return (unsigned)(d->hi >> DESC_HI_TYPE_SHIFT) & DESC_HI_TYPE_MASK;
}

/* Code/data visibility for LAR/LSL/VERR/VERW: conforming code is visible
 * at any privilege; anything else needs DPL >= CPL and DPL >= RPL. */
static bool visible(const rc_cpu *cpu, const rc_desc *d, uint16_t sel)
{
    if (d->seg.s && (d->seg.type & TYPE_CODE) && (d->seg.type & TYPE_CONFORMING))
        return true;
    return d->seg.dpl >= cpu->cpl && d->seg.dpl >= (sel & SEL_RPL);
}

/* System descriptor types LAR (lar = true) or LSL accepts. SDM Vol. 2A
 * "LAR" Table 3-54 / "LSL" Table 3-61: legacy and compatibility/64-bit
 * (IA-32e) columns. */
static bool sys_type_ok(unsigned type, bool lar, bool ia32e_mode)
{
    switch (type) {
    case RC_DT_LDT:
    case RC_DT_TSS_AVAIL:
    case RC_DT_TSS_BUSY:
        return true;
    case RC_DT_CALLGATE:
        return lar;
    case RC_DT_TSS16_AVAIL:
    case RC_DT_TSS16_BUSY:
        return !ia32e_mode;
    case RC_DT_CALLGATE16:
    case RC_DT_TASKGATE:
        return lar && !ia32e_mode;
    default:
        return false;
    }
}

/* The common part of LAR and LSL: is the selector's descriptor one the
 * instruction reports (ZF = 1)? In IA-32e mode a system descriptor is 16
 * bytes: the whole of it must be within the table and its upper type
 * field 0. */
static rc_fault lar_lsl_lookup(rc_cpu *cpu, uint16_t sel, bool lar, rc_desc *d, bool *ok)
{
    bool found;
    *ok = false;
    TRY(probe_desc(cpu, sel, false, d, &found));
    if (!found)
        return RC_NOFAULT;
    if (!d->seg.s) {
        if (!sys_type_ok(d->seg.type, lar, ia32e(cpu)))
            return RC_NOFAULT;
        if (ia32e(cpu)) {
            TRY(probe_desc(cpu, sel, true, d, &found));
            if (!found || desc_hi_type(d) != 0)
                return RC_NOFAULT;
        }
    }
    *ok = visible(cpu, d, sel);
    return RC_NOFAULT;
}

static rc_fault read_selector_operand(rc_cpu *cpu, const rc_insn *in, uint16_t *sel)
{
    uint64_t v;
    TRY(rc_rm_read(cpu, in, 2, RC_ACC_READ, &v));
    *sel = (uint16_t)v;
    return RC_NOFAULT;
}

/* SDM Vol. 2A "LAR": #UD in real-address and virtual-8086 mode. ZF = 1 and
 * dest <- access rights (second dword masked by 0000FF00H for 16-bit, by
 * 00FxFF00H otherwise) for a visible descriptor of an accepted type; else
 * ZF = 0 and the destination is unchanged (measured on AMD EPYC: a failing
 * 32-bit LAR leaves all 64 bits of the register). */
RC_HANDLER(ex_lar)
{
    FAULT_NOERR_IF(cpu, real_or_vm86(cpu), RC_EXC_UD,
                   "LAR in real-address or virtual-8086 mode (SDM Vol. 2A LAR: #UD)");
    uint16_t sel;
    rc_desc d;
    bool ok;
    TRY(read_selector_operand(cpu, in, &sel));
    TRY(lar_lsl_lookup(cpu, sel, true, &d, &ok));
    if (ok) {
        uint32_t ar = (uint32_t)(d.lo >> 32) & (in->opsize == 2 ? LAR_MASK16 : LAR_MASK32);
        rc_set_gpr(cpu, in->reg, in->opsize, rex(in), ar);
    }
    set_zf(cpu, ok);
    return RC_NOFAULT;
}

/* SDM Vol. 2A "LSL": like LAR, with the byte-granular limit: with G = 1,
 * (limit << 12) | FFFH. A 16-bit destination receives the low 16 bits. */
RC_HANDLER(ex_lsl)
{
    FAULT_NOERR_IF(cpu, real_or_vm86(cpu), RC_EXC_UD,
                   "LSL in real-address or virtual-8086 mode (SDM Vol. 2A LSL: #UD)");
    uint16_t sel;
    rc_desc d;
    bool ok;
    TRY(read_selector_operand(cpu, in, &sel));
    TRY(lar_lsl_lookup(cpu, sel, false, &d, &ok));
    if (ok)
        rc_set_gpr(cpu, in->reg, in->opsize, rex(in), d.seg.limit);
    set_zf(cpu, ok);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ 0F 00 group */

static rc_fault store_selector(rc_cpu *cpu, const rc_insn *in, uint16_t sel)
{
    /* SDM Vol. 2B "SLDT"/"STR": a 32-bit register gets the selector
     * zero-extended (P6 and later), 64-bit with REX.W likewise; a memory
     * destination is 16 bits. */
    if (in->mod == 3) {
        rc_set_gpr(cpu, in->rm, in->opsize, rex(in), sel);
        return RC_NOFAULT;
    }
    return rc_write(cpu, in->seg, rc_effective_addr(cpu, in), 2, sel);
}

/* UMIP (CR4.UMIP, CPL > 0 -> #GP(0) for SGDT SIDT SLDT SMSW STR) is not
 * reported by CPUID, so only the embedder can set the bit. */
static inline bool umip_applies(const rc_cpu *cpu)
{
    return cpu->cpl > 0 && (cpu->cr4 & RC_CR4_UMIP);
}

/* The 64-bit-mode checks of a 16-byte LDT/TSS descriptor (SDM Vol. 3A
 * 8.2.3: the upper type field must be 0; Vol. 2A LLDT/LTR: the base must
 * be canonical): #GP(selector), as Bochs and the EDGE-CASES vectors have. */
static rc_fault check_wide_system_desc(rc_cpu *cpu, uint16_t sel, const rc_desc *d,
                                       const char *why_type, const char *why_base)
{
    FAULT_IF(cpu, desc_hi_type(d) != 0, RC_EXC_GP, SEL_ERR(sel), why_type);
    FAULT_IF(cpu, !rc_is_canonical(d->seg.base), RC_EXC_GP, SEL_ERR(sel), why_base);
    return RC_NOFAULT;
}

/*
 * SDM Vol. 2A "LLDT": #GP(0) if CPL != 0. A NULL selector marks LDTR
 * unusable. Otherwise: TI = 1 or beyond the GDT limit -> #GP(sel); not an
 * LDT descriptor -> #GP(sel); not present -> #NP(sel). In IA-32e mode the
 * descriptor is 16 bytes.
 */
static rc_fault do_lldt(rc_cpu *cpu, const rc_insn *in)
{
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "LLDT at CPL > 0 (SDM Vol. 2A LLDT)");
    uint16_t sel;
    TRY(read_selector_operand(cpu, in, &sel));
    if ((sel & ~SEL_RPL) == 0) {
        rc_segment *l = &cpu->seg[RC_SEG_LDTR];
        l->selector = sel;
        l->unusable = 1;
        l->present = 0;
        return RC_NOFAULT;
    }
    FAULT_IF(cpu, sel & SEL_TI, RC_EXC_GP, SEL_ERR(sel),
             "LLDT with a selector into the LDT (TI = 1) (SDM Vol. 2A LLDT)");
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, ia32e(cpu), RC_EXC_GP, &d));
    FAULT_IF(cpu, d.seg.s || d.seg.type != RC_DT_LDT, RC_EXC_GP, SEL_ERR(sel),
             "LLDT: the descriptor is not an LDT descriptor (SDM Vol. 2A LLDT)");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_NP, SEL_ERR(sel),
             "LLDT: the LDT descriptor is not present (SDM Vol. 2A LLDT)");
    if (ia32e(cpu))
        TRY(check_wide_system_desc(cpu, sel, &d,
                                   "LLDT: upper type field of the 16-byte descriptor is not 0",
                                   "LLDT: non-canonical LDT base (SDM Vol. 2A LLDT)"));
    rc_seg_from_desc(&cpu->seg[RC_SEG_LDTR], sel, &d);
    return RC_NOFAULT;
}

/*
 * SDM Vol. 2A "LTR": #GP(0) if CPL != 0 or the selector is NULL. TI = 1 or
 * beyond the GDT limit -> #GP(sel); not an available TSS (in IA-32e mode
 * only the 64-bit TSS type 9) -> #GP(sel); not present -> #NP(sel). The
 * descriptor is marked busy in memory (a locked write) and TR loaded.
 */
static rc_fault do_ltr(rc_cpu *cpu, const rc_insn *in)
{
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "LTR at CPL > 0 (SDM Vol. 2A LTR)");
    uint16_t sel;
    TRY(read_selector_operand(cpu, in, &sel));
    FAULT_IF(cpu, (sel & ~SEL_RPL) == 0, RC_EXC_GP, 0,
             "LTR with a NULL selector (SDM Vol. 2A LTR: #GP(0))");
    FAULT_IF(cpu, sel & SEL_TI, RC_EXC_GP, SEL_ERR(sel),
             "LTR with a selector into the LDT (TI = 1) (SDM Vol. 2A LTR)");
    rc_desc d;
    TRY(rc_desc_fetch(cpu, sel, ia32e(cpu), RC_EXC_GP, &d));
    bool avail = !d.seg.s && (d.seg.type == RC_DT_TSS_AVAIL ||
                              (!ia32e(cpu) && d.seg.type == RC_DT_TSS16_AVAIL));
    FAULT_IF(cpu, !avail, RC_EXC_GP, SEL_ERR(sel),
             "LTR: the descriptor is not an available TSS (SDM Vol. 2A LTR)");
    FAULT_IF(cpu, !d.seg.present, RC_EXC_NP, SEL_ERR(sel),
             "LTR: the TSS descriptor is not present (SDM Vol. 2A LTR)");
    if (ia32e(cpu))
        TRY(check_wide_system_desc(cpu, sel, &d,
                                   "LTR: upper type field of the 16-byte descriptor is not 0",
                                   "LTR: non-canonical TSS base (SDM Vol. 2A LTR)"));
    uint64_t at = cpu->gdtr.base + (sel & SEL_INDEX) + DESC_ACCESS_OFFSET;
    if (!ia32e(cpu))
        at &= 0xFFFFFFFFull;
    uint8_t access = (uint8_t)(d.lo >> DESC_ACCESS_SHIFT) | TYPE_TSS_BUSY;
    TRY(rc_lin_write(cpu, at, 1, RC_ACC_WRITE | RC_ACC_SUPERVISOR, access));
    rc_seg_from_desc(&cpu->seg[RC_SEG_TR], sel, &d);
    cpu->seg[RC_SEG_TR].type |= TYPE_TSS_BUSY;
    return RC_NOFAULT;
}

/*
 * SDM Vol. 2B "VERR, VERW": ZF = 0 for NULL, beyond the table limit, a
 * system descriptor, or (non-conforming code or data) with DPL < CPL or
 * DPL < RPL; otherwise ZF = 1 if the segment is readable (VERR: data, or
 * readable code) / writable (VERW: writable data). Presence is not checked.
 */
static rc_fault do_verr_verw(rc_cpu *cpu, const rc_insn *in, bool write)
{
    uint16_t sel;
    rc_desc d;
    bool found;
    TRY(read_selector_operand(cpu, in, &sel));
    TRY(probe_desc(cpu, sel, false, &d, &found));
    bool ok = found && d.seg.s && visible(cpu, &d, sel);
    if (ok) {
        bool code = d.seg.type & TYPE_CODE;
        if (write)
            ok = !code && (d.seg.type & TYPE_WRITABLE);
        else
            ok = !code || (d.seg.type & TYPE_READABLE);
    }
    set_zf(cpu, ok);
    return RC_NOFAULT;
}

/* 0F 00: SLDT STR LLDT LTR VERR VERW (/6, /7 reserved: #UD). All of them
 * are #UD in real-address and virtual-8086 mode (SDM Vol. 2A/2B, each
 * instruction's "Real-Address Mode Exceptions"). */
RC_HANDLER(ex_grp6)
{
    unsigned op = (in->modrm >> 3) & 7;
    FAULT_NOERR_IF(cpu, op >= 6, RC_EXC_UD, "0F 00 /6 and /7 are reserved (#UD)");
    FAULT_NOERR_IF(cpu, real_or_vm86(cpu), RC_EXC_UD,
                   "SLDT/STR/LLDT/LTR/VERR/VERW in real-address or virtual-8086 mode (#UD)");
    switch (op) {
    case 0:
    case 1:
        if (umip_applies(cpu))
            return rc_unsupported(cpu, op == 0 ? "SLDT with CR4.UMIP = 1 (UMIP)"
                                               : "STR with CR4.UMIP = 1 (UMIP)");
        return store_selector(cpu, in, cpu->seg[op == 0 ? RC_SEG_LDTR : RC_SEG_TR].selector);
    case 2: return do_lldt(cpu, in);
    case 3: return do_ltr(cpu, in);
    default: return do_verr_verw(cpu, in, op == 5);
    }
}

/* ------------------------------------------------------------------ 0F 01 group */

/*
 * SDM Vol. 2B "SGDT"/"SIDT": 64-bit mode stores 2 + 8 bytes; elsewhere
 * 2 + 4 bytes. With a 16-bit operand size the SDM pseudo-code stores the
 * "full 32-bit base address" (P6 and later; the 286 stored 24 bits and
 * FFH), so the operand size does not matter here.
 */
static rc_fault do_sgdt_sidt(rc_cpu *cpu, const rc_insn *in, bool idt)
{
    if (umip_applies(cpu))
        return rc_unsupported(cpu, idt ? "SIDT with CR4.UMIP = 1 (UMIP)"
                                       : "SGDT with CR4.UMIP = 1 (UMIP)");
    const rc_dtable *t = idt ? &cpu->idtr : &cpu->gdtr;
    uint8_t buf[10];
    unsigned n = long64(cpu) ? 10 : 6;
    uint64_t base = long64(cpu) ? t->base : (uint32_t)t->base;
    buf[0] = (uint8_t)t->limit;
    buf[1] = (uint8_t)(t->limit >> 8);
    for (unsigned i = 0; i < n - 2; i++)
        buf[2 + i] = (uint8_t)(base >> (8 * i));
    uint64_t lin;
    TRY(rc_seg_linear(cpu, in->seg, rc_effective_addr(cpu, in), n, RC_ACC_WRITE, &lin));
    return rc_lin_write_bytes(cpu, lin, buf, n, RC_ACC_WRITE);
}

/*
 * SDM Vol. 2A "LGDT"/"LIDT": #GP(0) if CPL != 0. 64-bit mode: 2 + 8 bytes,
 * a non-canonical base -> #GP(0). Otherwise 2 + 4 bytes; with a 16-bit
 * operand size only 24 bits of base are loaded (the high byte is 0).
 */
static rc_fault do_lgdt_lidt(rc_cpu *cpu, const rc_insn *in, bool idt)
{
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0,
             idt ? "LIDT at CPL > 0 (SDM Vol. 2A LIDT)" : "LGDT at CPL > 0 (SDM Vol. 2A LGDT)");
    uint64_t ea = rc_effective_addr(cpu, in);
    uint64_t limit, base;
    unsigned bsz = long64(cpu) ? 8 : 4;
    TRY(rc_read(cpu, in->seg, ea, 2, RC_ACC_READ, &limit));
    TRY(rc_read(cpu, in->seg, (ea + 2) & rc_size_mask(in->addrsize), bsz, RC_ACC_READ, &base));
    if (!long64(cpu) && in->opsize == 2)
        base &= 0x00FFFFFFull;
    FAULT_IF(cpu, long64(cpu) && !rc_is_canonical(base), RC_EXC_GP, 0,
             "LGDT/LIDT with a non-canonical base in 64-bit mode (SDM Vol. 2A LGDT)");
    rc_dtable *t = idt ? &cpu->idtr : &cpu->gdtr;
    t->base = base;
    t->limit = (uint16_t)limit;
    return RC_NOFAULT;
}

/* SDM Vol. 2B "SMSW": a register destination receives CR0 at the operand
 * size (the SDM leaves bits above 15 "undefined"; ringcore stores CR0's
 * own bits, as Bochs and QEMU do); a memory destination gets 16 bits. */
static rc_fault do_smsw(rc_cpu *cpu, const rc_insn *in)
{
    if (umip_applies(cpu))
        return rc_unsupported(cpu, "SMSW with CR4.UMIP = 1 (UMIP)");
    if (in->mod == 3) {
        rc_set_gpr(cpu, in->rm, in->opsize, rex(in), cpu->cr0);
        return RC_NOFAULT;
    }
    return rc_write(cpu, in->seg, rc_effective_addr(cpu, in), 2, cpu->cr0 & 0xFFFF);
}

/* SDM Vol. 2A "LMSW": #GP(0) if CPL != 0; loads PE, MP, EM, TS from the
 * source; PE can be set but not cleared. */
static rc_fault do_lmsw(rc_cpu *cpu, const rc_insn *in)
{
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "LMSW at CPL > 0 (SDM Vol. 2A LMSW)");
    uint64_t v;
    TRY(rc_rm_read(cpu, in, 2, RC_ACC_READ, &v));
    uint64_t old = cpu->cr0;
    cpu->cr0 = (old & ~(uint64_t)(RC_CR0_MP | RC_CR0_EM | RC_CR0_TS)) | (v & CR0_LMSW_BITS);
    if ((old ^ cpu->cr0) & RC_CR0_PE)
        rc_update_mode(cpu);
    return RC_NOFAULT;
}

/* SDM Vol. 2A "INVLPG": #GP(0) if CPL != 0; invalidates the TLB entries for
 * the page of the linear address of the operand. No segment limit check;
 * a non-canonical address invalidates nothing and does not fault. In
 * 64-bit mode only FS and GS have a base. */
static rc_fault do_invlpg(rc_cpu *cpu, const rc_insn *in)
{
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "INVLPG at CPL > 0 (SDM Vol. 2A INVLPG)");
    uint64_t base = cpu->seg[in->seg].base;
    if (long64(cpu) && in->seg != RC_SEG_FS && in->seg != RC_SEG_GS)
        base = 0;
    uint64_t lin = base + rc_effective_addr(cpu, in);
    if (!long64(cpu))
        lin &= 0xFFFFFFFFull;
    rc_tlb_flush_page(cpu, lin);
    return RC_NOFAULT;
}

/* mod = 3 encodings of 0F 01 (SDM Vol. 2 Table A-6 "Opcode Extensions",
 * APM Vol. 3 Table A-7). Each one exists only with a feature this model
 * does not report, and its manual gives #UD without that feature (or
 * outside VMX/SVM operation, or with CR4.OSXSAVE/PKE = 0, which the guest
 * cannot set here). When the embedder forced such state through the API,
 * the run ends as unsupported instead. */
static rc_fault grp7_register_form(rc_cpu *cpu, const rc_insn *in)
{
    switch (in->modrm) {
    case 0xC1: case 0xC2: case 0xC3: case 0xC4:
        /* VMCALL VMLAUNCH VMRESUME VMXOFF: #UD outside VMX operation. */
        if (cpu->cr4 & RC_CR4_VMXE)
            return rc_unsupported(cpu, "VMX instruction with CR4.VMXE = 1");
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD,
                       "VMX instruction outside VMX operation (SDM Vol. 3C 32.3: #UD)");
        break;
    case 0xC8: case 0xC9:
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD,
                       "MONITOR/MWAIT: CPUID.01H:ECX.MONITOR = 0 (SDM Vol. 2B: #UD)");
        break;
    case 0xCA: case 0xCB:
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD,
                       "CLAC/STAC: CPUID.07H:EBX.SMAP = 0 (SDM Vol. 2A: #UD)");
        break;
    case 0xD0: case 0xD1:
        if (cpu->cr4 & RC_CR4_OSXSAVE)
            return rc_unsupported(cpu, "XGETBV/XSETBV (XSAVE state)");
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD,
                       "XGETBV/XSETBV with CR4.OSXSAVE = 0 (SDM Vol. 2C: #UD)");
        break;
    case 0xD8: case 0xD9: case 0xDA: case 0xDB:
    case 0xDC: case 0xDD: case 0xDE: case 0xDF:
        /* VMRUN VMMCALL VMLOAD VMSAVE STGI CLGI SKINIT INVLPGA. */
        if (cpu->efer & RC_EFER_SVME)
            return rc_unsupported(cpu, "SVM instruction with EFER.SVME = 1");
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD,
                       "SVM instruction with EFER.SVME = 0 / no SVM (APM Vol. 3: #UD)");
        break;
    case 0xEE: case 0xEF:
        if (cpu->cr4 & RC_CR4_PKE)
            return rc_unsupported(cpu, "RDPKRU/WRPKRU (protection keys)");
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD, "RDPKRU/WRPKRU with CR4.PKE = 0 (SDM Vol. 2B: #UD)");
        break;
    case 0xF8:
        /* SDM Vol. 2B "SWAPGS": #UD outside 64-bit mode, #GP(0) if CPL != 0. */
        FAULT_NOERR_IF(cpu, !long64(cpu), RC_EXC_UD,
                       "SWAPGS outside 64-bit mode (SDM Vol. 2B SWAPGS: #UD)");
        FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "SWAPGS at CPL > 0 (SDM Vol. 2B SWAPGS)");
        {
            /* "tmp <- GS.base; GS.base <- IA32_KERNEL_GS_BASE;
             * IA32_KERNEL_GS_BASE <- tmp" (both hold canonical values: WRMSR
             * and the segment loads check them). */
            uint64_t tmp = cpu->seg[RC_SEG_GS].base;
            cpu->seg[RC_SEG_GS].base = cpu->msr.kernel_gs_base;
            cpu->msr.kernel_gs_base = tmp;
        }
        return RC_NOFAULT;
    case 0xF9:
        /* SDM Vol. 2B "RDTSCP": #GP(0) if CR4.TSD = 1 and CPL > 0; EDX:EAX
         * <- TSC, ECX <- IA32_TSC_AUX[31:0] (the 32-bit writes zero-extend
         * RAX, RDX, RCX in 64-bit mode). Reported by CPUID.80000001H:EDX[27]. */
        FAULT_IF(cpu, (cpu->cr4 & RC_CR4_TSD) && cpu->cpl != 0, RC_EXC_GP, 0,
                 "RDTSCP at CPL > 0 with CR4.TSD = 1 (SDM Vol. 2B RDTSCP)");
        {
            uint64_t tsc = tsc_now(cpu);
            rc_set_gpr(cpu, RC_REG_RAX, 4, false, (uint32_t)tsc);
            rc_set_gpr(cpu, RC_REG_RDX, 4, false, tsc >> 32);
            rc_set_gpr(cpu, RC_REG_RCX, 4, false, (uint32_t)cpu->msr.tsc_aux);
        }
        return RC_NOFAULT;
    default:
        break;
    }
    /* ENCLS/ENCLU/ENCLV, VMFUNC, XEND/XTEST, SERIALIZE, MONITORX/MWAITX,
     * CLZERO, RDPRU, INVLPGB/TLBSYNC and the reserved encodings: none is
     * reported by CPUID, all are #UD without their feature. */
    FAULT_NOERR_IF(cpu, true, RC_EXC_UD,
                   "0F 01 register-form encoding without a feature this CPU model reports (#UD)");
    return RC_NOFAULT;
}

RC_HANDLER(ex_grp7)
{
    unsigned op = (in->modrm >> 3) & 7;
    if (in->mod == 3 && op != 4 && op != 6)
        return grp7_register_form(cpu, in);
    switch (op) {
    case 0: return do_sgdt_sidt(cpu, in, false);
    case 1: return do_sgdt_sidt(cpu, in, true);
    case 2: return do_lgdt_lidt(cpu, in, false);
    case 3: return do_lgdt_lidt(cpu, in, true);
    case 4: return do_smsw(cpu, in);
    case 6: return do_lmsw(cpu, in);
    case 7: return do_invlpg(cpu, in);
    default:
        FAULT_NOERR_IF(cpu, true, RC_EXC_UD, "0F 01 /5 with a memory operand is reserved (#UD)");
        return RC_NOFAULT;
    }
}

/* ------------------------------------------------------------------ CLTS, INVD, ARPL */

/* SDM Vol. 2A "CLTS": CR0.TS <- 0. CPL 0 only: the opcode table marks it
 * privileged (RC_OPF_PRIV), the dispatch loop raises the #GP(0). */
RC_HANDLER(ex_clts)
{
    (void)in;
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "CLTS at CPL > 0 (SDM Vol. 2A CLTS)");
    cpu->cr0 &= ~(uint64_t)RC_CR0_TS;
    return RC_NOFAULT;
}

/* SDM Vol. 2A "INVD"/"WBINVD": CPL 0 only (privileged in the table). No
 * caches are modeled (memory is always coherent), so there is nothing to
 * write back or discard: completing is the architectural result. */
RC_HANDLER(ex_invd)
{
    (void)in;
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "INVD/WBINVD at CPL > 0 (SDM Vol. 2A INVD)");
    return RC_NOFAULT;
}

/* SDM Vol. 2A "ARPL": #UD in real-address and virtual-8086 mode (and 63 is
 * MOVSXD in 64-bit mode, decided by the decoder). If dest.RPL < src.RPL:
 * ZF = 1 and dest.RPL <- src.RPL; else ZF = 0. */
RC_HANDLER(ex_arpl)
{
    FAULT_NOERR_IF(cpu, real_or_vm86(cpu), RC_EXC_UD,
                   "ARPL in real-address or virtual-8086 mode (SDM Vol. 2A ARPL: #UD)");
    uint64_t dst;
    TRY(rc_rm_read(cpu, in, 2, RC_ACC_RMW, &dst));
    uint64_t src = rc_get_gpr(cpu, in->reg, 2, rex(in));
    bool adjust = (dst & SEL_RPL) < (src & SEL_RPL);
    if (adjust)
        TRY(rc_rm_write(cpu, in, 2, (dst & ~(uint64_t)SEL_RPL) | (src & SEL_RPL)));
    set_zf(cpu, adjust);
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ 0F AE (group 15) */

/* F3 (REX.W) 0F AE /0../3, register form: RDFSBASE, RDGSBASE, WRFSBASE,
 * WRGSBASE. SDM Vol. 2B "RDFSBASE/RDGSBASE" and Vol. 2D "WRFSBASE/
 * WRGSBASE": #UD with LOCK, outside 64-bit mode, or with CR4.FSGSBASE = 0;
 * the 32-bit forms read the low half of the base (zero-extended into the
 * register) and write a zero-extended base; a 64-bit write of a
 * non-canonical value is #GP(0). The rest of the group (FXSAVE, XSAVE,
 * fences, CLFLUSH...) belongs to state ringcore does not model. */
RC_HANDLER(ex_grp15)
{
    unsigned op = (in->modrm >> 3) & 7;
    if (in->mod != 3 || in->rep != RC_REP_F3 || op > 3 || in->opsize_prefix)
        return rc_unsupported(cpu, "fxsave/xsave/fence/clflush group (0F AE)");
    FAULT_NOERR_IF(cpu, in->lock, RC_EXC_UD, "LOCK prefix on RD/WR FS/GS BASE");
    FAULT_NOERR_IF(cpu, !long64(cpu), RC_EXC_UD,
                   "RD/WR FS/GS BASE outside 64-bit mode (SDM Vol. 2B RDFSBASE: #UD)");
    FAULT_NOERR_IF(cpu, !(cpu->cr4 & RC_CR4_FSGSBASE), RC_EXC_UD,
                   "RD/WR FS/GS BASE with CR4.FSGSBASE = 0 (SDM Vol. 2B RDFSBASE: #UD)");
    unsigned size = in->opsize == 8 ? 8 : 4;
    rc_segment *s = &cpu->seg[(op & 1) ? RC_SEG_GS : RC_SEG_FS];
    if (op < 2) {
        rc_set_gpr(cpu, in->rm, size, true, s->base);
        return RC_NOFAULT;
    }
    uint64_t v = rc_get_gpr(cpu, in->rm, size, true);
    FAULT_IF(cpu, !rc_is_canonical(v), RC_EXC_GP, 0,
             "WRFSBASE/WRGSBASE with a non-canonical base (SDM Vol. 2D: #GP(0))");
    s->base = v;
    return RC_NOFAULT;
}

/*
 * cpu.h - the internal CPU state and the conventions every part shares.
 *
 * Faults are values: every operation that can fail returns an rc_fault.
 * RC_NOFAULT (kind == RCF_NONE) means success. Instruction handlers never
 * longjmp; they return the fault and the dispatch loop (src/cpu/run.c)
 * delivers it or ends the run.
 */
#ifndef RC_CPU_H
#define RC_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ringcore.h"

/* ------------------------------------------------------------------ faults */

typedef enum rc_fault_kind {
    RCF_NONE = 0,
    RCF_EXCEPTION,   /* an architectural exception: vector/error below */
    RCF_UNSUPPORTED, /* ringcore lacks this: cpu->unsupported_what says what */
    RCF_EXIT,        /* stop the run cleanly: cpu->exit_pending says why */
} rc_fault_kind;

typedef struct rc_fault {
    uint8_t kind;      /* rc_fault_kind */
    uint8_t vector;
    uint8_t has_error;
    uint8_t pad;
    uint32_t error;
} rc_fault;

#define RC_NOFAULT ((rc_fault){ RCF_NONE, 0, 0, 0, 0 })
#define RC_FAILED(f) ((f).kind != RCF_NONE)

static inline rc_fault rc_exc(uint8_t vector) { return (rc_fault){ RCF_EXCEPTION, vector, 0, 0, 0 }; }
static inline rc_fault rc_exc_err(uint8_t vector, uint32_t err)
{
    return (rc_fault){ RCF_EXCEPTION, vector, 1, 0, err };
}

/* Propagate a fault: `TRY(rc_read(...));` */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        rc_fault try_f_ = (expr);                                                                  \
        if (__builtin_expect(RC_FAILED(try_f_), 0))                                                \
            return try_f_;                                                                         \
    } while (0)

/* Raise an exception when a condition holds, with the manual's reason. The
 * reason string is kept for the exit record and the CLI explanation. */
#define FAULT_IF(cpu, cond, vec, err, why)                                                         \
    do {                                                                                           \
        if (cond) {                                                                                \
            (cpu)->fault_reason = (why);                                                           \
            return rc_exc_err((vec), (err));                                                       \
        }                                                                                          \
    } while (0)
#define FAULT_NOERR_IF(cpu, cond, vec, why)                                                        \
    do {                                                                                           \
        if (cond) {                                                                                \
            (cpu)->fault_reason = (why);                                                           \
            return rc_exc(vec);                                                                    \
        }                                                                                          \
    } while (0)

/* "the emulator cannot do this" -- never a silent no-op. */
rc_fault rc_unsupported(struct rc_cpu *cpu, const char *what);

/* ------------------------------------------------------------------ flags */

#define RC_FLAG_CF (1u << 0)
#define RC_FLAG_FIXED1 (1u << 1)
#define RC_FLAG_PF (1u << 2)
#define RC_FLAG_AF (1u << 4)
#define RC_FLAG_ZF (1u << 6)
#define RC_FLAG_SF (1u << 7)
#define RC_FLAG_TF (1u << 8)
#define RC_FLAG_IF (1u << 9)
#define RC_FLAG_DF (1u << 10)
#define RC_FLAG_OF (1u << 11)
#define RC_FLAG_IOPL (3u << 12)
#define RC_FLAG_NT (1u << 14)
#define RC_FLAG_RF (1u << 16)
#define RC_FLAG_VM (1u << 17)
#define RC_FLAG_AC (1u << 18)
#define RC_FLAG_VIF (1u << 19)
#define RC_FLAG_VIP (1u << 20)
#define RC_FLAG_ID (1u << 21)
#define RC_FLAGS_ARITH (RC_FLAG_CF | RC_FLAG_PF | RC_FLAG_AF | RC_FLAG_ZF | RC_FLAG_SF | RC_FLAG_OF)

/* Lazy flags: arithmetic instructions record (op, size, operands, result);
 * the six status flags are computed only when read. See src/cpu/flags.c. */
typedef enum rc_lazy_op {
    LZ_NONE = 0, /* flags are materialized in cpu->rflags */
    LZ_ADD, LZ_ADC, LZ_SUB, LZ_SBB, LZ_LOGIC, LZ_INC, LZ_DEC, LZ_NEG,
    LZ_COUNT
} rc_lazy_op;

/* ------------------------------------------------------------------ control bits */

#define RC_CR0_PE (1ull << 0)
#define RC_CR0_MP (1ull << 1)
#define RC_CR0_EM (1ull << 2)
#define RC_CR0_TS (1ull << 3)
#define RC_CR0_ET (1ull << 4)
#define RC_CR0_NE (1ull << 5)
#define RC_CR0_WP (1ull << 16)
#define RC_CR0_AM (1ull << 18)
#define RC_CR0_NW (1ull << 29)
#define RC_CR0_CD (1ull << 30)
#define RC_CR0_PG (1ull << 31)

#define RC_CR4_VME (1ull << 0)
#define RC_CR4_PVI (1ull << 1)
#define RC_CR4_TSD (1ull << 2)
#define RC_CR4_DE (1ull << 3)
#define RC_CR4_PSE (1ull << 4)
#define RC_CR4_PAE (1ull << 5)
#define RC_CR4_PGE (1ull << 7)
#define RC_CR4_UMIP (1ull << 11)
#define RC_CR4_LA57 (1ull << 12)
#define RC_CR4_FSGSBASE (1ull << 16)
#define RC_CR4_PCIDE (1ull << 17)
#define RC_CR4_SMEP (1ull << 20)
#define RC_CR4_SMAP (1ull << 21)
#define RC_CR4_PKE (1ull << 22)

#define RC_EFER_SCE (1ull << 0)
#define RC_EFER_LME (1ull << 8)
#define RC_EFER_LMA (1ull << 10)
#define RC_EFER_NXE (1ull << 11)

/* ------------------------------------------------------------------ decoded instruction */

enum { RC_MAP_1BYTE = 0, RC_MAP_0F = 1, RC_MAP_0F38 = 2, RC_MAP_0F3A = 3 };
enum { RC_REP_NONE = 0, RC_REP_F3 = 1, RC_REP_F2 = 2 };
#define RC_REG_NONE 0xff   /* base/index absent */
#define RC_REG_RIPREL 0xfe /* base is RIP (64-bit RIP-relative addressing) */

struct rc_insn;
typedef rc_fault (*rc_exec_fn)(struct rc_cpu *cpu, const struct rc_insn *in);

typedef struct rc_insn {
    rc_exec_fn exec;     /* handler, from the opcode table */
    const char *name;    /* mnemonic family, for messages */
    uint8_t len;         /* total length in bytes, 1..15 */
    uint8_t map;         /* RC_MAP_* */
    uint8_t opcode;      /* opcode byte within its map */
    uint8_t opsize;      /* effective operand size in bytes: 2, 4 or 8 (byte ops use 1 via the table) */
    uint8_t addrsize;    /* effective address size in bytes: 2, 4 or 8 */
    uint8_t seg;         /* effective segment of the memory operand (RC_SEG_*) */
    uint8_t seg_override;/* 1 if a segment prefix was given */
    uint8_t rep;         /* RC_REP_* (last of F2/F3 wins) */
    uint8_t lock;        /* F0 seen */
    uint8_t opsize_prefix;/* 66 seen */
    uint8_t rex;         /* REX byte (0x40..0x4F) if it was effective, else 0 */
    uint8_t has_modrm;
    uint8_t modrm;
    uint8_t mod;         /* modrm.mod */
    uint8_t reg;         /* modrm.reg extended by REX.R (0..15) */
    uint8_t rm;          /* modrm.rm extended by REX.B (0..15), register form */
    uint8_t base;        /* memory form: base register or RC_REG_NONE / RC_REG_RIPREL */
    uint8_t index;       /* memory form: index register or RC_REG_NONE */
    uint8_t scale;       /* 0..3 */
    uint8_t imm_size;    /* bytes of immediate */
    int64_t disp;        /* sign-extended displacement */
    uint64_t imm;        /* first immediate: imm8/imm16/imm32 sign-extended to 64 bits except
                            the zero-extended kinds (IN/OUT/INT/ENTER/shift counts imm8,
                            RET/RETF imm16, moffs, far-pointer offsets): see optable.h */
    uint64_t imm2;       /* second immediate (ENTER's imm8, far pointer selector) */
    uint32_t flags;      /* RC_OPF_* from the opcode table */
    uint8_t bytes[15];   /* the instruction's bytes (len of them) */
} rc_insn;

/* Opcode-table flags (decided at decode time, not in handlers). */
#define RC_OPF_BYTE (1u << 0)      /* operates on 8-bit operands */
#define RC_OPF_LOCKABLE (1u << 1)  /* LOCK allowed when the destination is memory */
#define RC_OPF_PRIV (1u << 2)      /* CPL 0 only (#GP(0) otherwise) */
#define RC_OPF_DEF64 (1u << 3)     /* operand size defaults to 64 in 64-bit mode */
#define RC_OPF_FORCE64 (1u << 4)   /* operand size is 64 in 64-bit mode, 66 ignored (Intel) */
#define RC_OPF_INVALID64 (1u << 5) /* #UD in 64-bit mode */
#define RC_OPF_ONLY64 (1u << 6)    /* #UD outside 64-bit mode */
#define RC_OPF_BRANCH (1u << 7)    /* changes RIP (ends a decoded block) */
#define RC_OPF_STRING (1u << 8)    /* string instruction (REP semantics) */

/* ------------------------------------------------------------------ memory access kinds */

typedef enum rc_access {
    RC_ACC_READ = 0,
    RC_ACC_WRITE = 1,
    RC_ACC_EXEC = 2,
    RC_ACC_RMW = 3,        /* read that will be written back: write checks apply */
} rc_access;
#define RC_ACC_SUPERVISOR 0x10 /* implicit supervisor access (descriptor tables, TSS) */

/* ------------------------------------------------------------------ MMU structures */

#define RC_PAGE_SHIFT 12
#define RC_PAGE_SIZE 4096ull
#define RC_PAGE_MASK (~(RC_PAGE_SIZE - 1))

typedef struct rc_region {
    uint64_t gpa, size;
    uint8_t *host;            /* RAM; NULL for MMIO */
    uint8_t owned;            /* allocated by the library */
    uint8_t readonly;
    rc_mmio_read_fn rd;
    rc_mmio_write_fn wr;
    void *opaque;
} rc_region;

/* Software TLB: linear page -> host pointer (RAM) or phys (MMIO).
 * One entry per access class; tags hold the linear page number + 1
 * (0 = invalid). See src/mmu/paging.c. */
#define RC_TLB_SIZE 256
typedef struct rc_tlb_entry {
    uint64_t tag;             /* (linear >> 12) + 1, 0 = empty */
    uint64_t phys;            /* physical page address */
    uint8_t *host;            /* host pointer to the page, NULL for MMIO/unmapped */
    uint8_t global;           /* G bit: survives MOV CR3 */
} rc_tlb_entry;

/* TLB arrays: [0] supervisor read, [1] supervisor write, [2] user read,
 * [3] user write, [4] supervisor exec, [5] user exec. An entry is present
 * only if that access is permitted (and for writes, D is already set). */
#define RC_TLB_KINDS 6

/* Decoded-instruction cache, keyed by physical address of the first byte. */
#define RC_ICACHE_SIZE 4096
typedef struct rc_icache_entry {
    uint64_t phys;            /* physical address + 1 (0 = empty) */
    uint32_t mode_key;        /* code size / mode the decode was done for */
    rc_insn insn;
} rc_icache_entry;

/* Decoded blocks: runs of ordinary instructions in one page, executed
 * back to back without returning to the dispatch loop (src/cpu/run.c).
 * Keyed like the instruction cache; allocated on the first rc_run. */
#define RC_BLOCK_MAX 16
#define RC_BLOCK_CACHE 512
typedef struct rc_block {
    uint64_t phys;            /* physical address of the first instruction + 1 (0 = empty) */
    uint32_t mode_key;        /* code size the block was decoded for */
    uint16_t n;               /* instructions (0: the first one cannot be in a block) */
    uint16_t bytes;           /* total length */
    rc_insn insn[RC_BLOCK_MAX];
} rc_block;

/* ------------------------------------------------------------------ vendor model */

typedef struct rc_model {
    rc_vendor vendor;
    const char *name;             /* "GenuineIntel" / "AuthenticAMD" */
    /* Quirks, named: each is consulted at exactly one rule. */
    bool null_sel_clears_base;    /* Intel: null DS..GS load zeroes base/limit (XSA-191) */
    bool sysret_canonical_gp_cpl0;/* Intel: SYSRET #GP(0) in ring 0 on non-canonical RCX */
    bool sysret_ss_attrs_stale;   /* AMD: SYSRET keeps SS hidden attributes */
    bool syscall_legacy;          /* AMD: SYSCALL/SYSRET in legacy and compat mode */
    bool sysenter_long;           /* Intel: SYSENTER/SYSEXIT valid in long mode */
    bool bsf_zero_keeps_dest;     /* BSF/BSR with zero source leave dest unchanged */
    bool far_call_pushes_first;   /* AMD: far CALL writes CS:IP, then checks the target IP */
} rc_model;

const rc_model *rc_model_get(rc_vendor v);
/* CPUID for this model: leaf/subleaf -> eax, ebx, ecx, edx (src/cpu/model.c). */
void rc_model_cpuid(const struct rc_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* ------------------------------------------------------------------ the CPU */

#define RC_MAX_REGIONS 64
#define RC_MAX_EXTRA_MSRS 64

typedef struct rc_msr_state {
    uint64_t star, lstar, cstar, sfmask;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t fs_base_unused; /* FS/GS base live in the segment caches */
    uint64_t kernel_gs_base;
    uint64_t tsc_aux;
    uint64_t pat;
    uint64_t apic_base;
    uint64_t misc_enable;
    uint64_t tsc_offset;     /* TSC = icount + tsc_offset */
    uint32_t extra_index[RC_MAX_EXTRA_MSRS];
    uint64_t extra_value[RC_MAX_EXTRA_MSRS];
    uint32_t extra_count;    /* RC_MSR_POLICY_STORE side table */
} rc_msr_state;

struct rc_cpu {
    /* architectural state -- snapshot covers all of this block */
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;           /* non-status bits always valid; status bits valid when lz_op == LZ_NONE */
    rc_segment seg[RC_SEG_COUNT];
    rc_dtable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t dr[8];            /* dr[4], dr[5] unused (aliases) */
    uint64_t efer;
    uint8_t cpl;
    rc_msr_state msr;

    /* lazy flags */
    uint8_t lz_op;             /* rc_lazy_op */
    uint8_t lz_size;           /* operand size in bytes */
    uint64_t lz_res, lz_src1, lz_src2;
    uint32_t lz_cf_in;         /* carry-in for ADC/SBB; CF preserved for INC/DEC */

    /* derived mode (rc_update_mode) */
    rc_mode mode;
    uint8_t code_size;         /* 2, 4, 8 */
    uint8_t stack_size;        /* 2, 4, 8 (SS.B, or 8 in 64-bit mode) */
    uint8_t paging;            /* 0 none, 2 32-bit, 3 PAE, 4 4-level */

    /* configuration */
    const rc_model *model;
    rc_msr_policy msr_policy;
    uint32_t intercept_mask;
    rc_hooks hooks;
    bool have_hooks_slow;      /* insn or mem hooks set */

    /* physical memory */
    rc_region regions[RC_MAX_REGIONS];
    unsigned nregions;
    rc_pio_in_fn pio_in;
    rc_pio_out_fn pio_out;
    void *pio_opaque;

    /* software TLB and decoded-instruction cache */
    rc_tlb_entry tlb[RC_TLB_KINDS][RC_TLB_SIZE];
    rc_icache_entry *icache;   /* RC_ICACHE_SIZE entries, heap */
    rc_block *blocks;          /* RC_BLOCK_CACHE blocks, heap (first rc_run) */
    uint32_t code_gen;         /* bumped whenever cached code is invalidated */
    uint8_t *code_pages;       /* bitmap per physical page: holds cached code */
    uint64_t code_pages_limit; /* pages covered by the bitmap */

    /* the page instructions are being fetched from: (linear page + 1, CPL)
     * -> physical page; cleared with the TLB (src/mmu/paging.c) */
    uint64_t fetch_tag;
    uint64_t fetch_phys;
    uint8_t fetch_cpl;

    /* run state */
    uint64_t icount_total;
    uint64_t insn_rip;         /* RIP of the instruction being executed */
    const rc_insn *cur_insn;   /* the instruction being executed (bytes for exit records) */
    rc_insn decode_scratch;    /* decoded instruction that is not cached */
    const char *fault_reason;  /* set with FAULT_IF */
    const char *unsupported_what;
    uint64_t fault_cr2;        /* set with a #PF */
    rc_exit exit_pending;      /* filled when a handler returns RCF_EXIT */
    bool delivering;           /* inside event delivery (for #DF classes) */
    uint8_t delivering_vector;

    /* completion of an I/O or MMIO exit */
    bool io_pending;           /* rc_complete_io supplied a value */
    uint64_t io_value;
    uint64_t io_key;           /* port|size|dir or gpa the value answers */

    bool exit_restart;         /* RCF_EXIT: re-execute this instruction on resume (I/O, MMIO) */
    bool single_step_trap;     /* the #DB being raised is the TF trap (RIP already next) */

    /* instruction-boundary state */
    bool halted;
    uint8_t inhibit_irq;       /* STI / MOV SS shadow */

    /* the explanation of the last privilege transition, in words */
    char transition_text[256];
};

typedef struct rc_cpu rc_cpu;

/* ------------------------------------------------------------------ shared helpers */

/* Recompute cpu->mode / code_size / stack_size / paging after CR0, CR4,
 * EFER, CS or RFLAGS.VM changed. Flushes the TLB when paging changed. */
void rc_update_mode(rc_cpu *cpu);

static inline uint64_t rc_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : ((1ull << (size * 8)) - 1);
}
static inline int64_t rc_sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;
    return (int64_t)(v << sh) >> sh;
}
static inline bool rc_is_canonical(uint64_t addr)
{
    return (uint64_t)(((int64_t)(addr << 16)) >> 16) == addr; /* 48-bit; LA57 later */
}

/* GPR access by number and size, with the legacy high-byte rule: for byte
 * operands without REX, registers 4..7 are AH, CH, DH, BH. Writes of 4
 * bytes zero-extend to 64 bits; 1 and 2 bytes merge. */
static inline uint64_t rc_get_gpr(const rc_cpu *cpu, unsigned r, unsigned size, bool rex)
{
    if (size == 1 && !rex && r >= 4 && r < 8)
        return (cpu->gpr[r - 4] >> 8) & 0xff;
    return cpu->gpr[r] & rc_size_mask(size);
}
static inline void rc_set_gpr(rc_cpu *cpu, unsigned r, unsigned size, bool rex, uint64_t v)
{
    switch (size) {
    case 1:
        if (!rex && r >= 4 && r < 8)
            cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        else
            cpu->gpr[r] = (cpu->gpr[r] & ~0xffull) | (v & 0xff);
        break;
    case 2: cpu->gpr[r] = (cpu->gpr[r] & ~0xffffull) | (v & 0xffff); break;
    case 4: cpu->gpr[r] = v & 0xffffffffull; break;
    default: cpu->gpr[r] = v; break;
    }
}

/* flags (src/cpu/flags.c) */
uint64_t rc_get_rflags(rc_cpu *cpu);          /* materialize and return */
void rc_set_rflags(rc_cpu *cpu, uint64_t v);  /* raw write of all bits (fixed bit 1 forced) */
void rc_materialize_flags(rc_cpu *cpu);
bool rc_cond(rc_cpu *cpu, unsigned cc);       /* Jcc/SETcc/CMOVcc condition 0..15 */
static inline void rc_lazy(rc_cpu *cpu, rc_lazy_op op, unsigned size, uint64_t res, uint64_t s1,
                           uint64_t s2)
{
    cpu->lz_op = (uint8_t)op;
    cpu->lz_size = (uint8_t)size;
    cpu->lz_res = res & rc_size_mask(size);
    cpu->lz_src1 = s1 & rc_size_mask(size);
    cpu->lz_src2 = s2 & rc_size_mask(size);
}
bool rc_get_cf(rc_cpu *cpu);
/* Set the status flags in 'mask' to the bits of 'val' (materializes first). */
void rc_set_status_flags(rc_cpu *cpu, uint32_t mask, uint32_t val);
uint32_t rc_parity(uint64_t v); /* PF for the low byte: 1 if even number of set bits */

/* ------------------------------------------------------------------ memory (src/mmu) */

/* Physical bus (src/mmu/bus.c). Unmapped reads return all-ones, unmapped
 * writes are dropped. MMIO without a callback returns RCF_EXIT. */
rc_region *rc_bus_find(rc_cpu *cpu, uint64_t gpa);
rc_fault rc_phys_read(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val);
rc_fault rc_phys_write(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val);
/* Host pointer to the RAM page containing gpa, or NULL (MMIO/unmapped). */
uint8_t *rc_bus_host_page(rc_cpu *cpu, uint64_t gpa, bool for_write);

/* Paging (src/mmu/paging.c): linear -> physical with full permission
 * checks; on failure returns #PF with the exact error code and sets
 * cpu->fault_cr2. acc is rc_access | RC_ACC_SUPERVISOR. Sets A/D bits. */
rc_fault rc_translate(rc_cpu *cpu, uint64_t lin, unsigned acc, uint64_t *phys);
void rc_tlb_flush_all(rc_cpu *cpu, bool keep_global);
void rc_tlb_flush_page(rc_cpu *cpu, uint64_t lin);

/* Linear-address access (paging only; no segmentation). Handles accesses
 * that cross a page boundary. size 1..8 for the scalar forms. */
rc_fault rc_lin_read(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc, uint64_t *val);
rc_fault rc_lin_write(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc, uint64_t val);
rc_fault rc_lin_read_bytes(rc_cpu *cpu, uint64_t lin, void *buf, unsigned len, unsigned acc);
rc_fault rc_lin_write_bytes(rc_cpu *cpu, uint64_t lin, const void *buf, unsigned len, unsigned acc);

/* Segmentation for addressing (src/mmu/seg.c): seg:offset -> linear with
 * the limit, type and canonical checks of SDM Vol. 3A 5.3 / 3.4.5 and the
 * 64-bit rules (#SS for SS-based, #GP(0) otherwise). */
rc_fault rc_seg_linear(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc,
                       uint64_t *lin);

/* Alignment checking is on: CR0.AM = 1, RFLAGS.AC = 1 and CPL 3 (SDM Vol.
 * 3A 6.15 "Interrupt 17 -- Alignment Check Exception (#AC)"). */
static inline bool rc_ac_enabled(const rc_cpu *cpu)
{
    return cpu->cpl == 3 && (cpu->cr0 & RC_CR0_AM) && (cpu->rflags & RC_FLAG_AC);
}

/* The accessors instruction handlers use: segmentation + paging. */
rc_fault rc_read(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc, uint64_t *val);
rc_fault rc_write(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t val);
/* Instruction fetch of up to 'len' bytes at CS:rip; returns how many could
 * be fetched in *got when a later byte faults (the fault is returned only
 * if zero bytes could be fetched or need > got). */
rc_fault rc_fetch(rc_cpu *cpu, uint64_t rip, uint8_t *buf, unsigned len, unsigned *got);

/* Descriptor-table / TSS reads are implicit supervisor accesses. */
static inline rc_fault rc_sys_read(rc_cpu *cpu, uint64_t lin, unsigned size, uint64_t *val)
{
    return rc_lin_read(cpu, lin, size, RC_ACC_READ | RC_ACC_SUPERVISOR, val);
}

/* Effective address of the memory operand (offset within in->seg) with
 * address-size wrap-around (SDM Vol. 1 3.7.5; RIP-relative: Vol. 2A
 * 2.2.1.6, relative to the next instruction, truncated to 32 bits with a
 * 67 prefix). */
static inline uint64_t rc_effective_addr(const rc_cpu *cpu, const rc_insn *in)
{
    uint64_t ea = (uint64_t)in->disp;
    if (in->base == RC_REG_RIPREL)
        ea += cpu->insn_rip + in->len;
    else if (in->base != RC_REG_NONE)
        ea += cpu->gpr[in->base];
    if (in->index != RC_REG_NONE)
        ea += cpu->gpr[in->index] << in->scale;
    return ea & rc_size_mask(in->addrsize);
}

/* Stack (src/cpu/exec_stack.c): push/pop using SS and the stack size. */
rc_fault rc_push(rc_cpu *cpu, uint64_t v, unsigned size);
rc_fault rc_pop(rc_cpu *cpu, unsigned size, uint64_t *v);

/* Port I/O (src/mmu/bus.c): callbacks or an RC_EXIT_IO exit. */
rc_fault rc_port_in(rc_cpu *cpu, uint16_t port, unsigned size, uint32_t *val);
rc_fault rc_port_out(rc_cpu *cpu, uint16_t port, unsigned size, uint32_t val);

/* Decoder (src/cpu/decode.c). Decodes at most 'avail' bytes; returns
 * RC_NOFAULT, #UD, #GP(0) for >15 bytes, or RCF_UNSUPPORTED. If more bytes
 * than 'avail' would be needed, returns a fault with kind RCF_EXCEPTION
 * vector 0xFF ("need more bytes") so the caller can fetch more. */
#define RC_DECODE_NEED_MORE 0xff
rc_fault rc_decode(rc_cpu *cpu, const uint8_t *bytes, unsigned avail, unsigned code_size,
                   rc_insn *out);

/* Replace a decoded instruction's handler by a specialized one for its
 * exact form, when there is one (src/cpu/fastpath.c). */
void rc_specialize(const rc_cpu *cpu, rc_insn *in);

/* Instruction length only, for tests and tools (mode: 2, 4, 8).
 * Returns 0 for #UD/unsupported/incomplete. */
unsigned rc_decode_length(const uint8_t *bytes, unsigned avail, unsigned code_size);

/* MSR file (src/msr/msr.c). guest = true applies the guest's #GP checks. */
rc_fault rc_msr_read(rc_cpu *cpu, uint32_t index, uint64_t *val);
rc_fault rc_msr_write(rc_cpu *cpu, uint32_t index, uint64_t val);

/* Events (src/syscall/deliver.c): deliver an exception/interrupt through
 * IVT/IDT. Escalates to #DF and shutdown per SDM Vol. 3A 6.15 Table 6-5. */
rc_fault rc_deliver(rc_cpu *cpu, uint8_t vector, bool has_err, uint32_t err, bool software,
                    uint64_t next_rip);

/* Raise an exception found by an instruction or by the run loop: if its
 * vector is intercepted, fill cpu->exit_pending (RC_EXIT_EXCEPTION, full
 * rc_exception_info) and return RCF_EXIT; otherwise deliver it through the
 * IVT/IDT (rc_deliver), escalating per SDM Vol. 3A 6.15. RIP must already
 * be the value to push (insn_rip for faults). src/syscall/deliver.c */
rc_fault rc_raise_exception(rc_cpu *cpu, rc_fault f);

/* Hooks helper (src/api.c): calls hooks.transition_before/after if set. */
rc_hook_action rc_fire_transition(rc_cpu *cpu, const rc_transition *t, bool before);

/* Decoded-instruction cache (src/cpu/run.c): a write hit a physical page
 * holding cached code; drop its entries. Cheap test first:
 * rc_icache_page_has_code(). */
void rc_icache_invalidate_page(rc_cpu *cpu, uint64_t phys);
/* Drop every cached decode (instructions and blocks) and the code-page map. */
void rc_icache_flush_all(rc_cpu *cpu);
static inline bool rc_icache_page_has_code(const rc_cpu *cpu, uint64_t phys)
{
    uint64_t pn = phys >> RC_PAGE_SHIFT;
    return pn < cpu->code_pages_limit && (cpu->code_pages[pn >> 3] >> (pn & 7)) & 1;
}

/* ------------------------------------------------------------------ descriptors (src/mmu/desc.c) */

/* A descriptor from the GDT/LDT/IDT, decoded. SDM Vol. 3A 3.4.5, 5.8.3, 6.11. */
typedef struct rc_desc {
    uint64_t lo, hi;       /* raw 8 bytes (and the upper 8 for 16-byte system descriptors) */
    rc_segment seg;        /* code/data/system segment view: base, scaled limit, attributes */
    uint16_t gate_sel;     /* gates: target selector */
    uint64_t gate_off;     /* gates: target offset (64-bit for long-mode gates) */
    uint8_t gate_params;   /* call gates: parameter count */
    uint8_t ist;           /* long-mode interrupt/trap gates: IST index */
} rc_desc;

/* System descriptor types (S = 0), SDM Vol. 3A Table 3-2. */
enum {
    RC_DT_TSS16_AVAIL = 1, RC_DT_LDT = 2, RC_DT_TSS16_BUSY = 3, RC_DT_CALLGATE16 = 4,
    RC_DT_TASKGATE = 5, RC_DT_INTGATE16 = 6, RC_DT_TRAPGATE16 = 7, RC_DT_TSS_AVAIL = 9,
    RC_DT_TSS_BUSY = 11, RC_DT_CALLGATE = 12, RC_DT_INTGATE = 14, RC_DT_TRAPGATE = 15
};

/* Decode raw descriptor bytes (hi used for 16-byte long-mode system descriptors). */
void rc_desc_decode(uint64_t lo, uint64_t hi, rc_desc *d);
/* Read the descriptor a selector names from the GDT or LDT (TI bit), with
 * the table-limit check: failure -> exception 'vec' (#GP or #TS) with error
 * code sel & 0xFFFC. 'wide' reads 16 bytes (long-mode system descriptors). */
rc_fault rc_desc_fetch(rc_cpu *cpu, uint16_t sel, bool wide, uint8_t vec, rc_desc *d);
/* Set the accessed bit of a code/data descriptor in memory (locked write). */
rc_fault rc_desc_set_accessed(rc_cpu *cpu, uint16_t sel, rc_desc *d);
/* Fill a segment cache from a descriptor (the one constructor for caches). */
void rc_seg_from_desc(rc_segment *s, uint16_t sel, const rc_desc *d);

/* ---- begin src/mmu block (mmu helper) ---- */
/* Free the library-allocated RAM regions (rc_destroy calls it). src/mmu/bus.c */
void rc_bus_free(rc_cpu *cpu);
/* ---- end src/mmu block ---- */

#endif /* RC_CPU_H */

/*
 * ringcore.h - the one public header of libringcore.
 *
 * ringcore is an x86 CPU core whose purpose is precision at privilege
 * transitions. An embedder creates one or more independent CPUs
 * (rc_cpu is opaque; there is no global state), maps guest memory, sets
 * the architectural state directly, and runs:
 *
 *     rc_config cfg = RC_CONFIG_INIT;          // Intel, unknown MSR -> error
 *     cfg.vendor = RC_VENDOR_AMD;
 *     rc_cpu *cpu;
 *     rc_create(&cfg, &cpu);
 *     rc_map_ram(cpu, 0, 1 << 20, NULL, 0);    // library-allocated RAM
 *     rc_write_phys(cpu, 0x7c00, code, len);
 *     rc_set_reg(cpu, RC_REG_RIP, 0x7c00);
 *     rc_exit ex;
 *     rc_run(cpu, 1000, &ex);                  // -> ex.reason
 *     rc_destroy(cpu);
 *
 * Every function returns an rc_status (RC_OK == 0); rc_strerror() names it.
 * docs/api.md documents every call.
 */
#ifndef RINGCORE_H
#define RINGCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RC_API __attribute__((visibility("default")))
#else
#define RC_API
#endif

#define RC_VERSION_MAJOR 0
#define RC_VERSION_MINOR 1
#define RC_VERSION_PATCH 0

/* ---------------------------------------------------------------- errors */

typedef enum rc_status {
    RC_OK = 0,
    RC_ERR_INVALID_ARG,     /* a NULL pointer, an out-of-range enum, ... */
    RC_ERR_NO_MEMORY,
    RC_ERR_UNKNOWN_REG,     /* register id not known */
    RC_ERR_UNKNOWN_MSR,     /* MSR not in the chosen vendor's model */
    RC_ERR_BAD_VALUE,       /* value not valid for the register/MSR */
    RC_ERR_MAP_OVERLAP,     /* a mapping overlaps an existing one */
    RC_ERR_MAP_ALIGN,       /* mappings must be 4 KiB aligned */
    RC_ERR_NOT_MAPPED,      /* physical address has no RAM behind it */
    RC_ERR_SNAPSHOT_FORMAT, /* rc_load: not a ringcore snapshot */
    RC_ERR_SNAPSHOT_VERSION,/* rc_load: snapshot from another version */
    RC_ERR_SNAPSHOT_CORRUPT,/* rc_load: checksum/size/field check failed */
    RC_ERR_BUFFER_TOO_SMALL,/* rc_save: *len updated to the needed size */
    RC_ERR_STATE,           /* call not valid in the current state */
    RC_STATUS_COUNT
} rc_status;

RC_API const char *rc_strerror(rc_status status);

/* ---------------------------------------------------------------- config */

typedef enum rc_vendor { RC_VENDOR_INTEL = 0, RC_VENDOR_AMD = 1 } rc_vendor;

/* What happens when the *embedder* reads or writes an MSR the vendor
 * model does not have (guest RDMSR/WRMSR of such an MSR is always #GP(0)). */
typedef enum rc_msr_policy {
    RC_MSR_POLICY_ERROR = 0, /* rc_get_msr/rc_set_msr return RC_ERR_UNKNOWN_MSR */
    RC_MSR_POLICY_STORE = 1  /* accept and store it in a side table */
} rc_msr_policy;

typedef struct rc_config {
    rc_vendor vendor;
    rc_msr_policy msr_policy;
    uint32_t flags; /* reserved, must be 0 */
} rc_config;

#define RC_CONFIG_INIT { RC_VENDOR_INTEL, RC_MSR_POLICY_ERROR, 0 }

typedef struct rc_cpu rc_cpu;

RC_API rc_status rc_create(const rc_config *cfg, rc_cpu **out);
RC_API void rc_destroy(rc_cpu *cpu);
/* Architectural reset (SDM Vol. 3A 10.1.1: CS.base=0xFFFF0000, IP=0xFFF0...) */
RC_API rc_status rc_reset(rc_cpu *cpu);
RC_API rc_vendor rc_get_vendor(const rc_cpu *cpu);

/* ---------------------------------------------------------------- memory */

/* Map guest-physical [gpa, gpa+size) to RAM. host == NULL: the library
 * allocates zeroed memory and frees it in rc_destroy; otherwise the
 * embedder owns 'host' and must keep it alive. Page-aligned (4 KiB). */
#define RC_MAP_READONLY 1u /* writes are ignored (ROM) */
RC_API rc_status rc_map_ram(rc_cpu *cpu, uint64_t gpa, uint64_t size, void *host, uint32_t flags);
/* Host pointer for a guest-physical address in RAM, or NULL. */
RC_API void *rc_ram_ptr(rc_cpu *cpu, uint64_t gpa, uint64_t size);

/* MMIO: a callback answers accesses. If the callback pointer is NULL the
 * access ends rc_run with RC_EXIT_MMIO (see rc_complete_io). */
typedef uint64_t (*rc_mmio_read_fn)(void *opaque, uint64_t gpa, unsigned size);
typedef void (*rc_mmio_write_fn)(void *opaque, uint64_t gpa, unsigned size, uint64_t value);
RC_API rc_status rc_map_mmio(rc_cpu *cpu, uint64_t gpa, uint64_t size, rc_mmio_read_fn rd,
                      rc_mmio_write_fn wr, void *opaque);

/* Port I/O: callbacks for IN/OUT/INS/OUTS. Without them, port accesses end
 * rc_run with RC_EXIT_IO. */
typedef uint32_t (*rc_pio_in_fn)(void *opaque, uint16_t port, unsigned size);
typedef void (*rc_pio_out_fn)(void *opaque, uint16_t port, unsigned size, uint32_t value);
RC_API rc_status rc_set_port_io(rc_cpu *cpu, rc_pio_in_fn in, rc_pio_out_fn out, void *opaque);

/* The embedder changed guest code behind ringcore's back (wrote directly
 * into RAM it owns): drop the decoded instructions cached for
 * [gpa, gpa + size). Guest stores and rc_write_phys are seen without it. */
RC_API rc_status rc_invalidate_code(rc_cpu *cpu, uint64_t gpa, uint64_t size);

/* Physical read/write (no paging, no segmentation). Unmapped: error. */
RC_API rc_status rc_read_phys(rc_cpu *cpu, uint64_t gpa, void *buf, size_t len);
RC_API rc_status rc_write_phys(rc_cpu *cpu, uint64_t gpa, const void *buf, size_t len);

/* Debugger view of linear memory: translate through the current page tables
 * without side effects (no A/D bits, no faults). RC_ERR_NOT_MAPPED if a page
 * is not present or not backed by RAM. */
RC_API rc_status rc_translate_linear(rc_cpu *cpu, uint64_t linear, uint64_t *gpa);
RC_API rc_status rc_read_linear(rc_cpu *cpu, uint64_t linear, void *buf, size_t len);

/* ---------------------------------------------------------------- registers */

typedef enum rc_reg {
    RC_REG_RAX = 0, RC_REG_RCX, RC_REG_RDX, RC_REG_RBX,
    RC_REG_RSP, RC_REG_RBP, RC_REG_RSI, RC_REG_RDI,
    RC_REG_R8, RC_REG_R9, RC_REG_R10, RC_REG_R11,
    RC_REG_R12, RC_REG_R13, RC_REG_R14, RC_REG_R15,
    RC_REG_RIP, RC_REG_RFLAGS,
    RC_REG_CR0, RC_REG_CR2, RC_REG_CR3, RC_REG_CR4, RC_REG_CR8,
    RC_REG_DR0, RC_REG_DR1, RC_REG_DR2, RC_REG_DR3, RC_REG_DR6, RC_REG_DR7,
    RC_REG_EFER,
    RC_REG_CPL, /* set directly: no checks, the embedder knows best */
    RC_REG_COUNT
} rc_reg;

/* Setting CR0/CR4/EFER/CS updates the derived mode; no architectural
 * checks are applied to values set through the API. */
RC_API rc_status rc_get_reg(const rc_cpu *cpu, rc_reg reg, uint64_t *value);
RC_API rc_status rc_set_reg(rc_cpu *cpu, rc_reg reg, uint64_t value);
RC_API const char *rc_reg_name(rc_reg reg);

typedef enum rc_seg_reg {
    RC_SEG_ES = 0, RC_SEG_CS, RC_SEG_SS, RC_SEG_DS, RC_SEG_FS, RC_SEG_GS,
    RC_SEG_LDTR, RC_SEG_TR,
    RC_SEG_COUNT
} rc_seg_reg;

/* A segment register with its hidden (descriptor-cache) part. 'limit' is
 * the byte-granular effective limit (already scaled when g = 1). */
typedef struct rc_segment {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;
    uint8_t type;     /* descriptor type field, 4 bits */
    uint8_t s;        /* 1 = code/data, 0 = system */
    uint8_t dpl;
    uint8_t present;
    uint8_t avl;
    uint8_t l;        /* 64-bit code segment */
    uint8_t db;       /* default operation size / big */
    uint8_t g;        /* granularity (informational; limit is already scaled) */
    uint8_t unusable; /* segment register holds a null/unusable descriptor */
} rc_segment;

RC_API rc_status rc_get_seg(const rc_cpu *cpu, rc_seg_reg seg, rc_segment *out);
RC_API rc_status rc_set_seg(rc_cpu *cpu, rc_seg_reg seg, const rc_segment *in);

typedef struct rc_dtable { uint64_t base; uint16_t limit; } rc_dtable;
RC_API rc_status rc_get_gdtr(const rc_cpu *cpu, rc_dtable *out);
RC_API rc_status rc_set_gdtr(rc_cpu *cpu, const rc_dtable *in);
RC_API rc_status rc_get_idtr(const rc_cpu *cpu, rc_dtable *out);
RC_API rc_status rc_set_idtr(rc_cpu *cpu, const rc_dtable *in);

/* MSRs, by architectural index (0xC0000080 = EFER, ...). Unknown MSRs
 * follow the config's rc_msr_policy. */
RC_API rc_status rc_get_msr(const rc_cpu *cpu, uint32_t index, uint64_t *value);
RC_API rc_status rc_set_msr(rc_cpu *cpu, uint32_t index, uint64_t value);

/* The operating mode derived from CR0.PE, EFER.LMA, CS.L/D, RFLAGS.VM. */
typedef enum rc_mode {
    RC_MODE_REAL = 0, RC_MODE_PROT16, RC_MODE_PROT32, RC_MODE_VM86,
    RC_MODE_COMPAT16, RC_MODE_COMPAT32, RC_MODE_LONG64
} rc_mode;
RC_API rc_mode rc_get_mode(const rc_cpu *cpu);
RC_API const char *rc_mode_name(rc_mode mode);

/* ---------------------------------------------------------------- running */

typedef enum rc_exit_reason {
    RC_EXIT_NONE = 0,
    RC_EXIT_HLT,         /* HLT executed (RIP after the HLT) */
    RC_EXIT_SHUTDOWN,    /* triple fault */
    RC_EXIT_EXCEPTION,   /* an intercepted exception: see rc_exit.exception */
    RC_EXIT_IO,          /* port I/O without a callback: see rc_exit.io */
    RC_EXIT_MMIO,        /* MMIO without a callback: see rc_exit.mmio */
    RC_EXIT_LIMIT,       /* the instruction limit was reached */
    RC_EXIT_UNSUPPORTED, /* an instruction or feature ringcore lacks */
    RC_EXIT_HOOK,        /* a hook asked to stop */
    RC_EXIT_COUNT
} rc_exit_reason;

RC_API const char *rc_exit_reason_name(rc_exit_reason reason);

/* x86 exception vectors. */
enum {
    RC_EXC_DE = 0, RC_EXC_DB = 1, RC_EXC_NMI = 2, RC_EXC_BP = 3, RC_EXC_OF = 4,
    RC_EXC_BR = 5, RC_EXC_UD = 6, RC_EXC_NM = 7, RC_EXC_DF = 8, RC_EXC_TS = 10,
    RC_EXC_NP = 11, RC_EXC_SS = 12, RC_EXC_GP = 13, RC_EXC_PF = 14,
    RC_EXC_MF = 16, RC_EXC_AC = 17, RC_EXC_MC = 18, RC_EXC_XM = 19
};

typedef struct rc_exception_info {
    uint8_t vector;
    uint8_t has_error_code;
    uint8_t during_delivery; /* raised while delivering another event */
    uint8_t cpl;             /* CPL when it was raised */
    uint32_t error_code;
    uint64_t cr2;            /* valid for #PF */
    uint64_t rip;            /* address (RIP, not linear) of the faulting instruction */
    uint16_t cs;             /* CS selector at that point */
    uint8_t insn_len;        /* bytes of the instruction that could be fetched */
    uint8_t insn[15];
    const char *reason;      /* a sentence in words: why it was raised */
} rc_exception_info;

typedef struct rc_exit {
    rc_exit_reason reason;
    uint64_t icount;         /* instructions retired in this rc_run call */
    union {
        rc_exception_info exception;
        struct {
            uint16_t port; uint8_t size; uint8_t is_write; uint32_t value;
        } io;                /* for IN: answer with rc_complete_io */
        struct {
            uint64_t gpa; uint8_t size; uint8_t is_write; uint64_t value;
        } mmio;
        struct {
            uint64_t rip;        /* linear address of the instruction */
            uint8_t len;         /* bytes available (up to 15) */
            uint8_t bytes[15];
            const char *what;    /* what is not implemented, in words */
        } unsupported;
    } u;
} rc_exit;

/* Which exception vectors end rc_run (RC_EXIT_EXCEPTION) instead of being
 * delivered through the guest's IVT/IDT. Bit n = vector n. Default 0. */
RC_API rc_status rc_set_intercept(rc_cpu *cpu, uint32_t vector_mask);

/* Run at most max_insns instructions (0 = no limit). The CPU state is
 * always consistent when rc_run returns; call it again to resume. */
RC_API rc_status rc_run(rc_cpu *cpu, uint64_t max_insns, rc_exit *exit);

/* Answer the I/O or MMIO exit that rc_run returned: 'value' is the data for
 * a read (ignored for a write). The next rc_run completes the instruction. */
RC_API rc_status rc_complete_io(rc_cpu *cpu, uint64_t value);

/* Deliver an exception to the guest now (through IVT/IDT), as if raised by
 * the instruction at RIP. The next rc_run starts in the handler. */
RC_API rc_status rc_inject_exception(rc_cpu *cpu, uint8_t vector, int has_error_code,
                              uint32_t error_code, uint64_t cr2);

/* ---------------------------------------------------------------- hooks */

typedef enum rc_transition_kind {
    RC_TR_EXCEPTION = 0, /* exception or interrupt delivery */
    RC_TR_INT,           /* INT n / INT3 / INTO / INT1 */
    RC_TR_IRET,
    RC_TR_FAR_CALL, RC_TR_FAR_JMP, RC_TR_FAR_RET,
    RC_TR_SYSCALL, RC_TR_SYSRET, RC_TR_SYSENTER, RC_TR_SYSEXIT,
    RC_TR_TASK_SWITCH,
    RC_TR_COUNT
} rc_transition_kind;

typedef struct rc_transition {
    rc_transition_kind kind;
    uint8_t old_cpl, new_cpl;
    rc_mode old_mode, new_mode;
    uint16_t old_cs, new_cs, old_ss, new_ss;
    uint64_t old_rip, new_rip, old_rsp, new_rsp;
    uint16_t gate;     /* gate selector or vector, if any */
    uint32_t msr;      /* MSR used (e.g. 0xC0000082 LSTAR), 0 if none */
    const char *text;  /* the explanation in words */
} rc_transition;

typedef enum rc_hook_action {
    RC_HOOK_CONTINUE = 0,
    RC_HOOK_VETO,     /* before-hook: do not perform; rc_run stops with RC_EXIT_HOOK */
    RC_HOOK_REDIRECT, /* before-hook: the hook changed the state; skip the transition */
    RC_HOOK_STOP      /* any hook: stop rc_run after this point (RC_EXIT_HOOK) */
} rc_hook_action;

typedef struct rc_hooks {
    void *opaque;
    rc_hook_action (*transition_before)(void *opaque, rc_cpu *cpu, const rc_transition *t);
    rc_hook_action (*transition_after)(void *opaque, rc_cpu *cpu, const rc_transition *t);
    rc_hook_action (*exception)(void *opaque, rc_cpu *cpu, const rc_exception_info *e);
    /* Optional; slow paths are taken while these are set. */
    rc_hook_action (*insn)(void *opaque, rc_cpu *cpu, uint64_t rip, const uint8_t *bytes, unsigned len);
    void (*mem)(void *opaque, rc_cpu *cpu, uint64_t linear, uint64_t phys, unsigned size,
                int is_write, uint64_t value);
} rc_hooks;

RC_API rc_status rc_set_hooks(rc_cpu *cpu, const rc_hooks *hooks); /* NULL clears */

/* ---------------------------------------------------------------- snapshots */

/* Serialize the architectural state (registers, segment caches, tables,
 * control/debug registers, MSRs, pending events) to a portable, versioned,
 * checksummed byte string. RAM is not included: it is the embedder's.
 * Call with buf == NULL to learn the size. */
RC_API rc_status rc_save(const rc_cpu *cpu, void *buf, size_t *len);
RC_API rc_status rc_load(rc_cpu *cpu, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* RINGCORE_H */

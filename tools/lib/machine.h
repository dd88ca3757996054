/*
 * machine.h - the standard machine: one documented guest in which the CLI,
 * the tests and the vector runner start code at any mode and CPL.
 *
 * docs/standard-machine.md describes every address, selector and
 * descriptor value defined here; keep the two in step. Everything is set
 * through the public API (include/ringcore.h): this is an embedder.
 */
#ifndef RCT_MACHINE_H
#define RCT_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcore.h"

typedef enum rcm_mode {
    RCM_REAL = 0,   /* real-address mode, CS=0 IP=0x7C00 */
    RCM_PROT16,     /* legacy protected mode, 16-bit code segment */
    RCM_PROT32,     /* legacy protected mode, 32-bit code segment */
    RCM_COMPAT,     /* IA-32e mode, 32-bit compatibility-mode code segment */
    RCM_LONG,       /* IA-32e mode, 64-bit code segment */
    RCM_MODE_COUNT
} rcm_mode;

typedef struct rcm_options {
    rc_vendor vendor;
    rcm_mode mode;
    unsigned cpl;       /* 0..3; must be 0 in real mode */
    bool no_paging;     /* prot16/prot32 only: run with CR0.PG = 0 */
} rcm_options;

#define RCM_OPTIONS_INIT { RC_VENDOR_INTEL, RCM_LONG, 0, false }

/* ---------------------------------------------------------------- physical layout */
/* RAM: 16 MiB at physical 0, library-allocated. Paged modes identity-map it. */
#define RCM_RAM_SIZE 0x1000000ull
#define RCM_IVT 0x0ull              /* real mode: 256 x 4-byte vectors */
#define RCM_GDT 0x1000ull
#define RCM_IDT 0x2000ull
#define RCM_TSS 0x3000ull
#define RCM_HANDLERS 0x4000ull      /* vector n's handler: RCM_HANDLERS + n * 16 */
#define RCM_HANDLER_STRIDE 16u
#define RCM_ENTRY_LSTAR 0x5000ull   /* 64-bit SYSCALL entry (a HLT) */
#define RCM_ENTRY_CSTAR 0x5010ull   /* compat-mode SYSCALL entry (AMD) */
#define RCM_ENTRY_STAR 0x5020ull    /* legacy-mode SYSCALL entry (AMD, STAR[31:0]) */
#define RCM_ENTRY_SYSENTER 0x5030ull/* SYSENTER_EIP */
#define RCM_REAL_CODE 0x7c00ull     /* real mode: CS:IP = 0000:7C00, SS:SP = 0000:7C00 */
#define RCM_REAL_CODE_MAX 0x8000ull
#define RCM_PT_ROOT 0x10000ull      /* PML4 (long/compat) or page directory (prot) */
#define RCM_IST_BASE 0x20000ull     /* IST k stack: top = RCM_IST_BASE + k * 0x1000 */
#define RCM_IST_SIZE 0x1000ull
#define RCM_RING_BASE 0x100000ull   /* ring r region: (r + 1) * RCM_RING_BASE */
#define RCM_RING_CODE_MAX 0xe000ull /* code at the region start, at most this long */
#define RCM_RING_STACK_OFF 0x10000ull /* initial stack pointer: region + this */
#define RCM_USER_START 0x400000ull  /* pages from here up are user (U/S = 1) */

/* ---------------------------------------------------------------- selectors */
/* GDT entries (index), Linux x86_64 layout for 1..9, extensions from 16. */
#define RCM_SEL_KERNEL32_CS 0x08    /* ring-0 32-bit code (Linux __KERNEL32_CS) */
#define RCM_SEL_KERNEL_CS 0x10      /* ring-0 code: 64-bit (IA-32e), 32-bit (legacy) */
#define RCM_SEL_KERNEL_DS 0x18
#define RCM_SEL_USER32_CS 0x23
#define RCM_SEL_USER_DS 0x2b
#define RCM_SEL_USER_CS 0x33        /* ring-3 code: 64-bit (IA-32e), 32-bit (legacy) */
#define RCM_SEL_TSS 0x40
#define RCM_SEL_RING1_CS32 0x81
#define RCM_SEL_RING1_CS 0x89
#define RCM_SEL_RING1_DS 0x91
#define RCM_SEL_RING2_CS32 0x9a
#define RCM_SEL_RING2_CS 0xa2
#define RCM_SEL_RING2_DS 0xaa
#define RCM_SEL_CS16(r) ((uint16_t)(0xb0 + 16 * (r) + (r)))     /* 16-bit code, ring r */
#define RCM_SEL_DS16(r) ((uint16_t)(0xb8 + 16 * (r) + (r)))     /* 16-bit data, ring r */
#define RCM_GDT_ENTRIES 30
#define RCM_GDT_LIMIT (RCM_GDT_ENTRIES * 8 - 1)

/* Linux's SYSCALL mask: TF, DF, IF, IOPL, AC, NT (arch/x86/kernel/cpu/common.c) */
#define RCM_SFMASK 0x47700ull

/* ---------------------------------------------------------------- API */

/* Create a CPU and build the standard machine into it. On failure returns
 * the status, *out is NULL and err says which step failed. */
rc_status rcm_build(const rcm_options *o, rc_cpu **out, char *err, size_t errlen);

/* Copy code to the start address of (mode, cpl) and set RIP to it. */
rc_status rcm_load_code(rc_cpu *cpu, const rcm_options *o, const uint8_t *code, size_t len,
                        char *err, size_t errlen);

/* Linear address where code starts for (mode, cpl); the largest code. */
uint64_t rcm_code_addr(rcm_mode mode, unsigned cpl);
uint64_t rcm_code_max(rcm_mode mode);
/* Initial stack pointer value (the register, not linear) for (mode, cpl). */
uint64_t rcm_stack_pointer(rcm_mode mode, unsigned cpl);
/* Stack top, linear, of ring r (the TSS's RSPr / ESPr). */
uint64_t rcm_ring_stack_top(unsigned ring);
/* Selectors a (mode, cpl) starts with. */
uint16_t rcm_code_selector(rcm_mode mode, unsigned cpl);
uint16_t rcm_data_selector(rcm_mode mode, unsigned cpl);

/* Handler address of a vector (linear; offset in the kernel CS), and the
 * inverse: the vector whose handler stub holds 'linear', or -1. */
uint64_t rcm_handler_addr(unsigned vector);
int rcm_handler_vector(uint64_t linear);
/* Name of the syscall/sysenter entry stub holding 'linear', or NULL. */
const char *rcm_entry_name(uint64_t linear);

/* The raw 8-byte GDT descriptor the machine puts at 'index' for 'mode'
 * (0 for null entries). For the TSS (index 8, 9) the two halves. */
uint64_t rcm_gdt_entry(rcm_mode mode, unsigned index);

/* Descriptor encoding / decoding (SDM Vol. 3A 3.4.5 Figure 3-8). */
typedef struct rcm_desc_fields {
    uint32_t base, limit; /* limit: the 20-bit field */
    uint8_t type, s, dpl, p, avl, l, db, g;
} rcm_desc_fields;
uint64_t rcm_desc_encode(const rcm_desc_fields *f);
void rcm_desc_decode(uint64_t d, rcm_desc_fields *f);
/* Segment-register cache as a descriptor load would fill it. */
void rcm_desc_to_seg(uint64_t d, uint16_t sel, rc_segment *s);

/* Load a segment register from the standard GDT (the way MOV Sreg would,
 * without checks), or in real mode as base = selector * 16. A null
 * selector makes the register unusable (CS/SS: refused). Loading CS sets
 * CPL to the selector's RPL. */
rc_status rcm_load_segment(rc_cpu *cpu, rc_seg_reg seg, uint16_t sel, char *err, size_t errlen);

const char *rcm_mode_name(rcm_mode mode);
int rcm_mode_parse(const char *s, rcm_mode *out);
/* Code size in bytes (2, 4, 8) of the mode's code segment. */
unsigned rcm_code_size(rcm_mode mode);

#endif /* RCT_MACHINE_H */

/*
 * kimage.h - the test kernel's vector payload (tests/kernel/README.md,
 * "The vector payload"): one vector's initial state and the non-zero 4 KiB
 * pages of its 16 MiB RAM image, as tools/lib/kimage.c writes it and
 * tests/kernel/kernel.c reads it. Freestanding (stdint only): the kernel
 * includes this header too. Every field is a little-endian 64-bit word so
 * that the layout has no padding; tests/kernel/layout.inc repeats the
 * offsets the assembly needs (VS_*), and kernel.c checks them.
 */
#ifndef RCT_KIMAGE_H
#define RCT_KIMAGE_H

#include <stdint.h>

#define RCK_VEC_MAGIC "RCKVEC01"
#define RCK_VEC_VERSION 1u
#define RCK_VEC_PAGE 4096u
#define RCK_VEC_MAX_MSRS 16u
#define RCK_VEC_RAM 0x1000000ull /* the vector's world: 0 .. 16 MiB */

/* mode */
enum { RCK_VMODE_PROT32 = 1, RCK_VMODE_COMPAT = 2, RCK_VMODE_LONG = 3, RCK_VMODE_PROT16 = 4,
       RCK_VMODE_REAL = 5 };
/* flags */
enum {
    RCK_VF_PAGING = 1,     /* CR0.PG = 1 in the vector's state */
    RCK_VF_LOAD_TR = 2,    /* TR holds a TSS selector: LTR it */
    RCK_VF_LOAD_LDTR = 4,  /* LDTR holds an LDT selector: LLDT it */
};

typedef struct rck_vmsr { uint64_t index, value; } rck_vmsr;

/* The header; npages page records follow it: { uint64_t addr; uint8_t bytes[4096]; }. */
typedef struct rck_vstate {
    char magic[8];           /* 0x000 RCK_VEC_MAGIC */
    uint64_t version;        /* 0x008 RCK_VEC_VERSION */
    uint64_t mode;           /* 0x010 RCK_VMODE_* */
    uint64_t cpl;            /* 0x018 */
    uint64_t vendor;         /* 0x020 0 Intel, 1 AMD (QEMU's -cpu says it; informational) */
    uint64_t flags;          /* 0x028 RCK_VF_* */
    uint64_t gpr[16];        /* 0x030 RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 */
    uint64_t rip;            /* 0x0b0 */
    uint64_t rflags;         /* 0x0b8 */
    uint64_t cr0, cr2, cr3, cr4, efer; /* 0x0c0 .. 0x0e0 */
    uint64_t seg[6];         /* 0x0e8 selectors ES CS SS DS FS GS (rc_seg_reg order) */
    uint64_t ldtr, tr;       /* 0x118, 0x120 selectors */
    /* Pseudo-descriptors for LGDT/LIDT: the limit in bits 63:48 of the
     * first word, the base in the second, so that the 10 bytes at offset
     * +6 are the operand (6 bytes of it in legacy mode, SDM Vol. 2A LGDT). */
    uint64_t gdtr_limit, gdtr_base;  /* 0x128, 0x130 */
    uint64_t idtr_limit, idtr_base;  /* 0x138, 0x140 */
    uint64_t fs_base, gs_base;       /* 0x148, 0x150 (IA-32e: written to the MSRs after the loads) */
    uint64_t far_ptr;        /* 0x158 the kernel's scratch: EIP in bits 31:0, CS in 47:32 */
    uint64_t tss_type_addr;  /* 0x160 the kernel's scratch: linear address of the TSS descriptor's type byte */
    uint64_t tss_type_byte;  /* 0x168 the kernel's scratch: its original value */
    uint64_t nmsrs;          /* 0x170 */
    rck_vmsr msrs[RCK_VEC_MAX_MSRS]; /* 0x178 WRMSR'd in this order (EFER is not among them) */
    uint64_t npages;         /* 0x278 */
} rck_vstate;

typedef struct rck_vpage { uint64_t addr; uint8_t bytes[RCK_VEC_PAGE]; } rck_vpage;

#endif /* RCT_KIMAGE_H */

/*
 * kimage_host.h - the host side of the test kernel's vector payload
 * (kimage.h holds the format, shared with the freestanding kernel).
 */
#ifndef RCT_KIMAGE_HOST_H
#define RCT_KIMAGE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/vbackend.h"
#include "lib/vector.h"

/* The kernel's window: linear = physical 28..30 MiB (tests/kernel/layout.inc
 * KERNEL_LOAD..KERNEL_LIMIT), mapped next to the vector's world by at most
 * RCK_KERNEL_PDES page-directory entries the vector's image has zero. */
#define RCK_KERNEL_WINDOW 0x1c00000ull
#define RCK_KERNEL_WINDOW_END 0x1e00000ull
#define RCK_KERNEL_PDES 1u

/* Whether the test kernel can install v's state (cpu: the scenario built
 * for v) exactly; -1 with the reason in why if not. */
int rck_vector_check(const rcv_vector *v, rc_cpu *cpu, char *why, size_t n);

/* The payload for v (rck_vstate + page records), malloc'd into *out. */
int rck_vector_payload(const rcv_vector *v, rc_cpu *cpu, uint8_t **out, size_t *len, char *why,
                       size_t n);

/* The physical addresses of the page-directory entries the kernel fills to
 * map its window under the vector's paging (zero in the vector's image;
 * *count = 0 without paging): the IA-32e PD entry 14 (8 bytes) or the
 * 32-bit-paging PDE 7 (4 bytes). -1 with why if impossible. */
int rck_kernel_pdes(const uint8_t *ram, rcm_mode mode, uint64_t cr0, uint64_t cr3,
                    uint64_t addr[RCK_KERNEL_PDES], unsigned *count, char *why, size_t n);

/* ---- kdisk.c: what the emulator judges share ---- */

/* Bytes per disk cylinder of the test kernel's image (16 heads, 63 sectors
 * of 512 bytes): the disk is padded to whole cylinders (README "Disk layout"). */
#define RCK_CYLINDER (16u * 63u * 512u)

/* The built image: RC_KERNEL_IMAGE, else tests/kernel/disk.img next to the
 * ringcore executable (the build directory). -1 with err if absent. */
int rck_find_image(char *path, size_t n, char *err, size_t en);

/* Write to 'out' the kernel's sectors of 'base' up to its payload LBA, then
 * the payload with its length and CRC-32 in the header, zero-padded to
 * whole cylinders. Returns the image size, 0 with err on failure. */
size_t rck_write_payload_disk(const char *base, const char *out, const uint8_t *payload,
                              size_t len, char *err, size_t n);

/* The built image with v's payload (its scenario, rck_vector_payload),
 * written to 'out': what the QEMU and Bochs judges boot for v, for any
 * other machine to boot (`ringcore vectors image`). Returns the image
 * size, 0 with err on failure. */
size_t rck_vector_disk(const rcv_vector *v, const char *out, char *err, size_t n);

/* ---- kend.c: the final memory and the end of a halted run, for the judges ---- */

/* A judge's copy of the final guest RAM (physical 0 .. size) and the
 * control registers that say how linear addresses map onto it. */
typedef struct rck_ram_image {
    const uint8_t *ram;
    uint64_t size;
    uint64_t cr0, cr3, cr4, efer;
} rck_ram_image;

/* Linear -> physical through the image's paging structures (32-bit, PAE,
 * 4-level); presence only, no permission checks. false if not mapped. */
bool rck_translate(const rck_ram_image *m, uint64_t lin, uint64_t *pa);

/* Read linear memory of the image; skip_pc_hole refuses 0xA0000-0xFFFFF
 * (not RAM under a BIOS). 0, or -1 if any byte cannot be read. */
int rck_read_linear(const rck_ram_image *m, uint64_t lin, void *buf, size_t len,
                    bool skip_pc_hole);

/* What a judge shows of the final state besides rcv_result: EFER, the
 * final GDT and IDT bases, and a reader of linear memory (0 or -1). */
typedef struct rck_end_view {
    const char *judge; /* "QEMU", "Bochs": for messages */
    uint64_t efer, gdt_base, idt_base;
    int (*read)(void *ctx, uint64_t linear, void *buf, size_t len);
    void *ctx;
    /* Where the vector's code starts (rcm_code_addr): a 16-bit gate keeps
     * only the low 16 bits of the return EIP, so an INT n is looked for at
     * the truncated address and, failing that, in the code's 64 KiB. */
    uint64_t code_addr;
} rck_end_view;

/* r holds the registers and segments of a run that halted. A HLT at CS:RIP
 * - 1 in a standard handler stub (docs/standard-machine.md) is the delivery
 * of that vector: RIP is set back to the stub, the end (exception, or int
 * when CD n precedes the return address), error code and frame are read
 * from the stack; any other HLT is a "hlt" end. -1 with err when the frame
 * cannot be read or shows that the kernel's entry itself faulted. */
int rck_judge_halt(const rck_end_view *w, rcv_result *r, char *err, size_t n);

/* What neither emulator judge can run through the test kernel, in words, or
 * NULL: IDT gates with their own handler (the end is recognised by the
 * standard stub the run halts in), hidden-part segment registers (the
 * kernel loads segment registers by selector), and the vector's own refusal
 * of 'judge' ("qemu", "bochs"). kend.c */
const char *rck_kernel_refuses(const rcv_vector *v, const char *judge);

/* The major.minor version an emulator prints: runs 'command' and scans its
 * output lines with 'format' (two %d conversions); 0.0 if it cannot be run
 * (the judges then say the emulator is not installed). kdisk.c */
void rck_program_version(const char *command, const char *format, int *major, int *minor);

/* A monotonic clock in seconds, and a sleep, for the judges' time-outs. */
double rck_now_s(void);
void rck_sleep_ms(unsigned ms);

#endif /* RCT_KIMAGE_HOST_H */

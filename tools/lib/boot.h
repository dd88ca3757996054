/*
 * boot.h - ringcore's own small PC platform for `ringcore boot IMAGE`
 * (issue 5): the test kernel's disk image (tests/kernel) boots on ringcore
 * as it boots on QEMU and Bochs, and its port-0xE9 log can be compared
 * byte for byte with theirs.
 *
 * The platform is RAM, a BIOS reduced to what the boot sector calls (the
 * INT 13h extensions' "check" and "extended read"), port 0xE9 (the debug
 * console), port 0xF4 (QEMU's isa-debug-exit), port 0x8900 (Bochs'
 * shutdown port), port 0x92 (fast A20, always on) and the two PIC mask
 * ports. Anything else the guest asks of the platform ends the boot with
 * a sentence naming it; nothing is silently ignored. docs/boot.md.
 */
#ifndef RCT_BOOT_H
#define RCT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringcore.h"

/* RAM the platform gives the guest: the emulators' -m 64 / megs: 64. */
#define RCB_RAM_BYTES 0x4000000ull

typedef enum rcb_end {
    RCB_END_GUEST_EXIT = 0, /* the guest wrote its exit code to port 0xF4 (or
                               "Shutdown" to 0x8900: code 0) */
    RCB_END_HALTED,         /* HLT: nothing can wake the CPU on this platform */
    RCB_END_SHUTDOWN,       /* triple fault */
    RCB_END_LIMIT,          /* the instruction limit was reached */
    RCB_END_STOPPED,        /* ringcore or the platform could not go on: 'what' */
    RCB_END_ERROR           /* the image could not be read or is not a boot disk */
} rcb_end;

typedef struct rcb_options {
    rc_vendor vendor;
    uint64_t max_insns;  /* 0: RCB_DEFAULT_MAX_INSNS */
    FILE *e9;            /* the guest's port-0xE9 bytes go here (may be NULL) */
    FILE *transitions;   /* if set, one line per privilege transition */
} rcb_options;

#define RCB_DEFAULT_MAX_INSNS 2000000000ull

typedef struct rcb_result {
    rcb_end end;
    int guest_code;      /* RCB_END_GUEST_EXIT */
    uint64_t icount;     /* instructions retired */
    uint64_t e9_bytes;   /* bytes written to port 0xE9 */
    uint64_t bios_calls; /* INT 13h calls served */
    uint16_t cs;         /* where the run ended */
    uint64_t rip;
    unsigned cpl;
    rc_mode mode;
    char what[512];      /* the end in words */
} rcb_result;

/* Boot the raw disk image at 'path': its first sector runs at 0000:7C00 in
 * real mode with DL = 0x80, as a BIOS leaves it. Always fills *r; returns 0
 * if the boot ran (whatever its end), -1 with r->end = RCB_END_ERROR if it
 * could not start. */
int rcb_boot(const char *path, const rcb_options *o, rcb_result *r);

const char *rcb_end_name(rcb_end end);

#endif /* RCT_BOOT_H */

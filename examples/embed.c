/*
 * embed.c - an example embedder of libringcore.
 *
 * It owns the guest's RAM, sets up a flat 32-bit protected-mode CPU
 * directly through the API (no firmware, no GDT needed: rc_set_seg loads
 * the segment caches), runs a small hand-assembled program that prints a
 * string on a console port and reads a "board" port, handles every exit
 * reason, and saves a snapshot.
 *
 * Build: part of the main build (target example_embed), or standalone
 * against an installed ringcore with examples/CMakeLists.txt, or
 *     cc embed.c $(pkg-config --cflags --libs ringcore)
 * Exit status: 0 when the guest did what it should, 3 when ringcore said
 * "unsupported", 1 on any other surprise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringcore.h"

#define RAM_SIZE 0x10000u   /* 64 KiB at guest-physical 0 */
#define CODE_ADDR 0x1000u
#define MSG_ADDR 0x1100u
#define STACK_TOP 0x8000u
#define CONSOLE_PORT 0xE9u  /* the Bochs/QEMU debug console port */
#define BOARD_PORT 0x61u    /* our imaginary board answers 0x42 here */
#define REPORT_PORT 0xEAu
#define BOARD_VALUE 0x42u

/* The guest program, 32-bit code at CODE_ADDR (offsets on the left).
 * Encodings from SDM Vol. 2 (opcode tables in Appendix A). */
static const uint8_t program[] = {
    0xBE, 0x00, 0x11, 0x00, 0x00, /* 1000 mov esi, 0x1100    ; B8+r id: the message */
    0xBA, 0xE9, 0x00, 0x00, 0x00, /* 1005 mov edx, 0xE9      ; console port */
    0xAC,                         /* 100A lodsb              ; al = [esi++] */
    0x84, 0xC0,                   /* 100B test al, al */
    0x74, 0x03,                   /* 100D jz 0x1012          ; end of string */
    0xEE,                         /* 100F out dx, al         ; one character */
    0xEB, 0xF8,                   /* 1010 jmp 0x100A         ; 0x1012 - 8 */
    0xE4, 0x61,                   /* 1012 in al, 0x61        ; ask the board */
    0xE6, 0xEA,                   /* 1014 out 0xEA, al       ; report its answer */
    0xF4,                         /* 1016 hlt                ; -> RC_EXIT_HLT */
    0x0F, 0x0B,                   /* 1017 ud2                ; -> #UD, intercepted */
};
static const char message[] = "Hello from a ring-0 guest of ringcore\n";
/* Instructions retired up to and including the HLT: 2 MOVs, then for each
 * of the 38 characters LODSB TEST JZ OUT JMP (5), then LODSB TEST JZ on the
 * NUL (3), then IN OUT HLT (3): 2 + 38 * 5 + 3 + 3 = 198. */
#define EXPECTED_INSNS_TO_HLT 198u

/* The embedder's devices. */
typedef struct board {
    char console[128];
    size_t console_len;
    uint32_t reported;
    int reports;
} board;

static uint32_t port_in(void *opaque, uint16_t port, unsigned size)
{
    (void)opaque;
    (void)size;
    return port == BOARD_PORT ? BOARD_VALUE : 0xFFFFFFFFu; /* open bus elsewhere */
}

static void port_out(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
    board *b = opaque;
    (void)size;
    if (port == CONSOLE_PORT && b->console_len + 1 < sizeof(b->console)) {
        b->console[b->console_len++] = (char)value;
        b->console[b->console_len] = '\0';
    } else if (port == REPORT_PORT) {
        b->reported = value;
        b->reports++;
    }
}

#define CHECK(call)                                                                                \
    do {                                                                                           \
        rc_status st_ = (call);                                                                    \
        if (st_ != RC_OK) {                                                                        \
            fprintf(stderr, "%s: %s\n", #call, rc_strerror(st_));                                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* Flat 4 GiB segments: base 0, limit 0xFFFFFFFF (g = 1), 32-bit (db = 1). */
static int setup_protected_mode(rc_cpu *cpu)
{
    rc_segment code = { .selector = 0x08, .base = 0, .limit = 0xFFFFFFFFu, .type = 0xB, /* XR, A */
                        .s = 1, .dpl = 0, .present = 1, .db = 1, .g = 1 };
    rc_segment data = { .selector = 0x10, .base = 0, .limit = 0xFFFFFFFFu, .type = 0x3, /* RW, A */
                        .s = 1, .dpl = 0, .present = 1, .db = 1, .g = 1 };
    CHECK(rc_set_reg(cpu, RC_REG_CR0, 0x11)); /* PE | ET */
    CHECK(rc_set_seg(cpu, RC_SEG_CS, &code));
    CHECK(rc_set_seg(cpu, RC_SEG_SS, &data));
    CHECK(rc_set_seg(cpu, RC_SEG_DS, &data));
    CHECK(rc_set_seg(cpu, RC_SEG_ES, &data));
    CHECK(rc_set_reg(cpu, RC_REG_CPL, 0));
    CHECK(rc_set_reg(cpu, RC_REG_RIP, CODE_ADDR));
    CHECK(rc_set_reg(cpu, RC_REG_RSP, STACK_TOP));
    CHECK(rc_set_reg(cpu, RC_REG_RFLAGS, 0x2));
    return 0;
}

static int save_snapshot(rc_cpu *cpu)
{
    size_t len = 0;
    CHECK(rc_save(cpu, NULL, &len));
    unsigned char *buf = malloc(len);
    if (!buf)
        return 1;
    rc_status st = rc_save(cpu, buf, &len);
    if (st == RC_OK) {
        printf("snapshot: %zu bytes, magic %.8s\n", len, (const char *)buf);
        /* Restore it into a second, independent CPU and compare RIP. */
        rc_config cfg = RC_CONFIG_INIT;
        rc_cpu *twin = NULL;
        uint64_t a = 0, b = 1;
        if (rc_create(&cfg, &twin) == RC_OK && rc_load(twin, buf, len) == RC_OK &&
            rc_get_reg(cpu, RC_REG_RIP, &a) == RC_OK && rc_get_reg(twin, RC_REG_RIP, &b) == RC_OK)
            printf("snapshot restored into a second CPU: rip %#llx %s\n", (unsigned long long)b,
                   a == b ? "(same)" : "(DIFFERENT)");
        else
            st = RC_ERR_STATE;
        rc_destroy(twin);
    }
    free(buf);
    if (st != RC_OK) {
        fprintf(stderr, "snapshot: %s\n", rc_strerror(st));
        return 1;
    }
    return 0;
}

int main(void)
{
    printf("ringcore %d.%d.%d example embedder\n", RC_VERSION_MAJOR, RC_VERSION_MINOR,
           RC_VERSION_PATCH);

    /* The embedder owns the RAM; ringcore only borrows it until rc_destroy. */
    uint8_t *ram = calloc(1, RAM_SIZE);
    if (!ram)
        return 1;
    memcpy(ram + CODE_ADDR, program, sizeof(program));
    memcpy(ram + MSG_ADDR, message, sizeof(message)); /* with its NUL */

    rc_config cfg = RC_CONFIG_INIT; /* Intel model, unknown MSRs are errors */
    rc_cpu *cpu = NULL;
    rc_status cst = rc_create(&cfg, &cpu);
    if (cst != RC_OK) {
        fprintf(stderr, "rc_create: %s\n", rc_strerror(cst));
        free(ram);
        return 1;
    }
    board dev = { .console_len = 0 };
    int result = 1;
    if (rc_map_ram(cpu, 0, RAM_SIZE, ram, 0) != RC_OK ||
        rc_set_port_io(cpu, port_in, port_out, &dev) != RC_OK ||
        rc_set_intercept(cpu, 1u << RC_EXC_UD) != RC_OK || setup_protected_mode(cpu) != 0) {
        fprintf(stderr, "setup failed\n");
        goto out;
    }
    printf("mode: %s\n", rc_mode_name(rc_get_mode(cpu)));

    int halts = 0;
    for (int round = 0; round < 8; round++) {
        rc_exit ex;
        rc_status st = rc_run(cpu, 10000, &ex);
        if (st != RC_OK) {
            fprintf(stderr, "rc_run: %s\n", rc_strerror(st));
            goto out;
        }
        printf("exit: %s after %llu instructions\n", rc_exit_reason_name(ex.reason),
               (unsigned long long)ex.icount);
        switch (ex.reason) {
        case RC_EXIT_HLT:
            /* RIP is after the HLT: running again resumes there. */
            if (++halts == 1 && ex.icount != EXPECTED_INSNS_TO_HLT) {
                printf("  expected %u instructions before the HLT\n", EXPECTED_INSNS_TO_HLT);
                break;
            }
            continue;
        case RC_EXIT_IO:
            /* Only without port callbacks: answer reads, then resume. */
            printf("  port %#x size %u %s\n", ex.u.io.port, ex.u.io.size,
                   ex.u.io.is_write ? "write" : "read");
            rc_complete_io(cpu, ex.u.io.is_write ? 0 : 0xFF);
            continue;
        case RC_EXIT_EXCEPTION:
            printf("  exception %u at %04x:%#llx: %s\n", ex.u.exception.vector,
                   ex.u.exception.cs, (unsigned long long)ex.u.exception.rip,
                   ex.u.exception.reason ? ex.u.exception.reason : "(no reason)");
            /* The guest's last instruction is UD2: that is the expected end. */
            result = ex.u.exception.vector == RC_EXC_UD && halts == 1 ? 0 : 1;
            break;
        case RC_EXIT_UNSUPPORTED:
            printf("  unsupported at %#llx: %s\n", (unsigned long long)ex.u.unsupported.rip,
                   ex.u.unsupported.what);
            result = 3;
            break;
        case RC_EXIT_LIMIT:
            printf("  instruction limit reached: the guest is looping\n");
            break;
        case RC_EXIT_SHUTDOWN:
        case RC_EXIT_MMIO:
        case RC_EXIT_HOOK:
        case RC_EXIT_NONE:
        case RC_EXIT_COUNT:
            printf("  unexpected exit\n");
            break;
        }
        break;
    }

    printf("console: %s", dev.console_len ? dev.console : "(nothing)\n");
    printf("board reported: %#x (%d report%s)\n", dev.reported, dev.reports,
           dev.reports == 1 ? "" : "s");
    if (result == 0 && (strcmp(dev.console, message) != 0 || dev.reported != BOARD_VALUE))
        result = 1;
    if (save_snapshot(cpu) != 0 && result == 0)
        result = 1;
    printf("%s\n", result == 0 ? "OK" : result == 3 ? "UNSUPPORTED" : "FAILED");
out:
    rc_destroy(cpu);
    free(ram); /* after rc_destroy: ringcore no longer uses it */
    return result;
}

/*
 * boot.c - ringcore's small PC platform: boots a raw disk image from its
 * first sector, as a BIOS does, with only what the test kernel's boot
 * sector and kernel use (boot.h; docs/boot.md).
 *
 * The BIOS is not emulated; it is replaced by the state a BIOS leaves
 * (the boot sector at 0000:7C00, DL = the drive, an interrupt vector
 * table) and by one service, INT 13h, which the host performs: every IVT
 * entry points at a 4-byte stub "OUT 0xEB, AL; IRET" in the BIOS area, and
 * the OUT ends rc_run with an I/O exit the platform answers. The stub's
 * address tells which interrupt it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/boot.h"

/* ---------------------------------------------------------------- the platform's map */
#define SECTOR 512u
#define BOOT_ADDR 0x7c00u          /* where a BIOS loads sector 0 */
#define BOOT_DRIVE 0x80u           /* the first hard disk */
#define BOOT_SIG_OFFSET 510u       /* 0x55 0xAA: a BIOS boots only such a sector */
#define BIOS_SEG 0xf000u           /* the BIOS area, F000:0000 = 0xF0000 */
#define STUB_OFF 0x1000u           /* stubs at F000:1000 + 4 * vector */
#define STUB_SIZE 4u
#define IVT_ENTRIES 256u
#define IMAGE_MAX (256ull << 20)   /* larger images are refused, not read */

/* Ports (tests/kernel/layout.inc and the emulators' devices). */
#define PORT_PIC1_DATA 0x21
#define PORT_SYSCTL_A 0x92         /* bit 0 fast reset, bit 1 A20 */
#define PORT_PIC2_DATA 0xa1
#define PORT_E9 0xe9               /* QEMU -debugcon, Bochs port_e9_hack */
#define PORT_BIOS 0xeb             /* this platform's BIOS-service trap (stubs only) */
#define PORT_EXIT 0xf4             /* QEMU isa-debug-exit */
#define PORT_BOCHS_SHUTDOWN 0x8900 /* Bochs: the 8 bytes "Shutdown" end the run */
#define SYSCTL_A_RESET 0x01
#define SYSCTL_A_A20 0x02

/* INT 13h, Enhanced Disk Drive services (Phoenix/T13 EDD 3.0: function
 * 41h "check extensions present", 42h "extended read"). */
#define INT_DISK 0x13
#define EDD_CHECK 0x41
#define EDD_READ 0x42
#define EDD_SIGNATURE_IN 0x55aa
#define EDD_SIGNATURE_OUT 0xaa55
#define EDD_VERSION_30 0x30
#define EDD_SUBSET_FIXED_DISK 0x0001 /* CX bit 0: functions 42h-44h, 47h, 48h */
#define EDD_MAX_SECTORS 127u         /* a 16-byte packet's limit */
#define EDD_ERR_BAD_COMMAND 0x01
#define EDD_ERR_NOT_FOUND 0x04
#define FLAGS_CF 0x0001u

typedef struct platform {
    rc_cpu *cpu;
    const rcb_options *o;
    rcb_result *r;
    uint8_t *disk;
    size_t disk_bytes;
    uint8_t pic_mask[2];
    unsigned shutdown_seen; /* bytes of "Shutdown" matched so far */
} platform;

const char *rcb_end_name(rcb_end end)
{
    static const char *const names[] = {
        [RCB_END_GUEST_EXIT] = "guest exit", [RCB_END_HALTED] = "halted",
        [RCB_END_SHUTDOWN] = "triple fault", [RCB_END_LIMIT] = "instruction limit",
        [RCB_END_STOPPED] = "stopped",       [RCB_END_ERROR] = "error",
    };
    return (unsigned)end < sizeof names / sizeof names[0] ? names[end] : "?";
}

static void say(rcb_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(rcb_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof r->what, fmt, ap);
    va_end(ap);
}

static uint64_t reg(const platform *p, rc_reg id)
{
    uint64_t v = 0;
    rc_get_reg(p->cpu, id, &v);
    return v;
}

static void set_reg16(platform *p, rc_reg id, uint16_t v)
{
    rc_set_reg(p->cpu, id, (reg(p, id) & ~0xffffull) | v);
}

static rc_segment seg(const platform *p, rc_seg_reg id)
{
    rc_segment s;
    memset(&s, 0, sizeof s);
    rc_get_seg(p->cpu, id, &s);
    return s;
}

/* Where the CPU is, for messages: "CS:RIP (mode, CPL n)". */
static void where(platform *p)
{
    rcb_result *r = p->r;
    r->cs = seg(p, RC_SEG_CS).selector;
    r->rip = reg(p, RC_REG_RIP);
    r->cpl = (unsigned)reg(p, RC_REG_CPL);
    r->mode = rc_get_mode(p->cpu);
}

static int read_image(const char *path, platform *p)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        say(p->r, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        say(p->r, "%s: cannot find its size (not a regular file?)", path);
    } else if ((uint64_t)size < SECTOR) {
        say(p->r, "%s: %ld bytes, less than one 512-byte sector: not a disk image", path, size);
    } else if ((uint64_t)size > IMAGE_MAX) {
        say(p->r, "%s: %ld bytes, more than this platform's %llu MiB limit for an image", path,
            size, (unsigned long long)(IMAGE_MAX >> 20));
    } else if (!(p->disk = malloc((size_t)size))) {
        say(p->r, "%s: out of memory for %ld bytes", path, size);
    } else if (fread(p->disk, 1, (size_t)size, f) != (size_t)size) {
        say(p->r, "%s: read error", path);
    } else if (p->disk[BOOT_SIG_OFFSET] != 0x55 || p->disk[BOOT_SIG_OFFSET + 1] != 0xaa) {
        say(p->r, "%s: sector 0 has no boot signature (bytes 510-511 are %02x %02x, not 55 aa): "
            "a BIOS would not boot it", path, p->disk[BOOT_SIG_OFFSET],
            p->disk[BOOT_SIG_OFFSET + 1]);
    } else {
        p->disk_bytes = (size_t)size;
        rc = 0;
    }
    fclose(f);
    return rc;
}

/* The state a BIOS leaves at the boot sector (the "BIOS Boot Specification"
 * 1.01, 6.5.1: sector 0 loaded at 0000:7C00, DL = the drive; real mode,
 * SDM Vol. 3A 21.1 "Real-Address Mode Operation"). */
static int setup_machine(platform *p)
{
    rc_cpu *cpu = p->cpu;
    if (rc_map_ram(cpu, 0, RCB_RAM_BYTES, NULL, 0) != RC_OK ||
        rc_write_phys(cpu, BOOT_ADDR, p->disk, SECTOR) != RC_OK) {
        say(p->r, "cannot map %llu MiB of guest RAM", (unsigned long long)(RCB_RAM_BYTES >> 20));
        return -1;
    }
    /* IVT (SDM Vol. 3A 21.1.4): 256 far pointers offset:segment at 0. */
    for (unsigned v = 0; v < IVT_ENTRIES; v++) {
        uint16_t off = (uint16_t)(STUB_OFF + v * STUB_SIZE);
        uint8_t ptr[4] = { (uint8_t)off, (uint8_t)(off >> 8), (uint8_t)BIOS_SEG,
                           (uint8_t)(BIOS_SEG >> 8) };
        /* OUT imm8, AL (E6 ib); IRET (CF); NOP (90) */
        uint8_t stub[STUB_SIZE] = { 0xe6, PORT_BIOS, 0xcf, 0x90 };
        if (rc_write_phys(cpu, 4ull * v, ptr, sizeof ptr) != RC_OK ||
            rc_write_phys(cpu, BIOS_SEG * 16ull + off, stub, sizeof stub) != RC_OK)
            return -1;
    }
    rc_reset(cpu);
    rc_segment s = { .selector = 0, .base = 0, .limit = 0xffff, .type = 0x3, .s = 1,
                     .present = 1 };
    rc_seg_reg data[] = { RC_SEG_ES, RC_SEG_SS, RC_SEG_DS, RC_SEG_FS, RC_SEG_GS };
    for (unsigned i = 0; i < sizeof data / sizeof data[0]; i++)
        rc_set_seg(cpu, data[i], &s);
    s.type = 0xb; /* execute/read, accessed */
    rc_set_seg(cpu, RC_SEG_CS, &s);
    rc_dtable ivt = { .base = 0, .limit = 0x3ff };
    rc_set_idtr(cpu, &ivt);
    rc_set_reg(cpu, RC_REG_RIP, BOOT_ADDR);
    rc_set_reg(cpu, RC_REG_RSP, BOOT_ADDR);
    rc_set_reg(cpu, RC_REG_RDX, BOOT_DRIVE);
    rc_set_reg(cpu, RC_REG_RFLAGS, 0x202); /* IF = 1, bit 1 reserved as 1 */
    return 0;
}

/* Set CF in the FLAGS image of the IRET frame the INT pushed (real mode,
 * SDM Vol. 3A 21.1.4: FLAGS, CS, IP; SS:SP points at IP) and AH. */
static int bios_return(platform *p, bool carry, uint8_t ah)
{
    uint64_t flags_at = seg(p, RC_SEG_SS).base + (uint16_t)(reg(p, RC_REG_RSP) + 4);
    uint8_t f[2];
    if (rc_read_phys(p->cpu, flags_at, f, 2) != RC_OK)
        return -1;
    uint16_t flags = (uint16_t)(f[0] | f[1] << 8);
    flags = carry ? (uint16_t)(flags | FLAGS_CF) : (uint16_t)(flags & ~FLAGS_CF);
    f[0] = (uint8_t)flags;
    f[1] = (uint8_t)(flags >> 8);
    if (rc_write_phys(p->cpu, flags_at, f, 2) != RC_OK)
        return -1;
    uint64_t rax = reg(p, RC_REG_RAX);
    rc_set_reg(p->cpu, RC_REG_RAX, (rax & ~0xff00ull) | (uint64_t)ah << 8);
    return 0;
}

/* INT 13h AH=42h: DS:SI = the disk address packet (size, 0, count,
 * offset, segment, LBA). */
static int edd_read(platform *p)
{
    uint64_t dap_at = seg(p, RC_SEG_DS).base + (uint16_t)reg(p, RC_REG_RSI);
    uint8_t d[16];
    if (rc_read_phys(p->cpu, dap_at, d, sizeof d) != RC_OK) {
        say(p->r, "INT 13h AH=42h: the disk address packet at 0x%" PRIx64 " is not in RAM", dap_at);
        return -1;
    }
    unsigned count = d[2] | d[3] << 8;
    uint64_t dest = (uint64_t)(d[6] | d[7] << 8) * 16 + (d[4] | d[5] << 8);
    uint64_t lba = 0;
    for (int i = 7; i >= 0; i--)
        lba = lba << 8 | d[8 + i];
    uint64_t sectors = p->disk_bytes / SECTOR;
    if (d[0] < 0x10 || count > EDD_MAX_SECTORS)
        return bios_return(p, true, EDD_ERR_BAD_COMMAND);
    if (lba >= sectors || count > sectors - lba) {
        d[2] = d[3] = 0; /* no sector was transferred */
        rc_write_phys(p->cpu, dap_at, d, 4);
        return bios_return(p, true, EDD_ERR_NOT_FOUND);
    }
    if (rc_write_phys(p->cpu, dest, p->disk + lba * SECTOR, (size_t)count * SECTOR) != RC_OK) {
        say(p->r, "INT 13h AH=42h: the buffer 0x%" PRIx64 "+%u sectors is outside RAM", dest,
            count);
        return -1;
    }
    rc_invalidate_code(p->cpu, dest, (uint64_t)count * SECTOR);
    return bios_return(p, false, 0);
}

/* The stub of interrupt 'vec' was reached: serve it or say why not. */
static int bios_call(platform *p, unsigned vec)
{
    uint8_t ah = (uint8_t)(reg(p, RC_REG_RAX) >> 8);
    uint8_t dl = (uint8_t)reg(p, RC_REG_RDX);
    if (vec != INT_DISK) {
        say(p->r, "interrupt 0x%02x reached the BIOS's interrupt vector table: this platform's "
            "BIOS serves only INT 13h (an exception or an interrupt it does not provide)", vec);
        return -1;
    }
    p->r->bios_calls++;
    if (ah == EDD_CHECK && (uint16_t)reg(p, RC_REG_RBX) == EDD_SIGNATURE_IN) {
        if (dl != BOOT_DRIVE)
            return bios_return(p, true, EDD_ERR_BAD_COMMAND);
        set_reg16(p, RC_REG_RBX, EDD_SIGNATURE_OUT);
        set_reg16(p, RC_REG_RCX, EDD_SUBSET_FIXED_DISK);
        return bios_return(p, false, EDD_VERSION_30);
    }
    if (ah == EDD_READ) {
        if (dl != BOOT_DRIVE)
            return bios_return(p, true, EDD_ERR_BAD_COMMAND);
        return edd_read(p);
    }
    say(p->r, "INT 13h AH=%02xh: this platform's BIOS serves only AH=41h (with BX=55AAh) and "
        "AH=42h", ah);
    return -1;
}

/* Which BIOS stub, if any, the instruction at CS:IP is. */
static int stub_vector(platform *p)
{
    rc_segment cs = seg(p, RC_SEG_CS);
    uint64_t ip = reg(p, RC_REG_RIP);
    if (rc_get_mode(p->cpu) != RC_MODE_REAL || cs.base != BIOS_SEG * 16ull || ip < STUB_OFF ||
        ip >= STUB_OFF + IVT_ENTRIES * STUB_SIZE || (ip - STUB_OFF) % STUB_SIZE)
        return -1;
    return (int)((ip - STUB_OFF) / STUB_SIZE);
}

static const char shutdown_word[] = "Shutdown";

/* An OUT: 1 = the guest ended the run, 0 = go on, -1 = stop (r->what). */
static int port_out(platform *p, uint16_t port, unsigned size, uint32_t value)
{
    rcb_result *r = p->r;
    if (port == PORT_BIOS && size == 1) {
        int vec = stub_vector(p);
        if (vec >= 0)
            return bios_call(p, (unsigned)vec) ? -1 : 0;
    } else if (port == PORT_E9 && size == 1) {
        if (p->o->e9)
            fputc((int)(value & 0xff), p->o->e9);
        r->e9_bytes++;
        return 0;
    } else if (port == PORT_EXIT) {
        r->end = RCB_END_GUEST_EXIT;
        r->guest_code = (int)(value & 0xff);
        say(r, "the guest wrote exit code %d to port 0xf4", r->guest_code);
        return 1;
    } else if (port == PORT_BOCHS_SHUTDOWN && size == 1) {
        p->shutdown_seen = (value & 0xff) == (uint8_t)shutdown_word[p->shutdown_seen]
                               ? p->shutdown_seen + 1
                               : (value & 0xff) == (uint8_t)shutdown_word[0];
        if (p->shutdown_seen == sizeof shutdown_word - 1) {
            r->end = RCB_END_GUEST_EXIT;
            r->guest_code = 0;
            say(r, "the guest wrote \"Shutdown\" to port 0x8900 (Bochs' shutdown port)");
            return 1;
        }
        return 0;
    } else if (port == PORT_SYSCTL_A && size == 1) {
        if (value & SYSCTL_A_RESET) {
            say(r, "OUT 0x%02x to port 0x92: a fast reset, which this platform does not model",
                value);
            return -1;
        }
        if (!(value & SYSCTL_A_A20)) {
            say(r, "OUT 0x%02x to port 0x92 turns A20 off: this platform keeps address line 20 "
                "on (A20 masking is not modeled)", value);
            return -1;
        }
        return 0;
    } else if ((port == PORT_PIC1_DATA || port == PORT_PIC2_DATA) && size == 1) {
        /* The 8259 interrupt masks: the platform has no interrupt source,
         * so a mask changes nothing; it is kept for IN. */
        p->pic_mask[port == PORT_PIC2_DATA] = (uint8_t)value;
        return 0;
    }
    say(r, "OUT to port 0x%x (%u byte%s, value 0x%x): this platform has no such device", port,
        size, size == 1 ? "" : "s", value);
    return -1;
}

static int port_in(platform *p, uint16_t port, unsigned size, uint32_t *value)
{
    if (size == 1 && port == PORT_SYSCTL_A) {
        *value = SYSCTL_A_A20; /* A20 on, as a BIOS leaves it */
        return 0;
    }
    if (size == 1 && port == PORT_E9) {
        *value = PORT_E9; /* QEMU's debugcon and Bochs' e9 hack read back 0xE9 */
        return 0;
    }
    if (size == 1 && (port == PORT_PIC1_DATA || port == PORT_PIC2_DATA)) {
        *value = p->pic_mask[port == PORT_PIC2_DATA];
        return 0;
    }
    say(p->r, "IN from port 0x%x (%u byte%s): this platform has no such device", port, size,
        size == 1 ? "" : "s");
    return -1;
}

static rc_hook_action on_transition(void *opaque, rc_cpu *cpu, const rc_transition *t)
{
    (void)cpu;
    platform *p = opaque;
    if (p->o->e9)
        fflush(p->o->e9); /* keep the log and the transitions in order on a terminal */
    if (t->text)
        fprintf(p->o->transitions, "transition: %s\n", t->text);
    return RC_HOOK_CONTINUE;
}

static void run(platform *p)
{
    rcb_result *r = p->r;
    uint64_t max = p->o->max_insns ? p->o->max_insns : RCB_DEFAULT_MAX_INSNS;
    for (;;) {
        rc_exit ex;
        memset(&ex, 0, sizeof ex);
        if (r->icount >= max) {
            r->end = RCB_END_LIMIT;
            where(p);
            say(r, "%" PRIu64 " instructions executed and the guest has not ended the run", max);
            return;
        }
        rc_status st = rc_run(p->cpu, max - r->icount, &ex);
        r->icount += ex.icount;
        where(p);
        if (st != RC_OK) {
            r->end = RCB_END_STOPPED;
            say(r, "rc_run failed: %s", rc_strerror(st));
            return;
        }
        int go;
        uint32_t in = 0;
        switch (ex.reason) {
        case RC_EXIT_IO:
            go = ex.u.io.is_write ? port_out(p, ex.u.io.port, ex.u.io.size, ex.u.io.value)
                                  : port_in(p, ex.u.io.port, ex.u.io.size, &in);
            if (go == 1)
                return;
            if (go < 0) {
                r->end = RCB_END_STOPPED;
                return;
            }
            rc_complete_io(p->cpu, in);
            break;
        case RC_EXIT_HLT:
            r->end = RCB_END_HALTED;
            say(r, "HLT: no interrupt can wake the CPU on this platform");
            return;
        case RC_EXIT_SHUTDOWN:
            r->end = RCB_END_SHUTDOWN;
            say(r, "triple fault (shutdown)");
            return;
        case RC_EXIT_LIMIT:
            break; /* the loop's own check ends it */
        case RC_EXIT_UNSUPPORTED: {
            char bytes[3 * 15 + 1] = "";
            for (unsigned i = 0; i < ex.u.unsupported.len && i < 15; i++)
                snprintf(bytes + 3 * i, 4, "%s%02x", i ? " " : "", ex.u.unsupported.bytes[i]);
            r->end = RCB_END_STOPPED;
            say(r, "unsupported: %s (bytes %s at linear 0x%" PRIx64 ")", ex.u.unsupported.what,
                bytes, ex.u.unsupported.rip);
            return;
        }
        case RC_EXIT_MMIO:
            r->end = RCB_END_STOPPED;
            say(r, "%s of %u bytes at physical 0x%" PRIx64 ": no RAM or device there",
                ex.u.mmio.is_write ? "a write" : "a read", ex.u.mmio.size, ex.u.mmio.gpa);
            return;
        default:
            r->end = RCB_END_STOPPED;
            say(r, "rc_run ended with '%s', which this platform does not expect",
                rc_exit_reason_name(ex.reason));
            return;
        }
    }
}

int rcb_boot(const char *path, const rcb_options *o, rcb_result *r)
{
    memset(r, 0, sizeof *r);
    r->end = RCB_END_ERROR;
    platform p = { .o = o, .r = r };
    if (read_image(path, &p))
        return -1;
    rc_config cfg = RC_CONFIG_INIT;
    cfg.vendor = o->vendor;
    if (rc_create(&cfg, &p.cpu) != RC_OK) {
        say(r, "rc_create failed");
        free(p.disk);
        return -1;
    }
    int rc = -1;
    if (setup_machine(&p) == 0) {
        rc_hooks h = { .opaque = &p, .transition_after = on_transition };
        if (o->transitions)
            rc_set_hooks(p.cpu, &h);
        run(&p);
        rc = 0;
    }
    if (o->e9)
        fflush(o->e9);
    rc_destroy(p.cpu);
    free(p.disk);
    return rc;
}

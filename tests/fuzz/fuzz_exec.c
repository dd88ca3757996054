/*
 * fuzz_exec.c - libFuzzer target: random bytes become a machine state and
 * guest memory; ringcore decodes and executes from there.
 *
 * Everything the guest controls is random: code, descriptor tables, page
 * tables, TSS, MSR-relevant values, segment caches, control registers. The
 * emulator must never crash, hang, leak or touch host memory outside guest
 * RAM (ASan/UBSan are on). Build and run: `make fuzz FUZZ_SECONDS=600`.
 *
 * Slow inputs are legitimate (a REP over unmapped memory takes the slow
 * path for every element); the budget per input is kept small.
 *
 * Input layout: 64 bytes of state, then up to 60 KiB of memory image
 * (repeated to fill 64 KiB of guest RAM at physical 0).
 */
#include <stdint.h>
#include <string.h>

#include "ringcore.h"

#define RAM_SIZE 0x10000u

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void set_seg(rc_cpu *cpu, rc_seg_reg r, const uint8_t *p)
{
    rc_segment s;
    memset(&s, 0, sizeof(s));
    s.selector = (uint16_t)(p[0] | (p[1] << 8));
    s.base = p[2] & 1 ? 0 : (uint64_t)(p[3] << 8);
    s.limit = p[2] & 2 ? 0xffffffffu : (uint32_t)(p[4] << 8 | 0xff);
    s.type = p[5] & 15;
    s.s = (p[5] >> 4) & 1;
    s.dpl = (p[5] >> 5) & 3;
    s.present = 1;
    s.db = (p[2] >> 2) & 1;
    s.l = (p[2] >> 3) & 1;
    s.g = (p[2] >> 4) & 1;
    s.unusable = (p[2] >> 5) == 7;
    rc_set_seg(cpu, r, &s);
}

static uint32_t pio_in(void *o, uint16_t port, unsigned size)
{
    (void)o;
    return (uint32_t)(port * 0x01010101u) & (size == 4 ? ~0u : (1u << (size * 8)) - 1);
}
static void pio_out(void *o, uint16_t port, unsigned size, uint32_t v)
{
    (void)o, (void)port, (void)size, (void)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 72)
        return 0;
    const uint8_t *st = data;
    const uint8_t *img = data + 64;
    size_t img_len = size - 64;

    rc_config cfg = RC_CONFIG_INIT;
    cfg.vendor = (st[0] & 1) ? RC_VENDOR_AMD : RC_VENDOR_INTEL;
    rc_cpu *cpu;
    if (rc_create(&cfg, &cpu) != RC_OK)
        return 0;
    if (rc_map_ram(cpu, 0, RAM_SIZE, NULL, 0) != RC_OK) {
        rc_destroy(cpu);
        return 0;
    }
    uint8_t *ram = rc_ram_ptr(cpu, 0, RAM_SIZE);
    if (ram)
        for (size_t off = 0; off < RAM_SIZE; off += img_len)
            memcpy(ram + off, img, RAM_SIZE - off < img_len ? RAM_SIZE - off : img_len);
    if (st[0] & 2)
        rc_set_port_io(cpu, pio_in, pio_out, NULL);

    /* Mode: real, prot16/32, long/compat with 4-level paging at CR3. */
    unsigned mode = (st[0] >> 2) & 3;
    uint64_t cr0 = 0x10, cr4 = 0, efer = 0;
    if (mode >= 1)
        cr0 |= 1; /* PE */
    if (mode == 2 && (st[0] & 0x10))
        cr0 |= 0x80000000ull, cr4 |= (st[1] & 0x30); /* 32-bit or PAE paging, PSE */
    if (mode == 3)
        cr0 |= 0x80000001ull, cr4 |= 0x20, efer |= 0x500 | (st[1] & 0x801);
    cr0 |= (uint64_t)(st[1] & 0x0f) << 16; /* WP, AM sometimes */
    rc_set_reg(cpu, RC_REG_CR0, cr0);
    rc_set_reg(cpu, RC_REG_CR4, cr4);
    rc_set_reg(cpu, RC_REG_EFER, efer);
    rc_set_reg(cpu, RC_REG_CR3, (uint64_t)(st[2] & 0x0f) << 12);
    rc_set_reg(cpu, RC_REG_CPL, st[3] & 3);

    for (int r = 0; r < 16; r++)
        rc_set_reg(cpu, (rc_reg)r, (uint64_t)st[4 + r] * 0x0101010101010101ull >> (st[20] & 63));
    rc_set_reg(cpu, RC_REG_RSP, 0x8000 + (st[21] << 4));
    rc_set_reg(cpu, RC_REG_RIP, (uint64_t)(st[22] << 8 | st[23]) & 0xfff0);
    rc_set_reg(cpu, RC_REG_RFLAGS, 2 | (rd64(st + 24) & 0x3f0cd5));
    for (int r = 0; r < RC_SEG_COUNT; r++)
        set_seg(cpu, (rc_seg_reg)r, st + 32 + (r % 5) * 6);
    rc_dtable gdt = { (uint64_t)st[62] << 8, (uint16_t)(0xff | st[63] << 8) };
    rc_dtable idt = { (uint64_t)st[61] << 8, 0x1ff };
    rc_set_gdtr(cpu, &gdt);
    rc_set_idtr(cpu, &idt);
    rc_set_intercept(cpu, (st[0] & 0x20) ? 0xffffffffu : 0);
    /* The fast system calls' MSRs (SYSCALL/SYSRET, SYSENTER/SYSEXIT), from
     * the state bytes; a value the model refuses is simply not set. */
    rc_set_msr(cpu, 0xc0000081u, rd64(st + 40));                      /* STAR */
    rc_set_msr(cpu, 0xc0000082u, (rd64(st + 48) & 0xfff0) | (st[58] & 1 ? 1ull << 47 : 0));
    rc_set_msr(cpu, 0xc0000083u, rd64(st + 48) & 0xfff0);              /* CSTAR */
    rc_set_msr(cpu, 0xc0000084u, rd64(st + 24) & 0xffffffffu);         /* SFMASK */
    rc_set_msr(cpu, 0x174u, st[60]);                                   /* SYSENTER_CS */
    rc_set_msr(cpu, 0x175u, 0x8000u + st[57]);                         /* SYSENTER_ESP */
    rc_set_msr(cpu, 0x176u, (uint64_t)st[59] << 4);                    /* SYSENTER_EIP */
    rc_set_msr(cpu, 0xc0000102u, (uint64_t)st[56] << 12);              /* KERNEL_GS_BASE */

    /* Run; resume after I/O exits and intercepted exceptions a few times. */
    for (int round = 0; round < 4; round++) {
        rc_exit ex;
        if (rc_run(cpu, 500, &ex) != RC_OK) /* REP runs up to 4096 iterations a step */
            break;
        if (ex.reason == RC_EXIT_IO || ex.reason == RC_EXIT_MMIO)
            rc_complete_io(cpu, 0x1234);
        else if (ex.reason == RC_EXIT_EXCEPTION)
            rc_inject_exception(cpu, ex.u.exception.vector, ex.u.exception.has_error_code,
                                ex.u.exception.error_code, ex.u.exception.cr2);
        else
            break;
    }
    /* Snapshots of whatever state resulted must round-trip. */
    size_t len = 0;
    rc_save(cpu, NULL, &len);
    if (len && len < 65536) {
        uint8_t buf[65536];
        size_t l2 = sizeof(buf);
        if (rc_save(cpu, buf, &l2) == RC_OK && rc_load(cpu, buf, l2) != RC_OK)
            __builtin_trap(); /* a snapshot ringcore wrote must load */
    }
    rc_destroy(cpu);
    return 0;
}

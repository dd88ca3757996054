/* tests/kernel/kernel.c: the test kernel's 64-bit part (freestanding; built
 * with -ffreestanding -nostdlib -mgeneral-regs-only -mno-red-zone, see
 * CMakeLists.txt). entry.asm calls kernel_main() in 64-bit mode with the
 * copy of the header sector; the kernel logs what it finds on port 0xE9 and
 * ends the run through the exit ports (tests/kernel/README.md, "The 0xE9 log").
 *
 * Section numbers are the current SDM's (Vol. 3A chapter 7 "Interrupt and
 * Exception Handling", chapter 6 in older editions such as 253668-060). */

#include <stddef.h>
#include <stdint.h>

#include "../../tools/lib/kimage.h"

/* ---------------------------------------------------------------- layout
 * The header sector (layout.inc H_*; tests/support/kernel_disk.h). */
struct rck_header {
    char magic[8];            /* "RCKDISK1" */
    uint32_t version;         /* 1 */
    uint32_t kernel_lba;
    uint32_t kernel_sectors;
    uint32_t kernel_load;
    uint32_t kernel_entry;
    uint32_t payload_lba;
    uint32_t payload_bytes;
    uint32_t payload_load;
    uint32_t payload_crc32;   /* CRC-32 (IEEE 802.3) of the payload */
    uint32_t flags;           /* RCK_FLAG_* */
};
_Static_assert(offsetof(struct rck_header, version) == 0x08, "H_VERSION");
_Static_assert(offsetof(struct rck_header, kernel_lba) == 0x0c, "H_KERNEL_LBA");
_Static_assert(offsetof(struct rck_header, payload_lba) == 0x1c, "H_PAYLOAD_LBA");
_Static_assert(offsetof(struct rck_header, payload_crc32) == 0x28, "H_PAYLOAD_CRC32");
_Static_assert(offsetof(struct rck_header, flags) == 0x2c, "H_FLAGS");

enum {
    HEADER_VERSION = 1,
    RCK_FLAG_TEST_UD2 = 1,
    PAYLOAD_LOAD = 0x2000000,      /* layout.inc */
    RAM_BYTES = 0x4000000,
    PORT_E9 = 0xe9,
    PORT_EXIT = 0xf4,
    PORT_BOCHS_SHUTDOWN = 0x8900,
    EXIT_OK = 0,
    EXIT_EXCEPTION = 2,
    EXIT_BAD_PAYLOAD = 3,
    EXIT_NO_LONG_MODE = 5,
};

/* SDM Vol. 3A 2.2.1 Table 2-1: IA32_EFER (MSR C000_0080H), bit 10 = LMA. */
#define MSR_EFER 0xc0000080u
#define EFER_LMA (1ull << 10)

/* Symbols of entry.asm. */
extern void enter_ia32e(void) __attribute__((noreturn));
extern void enter_legacy(void) __attribute__((noreturn));
extern const uint64_t isr_table[32];
extern void test_ud2(void);
#define KSEL_CODE64 0x18

/* ---------------------------------------------------------------- freestanding helpers */
/* GCC may emit calls to these even with -ffreestanding. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* ---------------------------------------------------------------- the 0xE9 log */
static void put_char(char c)
{
    outb(PORT_E9, (uint8_t)c);
}

static void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

static void put_hex(uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--)
        put_char(hex[(v >> (4 * i)) & 0xf]);
}

static void put_dec(uint64_t v)
{
    char buf[20];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_char(buf[--n]);
}

/* Every line starts with this prefix (the protocol in README.md). */
static void line_start(void)
{
    put_str("ringcore-kernel: ");
}

/* End the run: the exit line, then QEMU's isa-debug-exit (the process ends
 * with status (code << 1) | 1) and Bochs' shutdown port (the simulation ends
 * after the 8 bytes "Shutdown"); if neither exists, halt for good. */
static __attribute__((noreturn)) void kernel_exit(unsigned code)
{
    line_start();
    put_str("exit ");
    put_dec(code);
    put_char('\n');
    outb(PORT_EXIT, (uint8_t)code);
    for (const char *s = "Shutdown"; *s; s++)
        outb(PORT_BOCHS_SHUTDOWN, (uint8_t)*s);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---------------------------------------------------------------- IDT
 * SDM Vol. 3A 7.14.1 "64-Bit Mode IDT" (figure "64-Bit IDT Gate
 * Descriptors"): a 16-byte gate holds offset 15:0, the code selector, IST
 * (bits 2:0 of byte 4), type (bits 3:0 of byte 5; 0xE = 64-bit interrupt
 * gate), DPL (bits 6:5), P (bit 7), offset 31:16, offset 63:32 and 4
 * reserved bytes. */
struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

#define GATE_P 0x80
#define GATE_TYPE_INTERRUPT 0x0e
#define IDT_VECTORS 256

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

/* Vectors 0-31 (the exceptions) go to entry.asm's stubs at DPL 0; 32-255
 * stay not present (a stray INT n would raise #GP, which is reported). */
static void idt_init(void)
{
    for (int v = 0; v < 32; v++) {
        uint64_t off = isr_table[v];
        idt[v].offset_lo = (uint16_t)off;
        idt[v].selector = KSEL_CODE64;
        idt[v].ist = 0;
        idt[v].type_attr = GATE_P | GATE_TYPE_INTERRUPT;
        idt[v].offset_mid = (uint16_t)(off >> 16);
        idt[v].offset_hi = (uint32_t)(off >> 32);
        idt[v].reserved = 0;
    }
    /* SDM Vol. 2A LIDT: in 64-bit mode the operand is a 2-byte limit and an
     * 8-byte base. */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* The frame entry.asm's isr_common builds: the saved general registers, the
 * stub's vector and error code, then what the processor pushed (SDM Vol. 3A
 * 7.14.2 "64-Bit Mode Stack Frame"). */
struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

void kernel_exception(const struct exception_frame *f);

void kernel_exception(const struct exception_frame *f)
{
    line_start();
    put_str("exception vector=");
    put_dec(f->vector);
    put_str(" error=0x");
    put_hex(f->error, 4);
    put_str(" cs=0x");
    put_hex(f->cs, 4);
    put_str(" rip=");
    if (f->rip == (uint64_t)(uintptr_t)test_ud2) {
        put_str("test_ud2");
    } else {
        put_str("0x");
        put_hex(f->rip, 16);
    }
    put_char('\n');
    kernel_exit(EXIT_EXCEPTION);
}

/* ---------------------------------------------------------------- payload check
 * CRC-32 as in IEEE 802.3 / zlib: reflected polynomial 0xEDB88320, initial
 * value and final XOR 0xFFFFFFFF (check value of "123456789": 0xCBF43926). */
static uint32_t crc_table[256];

static void crc32_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(const uint8_t *p, uint64_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void check_payload(const struct rck_header *h)
{
    if (h->payload_load != PAYLOAD_LOAD || h->payload_bytes > RAM_BYTES - PAYLOAD_LOAD) {
        line_start();
        put_str("error payload outside RAM load=0x");
        put_hex(h->payload_load, 8);
        put_str(" bytes=");
        put_dec(h->payload_bytes);
        put_char('\n');
        kernel_exit(EXIT_BAD_PAYLOAD);
    }
    crc32_init();
    uint32_t crc = crc32((const uint8_t *)(uintptr_t)h->payload_load, h->payload_bytes);
    line_start();
    put_str("payload bytes=");
    put_dec(h->payload_bytes);
    put_str(" crc32=");
    put_hex(crc, 8);
    put_char('\n');
    if (crc != h->payload_crc32) {
        line_start();
        put_str("error payload crc32 differs from the header's ");
        put_hex(h->payload_crc32, 8);
        put_char('\n');
        kernel_exit(EXIT_BAD_PAYLOAD);
    }
}

/* ---------------------------------------------------------------- the vector
 * tests/kernel/README.md "The vector payload" and "Entering the vector".
 * The payload (at 32 MiB) is an rck_vstate followed by page records; the
 * state is copied into vstate, which entry.asm reads by absolute address. */
rck_vstate vstate __attribute__((aligned(16)));

/* layout.inc's VS_* offsets. */
_Static_assert(offsetof(rck_vstate, mode) == 0x010, "VS_MODE");
_Static_assert(offsetof(rck_vstate, flags) == 0x028, "VS_FLAGS");
_Static_assert(offsetof(rck_vstate, gpr) == 0x030, "VS_GPR");
_Static_assert(offsetof(rck_vstate, rip) == 0x0b0, "VS_RIP");
_Static_assert(offsetof(rck_vstate, rflags) == 0x0b8, "VS_RFLAGS");
_Static_assert(offsetof(rck_vstate, cr0) == 0x0c0, "VS_CR0");
_Static_assert(offsetof(rck_vstate, cr2) == 0x0c8, "VS_CR2");
_Static_assert(offsetof(rck_vstate, cr3) == 0x0d0, "VS_CR3");
_Static_assert(offsetof(rck_vstate, cr4) == 0x0d8, "VS_CR4");
_Static_assert(offsetof(rck_vstate, efer) == 0x0e0, "VS_EFER");
_Static_assert(offsetof(rck_vstate, seg) == 0x0e8, "VS_SEG");
_Static_assert(offsetof(rck_vstate, ldtr) == 0x118, "VS_LDTR");
_Static_assert(offsetof(rck_vstate, tr) == 0x120, "VS_TR");
_Static_assert(offsetof(rck_vstate, gdtr_limit) == 0x128, "VS_GDTR");
_Static_assert(offsetof(rck_vstate, gdtr_base) == 0x130, "VS_GDTR_BASE");
_Static_assert(offsetof(rck_vstate, idtr_limit) == 0x138, "VS_IDTR");
_Static_assert(offsetof(rck_vstate, far_ptr) == 0x158, "VS_FAR");
_Static_assert(sizeof(rck_vstate) == 0x280, "rck_vstate");

/* The kernel's page table for its window under a vector's 32-bit paging
 * (the vector's PDE 7 points here). */
static uint32_t legacy_pt[1024] __attribute__((aligned(4096)));

#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define KERNEL_WINDOW 0x1c00000ull      /* 28 MiB: layout.inc KERNEL_LOAD */
#define WINDOW_PAGES 512u               /* 2 MiB (KERNEL_LIMIT - KERNEL_LOAD) in 4-KByte pages */
#define VGA_BIOS_LO 0xa0000ull          /* the PC's VGA window and BIOS area: not RAM */
#define VGA_BIOS_HI 0x100000ull
#define PTE_P 1u
#define PTE_RW 2u
#define PTE_PS 0x80u                    /* SDM Vol. 3A 4.5: a PDE mapping a 2-MByte page */
#define PAGE_2M 0x200000ull
#define ADDR_MASK 0x000ffffffffff000ull
#define PIC1_DATA 0x21                  /* 8259A OCW1 (interrupt mask) ports */
#define PIC2_DATA 0xa1

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void vector_error(const char *what)
{
    line_start();
    put_str("error vector ");
    put_str(what);
    put_char('\n');
    kernel_exit(EXIT_BAD_PAYLOAD);
}

/* Physical memory below 64 MiB is identity-mapped by the kernel's tables. */
static void phys_zero(uint64_t pa, uint64_t len)
{
    uint64_t n = len / 8;
    __asm__ volatile("rep stosq" : "+D"(pa), "+c"(n) : "a"(0ull) : "memory");
}

static void phys_copy(uint64_t pa, const void *src, uint64_t len)
{
    uint64_t n = len / 8;
    __asm__ volatile("rep movsq" : "+D"(pa), "+S"(src), "+c"(n) : : "memory");
}

/* The vector's RAM: everything zero but the PC hole, then its pages. */
static void load_ram(const rck_vpage *pg, uint64_t npages)
{
    phys_zero(0, VGA_BIOS_LO);
    phys_zero(VGA_BIOS_HI, RCK_VEC_RAM - VGA_BIOS_HI);
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t a = pg[i].addr;
        if (a % RCK_VEC_PAGE || a >= RCK_VEC_RAM || (a >= VGA_BIOS_LO && a < VGA_BIOS_HI))
            vector_error("page outside the vector's RAM");
        phys_copy(a, pg[i].bytes, RCK_VEC_PAGE);
    }
}

/* The kernel's window (28..30 MiB) stays mapped under the vector's paging:
 * one entry that is zero in the vector's tables (the host checked) gets the
 * kernel's identity mapping; README.md "The kernel's window". */
static void map_kernel_ia32e(void)
{
    /* SDM Vol. 3A 4.5: PML4[0] -> PDPT[0] -> PD; PD[14] = the 2-MByte page
     * at 28 MiB (supervisor, writable). */
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(vstate.cr3 & ADDR_MASK);
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & ADDR_MASK);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[0] & ADDR_MASK);
    pd[KERNEL_WINDOW / PAGE_2M] = KERNEL_WINDOW | PTE_P | PTE_RW | PTE_PS;
}

static void map_kernel_legacy(void)
{
    /* SDM Vol. 3A 4.3: 32-bit paging; PDE 7 covers 28..32 MiB and points at
     * the kernel's page table, whose first 512 PTEs map 28..30 MiB. */
    uint32_t *pd = (uint32_t *)(uintptr_t)(vstate.cr3 & 0xfffff000u);
    for (unsigned k = 0; k < 1024; k++)
        legacy_pt[k] = k < WINDOW_PAGES ? (uint32_t)(KERNEL_WINDOW + k * 4096ull) | PTE_P | PTE_RW
                                        : 0;
    pd[KERNEL_WINDOW >> 22] = (uint32_t)(uintptr_t)legacy_pt | PTE_P | PTE_RW;
}

static void write_msrs(void)
{
    for (uint64_t i = 0; i < vstate.nmsrs; i++)
        wrmsr((uint32_t)vstate.msrs[i].index, vstate.msrs[i].value);
}

/* IA-32e vectors: everything from C, in an order the SDM allows while in
 * 64-bit mode, the fallible steps first (a fault here reaches the kernel's
 * IDT and is reported). entry.asm's enter_ia32e does the IRETQ. */
static __attribute__((noreturn)) void enter_vector_ia32e(void)
{
    map_kernel_ia32e();
    /* SDM Vol. 3A 4.10.4.1: MOV to CR3 flushes the (non-global) TLB entries.
     * The vector's tables now map both the vector's world and this code. */
    __asm__ volatile("mov %0, %%cr3" : : "r"(vstate.cr3) : "memory");
    /* CR4.PAE and EFER.LME stay 1 in IA-32e mode (SDM Vol. 3A 10.8.5: clearing
     * either would #GP; the host refused vectors without them). */
    __asm__ volatile("mov %0, %%cr4" : : "r"(vstate.cr4) : "memory");
    wrmsr(MSR_EFER, vstate.efer); /* LMA is read-only (SDM Vol. 3A 2.2.1) */
    write_msrs();
    __asm__ volatile("mov %0, %%cr0" : : "r"(vstate.cr0) : "memory");
    __asm__ volatile("mov %0, %%cr2" : : "r"(vstate.cr2) : "memory");
    /* SDM Vol. 2A LGDT/LIDT: 64-bit mode reads a 2-byte limit and an 8-byte
     * base. The kernel's CS and SS keep their cached descriptors. */
    __asm__ volatile("lgdt %0" : : "m"(*((const char *)&vstate.gdtr_limit + 6)) : "memory");
    uint16_t ldtr = vstate.flags & RCK_VF_LOAD_LDTR ? (uint16_t)vstate.ldtr : 0;
    __asm__ volatile("lldt %0" : : "r"(ldtr));
    if (vstate.flags & RCK_VF_LOAD_TR) {
        /* SDM Vol. 2A LTR: the descriptor must be an available TSS; LTR marks
         * it busy. The type byte is written back as the image had it. */
        volatile uint8_t *type = (volatile uint8_t *)(uintptr_t)(vstate.gdtr_base +
                                                                  (vstate.tr & ~7ull) + 5);
        uint8_t orig = *type;
        *type = orig & (uint8_t)~2u;
        __asm__ volatile("ltr %0" : : "r"((uint16_t)vstate.tr) : "memory");
        *type = orig;
    }
    /* SDM Vol. 2B MOV: data segment registers from the vector's GDT/LDT;
     * then the 64-bit FS/GS bases (SDM Vol. 3A 3.4.4: the MSRs hold the
     * hidden bases). */
    __asm__ volatile("mov %0, %%es" : : "r"((uint16_t)vstate.seg[0]));
    __asm__ volatile("mov %0, %%ds" : : "r"((uint16_t)vstate.seg[3]));
    __asm__ volatile("mov %0, %%fs" : : "r"((uint16_t)vstate.seg[4]));
    __asm__ volatile("mov %0, %%gs" : : "r"((uint16_t)vstate.seg[5]));
    wrmsr(MSR_FS_BASE, vstate.fs_base);
    wrmsr(MSR_GS_BASE, vstate.gs_base);
    __asm__ volatile("lidt %0" : : "m"(*((const char *)&vstate.idtr_limit + 6)) : "memory");
    line_start();
    put_str("enter\n");
    enter_ia32e();
}

static __attribute__((noreturn)) void enter_vector_legacy(void)
{
    if (vstate.flags & RCK_VF_PAGING)
        map_kernel_legacy();
    write_msrs();
    /* The far pointer of the CPL-0 entry: m16:32, EIP then CS. */
    vstate.far_ptr = (uint32_t)vstate.rip | (vstate.seg[1] & 0xffff) << 32;
    enter_legacy();
}

static void run_vector(const struct rck_header *h)
{
    const rck_vstate *st = (const rck_vstate *)(uintptr_t)h->payload_load;
    if (h->payload_bytes < sizeof *st || memcmp(st->magic, RCK_VEC_MAGIC, 8))
        return; /* not a vector payload */
    if (st->version != RCK_VEC_VERSION || st->mode < RCK_VMODE_PROT32 ||
        st->mode > RCK_VMODE_REAL || st->nmsrs > RCK_VEC_MAX_MSRS ||
        st->npages > RCK_VEC_RAM / RCK_VEC_PAGE ||
        sizeof *st + st->npages * sizeof(rck_vpage) > h->payload_bytes)
        vector_error("header");
    memcpy(&vstate, st, sizeof vstate);
    line_start();
    put_str("vector mode=");
    put_str(st->mode == RCK_VMODE_LONG     ? "long"
            : st->mode == RCK_VMODE_COMPAT ? "compat"
            : st->mode == RCK_VMODE_PROT16 ? "prot16"
            : st->mode == RCK_VMODE_REAL   ? "real"
                                           : "prot32");
    put_str(" cpl=");
    put_dec(st->cpl);
    put_str(" pages=");
    put_dec(st->npages);
    put_char('\n');
    /* No external interrupt may reach the vector: mask every IRQ at both
     * 8259A PICs (OCW1; the BIOS left them on, the timer running). */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    load_ram((const rck_vpage *)(st + 1), st->npages);
    /* prot16 enters as prot32 does: IRETD / the far JMP load the vector's
     * 16-bit CS, which makes the mode (SDM Vol. 3A 3.4.5, the D flag); real
     * mode leaves protected mode on the same path (entry.asm enter_real). */
    if (vstate.mode != RCK_VMODE_LONG && vstate.mode != RCK_VMODE_COMPAT)
        enter_vector_legacy();
    enter_vector_ia32e();
}

/* ---------------------------------------------------------------- main */
static void log_vendor(void)
{
    uint32_t r[4];
    char vendor[13];
    cpuid(0, r);
    /* SDM Vol. 2A CPUID leaf 0: the vendor string is EBX, EDX, ECX. */
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    line_start();
    put_str("cpu vendor ");
    put_str(vendor);
    put_char('\n');
}

void kernel_main(const struct rck_header *h);

void kernel_main(const struct rck_header *h)
{
    /* SDM Vol. 3A 10.8.5 step 5: CR0.PG = 1 with LME = 1 sets EFER.LMA. */
    if (!(rdmsr(MSR_EFER) & EFER_LMA)) {
        line_start();
        put_str("error EFER.LMA is clear in 64-bit code\n");
        kernel_exit(EXIT_NO_LONG_MODE);
    }
    line_start();
    put_str("long mode\n");
    idt_init();
    if (h->version != HEADER_VERSION) {
        line_start();
        put_str("error header version ");
        put_dec(h->version);
        put_char('\n');
        kernel_exit(EXIT_BAD_PAYLOAD);
    }
    log_vendor();
    check_payload(h);
    run_vector(h); /* returns only when the payload is not a vector */
    if (h->flags & RCK_FLAG_TEST_UD2)
        test_ud2();
    kernel_exit(EXIT_OK);
}

/*
 * native.c - the native judge: one case at ring 3 of this host's CPU, in a
 * forked child, the outcome read back from the signal's ucontext.
 *
 * The child, in order: unblocks every signal; maps the case's regions at
 * their fixed addresses (MAP_FIXED_NOREPLACE: a clash is an error, never a
 * silent overwrite of the runner); writes the code and the INT3 end marker;
 * writes every page and applies the final protections (so every readable
 * page has a present PTE and a #PF error code's P bit is deterministic);
 * installs the LDT entries (modify_ldt) and I/O permissions (ioperm); puts
 * a handler for every fault signal on an alternate stack; arms an interval
 * timer; installs a seccomp filter that lets through exactly one system call
 * (exit, from the handler's own stub) and traps every other; and enters the
 * case through a trampoline that loads DS/ES/FS/GS and the general registers
 * and executes IRETQ (RIP, CS, RFLAGS, RSP, SS at once).
 *
 * The handler copies siginfo, the ucontext register file, the live data
 * selectors and FS/GS bases and the readable regions into a page shared
 * with the parent, then exits through the stub. The parent reaps the child
 * (pidfd + poll, SIGKILL after the deadline) and builds the result.
 *
 * docs/native.md: what is the CPU's and what the kernel's in the record.
 */
#define _GNU_SOURCE
#include "native.h"

#include <asm/ldt.h>
#include <capstone/capstone.h>
#include <cpuid.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE 4096ull
#define END_MARKER 0xCC              /* INT3: #BP, a trap (SDM Vol. 3A 6.15 "Interrupt 3") */
#define ALT_STACK_SIZE (64u * 1024u)
#define HWCAP2_FSGSBASE_BIT (1u << 1) /* Linux arch/x86/include/uapi/asm/hwcap2.h */
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)
#define RFLAGS_FIXED1 (1ull << 1)
/* Linux TASK_SIZE_MAX with 4-level paging: the highest user page ends here. */
#define LINUX_TASK_SIZE_MAX 0x00007ffffffff000ull
#define VSYSCALL_PAGE 0xffffffffff600000ull
#define TRAP_PF 14
#define TRAP_BP 3

/* Exit codes of a child that could not set the case up (before seccomp). */
#define CHILD_SETUP_FAILED 111

/* ------------------------------------------------------------------ shared page */

typedef enum shared_state {
    SH_NONE = 0,       /* nothing reported */
    SH_SETUP_ERROR,    /* msg holds the reason; the case never ran */
    SH_SIGNAL,         /* the handler reported a signal */
    SH_REFUSED,        /* msg: this host cannot judge the case (e.g. no ioperm) */
} shared_state;

typedef struct nat_shared {
    volatile int state;
    char msg[200];
    int signo, si_code, sig_syscall;
    uint64_t sig_addr;
    uint64_t gregs[NGREG];
    uint16_t ds, es, fs, gs;
    uint64_t fs_base, gs_base;
    bool have_fsgsbase;
    /* readable regions, in case order, copied by the handler */
    unsigned ncopy;
    uint64_t copy_addr[RC_NATIVE_MAX_REGIONS];
    size_t copy_len[RC_NATIVE_MAX_REGIONS];
    size_t copy_off[RC_NATIVE_MAX_REGIONS];
    uint8_t mem[];
} nat_shared;

/* The launch block the trampoline consumes (offsets fixed by the asm below). */
typedef struct launch_block {
    uint64_t ds, es, fs, gs;  /* 0, 8, 16, 24 */
    uint64_t base_flags;      /* 32: bit 0 WRFSBASE, bit 1 WRGSBASE */
    uint64_t fs_base;         /* 40 */
    uint64_t gs_base;         /* 48 */
    uint64_t pops[15];        /* 56: rax rcx rdx rbx rbp rsi rdi r8..r15 */
    uint64_t iret[5];         /* RIP, CS, RFLAGS, RSP, SS (SDM Vol. 2A IRET, 64-bit frame) */
} launch_block;

_Static_assert(offsetof(launch_block, base_flags) == 32, "launch layout");
_Static_assert(offsetof(launch_block, pops) == 56, "launch layout");
_Static_assert(offsetof(launch_block, iret) == 56 + 15 * 8, "launch layout");

/*
 * The trampoline (64-bit code, CS = 0x33). rdi = launch block. It never
 * returns: IRETQ enters the case. A fault between rcn_enter and
 * rcn_enter_end is a setup fault (a bad selector, an IRET check).
 * MOV Sreg (SDM Vol. 2B "MOV—Move to/from Segment Registers"), WRFSBASE,
 * IRET (SDM Vol. 2A: in IA-32e mode IRETQ pops SS:RSP even without a
 * privilege change).
 */
__asm__(".text\n"
        ".globl rcn_enter\n"
        ".type rcn_enter,@function\n"
        "rcn_enter:\n"
        "  mov %rdi, %rsp\n"
        "  movw 0(%rsp), %ds\n"
        "  movw 8(%rsp), %es\n"
        "  movw 16(%rsp), %fs\n"
        "  movw 24(%rsp), %gs\n"
        "  testq $1, 32(%rsp)\n"
        "  jz 1f\n"
        "  movq 40(%rsp), %rax\n"
        "  wrfsbase %rax\n"
        "1:\n"
        "  testq $2, 32(%rsp)\n"
        "  jz 2f\n"
        "  movq 48(%rsp), %rax\n"
        "  wrgsbase %rax\n"
        "2:\n"
        "  lea 56(%rsp), %rsp\n"
        "  pop %rax\n  pop %rcx\n  pop %rdx\n  pop %rbx\n  pop %rbp\n"
        "  pop %rsi\n  pop %rdi\n  pop %r8\n  pop %r9\n  pop %r10\n"
        "  pop %r11\n  pop %r12\n  pop %r13\n  pop %r14\n  pop %r15\n"
        "  iretq\n"
        ".globl rcn_enter_end\n"
        "rcn_enter_end:\n"
        "  ud2\n"
        /* exit(status in edi): the one system call the seccomp filter allows,
         * recognised by the address after its SYSCALL instruction. */
        ".globl rcn_exit\n"
        ".type rcn_exit,@function\n"
        "rcn_exit:\n"
        "  mov $60, %eax\n"
        "  syscall\n"
        ".globl rcn_exit_after\n"
        "rcn_exit_after:\n"
        "  ud2\n");

/* Neither returns. They are not declared noreturn on purpose: a sanitizer
 * instruments calls to noreturn functions with a runtime hook that makes
 * system calls, which the seccomp filter would trap. */
void rcn_enter(launch_block *b);
extern const char rcn_enter_end[];
void rcn_exit(int status);
extern const char rcn_exit_after[];

/* The child's one piece of process-wide state: where the handler reports.
 * Set after fork, in the child only; the parent never reads it. */
static nat_shared *child_shared;

/* ------------------------------------------------------------------ the handler */

#define HANDLER_ATTRS                                                                              \
    __attribute__((no_stack_protector, no_sanitize_address, no_sanitize("undefined")))

/* Runs on the alternate stack with whatever FS/GS the case left: it must not
 * touch TLS (no errno, no stack protector, no libc except plain copies). */
HANDLER_ATTRS static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    /* The case may have left AC set; the handler's own accesses must not
     * raise #AC (SDM Vol. 3A 6.15 "Interrupt 17"). POPF can clear AC at CPL 3. */
    __asm__ volatile("pushfq\n andq $~0x40000, (%%rsp)\n popfq" ::: "memory", "cc");
    nat_shared *sh = child_shared;
    const ucontext_t *uc = ctx;
    sh->signo = sig;
    sh->si_code = si->si_code;
    sh->sig_addr = (uint64_t)(uintptr_t)si->si_addr;
    sh->sig_syscall = sig == SIGSYS ? si->si_syscall : -1;
    for (unsigned i = 0; i < NGREG; i++)
        sh->gregs[i] = (uint64_t)uc->uc_mcontext.gregs[i];
    uint16_t s;
    __asm__ volatile("mov %%ds, %0" : "=r"(s));
    sh->ds = s;
    __asm__ volatile("mov %%es, %0" : "=r"(s));
    sh->es = s;
    __asm__ volatile("mov %%fs, %0" : "=r"(s));
    sh->fs = s;
    __asm__ volatile("mov %%gs, %0" : "=r"(s));
    sh->gs = s;
    if (sh->have_fsgsbase) {
        uint64_t b;
        __asm__ volatile("rdfsbase %0" : "=r"(b));
        sh->fs_base = b;
        __asm__ volatile("rdgsbase %0" : "=r"(b));
        sh->gs_base = b;
    }
    for (unsigned i = 0; i < sh->ncopy; i++) {
        const volatile uint8_t *src = (const uint8_t *)(uintptr_t)sh->copy_addr[i];
        uint8_t *dst = sh->mem + sh->copy_off[i];
        for (size_t k = 0; k < sh->copy_len[i]; k++)
            dst[k] = src[k];
    }
    sh->state = SH_SIGNAL;
    rcn_exit(0);
    __builtin_unreachable();
}

/* ------------------------------------------------------------------ helpers */

const char *rc_native_mode_name(rc_native_mode m)
{
    static const char *const names[RC_NATIVE_MODE_COUNT] = { "long64", "compat32", "prot16",
                                                              "prot32" };
    return (unsigned)m < RC_NATIVE_MODE_COUNT ? names[m] : "?";
}

void rc_native_case_init(rc_native_case *c, rc_native_mode mode)
{
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->cs = mode == RC_NATIVE_LONG64 ? RC_NATIVE_USER_CS : RC_NATIVE_USER32_CS;
    c->ss = c->ds = c->es = RC_NATIVE_USER_DS;
    c->rflags = RFLAGS_FIXED1 | RFLAGS_IF;
    c->timeout_ms = 1000;
}

bool rc_native_add_region(rc_native_case *c, uint64_t addr, size_t len, const uint8_t *bytes,
                          size_t nbytes, int prot, uint8_t *out)
{
    if (c->nregions >= RC_NATIVE_MAX_REGIONS)
        return false;
    c->regions[c->nregions++] = (rc_native_region){ addr, len, bytes, nbytes, prot, out };
    return true;
}

bool rc_native_add_ldt(rc_native_case *c, const rc_native_ldt *e)
{
    if (c->nldt >= RC_NATIVE_MAX_LDT)
        return false;
    c->ldt[c->nldt++] = *e;
    return true;
}

const char *rc_native_cpu_name(void)
{
    static char name[64];
    if (name[0])
        return name;
    unsigned a, b, c, d;
    char vendor[13] = { 0 };
    __cpuid(0, a, b, c, d);
    memcpy(vendor, &b, 4), memcpy(vendor + 4, &d, 4), memcpy(vendor + 8, &c, 4);
    __cpuid(1, a, b, c, d);
    /* SDM Vol. 2A CPUID leaf 01H: DisplayFamily / DisplayModel */
    unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (fam == 0xf)
        fam += (a >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf)
        model |= ((a >> 16) & 0xf) << 4;
    snprintf(name, sizeof name, "%s-%u-%u", vendor, fam, model);
    return name;
}

__attribute__((format(printf, 3, 4))) static bool set_err(char *err, size_t errlen,
                                                         const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

static const rc_native_ldt *find_ldt(const rc_native_case *c, unsigned index)
{
    for (unsigned i = 0; i < c->nldt; i++)
        if (c->ldt[i].index == index)
            return &c->ldt[i];
    return NULL;
}

/* CS.base of the case's code selector: 0 for the GDT's flat 0x23/0x33, the
 * LDT entry's base for an LDT selector. */
static bool cs_base(const rc_native_case *c, uint64_t *base)
{
    if (!(c->cs & 4)) {
        *base = 0;
        return c->cs == RC_NATIVE_USER_CS || c->cs == RC_NATIVE_USER32_CS;
    }
    const rc_native_ldt *e = find_ldt(c, c->cs >> 3);
    if (!e)
        return false;
    *base = e->base;
    return true;
}

static const rc_native_region *region_containing(const rc_native_case *c, uint64_t a, size_t n)
{
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        if (a >= r->addr && a + n <= r->addr + r->len)
            return r;
    }
    return NULL;
}

/* Static checks of a case; false with 'err' when the case is malformed. */
static bool validate(const rc_native_case *c, char *err, size_t errlen)
{
    if ((unsigned)c->mode >= RC_NATIVE_MODE_COUNT)
        return set_err(err, errlen, "native: bad mode %u", (unsigned)c->mode);
    if (!c->code || c->code_len == 0 || c->code_len > RC_NATIVE_MAX_CODE)
        return set_err(err, errlen, "native: code length %zu out of range", c->code_len);
    if (c->nregions > RC_NATIVE_MAX_REGIONS || c->nldt > RC_NATIVE_MAX_LDT ||
        c->nio > RC_NATIVE_MAX_IOPERM)
        return set_err(err, errlen, "native: too many regions, LDT entries or ioperm ranges");
    size_t total = 0;
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        if ((r->addr & (PAGE - 1)) || r->len == 0 || (r->len & (PAGE - 1)) || r->nbytes > r->len ||
            r->addr + r->len < r->addr || r->addr + r->len > LINUX_TASK_SIZE_MAX)
            return set_err(err, errlen, "native: region %u (%#llx+%#zx) is not page-aligned user "
                           "memory", i, (unsigned long long)r->addr, r->len);
        for (unsigned j = 0; j < i; j++) {
            const rc_native_region *o = &c->regions[j];
            if (r->addr < o->addr + o->len && o->addr < r->addr + r->len)
                return set_err(err, errlen, "native: regions %u and %u overlap", j, i);
        }
        if (r->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
            return set_err(err, errlen, "native: region %u: bad protection %#x", i, r->prot);
        if (r->prot & PROT_READ)
            total += r->len;
    }
    if (total > RC_NATIVE_MAX_OUT)
        return set_err(err, errlen, "native: readable regions exceed %u bytes", RC_NATIVE_MAX_OUT);
    for (unsigned i = 0; i < c->nldt; i++)
        if (c->ldt[i].index >= LDT_ENTRIES)
            return set_err(err, errlen, "native: LDT index %u out of range", c->ldt[i].index);
    uint64_t base;
    if (!cs_base(c, &base))
        return set_err(err, errlen, "native: CS %#x is neither 0x23/0x33 nor an LDT entry of "
                       "the case", c->cs);
    if (c->mode >= RC_NATIVE_PROT16 && !(c->cs & 4))
        return set_err(err, errlen, "native: %s needs an LDT code selector (cs = %#x)",
                       rc_native_mode_name(c->mode), c->cs);
    if (c->code_addr < base)
        return set_err(err, errlen, "native: code_addr %#llx below CS.base %#llx",
                       (unsigned long long)c->code_addr, (unsigned long long)base);
    uint64_t end = c->code_addr + c->code_len + 1;
    if (end > LINUX_TASK_SIZE_MAX || (c->mode != RC_NATIVE_LONG64 && end > (1ull << 32)))
        return set_err(err, errlen, "native: code at %#llx is out of reach of %s",
                       (unsigned long long)c->code_addr, rc_native_mode_name(c->mode));
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        bool touches = c->code_addr < r->addr + r->len && r->addr < end;
        if (touches && region_containing(c, c->code_addr, c->code_len + 1) != r)
            return set_err(err, errlen, "native: the code and its end marker straddle region %u",
                           i);
    }
    return true;
}

/* ------------------------------------------------------------------ kernel-answered */

/* The I/O ports a case may be granted: ones whose access has no effect on
 * the machine (0x80: the POST diagnostic port, used by Linux itself as an
 * I/O delay; 0xed: the alternative delay port). Anything else is real
 * hardware (or the hypervisor's model of it). */
static bool port_harmless(unsigned port)
{
    return port == 0x80 || port == 0xed;
}

static bool lookup_kernel_answer(unsigned id, const cs_insn *in, const char **why)
{
    switch (id) {
    /* SDM Vol. 3A 2.5 CR4.UMIP: at CPL > 0 these #GP(0); Linux
     * (arch/x86/kernel/umip.c) emulates SGDT/SIDT/SMSW with dummy values and
     * lets SLDT/STR's #GP through: either way the OS's choice, not the CPU's */
    case X86_INS_SGDT:
        *why = "SGDT: CR4.UMIP = 1, the kernel emulates it with a dummy GDTR (umip.c)";
        return true;
    case X86_INS_SIDT:
        *why = "SIDT: CR4.UMIP = 1, the kernel emulates it with a dummy IDTR (umip.c)";
        return true;
    case X86_INS_SMSW:
        *why = "SMSW: CR4.UMIP = 1, the kernel emulates it with a dummy CR0 (umip.c)";
        return true;
    case X86_INS_SLDT:
        *why = "SLDT: CR4.UMIP = 1, the kernel emulates it (0, or 0x50 with an LDT; a register "
               "destination gets only 16/32 bits written) (umip.c)";
        return true;
    case X86_INS_STR:
        *why = "STR: CR4.UMIP = 1, the kernel emulates it with 0x40 (a register destination "
               "gets only 32 bits written) (umip.c)";
        return true;
    case X86_INS_SYSCALL:
        *why = "SYSCALL: a real Linux system call (never run natively)";
        return true;
    case X86_INS_SYSENTER:
        *why = "SYSENTER: AMD raises #UD in long mode, Intel enters the kernel (a real system "
               "call); the standard machine's SYSENTER MSRs are not the host's";
        return true;
    case X86_INS_INT:
        if (in->size >= 2 && in->bytes[in->size - 1] == 0x80) {
            *why = "INT 0x80: the Linux 32-bit system call gate (DPL 3): a real system call";
            return true;
        }
        return false;
    case X86_INS_CPUID:
        *why = "CPUID: answered by the hypervisor (a VM exit), filtered by the kernel";
        return true;
    case X86_INS_RDPMC:
        *why = "RDPMC: allowed at CPL 3 only if the kernel set CR4.PCE; counters are the host's";
        return true;
    default:
        return false;
    }
}

bool rc_native_kernel_answers(const uint8_t *code, size_t len, rc_native_mode mode,
                              const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    cs_mode m = mode == RC_NATIVE_LONG64 ? CS_MODE_64
                : mode == RC_NATIVE_PROT16 ? CS_MODE_16
                                           : CS_MODE_32;
    csh h;
    if (cs_open(CS_ARCH_X86, m, &h) != CS_ERR_OK) {
        *why = "cannot open Capstone to inspect the code";
        return true;
    }
    cs_insn *in = cs_malloc(h);
    bool hit = false;
    size_t off = 0;
    while (off < len && !hit) {
        const uint8_t *p = code + off;
        size_t left = len - off;
        uint64_t addr = off;
        if (cs_disasm_iter(h, &p, &left, &addr, in)) {
            hit = lookup_kernel_answer(in->id, in, why);
            off += in->size;
        }
        else {
            off++; /* not decodable here (#UD natively): continue the sweep */
        }
    }
    cs_free(in, 1);
    cs_close(&h);
    return hit;
}

/* Case-level reasons (not in the code bytes) why the kernel would answer. */
static bool case_kernel_answers(const rc_native_case *c, const char **why)
{
    if (rc_native_kernel_answers(c->code, c->code_len, c->mode, why))
        return true;
    if (c->rflags & RFLAGS_IOPL) {
        *why = "RFLAGS.IOPL > 0: Linux runs user code with IOPL 0 (iopl() is emulated with the "
               "I/O bitmap and CLI/STI fixups)";
        return true;
    }
    if (c->rflags & RFLAGS_VM) {
        *why = "RFLAGS.VM: virtual-8086 mode does not exist in long mode";
        return true;
    }
    for (unsigned i = 0; i < 16; i++)
        if ((c->gpr[i] & ~0xfffull) == VSYSCALL_PAGE) {
            *why = "a register points into the vsyscall page (the kernel emulates calls there)";
            return true;
        }
    for (unsigned i = 0; i < c->nio; i++)
        for (unsigned p = c->io[i].from; p < (unsigned)c->io[i].from + c->io[i].num; p++)
            if (!port_harmless(p)) {
                *why = "ioperm grants a port that is real hardware (only 0x80 and 0xed are "
                       "granted natively)";
                return true;
            }
    return false;
}

/* ------------------------------------------------------------------ the child */

static void child_fail(nat_shared *sh, const char *what, int e)
{
    snprintf(sh->msg, sizeof sh->msg, "%s: %s", what, strerror(e));
    sh->state = SH_SETUP_ERROR;
    _exit(CHILD_SETUP_FAILED);
}

static void child_map(const rc_native_case *c, nat_shared *sh, uint64_t addr, size_t len)
{
    void *want = (void *)(uintptr_t)addr;
    void *m = mmap(want, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
                   MAP_FIXED_NOREPLACE, -1, 0);
    if (m == MAP_FAILED || m != want) {
        snprintf(sh->msg, sizeof sh->msg, "mmap %#llx+%#zx: %s (address in use in the runner?)",
                 (unsigned long long)addr, len, m == MAP_FAILED ? strerror(errno) : "moved");
        sh->state = SH_SETUP_ERROR;
        _exit(CHILD_SETUP_FAILED);
    }
    (void)c;
}

static void child_memory(const rc_native_case *c, nat_shared *sh)
{
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        child_map(c, sh, r->addr, r->len);
        uint8_t *p = (uint8_t *)(uintptr_t)r->addr;
        memset(p, 0, r->len); /* every page written: present PTEs */
        if (r->bytes)
            memcpy(p, r->bytes, r->nbytes);
    }
    uint8_t *code = (uint8_t *)(uintptr_t)c->code_addr;
    const rc_native_region *home = region_containing(c, c->code_addr, c->code_len + 1);
    if (!home) {
        uint64_t lo = c->code_addr & ~(PAGE - 1);
        uint64_t hi = (c->code_addr + c->code_len + 1 + PAGE - 1) & ~(PAGE - 1);
        child_map(c, sh, lo, hi - lo);
        memset((void *)(uintptr_t)lo, 0, hi - lo);
        if (mprotect((void *)(uintptr_t)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC))
            child_fail(sh, "mprotect code", errno);
    }
    memcpy(code, c->code, c->code_len);
    code[c->code_len] = END_MARKER;
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        if (mprotect((void *)(uintptr_t)r->addr, r->len, r->prot))
            child_fail(sh, "mprotect region", errno);
    }
}

static void child_ldt(const rc_native_case *c, nat_shared *sh)
{
    for (unsigned i = 0; i < c->nldt; i++) {
        const rc_native_ldt *e = &c->ldt[i];
        struct user_desc d;
        memset(&d, 0, sizeof d);
        d.entry_number = e->index;
        d.base_addr = e->base;
        d.limit = e->limit;
        d.seg_32bit = e->seg_32bit;
        /* contents: 0 data, 1 expand-down data, 2 code, 3 conforming code */
        d.contents = (e->code ? 2u : 0u) | (e->expand_down ? 1u : 0u);
        d.read_exec_only = e->read_exec_only;
        d.limit_in_pages = e->limit_in_pages;
        d.seg_not_present = e->not_present;
        d.useable = e->useable;
        d.lm = e->lm;
        /* func 0x11: write an entry, "new mode" (AVL kept) - arch/x86/kernel/ldt.c */
        if (syscall(SYS_modify_ldt, 0x11, &d, sizeof d) != 0)
            child_fail(sh, "modify_ldt", errno);
    }
}

static void child_signals(const rc_native_case *c, nat_shared *sh)
{
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL))
        child_fail(sh, "sigprocmask", errno);
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGALRM };
    if (c->flags & RC_NATIVE_NO_HANDLER) {
        for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        return;
    }
    void *alt = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (alt == MAP_FAILED)
        child_fail(sh, "mmap alternate stack", errno);
    stack_t ss = { .ss_sp = alt, .ss_size = ALT_STACK_SIZE, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL))
        child_fail(sh, "sigaltstack", errno);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask); /* one report only */
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL))
            child_fail(sh, "sigaction", errno);
}

/* seccomp: allow exit only from rcn_exit (by the address after its SYSCALL,
 * seccomp_data.instruction_pointer), trap everything else with SIGSYS - the
 * system call is then not executed (Documentation/userspace-api/seccomp_filter.rst). */
static void child_seccomp(nat_shared *sh)
{
    uint64_t ip = (uint64_t)(uintptr_t)rcn_exit_after;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        child_fail(sh, "PR_SET_NO_NEW_PRIVS", errno);
    /* the raw system call: a sanitizer's prctl interceptor may itself make
     * system calls (sigaltstack) after the filter is in place */
    if (syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
        child_fail(sh, "seccomp", errno);
}

/*
 * Where the launch block goes. IRETQ to a 16-bit stack segment loads only
 * SP: RSP[63:16] keep the trampoline's own RSP bits (measured on this CPU;
 * the behaviour Linux's espfix64 exists for). So the block is placed at an
 * address whose bits 31:16 are the case's ESP[31:16]: a 4 GiB + 128 KiB
 * PROT_NONE reservation (address space only) holds every such address,
 * and one page of it around the chosen spot is made writable.
 */
static launch_block *child_launch_area(const rc_native_case *c, nat_shared *sh)
{
    const uint64_t span = (1ull << 32) + (2ull << 16);
    void *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (res == MAP_FAILED)
        child_fail(sh, "mmap launch area", errno);
    uint64_t lo = (uint64_t)(uintptr_t)res;
    uint64_t want = (c->gpr[4] >> 16) & 0xffff;
    /* the IRET frame at +0x8000 in the 64 KiB block: RSP stays inside it */
    uint64_t frame = (lo & ~0xffffffffull) | (want << 16) | 0x8000;
    while (frame < lo + PAGE)
        frame += 1ull << 32;
    uint64_t page = frame & ~(PAGE - 1);
    if (mprotect((void *)(uintptr_t)(page - PAGE), 2 * PAGE, PROT_READ | PROT_WRITE))
        child_fail(sh, "mprotect launch area", errno);
    return (launch_block *)(uintptr_t)(frame - offsetof(launch_block, iret));
}

__attribute__((noreturn)) static void child_main(const rc_native_case *c, nat_shared *sh,
                                                 uint64_t base)
{
    child_shared = sh;
    child_memory(c, sh);
    child_ldt(c, sh);
    for (unsigned i = 0; i < c->nio; i++)
        if (ioperm(c->io[i].from, c->io[i].num, 1)) {
            /* ENOSYS: CONFIG_X86_IOPL_IOPERM is off; EPERM: no CAP_SYS_RAWIO */
            snprintf(sh->msg, sizeof sh->msg, "ioperm(%#x, %u): %s: the I/O bitmap cannot be "
                     "set up on this host", c->io[i].from, c->io[i].num, strerror(errno));
            sh->state = SH_REFUSED;
            _exit(CHILD_SETUP_FAILED);
        }
    child_signals(c, sh);

    launch_block *lb = child_launch_area(c, sh);
    launch_block b;
    memset(&b, 0, sizeof b);
    b.ds = c->ds, b.es = c->es, b.fs = c->fs, b.gs = c->gs;
    b.base_flags = ((c->flags & RC_NATIVE_SET_FSBASE) ? 1u : 0u) |
                   ((c->flags & RC_NATIVE_SET_GSBASE) ? 2u : 0u);
    b.fs_base = c->fs_base, b.gs_base = c->gs_base;
    static const unsigned order[15] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    for (unsigned i = 0; i < 15; i++)
        b.pops[i] = c->gpr[order[i]];
    b.iret[0] = c->code_addr - base;
    b.iret[1] = c->cs;
    b.iret[2] = c->rflags | RFLAGS_FIXED1;
    b.iret[3] = c->gpr[4];
    b.iret[4] = c->ss;

    unsigned ms = c->timeout_ms ? c->timeout_ms : 1000;
    struct itimerval t = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };
    if (setitimer(ITIMER_REAL, &t, NULL))
        child_fail(sh, "setitimer", errno);
    *lb = b;
    child_seccomp(sh);
    rcn_enter(lb);
    __builtin_unreachable();
}

/* ------------------------------------------------------------------ the parent */

static void note(rc_native_result *r, const char *s)
{
    if (r->nnot_judged < RC_NATIVE_MAX_NOTES)
        r->not_judged[r->nnot_judged++] = s;
}

/* Wait for the child at most 'ms' milliseconds, then kill it. */
static int reap(pid_t pid, unsigned ms, int *status, bool *killed)
{
    *killed = false;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        int n;
        do
            n = poll(&p, 1, (int)ms);
        while (n < 0 && errno == EINTR);
        if (n == 0) {
            kill(pid, SIGKILL);
            *killed = true;
        }
        close(pfd);
    }
    pid_t w;
    do
        w = waitpid(pid, status, 0);
    while (w < 0 && errno == EINTR);
    if (w < 0 && errno == ECHILD) {
        /* the caller ignores SIGCHLD: the child was reaped by the kernel; the
         * shared page still holds its report */
        *status = 0;
        return 0;
    }
    return w == pid ? 0 : -1;
}

static void fill_from_report(const rc_native_case *c, const nat_shared *sh, uint64_t base,
                             rc_native_result *r)
{
    const uint64_t *g = sh->gregs;
    static const int map[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                 REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                 REG_R12, REG_R13, REG_R14, REG_R15 };
    for (unsigned i = 0; i < 16; i++)
        r->gpr[i] = g[map[i]];
    r->rip = g[REG_RIP];
    r->rflags = g[REG_EFL];
    /* uc_mcontext CSGSFS: cs, gs, fs, ss (ss since Linux 4.6, UC_SIGCONTEXT_SS) */
    uint64_t csgsfs = g[REG_CSGSFS];
    r->cs = (uint16_t)csgsfs;
    r->ss = (uint16_t)(csgsfs >> 48);
    r->ds = sh->ds, r->es = sh->es, r->fs = sh->fs, r->gs = sh->gs;
    r->fs_base = sh->fs_base, r->gs_base = sh->gs_base;
    r->vector = (int)g[REG_TRAPNO];
    r->err = g[REG_ERR];
    r->cr2 = g[REG_CR2];
    r->signo = sh->signo;
    r->si_code = sh->si_code;
    r->sig_addr = sh->sig_addr;
    uint64_t b = r->cs == c->cs ? base : 0; /* the trampoline and handler run at 0x33 */
    r->linear_rip = b + r->rip;

    uint64_t enter = (uint64_t)(uintptr_t)rcn_enter, enter_end = (uint64_t)(uintptr_t)rcn_enter_end;
    uint64_t marker = c->code_addr + c->code_len;
    if (sh->signo == SIGALRM) {
        r->end = RC_NATIVE_END_TIMEOUT;
        r->vector = -1;
        r->why = "still running at the timeout (registers: where it was)";
    }
    else if (sh->signo == SIGSYS) {
        r->end = RC_NATIVE_END_SYSCALL;
        r->vector = -1;
        snprintf(r->detail, sizeof r->detail,
                 "attempted system call %d (stopped by seccomp, not executed)", sh->sig_syscall);
        r->why = r->detail;
    }
    else if (r->cs == RC_NATIVE_USER_CS && r->rip >= enter && r->rip <= enter_end) {
        r->end = RC_NATIVE_END_SETUP;
        r->why = "the trampoline faulted: a selector or the IRETQ frame was refused";
    }
    else if (sh->signo == SIGTRAP && r->vector == TRAP_BP && r->cs == c->cs &&
             r->linear_rip == marker + 1) {
        r->end = RC_NATIVE_END_MARKER;
        r->rip -= 1; /* report the end of the code, not the address after the INT3 */
        r->linear_rip -= 1;
        r->vector = -1;
        r->err = 0;
    }
    else {
        r->end = RC_NATIVE_END_FAULT;
    }
    if (r->end == RC_NATIVE_END_MARKER || r->end == RC_NATIVE_END_FAULT ||
        r->end == RC_NATIVE_END_SETUP) {
        if (r->vector != TRAP_PF)
            note(r, "cr2: the kernel reports CR2 only for #PF (else a stale value)");
        else if (r->cr2 >= LINUX_TASK_SIZE_MAX)
            note(r, "err: for user accesses to kernel addresses the kernel sets P (bit 0) "
                    "whatever the page tables say (fault.c set_signal_archinfo)");
        if (r->vector == 1)
            note(r, "dr6: not in the signal frame (si_code says single-step or breakpoint)");
    }
    const rc_native_ldt *sse = (c->ss & 4) ? find_ldt(c, c->ss >> 3) : NULL;
    if (sse && !sse->seg_32bit)
        note(r, "rsp[63:32]: with a 16-bit SS the CPU loads only SP; bits 63:32 come from the "
                "runner's IRETQ frame and Linux's espfix64 (bits 31:16 are the case's)");
    if (!(c->rflags & RFLAGS_IF))
        note(r, "rflags.IF: always 1 at CPL 3 under Linux (POPF/IRET leave it at IOPL 0)");
    if (!sh->have_fsgsbase)
        note(r, "fs_base, gs_base: no FSGSBASE, not read");
    for (unsigned i = 0; i < c->nregions; i++)
        if (!(c->regions[i].prot & PROT_READ)) {
            note(r, "memory: regions without PROT_READ are not read back (they cannot change)");
            break;
        }
}

int rc_native_run(const rc_native_case *c, rc_native_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->vector = -1;
    r->exit_status = -1;
    if (err && errlen)
        err[0] = 0;
    if (!validate(c, err, errlen))
        return -1;
    const char *why = NULL;
    if (case_kernel_answers(c, &why)) {
        r->end = RC_NATIVE_END_REFUSED;
        r->why = why;
        return 0;
    }
    uint64_t base = 0;
    cs_base(c, &base);
    bool fsgs = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT) != 0;
    if ((c->flags & (RC_NATIVE_SET_FSBASE | RC_NATIVE_SET_GSBASE)) && !fsgs) {
        set_err(err, errlen, "native: FSGSBASE is not enabled on this host");
        return -1;
    }

    size_t out = 0;
    for (unsigned i = 0; i < c->nregions; i++)
        if (c->regions[i].prot & PROT_READ)
            out += c->regions[i].len;
    size_t shsize = (sizeof(nat_shared) + out + PAGE - 1) & ~(PAGE - 1);
    nat_shared *sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        set_err(err, errlen, "native: mmap shared page: %s", strerror(errno));
        return -1;
    }
    sh->have_fsgsbase = fsgs;
    size_t off = 0;
    for (unsigned i = 0; i < c->nregions; i++)
        if (c->regions[i].prot & PROT_READ) {
            sh->copy_addr[sh->ncopy] = c->regions[i].addr;
            sh->copy_len[sh->ncopy] = c->regions[i].len;
            sh->copy_off[sh->ncopy++] = off;
            off += c->regions[i].len;
        }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(NULL); /* nothing buffered is written twice (the child never flushes anyway) */
    pid_t pid = fork();
    if (pid < 0) {
        set_err(err, errlen, "native: fork: %s", strerror(errno));
        munmap(sh, shsize);
        return -1;
    }
    if (pid == 0)
        child_main(c, sh, base);

    unsigned ms = (c->timeout_ms ? c->timeout_ms : 1000) + 1000;
    int status = 0;
    bool killed = false;
    int rc = reap(pid, ms, &status, &killed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (rc != 0) {
        set_err(err, errlen, "native: waitpid: %s", strerror(errno));
        munmap(sh, shsize);
        return -1;
    }
    if (sh->state == SH_SETUP_ERROR) {
        set_err(err, errlen, "native: setup in the child failed: %s", sh->msg);
        munmap(sh, shsize);
        return -1;
    }
    if (sh->state == SH_REFUSED) {
        r->end = RC_NATIVE_END_REFUSED;
        snprintf(r->detail, sizeof r->detail, "%s", sh->msg);
        r->why = r->detail;
    }
    else if (sh->state == SH_SIGNAL) {
        fill_from_report(c, sh, base, r);
        off = 0;
        for (unsigned i = 0; i < c->nregions; i++)
            if (c->regions[i].prot & PROT_READ) {
                if (c->regions[i].out)
                    memcpy(c->regions[i].out, sh->mem + off, c->regions[i].len);
                off += c->regions[i].len;
            }
    }
    else {
        r->end = RC_NATIVE_END_DIED;
        if (WIFSIGNALED(status)) {
            r->signo = WTERMSIG(status);
            snprintf(r->detail, sizeof r->detail, "the child was killed by signal %d (%s)%s",
                     r->signo, strsignal(r->signo), killed ? " after the deadline" : "");
        }
        else {
            r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            snprintf(r->detail, sizeof r->detail, "the child exited with status %d, no report",
                     r->exit_status);
        }
        r->why = r->detail;
    }
    munmap(sh, shsize);
    return 0;
}

bool rc_native_available(const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    /* a one-instruction probe at an address no runner uses */
    static const uint8_t nop[] = { 0x90 };
    rc_native_case c;
    rc_native_result r;
    char err[256];
    rc_native_case_init(&c, RC_NATIVE_LONG64);
    c.code = nop;
    c.code_len = sizeof nop;
    c.code_addr = 0x3f000000ull;
    if (rc_native_run(&c, &r, err, sizeof err) != 0) {
        *why = "the native runner cannot start a case on this host (rc_native_run failed)";
        return false;
    }
    if (r.end != RC_NATIVE_END_MARKER) {
        *why = "a NOP did not reach the end marker natively";
        return false;
    }
    *why = NULL;
    return true;
}

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
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

/* Exit codes of a child that could not set the case up (before seccomp), and
 * of a server child whose own code faulted. */
#define CHILD_SETUP_FAILED 111
#define CHILD_RUNNER_FAULT 112

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
        "  ud2\n"
        /* rcn_sys(nr, a1..a5): the runner's own system calls (a6 = 0), all from
         * this one SYSCALL instruction, which the server's filter recognises. */
        ".globl rcn_sys\n"
        ".type rcn_sys,@function\n"
        "rcn_sys:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %r10\n"
        "  mov %r9, %r8\n"
        "  xor %r9d, %r9d\n"
        "  syscall\n"
        ".globl rcn_sys_after\n"
        "rcn_sys_after:\n"
        "  ret\n"
        /* rcn_server_enter(save, launch): save the callee-saved registers, the
         * stack pointer and the return address, then enter the case. The
         * handler comes back through rcn_server_resume(save), which makes
         * rcn_server_enter return (System V ABI: rbx rbp r12-r15 preserved). */
        ".globl rcn_server_enter\n"
        ".type rcn_server_enter,@function\n"
        "rcn_server_enter:\n"
        "  mov %rbx, 0(%rdi)\n  mov %rbp, 8(%rdi)\n  mov %r12, 16(%rdi)\n"
        "  mov %r13, 24(%rdi)\n  mov %r14, 32(%rdi)\n  mov %r15, 40(%rdi)\n"
        "  lea 8(%rsp), %rax\n  mov %rax, 48(%rdi)\n"
        "  mov (%rsp), %rax\n  mov %rax, 56(%rdi)\n"
        "  mov %rsi, %rdi\n"
        "  jmp rcn_enter\n"
        ".globl rcn_server_resume\n"
        ".type rcn_server_resume,@function\n"
        "rcn_server_resume:\n"
        "  mov 0(%rdi), %rbx\n  mov 8(%rdi), %rbp\n  mov 16(%rdi), %r12\n"
        "  mov 24(%rdi), %r13\n  mov 32(%rdi), %r14\n  mov 40(%rdi), %r15\n"
        "  mov 48(%rdi), %rsp\n"
        "  jmp *56(%rdi)\n");

/* Neither returns. They are not declared noreturn on purpose: a sanitizer
 * instruments calls to noreturn functions with a runtime hook that makes
 * system calls, which the seccomp filter would trap. */
void rcn_enter(launch_block *b);
extern const char rcn_enter_end[];
void rcn_exit(int status);
extern const char rcn_exit_after[];
long rcn_sys(long nr, long a1, long a2, long a3, long a4, long a5);
extern const char rcn_sys_after[];
void rcn_server_enter(uint64_t *save, launch_block *b);
void rcn_server_resume(uint64_t *save);

/* A server child's state (see rc_native_server_open). */
typedef struct srv_child {
    uint64_t save[8];          /* rcn_server_enter's saved context */
    volatile int in_case;      /* a signal outside a case is a runner bug: exit */
    uint16_t ds, es, fs, gs;   /* the runner's own selectors and bases, restored */
    uint64_t fs_base, gs_base; /* by the handler before it resumes the loop */
    uint64_t launch_lo;        /* the launch-area reservation */
} srv_child;

/* The child's process-wide state: where the handler reports, and (server
 * children) how it gets back to the loop. Set after fork, in the child only;
 * the parent never reads them. */
static nat_shared *child_shared;
static srv_child *child_server;

/* ------------------------------------------------------------------ the handler */

#define HANDLER_ATTRS                                                                              \
    __attribute__((no_stack_protector, no_sanitize_address, no_sanitize("undefined")))

/* Runs on the alternate stack with whatever FS/GS the case left: it must not
 * touch TLS (no errno, no stack protector, no libc except plain copies). */
HANDLER_ATTRS static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    /* The case may have left AC or NT set (Linux's signal delivery clears
     * TF, DF and RF, not these): the handler's own accesses must not raise
     * #AC (SDM Vol. 3A 6.15 "Interrupt 17"), and the server's next IRETQ
     * must not see NT = 1 (#GP(0) in IA-32e mode, SDM Vol. 2A IRET). POPF
     * clears both at CPL 3. */
    __asm__ volatile("pushfq\n andq $~0x44000, (%%rsp)\n popfq" ::: "memory", "cc");
    srv_child *srv = child_server;
    if (srv && !srv->in_case)
        rcn_exit(CHILD_RUNNER_FAULT); /* the runner itself faulted: die, be restarted */
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
    if (srv) {
        /* back to the server loop: the runner's selectors and TLS base first */
        __asm__ volatile("mov %0, %%ds\n mov %1, %%es\n mov %2, %%fs\n mov %3, %%gs"
                         :: "r"(srv->ds), "r"(srv->es), "r"(srv->fs), "r"(srv->gs));
        __asm__ volatile("wrfsbase %0\n wrgsbase %1" :: "r"(srv->fs_base), "r"(srv->gs_base));
        rcn_server_resume(srv->save);
    }
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

const char *rc_native_end_name(rc_native_end e)
{
    static const char *const names[] = { "marker", "fault", "timeout", "syscall",
                                         "died", "setup", "refused" };
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "?";
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
    /* CPL-3 behaviour that follows a CR4 bit Linux sets and the standard
     * machine (CR4 = PAE only) leaves clear, or a value only this host has */
    case X86_INS_RDFSBASE:
    case X86_INS_RDGSBASE:
    case X86_INS_WRFSBASE:
    case X86_INS_WRGSBASE:
        *why = "RDFSBASE/WRFSBASE family: CR4.FSGSBASE is the kernel's setting (SDM: #UD when "
               "it is 0, as on the standard machine)";
        return true;
    case X86_INS_XGETBV:
    case X86_INS_XSETBV:
    case X86_INS_XSAVE:
    case X86_INS_XSAVE64:
    case X86_INS_XSAVEC:
    case X86_INS_XSAVEC64:
    case X86_INS_XSAVEOPT:
    case X86_INS_XSAVEOPT64:
    case X86_INS_XSAVES:
    case X86_INS_XSAVES64:
    case X86_INS_XRSTOR:
    case X86_INS_XRSTOR64:
    case X86_INS_XRSTORS:
    case X86_INS_XRSTORS64:
        *why = "XGETBV/XSAVE family: CR4.OSXSAVE and XCR0 are the kernel's (SDM: #UD when "
               "CR4.OSXSAVE = 0, as on the standard machine)";
        return true;
    case X86_INS_RDTSC:
    case X86_INS_RDTSCP:
        *why = "RDTSC/RDTSCP: the host's time-stamp counter (and CR4.TSD, TSC_AUX are the "
               "kernel's): no other judge can reproduce the value";
        return true;
    case X86_INS_RDRAND:
    case X86_INS_RDSEED:
        *why = "RDRAND/RDSEED: random values";
        return true;
    case X86_INS_MONITOR:
    case X86_INS_MWAIT:
        *why = "MONITOR/MWAIT: whether CPL 3 may use them is the kernel's / hypervisor's "
               "configuration";
        return true;
    default:
        return false;
    }
}

/* Instructions Capstone 4 does not know, by their bytes after the legacy
 * and REX prefixes: RDPKRU (0F 01 EE), WRPKRU (0F 01 EF), RDPID (F3 0F C7 /7,
 * register form). */
static bool raw_kernel_answer(const uint8_t *p, size_t n, bool long64, const char **why)
{
    static const uint8_t legacy[] = { 0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65,
                                      0xf0 };
    size_t i = 0;
    bool f3 = false;
    for (; i < n; i++) {
        bool pre = memchr(legacy, p[i], sizeof legacy) != NULL ||
                   (long64 && (p[i] & 0xf0) == 0x40);
        if (!pre)
            break;
        f3 |= p[i] == 0xf3;
    }
    if (i + 3 > n || p[i] != 0x0f)
        return false;
    if (p[i + 1] == 0x01 && (p[i + 2] == 0xee || p[i + 2] == 0xef)) {
        *why = "RDPKRU/WRPKRU: PKRU and CR4.PKE are the kernel's (SDM: #UD when CR4.PKE = 0, "
               "as on the standard machine)";
        return true;
    }
    if (f3 && p[i + 1] == 0xc7 && (p[i + 2] & 0xf8) == 0xf8) {
        *why = "RDPID: returns TSC_AUX, the kernel's CPU number";
        return true;
    }
    return false;
}

/* Capstone handles kept by a server (opening one costs ~15 us). */
typedef struct sweep_cache {
    bool open[3];
    csh h[3];
    cs_insn *in[3];
} sweep_cache;

static void sweep_cache_close(sweep_cache *k)
{
    for (unsigned i = 0; i < 3; i++)
        if (k->open[i]) {
            cs_free(k->in[i], 1);
            cs_close(&k->h[i]);
            k->open[i] = false;
        }
}

/* The linear sweep; with a cache the handle is opened once per mode. */
static bool sweep(sweep_cache *k, const uint8_t *code, size_t len, rc_native_mode mode,
                  const char **why)
{
    *why = NULL;
    unsigned slot = mode == RC_NATIVE_LONG64 ? 0 : mode == RC_NATIVE_PROT16 ? 1 : 2;
    static const cs_mode modes[3] = { CS_MODE_64, CS_MODE_16, CS_MODE_32 };
    sweep_cache local = { .open = { false, false, false } };
    sweep_cache *use = k ? k : &local;
    if (!use->open[slot]) {
        if (cs_open(CS_ARCH_X86, modes[slot], &use->h[slot]) != CS_ERR_OK) {
            *why = "cannot open Capstone to inspect the code";
            return true;
        }
        use->in[slot] = cs_malloc(use->h[slot]);
        use->open[slot] = true;
    }
    csh h = use->h[slot];
    cs_insn *in = use->in[slot];
    bool hit = false;
    size_t off = 0;
    while (off < len && !hit) {
        const uint8_t *p = code + off;
        size_t left = len - off;
        uint64_t addr = off;
        if (raw_kernel_answer(p, left, mode == RC_NATIVE_LONG64, why)) {
            hit = true;
            break;
        }
        if (cs_disasm_iter(h, &p, &left, &addr, in)) {
            hit = lookup_kernel_answer(in->id, in, why);
            off += in->size;
        }
        else {
            off++; /* not decodable here (#UD natively): continue the sweep */
        }
    }
    if (!k)
        sweep_cache_close(&local);
    return hit;
}

bool rc_native_kernel_answers(const uint8_t *code, size_t len, rc_native_mode mode,
                              const char **why)
{
    static const char *dummy;
    return sweep(NULL, code, len, mode, why ? why : &dummy);
}

/* Case-level reasons (not in the code bytes) why the kernel would answer. */
static bool case_kernel_answers(const rc_native_case *c, sweep_cache *k, const char **why)
{
    if (sweep(k, c->code, c->code_len, c->mode, why))
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
    /* the page's address as an immediate or displacement (imm32 sign-extends
     * to 0xffffffffff6xxxxx): a heuristic; seccomp stops what it misses */
    for (size_t i = 0; i + 4 <= c->code_len; i++) {
        uint32_t v;
        memcpy(&v, c->code + i, 4);
        if ((v & 0xfffff000u) == (uint32_t)VSYSCALL_PAGE) {
            *why = "the code names the vsyscall page (the kernel emulates calls there)";
            return true;
        }
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

/* The child's system calls go through rcn_sys (the server's seccomp filter
 * allows exactly that instruction); they return -errno on failure. */
static bool sys_failed(nat_shared *sh, const char *what, long rc)
{
    snprintf(sh->msg, sizeof sh->msg, "%s: %s", what, strerror((int)-rc));
    sh->state = SH_SETUP_ERROR;
    return false;
}

/* Ranges the child mapped for one case (regions, code pages), to undo. */
typedef struct child_maps {
    uint64_t addr[RC_NATIVE_MAX_REGIONS + 1];
    uint64_t len[RC_NATIVE_MAX_REGIONS + 1];
    unsigned n;
} child_maps;

static bool child_map(nat_shared *sh, child_maps *m, uint64_t addr, size_t len)
{
    long rc = rcn_sys(SYS_mmap, (long)addr, (long)len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1);
    if (rc < 0 && rc > -4096) {
        snprintf(sh->msg, sizeof sh->msg, "mmap %#llx+%#zx: %s (address in use in the runner?)",
                 (unsigned long long)addr, len, strerror((int)-rc));
        sh->state = SH_SETUP_ERROR;
        return false;
    }
    if ((uint64_t)rc != addr) { /* a kernel without MAP_FIXED_NOREPLACE */
        rcn_sys(SYS_munmap, rc, (long)len, 0, 0, 0);
        snprintf(sh->msg, sizeof sh->msg, "mmap %#llx: placed elsewhere", (unsigned long long)addr);
        sh->state = SH_SETUP_ERROR;
        return false;
    }
    m->addr[m->n] = addr;
    m->len[m->n++] = len;
    return true;
}

/* Map the regions and the code, write every page (present PTEs), copy the
 * contents and the end marker, apply the final protections. */
static bool child_memory(const rc_native_case *c, nat_shared *sh, child_maps *m)
{
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        if (!child_map(sh, m, r->addr, r->len))
            return false;
        uint8_t *p = (uint8_t *)(uintptr_t)r->addr;
        memset(p, 0, r->len);
        if (r->bytes)
            memcpy(p, r->bytes, r->nbytes);
    }
    uint8_t *code = (uint8_t *)(uintptr_t)c->code_addr;
    if (!region_containing(c, c->code_addr, c->code_len + 1)) {
        uint64_t lo = c->code_addr & ~(PAGE - 1);
        uint64_t hi = (c->code_addr + c->code_len + 1 + PAGE - 1) & ~(PAGE - 1);
        if (!child_map(sh, m, lo, hi - lo))
            return false;
        memset((void *)(uintptr_t)lo, 0, hi - lo);
        long rc = rcn_sys(SYS_mprotect, (long)lo, (long)(hi - lo),
                          PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0);
        if (rc)
            return sys_failed(sh, "mprotect code", rc);
    }
    memcpy(code, c->code, c->code_len);
    code[c->code_len] = END_MARKER;
    for (unsigned i = 0; i < c->nregions; i++) {
        const rc_native_region *r = &c->regions[i];
        long rc = rcn_sys(SYS_mprotect, (long)r->addr, (long)r->len, r->prot, 0, 0);
        if (rc)
            return sys_failed(sh, "mprotect region", rc);
    }
    return true;
}

static void child_unmap(child_maps *m)
{
    for (unsigned i = 0; i < m->n; i++)
        rcn_sys(SYS_munmap, (long)m->addr[i], (long)m->len[i], 0, 0, 0);
    m->n = 0;
}

/* func 0x11: write an entry, "new mode" (AVL kept); an all-zero entry clears
 * it (arch/x86/kernel/ldt.c write_ldt, LDT_zero). */
static long write_ldt_entry(const struct user_desc *d)
{
    return rcn_sys(SYS_modify_ldt, 0x11, (long)(uintptr_t)d, sizeof *d, 0, 0);
}

static bool child_ldt(const rc_native_case *c, nat_shared *sh)
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
        long rc = write_ldt_entry(&d);
        if (rc)
            return sys_failed(sh, "modify_ldt", rc);
    }
    return true;
}

/* Empty the case's LDT entries again. modify_ldt (func 0x11) clears an
 * entry only for the "empty" descriptor of Linux's LDT_empty(): base and
 * limit 0, read_exec_only = 1, seg_not_present = 1, everything else 0; an
 * all-zero user_desc would install a present data segment (base 0, limit
 * 0) and a later case probing that entry would load it instead of
 * faulting. */
static void child_clear_ldt(const rc_native_case *c)
{
    for (unsigned i = 0; i < c->nldt; i++) {
        struct user_desc d;
        memset(&d, 0, sizeof d);
        d.entry_number = c->ldt[i].index;
        d.read_exec_only = 1;
        d.seg_not_present = 1;
        write_ldt_entry(&d);
    }
}

static void child_signals(bool catch_them, nat_shared *sh)
{
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL))
        child_fail(sh, "sigprocmask", errno);
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGALRM };
    if (!catch_them) {
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

/* seccomp: allow a system call only from the SYSCALL instruction before
 * 'ip' (seccomp_data.instruction_pointer: the address after it), trap every
 * other with SIGSYS - it is then not executed
 * (Documentation/userspace-api/seccomp_filter.rst). The forked-child mode
 * allows only exit (nr_only = SYS_exit); the server allows its rcn_sys stub
 * and exit. */
static void child_seccomp(nat_shared *sh, uint64_t ip, uint64_t ip2)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip2, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    if ((ip >> 32) != (ip2 >> 32))
        child_fail(sh, "seccomp: the two stubs are 4 GiB apart", EINVAL);
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
 * and two pages of it around the chosen spot are made writable.
 */
static uint64_t launch_reserve(nat_shared *sh)
{
    const uint64_t span = (1ull << 32) + (2ull << 16);
    void *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (res == MAP_FAILED)
        child_fail(sh, "mmap launch area", errno);
    return (uint64_t)(uintptr_t)res;
}

static launch_block *launch_pick(uint64_t lo, uint64_t rsp, int prot, nat_shared *sh)
{
    uint64_t want = (rsp >> 16) & 0xffff;
    /* the IRET frame at +0x8000 in the 64 KiB block: RSP stays inside it */
    uint64_t frame = (lo & ~0xffffffffull) | (want << 16) | 0x8000;
    while (frame < lo + PAGE)
        frame += 1ull << 32;
    uint64_t page = frame & ~(PAGE - 1);
    long rc = rcn_sys(SYS_mprotect, (long)(page - PAGE), 2 * PAGE, prot, 0, 0);
    if (rc) {
        if (sh) /* NULL when closing the area again: the case's report stands */
            sys_failed(sh, "mprotect launch area", rc);
        return NULL;
    }
    return (launch_block *)(uintptr_t)(frame - offsetof(launch_block, iret));
}

static void launch_fill(launch_block *b, const rc_native_case *c, uint64_t base)
{
    memset(b, 0, sizeof *b);
    b->ds = c->ds, b->es = c->es, b->fs = c->fs, b->gs = c->gs;
    b->base_flags = ((c->flags & RC_NATIVE_SET_FSBASE) ? 1u : 0u) |
                    ((c->flags & RC_NATIVE_SET_GSBASE) ? 2u : 0u);
    b->fs_base = c->fs_base, b->gs_base = c->gs_base;
    static const unsigned order[15] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    for (unsigned i = 0; i < 15; i++)
        b->pops[i] = c->gpr[order[i]];
    b->iret[0] = c->code_addr - base;
    b->iret[1] = c->cs;
    b->iret[2] = c->rflags | RFLAGS_FIXED1;
    b->iret[3] = c->gpr[4];
    b->iret[4] = c->ss;
}

static bool arm_timer(unsigned timeout_ms, nat_shared *sh)
{
    unsigned ms = timeout_ms ? timeout_ms : 1000;
    struct itimerval t = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };
    long rc = rcn_sys(SYS_setitimer, ITIMER_REAL, (long)(uintptr_t)&t, 0, 0, 0);
    return rc ? sys_failed(sh, "setitimer", rc) : true;
}

__attribute__((noreturn)) static void child_main(const rc_native_case *c, nat_shared *sh,
                                                 uint64_t base)
{
    child_shared = sh;
    child_maps maps = { .n = 0 };
    if (!child_memory(c, sh, &maps) || !child_ldt(c, sh))
        _exit(CHILD_SETUP_FAILED);
    for (unsigned i = 0; i < c->nio; i++)
        if (ioperm(c->io[i].from, c->io[i].num, 1)) {
            /* ENOSYS: CONFIG_X86_IOPL_IOPERM is off; EPERM: no CAP_SYS_RAWIO */
            snprintf(sh->msg, sizeof sh->msg, "ioperm(%#x, %u): %s: the I/O bitmap cannot be "
                     "set up on this host", c->io[i].from, c->io[i].num, strerror(errno));
            sh->state = SH_REFUSED;
            _exit(CHILD_SETUP_FAILED);
        }
    child_signals(!(c->flags & RC_NATIVE_NO_HANDLER), sh);
    launch_block *lb = launch_pick(launch_reserve(sh), c->gpr[4], PROT_READ | PROT_WRITE, sh);
    if (!lb || !arm_timer(c->timeout_ms, sh))
        _exit(CHILD_SETUP_FAILED);
    launch_fill(lb, c, base);
    /* only exit, from rcn_exit (both addresses the same stub) */
    child_seccomp(sh, (uint64_t)(uintptr_t)rcn_exit_after, (uint64_t)(uintptr_t)rcn_exit_after);
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

/* Turn a child's report (or its death) into the result; the parent side
 * common to the forked-child and the server mode. */
static int conclude(const rc_native_case *c, const nat_shared *sh, uint64_t base, int status,
                    bool killed, rc_native_result *r, char *err, size_t errlen)
{
    if (sh->state == SH_SETUP_ERROR)
        return set_err(err, errlen, "native: setup in the child failed: %s", sh->msg), -1;
    if (sh->state == SH_REFUSED) {
        r->end = RC_NATIVE_END_REFUSED;
        snprintf(r->detail, sizeof r->detail, "%s", sh->msg);
        r->why = r->detail;
    }
    else if (sh->state == SH_SIGNAL) {
        fill_from_report(c, sh, base, r);
        size_t off = 0;
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
    return 0;
}

/* Fill the report's list of regions the handler reads back. */
static void prepare_report(const rc_native_case *c, nat_shared *sh, bool fsgs)
{
    memset(sh, 0, sizeof *sh);
    sh->have_fsgsbase = fsgs;
    size_t off = 0;
    for (unsigned i = 0; i < c->nregions; i++)
        if (c->regions[i].prot & PROT_READ) {
            sh->copy_addr[sh->ncopy] = c->regions[i].addr;
            sh->copy_len[sh->ncopy] = c->regions[i].len;
            sh->copy_off[sh->ncopy++] = off;
            off += c->regions[i].len;
        }
}

static bool host_fsgsbase(void)
{
    return (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT) != 0;
}

/* Checks before any child runs: 1 = run it, 0 = refused (r filled), -1 = error. */
static int begin(const rc_native_case *c, sweep_cache *k, rc_native_result *r, char *err,
                 size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->vector = -1;
    r->exit_status = -1;
    if (err && errlen)
        err[0] = 0;
    if (!validate(c, err, errlen))
        return -1;
    const char *why = NULL;
    if (case_kernel_answers(c, k, &why)) {
        r->end = RC_NATIVE_END_REFUSED;
        r->why = why;
        return 0;
    }
    if ((c->flags & (RC_NATIVE_SET_FSBASE | RC_NATIVE_SET_GSBASE)) && !host_fsgsbase())
        return set_err(err, errlen, "native: FSGSBASE is not enabled on this host"), -1;
    return 1;
}

int rc_native_run(const rc_native_case *c, rc_native_result *r, char *err, size_t errlen)
{
    int go = begin(c, NULL, r, err, errlen);
    if (go <= 0)
        return go;
    uint64_t base = 0;
    cs_base(c, &base);
    bool fsgs = host_fsgsbase();

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
    prepare_report(c, sh, fsgs);

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
    rc = conclude(c, sh, base, status, killed, r, err, errlen);
    munmap(sh, shsize);
    return rc;
}

/* ------------------------------------------------------------------ the server */

/*
 * A server is one long-lived child that runs case after case: no fork, no
 * new address space, the LDT reused. Requests and reports go through one
 * shared mapping; a byte on a pipe says "go" and "done". The child's own
 * system calls all come from rcn_sys, the only SYSCALL instruction its
 * seccomp filter lets through; a case's system call is trapped as before.
 * After a case: its mappings are unmapped, its LDT entries cleared, the
 * timer disarmed and a pending SIGALRM consumed, the signal mask cleared.
 */
#define SRV_REQ_BYTES (RC_NATIVE_MAX_CODE + RC_NATIVE_MAX_OUT)

typedef struct srv_block {
    rc_native_case req;        /* pointers rewritten into 'bytes' */
    uint64_t base;             /* CS.base */
    uint8_t bytes[SRV_REQ_BYTES];
} srv_block;

struct rc_native_server {
    pid_t pid;                 /* 0: not running (started on demand) */
    int go_fd, done_fd;        /* the parent's ends of the two pipes */
    uint8_t *shm;
    size_t shm_size;
    srv_block *blk;
    nat_shared *rep;
    unsigned long cases, restarts;
    sweep_cache sweep;
};

int rc_native_server_pid(const rc_native_server *s)
{
    return s ? (int)s->pid : 0;
}

static void server_one(srv_block *blk, nat_shared *rep, srv_child *st)
{
    const rc_native_case *c = &blk->req;
    child_maps maps = { .n = 0 };
    launch_block *lb = NULL;
    if (child_memory(c, rep, &maps) && child_ldt(c, rep) &&
        (lb = launch_pick(st->launch_lo, c->gpr[4], PROT_READ | PROT_WRITE, rep)) &&
        arm_timer(c->timeout_ms, rep)) {
        launch_fill(lb, c, blk->base);
        st->in_case = 1;
        rcn_server_enter(st->save, lb);
        st->in_case = 0;
        struct itimerval off;
        memset(&off, 0, sizeof off);
        rcn_sys(SYS_setitimer, ITIMER_REAL, (long)(uintptr_t)&off, 0, 0, 0);
        uint64_t alrm = 1ull << (SIGALRM - 1), none = 0;
        struct timespec zero = { 0, 0 };
        rcn_sys(SYS_rt_sigtimedwait, (long)(uintptr_t)&alrm, 0, (long)(uintptr_t)&zero, 8, 0);
        rcn_sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)(uintptr_t)&none, 0, 8, 0);
    }
    if (lb)
        launch_pick(st->launch_lo, c->gpr[4], PROT_NONE, NULL);
    child_clear_ldt(c);
    child_unmap(&maps);
}

__attribute__((noreturn)) static void server_main(int go, int done, srv_block *blk,
                                                  nat_shared *rep)
{
    static srv_child st;
    child_shared = rep;
    uint16_t sel;
    __asm__ volatile("mov %%ds, %0" : "=r"(sel));
    st.ds = sel;
    __asm__ volatile("mov %%es, %0" : "=r"(sel));
    st.es = sel;
    __asm__ volatile("mov %%fs, %0" : "=r"(sel));
    st.fs = sel;
    __asm__ volatile("mov %%gs, %0" : "=r"(sel));
    st.gs = sel;
    __asm__ volatile("rdfsbase %0" : "=r"(st.fs_base));
    __asm__ volatile("rdgsbase %0" : "=r"(st.gs_base));
    st.launch_lo = launch_reserve(rep);
    child_signals(true, rep);
    child_server = &st;
    child_seccomp(rep, (uint64_t)(uintptr_t)rcn_sys_after, (uint64_t)(uintptr_t)rcn_exit_after);
    for (;;) {
        char b;
        if (rcn_sys(SYS_read, go, (long)(uintptr_t)&b, 1, 0, 0) != 1)
            rcn_exit(0);
        server_one(blk, rep, &st);
        if (rcn_sys(SYS_write, done, (long)(uintptr_t)&b, 1, 0, 0) != 1)
            rcn_exit(0);
    }
}

static void server_stop(rc_native_server *s, int *status)
{
    if (s->pid <= 0)
        return;
    close(s->go_fd);
    close(s->done_fd);
    kill(s->pid, SIGKILL);
    int st = 0;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status)
        *status = st;
    s->pid = 0;
}

static bool server_start(rc_native_server *s, char *err, size_t errlen)
{
    /* socket pairs, not pipes: the parent sends with MSG_NOSIGNAL, so a dead
     * server is EPIPE, never a SIGPIPE in the caller */
    int go[2], done[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go))
        return set_err(err, errlen, "native server: socketpair: %s", strerror(errno));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, done)) {
        close(go[0]), close(go[1]);
        return set_err(err, errlen, "native server: socketpair: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(go[0]), close(go[1]), close(done[0]), close(done[1]);
        return set_err(err, errlen, "native server: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(go[1]);
        close(done[0]);
        server_main(go[0], done[1], s->blk, s->rep);
    }
    close(go[0]);
    close(done[1]);
    s->pid = pid;
    s->go_fd = go[1];
    s->done_fd = done[0];
    s->restarts++;
    return true;
}

rc_native_server *rc_native_server_open(char *err, size_t errlen)
{
    if (!host_fsgsbase())
        return set_err(err, errlen, "native server: needs FSGSBASE (restores the runner's "
                       "TLS base after a case)"), NULL;
    rc_native_server *s = calloc(1, sizeof *s);
    if (!s)
        return set_err(err, errlen, "native server: out of memory"), NULL;
    size_t blk = (sizeof(srv_block) + PAGE - 1) & ~(PAGE - 1);
    s->shm_size = blk + ((sizeof(nat_shared) + RC_NATIVE_MAX_OUT + PAGE - 1) & ~(PAGE - 1));
    s->shm = mmap(NULL, s->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s->shm == MAP_FAILED) {
        free(s);
        return set_err(err, errlen, "native server: mmap: %s", strerror(errno)), NULL;
    }
    s->blk = (srv_block *)s->shm;
    s->rep = (nat_shared *)(s->shm + blk);
    return s; /* the child starts with the first case */
}

void rc_native_server_close(rc_native_server *s)
{
    if (!s)
        return;
    server_stop(s, NULL);
    sweep_cache_close(&s->sweep);
    munmap(s->shm, s->shm_size);
    free(s);
}

/* Copy the case into the shared block (its pointers are the parent's);
 * false if its bytes do not fit. */
static bool server_request(rc_native_server *s, const rc_native_case *c, uint64_t base)
{
    srv_block *b = s->blk;
    size_t need = c->code_len;
    for (unsigned i = 0; i < c->nregions; i++)
        need += c->regions[i].bytes ? c->regions[i].nbytes : 0;
    if (need > SRV_REQ_BYTES)
        return false;
    b->req = *c;
    b->base = base;
    size_t off = 0;
    memcpy(b->bytes, c->code, c->code_len);
    b->req.code = b->bytes;
    off += c->code_len;
    for (unsigned i = 0; i < c->nregions; i++) {
        b->req.regions[i].out = NULL;
        if (c->regions[i].bytes) {
            memcpy(b->bytes + off, c->regions[i].bytes, c->regions[i].nbytes);
            b->req.regions[i].bytes = b->bytes + off;
            off += c->regions[i].nbytes;
        }
    }
    return true;
}

int rc_native_server_run(rc_native_server *s, const rc_native_case *c, rc_native_result *r,
                         char *err, size_t errlen)
{
    /* what the server does not take runs in a child of its own */
    if (!s || (c->flags & RC_NATIVE_NO_HANDLER) || c->nio)
        return rc_native_run(c, r, err, errlen);
    int go = begin(c, &s->sweep, r, err, errlen);
    if (go <= 0)
        return go;
    uint64_t base = 0;
    cs_base(c, &base);
    if (!server_request(s, c, base))
        return rc_native_run(c, r, err, errlen);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    prepare_report(c, s->rep, true);
    char b = 'g';
    int status = 0;
    bool killed = false, dead = false;
    /* a server that died between cases (killed from outside) is restarted once */
    for (int attempt = 0;; attempt++) {
        if (s->pid <= 0 && !server_start(s, err, errlen))
            return -1;
        if (send(s->go_fd, &b, 1, MSG_NOSIGNAL) == 1)
            break;
        server_stop(s, &status);
        if (attempt == 1) {
            dead = true;
            break;
        }
    }
    if (!dead) {
        struct pollfd p = { .fd = s->done_fd, .events = POLLIN };
        int ms = (int)(c->timeout_ms ? c->timeout_ms : 1000) + 1000, n;
        do
            n = poll(&p, 1, ms);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            killed = dead = true;
        else if (read(s->done_fd, &b, 1) != 1)
            dead = true;
    }
    if (dead)
        server_stop(s, &status); /* restarted with the next case */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    s->cases++;
    if (dead && s->rep->state == SH_SIGNAL)
        s->rep->state = SH_NONE; /* a report half-written by a dying child */
    return conclude(c, s->rep, base, status, killed, r, err, errlen);
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

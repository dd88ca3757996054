/*
 * vb_kvm.c - the KVM judge: a vector run on this host's CPU through
 * /dev/kvm (docs/kvm.md), for hosts whose KVM is hardware (VMX or SVM).
 *
 * Detection first (rcv_kvm_probe): a software KVM such as kvm_pvm (the
 * guest's "ring 0" is emulated by a hypervisor running it at host ring 3)
 * gets INT n, 64-bit SYSENTER and Intel's SYSRET check wrong (issue 5), so
 * it is refused with the reason, and nothing is judged or recorded on it.
 *
 * run(): the scenario (rcv_scenario_build) gives the 16 MiB RAM image and
 * the whole architectural state, hidden segment parts and MSRs included.
 * One VM, one memory slot holding a copy of that RAM at guest-physical 0,
 * one vCPU with the host's supported CPUID (the guest sees the host's
 * vendor: vectors of the other vendor are refused), then KVM_SET_SREGS,
 * KVM_SET_REGS, KVM_SET_MSRS, KVM_SET_DEBUGREGS and KVM_RUN until the guest
 * halts (no in-kernel irqchip: HLT exits to us) or shuts down (a triple
 * fault), under a wall-clock bound. Every standard handler stub is HLT
 * behind an interrupt gate (docs/standard-machine.md), so a delivery ends in
 * a stub's first HLT; the end is judged as the QEMU judge does it (RIP given
 * back as the stub, the frame read from the handler's stack).
 *
 * What it sees: everything the state ioctls give (GPRs, RIP, RFLAGS, CPL,
 * CR0/2/3/4/8, DR0-3/6/7, EFER, all eight segment registers with their
 * hidden parts, the syscall/sysenter/FS/GS/TSC_AUX MSRs and any MSR the
 * vector names) and memory (linear, through the final page tables, over the
 * guest's RAM). It refuses what KVM, not the CPU, would answer: instructions
 * KVM intercepts and implements in C (I/O, CPUID, RDMSR/WRMSR, MOV to CRn,
 * MOV DRn, ...), task switches (both VMX and SVM hand them to KVM's
 * emulator), and any run during which KVM's instruction emulator ran (its
 * vCPU statistic insn_emulation), but for the one decode of an instruction
 * that raised #UD on the CPU.
 */
#define _GNU_SOURCE
#include "lib/vb_kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <capstone/capstone.h>

#include "lib/kimage_host.h"
#include "lib/vexpect.h"
#include "lib/native.h"
#include "lib/scenario.h"

#ifdef RC_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#define KVM_DEV "/dev/kvm"
#define KVM_API_EXPECTED 12          /* Documentation/virt/kvm/api.rst: KVM_GET_API_VERSION */
#define PVM_MODULE "/sys/module/kvm_pvm"
#define KVM_INTEL_PARAM "/sys/module/kvm_intel/parameters/"
#define RAM RCM_RAM_SIZE
#define VMX_TSS_ADDR 0xfffbd000ul    /* VMX's 3 real-mode pages, outside our RAM (as QEMU) */
#define DEFAULT_TIMEOUT_S 2.0
#define TICK_NS 20000000l            /* the watchdog's period: 20 ms */
#define MAX_CPUID 256
#define MAX_MSRS (RCV_MAX_ITEMS * 2 + 16)

#define CR0_PE (1ull << 0)
#define EFER_LMA (1ull << 10)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_VM (1ull << 17)

#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u

/* SDM Vol. 3A 3.5 Table 3-2: system descriptor types that start a task switch. */
#define SYS_TSS16_AVAIL 0x1u
#define SYS_TASK_GATE 0x5u
#define SYS_TSS32_AVAIL 0x9u

/* The MSRs of the standard machine (docs/standard-machine.md "MSRs") plus
 * the per-thread bases, always set and read back. */
static const uint32_t std_msrs[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
                                     MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
                                     MSR_KERNEL_GS_BASE };

typedef struct kvm_ctx {
    uint8_t *ram;            /* the guest's RAM (mmap'd), its final contents */
    uint64_t cr0, cr3, cr4, efer;
    uint64_t gdt_base, idt_base;
    uint64_t code_addr;      /* where the vector's code starts (rcm_code_addr) */
    unsigned nmsr;
    uint32_t msr_index[MAX_MSRS];
    uint64_t msr_value[MAX_MSRS];
} kvm_ctx;

/* ------------------------------------------------------------------ detection */

bool rcv_kvm_has_flag(const char *flags, const char *word)
{
    size_t w = strlen(word);
    if (!flags || !w)
        return false;
    for (const char *p = flags; (p = strstr(p, word)); p += w) {
        bool start = p == flags || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':';
        bool end = p[w] == 0 || p[w] == ' ' || p[w] == '\t' || p[w] == '\n';
        if (start && end)
            return true;
    }
    return false;
}

rcv_kvm_kind rcv_kvm_classify(const rcv_kvm_facts *f, char *why, size_t n)
{
    char tmp[8];
    if (!why) {
        why = tmp;
        n = sizeof tmp;
    }
    if (!f->dev_open) {
        snprintf(why, n, KVM_DEV " cannot be opened (%s): no KVM, nothing to judge with",
                 f->dev_error ? f->dev_error : "no such device");
        return RCV_KVM_NONE;
    }
    if (f->api_version != KVM_API_EXPECTED) {
        snprintf(why, n, KVM_DEV " answers KVM_GET_API_VERSION with %d, not %d: not a KVM this "
                 "judge knows", f->api_version, KVM_API_EXPECTED);
        return RCV_KVM_NONE;
    }
    bool hw = rcv_kvm_has_flag(f->cpu_flags, "vmx") || rcv_kvm_has_flag(f->cpu_flags, "svm");
    if (f->pvm_module) {
        /* Issue 5: kvm_pvm runs the guest's ring 0 under a software
         * hypervisor at host ring 3; it gets INT n, 64-bit SYSENTER and
         * Intel's SYSRET check wrong. */
        snprintf(why, n, KVM_DEV " is kvm_pvm, a software hypervisor: it runs the guest's ring 0 "
                 "in software (and gets INT n, 64-bit SYSENTER and the Intel SYSRET check "
                 "wrong)%s; refusing to judge",
                 hw ? "" : ", and the CPU shows neither vmx nor svm");
        return RCV_KVM_SOFTWARE;
    }
    if (!hw) {
        snprintf(why, n, "the CPU shows neither the vmx nor the svm flag (%s), so " KVM_DEV
                 " is not hardware virtualisation; refusing to judge",
                 f->cpu_flags ? "/proc/cpuinfo" : "/proc/cpuinfo is unreadable");
        return RCV_KVM_SOFTWARE;
    }
    snprintf(why, n, "hardware KVM (%s)", rcv_kvm_has_flag(f->cpu_flags, "vmx") ? "VMX" : "SVM");
    return RCV_KVM_HARDWARE;
}

/* The first "flags" line of /proc/cpuinfo (malloc'd), or NULL. */
static char *cpuinfo_flags(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return NULL;
    char *line = NULL, *out = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0)
        if (!strncmp(line, "flags", 5)) {
            out = strdup(line);
            break;
        }
    free(line);
    fclose(f);
    return out;
}

rcv_kvm_kind rcv_kvm_probe(char *why, size_t n)
{
    static bool done;
    static rcv_kvm_kind kind;
    static char reason[400];
    if (!done) {
        rcv_kvm_facts f = { 0 };
        int fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);
        f.dev_open = fd >= 0;
        f.dev_error = fd < 0 ? strerror(errno) : NULL;
        f.api_version = fd >= 0 ? ioctl(fd, KVM_GET_API_VERSION, 0) : -1;
        if (fd >= 0)
            close(fd);
        char *flags = cpuinfo_flags();
        f.cpu_flags = flags;
        struct stat st;
        f.pvm_module = stat(PVM_MODULE, &st) == 0;
        kind = rcv_kvm_classify(&f, reason, sizeof reason);
        free(flags);
        done = true;
    }
    if (why)
        snprintf(why, n, "%s", reason);
    return kind;
}

bool rcv_kvm_available(char *why, size_t n)
{
    return rcv_kvm_probe(why, n) == RCV_KVM_HARDWARE;
}

bool rcv_kvm_software_allowed(void)
{
    const char *e = getenv("RC_KVM_ALLOW_SOFTWARE");
    return e && !strcmp(e, "1");
}

/* Whether the judge runs at all here: hardware, or software by permission. */
static bool usable(char *why, size_t n)
{
    rcv_kvm_kind k = rcv_kvm_probe(why, n);
    return k == RCV_KVM_HARDWARE || (k == RCV_KVM_SOFTWARE && rcv_kvm_software_allowed());
}

/* ------------------------------------------------------------------ source */

static const char *source(void)
{
    static char name[96];
    bool hw = rcv_kvm_probe(NULL, 0) == RCV_KVM_HARDWARE;
    snprintf(name, sizeof name, "%s:%s", hw ? "kvm" : "kvm-software", rc_native_cpu_name());
    return name;
}

/* ------------------------------------------------------------------ can_judge */

static bool host_is(rc_vendor v)
{
    return !strncmp(rc_native_cpu_name(), v == RC_VENDOR_AMD ? "AuthenticAMD" : "GenuineIntel",
                    12);
}

static bool intel_param_yes(const char *name)
{
    char path[200], c = 0;
    snprintf(path, sizeof path, KVM_INTEL_PARAM "%s", name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    if (fread(&c, 1, 1, f) != 1)
        c = 0;
    fclose(f);
    return c == 'Y' || c == '1';
}

/* Instructions VMX/SVM hand to KVM, which implements them in C (SDM Vol. 3C
 * 26.1.2-26.1.3 "Instructions That Cause VM Exits"; AMD APM Vol. 2 15.9-15.13
 * "Intercept" operations): their answer would be KVM's, not the CPU's.
 * Privilege faults (#GP at CPL > 0, #UD) come before the exit, but a vector
 * is refused on sight: the sweep cannot know the CPL each one runs at. */
static const char *intercepted(const cs_insn *in)
{
    switch (in->id) {
    case X86_INS_IN: case X86_INS_OUT: case X86_INS_INSB: case X86_INS_INSW:
    case X86_INS_INSD: case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return "I/O instructions: the KVM judge has no devices (KVM hands them to user space)";
    case X86_INS_CPUID:
        return "CPUID: KVM answers it from the table this judge sets, not the CPU";
    case X86_INS_RDMSR: case X86_INS_WRMSR:
        return "RDMSR/WRMSR: KVM implements the MSRs in software";
    case X86_INS_RDPMC:
        return "RDPMC: KVM emulates the performance counters";
    case X86_INS_CLTS: case X86_INS_LMSW:
        return "CLTS/LMSW: KVM intercepts writes to CR0 and checks them in software";
    case X86_INS_INVD: case X86_INS_WBINVD: case X86_INS_XSETBV: case X86_INS_MONITOR:
    case X86_INS_MWAIT: case X86_INS_GETSEC: case X86_INS_RSM: case X86_INS_INVLPGA:
    case X86_INS_SKINIT: case X86_INS_STGI: case X86_INS_CLGI: case X86_INS_VMRUN:
    case X86_INS_VMLOAD: case X86_INS_VMSAVE: case X86_INS_VMMCALL: case X86_INS_VMCALL:
    case X86_INS_VMCLEAR: case X86_INS_VMFUNC: case X86_INS_VMLAUNCH: case X86_INS_VMRESUME:
    case X86_INS_VMPTRLD: case X86_INS_VMPTRST: case X86_INS_VMREAD: case X86_INS_VMWRITE:
    case X86_INS_VMXOFF: case X86_INS_VMXON:
        return "an instruction VMX/SVM always hands to KVM (INVD, WBINVD, XSETBV, MONITOR, "
               "MWAIT, GETSEC, RSM, the VMX/SVM instructions)";
    default:
        break;
    }
    if (in->id == X86_INS_MOV && in->detail) {
        const cs_x86 *x = &in->detail->x86;
        for (unsigned i = 0; i < x->op_count; i++) {
            if (x->operands[i].type != X86_OP_REG)
                continue;
            x86_reg r = x->operands[i].reg;
            if (r >= X86_REG_DR0 && r <= X86_REG_DR15)
                return "MOV to/from a debug register: KVM intercepts debug-register accesses";
            if (i == 0 && r >= X86_REG_CR0 && r <= X86_REG_CR15)
                return "MOV to a control register: KVM intercepts CR writes and checks them in "
                       "software";
        }
    }
    return NULL;
}

/* A linear sweep of the code (the mode's default operand size; 16-bit for
 * real mode and prot16). */
static const char *sweep(const rcv_vector *v)
{
    cs_mode mode = v->m.mode == RCM_LONG ? CS_MODE_64
                   : v->m.mode == RCM_REAL || v->m.mode == RCM_PROT16 ? CS_MODE_16 : CS_MODE_32;
    csh h;
    if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK)
        return "cannot open Capstone to inspect the code";
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *in = cs_malloc(h);
    const char *no = NULL;
    size_t off = 0;
    while (in && off < v->code_len && !no) {
        const uint8_t *p = v->code + off;
        size_t left = v->code_len - off;
        uint64_t addr = off;
        if (cs_disasm_iter(h, &p, &left, &addr, in)) {
            no = intercepted(in);
            off += in->size;
        } else {
            off++; /* not decodable here (#UD on the CPU): go on */
        }
    }
    if (in)
        cs_free(in, 1);
    cs_close(&h);
    return no;
}

static bool can_judge(const rcv_vector *v, char *why, size_t n)
{
    char reason[400];
    const char *no = NULL;
    if (!usable(reason, sizeof reason))
        no = reason;
    else if (!host_is(v->m.vendor))
        no = v->m.vendor == RC_VENDOR_AMD
                 ? "the vector is for AMD and this host's CPU is not: KVM runs the guest on the "
                   "host's CPU and emulates the vendor's differences (SYSENTER, SYSCALL) in "
                   "software"
                 : "the vector is for Intel and this host's CPU is not: KVM runs the guest on "
                   "the host's CPU and emulates the vendor's differences (SYSENTER, SYSCALL) in "
                   "software";
    else if (host_is(RC_VENDOR_INTEL) && (v->m.mode == RCM_REAL || v->m.no_paging) &&
             !intel_param_yes("unrestricted_guest"))
        no = "real mode or protected mode without paging on VMX without unrestricted_guest: "
             "KVM would run it through its instruction emulator";
    for (unsigned i = 0; !no && i < v->nsegs; i++)
        if (!v->segs[i].load && host_is(RC_VENDOR_INTEL))
            no = "a segment register given by hidden-part fields: a state that fails the VMX "
                 "guest-state checks (SDM Vol. 3C 27.3.1.2) would be run by KVM's instruction "
                 "emulator";
    if (!no)
        no = rcv_vector_refuses(v, "kvm");
    if (!no)
        no = sweep(v);
    if (no && why)
        snprintf(why, n, "%s", no);
    return no == NULL;
}

static uint64_t get(const rc_cpu *cpu, rc_reg r)
{
    uint64_t x = 0;
    rc_get_reg(cpu, r, &x);
    return x;
}

/* Whether the built machine can switch tasks: a task gate in the IDT, GDT
 * or LDT, an available TSS descriptor (SDM Vol. 3A 8.3 "Task Switching": a
 * JMP/CALL to one), or RFLAGS.NT outside IA-32e mode (an IRET then returns
 * to the previous task, 8.3). VMX and SVM hand every task switch to KVM,
 * which runs it in its emulator (SDM Vol. 3C 26.4.2 "Treatment of Task
 * Switches"; AMD APM Vol. 2 15.10.3), so the answer would be KVM's. */
static const char *task_switch_possible(rc_cpu *cpu, const rcv_vector *v)
{
    if (v->m.mode == RCM_REAL)
        return NULL;
    bool ia32e = v->m.mode == RCM_LONG || v->m.mode == RCM_COMPAT;
    if (!ia32e && (get(cpu, RC_REG_RFLAGS) & RFLAGS_NT))
        return "RFLAGS.NT outside IA-32e mode: an IRET would switch tasks, which VMX and SVM "
               "hand to KVM's emulator";
    if (ia32e)
        return NULL; /* IA-32e mode has no task switching (SDM Vol. 3A 8.7) */
    rc_dtable t[2];
    rc_get_gdtr(cpu, &t[0]);
    rc_get_idtr(cpu, &t[1]);
    rc_segment ldtr;
    rc_get_seg(cpu, RC_SEG_LDTR, &ldtr);
    const struct { uint64_t base; uint32_t limit; } tab[3] = {
        { t[0].base, t[0].limit }, { t[1].base, t[1].limit },
        { ldtr.base, ldtr.unusable || !ldtr.present ? 0 : ldtr.limit },
    };
    for (unsigned k = 0; k < 3; k++) {
        for (uint64_t off = 0; off + 7 <= tab[k].limit; off += 8) {
            uint8_t b[8];
            if (rc_read_phys(cpu, tab[k].base + off, b, 8) != RC_OK)
                break;
            unsigned type = b[5] & 0x1f; /* S (bit 4) and type, Figure 3-8 */
            bool present = b[5] & 0x80;
            if (present && (type == SYS_TASK_GATE || type == SYS_TSS16_AVAIL ||
                            type == SYS_TSS32_AVAIL))
                return "a task gate or an available TSS descriptor: VMX and SVM hand task "
                       "switches to KVM's emulator";
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ state */

static void seg_to_kvm(const rc_segment *s, struct kvm_segment *k)
{
    memset(k, 0, sizeof *k);
    k->base = s->base;
    k->limit = s->limit;
    k->selector = s->selector;
    k->type = s->type;
    k->present = s->present;
    k->dpl = s->dpl;
    k->db = s->db;
    k->s = s->s;
    k->l = s->l;
    k->g = s->g;
    k->avl = s->avl;
    k->unusable = s->unusable;
}

static void seg_from_kvm(const struct kvm_segment *k, rc_segment *s)
{
    memset(s, 0, sizeof *s);
    s->base = k->base;
    s->limit = k->limit;
    s->selector = k->selector;
    s->type = k->type;
    s->present = k->present;
    s->dpl = k->dpl;
    s->db = k->db;
    s->s = k->s;
    s->l = k->l;
    s->g = k->g;
    s->avl = k->avl;
    s->unusable = k->unusable;
}

/* KVM keeps CPL as SS.DPL (VMX: SDM Vol. 3C 27.3.1.2 "SS.DPL = CPL"; SVM:
 * the VMCB's CPL, which KVM loads from SS.DPL). */
static int set_sregs(int vcpu, rc_cpu *cpu, char *err, size_t n)
{
    struct kvm_sregs s;
    if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) {
        snprintf(err, n, "KVM_GET_SREGS: %s", strerror(errno));
        return -1;
    }
    struct kvm_segment *k[RC_SEG_COUNT] = { &s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs, &s.ldt,
                                            &s.tr };
    for (unsigned i = 0; i < RC_SEG_COUNT; i++) {
        rc_segment g;
        rc_get_seg(cpu, (rc_seg_reg)i, &g);
        seg_to_kvm(&g, k[i]);
    }
    uint64_t cpl = get(cpu, RC_REG_CPL);
    if (get(cpu, RC_REG_CR0) & CR0_PE) {
        if (s.ss.unusable)
            s.ss.dpl = (uint8_t)cpl;
        else if (s.ss.dpl != cpl) {
            snprintf(err, n, "CPL %u with SS.DPL %u: KVM keeps the CPL as SS.DPL and cannot hold "
                     "this state", (unsigned)cpl, s.ss.dpl);
            return -1;
        }
    }
    rc_dtable d;
    rc_get_gdtr(cpu, &d);
    s.gdt.base = d.base;
    s.gdt.limit = d.limit;
    rc_get_idtr(cpu, &d);
    s.idt.base = d.base;
    s.idt.limit = d.limit;
    s.cr0 = get(cpu, RC_REG_CR0);
    s.cr2 = get(cpu, RC_REG_CR2);
    s.cr3 = get(cpu, RC_REG_CR3);
    s.cr4 = get(cpu, RC_REG_CR4);
    s.cr8 = get(cpu, RC_REG_CR8);
    s.efer = get(cpu, RC_REG_EFER);
    if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) {
        snprintf(err, n, "KVM refused the vector's system state (KVM_SET_SREGS: %s; CR0 0x%llx "
                 "CR4 0x%llx EFER 0x%llx)", strerror(errno), (unsigned long long)s.cr0,
                 (unsigned long long)s.cr4, (unsigned long long)s.efer);
        return -1;
    }
    return 0;
}

static int set_regs(int vcpu, rc_cpu *cpu, char *err, size_t n)
{
    struct kvm_regs r;
    memset(&r, 0, sizeof r);
    __u64 *g[16] = { &r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi, &r.rdi,
                     &r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15 };
    for (unsigned i = 0; i < 16; i++)
        *g[i] = get(cpu, (rc_reg)i);
    r.rip = get(cpu, RC_REG_RIP);
    r.rflags = get(cpu, RC_REG_RFLAGS);
    if (ioctl(vcpu, KVM_SET_REGS, &r) < 0) {
        snprintf(err, n, "KVM_SET_REGS: %s", strerror(errno));
        return -1;
    }
    struct kvm_debugregs d;
    memset(&d, 0, sizeof d);
    static const rc_reg dr[4] = { RC_REG_DR0, RC_REG_DR1, RC_REG_DR2, RC_REG_DR3 };
    for (unsigned i = 0; i < 4; i++)
        d.db[i] = get(cpu, dr[i]);
    d.dr6 = get(cpu, RC_REG_DR6);
    d.dr7 = get(cpu, RC_REG_DR7);
    if (ioctl(vcpu, KVM_SET_DEBUGREGS, &d) < 0) {
        snprintf(err, n, "KVM_SET_DEBUGREGS: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The MSRs set and read back: the standard ones, every one the vector sets
 * or expects (no duplicates; the FS/GS bases travel in the segment
 * registers, EFER in the sregs). */
static unsigned msr_list(const rcv_vector *v, uint32_t *out)
{
    unsigned k = 0;
    for (size_t i = 0; i < sizeof std_msrs / sizeof std_msrs[0]; i++)
        out[k++] = std_msrs[i];
    for (unsigned i = 0; i < v->nmsrs + v->expect.nmsrs; i++) {
        uint32_t x = i < v->nmsrs ? v->msrs[i].index : v->expect.msrs[i - v->nmsrs].index;
        bool dup = x == MSR_EFER || x == MSR_FS_BASE || x == MSR_GS_BASE;
        for (unsigned j = 0; j < k && !dup; j++)
            dup = out[j] == x;
        if (!dup && k < MAX_MSRS)
            out[k++] = x;
    }
    return k;
}

typedef struct msr_buf {
    struct kvm_msrs h;
    struct kvm_msr_entry e[1];
} msr_buf;

static int one_msr(int vcpu, unsigned long req, uint32_t index, uint64_t *value)
{
    msr_buf b;
    memset(&b, 0, sizeof b);
    b.h.nmsrs = 1;
    b.e[0].index = index;
    b.e[0].data = *value;
    if (ioctl(vcpu, req, &b) != 1)
        return -1;
    *value = b.e[0].data;
    return 0;
}

static bool set_by_vector(const rcv_vector *v, uint32_t index)
{
    for (unsigned i = 0; i < v->nmsrs; i++)
        if (v->msrs[i].index == index)
            return true;
    return false;
}

/* Each MSR alone, so a refusal names it. One the vector only expects (not
 * sets) and the scenario does not know is left at KVM's value. */
static int set_msrs(int vcpu, const rcv_vector *v, rc_cpu *cpu, const uint32_t *list,
                    unsigned nlist, char *err, size_t n)
{
    for (unsigned i = 0; i < nlist; i++) {
        uint64_t x;
        if (rc_get_msr(cpu, list[i], &x) != RC_OK) {
            if (!set_by_vector(v, list[i]))
                continue;
            snprintf(err, n, "the scenario has no value for MSR 0x%x", list[i]);
            return -1;
        }
        if (one_msr(vcpu, KVM_SET_MSRS, list[i], &x)) {
            snprintf(err, n, "KVM refused MSR 0x%x = 0x%llx (KVM_SET_MSRS)", list[i],
                     (unsigned long long)x);
            return -1;
        }
    }
    return 0;
}

/* KVM_GET_SUPPORTED_CPUID as the guest's CPUID: the host's vendor. */
static int set_cpuid(int kvm, int vcpu, char *err, size_t n)
{
    size_t size = sizeof(struct kvm_cpuid2) + MAX_CPUID * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = calloc(1, size);
    if (!c) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    c->nent = MAX_CPUID;
    int rc = -1;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
        snprintf(err, n, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    else if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0)
        snprintf(err, n, "KVM_SET_CPUID2: %s", strerror(errno));
    else
        rc = 0;
    free(c);
    return rc;
}

/* ------------------------------------------------------------------ statistics */

/* The vCPU's binary statistic 'name' (Documentation/virt/kvm/api.rst
 * "KVM_GET_STATS_FD"), or -1 if KVM does not have it. */
static int64_t vcpu_stat(int statfd, const char *name)
{
    struct kvm_stats_header h;
    if (statfd < 0 || pread(statfd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        return -1;
    size_t dsize = sizeof(struct kvm_stats_desc) + h.name_size;
    char *descs = malloc(dsize * h.num_desc);
    int64_t out = -1;
    if (!descs || pread(statfd, descs, dsize * h.num_desc, h.desc_offset) !=
                      (ssize_t)(dsize * h.num_desc)) {
        free(descs);
        return -1;
    }
    for (uint32_t i = 0; i < h.num_desc; i++) {
        const struct kvm_stats_desc *d = (const void *)(descs + i * dsize);
        if (strncmp(d->name, name, h.name_size))
            continue;
        uint64_t value;
        if (pread(statfd, &value, sizeof value, h.data_offset + d->offset) == sizeof value)
            out = (int64_t)value;
        break;
    }
    free(descs);
    return out;
}

/* ------------------------------------------------------------------ the watchdog */

static void on_tick(int sig)
{
    (void)sig; /* its only job: make KVM_RUN return with EINTR */
}

typedef struct watchdog {
    timer_t t;
    bool armed;
    int sig;
    struct sigaction old;
} watchdog;

/* A periodic signal to this thread: KVM_RUN returns -EINTR at each tick,
 * and the loop looks at the clock. Periodic, so a tick that lands just
 * before KVM_RUN is entered cannot leave it running for good. */
static int watchdog_start(watchdog *w, char *err, size_t n)
{
    memset(w, 0, sizeof *w);
    w->sig = SIGRTMIN + 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick; /* no SA_RESTART: the ioctl must return */
    sigemptyset(&sa.sa_mask);
    if (sigaction(w->sig, &sa, &w->old) < 0) {
        snprintf(err, n, "sigaction: %s", strerror(errno));
        return -1;
    }
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = w->sig;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &ev, &w->t) < 0) {
        snprintf(err, n, "timer_create: %s", strerror(errno));
        sigaction(w->sig, &w->old, NULL);
        return -1;
    }
    struct itimerspec it = { { 0, TICK_NS }, { 0, TICK_NS } };
    timer_settime(w->t, 0, &it, NULL);
    w->armed = true;
    return 0;
}

static void watchdog_stop(watchdog *w)
{
    if (!w->armed)
        return;
    timer_delete(w->t);
    /* A tick still pending is taken by the handler, then the old one returns. */
    sigaction(w->sig, &w->old, NULL);
    w->armed = false;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double timeout_s(void)
{
    const char *e = getenv("RC_KVM_TIMEOUT");
    double t = e ? atof(e) : 0;
    return t > 0 ? t : DEFAULT_TIMEOUT_S;
}

/* ------------------------------------------------------------------ memory */

/* The guest's RAM as KVM left it, read through its final page tables
 * (rck_read_linear, kend.c). */
static int rd_mem(void *ctx, uint64_t linear, void *buf, size_t len)
{
    const kvm_ctx *c = ctx;
    rck_ram_image m = { c->ram, RAM, c->cr0, c->cr3, c->cr4, c->efer };
    return rck_read_linear(&m, linear, buf, len, false);
}

static int rd_msr(void *ctx, uint32_t index, uint64_t *value)
{
    const kvm_ctx *c = ctx;
    if (index == MSR_EFER) {
        *value = c->efer;
        return 0;
    }
    for (unsigned i = 0; i < c->nmsr; i++)
        if (c->msr_index[i] == index) {
            *value = c->msr_value[i];
            return 0;
        }
    return -1;
}

/* ------------------------------------------------------------------ the end */

/* The end of a halted run: rck_judge_halt (kend.c), shared with the QEMU
 * and Bochs judges (same standard handler stubs, same frames). */
static int judge_halt(kvm_ctx *c, rcv_result *r, char *err, size_t n)
{
    rck_end_view w = { "KVM", c->efer, c->gdt_base, c->idt_base, rd_mem, c, c->code_addr };
    return rck_judge_halt(&w, r, err, n);
}

/* ------------------------------------------------------------------ read back */

static int read_back(int vcpu, kvm_ctx *c, rcv_result *r, const uint32_t *list, unsigned nlist,
                     char *err, size_t n)
{
    struct kvm_regs g;
    struct kvm_sregs s;
    struct kvm_debugregs d;
    if (ioctl(vcpu, KVM_GET_REGS, &g) < 0 || ioctl(vcpu, KVM_GET_SREGS, &s) < 0 ||
        ioctl(vcpu, KVM_GET_DEBUGREGS, &d) < 0) {
        snprintf(err, n, "reading the vCPU's state back: %s", strerror(errno));
        return -1;
    }
    const uint64_t gpr[16] = { g.rax, g.rcx, g.rdx, g.rbx, g.rsp, g.rbp, g.rsi, g.rdi,
                               g.r8, g.r9, g.r10, g.r11, g.r12, g.r13, g.r14, g.r15 };
    for (unsigned i = 0; i < 16; i++)
        r->reg[i] = gpr[i];
    r->reg[RC_REG_RIP] = g.rip;
    r->reg[RC_REG_RFLAGS] = g.rflags;
    r->reg[RC_REG_CR0] = s.cr0;
    r->reg[RC_REG_CR2] = s.cr2;
    r->reg[RC_REG_CR3] = s.cr3;
    r->reg[RC_REG_CR4] = s.cr4;
    r->reg[RC_REG_CR8] = s.cr8;
    r->reg[RC_REG_DR0] = d.db[0];
    r->reg[RC_REG_DR1] = d.db[1];
    r->reg[RC_REG_DR2] = d.db[2];
    r->reg[RC_REG_DR3] = d.db[3];
    r->reg[RC_REG_DR6] = d.dr6;
    r->reg[RC_REG_DR7] = d.dr7;
    r->reg[RC_REG_EFER] = s.efer;
    /* CPL (SDM Vol. 3A 5.5): 0 in real mode, 3 in virtual-8086 mode, else SS.DPL. */
    r->reg[RC_REG_CPL] = !(s.cr0 & CR0_PE) ? 0 : (g.rflags & RFLAGS_VM) ? 3 : s.ss.dpl;
    r->reg_valid = (1ull << (RC_REG_CPL + 1)) - 1;
    const struct kvm_segment *k[RC_SEG_COUNT] = { &s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs,
                                                  &s.ldt, &s.tr };
    for (unsigned i = 0; i < RC_SEG_COUNT; i++)
        seg_from_kvm(k[i], &r->seg[i]);
    r->seg_valid = (1u << RC_SEG_COUNT) - 1;
    c->cr0 = s.cr0;
    c->cr3 = s.cr3;
    c->cr4 = s.cr4;
    c->efer = s.efer;
    c->gdt_base = s.gdt.base;
    c->idt_base = s.idt.base;
    c->nmsr = 0;
    for (unsigned i = 0; i < nlist; i++) {
        uint64_t x = 0;
        if (!one_msr(vcpu, KVM_GET_MSRS, list[i], &x)) {
            c->msr_index[c->nmsr] = list[i];
            c->msr_value[c->nmsr++] = x;
        }
    }
    /* The bases: KVM keeps them in the segment registers. */
    c->msr_index[c->nmsr] = MSR_FS_BASE;
    c->msr_value[c->nmsr++] = s.fs.base;
    c->msr_index[c->nmsr] = MSR_GS_BASE;
    c->msr_value[c->nmsr++] = s.gs.base;
    return 0;
}

/* ------------------------------------------------------------------ run */

typedef struct kvm_vm {
    int kvm, vm, vcpu, stats;
    struct kvm_run *run;
    size_t run_size;
} kvm_vm;

static void vm_close(kvm_vm *m)
{
    if (m->run && m->run != MAP_FAILED)
        munmap(m->run, m->run_size);
    if (m->stats >= 0)
        close(m->stats);
    if (m->vcpu >= 0)
        close(m->vcpu);
    if (m->vm >= 0)
        close(m->vm);
    if (m->kvm >= 0)
        close(m->kvm);
}

static int vm_open(kvm_vm *m, uint8_t *ram, char *err, size_t n)
{
    m->kvm = open(KVM_DEV, O_RDWR | O_CLOEXEC);
    if (m->kvm < 0) {
        snprintf(err, n, KVM_DEV ": %s", strerror(errno));
        return -1;
    }
    m->vm = ioctl(m->kvm, KVM_CREATE_VM, 0);
    if (m->vm < 0) {
        snprintf(err, n, "KVM_CREATE_VM: %s", strerror(errno));
        return -1;
    }
    /* VMX needs three pages for its real-mode TSS before the first run;
     * SVM ignores it. Outside the 16 MiB of RAM. */
    (void)ioctl(m->vm, KVM_SET_TSS_ADDR, VMX_TSS_ADDR);
    struct kvm_userspace_memory_region slot = { 0, 0, 0, RAM, (uint64_t)(uintptr_t)ram };
    if (ioctl(m->vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
        snprintf(err, n, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        return -1;
    }
    m->vcpu = ioctl(m->vm, KVM_CREATE_VCPU, 0);
    if (m->vcpu < 0) {
        snprintf(err, n, "KVM_CREATE_VCPU: %s", strerror(errno));
        return -1;
    }
    int size = ioctl(m->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0) {
        snprintf(err, n, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        return -1;
    }
    m->run_size = (size_t)size;
    m->run = mmap(NULL, m->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->vcpu, 0);
    if (m->run == MAP_FAILED) {
        m->run = NULL;
        snprintf(err, n, "mmap of the vCPU's run area: %s", strerror(errno));
        return -1;
    }
    m->stats = ioctl(m->vcpu, KVM_GET_STATS_FD, 0);
    return 0;
}

/* KVM_RUN until the guest halts or shuts down; 0 with *end, -1 with err. */
static int run_guest(kvm_vm *m, rcv_end *end, char *err, size_t n)
{
    watchdog w;
    if (watchdog_start(&w, err, n))
        return -1;
    double deadline = now_s() + timeout_s();
    int rc = -1;
    for (;;) {
        if (ioctl(m->vcpu, KVM_RUN, 0) < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                snprintf(err, n, "KVM_RUN: %s", strerror(errno));
                break;
            }
            if (now_s() >= deadline) {
                snprintf(err, n, "the vector did not end within %.1f s (RC_KVM_TIMEOUT)",
                         timeout_s());
                break;
            }
            continue;
        }
        const struct kvm_run *r = m->run;
        if (r->exit_reason == KVM_EXIT_INTR) {
            if (now_s() >= deadline) {
                snprintf(err, n, "the vector did not end within %.1f s (RC_KVM_TIMEOUT)",
                         timeout_s());
                break;
            }
            continue;
        }
        if (r->exit_reason == KVM_EXIT_HLT || r->exit_reason == KVM_EXIT_SHUTDOWN) {
            *end = r->exit_reason == KVM_EXIT_HLT ? RCV_END_HLT : RCV_END_SHUTDOWN;
            rc = 0;
        } else if (r->exit_reason == KVM_EXIT_IO) {
            snprintf(err, n, "the vector did I/O (%s port 0x%x): the KVM judge has no devices",
                     r->io.direction == KVM_EXIT_IO_OUT ? "OUT to" : "IN from", r->io.port);
        } else if (r->exit_reason == KVM_EXIT_MMIO) {
            snprintf(err, n, "the vector touched guest-physical 0x%llx, outside the 16 MiB of RAM",
                     (unsigned long long)r->mmio.phys_addr);
        } else if (r->exit_reason == KVM_EXIT_FAIL_ENTRY) {
            snprintf(err, n, "the CPU refused to enter the vector's state (KVM_EXIT_FAIL_ENTRY, "
                     "reason 0x%llx)",
                     (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
        } else if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
            snprintf(err, n, "KVM internal error (suberror %u%s)", r->internal.suberror,
                     r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                         ? ": its instruction emulator failed" : "");
        } else {
            snprintf(err, n, "KVM_RUN ended with exit reason %u, which the judge does not know",
                     r->exit_reason);
        }
        break;
    }
    watchdog_stop(&w);
    return rc;
}

static void release(rcv_result *r)
{
    kvm_ctx *c = r->ctx;
    if (c) {
        if (c->ram)
            munmap(c->ram, RAM);
        free(c);
    }
    r->ctx = NULL;
}

static int run(const rcv_vector *v, rcv_result *r, char *err, size_t n)
{
    memset(r, 0, sizeof *r);
    r->vector = -1;
    if (!can_judge(v, err, n))
        return -1;
    rc_cpu *cpu;
    if (rcv_scenario_build(v, &cpu, err, n))
        return -1;
    kvm_ctx *c = calloc(1, sizeof *c);
    kvm_vm m = { -1, -1, -1, -1, NULL, 0 };
    int rc = -1;
    if (!c) {
        snprintf(err, n, "out of memory");
        goto out;
    }
    c->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    if (c->ram == MAP_FAILED) {
        c->ram = NULL;
        snprintf(err, n, "mmap of the guest's RAM: %s", strerror(errno));
        goto out;
    }
    const char *task = task_switch_possible(cpu, v);
    if (task) {
        snprintf(err, n, "%s", task);
        goto out;
    }
    memcpy(c->ram, rc_ram_ptr(cpu, 0, RAM), RAM);
    uint32_t list[MAX_MSRS];
    unsigned nlist = msr_list(v, list);
    if (vm_open(&m, c->ram, err, n) || set_cpuid(m.kvm, m.vcpu, err, n) ||
        set_sregs(m.vcpu, cpu, err, n) || set_regs(m.vcpu, cpu, err, n) ||
        set_msrs(m.vcpu, v, cpu, list, nlist, err, n))
        goto out;
    int64_t emul0 = vcpu_stat(m.stats, "insn_emulation");
    rcv_end end;
    if (run_guest(&m, &end, err, n) || read_back(m.vcpu, c, r, list, nlist, err, n))
        goto out;
    r->end = end;
    c->code_addr = rcm_code_addr(v->m.mode, v->m.cpl);
    if (end == RCV_END_HLT && judge_halt(c, r, err, n))
        goto out;
    /* KVM's instruction emulator, not the CPU, answered part of the run;
     * allowed once for an instruction the CPU refused with #UD (KVM decodes
     * it, finds nothing of its own to emulate, and reflects the CPU's #UD). */
    int64_t emul = emul0 >= 0 ? vcpu_stat(m.stats, "insn_emulation") - emul0 : 0;
    bool ud = r->end == RCV_END_EXCEPTION && r->vector == RC_EXC_UD;
    /* A software KVM (allowed for development only) emulates as a rule:
     * its results are never recorded, so they are returned as they are. */
    bool hw = rcv_kvm_probe(NULL, 0) == RCV_KVM_HARDWARE;
    if (hw && emul > (ud ? 1 : 0)) {
        snprintf(err, n, "KVM's instruction emulator ran %lld instruction(s) of this vector: "
                 "the answer would be KVM's, not the CPU's", (long long)emul);
        goto out;
    }
    r->read_mem = rd_mem;
    r->read_msr = rd_msr;
    rcv_apply_not_judged(v, r, "kvm", true);
    r->ctx = c;
    c = NULL;
    rc = 0;
out:
    vm_close(&m);
    if (c) {
        if (c->ram)
            munmap(c->ram, RAM);
        free(c);
    }
    rc_destroy(cpu);
    if (rc)
        r->ctx = NULL;
    return rc;
}

const rcv_backend rcv_backend_kvm = { "kvm", source, can_judge, run, release };

/* ------------------------------------------------------------------ record */

#ifdef RC_HAVE_CJSON

cJSON *rcv_kvm_expect(const rcv_vector *v, const rcv_result *r, char *why, size_t n)
{
    if (strncmp(source(), "kvm:", 4)) {
        snprintf(why, n, "%s is a software KVM: its results are never recorded", source());
        return NULL;
    }
    /* 64-bit names where the final CS is a 64-bit code segment. */
    rcv_expect_opts o = { .source = source(),
                          .wide = (r->reg[RC_REG_EFER] & EFER_LMA) && r->seg[RC_SEG_CS].l,
                          .with_mem = true };
    return rcv_judge_expect(v, r, &o, why, n);
}

#endif /* RC_HAVE_CJSON */

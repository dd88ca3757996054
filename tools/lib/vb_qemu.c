/*
 * vb_qemu.c - the QEMU backend: a vector run inside QEMU (TCG) through the
 * test kernel (tests/kernel/README.md), its end state read from QEMU's
 * monitor.
 *
 * run(): the scenario is built (rcv_scenario_build), turned into the
 * kernel's payload (kimage.c), written into a copy of the kernel's disk
 * image, and booted with qemu-system-x86_64 exactly as tools/kernel-run.sh
 * does (TCG only, never KVM) plus a QMP socket. The kernel installs the
 * state, logs "enter" on port 0xE9 and enters the vector. Every standard
 * handler stub is HLT behind an interrupt gate, so a vector's end leaves
 * QEMU's CPU halted (HMP "info registers": HLT=1); a triple fault ends QEMU
 * (-no-reboot). The backend then reads the registers with "info registers"
 * and all 16 MiB of the vector's RAM with "pmemsave", and quits QEMU.
 *
 * What it sees: the GPRs, RIP, RFLAGS, CPL, CR0/2/3/4, DR0-3/6/7, EFER, the
 * eight segment registers with selector, base, limit and attributes, and
 * memory (linear addresses translated through the final page tables, by
 * the walker below, over QEMU's physical memory). Not: CR8, MSRs other than
 * EFER and the FS/GS bases, and in 32-bit display (final CS not 64-bit)
 * the upper halves of the GPRs and R8-R15 (QEMU prints EAX.., not RAX..).
 */
#ifdef RC_HAVE_CJSON

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/kimage.h"
#include "lib/kimage_host.h"
#include "lib/vexpect.h"
#include "lib/scenario.h"
#include "lib/vb_qemu.h"
#include "lib/vbackend.h"

#define QEMU_BIN "qemu-system-x86_64"
#define QEMU_MODEL "qemu64"
#define DEFAULT_TIMEOUT_S 10.0
#define ENTER_LINE "ringcore-kernel: enter\n"
#define RAM RCK_VEC_RAM
#define PC_HOLE_LO 0xa0000ull
#define PC_HOLE_HI 0x100000ull
#define MSR_EFER 0xc0000080u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u

typedef struct qemu_ctx {
    uint8_t *ram;            /* the final 16 MiB (physical), or NULL */
    uint64_t cr0, cr3, cr4, efer;
    bool fsgs_bases;         /* the FS/GS bases were shown (64-bit display) */
    uint64_t fs_base, gs_base;
    uint64_t gdt_base, idt_base;
    uint64_t code_addr;      /* where the vector's code starts (rcm_code_addr) */
} qemu_ctx;

/* ------------------------------------------------------------------ source */

static const char *source(void)
{
    static char name[64];
    if (name[0])
        return name;
    int major, minor;
    rck_program_version(QEMU_BIN " --version 2>/dev/null", "QEMU emulator version %d.%d", &major,
                        &minor);
    snprintf(name, sizeof name, "qemu-%d.%d:" QEMU_MODEL, major, minor);
    return name;
}

/* ------------------------------------------------------------------ can_judge */

static bool can_judge(const rcv_vector *v, char *why, size_t n)
{
    const char *no = NULL;
    if (!strncmp(source(), "qemu-0.0:", 9))
        no = QEMU_BIN " is not installed (Debian: qemu-system-x86)";
    else
        no = rck_kernel_refuses(v, "qemu");
    if (no && why)
        snprintf(why, n, "%s", no);
    return no == NULL;
}

/* ------------------------------------------------------------------ the disk */

/* ------------------------------------------------------------------ QEMU and QMP */

typedef struct qmp {
    int fd;
    char buf[1 << 16];
    size_t len;
} qmp;

/* One line (a JSON object) from QMP, or NULL on timeout/EOF. */
static char *qmp_line(qmp *q, double deadline)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (nl) {
            size_t k = (size_t)(nl - q->buf);
            char *line = malloc(k + 1);
            if (!line)
                return NULL;
            memcpy(line, q->buf, k);
            line[k] = 0;
            memmove(q->buf, nl + 1, q->len - k - 1);
            q->len -= k + 1;
            return line;
        }
        double left = deadline - rck_now_s();
        if (left <= 0 || q->len == sizeof q->buf)
            return NULL;
        struct pollfd p = { q->fd, POLLIN, 0 };
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            return NULL;
        ssize_t got = read(q->fd, q->buf + q->len, sizeof q->buf - q->len);
        if (got <= 0)
            return NULL;
        q->len += (size_t)got;
    }
}

/* Send a command; the parsed reply ({"return": ...} or {"error": ...}),
 * events skipped, or NULL. */
static cJSON *qmp_cmd(qmp *q, const char *json, double deadline)
{
    /* One send with the newline: QMP's streaming parser runs a complete
     * object at once ("quit" exits before a separate newline arrives).
     * MSG_NOSIGNAL: QEMU may have exited (a triple fault, quit) since the
     * last look; a write to its closed socket must fail, not raise SIGPIPE. */
    char line[1024];
    int n = snprintf(line, sizeof line, "%s\n", json);
    if (n < 0 || (size_t)n >= sizeof line || send(q->fd, line, (size_t)n, MSG_NOSIGNAL) != n)
        return NULL;
    for (;;) {
        char *line = qmp_line(q, deadline);
        if (!line)
            return NULL;
        cJSON *o = cJSON_Parse(line);
        free(line);
        if (o && (cJSON_GetObjectItemCaseSensitive(o, "return") ||
                  cJSON_GetObjectItemCaseSensitive(o, "error")))
            return o;
        cJSON_Delete(o);
    }
}

/* HMP through QMP: the text an HMP command prints (malloc'd), or NULL. */
static char *hmp(qmp *q, const char *cmd, double deadline)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"%s\"}}",
             cmd);
    cJSON *o = qmp_cmd(q, json, deadline);
    const cJSON *r = o ? cJSON_GetObjectItemCaseSensitive(o, "return") : NULL;
    char *s = cJSON_IsString(r) ? strdup(r->valuestring) : NULL;
    cJSON_Delete(o);
    return s;
}

typedef struct qrun {
    char dir[256];
    pid_t pid;
    int status;              /* when exited */
    bool exited;
} qrun;

static int spawn_qemu(qrun *qr, const char *disk, rc_vendor vendor, char *err, size_t n)
{
    char drive[600], debugcon[300], qmpopt[300], cpu[64], out[300];
    /* QEMU's -drive parser needs commas in the file name doubled; ours has none. */
    snprintf(drive, sizeof drive, "file=%s,format=raw,if=ide,index=0,media=disk,snapshot=on",
             disk);
    snprintf(debugcon, sizeof debugcon, "file:%s/e9.raw", qr->dir);
    snprintf(qmpopt, sizeof qmpopt, "unix:%s/qmp,server=on,wait=off", qr->dir);
    snprintf(cpu, sizeof cpu, QEMU_MODEL ",vendor=%s",
             vendor == RC_VENDOR_AMD ? "AuthenticAMD" : "GenuineIntel");
    snprintf(out, sizeof out, "%s/qemu.out", qr->dir);
    /* tools/kernel-run.sh's command line, plus the QMP socket. -accel tcg is
     * the only accelerator: never KVM (this project's /dev/kvm may be a
     * software KVM). */
    char *argv[] = { QEMU_BIN, "-accel", "tcg", "-machine", "pc", "-cpu", cpu, "-m", "64",
                     "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
                     "-drive", drive, "-debugcon", debugcon,
                     "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                     "-qmp", qmpopt, NULL };
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, n, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* QEMU must not outlive this process (a killed test, ^C): it would sit
         * halted for good. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in >= 0)
            dup2(in, 0);
        if (o >= 0) {
            dup2(o, 1);
            dup2(o, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    qr->pid = pid;
    return 0;
}

static bool poll_exit(qrun *qr)
{
    if (!qr->exited && waitpid(qr->pid, &qr->status, WNOHANG) == qr->pid)
        qr->exited = true;
    return qr->exited;
}

static void stop_qemu(qrun *qr, qmp *q)
{
    if (q && q->fd >= 0 && !poll_exit(qr)) {
        cJSON_Delete(qmp_cmd(q, "{\"execute\":\"quit\"}", rck_now_s() + 2));
    }
    for (int i = 0; i < 200 && !poll_exit(qr); i++)
        rck_sleep_ms(5);
    if (!qr->exited) {
        kill(qr->pid, SIGKILL);
        waitpid(qr->pid, &qr->status, 0);
        qr->exited = true;
    }
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, k = 0;
    char *s = malloc(cap + 1);
    size_t got;
    while (s && (got = fread(s + k, 1, cap - k, f)) > 0) {
        k += got;
        if (k == cap) {
            char *t = realloc(s, 2 * cap + 1);
            if (!t) {
                free(s);
                s = NULL;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[k] = 0;
    if (len)
        *len = k;
    return s;
}

static void remove_dir(const char *dir)
{
    static const char *const files[] = { "disk.img", "e9.raw", "qmp", "qemu.out", "mem.bin",
                                         "regs.txt" };
    char p[400];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------------ info registers */

/* "KEY=hex" anywhere in s. */
static bool find_hex(const char *s, const char *key, uint64_t *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    char *end;
    errno = 0;
    *v = strtoull(p + strlen(key), &end, 16);
    return end != p + strlen(key) && !errno;
}

/* A segment line "ES =0000 0000000000000000 ffffffff 00cf9300": selector,
 * base, limit (already scaled), and the descriptor's attribute bits as they
 * sit in its high dword (QEMU's SegmentCache.flags; SDM Vol. 3A 3.4.5
 * Figure 3-8: type 11:8, S 12, DPL 14:13, P 15, AVL 20, L 21, D/B 22, G 23). */
static bool parse_seg(const char *s, const char *key, rc_segment *g)
{
    const char *p = strstr(s, key);
    unsigned sel, lim, fl;
    unsigned long long base;
    if (!p || sscanf(p + strlen(key), "%x %llx %x %x", &sel, &base, &lim, &fl) != 4)
        return false;
    memset(g, 0, sizeof *g);
    g->selector = (uint16_t)sel;
    g->base = base;
    g->limit = lim;
    g->type = (fl >> 8) & 0xf;
    g->s = (fl >> 12) & 1;
    g->dpl = (fl >> 13) & 3;
    g->present = (fl >> 15) & 1;
    g->avl = (fl >> 20) & 1;
    g->l = (fl >> 21) & 1;
    g->db = (fl >> 22) & 1;
    g->g = (fl >> 23) & 1;
    /* QEMU keeps no "unusable" bit: a null selector load leaves P = 0 (a
     * register can hold a not-present descriptor no other way). */
    g->unusable = !g->present;
    return true;
}

static int parse_regs(const rcv_vector *v, const char *s, rcv_result *r, qemu_ctx *c, char *err,
                      size_t n)
{
    static const char *const wide[16] = { "RAX=", "RCX=", "RDX=", "RBX=", "RSP=", "RBP=",
                                          "RSI=", "RDI=", "R8 =", "R9 =", "R10=", "R11=",
                                          "R12=", "R13=", "R14=", "R15=" };
    static const char *const narrow[8] = { "EAX=", "ECX=", "EDX=", "EBX=", "ESP=", "EBP=",
                                           "ESI=", "EDI=" };
    /* QEMU prints 64-bit registers only when CS is a 64-bit code segment
     * (x86_cpu_dump_state: HF_CS64_MASK); otherwise EAX.. and 32-bit bases. */
    bool is64 = strstr(s, "RAX=") != NULL;
    for (unsigned i = 0; i < (is64 ? 16u : 8u); i++) {
        if (!find_hex(s, is64 ? wide[i] : narrow[i], &r->reg[i])) {
            snprintf(err, n, "QEMU's info registers has no %s", is64 ? wide[i] : narrow[i]);
            return -1;
        }
        if (is64 || !rcv_expects_wide(v, i))
            r->reg_valid |= 1ull << i;
    }
    uint64_t x;
    if (!find_hex(s, is64 ? "RIP=" : "EIP=", &r->reg[RC_REG_RIP]) ||
        !find_hex(s, is64 ? "RFL=" : "EFL=", &r->reg[RC_REG_RFLAGS]) ||
        !find_hex(s, "CPL=", &x)) {
        snprintf(err, n, "QEMU's info registers has no RIP/RFLAGS/CPL");
        return -1;
    }
    r->reg[RC_REG_CPL] = x;
    r->reg_valid |= 1ull << RC_REG_RFLAGS | 1ull << RC_REG_CPL;
    if (is64 || !rcv_expects_wide(v, RC_REG_RIP))
        r->reg_valid |= 1ull << RC_REG_RIP;
    static const struct { const char *key; rc_reg id; } ctl[] = {
        { "CR0=", RC_REG_CR0 }, { "CR2=", RC_REG_CR2 }, { "CR3=", RC_REG_CR3 },
        { "CR4=", RC_REG_CR4 }, { "DR0=", RC_REG_DR0 }, { "DR1=", RC_REG_DR1 },
        { "DR2=", RC_REG_DR2 }, { "DR3=", RC_REG_DR3 }, { "DR6=", RC_REG_DR6 },
        { "DR7=", RC_REG_DR7 }, { "EFER=", RC_REG_EFER },
    };
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++)
        if (find_hex(s, ctl[i].key, &r->reg[ctl[i].id]))
            r->reg_valid |= 1ull << ctl[i].id;
    static const char *const segs[RC_SEG_COUNT] = { "ES =", "CS =", "SS =", "DS =",
                                                    "FS =", "GS =", "LDT=", "TR =" };
    for (unsigned i = 0; i < RC_SEG_COUNT; i++)
        if (parse_seg(s, segs[i], &r->seg[i]))
            r->seg_valid |= 1u << i;
    c->cr0 = r->reg[RC_REG_CR0];
    c->cr3 = r->reg[RC_REG_CR3];
    c->cr4 = r->reg[RC_REG_CR4];
    c->efer = r->reg[RC_REG_EFER];
    uint64_t lim;
    const char *g = strstr(s, "GDT=");
    unsigned long long b;
    if (g && sscanf(g + 4, "%llx %" SCNx64, &b, &lim) == 2)
        c->gdt_base = b;
    g = strstr(s, "IDT=");
    if (g && sscanf(g + 4, "%llx %" SCNx64, &b, &lim) == 2)
        c->idt_base = b;
    c->fsgs_bases = is64;
    c->fs_base = r->seg[RC_SEG_FS].base;
    c->gs_base = r->seg[RC_SEG_GS].base;
    return 0;
}

/* ------------------------------------------------------------------ memory */

/* The final memory as QEMU left it (pmemsave), read through its final page
 * tables (rck_read_linear, kend.c); the PC hole is not judged. */
static int rd_mem(void *ctx, uint64_t linear, void *buf, size_t len)
{
    const qemu_ctx *c = ctx;
    rck_ram_image m = { c->ram, RAM, c->cr0, c->cr3, c->cr4, c->efer };
    return rck_read_linear(&m, linear, buf, len, true);
}

static int rd_msr(void *ctx, uint32_t index, uint64_t *value)
{
    const qemu_ctx *c = ctx;
    if (index == MSR_EFER) {
        *value = c->efer;
        return 0;
    }
    if (c->fsgs_bases && (index == MSR_FS_BASE || index == MSR_GS_BASE)) {
        *value = index == MSR_FS_BASE ? c->fs_base : c->gs_base;
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------ the end */

/* The end of a halted run (rck_judge_halt, kend.c), then QEMU's own RF. */
static int judge_halt(qemu_ctx *c, rcv_result *r, char *err, size_t n)
{
    rck_end_view w = { "QEMU", c->efer, c->gdt_base, c->idt_base, rd_mem, c, c->code_addr };
    if (rck_judge_halt(&w, r, err, n))
        return -1;
    if (r->end != RCV_END_EXCEPTION && r->end != RCV_END_INT)
        return 0;
    unsigned vec = (unsigned)r->vector;
    bool int_n = r->end == RCV_END_INT;
    /* QEMU 7.2 (TCG) never sets RF in the RFLAGS image it pushes for a
     * fault; the SDM (Vol. 3A 18.3.1.1) and the CPU push RF = 1 for every
     * fault but an instruction breakpoint. So the frame's RFLAGS of a fault
     * end is not judged (RC_QEMU_JUDGE_RF=1 judges it anyway, to show the
     * difference). Traps (#BP, #OF) and INT n keep it. */
    bool trap = int_n || vec == RC_EXC_BP || vec == RC_EXC_OF;
    const char *strict = getenv("RC_QEMU_JUDGE_RF");
    if (!trap && !(strict && strict[0] == '1'))
        r->frame_mask &= ~(unsigned)RCV_FR_RFLAGS;
    return 0;
}

static double timeout_s(void)
{
    const char *e = getenv("RC_QEMU_TIMEOUT");
    double t = e ? atof(e) : 0;
    return t > 0 ? t : DEFAULT_TIMEOUT_S;
}

/* The kernel's last log line (its error), for messages. */
static void last_line(const char *log, char *out, size_t n)
{
    const char *end = log + strlen(log), *p;
    while (end > log && end[-1] == '\n')
        end--;
    for (p = end; p > log && p[-1] != '\n'; p--)
        ;
    snprintf(out, n, "%.*s", (int)(end - p), p);
}

static int connect_qmp(qrun *qr, qmp *q, double deadline, char *err, size_t n)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/qmp", qr->dir) >= sizeof a.sun_path) {
        snprintf(err, n, "temporary directory name too long for a socket: %s", qr->dir);
        return -1;
    }
    q->len = 0;
    while (rck_now_s() < deadline && !poll_exit(qr)) {
        q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (q->fd >= 0 && !connect(q->fd, (struct sockaddr *)&a, sizeof a)) {
            char *greeting = qmp_line(q, deadline);
            free(greeting);
            cJSON *o = qmp_cmd(q, "{\"execute\":\"qmp_capabilities\"}", deadline);
            bool good = o && cJSON_GetObjectItemCaseSensitive(o, "return");
            cJSON_Delete(o);
            if (good)
                return 0;
        }
        if (q->fd >= 0)
            close(q->fd);
        q->fd = -1;
        rck_sleep_ms(5);
    }
    snprintf(err, n, "could not talk to QEMU's QMP socket (see %s/qemu.out)", qr->dir);
    return -1;
}

static void release(rcv_result *r)
{
    qemu_ctx *c = r->ctx;
    if (c) {
        free(c->ram);
        free(c);
    }
    r->ctx = NULL;
}

/* Only the expected MSRs QEMU shows (EFER; FS/GS base in 64-bit display). */
static bool msrs_visible(const rcv_vector *v, const qemu_ctx *c)
{
    for (unsigned i = 0; i < v->expect.nmsrs; i++) {
        uint64_t x;
        if (rd_msr((void *)c, v->expect.msrs[i].index, &x))
            return false;
    }
    return true;
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
    uint8_t *payload = NULL;
    size_t plen = 0;
    uint64_t pdes[RCK_KERNEL_PDES], cr0 = 0, cr3 = 0;
    unsigned npde = 0;
    rc_get_reg(cpu, RC_REG_CR0, &cr0);
    rc_get_reg(cpu, RC_REG_CR3, &cr3);
    int bad = rck_vector_payload(v, cpu, &payload, &plen, err, n) ||
              rck_kernel_pdes(rc_ram_ptr(cpu, 0, RAM), v->m.mode, cr0, cr3, pdes, &npde, err, n);
    rc_destroy(cpu);
    char base[4096];
    if (bad || rck_find_image(base, sizeof base, err, n)) {
        free(payload);
        return -1;
    }
    qrun qr;
    memset(&qr, 0, sizeof qr);
    const char *tmp = getenv("TMPDIR");
    snprintf(qr.dir, sizeof qr.dir, "%s/rcqemu.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(qr.dir)) {
        snprintf(err, n, "mkdtemp: %s", strerror(errno));
        free(payload);
        return -1;
    }
    char disk[400], path[400];
    snprintf(disk, sizeof disk, "%s/disk.img", qr.dir);
    size_t dsize = rck_write_payload_disk(base, disk, payload, plen, err, n);
    free(payload);
    if (!dsize || spawn_qemu(&qr, disk, v->m.vendor, err, n)) {
        remove_dir(qr.dir);
        return -1;
    }
    double t0 = rck_now_s(), deadline = t0 + timeout_s();
    qmp q = { .fd = -1 };
    qemu_ctx *c = calloc(1, sizeof *c);
    char *regs = NULL, *log = NULL;
    int rc = -1;
    if (!c) {
        snprintf(err, n, "out of memory");
        goto out;
    }
    /* A vector that triple-faults at once may end QEMU before the socket
     * answers: then its exit status still tells the end. */
    bool have_qmp = !connect_qmp(&qr, &q, deadline, err, n);
    if (!have_qmp && !poll_exit(&qr))
        goto out;
    snprintf(path, sizeof path, "%s/e9.raw", qr.dir);
    bool entered = false, halted = false;
    while (have_qmp && rck_now_s() < deadline && !poll_exit(&qr)) {
        if (!entered) {
            free(log);
            log = read_text(path, NULL);
            entered = log && strstr(log, ENTER_LINE);
        }
        if (entered) {
            free(regs);
            regs = hmp(&q, "info registers", deadline);
            if (regs && strstr(regs, "HLT=1")) {
                halted = true;
                break;
            }
        }
        rck_sleep_ms(2);
    }
    free(log);
    log = read_text(path, NULL);
    entered = log && strstr(log, ENTER_LINE);
    if (!halted && !qr.exited) {
        snprintf(err, n, "the vector did not end within %.0f s (RC_QEMU_TIMEOUT)", timeout_s());
        goto out;
    }
    if (!halted) {
        /* QEMU ended by itself: -no-reboot turns the reset of a triple fault
         * into an exit with status 0; the kernel's own exits use
         * isa-debug-exit (odd statuses). */
        char line[200] = "";
        if (log)
            last_line(log, line, sizeof line);
        if (entered && WIFEXITED(qr.status) && WEXITSTATUS(qr.status) == 0) {
            r->end = RCV_END_SHUTDOWN;
            r->ctx = c;
            c = NULL;
            rc = 0;
        } else {
            snprintf(err, n, "QEMU ended before the vector %s (status 0x%x; the kernel's last "
                     "line: %s)", entered ? "ended" : "was entered", qr.status, line);
        }
        goto out;
    }
    if (parse_regs(v, regs, r, c, err, n))
        goto out;
    char cmd[600];
    snprintf(path, sizeof path, "%s/mem.bin", qr.dir);
    snprintf(cmd, sizeof cmd, "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":0,\"size\":%llu,"
             "\"filename\":\"%s\"}}", (unsigned long long)RAM, path);
    cJSON *o = qmp_cmd(&q, cmd, deadline + 5);
    bool saved = o && cJSON_GetObjectItemCaseSensitive(o, "return");
    cJSON_Delete(o);
    size_t got = 0;
    c->ram = saved ? (uint8_t *)read_text(path, &got) : NULL;
    if (!c->ram || got != RAM) {
        snprintf(err, n, "QEMU's pmemsave of the vector's RAM failed");
        goto out;
    }
    /* The kernel's own mapping (README.md): those entries were zero in the
     * vector's image; they read back as the vector had them. */
    for (unsigned i = 0; i < npde; i++)
        memset(c->ram + pdes[i], 0, v->m.mode == RCM_PROT32 || v->m.mode == RCM_PROT16 ? 4 : 8);
    memset(c->ram + PC_HOLE_LO, 0, PC_HOLE_HI - PC_HOLE_LO); /* not judged (rd_mem refuses it) */
    c->code_addr = rcm_code_addr(v->m.mode, v->m.cpl);
    if (judge_halt(c, r, err, n))
        goto out;
    r->read_mem = rd_mem;
    r->read_msr = msrs_visible(v, c) ? rd_msr : NULL;
    const char *strict = getenv("RC_QEMU_JUDGE_RF");
    rcv_apply_not_judged(v, r, "qemu", strict && strict[0] == '1');
    r->ctx = c;
    c = NULL;
    rc = 0;
out:
    stop_qemu(&qr, &q);
    if (q.fd >= 0)
        close(q.fd);
    free(log);
    if (c) {
        free(c->ram);
        free(c);
    }
    const char *keep = getenv("RC_QEMU_KEEP");
    if (keep && keep[0] == '1') {
        /* Debugging: keep the run's files (disk.img, e9.raw, qemu.out,
         * mem.bin) and the last "info registers" as regs.txt. */
        snprintf(path, sizeof path, "%s/regs.txt", qr.dir);
        FILE *f = regs ? fopen(path, "w") : NULL;
        if (f) {
            fputs(regs, f);
            fclose(f);
        }
        fprintf(stderr, "vb_qemu: vector \"%s\": files kept in %s\n", v->name, qr.dir);
    } else {
        remove_dir(qr.dir);
    }
    free(regs);
    if (rc)
        r->ctx = NULL;
    return rc;
}

const rcv_backend rcv_backend_qemu = { "qemu", source, can_judge, run, release };

/* ------------------------------------------------------------------ record */

cJSON *rcv_qemu_expect(const rcv_vector *v, const rcv_result *r, char *why, size_t n)
{
    /* 64-bit names where QEMU showed 64-bit registers (R8 valid). */
    rcv_expect_opts o = { .source = source(), .wide = (r->reg_valid >> RC_REG_R8) & 1,
                          .with_mem = true, .skip_pc_hole = true };
    return rcv_judge_expect(v, r, &o, why, n);
}

#endif /* RC_HAVE_CJSON */

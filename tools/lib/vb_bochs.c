/*
 * vb_bochs.c - the Bochs backend: a vector run inside Bochs 2.7 through the
 * test kernel (tests/kernel/README.md), its end state read from Bochs' own
 * debugger, driven through a pipe on its stdin.
 *
 * run(): the scenario is built (rcv_scenario_build), turned into the
 * kernel's payload (kimage.c), written into a copy of the kernel's disk
 * image and booted with Bochs as tools/kernel-run.sh does (sdl2 with SDL's
 * dummy driver, a generated bochsrc, reset_on_triple_fault=0), but with
 * the debugger's prompt on a pipe instead of an -rc script:
 *
 *   1. "c" runs the machine; the guest's 0xE9 bytes reach Bochs' stdout
 *      (port_e9_hack), so "ringcore-kernel: enter" shows when the vector
 *      starts.
 *   2. Every standard handler stub is HLT behind an interrupt gate, so the
 *      vector's end leaves the CPU halted. Bochs' debugger has no "halted?"
 *      query, so the judge stops the run with SIGINT (the debugger's Ctrl-C:
 *      it returns to the prompt), reads RIP with "r", continues, stops
 *      again: the end is reached when RIP is the same twice and the byte
 *      before it is HLT (F4); HLT is one byte and Bochs, like QEMU, shows
 *      the address after an executed HLT.
 *   3. "r", "sreg", "creg", "dreg" give the registers; "writemem" dumps the
 *      linear bytes the judge needs (the frame, the IDT gate, the bytes
 *      before the return address, the vector's expect.mem ranges) to files.
 *   4. "q" ends Bochs. A triple fault ends Bochs by itself (panic "3rd
 *      exception with no resolution" with reset_on_triple_fault=0).
 *
 * What it sees: GPRs, RIP, RFLAGS, CPL (CS.RPL), CR0/2/3/4, DR0-3/6/7,
 * EFER, the segment registers (selector and the cached descriptor words,
 * from which base, limit and attributes are decoded), memory at the
 * addresses above. Not: CR8 is shown but not kept, MSRs other than EFER
 * (Bochs 2.7's debugger has no RDMSR), FS/GS bases in IA-32e mode (sreg
 * shows the descriptor words, not the MSR bases), and in a 32-bit CS the
 * upper halves of the GPRs that the expectation names with 64-bit names.
 */
#ifdef RC_HAVE_CJSON

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/kimage.h"
#include "lib/kimage_host.h"
#include "lib/vexpect.h"
#include "lib/machine.h"
#include "lib/scenario.h"
#include "lib/vb_bochs.h"
#include "lib/vbackend.h"

#define BOCHS_BIN "bochs"
#define BOCHS_BIOS "/usr/share/bochs/BIOS-bochs-latest"
#define BOCHS_VGABIOS "/usr/share/vgabios/vgabios.bin"
#define MODEL_INTEL "corei7_skylake_x"
#define MODEL_AMD "ryzen"
#define DEFAULT_TIMEOUT_S 15.0
#define ENTER_LINE "ringcore-kernel: enter\n"
#define TRIPLE_FAULT "with no resolution"
#define EFER_LMA (1ull << 10)
#define MSR_EFER 0xc0000080u
#define OP_HLT 0xf4
#define MAX_DUMPS 64
#define MAX_DUMP_LEN 4096u

/* A linear range Bochs' writemem gave back. */
typedef struct bx_dump {
    uint64_t lin;
    size_t len;
    uint8_t *bytes;
} bx_dump;

typedef struct bochs_ctx {
    uint64_t efer;
    uint64_t gdt_base, idt_base;
    uint64_t code_addr;      /* where the vector's code starts (rcm_code_addr) */
    unsigned ndumps;
    bx_dump dumps[MAX_DUMPS];
} bochs_ctx;

/* ------------------------------------------------------------------ source */

static const char *version(void)
{
    static char ver[32];
    if (ver[0])
        return ver;
    int major, minor;
    rck_program_version(BOCHS_BIN " -help cpu 2>&1", " Bochs x86 Emulator %d.%d", &major, &minor);
    snprintf(ver, sizeof ver, "bochs-%d.%d", major, minor);
    return ver;
}

/* The CPU model (bochs -help cpu lists Bochs 2.7's) after the vendor. */
static const char *model(rc_vendor vendor)
{
    return vendor == RC_VENDOR_AMD ? MODEL_AMD : MODEL_INTEL;
}

static const char *source(void)
{
    return version();
}

/* ------------------------------------------------------------------ can_judge */

static bool can_judge(const rcv_vector *v, char *why, size_t n)
{
    const char *no = NULL;
    if (!strcmp(version(), "bochs-0.0"))
        no = BOCHS_BIN " is not installed (Debian: bochs bochsbios vgabios bochs-sdl)";
    else if (access(BOCHS_BIOS, R_OK) || access(BOCHS_VGABIOS, R_OK))
        no = "Bochs' BIOS images are missing (Debian: bochsbios vgabios)";
    else
        no = rck_kernel_refuses(v, "bochs");
    if (no && why)
        snprintf(why, n, "%s", no);
    return no == NULL;
}

/* ------------------------------------------------------------------ the disk */

/* ------------------------------------------------------------------ Bochs */

typedef struct bx_run {
    char dir[256];
    pid_t pid;
    int status;
    bool exited;
    int in, out;             /* pipes to the debugger's stdin, from its stdout */
    char *buf;               /* everything Bochs printed */
    size_t len, cap;
    double deadline;
} bx_run;

static bool bx_exited(bx_run *b)
{
    if (!b->exited && b->pid > 0 && waitpid(b->pid, &b->status, WNOHANG) == b->pid)
        b->exited = true;
    return b->exited;
}

/* Read what Bochs printed, waiting at most ms. */
static void bx_pump(bx_run *b, int ms)
{
    struct pollfd p = { b->out, POLLIN, 0 };
    if (b->out < 0 || poll(&p, 1, ms) <= 0)
        return;
    if (b->cap - b->len < 65536) {
        size_t cap = b->cap * 2 + 65536;
        char *nb = realloc(b->buf, cap + 1);
        if (!nb)
            return;
        b->buf = nb;
        b->cap = cap;
    }
    ssize_t got = read(b->out, b->buf + b->len, b->cap - b->len);
    if (got <= 0) {
        close(b->out);
        b->out = -1;
        return;
    }
    b->len += (size_t)got;
    b->buf[b->len] = 0;
}

/* Wait for the debugger's prompt "<bochs:N> " printed after offset from. */
static bool bx_prompt(bx_run *b, size_t from)
{
    while (rck_now_s() < b->deadline) {
        if (b->buf && b->len > from) {
            const char *p = b->buf + from, *last = NULL;
            while ((p = strstr(p, "<bochs:")))
                last = p++;
            if (last && strstr(last, "> "))
                return true;
        }
        if (b->out < 0)
            return false;
        bx_pump(b, 20);
    }
    return false;
}

/* write() to Bochs' stdin without dying of SIGPIPE when Bochs has already
 * exited (a triple fault ends it at any time): SIGPIPE is blocked for the
 * call and a pending one taken back (POSIX: the signal goes to the
 * writing thread), so the process's disposition is left alone. */
static bool bx_write(int fd, const char *s, size_t len)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w = write(fd, s, len);
    if (w < 0 && errno == EPIPE) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w == (ssize_t)len;
}

/* Send one debugger command; its output (malloc'd, up to the next prompt)
 * or NULL. */
static char *bx_cmd(bx_run *b, const char *cmd)
{
    size_t from = b->len;
    char line[600];
    int k = snprintf(line, sizeof line, "%s\n", cmd);
    if (k <= 0 || (size_t)k >= sizeof line || !bx_write(b->in, line, (size_t)k))
        return NULL;
    if (!bx_prompt(b, from))
        return NULL;
    return strndup(b->buf + from, b->len - from);
}

/* Stop the running machine (the debugger's Ctrl-C) and wait for the prompt. */
static bool bx_break(bx_run *b)
{
    size_t from = b->len;
    kill(b->pid, SIGINT);
    return bx_prompt(b, from);
}

static int bx_spawn(bx_run *b, const char *disk, size_t disk_size, rc_vendor vendor, char *err,
                    size_t n)
{
    char rc[400], log[400];
    snprintf(rc, sizeof rc, "%s/bochsrc", b->dir);
    FILE *f = fopen(rc, "w");
    if (!f) {
        snprintf(err, n, "cannot write %s", rc);
        return -1;
    }
    /* tools/kernel-run.sh's bochsrc: 64 MiB, the BIOS from bochsbios, sdl2
     * with SDL's dummy driver (Debian's Bochs has no nogui), a triple fault
     * ends the run, the geometry of the image's whole cylinders, the 0xE9
     * hack, no speaker/sound (ALSA without a card aborts Bochs). */
    fprintf(f, "megs: 64\nromimage: file=%s\nvgaromimage: file=%s\n"
            "display_library: sdl2\ncpu: model=%s, count=1, reset_on_triple_fault=0\n"
            "ata0-master: type=disk, path=%s, mode=flat, cylinders=%zu, heads=16, spt=63\n"
            "boot: disk\nport_e9_hack: enabled=1\nlog: bochs.log\npanic: action=fatal\n"
            "error: action=report\ninfo: action=report\ndebug: action=ignore\n"
            "speaker: enabled=0\nsound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy\n",
            BOCHS_BIOS, BOCHS_VGABIOS, model(vendor), disk, disk_size / RCK_CYLINDER);
    if (fclose(f)) {
        snprintf(err, n, "cannot write %s", rc);
        return -1;
    }
    snprintf(log, sizeof log, "%s/bochs.err", b->dir);
    int to[2], from[2];
    if (pipe(to))
        return snprintf(err, n, "pipe: %s", strerror(errno)), -1;
    if (pipe(from)) {
        close(to[0]);
        close(to[1]);
        return snprintf(err, n, "pipe: %s", strerror(errno)), -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, n, "fork: %s", strerror(errno));
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        return -1;
    }
    if (pid == 0) {
        /* Bochs must not outlive the judge (a killed test). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int e = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(to[0], 0);
        dup2(from[1], 1);
        if (e >= 0)
            dup2(e, 2);
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        if (chdir(b->dir))
            _exit(127);
        setenv("SDL_VIDEODRIVER", "dummy", 1);
        setenv("SDL_AUDIODRIVER", "dummy", 1);
        execlp(BOCHS_BIN, BOCHS_BIN, "-q", "-f", "bochsrc", (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    /* Later Bochs runs of this process must not inherit these ends. */
    fcntl(to[1], F_SETFD, FD_CLOEXEC);
    fcntl(from[0], F_SETFD, FD_CLOEXEC);
    b->pid = pid;
    b->in = to[1];
    b->out = from[0];
    return 0;
}

static void bx_stop(bx_run *b)
{
    if (b->pid <= 0)
        return;
    if (!bx_exited(b) && b->in >= 0) {
        bx_write(b->in, "q\n", 2);
    }
    for (int i = 0; i < 100 && !bx_exited(b); i++) {
        bx_pump(b, 0);
        rck_sleep_ms(5);
    }
    if (!b->exited) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, &b->status, 0);
        b->exited = true;
    }
    if (b->in >= 0)
        close(b->in);
    if (b->out >= 0)
        close(b->out);
    b->in = b->out = -1;
}

static void remove_dir(const char *dir)
{
    static const char *const files[] = { "disk.img", "disk.img.lock", "bochsrc", "bochs.log",
                                         "bochs.err", "bochs.out", "dump.bin" };
    char p[400];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------------ parsing */

/* "key" followed by hex digits, '_' separators allowed (Bochs prints
 * "rax: 00000000_00000000"). */
static bool hex_after(const char *s, const char *key, uint64_t *v)
{
    const char *p = s ? strstr(s, key) : NULL;
    if (!p)
        return false;
    p += strlen(key);
    while (*p == ' ')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    uint64_t x = 0;
    unsigned digits = 0;
    for (;; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : *p == '_' ? -2 : -1;
        if (d == -1)
            break;
        if (d >= 0) {
            x = x << 4 | (uint64_t)d;
            digits++;
        }
    }
    *v = x;
    return digits > 0;
}

/* "cs:0x0010, dh=0x00af9b00, dl=0x0000ffff, valid=1": the selector and the
 * cached descriptor words (dl = the low dword, dh = the high dword). Base,
 * limit and attributes decode per SDM Vol. 3A 3.4.5 Figure 3-8: base 15:0
 * in dl 31:16, 23:16 in dh 7:0, 31:24 in dh 31:24; limit 15:0 in dl 15:0,
 * 19:16 in dh 19:16, scaled by 4 KiB when G = 1; type dh 11:8, S 12,
 * DPL 14:13, P 15, AVL 20, L 21, D/B 22, G 23. valid = 0 is Bochs' mark
 * of a register loaded with a null selector (unusable). */
static bool parse_sreg(const char *s, const char *key, rc_segment *g)
{
    const char *p = s;
    size_t k = strlen(key);
    for (; (p = strstr(p, key)); p++)
        if (p == s || p[-1] == '\n')
            break;
    unsigned sel, dh, dl, valid;
    if (!p || sscanf(p + k, "0x%x, dh=0x%x, dl=0x%x, valid=%u", &sel, &dh, &dl, &valid) != 4)
        return false;
    memset(g, 0, sizeof *g);
    g->selector = (uint16_t)sel;
    g->base = (dl >> 16) | (dh & 0xffu) << 16 | (dh & 0xff000000u);
    uint32_t lim = (dl & 0xffffu) | (dh & 0xf0000u);
    g->g = (dh >> 23) & 1;
    g->limit = g->g ? lim << 12 | 0xfffu : lim;
    g->type = (dh >> 8) & 0xf;
    g->s = (dh >> 12) & 1;
    g->dpl = (dh >> 13) & 3;
    g->present = (dh >> 15) & 1;
    g->avl = (dh >> 20) & 1;
    g->l = (dh >> 21) & 1;
    g->db = (dh >> 22) & 1;
    g->unusable = valid == 0;
    return true;
}

static int parse_state(const rcv_vector *v, const char *r_out, const char *sreg, const char *creg,
                       const char *dreg, rcv_result *r, bochs_ctx *c, char *err, size_t n)
{
    static const char *const gpr[16] = { "rax:", "rcx:", "rdx:", "rbx:", "rsp:", "rbp:", "rsi:",
                                         "rdi:", "r8 :", "r9 :", "r10:", "r11:", "r12:", "r13:",
                                         "r14:", "r15:" };
    static const char *const sg[RC_SEG_COUNT] = { "es:", "cs:", "ss:", "ds:", "fs:", "gs:",
                                                  "ldtr:", "tr:" };
    for (unsigned i = 0; i < RC_SEG_COUNT; i++)
        if (parse_sreg(sreg, sg[i], &r->seg[i]))
            r->seg_valid |= 1u << i;
    if (!(r->seg_valid >> RC_SEG_CS & 1)) {
        snprintf(err, n, "Bochs' sreg showed no CS");
        return -1;
    }
    /* A 64-bit CS (L = 1) runs in 64-bit mode; else only the low halves
     * of the GPRs are architectural in the vector's mode. */
    bool is64 = r->seg[RC_SEG_CS].l;
    for (unsigned i = 0; i < 16; i++) {
        if (!hex_after(r_out, gpr[i], &r->reg[i])) {
            snprintf(err, n, "Bochs' r showed no %s", gpr[i]);
            return -1;
        }
        if (is64 || (i < 8 && !rcv_expects_wide(v, i)))
            r->reg_valid |= 1ull << i;
        if (!is64)
            r->reg[i] &= 0xffffffffu;
    }
    if (!hex_after(r_out, "rip:", &r->reg[RC_REG_RIP]) ||
        !hex_after(r_out, "eflags", &r->reg[RC_REG_RFLAGS])) {
        snprintf(err, n, "Bochs' r showed no rip/eflags");
        return -1;
    }
    r->reg_valid |= 1ull << RC_REG_RFLAGS;
    if (is64 || !rcv_expects_wide(v, RC_REG_RIP))
        r->reg_valid |= 1ull << RC_REG_RIP;
    /* CPL = CS.RPL in protected mode (SDM Vol. 3A 5.5). */
    r->reg[RC_REG_CPL] = r->seg[RC_SEG_CS].selector & 3;
    r->reg_valid |= 1ull << RC_REG_CPL;
    const struct { const char *const *txt; const char *key; rc_reg id; } ctl[] = {
        { &creg, "CR0=", RC_REG_CR0 }, { &creg, "laddr=", RC_REG_CR2 },
        { &creg, "CR3=", RC_REG_CR3 }, { &creg, "CR4=", RC_REG_CR4 },
        { &creg, "EFER=", RC_REG_EFER }, { &dreg, "DR0=", RC_REG_DR0 },
        { &dreg, "DR1=", RC_REG_DR1 }, { &dreg, "DR2=", RC_REG_DR2 },
        { &dreg, "DR3=", RC_REG_DR3 }, { &dreg, "DR6=", RC_REG_DR6 },
        { &dreg, "DR7=", RC_REG_DR7 },
    };
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++)
        if (hex_after(*ctl[i].txt, ctl[i].key, &r->reg[ctl[i].id]))
            r->reg_valid |= 1ull << ctl[i].id;
    c->efer = r->reg[RC_REG_EFER];
    hex_after(sreg, "gdtr:base=", &c->gdt_base);
    hex_after(sreg, "idtr:base=", &c->idt_base);
    /* IA-32e: FS/GS bases live in MSRs that sreg's descriptor words do not
     * show (SDM Vol. 3A 3.4.4); those two registers are not judged. */
    if (c->efer & EFER_LMA)
        r->seg_valid &= ~(1u << RC_SEG_FS | 1u << RC_SEG_GS);
    return 0;
}

/* ------------------------------------------------------------------ memory */

/* Dump len bytes at linear lin with writemem (Bochs translates through the
 * current paging; an unmapped byte stops the dump: the file is short). */
static int bx_dump_mem(bx_run *b, bochs_ctx *c, uint64_t lin, size_t len)
{
    for (unsigned i = 0; i < c->ndumps; i++)
        if (lin >= c->dumps[i].lin && lin + len <= c->dumps[i].lin + c->dumps[i].len)
            return 0;
    if (!len || len > MAX_DUMP_LEN || c->ndumps == MAX_DUMPS)
        return -1;
    char path[400], cmd[600];
    snprintf(path, sizeof path, "%s/dump.bin", b->dir);
    unlink(path);
    snprintf(cmd, sizeof cmd, "writemem \"%s\" 0x%" PRIx64 " %zu", path, lin, len);
    char *out = bx_cmd(b, cmd);
    free(out);
    if (!out)
        return -1;
    uint8_t *bytes = malloc(len);
    FILE *f = fopen(path, "rb");
    size_t got = f && bytes ? fread(bytes, 1, len, f) : 0;
    if (f)
        fclose(f);
    if (got != len) {
        free(bytes);
        return -1;
    }
    c->dumps[c->ndumps++] = (bx_dump){ lin, len, bytes };
    return 0;
}

static int rd_mem(void *ctx, uint64_t linear, void *buf, size_t len)
{
    const bochs_ctx *c = ctx;
    for (unsigned i = 0; i < c->ndumps; i++) {
        const bx_dump *d = &c->dumps[i];
        if (linear >= d->lin && linear + len <= d->lin + d->len) {
            memcpy(buf, d->bytes + (linear - d->lin), len);
            return 0;
        }
    }
    return -1;
}

static int rd_msr(void *ctx, uint32_t index, uint64_t *value)
{
    const bochs_ctx *c = ctx;
    if (index != MSR_EFER)
        return -1;
    *value = c->efer;
    return 0;
}

/* ------------------------------------------------------------------ the end */

/* A reader of linear memory for rck_judge_halt: dumps it from Bochs first. */
typedef struct bx_view {
    bx_run *b;
    bochs_ctx *c;
} bx_view;

static int rd_view(void *ctx, uint64_t linear, void *buf, size_t len)
{
    bx_view *x = ctx;
    return bx_dump_mem(x->b, x->c, linear, len) || rd_mem(x->c, linear, buf, len) ? -1 : 0;
}

/* The end of a halted run: rck_judge_halt (kend.c). */
static int judge_halt(bx_run *b, bochs_ctx *c, rcv_result *r, char *err, size_t n)
{
    bx_view x = { b, c };
    rck_end_view w = { "Bochs", c->efer, c->gdt_base, c->idt_base, rd_view, &x, c->code_addr };
    return rck_judge_halt(&w, r, err, n);
}

static double timeout_s(void)
{
    const char *e = getenv("RC_BOCHS_TIMEOUT");
    double t = e ? atof(e) : 0;
    return t > 0 ? t : DEFAULT_TIMEOUT_S;
}

static void release(rcv_result *r)
{
    bochs_ctx *c = r->ctx;
    if (c) {
        for (unsigned i = 0; i < c->ndumps; i++)
            free(c->dumps[i].bytes);
        free(c);
    }
    r->ctx = NULL;
}

/* RIP after a stop, and whether the byte before it (CS.base + RIP - 1) is
 * HLT. */
static bool stop_rip(bx_run *b, uint64_t *rip)
{
    char *out = bx_cmd(b, "r");
    bool ok = hex_after(out, "rip:", rip);
    free(out);
    return ok;
}

/* Whether Bochs has ended (its stdout closed or the process gone); waits
 * up to a second for the process once its stdout is closed. */
static bool bx_gone(bx_run *b)
{
    bx_pump(b, 0);
    if (b->out >= 0 && !bx_exited(b))
        return false;
    for (int i = 0; i < 200 && !bx_exited(b); i++)
        rck_sleep_ms(5);
    return true;
}

/* Run until the CPU sits halted: stop, look at RIP, go on, stop again;
 * the same RIP twice is the end (a halted CPU does not move). 0 halted
 * (*rip), 1 Bochs ended by itself, -1 with err. */
static int wait_halt(bx_run *b, uint64_t *rip, char *err, size_t n)
{
    uint64_t last = ~0ull;
    unsigned wait = 30;
    while (rck_now_s() < b->deadline) {
        rck_sleep_ms(wait);
        if (bx_gone(b))
            return 1;
        uint64_t cur;
        if (!bx_break(b) || !stop_rip(b, &cur)) {
            if (bx_gone(b))
                return 1;
            snprintf(err, n, "Bochs' debugger did not answer after a stop (see %s)", b->dir);
            return -1;
        }
        if (cur == last) {
            *rip = cur;
            return 0;
        }
        last = cur;
        size_t from = b->len;
        if (!bx_write(b->in, "c\n", 2)) {
            if (bx_gone(b))
                return 1;
            snprintf(err, n, "cannot write to Bochs' debugger");
            return -1;
        }
        /* "c" echoes; let Bochs take the command before the next SIGINT. */
        for (int i = 0; i < 20 && b->buf && !strstr(b->buf + from, "c\n"); i++)
            bx_pump(b, 5);
        wait = wait < 200 ? wait * 2 : wait;
    }
    snprintf(err, n, "the vector did not end within %.0f s (RC_BOCHS_TIMEOUT)", timeout_s());
    return -1;
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
    int bad = rck_vector_payload(v, cpu, &payload, &plen, err, n);
    rc_destroy(cpu);
    char base[2048];
    if (bad || rck_find_image(base, sizeof base, err, n)) {
        free(payload);
        return -1;
    }
    bx_run b;
    memset(&b, 0, sizeof b);
    b.in = b.out = -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(b.dir, sizeof b.dir, "%s/rcbochs.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(b.dir)) {
        snprintf(err, n, "mkdtemp: %s", strerror(errno));
        free(payload);
        return -1;
    }
    char disk[400];
    snprintf(disk, sizeof disk, "%s/disk.img", b.dir);
    size_t dsize = rck_write_payload_disk(base, disk, payload, plen, err, n);
    free(payload);
    if (!dsize || bx_spawn(&b, disk, dsize, v->m.vendor, err, n)) {
        remove_dir(b.dir);
        return -1;
    }
    b.deadline = rck_now_s() + timeout_s();
    bochs_ctx *c = calloc(1, sizeof *c);
    char *rtxt = NULL, *stxt = NULL, *ctxt = NULL, *dtxt = NULL;
    int rc = -1;
    uint64_t rip = 0;
    /* The debugger stops before the BIOS's first instruction: "c" runs. */
    if (!c || !bx_prompt(&b, 0) || !bx_write(b.in, "c\n", 2)) {
        snprintf(err, n, "Bochs did not start (see %s/bochs.err)", b.dir);
        goto out;
    }
    while (rck_now_s() < b.deadline && !(b.buf && strstr(b.buf, ENTER_LINE)) && b.out >= 0)
        bx_pump(&b, 20);
    int h = b.buf && strstr(b.buf, ENTER_LINE) ? wait_halt(&b, &rip, err, n) : 1;
    if (h < 0)
        goto out;
    if (h > 0) {
        /* Bochs ended by itself: a triple fault after "enter" is a shutdown
         * end; anything else (the kernel's exits, a timeout) is not judged. */
        for (int i = 0; i < 100 && !bx_exited(&b); i++)
            rck_sleep_ms(5);
        char errf[400];
        snprintf(errf, sizeof errf, "%s/bochs.err", b.dir);
        FILE *f = fopen(errf, "r");
        char line[512];
        bool triple = false;
        while (f && fgets(line, sizeof line, f))
            triple |= strstr(line, TRIPLE_FAULT) != NULL;
        if (f)
            fclose(f);
        if (b.buf && strstr(b.buf, ENTER_LINE) && triple) {
            r->end = RCV_END_SHUTDOWN;
            r->ctx = c;
            c = NULL;
            rc = 0;
        } else if (!bx_exited(&b)) {
            snprintf(err, n, "the vector was not entered within %.0f s (RC_BOCHS_TIMEOUT)",
                     timeout_s());
        } else {
            snprintf(err, n, "Bochs ended before the vector %s (see %s)",
                     b.buf && strstr(b.buf, ENTER_LINE) ? "ended" : "was entered", b.dir);
        }
        goto out;
    }
    rtxt = bx_cmd(&b, "r");
    stxt = bx_cmd(&b, "sreg");
    ctxt = bx_cmd(&b, "creg");
    dtxt = bx_cmd(&b, "dreg");
    if (!rtxt || !stxt || !ctxt) {
        snprintf(err, n, "Bochs' debugger did not answer r/sreg/creg");
        goto out;
    }
    if (parse_state(v, rtxt, stxt, ctxt, dtxt, r, c, err, n))
        goto out;
    /* The byte before RIP must be the HLT that halted the CPU. */
    uint8_t op = 0;
    uint64_t at = r->seg[RC_SEG_CS].base + rip - 1;
    if (bx_dump_mem(&b, c, at, 1) || rd_mem(c, at, &op, 1) || op != OP_HLT) {
        snprintf(err, n, "Bochs' CPU stopped moving at RIP 0x%llx but not after a HLT",
                 (unsigned long long)rip);
        goto out;
    }
    c->code_addr = rcm_code_addr(v->m.mode, v->m.cpl);
    if (judge_halt(&b, c, r, err, n))
        goto out;
    for (unsigned i = 0; i < v->expect.nmem; i++) {
        /* What compare reads; a range that cannot be dumped reads as
         * unreadable, which the comparison reports. */
        const rcv_mem *m = &v->expect.mem[i];
        bx_dump_mem(&b, c, m->addr, m->len);
    }
    r->read_mem = rd_mem;
    bool msrs_ok = true;
    for (unsigned i = 0; i < v->expect.nmsrs; i++)
        msrs_ok &= v->expect.msrs[i].index == MSR_EFER;
    r->read_msr = msrs_ok ? rd_msr : NULL;
    rcv_apply_not_judged(v, r, "bochs", false);
    r->ctx = c;
    c = NULL;
    rc = 0;
out:
    bx_stop(&b);
    if (c) {
        for (unsigned i = 0; i < c->ndumps; i++)
            free(c->dumps[i].bytes);
        free(c);
    }
    const char *keep = getenv("RC_BOCHS_KEEP");
    if (keep && keep[0] == '1') {
        char p[400];
        snprintf(p, sizeof p, "%s/bochs.out", b.dir);
        FILE *f = fopen(p, "w");
        if (f) {
            if (b.buf)
                fputs(b.buf, f);
            fclose(f);
        }
        fprintf(stderr, "vb_bochs: vector \"%s\": files kept in %s\n", v->name, b.dir);
    } else {
        remove_dir(b.dir);
    }
    free(b.buf);
    free(rtxt);
    free(stxt);
    free(ctxt);
    free(dtxt);
    if (rc)
        r->ctx = NULL;
    return rc;
}

const rcv_backend rcv_backend_bochs = { "bochs", source, can_judge, run, release };

/* The source string a Bochs run of v stands for: "bochs-2.7:MODEL". */
const char *rcv_bochs_source(const rcv_vector *v)
{
    static char s[2][64];
    unsigned k = v->m.vendor == RC_VENDOR_AMD;
    snprintf(s[k], sizeof s[k], "%s:%s", version(), model(v->m.vendor));
    return s[k];
}

/* ------------------------------------------------------------------ record */

cJSON *rcv_bochs_expect(const rcv_vector *v, const rcv_result *r, char *why, size_t n)
{
    /* 64-bit names where Bochs' result holds 64-bit registers (R8 valid). */
    rcv_expect_opts o = { .source = rcv_bochs_source(v), .wide = (r->reg_valid >> RC_REG_R8) & 1,
                          .no_mem_why = "the Bochs judge dumps only the memory it reads (frame, "
                                        "gate, expect.mem), so a recording has no memory part" };
    return rcv_judge_expect(v, r, &o, why, n);
}

#endif /* RC_HAVE_CJSON */

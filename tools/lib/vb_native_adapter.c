/*
 * vb_native_adapter.c - the native backend: a vector's CPL-3 part run on
 * this host's CPU through tools/lib/native.c (a forked child under Linux,
 * the fault read back from the signal's ucontext).
 *
 * What maps: CPL-3 vectors in long mode (CS 0x33), compatibility mode (CS
 * 0x23), prot16 (the 16-bit segments as LDT entries, see below) and prot32 (run as compatibility-mode code with the same selectors
 * 0x23/0x2b: ring-3 instruction semantics and segment checks are those of
 * protected mode, SDM Vol. 3A 5.2.1), with user memory 0x400000-0x47ffff and 0x500000-0x57ffff
 * mapped with the scenario's contents (the rest is unmapped natively), page overrides as page protections
 * (p = 0: a hole; rw = 0: read-only; nx: not executable), and LDT entries
 * through modify_ldt (DPL 3 code/data only, as Linux allows).
 *
 * What the CPU answers: the exception vector, error code, CR2 (#PF) and
 * the interrupted context (the frame: RIP, CS, RFLAGS, RSP, SS), the
 * other GPRs and the user memory it mapped (the two spans below; the
 * signal is delivered on an alternate stack, so the kernel writes none of
 * it). What it does not: the delivery side (the standard machine's handler
 * address, stack, CPL, segment caches), memory outside the spans, and
 * anything the kernel answers (native.c refuses those). RFLAGS.IF is 1 at CPL 3 under
 * Linux; the frame's IF is taken from the vector's own start state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/native.h"
#include "lib/scenario.h"
#include "lib/vbackend.h"

#define USER_LO 0x400000ull
/* The runner maps at most RC_NATIVE_MAX_OUT bytes: the ring-3 region's first
 * half (code, stack at 0x410000) and the first half MiB of free user RAM. */
#define SPAN 0x80000ull
static const uint64_t spans[2] = { 0x400000ull, 0x500000ull };
#define PAGE 0x1000ull
#define RFLAGS_IF 0x200ull
/* Linux's CR0 at CPL 3: PE MP ET NE WP AM PG (arch/x86/include/asm/processor-flags.h
 * CR0_STATE). A vector may state it to get #AC checks as the process has them. */
#define LINUX_CR0 0x80050033ull
#define OP_INT_N 0xcd
/* prot16: the standard machine's 16-bit ring-3 code and data are GDT entries
 * 28 and 29 (0xe3, 0xeb, base 0x400000). Natively they become LDT entries
 * 28 and 29 with the same fields (selectors 0xe7, 0xef: only TI differs),
 * and the selectors in the result are mapped back. */
#define P16_CODE_INDEX 28u
#define P16_DATA_INDEX 29u
#define TI_BIT 4u

static const char *source(void)
{
    static char name[96];
    if (!name[0])
        snprintf(name, sizeof name, "native:%s", rc_native_cpu_name());
    return name;
}

static bool ldt_mappable(const rcv_desc *d)
{
    if (d->mask & (RCV_DF_RAW | RCV_DF_RAW_HI | RCV_DF_SELECTOR | RCV_DF_OFFSET | RCV_DF_PARAMS))
        return false;
    /* Linux's modify_ldt makes every entry S = 1, DPL 3, accessed (ldt.c fill_ldt). */
    uint8_t s = d->mask & RCV_DF_S ? d->s : 1, dpl = d->mask & RCV_DF_DPL ? d->dpl : 0;
    return s == 1 && dpl == 3 && !(d->mask & RCV_DF_L && d->l);
}

static bool can_judge(const rcv_vector *v, char *why, size_t n)
{
    const char *no = NULL;
    /* The vector itself may say the native judge cannot see it at all. */
    const char *refused = rcv_vector_refuses(v, "native");
    if (refused) {
        if (why)
            snprintf(why, n, "the vector says: %s", refused);
        return false;
    }
    if (v->m.cpl != 3)
        no = "the host CPU can be asked at CPL 3 only";
    else if (v->m.mode == RCM_REAL)
        no = "real mode is not available to a Linux process";
    else if (v->ngdt || v->nidt || v->ntss || v->nmsrs)
        no = "the GDT, IDT, TSS and MSRs are the kernel's";
    else if (v->code_len > RC_NATIVE_MAX_CODE)
        no = "code longer than the native runner takes";
    else if (v->expect.present && v->expect.end != RCV_END_EXCEPTION &&
             v->expect.end != RCV_END_INT)
        no = "only vectors ending with an exception or INT n at CPL 3 map";
    for (unsigned i = 0; !no && i < v->nregs; i++)
        if (v->regs[i].id > RC_REG_RFLAGS &&
            !(v->regs[i].id == RC_REG_CR0 && v->regs[i].width == 64 &&
              v->regs[i].value == LINUX_CR0))
            no = "control/debug registers and EFER are the kernel's (CR0 only as Linux has it, "
                 "0x80050033)";
    for (unsigned i = 0; !no && i < v->nsegs; i++)
        if (!v->segs[i].load || v->segs[i].reg == RC_SEG_CS)
            no = "only data segment registers loaded by selector map";
    for (unsigned i = 0; !no && i < v->nldt; i++)
        if (!ldt_mappable(&v->ldt[i]) || v->ldt[i].index >= 8192)
            no = "Linux installs DPL-3 code/data LDT entries only";
    if (!no && v->nldt + 2 > RC_NATIVE_MAX_LDT)
        no = "too many LDT entries for the native runner";
    for (unsigned i = 0; !no && v->m.mode == RCM_PROT16 && i < v->nldt; i++)
        if (v->ldt[i].index == P16_CODE_INDEX || v->ldt[i].index == P16_DATA_INDEX)
            no = "prot16 uses LDT entries 28 and 29 for the standard 16-bit segments";
    for (unsigned i = 0; !no && i < v->npages; i++)
        if (v->pages[i].mask & (RCV_PF_RAW | RCV_PF_FRAME | RCV_PF_US))
            no = "only page protections (p, rw, nx) map to the process's pages";
    if (no && why)
        snprintf(why, n, "%s", no);
    return no == NULL;
}

static void ldt_entry(const rcv_desc *d, rc_native_ldt *e)
{
    memset(e, 0, sizeof *e);
    uint8_t type = d->mask & RCV_DF_TYPE ? d->type : 0;
    e->index = d->index;
    e->base = (uint32_t)d->base;
    e->limit = d->limit;
    e->seg_32bit = d->db;
    e->code = (type & 8) != 0;
    e->expand_down = (type & 4) != 0;        /* data: expand-down; code: conforming */
    e->read_exec_only = (type & 2) == 0;     /* data: not writable; code: not readable */
    e->limit_in_pages = d->g;
    e->not_present = d->mask & RCV_DF_P ? !d->p : false;
    e->useable = d->avl;
}

static int page_prot(const rcv_vector *v, uint64_t page)
{
    int prot = PROT_READ | PROT_WRITE | PROT_EXEC;
    for (unsigned i = 0; i < v->npages; i++) {
        const rcv_page *p = &v->pages[i];
        if ((p->addr & ~(PAGE - 1)) != page)
            continue;
        if (p->mask & RCV_PF_P && !p->p)
            prot = PROT_NONE;
        if (p->mask & RCV_PF_RW && !p->rw && prot)
            prot &= ~PROT_WRITE;
        if (p->mask & RCV_PF_NX && p->nx && prot)
            prot &= ~PROT_EXEC;
    }
    return prot;
}

/* The user memory at the end of a run, as the CPU left it: a copy of each
 * span, and which of its pages were mapped readable (holes are not). */
typedef struct nat_mem {
    uint8_t bytes[2][SPAN];
    bool seen[2][SPAN / PAGE];
} nat_mem;

static int read_mem(void *ctx, uint64_t linear, void *buf, size_t len)
{
    const nat_mem *m = ctx;
    for (unsigned i = 0; i < 2; i++) {
        if (linear < spans[i] || linear - spans[i] >= SPAN || len > SPAN - (linear - spans[i]))
            continue;
        uint64_t off = linear - spans[i];
        for (uint64_t pg = off / PAGE; len && pg <= (off + len - 1) / PAGE; pg++)
            if (!m->seen[i][pg])
                return -1;
        memcpy(buf, m->bytes[i] + off, len);
        return 0;
    }
    return -1;
}

/* User memory as regions of equal protection; PROT_NONE pages are holes.
 * Each readable region's final contents land in out[i] (span i). */
static int add_span(const rcv_vector *v, rc_native_case *c, const uint8_t *ram, uint64_t lo,
                    uint64_t hi, nat_mem *out, unsigned si, char *err, size_t n)
{
    uint64_t start = lo;
    int prot = page_prot(v, lo);
    for (uint64_t a = lo + PAGE; a <= hi; a += PAGE) {
        int p = a < hi ? page_prot(v, a) : -1;
        if (p == prot)
            continue;
        if (prot != PROT_NONE &&
            !rc_native_add_region(c, start, a - start, ram + start, a - start, prot,
                                  out->bytes[si] + (start - lo))) {
            snprintf(err, n, "more page protections than the native runner's %u regions",
                     RC_NATIVE_MAX_REGIONS);
            return -1;
        }
        for (uint64_t pg = start; prot != PROT_NONE && pg < a; pg += PAGE)
            out->seen[si][(pg - lo) / PAGE] = true;
        start = a;
        prot = p;
    }
    return 0;
}

static int add_regions(const rcv_vector *v, rc_native_case *c, const uint8_t *ram, nat_mem *out,
                       char *err, size_t n)
{
    for (unsigned i = 0; i < 2; i++)
        if (add_span(v, c, ram, spans[i], spans[i] + SPAN, out, i, err, n))
            return -1;
    return 0;
}

/* One long-lived native server per process (native.c: ~120 us per case
 * instead of a fork each); cases fall back to a forked child when the host
 * cannot run a server. Tool-side state, closed at exit. */
static rc_native_server *server;
static bool server_tried;

static void close_server(void)
{
    if (server)
        rc_native_server_close(server);
    server = NULL;
}

static int native_run(const rc_native_case *c, rc_native_result *r, char *err, size_t n)
{
    if (!server_tried) {
        char e[256];
        server_tried = true;
        server = rc_native_server_open(e, sizeof e);
        if (server)
            atexit(close_server);
    }
    return server ? rc_native_server_run(server, c, r, err, n) : rc_native_run(c, r, err, n);
}

/* prot16 selectors: standard machine (GDT) <-> process (LDT). */
static uint16_t p16_to_native(uint16_t sel)
{
    unsigned idx = sel >> 3;
    return !(sel & TI_BIT) && (idx == P16_CODE_INDEX || idx == P16_DATA_INDEX)
               ? (uint16_t)(sel | TI_BIT) : sel;
}

static uint16_t p16_from_native(uint16_t sel)
{
    unsigned idx = sel >> 3;
    return (sel & TI_BIT) && (idx == P16_CODE_INDEX || idx == P16_DATA_INDEX)
               ? (uint16_t)(sel & ~TI_BIT) : sel;
}

static void add_p16_segments(rc_native_case *c)
{
    static const rcv_desc code16 = { .index = P16_CODE_INDEX, .mask = RCV_DF_TYPE,
                                     .base = 0x400000, .limit = 0xffff, .type = 0xb };
    static const rcv_desc data16 = { .index = P16_DATA_INDEX, .mask = RCV_DF_TYPE,
                                     .base = 0x400000, .limit = 0xffff, .type = 0x3 };
    rc_native_ldt e;
    ldt_entry(&code16, &e);
    rc_native_add_ldt(c, &e);
    ldt_entry(&data16, &e);
    rc_native_add_ldt(c, &e);
}

static bool pushes_error_code(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

static void release(rcv_result *r);

static int run(const rcv_vector *v, rcv_result *r, char *err, size_t n)
{
    memset(r, 0, sizeof *r);
    r->vector = -1;
    if (!can_judge(v, err, n))
        return -1;
    rc_cpu *img;
    if (rcv_scenario_build(v, &img, err, n))
        return -1;
    static rc_native_case c;
    bool p16 = v->m.mode == RCM_PROT16;
    rc_native_case_init(&c, v->m.mode == RCM_LONG ? RC_NATIVE_LONG64
                            : p16                  ? RC_NATIVE_PROT16
                                                   : RC_NATIVE_COMPAT32);
    if (p16) {
        add_p16_segments(&c);
        c.cs = p16_to_native(RCM_SEL_CS16(3));
    }
    c.code = v->code;
    c.code_len = v->code_len;
    c.code_addr = rcm_code_addr(v->m.mode, 3);
    for (unsigned i = 0; i < 16; i++)
        rc_get_reg(img, (rc_reg)i, &c.gpr[i]);
    uint64_t fl0 = 0;
    rc_get_reg(img, RC_REG_RFLAGS, &fl0);
    c.rflags = fl0;
    rc_segment s;
    uint16_t *sel[] = { &c.es, NULL, &c.ss, &c.ds, &c.fs, &c.gs };
    for (unsigned i = 0; i < 6; i++)
        if (sel[i] && rc_get_seg(img, (rc_seg_reg)i, &s) == RC_OK)
            *sel[i] = p16 ? p16_to_native(s.selector) : s.selector;
    for (unsigned i = 0; i < v->nldt; i++) {
        rc_native_ldt e;
        ldt_entry(&v->ldt[i], &e);
        rc_native_add_ldt(&c, &e);
    }
    const uint8_t *ram = rc_ram_ptr(img, 0, RCM_RAM_SIZE);
    nat_mem *mem = calloc(1, sizeof *mem);
    int rr = ram && mem ? add_regions(v, &c, ram, mem, err, n) : -1;
    if (!mem)
        snprintf(err, n, "out of memory");
    static rc_native_result nr;
    if (!rr && native_run(&c, &nr, err, n))
        rr = -1;
    /* The runner's end marker (an INT3 after the code, native.c) is not the
     * vector's: its byte reads as the scenario had it. */
    uint64_t mk = c.code_addr + c.code_len;
    if (!rr && ram && mk >= spans[0] && mk < spans[0] + SPAN)
        mem->bytes[0][mk - spans[0]] = ram[mk];
    rc_destroy(img);
    if (rr) {
        free(mem);
        return -1;
    }
    r->ctx = mem; /* freed by release() */
    switch (nr.end) {
    case RC_NATIVE_END_FAULT: break;
    case RC_NATIVE_END_MARKER:
        snprintf(err, n, "the code ran to its end without an exception; the standard machine "
                 "would go on into the bytes after it");
        release(r);
        return -1;
    default:
        snprintf(err, n, "not judged natively: %s", nr.why ? nr.why : "the case did not fault");
        release(r);
        return -1;
    }
    /* A #PF on RAM the standard machine has but the process does not map
     * (supervisor pages below 0x400000 have P = 1 there; user RAM outside the
     * two mapped spans is present there): the error code would differ. Page 0
     * is not present in both (docs/standard-machine.md), so it is judged. */
    bool in_span = nr.cr2 < PAGE;
    for (unsigned i = 0; i < 2; i++)
        in_span |= nr.cr2 >= spans[i] && nr.cr2 < spans[i] + SPAN;
    if (nr.vector == 14 && nr.cr2 < RCM_RAM_SIZE && !in_span) {
        snprintf(err, n, "#PF at 0x%llx: the standard machine has RAM there (%s), the process "
                 "maps none, so the error code would differ", (unsigned long long)nr.cr2,
                 nr.cr2 < USER_LO ? "a supervisor page" : "a user page");
        release(r);
        return -1;
    }
    /* INT 3 / INT 4 written as CD 03 / CD 04 reach the same DPL-3 gates as INT3 and
     * INTO; the vector format calls a CD opcode an "int" end. The return address
     * follows the 2-byte instruction. */
    uint64_t at = nr.linear_rip - 2 - c.code_addr;
    bool int_n = nr.linear_rip >= c.code_addr + 2 && at + 1 < v->code_len &&
                 v->code[at] == OP_INT_N && v->code[at + 1] == (uint8_t)nr.vector;
    r->end = int_n ? RCV_END_INT : RCV_END_EXCEPTION;
    r->vector = nr.vector;
    r->has_error_code = !int_n && pushes_error_code(nr.vector);
    r->error_code = (uint32_t)nr.err;
    for (unsigned i = 0; i < 16; i++) {
        r->reg[i] = nr.gpr[i];
        if (i != 4)
            r->reg_valid |= 1ull << i;
    }
    if (nr.vector == 14) {
        r->reg[RC_REG_CR2] = nr.cr2;
        r->reg_valid |= 1ull << RC_REG_CR2;
    }
    r->frame_rip = nr.rip;
    r->frame_cs = p16 ? p16_from_native(nr.cs) : nr.cs;
    /* Linux runs CPL 3 with IF = 1; the vector's IF is its own start value. */
    r->frame_rflags = (nr.rflags & ~RFLAGS_IF) | (fl0 & RFLAGS_IF);
    /* Legacy modes push ESP: in the process's compatibility mode, a 16-bit SS
     * leaves RSP[63:32] as the trampoline had it (native.c), not the case's. */
    r->frame_rsp = v->m.mode == RCM_PROT16 || v->m.mode == RCM_PROT32 ? nr.gpr[4] & 0xffffffffu
                                                                      : nr.gpr[4];
    r->frame_ss = p16 ? p16_from_native(nr.ss) : nr.ss;
    r->frame_mask = RCV_FR_RIP | RCV_FR_CS | RCV_FR_RFLAGS | RCV_FR_RSP | RCV_FR_SS;
    r->read_mem = read_mem;
    return 0;
}

static void release(rcv_result *r)
{
    free(r->ctx);
    r->ctx = NULL;
}

const rcv_backend rcv_backend_native = { "native", source, can_judge, run, release };

/*
 * trace.c - the instruction-by-instruction trace of `ringcore run`.
 *
 * The CPU runs one instruction per rc_run(cpu, 1, ...) call; before and
 * after each call the architectural state is read through the public API
 * and compared. Hooks collect what happens inside the step: memory writes,
 * exceptions raised, privilege transitions (with the library's own
 * explanation in words).
 */
#include "trace.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#ifdef RC_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#include "explain.h"
#include "machine.h"
#include "regs.h"

#define MAX_MEM 16      /* memory writes shown per step */
#define MAX_TR 4        /* transitions kept per step */
#define MAX_EXC 4       /* exceptions kept per step */
#define MAX_MSRS 16
#define TEXT_LEN 320
#define STACK_MASK32 0xffffffffull

/* ------------------------------------------------------------------ state snapshot */

typedef struct snap {
    uint64_t reg[RC_REG_COUNT];
    bool have[RC_REG_COUNT];
    rc_segment seg[RC_SEG_COUNT];
    bool have_seg[RC_SEG_COUNT];
    rc_dtable gdtr, idtr;
    uint64_t msr[MAX_MSRS];
    bool have_msr[MAX_MSRS];
    rc_mode mode;
} snap;

static void take(rc_cpu *cpu, snap *s)
{
    memset(s, 0, sizeof(*s));
    for (unsigned r = 0; r < RC_REG_COUNT; r++)
        s->have[r] = rc_get_reg(cpu, (rc_reg)r, &s->reg[r]) == RC_OK;
    for (unsigned g = 0; g < RC_SEG_COUNT; g++)
        s->have_seg[g] = rc_get_seg(cpu, (rc_seg_reg)g, &s->seg[g]) == RC_OK;
    rc_get_gdtr(cpu, &s->gdtr);
    rc_get_idtr(cpu, &s->idtr);
    for (unsigned i = 0; rct_watched_msrs[i].name && i < MAX_MSRS; i++)
        s->have_msr[i] = rc_get_msr(cpu, rct_watched_msrs[i].index, &s->msr[i]) == RC_OK;
    s->mode = rc_get_mode(cpu);
}

static unsigned mode_code_size(rc_mode m)
{
    switch (m) {
    case RC_MODE_LONG64: return 8;
    case RC_MODE_PROT32:
    case RC_MODE_COMPAT32: return 4;
    default: return 2;
    }
}

/* ------------------------------------------------------------------ hook context */

typedef struct mem_write {
    uint64_t linear, phys, value;
    unsigned size;
} mem_write;

typedef struct tr_record {
    rc_transition t;
    char text[TEXT_LEN];
} tr_record;

typedef struct exc_record {
    rc_exception_info e;
    char reason[TEXT_LEN];
} exc_record;

typedef struct ctx {
    mem_write mem[MAX_MEM];
    unsigned nmem, mem_more;
    tr_record tr[MAX_TR];
    unsigned ntr;
    exc_record exc[MAX_EXC];
    unsigned nexc;
    bool have_insn;
    uint8_t bytes[15];
    unsigned len;
    /* the last delivery of the whole run, for the frame at a handler stub */
    bool have_delivery;
    rc_transition delivery;
} ctx;

static void hook_mem(void *opaque, rc_cpu *cpu, uint64_t linear, uint64_t phys, unsigned size,
                     int is_write, uint64_t value)
{
    (void)cpu;
    ctx *c = opaque;
    if (!is_write)
        return;
    if (c->nmem < MAX_MEM)
        c->mem[c->nmem++] = (mem_write){ linear, phys, value, size };
    else
        c->mem_more++;
}

static rc_hook_action hook_after(void *opaque, rc_cpu *cpu, const rc_transition *t)
{
    (void)cpu;
    ctx *c = opaque;
    if (t->kind == RC_TR_EXCEPTION || t->kind == RC_TR_INT) {
        c->have_delivery = true;
        c->delivery = *t;
    }
    if (c->ntr < MAX_TR) {
        tr_record *r = &c->tr[c->ntr++];
        r->t = *t;
        snprintf(r->text, sizeof r->text, "%s", t->text ? t->text : "");
        r->t.text = r->text;
    }
    return RC_HOOK_CONTINUE;
}

static rc_hook_action hook_exception(void *opaque, rc_cpu *cpu, const rc_exception_info *e)
{
    (void)cpu;
    ctx *c = opaque;
    if (c->nexc < MAX_EXC) {
        exc_record *r = &c->exc[c->nexc++];
        r->e = *e;
        snprintf(r->reason, sizeof r->reason, "%s", e->reason ? e->reason : "");
        r->e.reason = r->reason;
    }
    return RC_HOOK_CONTINUE;
}

static rc_hook_action hook_insn(void *opaque, rc_cpu *cpu, uint64_t rip, const uint8_t *bytes,
                                unsigned len)
{
    (void)cpu;
    (void)rip;
    ctx *c = opaque;
    c->have_insn = true;
    c->len = len > 15 ? 15 : len;
    memcpy(c->bytes, bytes, c->len);
    return RC_HOOK_CONTINUE;
}

/* ------------------------------------------------------------------ formatting helpers */

typedef struct tracer {
    const rct_trace_opts *o;
    FILE *out;
    csh cs[3]; /* 16-, 32-, 64-bit */
    bool cs_ok[3];
} tracer;

static const char *transition_kind_name(rc_transition_kind k)
{
    static const char *const names[RC_TR_COUNT] = {
        "exception delivery", "INT n", "IRET", "far CALL", "far JMP", "far RET",
        "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT", "task switch",
    };
    return (unsigned)k < RC_TR_COUNT ? names[k] : "transition";
}

static void hexbytes(const uint8_t *b, unsigned n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < n && o + 3 < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%02x", b[i]);
}

/* Disassemble one instruction; returns its length (0 if Capstone cannot). */
static unsigned disasm(tracer *t, unsigned code_size, const uint8_t *b, unsigned n, uint64_t rip,
                       char *buf, size_t len)
{
    int k = code_size == 8 ? 2 : code_size == 4 ? 1 : 0;
    snprintf(buf, len, "(not decodable by Capstone)");
    if (!t->cs_ok[k] || n == 0)
        return 0;
    cs_insn *insn = NULL;
    size_t cnt = cs_disasm(t->cs[k], b, n, rip, 1, &insn);
    if (cnt == 0)
        return 0;
    snprintf(buf, len, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "", insn[0].op_str);
    unsigned l = insn[0].size;
    cs_free(insn, cnt);
    return l;
}

static int addr_digits(unsigned code_size) { return code_size == 8 ? 16 : code_size == 4 ? 8 : 4; }

static void fmt_addr(uint16_t cs, uint64_t rip, unsigned code_size, char *buf, size_t len)
{
    snprintf(buf, len, "%04x:%0*" PRIx64, cs, addr_digits(code_size), rip);
}

/* Width a GPR value is shown at: the mode's, widened when a value needs it. */
static unsigned gpr_width(unsigned n, unsigned code_size, uint64_t a, uint64_t b)
{
    if (code_size == 8 || n >= 8 || ((a | b) >> 32))
        return 8;
    if (code_size == 2 && !((a | b) >> 16))
        return 2;
    return 4;
}

static const char *const flag_names[32] = {
    [0] = "CF", [2] = "PF", [4] = "AF", [6] = "ZF", [7] = "SF", [8] = "TF", [9] = "IF",
    [10] = "DF", [11] = "OF", [14] = "NT", [16] = "RF", [17] = "VM", [18] = "AC",
    [19] = "VIF", [20] = "VIP", [21] = "ID",
};

static void flags_delta(uint64_t a, uint64_t b, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < 32; i++) {
        if (!flag_names[i] || !(((a ^ b) >> i) & 1))
            continue;
        o += (size_t)snprintf(buf + o, len - o, "%s%c%s", o ? " " : "", (b >> i) & 1 ? '+' : '-',
                              flag_names[i]);
        if (o >= len)
            return;
    }
    if (((a ^ b) >> 12) & 3 && o < len)
        snprintf(buf + o, len - o, "%sIOPL=%u", o ? " " : "", (unsigned)((b >> 12) & 3));
}

static void seg_attrs(const rc_segment *s, char *buf, size_t len)
{
    if (s->unusable) {
        snprintf(buf, len, "unusable");
        return;
    }
    const char *kind;
    if (!s->s)
        kind = "system";
    else if (s->type & 8)
        kind = s->l ? "64-bit code" : s->db ? "32-bit code" : "16-bit code";
    else
        kind = s->db ? "32-bit data" : "16-bit data";
    snprintf(buf, len, "base 0x%" PRIx64 ", limit 0x%x, %s, type %u, DPL %u%s", s->base, s->limit,
             kind, s->type, s->dpl, s->present ? "" : ", not present");
}

static const char *const seg_names[RC_SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr",
                                                     "tr" };

/* ------------------------------------------------------------------ one change list */

/* A change is reported as (name, old, new, note); text and JSON render it. */
typedef struct change {
    char name[24];
    char old[40], new_[40];
    char note[160];
} change;

#define MAX_CHANGES 64

static void add_change(change *c, unsigned *n, const char *name, const char *o, const char *nw,
                       const char *note)
{
    if (*n >= MAX_CHANGES)
        return;
    change *x = &c[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    snprintf(x->old, sizeof x->old, "%s", o);
    snprintf(x->new_, sizeof x->new_, "%s", nw);
    snprintf(x->note, sizeof x->note, "%s", note ? note : "");
}

static void add_hex(change *c, unsigned *n, const char *name, uint64_t a, uint64_t b,
                    const char *note)
{
    char o[40], nw[40];
    snprintf(o, sizeof o, "0x%" PRIx64, a);
    snprintf(nw, sizeof nw, "0x%" PRIx64, b);
    add_change(c, n, name, o, nw, note);
}

static unsigned diff(const snap *a, const snap *b, change *c)
{
    unsigned n = 0;
    unsigned cs = mode_code_size(a->mode);
    for (unsigned r = 0; r < 16; r++) {
        if (!a->have[r] || !b->have[r] || a->reg[r] == b->reg[r])
            continue;
        add_hex(c, &n, rct_gpr_name(r, gpr_width(r, cs, a->reg[r], b->reg[r])), a->reg[r],
                b->reg[r], NULL);
    }
    if (a->reg[RC_REG_RFLAGS] != b->reg[RC_REG_RFLAGS]) {
        char d[120];
        flags_delta(a->reg[RC_REG_RFLAGS], b->reg[RC_REG_RFLAGS], d, sizeof d);
        add_hex(c, &n, cs == 8 ? "rflags" : "eflags", a->reg[RC_REG_RFLAGS],
                b->reg[RC_REG_RFLAGS], d);
    }
    static const struct { rc_reg r; const char *name; } sys[] = {
        { RC_REG_CR0, "cr0" }, { RC_REG_CR2, "cr2" }, { RC_REG_CR3, "cr3" },
        { RC_REG_CR4, "cr4" }, { RC_REG_CR8, "cr8" }, { RC_REG_DR0, "dr0" },
        { RC_REG_DR1, "dr1" }, { RC_REG_DR2, "dr2" }, { RC_REG_DR3, "dr3" },
        { RC_REG_DR6, "dr6" }, { RC_REG_DR7, "dr7" }, { RC_REG_EFER, "efer" },
    };
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        rc_reg r = sys[i].r;
        if (a->have[r] && b->have[r] && a->reg[r] != b->reg[r])
            add_hex(c, &n, sys[i].name, a->reg[r], b->reg[r], NULL);
    }
    if (a->reg[RC_REG_CPL] != b->reg[RC_REG_CPL]) {
        char o[8], nw[8];
        snprintf(o, sizeof o, "%u", (unsigned)a->reg[RC_REG_CPL]);
        snprintf(nw, sizeof nw, "%u", (unsigned)b->reg[RC_REG_CPL]);
        add_change(c, &n, "cpl", o, nw, "privilege level changed");
    }
    for (unsigned g = 0; g < RC_SEG_COUNT; g++) {
        if (!a->have_seg[g] || !b->have_seg[g] ||
            !memcmp(&a->seg[g], &b->seg[g], sizeof(rc_segment)))
            continue;
        char note[160];
        seg_attrs(&b->seg[g], note, sizeof note);
        add_hex(c, &n, seg_names[g], a->seg[g].selector, b->seg[g].selector, note);
    }
    if (a->gdtr.base != b->gdtr.base || a->gdtr.limit != b->gdtr.limit) {
        char o[40], nw[40];
        snprintf(o, sizeof o, "0x%" PRIx64 "/0x%x", a->gdtr.base, a->gdtr.limit);
        snprintf(nw, sizeof nw, "0x%" PRIx64 "/0x%x", b->gdtr.base, b->gdtr.limit);
        add_change(c, &n, "gdtr", o, nw, "base/limit");
    }
    if (a->idtr.base != b->idtr.base || a->idtr.limit != b->idtr.limit) {
        char o[40], nw[40];
        snprintf(o, sizeof o, "0x%" PRIx64 "/0x%x", a->idtr.base, a->idtr.limit);
        snprintf(nw, sizeof nw, "0x%" PRIx64 "/0x%x", b->idtr.base, b->idtr.limit);
        add_change(c, &n, "idtr", o, nw, "base/limit");
    }
    for (unsigned i = 0; rct_watched_msrs[i].name && i < MAX_MSRS; i++)
        if (a->have_msr[i] && b->have_msr[i] && a->msr[i] != b->msr[i])
            add_hex(c, &n, rct_watched_msrs[i].name, a->msr[i], b->msr[i], "MSR");
    if (a->mode != b->mode) {
        const char *mo = rc_mode_name(a->mode), *mn = rc_mode_name(b->mode);
        add_change(c, &n, "mode", mo ? mo : "?", mn ? mn : "?", NULL);
    }
    return n;
}

/* ------------------------------------------------------------------ one step, printed */

typedef struct step_info {
    uint64_t n;
    uint16_t cs;
    uint64_t rip, linear;
    unsigned code_size, cpl;
    uint8_t bytes[15];
    unsigned len;
    char text[256];
} step_info;

/* Bytes at CS:RIP, as many as can be read (up to 15), without side effects. */
static unsigned peek_code(rc_cpu *cpu, uint64_t linear, uint8_t *b)
{
    if (rc_read_linear(cpu, linear, b, 15) == RC_OK)
        return 15;
    unsigned n = 0;
    while (n < 15 && rc_read_linear(cpu, linear + n, b + n, 1) == RC_OK)
        n++;
    return n;
}

static void print_step_text(tracer *t, const step_info *s, const change *ch, unsigned nch,
                            const ctx *c, bool last_exc_is_exit)
{
    FILE *f = t->out;
    char addr[40], hex[40];
    fmt_addr(s->cs, s->rip, s->code_size, addr, sizeof addr);
    hexbytes(s->bytes, s->len, hex, sizeof hex);
    fprintf(f, "%5" PRIu64 "  %s  %-22s %s\n", s->n, addr, hex[0] ? hex : "??", s->text);
    unsigned nexc = c->nexc - (last_exc_is_exit && c->nexc ? 1 : 0);
    for (unsigned i = 0; i < nexc; i++) {
        const rc_exception_info *e = &c->exc[i].e;
        char mb[16];
        fprintf(f, "         exception %s", rct_vector_mnemonic(e->vector, mb, sizeof mb));
        if (e->has_error_code)
            fprintf(f, "(%#x)", e->error_code);
        fprintf(f, " raised at CPL %u%s: %s\n", e->cpl,
                e->during_delivery ? " during delivery" : "",
                e->reason && e->reason[0] ? e->reason : "(no reason given)");
    }
    for (unsigned i = 0; i < c->ntr; i++)
        fprintf(f, "         => %s: %s\n", transition_kind_name(c->tr[i].t.kind), c->tr[i].text);
    for (unsigned i = 0; i < nch; i++)
        fprintf(f, "         %-8s %s -> %s%s%s%s\n", ch[i].name, ch[i].old, ch[i].new_,
                ch[i].note[0] ? "  (" : "", ch[i].note, ch[i].note[0] ? ")" : "");
    for (unsigned i = 0; i < c->nmem; i++)
        fprintf(f, "         mem[0x%" PRIx64 "] <- 0x%0*" PRIx64 "  (%u byte%s%s)\n",
                c->mem[i].linear, (int)(c->mem[i].size * 2), c->mem[i].value, c->mem[i].size,
                c->mem[i].size == 1 ? "" : "s",
                c->mem[i].phys != c->mem[i].linear ? ", physical differs" : "");
    if (c->mem_more)
        fprintf(f, "         ... and %u more memory writes\n", c->mem_more);
}

#ifdef RC_HAVE_CJSON
static void json_hex(cJSON *o, const char *k, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    cJSON_AddStringToObject(o, k, b);
}

static void json_line(tracer *t, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (s) {
        fprintf(t->out, "%s\n", s);
        free(s);
    }
    cJSON_Delete(o);
}

static cJSON *json_exception(const rc_exception_info *e)
{
    cJSON *x = cJSON_CreateObject();
    char mb[16], ec[200];
    cJSON_AddNumberToObject(x, "vector", e->vector);
    cJSON_AddStringToObject(x, "name", rct_vector_mnemonic(e->vector, mb, sizeof mb));
    cJSON_AddStringToObject(x, "title", rct_vector_title(e->vector));
    cJSON_AddBoolToObject(x, "has_error_code", e->has_error_code);
    if (e->has_error_code) {
        cJSON_AddNumberToObject(x, "error_code", e->error_code);
        rct_explain_error_code(e->vector, e->error_code, ec, sizeof ec);
        cJSON_AddStringToObject(x, "error_code_text", ec);
    }
    if (e->vector == RC_EXC_PF)
        json_hex(x, "cr2", e->cr2);
    cJSON_AddNumberToObject(x, "cpl", e->cpl);
    json_hex(x, "cs", e->cs);
    json_hex(x, "rip", e->rip);
    cJSON_AddBoolToObject(x, "during_delivery", e->during_delivery);
    cJSON_AddStringToObject(x, "reason", e->reason ? e->reason : "");
    return x;
}

static void print_step_json(tracer *t, const step_info *s, const change *ch, unsigned nch,
                            const ctx *c, bool last_exc_is_exit)
{
    cJSON *o = cJSON_CreateObject();
    char hex[40];
    cJSON_AddNumberToObject(o, "step", (double)s->n);
    json_hex(o, "cs", s->cs);
    json_hex(o, "rip", s->rip);
    json_hex(o, "linear", s->linear);
    cJSON_AddNumberToObject(o, "cpl", s->cpl);
    hexbytes(s->bytes, s->len, hex, sizeof hex);
    cJSON_AddStringToObject(o, "bytes", hex);
    cJSON_AddStringToObject(o, "asm", s->text);
    cJSON *chg = cJSON_AddObjectToObject(o, "changes");
    for (unsigned i = 0; i < nch; i++) {
        cJSON *x = cJSON_AddObjectToObject(chg, ch[i].name);
        cJSON_AddStringToObject(x, "old", ch[i].old);
        cJSON_AddStringToObject(x, "new", ch[i].new_);
        if (ch[i].note[0])
            cJSON_AddStringToObject(x, "note", ch[i].note);
    }
    cJSON *mem = cJSON_AddArrayToObject(o, "mem_writes");
    for (unsigned i = 0; i < c->nmem; i++) {
        cJSON *x = cJSON_CreateObject();
        json_hex(x, "linear", c->mem[i].linear);
        json_hex(x, "phys", c->mem[i].phys);
        cJSON_AddNumberToObject(x, "size", c->mem[i].size);
        json_hex(x, "value", c->mem[i].value);
        cJSON_AddItemToArray(mem, x);
    }
    if (c->mem_more)
        cJSON_AddNumberToObject(o, "mem_writes_not_shown", c->mem_more);
    cJSON *exc = cJSON_AddArrayToObject(o, "exceptions");
    unsigned nexc = c->nexc - (last_exc_is_exit && c->nexc ? 1 : 0);
    for (unsigned i = 0; i < nexc; i++)
        cJSON_AddItemToArray(exc, json_exception(&c->exc[i].e));
    cJSON *trs = cJSON_AddArrayToObject(o, "transitions");
    for (unsigned i = 0; i < c->ntr; i++) {
        const rc_transition *tr = &c->tr[i].t;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "kind", transition_kind_name(tr->kind));
        cJSON_AddNumberToObject(x, "old_cpl", tr->old_cpl);
        cJSON_AddNumberToObject(x, "new_cpl", tr->new_cpl);
        json_hex(x, "old_cs", tr->old_cs);
        json_hex(x, "new_cs", tr->new_cs);
        json_hex(x, "old_rip", tr->old_rip);
        json_hex(x, "new_rip", tr->new_rip);
        json_hex(x, "old_rsp", tr->old_rsp);
        json_hex(x, "new_rsp", tr->new_rsp);
        cJSON_AddStringToObject(x, "text", c->tr[i].text);
        cJSON_AddItemToArray(trs, x);
    }
    json_line(t, o);
}
#endif

/* ------------------------------------------------------------------ the end */

/* The exception frame a handler stub sees, read from SS:RSP (SDM Vol. 3A
 * 6.12.1 Figure 6-4 for 16/32-bit gates, 6.14.2 Figure 6-9 for 64-bit). */
static void print_frame(tracer *t, rc_cpu *cpu, const snap *s, const rct_trace_result *r,
                        const ctx *c)
{
    static const char *const names64[] = { "rip", "cs", "rflags", "rsp", "ss" };
    static const char *const names32[] = { "eip", "cs", "eflags", "esp", "ss" };
    static const char *const names16[] = { "ip", "cs", "flags" };
    unsigned width, count;
    const char *const *names;
    bool err = r->handler_by_exception && rct_vector_has_error_code((unsigned)r->handler_vector);
    bool priv = c->have_delivery && c->delivery.old_cpl != c->delivery.new_cpl;
    if (s->mode == RC_MODE_LONG64) {
        width = 8, count = 5, names = names64;
    } else if (s->mode == RC_MODE_REAL) {
        width = 2, count = 3, names = names16, err = false;
    } else {
        width = 4, count = priv ? 5 : 3, names = names32;
    }
    uint64_t sp = s->reg[RC_REG_RSP];
    if (width < 8)
        sp &= width == 2 ? 0xffff : STACK_MASK32;
    uint64_t lin = s->seg[RC_SEG_SS].base + sp;
    fprintf(t->out, "  frame at %s %04x:%0*" PRIx64 " (linear 0x%" PRIx64 "):",
            width == 8 ? "ss:rsp" : width == 4 ? "ss:esp" : "ss:sp", s->seg[RC_SEG_SS].selector,
            width == 8 ? 16 : width == 4 ? 8 : 4, sp, lin);
    unsigned total = count + (err ? 1 : 0);
    for (unsigned i = 0; i < total; i++) {
        uint64_t v = 0;
        if (rc_read_linear(cpu, lin + (uint64_t)i * width, &v, width) != RC_OK) {
            fprintf(t->out, " (unreadable)");
            break;
        }
        const char *name = err ? (i == 0 ? "error" : names[i - 1]) : names[i];
        fprintf(t->out, " %s=0x%" PRIx64, name, v);
    }
    fprintf(t->out, "\n");
}

static void print_registers(tracer *t, const snap *s)
{
    unsigned cs = mode_code_size(s->mode);
    unsigned n = cs == 8 ? 16 : 8, w = cs == 8 ? 8 : 4;
    fprintf(t->out, "registers:");
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = s->reg[i];
        unsigned wi = (v >> 32) ? 8 : w;
        fprintf(t->out, "%s%s=0x%" PRIx64, i % 4 == 0 ? "\n  " : "  ", rct_gpr_name(i, wi), v);
    }
    char fl[120];
    flags_delta(0, s->reg[RC_REG_RFLAGS], fl, sizeof fl);
    fprintf(t->out, "\n  %s=0x%" PRIx64 "  %s=0x%" PRIx64 " [%s]  cs=0x%x ss=0x%x  cpl=%u  "
            "mode=%s\n", cs == 8 ? "rip" : "eip", s->reg[RC_REG_RIP],
            cs == 8 ? "rflags" : "eflags", s->reg[RC_REG_RFLAGS], fl,
            s->seg[RC_SEG_CS].selector, s->seg[RC_SEG_SS].selector, (unsigned)s->reg[RC_REG_CPL],
            rc_mode_name(s->mode) ? rc_mode_name(s->mode) : "?");
}

static void print_exception_text(tracer *t, const rc_exception_info *e, unsigned code_size)
{
    char mb[16], ec[240], addr[40], hex[40], text[256];
    fmt_addr(e->cs, e->rip, code_size, addr, sizeof addr);
    hexbytes(e->insn, e->insn_len, hex, sizeof hex);
    unsigned len = disasm(t, code_size, e->insn, e->insn_len, e->rip, text, sizeof text);
    (void)len;
    fprintf(t->out, "end: exception %s", rct_vector_mnemonic(e->vector, mb, sizeof mb));
    if (e->has_error_code)
        fprintf(t->out, "(%#x)", e->error_code);
    fprintf(t->out, " %s, raised at CPL %u%s by the instruction at %s (%s: %s)\n",
            rct_vector_title(e->vector), e->cpl, e->during_delivery ? " during event delivery"
            : "", addr, hex[0] ? hex : "no bytes", text);
    if (e->has_error_code) {
        rct_explain_error_code(e->vector, e->error_code, ec, sizeof ec);
        fprintf(t->out, "  error code %#x: %s\n", e->error_code, ec);
    }
    if (e->vector == RC_EXC_PF)
        fprintf(t->out, "  CR2 = 0x%" PRIx64 ": the linear address that was accessed\n", e->cr2);
    fprintf(t->out, "  why: %s\n", e->reason && e->reason[0] ? e->reason : "(no reason given)");
}

__attribute__((unused)) static const char *end_name(rct_end e)
{
    static const char *const n[] = { "hlt", "exception", "shutdown", "limit", "unsupported",
                                     "other", "error" };
    return n[e];
}

static void print_end_text(tracer *t, rc_cpu *cpu, const snap *s, const rct_trace_result *r,
                           const ctx *c)
{
    const rc_exit *x = &r->exit;
    unsigned code_size = mode_code_size(s->mode);
    char addr[40], mb[16];
    fmt_addr(s->seg[RC_SEG_CS].selector, s->reg[RC_REG_RIP], code_size, addr, sizeof addr);
    switch (x->reason) {
    case RC_EXIT_HLT:
        if (r->handler_vector >= 0) {
            unsigned v = (unsigned)r->handler_vector;
            fprintf(t->out, "end: HLT in the handler stub of vector %u (%s, %s): the %s was "
                    "delivered through the %s; CPL %u, next RIP %s\n", v,
                    rct_vector_mnemonic(v, mb, sizeof mb), rct_vector_title(v),
                    r->handler_by_exception ? "exception" : "software interrupt",
                    s->mode == RC_MODE_REAL ? "IVT" : "IDT", (unsigned)s->reg[RC_REG_CPL], addr);
            print_frame(t, cpu, s, r, c);
        } else {
            uint64_t lin = s->seg[RC_SEG_CS].base + s->reg[RC_REG_RIP] - 1;
            const char *entry = rcm_entry_name(lin);
            fprintf(t->out, "end: HLT at CPL %u%s%s, next RIP %s\n",
                    (unsigned)s->reg[RC_REG_CPL], entry ? " in " : "", entry ? entry : "", addr);
        }
        break;
    case RC_EXIT_EXCEPTION:
        print_exception_text(t, &x->u.exception, code_size);
        break;
    case RC_EXIT_SHUTDOWN:
        fprintf(t->out, "end: shutdown (triple fault): an exception during #DF delivery; the "
                "processor stops\n");
        break;
    case RC_EXIT_LIMIT:
        fprintf(t->out, "end: instruction limit reached (%" PRIu64 "; raise it with --max), "
                "next instruction at %s\n", r->steps, addr);
        break;
    case RC_EXIT_UNSUPPORTED: {
        char hex[40];
        hexbytes(x->u.unsupported.bytes, x->u.unsupported.len, hex, sizeof hex);
        fprintf(t->out, "end: unsupported: %s; instruction at %s (linear 0x%" PRIx64
                "), bytes %s\n", x->u.unsupported.what ? x->u.unsupported.what : "?", addr,
                x->u.unsupported.rip, hex[0] ? hex : "(none readable)");
        break;
    }
    case RC_EXIT_IO:
        fprintf(t->out, "end: port I/O (%s port 0x%x, %u bytes): the CLI has no devices\n",
                x->u.io.is_write ? "OUT to" : "IN from", x->u.io.port, x->u.io.size);
        break;
    case RC_EXIT_MMIO:
        fprintf(t->out, "end: MMIO access at 0x%" PRIx64 "\n", x->u.mmio.gpa);
        break;
    default:
        if (r->end == RCT_END_ERROR)
            fprintf(t->out, "end: rc_run failed: %s\n",
                    rc_strerror(r->status) ? rc_strerror(r->status) : "error");
        else
            fprintf(t->out, "end: %s\n", rc_exit_reason_name(x->reason)
                    ? rc_exit_reason_name(x->reason) : "stopped");
        break;
    }
    print_registers(t, s);
}

#ifdef RC_HAVE_CJSON
static void print_end_json(tracer *t, const snap *s, const rct_trace_result *r)
{
    const rc_exit *x = &r->exit;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "end", end_name(r->end));
    cJSON_AddNumberToObject(o, "steps", (double)r->steps);
    if (x->reason == RC_EXIT_EXCEPTION)
        cJSON_AddItemToObject(o, "exception", json_exception(&x->u.exception));
    if (x->reason == RC_EXIT_HLT && r->handler_vector >= 0) {
        char mb[16];
        cJSON *h = cJSON_AddObjectToObject(o, "handler");
        cJSON_AddNumberToObject(h, "vector", r->handler_vector);
        cJSON_AddStringToObject(h, "name", rct_vector_mnemonic((unsigned)r->handler_vector, mb,
                                                                sizeof mb));
        cJSON_AddBoolToObject(h, "by_exception", r->handler_by_exception);
    }
    if (x->reason == RC_EXIT_UNSUPPORTED) {
        char hex[40];
        cJSON *u = cJSON_AddObjectToObject(o, "unsupported");
        json_hex(u, "linear", x->u.unsupported.rip);
        hexbytes(x->u.unsupported.bytes, x->u.unsupported.len, hex, sizeof hex);
        cJSON_AddStringToObject(u, "bytes", hex);
        cJSON_AddStringToObject(u, "what", x->u.unsupported.what ? x->u.unsupported.what : "");
    }
    cJSON *regs = cJSON_AddObjectToObject(o, "regs");
    for (unsigned i = 0; i < 16; i++)
        json_hex(regs, rct_gpr_name(i, 8), s->reg[i]);
    static const struct { rc_reg r; const char *name; } sys[] = {
        { RC_REG_RIP, "rip" }, { RC_REG_RFLAGS, "rflags" }, { RC_REG_CR0, "cr0" },
        { RC_REG_CR2, "cr2" }, { RC_REG_CR3, "cr3" },       { RC_REG_CR4, "cr4" },
        { RC_REG_EFER, "efer" },
    };
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        json_hex(regs, sys[i].name, s->reg[sys[i].r]);
    for (unsigned g = 0; g < RC_SEG_COUNT; g++)
        json_hex(regs, seg_names[g], s->seg[g].selector);
    cJSON_AddNumberToObject(o, "cpl", (double)s->reg[RC_REG_CPL]);
    cJSON_AddStringToObject(o, "mode", rc_mode_name(s->mode) ? rc_mode_name(s->mode) : "?");
    json_line(t, o);
}
#endif

/* ------------------------------------------------------------------ the loop */

static rct_end classify(const rc_exit *x, rct_trace_result *r)
{
    switch (x->reason) {
    case RC_EXIT_HLT: return r->handler_vector >= 0 && r->handler_by_exception
                             ? RCT_END_EXCEPTION : RCT_END_HLT;
    case RC_EXIT_EXCEPTION: return RCT_END_EXCEPTION;
    case RC_EXIT_SHUTDOWN: return RCT_END_SHUTDOWN;
    case RC_EXIT_LIMIT: return RCT_END_LIMIT;
    case RC_EXIT_UNSUPPORTED: return RCT_END_UNSUPPORTED;
    default: return RCT_END_OTHER;
    }
}

static int open_capstone(tracer *t)
{
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    bool any = false;
    for (int i = 0; i < 3; i++) {
        t->cs_ok[i] = cs_open(CS_ARCH_X86, modes[i], &t->cs[i]) == CS_ERR_OK;
        any |= t->cs_ok[i];
    }
    if (!any)
        fprintf(stderr, "ringcore: Capstone could not be opened; disassembly is not shown\n");
    return 0;
}

static void close_capstone(tracer *t)
{
    for (int i = 0; i < 3; i++)
        if (t->cs_ok[i])
            cs_close(&t->cs[i]);
}

int rct_trace_run(rc_cpu *cpu, const rct_trace_opts *o, rct_trace_result *r)
{
    tracer t = { .o = o, .out = o->out ? o->out : stdout };
    open_capstone(&t);
    ctx *c = calloc(1, sizeof *c);
    snap *before = calloc(1, sizeof *before), *after = calloc(1, sizeof *after);
    change *ch = calloc(MAX_CHANGES, sizeof *ch);
    if (!c || !before || !after || !ch) {
        free(c), free(before), free(after), free(ch);
        close_capstone(&t);
        fprintf(stderr, "ringcore: out of memory\n");
        return -1;
    }
    rc_hooks hooks = { .opaque = c, .transition_after = hook_after,
                       .exception = hook_exception, .insn = hook_insn, .mem = hook_mem };
    rc_set_hooks(cpu, &hooks);

    memset(r, 0, sizeof *r);
    r->handler_vector = -1;
    take(cpu, before);
    bool stopped_by_limit = false;
    for (;;) {
        if (r->steps >= o->max_steps) {
            r->exit.reason = RC_EXIT_LIMIT;
            r->exit.icount = r->steps;
            stopped_by_limit = true;
            break;
        }
        step_info s = { .n = r->steps + 1 };
        s.cs = before->seg[RC_SEG_CS].selector;
        s.rip = before->reg[RC_REG_RIP];
        s.code_size = mode_code_size(before->mode);
        s.cpl = (unsigned)before->reg[RC_REG_CPL];
        s.linear = before->seg[RC_SEG_CS].base + s.rip;
        if (s.code_size != 8)
            s.linear &= STACK_MASK32;
        uint8_t peek[15];
        unsigned avail = peek_code(cpu, s.linear, peek);

        c->nmem = c->mem_more = c->ntr = c->nexc = 0;
        c->have_insn = false;
        rc_exit x;
        rc_status st = rc_run(cpu, 1, &x);
        r->steps++;
        take(cpu, after);

        if (c->have_insn) {
            s.len = c->len;
            memcpy(s.bytes, c->bytes, s.len);
            disasm(&t, s.code_size, s.bytes, s.len, s.rip, s.text, sizeof s.text);
        } else {
            unsigned l = disasm(&t, s.code_size, peek, avail, s.rip, s.text, sizeof s.text);
            s.len = l ? l : (avail < 8 ? avail : 8);
            memcpy(s.bytes, peek, s.len);
        }
        if (st != RC_OK) {
            r->end = RCT_END_ERROR;
            r->status = st;
            r->exit.reason = RC_EXIT_NONE;
            break;
        }
        bool done = x.reason != RC_EXIT_LIMIT;
        unsigned nch = diff(before, after, ch);
        if (!o->quiet) {
#ifdef RC_HAVE_CJSON
            if (o->json)
                print_step_json(&t, &s, ch, nch, c, x.reason == RC_EXIT_EXCEPTION);
            else
#endif
                print_step_text(&t, &s, ch, nch, c, x.reason == RC_EXIT_EXCEPTION);
        }
        if (done) {
            r->exit = x;
            break;
        }
        snap *tmp = before;
        before = after;
        after = tmp;
    }
    const snap *fin = stopped_by_limit ? before : after;
    if (r->exit.reason == RC_EXIT_HLT) {
        uint64_t lin = fin->seg[RC_SEG_CS].base + fin->reg[RC_REG_RIP] - 1;
        if (fin->mode != RC_MODE_LONG64)
            lin &= STACK_MASK32;
        r->handler_vector = rcm_handler_vector(lin);
        if (r->handler_vector >= 0)
            r->handler_by_exception = c->have_delivery ? c->delivery.kind == RC_TR_EXCEPTION
                                                       : r->handler_vector < 32;
    }
    if (r->end != RCT_END_ERROR)
        r->end = classify(&r->exit, r);
#ifdef RC_HAVE_CJSON
    if (o->json)
        print_end_json(&t, fin, r);
    else
#endif
        print_end_text(&t, cpu, fin, r, c);
    rc_set_hooks(cpu, NULL);
    free(c), free(before), free(after), free(ch);
    close_capstone(&t);
    return 0;
}

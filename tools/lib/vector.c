/*
 * vector.c - parse and validate test-vector files (docs/vectors.md).
 *
 * Every check names the file, the vector (by "name", or by position when
 * the name is missing) and the field path, e.g.
 *   tests/vectors/x.json: vector "int3-cpl3": field expect.regs.rax: expected a number ...
 * Unknown fields are errors, so a typo never silently drops a check.
 */
#include "vector.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "lib/hex.h"
#include "lib/regs.h"

/* ------------------------------------------------------------------ context */

typedef struct pctx {
    const char *path;
    bool expect_optional;
    char vlabel[192];
    char *err;
    size_t errlen;
} pctx;

static int fail(pctx *c, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (field && *field)
        snprintf(c->err, c->errlen, "%s: %s: field %s: %s", c->path, c->vlabel, field, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s: %s", c->path, c->vlabel, msg);
    return -1;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static const char *const end_names[RCV_END_COUNT] = { "hlt", "exception", "int", "shutdown",
                                                      "limit", "unsupported", "error" };

const char *rcv_end_name(rcv_end e)
{
    return (unsigned)e < RCV_END_COUNT ? end_names[e] : "?";
}

/* Every key of object 'o' must be in the NULL-terminated list. */
static int check_keys(pctx *c, const cJSON *o, const char *where, const char *const *allowed)
{
    for (const cJSON *k = o->child; k; k = k->next) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(k->string, *a) == 0;
        if (!ok) {
            char f[160], list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *a);
            }
            snprintf(f, sizeof f, "%s%s%s", where, *where ? "." : "", k->string);
            return fail(c, f, "unknown field (allowed here: %s)", list);
        }
    }
    return 0;
}

/* A number: a string "0x..", "0b..", decimal (docs: hex strings preferred),
 * or a JSON integer no larger than 2^53. */
static int get_u64(pctx *c, const cJSON *it, const char *field, uint64_t *out)
{
    if (cJSON_IsString(it)) {
        char e[160];
        if (rct_parse_u64(it->valuestring, out, e, sizeof e))
            return fail(c, field, "expected a hex string such as \"0x1f\": %s", e);
        return 0;
    }
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        if (d < 0 || d > 9007199254740992.0 || floor(d) != d)
            return fail(c, field, "expected a hex string or a non-negative integer, got %g", d);
        *out = (uint64_t)d;
        return 0;
    }
    return fail(c, field, "expected a hex string (\"0x...\") or an integer");
}

static int get_uint_max(pctx *c, const cJSON *it, const char *field, uint64_t max, uint64_t *out)
{
    if (get_u64(c, it, field, out))
        return -1;
    if (*out > max)
        return fail(c, field, "value 0x%llx is out of range (at most 0x%llx)",
                    (unsigned long long)*out, (unsigned long long)max);
    return 0;
}

static int get_bit(pctx *c, const cJSON *it, const char *field, uint8_t *out)
{
    if (cJSON_IsBool(it)) {
        *out = cJSON_IsTrue(it);
        return 0;
    }
    uint64_t v;
    if (cJSON_IsNumber(it) && !get_u64(c, it, field, &v) && v <= 1) {
        *out = (uint8_t)v;
        return 0;
    }
    return fail(c, field, "expected true/false or 0/1");
}

static int get_string(pctx *c, const cJSON *it, const char *field, const char **out)
{
    *out = "";
    if (!cJSON_IsString(it))
        return fail(c, field, "expected a string");
    *out = it->valuestring;
    return 0;
}

static int get_hex_bytes(pctx *c, const cJSON *it, const char *field, size_t cap, uint8_t **out,
                         size_t *len)
{
    const char *s;
    if (get_string(c, it, field, &s))
        return -1;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return fail(c, field, "out of memory");
    char e[200];
    const char *args[1] = { s };
    if (rct_hex_parse(args, 1, buf, cap, len, e, sizeof e)) {
        free(buf);
        /* rct_hex_parse names "hex argument 1"; the field says where. */
        const char *p = strstr(e, "position");
        return fail(c, field, "expected hex bytes (\"0f 0b\"): %s", p ? p : e);
    }
    uint8_t *fit = realloc(buf, *len ? *len : 1);
    *out = fit ? fit : buf;
    return 0;
}

/* ------------------------------------------------------------------ registers */

static int parse_regs(pctx *c, const cJSON *o, const char *where, rcv_regval *out, unsigned *n)
{
    char f[160];
    if (!cJSON_IsObject(o))
        return fail(c, where, "expected an object {\"rax\": \"0x...\", ...}");
    for (const cJSON *k = o->child; k; k = k->next) {
        snprintf(f, sizeof f, "%s.%s", where, k->string);
        const rct_reg_ref *r = rct_reg_lookup(k->string);
        if (!r || r->kind != RCT_REG_PART)
            return fail(c, f, r ? "not a register here (segment registers go in \"segs\", MSRs "
                                  "in \"msrs\")"
                                : "unknown register name");
        if (*n >= RCV_MAX_ITEMS)
            return fail(c, f, "too many registers");
        rcv_regval *rv = &out[(*n)++];
        snprintf(rv->name, sizeof rv->name, "%s", k->string);
        rv->id = r->id;
        rv->width = r->width;
        rv->shift = r->shift;
        if (get_u64(c, k, f, &rv->value))
            return -1;
        if (r->width < 64 && rv->value >> r->width)
            return fail(c, f, "value 0x%llx does not fit in %u bits",
                        (unsigned long long)rv->value, r->width);
    }
    return 0;
}

static int msr_lookup(const char *name, uint32_t *index)
{
    const rct_reg_ref *r = rct_reg_lookup(name);
    if (r && r->kind == RCT_REG_MSR) {
        *index = r->id;
        return 0;
    }
    uint64_t v;
    char e[64];
    if (!strncasecmp(name, "0x", 2) && !rct_parse_u64(name, &v, e, sizeof e) && v <= 0xffffffffu) {
        *index = (uint32_t)v;
        return 0;
    }
    return -1;
}

static int parse_msrs(pctx *c, const cJSON *o, const char *where, rcv_msrval *out, unsigned *n)
{
    char f[160];
    if (!cJSON_IsObject(o))
        return fail(c, where, "expected an object {\"star\": \"0x...\", \"0xc0000080\": ...}");
    for (const cJSON *k = o->child; k; k = k->next) {
        snprintf(f, sizeof f, "%s.%s", where, k->string);
        if (*n >= RCV_MAX_ITEMS)
            return fail(c, f, "too many MSRs");
        rcv_msrval *m = &out[(*n)++];
        if (msr_lookup(k->string, &m->index))
            return fail(c, f, "unknown MSR (a name such as \"lstar\" or an index \"0xc0000082\")");
        snprintf(m->name, sizeof m->name, "%s", k->string);
        if (get_u64(c, k, f, &m->value))
            return -1;
    }
    return 0;
}

static const char *const seg_names[RC_SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr",
                                                     "tr" };

static int parse_seg(pctx *c, const cJSON *k, const char *f, rcv_segval *sv)
{
    uint64_t v;
    if (cJSON_IsString(k) || cJSON_IsNumber(k)) {
        if (get_uint_max(c, k, f, 0xffff, &v))
            return -1;
        sv->load = true;
        sv->s.selector = (uint16_t)v;
        sv->mask = RCV_SF_SELECTOR;
        return 0;
    }
    if (!cJSON_IsObject(k))
        return fail(c, f, "expected a selector (\"0x2b\") or an object of fields");
    static const char *const keys[] = { "selector", "base", "limit", "type", "s", "dpl", "p",
                                        "avl", "l", "db", "g", "unusable", NULL };
    if (check_keys(c, k, f, keys))
        return -1;
    char g[192];
    for (const cJSON *it = k->child; it; it = it->next) {
        snprintf(g, sizeof g, "%s.%s", f, it->string);
        const char *n = it->string;
        uint8_t b = 0;
        if (!strcmp(n, "selector")) {
            if (get_uint_max(c, it, g, 0xffff, &v)) return -1;
            sv->s.selector = (uint16_t)v; sv->mask |= RCV_SF_SELECTOR;
        } else if (!strcmp(n, "base")) {
            if (get_u64(c, it, g, &v)) return -1;
            sv->s.base = v; sv->mask |= RCV_SF_BASE;
        } else if (!strcmp(n, "limit")) {
            if (get_uint_max(c, it, g, 0xffffffffu, &v)) return -1;
            sv->s.limit = (uint32_t)v; sv->mask |= RCV_SF_LIMIT;
        } else if (!strcmp(n, "type")) {
            if (get_uint_max(c, it, g, 15, &v)) return -1;
            sv->s.type = (uint8_t)v; sv->mask |= RCV_SF_TYPE;
        } else if (!strcmp(n, "dpl")) {
            if (get_uint_max(c, it, g, 3, &v)) return -1;
            sv->s.dpl = (uint8_t)v; sv->mask |= RCV_SF_DPL;
        } else {
            if (get_bit(c, it, g, &b)) return -1;
            if (!strcmp(n, "s")) { sv->s.s = b; sv->mask |= RCV_SF_S; }
            else if (!strcmp(n, "p")) { sv->s.present = b; sv->mask |= RCV_SF_P; }
            else if (!strcmp(n, "avl")) { sv->s.avl = b; sv->mask |= RCV_SF_AVL; }
            else if (!strcmp(n, "l")) { sv->s.l = b; sv->mask |= RCV_SF_L; }
            else if (!strcmp(n, "db")) { sv->s.db = b; sv->mask |= RCV_SF_DB; }
            else if (!strcmp(n, "g")) { sv->s.g = b; sv->mask |= RCV_SF_G; }
            else { sv->s.unusable = b; sv->mask |= RCV_SF_UNUSABLE; }
        }
    }
    return 0;
}

static int parse_segs(pctx *c, const cJSON *o, const char *where, rcv_segval *out, unsigned *n,
                      bool allow_system)
{
    char f[160];
    if (!cJSON_IsObject(o))
        return fail(c, where, "expected an object {\"ds\": \"0x2b\", \"cs\": {...}}");
    for (const cJSON *k = o->child; k; k = k->next) {
        snprintf(f, sizeof f, "%s.%s", where, k->string);
        int reg = -1;
        for (int i = 0; i < RC_SEG_COUNT; i++)
            if (!strcasecmp(k->string, seg_names[i]))
                reg = i;
        if (reg < 0 || (!allow_system && reg >= RC_SEG_LDTR))
            return fail(c, f, allow_system ? "unknown segment register (es cs ss ds fs gs ldtr "
                                             "tr)"
                                           : "unknown segment register (es cs ss ds fs gs; the "
                                             "LDT is set with \"ldt\")");
        for (unsigned i = 0; i < *n; i++)
            if (out[i].reg == (unsigned)reg)
                return fail(c, f, "given twice");
        rcv_segval *sv = &out[(*n)++];
        memset(sv, 0, sizeof *sv);
        sv->reg = (unsigned)reg;
        if (parse_seg(c, k, f, sv))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ tables */

static int parse_desc(pctx *c, const cJSON *o, const char *f, bool idt, unsigned max_index,
                      rcv_desc *d)
{
    static const char *const gkeys[] = { "index", "raw", "raw_hi", "base", "limit", "type", "s",
                                         "dpl", "p", "avl", "l", "db", "g", "selector", "offset",
                                         "params", NULL };
    static const char *const ikeys[] = { "vector", "raw", "raw_hi", "type", "dpl", "p",
                                         "selector", "offset", "ist", NULL };
    if (!cJSON_IsObject(o))
        return fail(c, f, "expected an object");
    if (check_keys(c, o, f, idt ? ikeys : gkeys))
        return -1;
    memset(d, 0, sizeof *d);
    const char *ik = idt ? "vector" : "index";
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(o, ik);
    char g[192];
    snprintf(g, sizeof g, "%s.%s", f, ik);
    uint64_t v;
    if (!ix)
        return fail(c, g, "missing (which %s)", idt ? "vector" : "entry");
    if (get_uint_max(c, ix, g, max_index, &v))
        return -1;
    d->index = (unsigned)v;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *n = it->string;
        snprintf(g, sizeof g, "%s.%s", f, n);
        if (!strcmp(n, ik))
            continue;
        uint8_t b;
        if (!strcmp(n, "raw") || !strcmp(n, "raw_hi")) {
            if (get_u64(c, it, g, &v)) return -1;
            if (n[3]) { d->raw_hi = v; d->mask |= RCV_DF_RAW_HI; }
            else { d->raw = v; d->mask |= RCV_DF_RAW; }
        } else if (!strcmp(n, "base")) {
            if (get_uint_max(c, it, g, 0xffffffffu, &v)) return -1;
            d->base = v; d->mask |= RCV_DF_BASE;
        } else if (!strcmp(n, "limit")) {
            if (get_uint_max(c, it, g, 0xfffff, &v)) return -1;
            d->limit = (uint32_t)v; d->mask |= RCV_DF_LIMIT;
        } else if (!strcmp(n, "type")) {
            if (get_uint_max(c, it, g, 15, &v)) return -1;
            d->type = (uint8_t)v; d->mask |= RCV_DF_TYPE;
        } else if (!strcmp(n, "dpl")) {
            if (get_uint_max(c, it, g, 3, &v)) return -1;
            d->dpl = (uint8_t)v; d->mask |= RCV_DF_DPL;
        } else if (!strcmp(n, "selector")) {
            if (get_uint_max(c, it, g, 0xffff, &v)) return -1;
            d->selector = (uint16_t)v; d->mask |= RCV_DF_SELECTOR;
        } else if (!strcmp(n, "offset")) {
            if (get_u64(c, it, g, &v)) return -1;
            d->offset = v; d->mask |= RCV_DF_OFFSET;
        } else if (!strcmp(n, "ist")) {
            if (get_uint_max(c, it, g, 7, &v)) return -1;
            d->ist = (uint8_t)v; d->mask |= RCV_DF_IST;
        } else if (!strcmp(n, "params")) {
            if (get_uint_max(c, it, g, 31, &v)) return -1;
            d->params = (uint8_t)v; d->mask |= RCV_DF_PARAMS;
        } else {
            if (get_bit(c, it, g, &b)) return -1;
            if (!strcmp(n, "s")) { d->s = b; d->mask |= RCV_DF_S; }
            else if (!strcmp(n, "p")) { d->p = b; d->mask |= RCV_DF_P; }
            else if (!strcmp(n, "avl")) { d->avl = b; d->mask |= RCV_DF_AVL; }
            else if (!strcmp(n, "l")) { d->l = b; d->mask |= RCV_DF_L; }
            else if (!strcmp(n, "db")) { d->db = b; d->mask |= RCV_DF_DB; }
            else { d->g = b; d->mask |= RCV_DF_G; }
        }
    }
    if ((d->mask & (RCV_DF_RAW | RCV_DF_RAW_HI)) && (d->mask & ~(RCV_DF_RAW | RCV_DF_RAW_HI)))
        return fail(c, f, "give either \"raw\" (and \"raw_hi\") or the fields, not both");
    bool gate_fields = d->mask & (RCV_DF_SELECTOR | RCV_DF_OFFSET | RCV_DF_PARAMS);
    bool seg_fields = d->mask & (RCV_DF_BASE | RCV_DF_LIMIT | RCV_DF_AVL | RCV_DF_L | RCV_DF_DB |
                                 RCV_DF_G);
    if (gate_fields && seg_fields)
        return fail(c, f, "mixes segment fields (base, limit, ...) with gate fields (selector, "
                          "offset, params)");
    /* SDM Vol. 3A 3.5 Table 3-2: the gate types. A descriptor that is not a
     * gate but has gate fields is a vector mistake; a deliberately malformed
     * gate is written with "raw". */
    if ((gate_fields || idt) && (d->mask & RCV_DF_TYPE)) {
        bool ok = idt ? d->type == 5 || d->type == 6 || d->type == 7 || d->type == 14 ||
                            d->type == 15
                      : d->type == 4 || d->type == 5 || d->type == 12;
        if (!ok) {
            snprintf(g, sizeof g, "%s.type", f);
            return fail(c, g, idt ? "not a gate type (5 task, 6/7 16-bit interrupt/trap, 14/15 "
                                    "interrupt/trap gate); write a malformed gate with \"raw\""
                                  : "not a gate type (4 16-bit call gate, 5 task gate, 12 call "
                                    "gate); write a malformed gate with \"raw\"");
        }
    }
    return 0;
}

static int parse_desc_list(pctx *c, const cJSON *a, const char *where, bool idt, unsigned max,
                           rcv_desc *out, unsigned *n)
{
    char f[160];
    if (!cJSON_IsArray(a))
        return fail(c, where, "expected an array of entries");
    unsigned i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        snprintf(f, sizeof f, "%s[%u]", where, i);
        if (*n >= RCV_MAX_ITEMS)
            return fail(c, f, "too many entries");
        if (parse_desc(c, e, f, idt, max, &out[*n]))
            return -1;
        (*n)++;
    }
    return 0;
}

/* TSS fields: SDM Vol. 3A 8.7 Figure 8-11 (64-bit), 8.2.1 Figure 8-2 (32-bit). */
typedef struct tss_field { const char *name; unsigned off, size; bool wide; } tss_field;
static const tss_field tss_fields[] = {
    { "rsp0", 4, 8, true }, { "rsp1", 12, 8, true }, { "rsp2", 20, 8, true },
    { "ist1", 36, 8, true }, { "ist2", 44, 8, true }, { "ist3", 52, 8, true },
    { "ist4", 60, 8, true }, { "ist5", 68, 8, true }, { "ist6", 76, 8, true },
    { "ist7", 84, 8, true },
    { "esp0", 4, 4, false }, { "ss0", 8, 2, false }, { "esp1", 12, 4, false },
    { "ss1", 16, 2, false }, { "esp2", 20, 4, false }, { "ss2", 24, 2, false },
    { "cr3", 28, 4, false },
    { "iomap_base", 102, 2, true }, { "iomap_base", 102, 2, false },
};

static int parse_tss(pctx *c, const cJSON *o, rcv_vector *v)
{
    char f[160];
    if (!cJSON_IsObject(o))
        return fail(c, "tss", "expected an object {\"rsp0\": \"0x...\", ...}");
    bool wide = v->m.mode == RCM_LONG || v->m.mode == RCM_COMPAT;
    for (const cJSON *k = o->child; k; k = k->next) {
        snprintf(f, sizeof f, "tss.%s", k->string);
        const tss_field *tf = NULL;
        bool other = false;
        for (size_t i = 0; i < sizeof tss_fields / sizeof tss_fields[0]; i++)
            if (!strcmp(tss_fields[i].name, k->string)) {
                if (tss_fields[i].wide == wide)
                    tf = &tss_fields[i];
                else
                    other = true;
            }
        if (!tf)
            return fail(c, f, other ? "not a field of the %s TSS in %s mode"
                                    : "unknown TSS field (%s TSS: see docs/vectors.md)",
                        wide ? "64-bit" : "32-bit", rcm_mode_name(v->m.mode));
        if (v->ntss >= RCV_MAX_ITEMS)
            return fail(c, f, "too many fields");
        rcv_tssval *t = &v->tss[v->ntss++];
        snprintf(t->name, sizeof t->name, "%s", tf->name);
        t->off = tf->off;
        t->size = tf->size;
        if (get_uint_max(c, k, f, tf->size == 8 ? ~0ull : (1ull << (8 * tf->size)) - 1,
                         &t->value))
            return -1;
    }
    return 0;
}

static int parse_pages(pctx *c, const cJSON *a, rcv_vector *v)
{
    char f[160], g[192];
    if (!cJSON_IsArray(a))
        return fail(c, "pages", "expected an array of {\"addr\": ..., \"p\": ..., ...}");
    static const char *const keys[] = { "addr", "p", "rw", "us", "nx", "frame", "raw", NULL };
    unsigned i = 0;
    bool paging4 = v->m.mode == RCM_LONG || v->m.mode == RCM_COMPAT;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        snprintf(f, sizeof f, "pages[%u]", i);
        if (!cJSON_IsObject(e))
            return fail(c, f, "expected an object");
        if (check_keys(c, e, f, keys))
            return -1;
        if (v->npages >= RCV_MAX_ITEMS)
            return fail(c, f, "too many entries");
        rcv_page *p = &v->pages[v->npages++];
        memset(p, 0, sizeof *p);
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(e, "addr");
        snprintf(g, sizeof g, "%s.addr", f);
        if (!ad)
            return fail(c, g, "missing (the linear address of the page)");
        if (get_uint_max(c, ad, g, RCM_RAM_SIZE - 1, &p->addr))
            return -1;
        if (p->addr < 0x1000)
            return fail(c, g, "page 0 has no PTE to change in the standard machine");
        for (const cJSON *it = e->child; it; it = it->next) {
            snprintf(g, sizeof g, "%s.%s", f, it->string);
            const char *n = it->string;
            uint8_t b;
            if (!strcmp(n, "addr"))
                continue;
            if (!strcmp(n, "frame")) {
                if (get_uint_max(c, it, g, paging4 ? 0xffffffffffull : 0xffffffffull, &p->frame))
                    return -1;
                if (p->frame & 0xfff)
                    return fail(c, g, "a page frame address is 4-KiB aligned");
                p->mask |= RCV_PF_FRAME;
            } else if (!strcmp(n, "raw")) {
                if (get_u64(c, it, g, &p->raw)) return -1;
                p->mask |= RCV_PF_RAW;
            } else {
                if (get_bit(c, it, g, &b)) return -1;
                if (!strcmp(n, "p")) { p->p = b; p->mask |= RCV_PF_P; }
                else if (!strcmp(n, "rw")) { p->rw = b; p->mask |= RCV_PF_RW; }
                else if (!strcmp(n, "us")) { p->us = b; p->mask |= RCV_PF_US; }
                else {
                    if (!paging4)
                        return fail(c, g, "32-bit paging (%s mode) has no XD bit",
                                    rcm_mode_name(v->m.mode));
                    p->nx = b; p->mask |= RCV_PF_NX;
                }
            }
        }
        if ((p->mask & RCV_PF_RAW) && (p->mask & ~RCV_PF_RAW))
            return fail(c, f, "give either \"raw\" or the bits, not both");
    }
    return 0;
}

static int parse_mem(pctx *c, const cJSON *a, const char *where, rcv_mem *out, unsigned *n)
{
    char f[160], g[192];
    if (!cJSON_IsArray(a))
        return fail(c, where, "expected an array of {\"addr\": \"0x...\", \"bytes\": \"...\"}");
    static const char *const keys[] = { "addr", "bytes", NULL };
    unsigned i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        snprintf(f, sizeof f, "%s[%u]", where, i);
        if (!cJSON_IsObject(e))
            return fail(c, f, "expected an object");
        if (check_keys(c, e, f, keys))
            return -1;
        if (*n >= RCV_MAX_ITEMS)
            return fail(c, f, "too many entries");
        rcv_mem *m = &out[*n];
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(e, "addr");
        const cJSON *by = cJSON_GetObjectItemCaseSensitive(e, "bytes");
        snprintf(g, sizeof g, "%s.addr", f);
        if (!ad)
            return fail(c, g, "missing");
        if (get_uint_max(c, ad, g, RCM_RAM_SIZE - 1, &m->addr))
            return -1;
        snprintf(g, sizeof g, "%s.bytes", f);
        if (!by)
            return fail(c, g, "missing");
        if (get_hex_bytes(c, by, g, 0x10000, &m->bytes, &m->len))
            return -1;
        (*n)++;
        if (m->addr + m->len > RCM_RAM_SIZE)
            return fail(c, g, "runs past the end of RAM (16 MiB)");
    }
    return 0;
}

/* ------------------------------------------------------------------ expect */

static int parse_vector_number(pctx *c, const cJSON *it, const char *f, int *out)
{
    static const char *const mn[32] = { "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF",
                                        NULL, "TS", "NP", "SS", "GP", "PF", NULL, "MF", "AC",
                                        "MC", "XM", "VE", "CP" };
    if (cJSON_IsString(it) && it->valuestring[0] == '#') {
        for (int i = 0; i < 32; i++)
            if (mn[i] && !strcasecmp(it->valuestring + 1, mn[i])) {
                *out = i;
                return 0;
            }
        return fail(c, f, "unknown exception mnemonic \"%s\"", it->valuestring);
    }
    uint64_t v;
    if (get_uint_max(c, it, f, 255, &v))
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_frame(pctx *c, const cJSON *o, rcv_expect *e)
{
    static const char *const keys[] = { "rip", "cs", "rflags", "rsp", "ss", NULL };
    if (!cJSON_IsObject(o))
        return fail(c, "expect.frame", "expected an object {\"rip\": ..., \"cs\": ...}");
    if (check_keys(c, o, "expect.frame", keys))
        return -1;
    char g[64];
    for (const cJSON *it = o->child; it; it = it->next) {
        snprintf(g, sizeof g, "expect.frame.%s", it->string);
        uint64_t v;
        if (get_u64(c, it, g, &v))
            return -1;
        const char *n = it->string;
        if (!strcmp(n, "rip")) { e->frame_rip = v; e->frame_mask |= RCV_FR_RIP; }
        else if (!strcmp(n, "cs")) { e->frame_cs = v; e->frame_mask |= RCV_FR_CS; }
        else if (!strcmp(n, "rflags")) { e->frame_rflags = v; e->frame_mask |= RCV_FR_RFLAGS; }
        else if (!strcmp(n, "rsp")) { e->frame_rsp = v; e->frame_mask |= RCV_FR_RSP; }
        else { e->frame_ss = v; e->frame_mask |= RCV_FR_SS; }
    }
    return 0;
}

static int parse_sources(pctx *c, const cJSON *a, rcv_expect *e)
{
    char f[64];
    if (!cJSON_IsArray(a) || !a->child)
        return fail(c, "expect.sources", "expected a non-empty array of judges "
                                         "(\"sdm:Vol.3A/6.15\", \"native:...\", ...)");
    static const char *const kinds[] = { "native:", "unicorn-", "bochs-", "qemu-", "kvm:",
                                         "sdm:", "apm:", NULL };
    unsigned i = 0;
    for (const cJSON *s = a->child; s; s = s->next, i++) {
        snprintf(f, sizeof f, "expect.sources[%u]", i);
        const char *str;
        if (get_string(c, s, f, &str))
            return -1;
        bool ok = false;
        for (const char *const *k = kinds; *k; k++)
            ok |= !strncmp(str, *k, strlen(*k)) && str[strlen(*k)];
        if (!ok)
            return fail(c, f, "\"%s\" is not a judge: expected native:<vendor-family-model>, "
                              "unicorn-<version>, bochs-<version>:<cpu>, qemu-<version>:<cpu>, "
                              "kvm:<vendor-family-model>, sdm:<vol/section> or "
                              "apm:<vol/section>", str);
        if (e->nsources >= RCV_MAX_SOURCES)
            return fail(c, f, "too many sources");
        e->sources[e->nsources++] = dupstr(str);
    }
    return 0;
}

static int parse_not_judged(pctx *c, const cJSON *a, rcv_expect *e)
{
    char f[80], g[96];
    if (!cJSON_IsArray(a))
        return fail(c, "expect.not_judged", "expected an array of {\"source\", \"fields\", "
                                            "\"why\"}");
    static const char *const keys[] = { "source", "fields", "why", NULL };
    unsigned i = 0;
    for (const cJSON *o = a->child; o; o = o->next, i++) {
        snprintf(f, sizeof f, "expect.not_judged[%u]", i);
        if (!cJSON_IsObject(o))
            return fail(c, f, "expected an object");
        if (check_keys(c, o, f, keys))
            return -1;
        if (e->nnot_judged >= RCV_MAX_SOURCES)
            return fail(c, f, "too many entries");
        rcv_not_judged *nj = &e->not_judged[e->nnot_judged];
        const char *s, *w;
        snprintf(g, sizeof g, "%s.source", f);
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
        if (!src)
            return fail(c, g, "missing");
        if (get_string(c, src, g, &s))
            return -1;
        snprintf(nj->source, sizeof nj->source, "%s", s);
        snprintf(g, sizeof g, "%s.why", f);
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(o, "why");
        if (!why)
            return fail(c, g, "missing: say why the judge cannot see it");
        if (get_string(c, why, g, &w))
            return -1;
        snprintf(g, sizeof g, "%s.fields", f);
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(o, "fields");
        if (!fl || !cJSON_IsArray(fl))
            return fail(c, g, "expected an array of field paths (\"expect.frame\", "
                              "\"expect.regs.rsp\", \"*\")");
        char buf[512] = "";
        for (const cJSON *x = fl->child; x; x = x->next) {
            if (!cJSON_IsString(x))
                return fail(c, g, "expected strings");
            if (strncmp(x->valuestring, "expect", 6) && strcmp(x->valuestring, "*"))
                return fail(c, g, "\"%s\" is not a field path under expect (or \"*\")",
                            x->valuestring);
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, "%s%s", l ? "," : "", x->valuestring);
        }
        nj->fields = dupstr(buf);
        nj->why = dupstr(w);
        e->nnot_judged++;
    }
    return 0;
}

static int parse_expect(pctx *c, const cJSON *o, rcv_vector *v)
{
    rcv_expect *e = &v->expect;
    static const char *const keys[] = { "end", "vector", "error_code", "cr2", "cpl", "frame",
                                        "regs", "segs", "msrs", "mem", "sources", "not_judged",
                                        NULL };
    if (!cJSON_IsObject(o))
        return fail(c, "expect", "expected an object");
    if (check_keys(c, o, "expect", keys))
        return -1;
    e->present = true;
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(o, "end");
    const char *s;
    if (!end)
        return fail(c, "expect.end", "missing (hlt, exception, int or shutdown)");
    if (get_string(c, end, "expect.end", &s))
        return -1;
    int k = -1;
    for (int i = 0; i <= RCV_END_SHUTDOWN; i++)
        if (!strcmp(s, end_names[i]))
            k = i;
    if (k < 0)
        return fail(c, "expect.end", "\"%s\": expected hlt, exception, int or shutdown", s);
    e->end = (rcv_end)k;
    bool delivered = e->end == RCV_END_EXCEPTION || e->end == RCV_END_INT;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *n = it->string;
        char f[64];
        snprintf(f, sizeof f, "expect.%s", n);
        uint64_t x;
        if (!strcmp(n, "end")) {
            continue;
        } else if (!strcmp(n, "vector")) {
            if (parse_vector_number(c, it, f, &e->vector))
                return -1;
        } else if (!strcmp(n, "error_code")) {
            if (cJSON_IsString(it) && !strcmp(it->valuestring, "none")) {
                e->has_error_code = 0;
            } else {
                if (get_uint_max(c, it, f, 0xffffffffu, &x))
                    return -1;
                e->has_error_code = 1;
                e->error_code = (uint32_t)x;
            }
        } else if (!strcmp(n, "cr2")) {
            if (get_u64(c, it, f, &e->cr2))
                return -1;
            e->has_cr2 = true;
        } else if (!strcmp(n, "cpl")) {
            if (get_uint_max(c, it, f, 3, &x))
                return -1;
            e->cpl = (int)x;
        } else if (!strcmp(n, "frame")) {
            if (!delivered)
                return fail(c, f, "only an exception or int end has a frame");
            if (parse_frame(c, it, e))
                return -1;
        } else if (!strcmp(n, "regs")) {
            if (parse_regs(c, it, f, e->regs, &e->nregs))
                return -1;
        } else if (!strcmp(n, "segs")) {
            if (parse_segs(c, it, f, e->segs, &e->nsegs, true))
                return -1;
        } else if (!strcmp(n, "msrs")) {
            if (parse_msrs(c, it, f, e->msrs, &e->nmsrs))
                return -1;
        } else if (!strcmp(n, "mem")) {
            if (parse_mem(c, it, f, e->mem, &e->nmem))
                return -1;
        } else if (!strcmp(n, "sources")) {
            if (parse_sources(c, it, e))
                return -1;
        } else if (!strcmp(n, "not_judged")) {
            if (parse_not_judged(c, it, e))
                return -1;
        }
    }
    if (delivered && e->vector < 0)
        return fail(c, "expect.vector", "missing: an %s end names its vector", s);
    if (!delivered && e->vector >= 0)
        return fail(c, "expect.vector", "only an exception or int end has a vector");
    if (!delivered && e->has_error_code >= 0)
        return fail(c, "expect.error_code", "only an exception end has an error code");
    if (!e->nsources)
        return fail(c, "expect.sources", "missing: every expectation names its judges");
    return 0;
}

/* ------------------------------------------------------------------ vector */

static void set_label(pctx *c, const cJSON *o, unsigned index)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (cJSON_IsString(n))
        snprintf(c->vlabel, sizeof c->vlabel, "vector \"%s\"", n->valuestring);
    else
        snprintf(c->vlabel, sizeof c->vlabel, "vector #%u", index + 1);
}

static int parse_vector(pctx *c, cJSON *o, unsigned index, const char *dir_area, rcv_vector *v)
{
    static const char *const keys[] = { "name", "area", "why", "vendor", "mode", "cpl", "paging",
                                         "code", "max_insns", "regs", "segs", "msrs", "gdt",
                                         "ldt", "idt", "tss", "pages", "mem", "expect",
                                         "known_bug", NULL };
    memset(v, 0, sizeof *v);
    v->node = o;
    v->file = c->path;
    v->index = index;
    v->expect.vector = -1;
    v->expect.has_error_code = -1;
    v->expect.cpl = -1;
    v->m = (rcm_options)RCM_OPTIONS_INIT;
    v->max_insns = RCV_DEFAULT_MAX_INSNS;
    set_label(c, o, index);
    if (!cJSON_IsObject(o))
        return fail(c, NULL, "expected a JSON object");
    if (check_keys(c, o, "", keys))
        return -1;
    const char *s;
    uint64_t x;
    const cJSON *it;

    if (!(it = cJSON_GetObjectItemCaseSensitive(o, "name")))
        return fail(c, "name", "missing");
    if (get_string(c, it, "name", &s))
        return -1;
    if (!*s)
        return fail(c, "name", "empty");
    v->name = dupstr(s);
    it = cJSON_GetObjectItemCaseSensitive(o, "area");
    if (it && get_string(c, it, "area", &s))
        return -1;
    v->area = dupstr(it ? s : dir_area);
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "why"))) {
        if (get_string(c, it, "why", &s))
            return -1;
        v->why = dupstr(s);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "known_bug"))) {
        if (get_string(c, it, "known_bug", &s))
            return -1;
        if (!*s)
            return fail(c, "known_bug", "empty: name the bug");
        v->known_bug = dupstr(s);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "vendor"))) {
        if (get_string(c, it, "vendor", &s))
            return -1;
        if (!strcmp(s, "intel"))
            v->m.vendor = RC_VENDOR_INTEL;
        else if (!strcmp(s, "amd"))
            v->m.vendor = RC_VENDOR_AMD;
        else
            return fail(c, "vendor", "\"%s\": expected \"intel\" or \"amd\"", s);
    }
    if (!(it = cJSON_GetObjectItemCaseSensitive(o, "mode")))
        return fail(c, "mode", "missing (real, prot16, prot32, compat or long)");
    if (get_string(c, it, "mode", &s))
        return -1;
    if (rcm_mode_parse(s, &v->m.mode))
        return fail(c, "mode", "\"%s\": expected real, prot16, prot32, compat or long", s);
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "cpl"))) {
        if (get_uint_max(c, it, "cpl", 3, &x))
            return -1;
        v->m.cpl = (unsigned)x;
        if (v->m.mode == RCM_REAL && x)
            return fail(c, "cpl", "real mode runs at CPL 0 only");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "paging"))) {
        uint8_t b;
        if (get_bit(c, it, "paging", &b))
            return -1;
        if (!b && v->m.mode != RCM_PROT16 && v->m.mode != RCM_PROT32)
            return fail(c, "paging", "only prot16 and prot32 can run without paging");
        v->m.no_paging = !b;
    }
    if (!(it = cJSON_GetObjectItemCaseSensitive(o, "code")))
        return fail(c, "code", "missing (the instruction bytes in hex)");
    if (get_hex_bytes(c, it, "code", rcm_code_max(v->m.mode), &v->code, &v->code_len))
        return -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "max_insns"))) {
        if (get_uint_max(c, it, "max_insns", 1000000, &x))
            return -1;
        if (!x)
            return fail(c, "max_insns", "must be at least 1");
        v->max_insns = x;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "regs")) &&
        parse_regs(c, it, "regs", v->regs, &v->nregs))
        return -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "segs")) &&
        parse_segs(c, it, "segs", v->segs, &v->nsegs, false))
        return -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "msrs")) &&
        parse_msrs(c, it, "msrs", v->msrs, &v->nmsrs))
        return -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "gdt")) &&
        parse_desc_list(c, it, "gdt", false, 255, v->gdt, &v->ngdt))
        return -1;
    for (unsigned i = 0; i < v->ngdt; i++)
        if (v->gdt[i].index == 0 || v->gdt[i].index == RCV_LDT_GDT_INDEX) {
            char f[32];
            snprintf(f, sizeof f, "gdt[%u].index", i);
            return fail(c, f, "entry %u is %s", v->gdt[i].index,
                        v->gdt[i].index ? "reserved for the vector's LDT descriptor"
                                        : "the null descriptor");
        }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "ldt"))) {
        if (v->m.mode == RCM_REAL)
            return fail(c, "ldt", "real mode has no LDT");
        v->has_ldt = true;
        if (parse_desc_list(c, it, "ldt", false, RCV_LDT_MAX_ENTRIES - 1, v->ldt, &v->nldt))
            return -1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "idt")) &&
        parse_desc_list(c, it, "idt", true, 255, v->idt, &v->nidt))
        return -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "tss"))) {
        if (v->m.mode == RCM_REAL)
            return fail(c, "tss", "real mode has no TSS");
        if (parse_tss(c, it, v))
            return -1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "pages"))) {
        if (v->m.mode == RCM_REAL || v->m.no_paging)
            return fail(c, "pages", "this machine runs without paging");
        if (parse_pages(c, it, v))
            return -1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "mem")) &&
        parse_mem(c, it, "mem", v->mem, &v->nmem))
        return -1;
    if (!(it = cJSON_GetObjectItemCaseSensitive(o, "expect"))) {
        if (c->expect_optional)
            return 0;
        return fail(c, "expect", "missing (use `ringcore vectors record` or write it by hand)");
    }
    return parse_expect(c, it, v);
}

static void vector_free(rcv_vector *v)
{
    free(v->name);
    free(v->area);
    free(v->why);
    free(v->known_bug);
    free(v->code);
    for (unsigned i = 0; i < v->nmem; i++)
        free(v->mem[i].bytes);
    for (unsigned i = 0; i < v->expect.nmem; i++)
        free(v->expect.mem[i].bytes);
    for (unsigned i = 0; i < v->expect.nsources; i++)
        free(v->expect.sources[i]);
    for (unsigned i = 0; i < v->expect.nnot_judged; i++) {
        free(v->expect.not_judged[i].fields);
        free(v->expect.not_judged[i].why);
    }
}

void rcv_file_free(rcv_file *f)
{
    for (unsigned i = 0; i < f->n; i++)
        vector_free(&f->v[i]);
    free(f->v);
    free(f->path);
    cJSON_Delete(f->root);
    memset(f, 0, sizeof *f);
}

/* The directory's last component names the area (tests/vectors/pf/x.json: "pf"). */
static void dir_area(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, n, "-");
        return;
    }
    const char *start = slash;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(out, n, "%.*s", (int)(slash - start), start);
    if (!*out)
        snprintf(out, n, "-");
}

static int parse_text(const char *path, bool expect_optional, const char *text, rcv_file *f,
                      char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    pctx c = { path, expect_optional, "file", err, errlen };
    f->path = dupstr(path);
    f->root = cJSON_Parse(text);
    if (!f->root) {
        const char *at = cJSON_GetErrorPtr();
        unsigned line = 1, col = 1;
        for (const char *p = text; at && p < at && *p; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        snprintf(err, errlen, "%s: line %u, column %u: not valid JSON", path, line, col);
        rcv_file_free(f);
        return -1;
    }
    cJSON *list = f->root;
    if (cJSON_IsObject(f->root) && cJSON_GetObjectItemCaseSensitive(f->root, "vectors")) {
        static const char *const keys[] = { "vectors", "comment", NULL };
        if (check_keys(&c, f->root, "", keys)) {
            rcv_file_free(f);
            return -1;
        }
        list = cJSON_GetObjectItemCaseSensitive(f->root, "vectors");
        if (!cJSON_IsArray(list)) {
            snprintf(err, errlen, "%s: field vectors: expected an array of vectors", path);
            rcv_file_free(f);
            return -1;
        }
    }
    unsigned n = cJSON_IsArray(list) ? (unsigned)cJSON_GetArraySize(list) : 1;
    if (n == 0) {
        snprintf(err, errlen, "%s: the file holds no vectors", path);
        rcv_file_free(f);
        return -1;
    }
    f->v = calloc(n, sizeof *f->v);
    if (!f->v) {
        snprintf(err, errlen, "%s: out of memory", path);
        rcv_file_free(f);
        return -1;
    }
    char area[128];
    dir_area(path, area, sizeof area);
    cJSON *item = cJSON_IsArray(list) ? list->child : list;
    for (unsigned i = 0; i < n; i++, item = item->next) {
        f->n = i + 1;
        if (parse_vector(&c, item, i, area, &f->v[i])) {
            rcv_file_free(f);
            return -1;
        }
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(f->v[j].name, f->v[i].name)) {
                fail(&c, "name", "the name is used twice in this file (also vector #%u)", j + 1);
                rcv_file_free(f);
                return -1;
            }
    }
    return 0;
}

int rcv_file_parse(const char *path, const char *text, rcv_file *f, char *err, size_t errlen)
{
    return parse_text(path, false, text, f, err, errlen);
}

int rcv_file_load(const char *path, rcv_file *f, char *err, size_t errlen)
{
    return rcv_file_load_ex(path, false, f, err, errlen);
}

int rcv_file_load_ex(const char *path, bool expect_optional, rcv_file *f, char *err,
                     size_t errlen)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (len < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "%s: %s", path, bad ? "read error" : "out of memory");
        return -1;
    }
    buf[len] = 0;
    int r = parse_text(path, expect_optional, buf, f, err, errlen);
    free(buf);
    return r;
}

int rcv_file_save(const rcv_file *f, char *err, size_t errlen)
{
    char *text = cJSON_Print(f->root);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", f->path);
        return -1;
    }
    FILE *fp = fopen(f->path, "wb");
    int r = -1;
    if (fp) {
        r = fputs(text, fp) < 0 || fputc('\n', fp) < 0 ? -1 : 0;
        r |= fclose(fp) ? -1 : 0;
    }
    if (r)
        snprintf(err, errlen, "%s: cannot write: %s", f->path, strerror(errno));
    cJSON_free(text);
    return r;
}

void rcv_label(const rcv_vector *v, char *buf, size_t n)
{
    snprintf(buf, n, "%s: vector \"%s\"", v->file, v->name);
}

/* ------------------------------------------------------------------ compare */

#include "lib/vbackend.h"

typedef struct dbuf { char *p; size_t n, len; unsigned count; } dbuf;

static void diff_line(dbuf *d, const char *fmt, ...)
{
    d->count++;
    if (d->len >= d->n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(d->p + d->len, d->n - d->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        d->len = d->len + (size_t)w < d->n ? d->len + (size_t)w : d->n - 1;
    if (d->len + 1 < d->n) {
        d->p[d->len++] = '\n';
        d->p[d->len] = 0;
    }
}

static void cmp_u64(dbuf *d, const char *field, uint64_t want, uint64_t got)
{
    if (want != got)
        diff_line(d, "%s: expected 0x%llx, got 0x%llx", field, (unsigned long long)want,
                  (unsigned long long)got);
}

static void end_text(rcv_end e, int vec, char *b, size_t n)
{
    if (e == RCV_END_EXCEPTION || e == RCV_END_INT)
        snprintf(b, n, "%s %d (0x%x)", rcv_end_name(e), vec, (unsigned)vec);
    else
        snprintf(b, n, "%s", rcv_end_name(e));
}

static void cmp_seg(dbuf *d, const rcv_segval *w, const rc_segment *g)
{
    char f[64];
    const char *nm = seg_names[w->reg];
#define SEGF(bit, name, want, got)                                                                 \
    if (w->mask & (bit)) {                                                                         \
        snprintf(f, sizeof f, "expect.segs.%s%s", nm, (w->load ? "" : "." name));                  \
        cmp_u64(d, f, (uint64_t)(want), (uint64_t)(got));                                          \
    }
    SEGF(RCV_SF_SELECTOR, "selector", w->s.selector, g->selector)
    SEGF(RCV_SF_BASE, "base", w->s.base, g->base)
    SEGF(RCV_SF_LIMIT, "limit", w->s.limit, g->limit)
    SEGF(RCV_SF_TYPE, "type", w->s.type, g->type)
    SEGF(RCV_SF_S, "s", w->s.s, g->s)
    SEGF(RCV_SF_DPL, "dpl", w->s.dpl, g->dpl)
    SEGF(RCV_SF_P, "p", w->s.present, g->present)
    SEGF(RCV_SF_AVL, "avl", w->s.avl, g->avl)
    SEGF(RCV_SF_L, "l", w->s.l, g->l)
    SEGF(RCV_SF_DB, "db", w->s.db, g->db)
    SEGF(RCV_SF_G, "g", w->s.g, g->g)
    SEGF(RCV_SF_UNUSABLE, "unusable", w->s.unusable, g->unusable)
#undef SEGF
}

unsigned rcv_compare(const rcv_vector *v, const rcv_result *r, char *out, size_t n)
{
    dbuf d = { out, n, 0, 0 };
    if (n)
        out[0] = 0;
    const rcv_expect *e = &v->expect;
    char a[64], b[64], f[96];
    if (r->end != e->end || ((e->end == RCV_END_EXCEPTION || e->end == RCV_END_INT) &&
                             e->vector >= 0 && r->vector != e->vector)) {
        end_text(e->end, e->vector, a, sizeof a);
        end_text(r->end, r->vector, b, sizeof b);
        diff_line(&d, "expect.end: expected %s, got %s%s%s", a, b, r->what[0] ? ": " : "",
                  r->what);
        return d.count; /* the rest would only repeat the difference */
    }
    if (e->has_error_code == 0 && r->has_error_code)
        diff_line(&d, "expect.error_code: expected none, got 0x%x", r->error_code);
    else if (e->has_error_code == 1 && !r->has_error_code)
        diff_line(&d, "expect.error_code: expected 0x%x, got none", e->error_code);
    else if (e->has_error_code == 1)
        cmp_u64(&d, "expect.error_code", e->error_code, r->error_code);
    if (e->has_cr2)
        cmp_u64(&d, "expect.cr2", e->cr2, r->reg[RC_REG_CR2]);
    if (e->cpl >= 0)
        cmp_u64(&d, "expect.cpl", (uint64_t)e->cpl, r->reg[RC_REG_CPL]);
    static const char *const frn[5] = { "rip", "cs", "rflags", "rsp", "ss" };
    const uint64_t want[5] = { e->frame_rip, e->frame_cs, e->frame_rflags, e->frame_rsp,
                               e->frame_ss };
    const uint64_t got[5] = { r->frame_rip, r->frame_cs, r->frame_rflags, r->frame_rsp,
                              r->frame_ss };
    for (unsigned i = 0; i < 5; i++) {
        if (!(e->frame_mask & (1u << i)))
            continue;
        snprintf(f, sizeof f, "expect.frame.%s", frn[i]);
        if (!(r->frame_mask & (1u << i)))
            diff_line(&d, "%s: expected 0x%llx, but the frame has no such slot", f,
                      (unsigned long long)want[i]);
        else
            cmp_u64(&d, f, want[i], got[i]);
    }
    for (unsigned i = 0; i < e->nregs; i++) {
        const rcv_regval *rv = &e->regs[i];
        snprintf(f, sizeof f, "expect.regs.%s", rv->name);
        if (!(r->reg_valid & (1ull << rv->id))) {
            diff_line(&d, "%s: the backend cannot read this register", f);
            continue;
        }
        uint64_t m = rv->width == 64 ? ~0ull : (1ull << rv->width) - 1;
        cmp_u64(&d, f, rv->value, (r->reg[rv->id] >> rv->shift) & m);
    }
    for (unsigned i = 0; i < e->nsegs; i++) {
        if (!(r->seg_valid & (1u << e->segs[i].reg)))
            diff_line(&d, "expect.segs.%s: the backend cannot read it", seg_names[e->segs[i].reg]);
        else
            cmp_seg(&d, &e->segs[i], &r->seg[e->segs[i].reg]);
    }
    for (unsigned i = 0; i < e->nmsrs; i++) {
        uint64_t val = 0;
        snprintf(f, sizeof f, "expect.msrs.%s", e->msrs[i].name);
        if (!r->read_msr || r->read_msr(r->ctx, e->msrs[i].index, &val))
            diff_line(&d, "%s: the backend cannot read MSR 0x%x", f, e->msrs[i].index);
        else
            cmp_u64(&d, f, e->msrs[i].value, val);
    }
    for (unsigned i = 0; i < e->nmem; i++) {
        const rcv_mem *m = &e->mem[i];
        uint8_t buf[256];
        snprintf(f, sizeof f, "expect.mem[%u]", i);
        for (size_t off = 0; off < m->len; off += sizeof buf) {
            size_t len = m->len - off < sizeof buf ? m->len - off : sizeof buf;
            if (!r->read_mem || r->read_mem(r->ctx, m->addr + off, buf, len)) {
                diff_line(&d, "%s: 0x%llx is not readable in the final state", f,
                          (unsigned long long)(m->addr + off));
                break;
            }
            size_t k = 0;
            while (k < len && buf[k] == m->bytes[off + k])
                k++;
            if (k < len) {
                diff_line(&d, "%s: byte at 0x%llx: expected 0x%02x, got 0x%02x", f,
                          (unsigned long long)(m->addr + off + k), m->bytes[off + k], buf[k]);
                break;
            }
        }
    }
    return d.count;
}

/* A vector's own not_judged entries for a live judge (docs/vectors.md "Not
 * judged": the list tells a judge which fields it must not compare): each
 * field named for a source starting with 'judge' is taken out of what the
 * result shows; keep_frame_rflags keeps expect.frame.rflags in (QEMU's
 * RC_QEMU_JUDGE_RF). "*" is the backend's can_judge; end, vector and
 * error_code cannot be taken out. */
const char *rcv_vector_refuses(const rcv_vector *v, const char *judge)
{
    for (unsigned i = 0; i < v->expect.nnot_judged; i++) {
        const rcv_not_judged *nj = &v->expect.not_judged[i];
        if (!strncmp(nj->source, judge, strlen(judge)) && nj->fields && !strcmp(nj->fields, "*"))
            return nj->why ? nj->why : "the vector refuses this judge";
    }
    return NULL;
}

void rcv_apply_not_judged(const rcv_vector *v, rcv_result *r, const char *judge,
                           bool keep_frame_rflags)
{
    static const char *const frn[5] = { "rip", "cs", "rflags", "rsp", "ss" };
    static const char *const sgn[RC_SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr",
                                                   "tr" };
    for (unsigned i = 0; i < v->expect.nnot_judged; i++) {
        const rcv_not_judged *nj = &v->expect.not_judged[i];
        if (strncmp(nj->source, judge, strlen(judge)) || !nj->fields)
            continue;
        for (const char *f = nj->fields; *f;) {
            size_t len = strcspn(f, ",");
            char path[96];
            snprintf(path, sizeof path, "%.*s", (int)len, f);
            f += len + (f[len] == ',');
            const char *leaf = strrchr(path, '.');
            leaf = leaf ? leaf + 1 : path;
            if (!strcmp(path, "expect.cpl"))
                r->reg_valid &= ~(1ull << RC_REG_CPL);
            else if (!strcmp(path, "expect.cr2"))
                r->reg_valid &= ~(1ull << RC_REG_CR2);
            else if (!strcmp(path, "expect.mem"))
                r->read_mem = NULL;
            else if (!strcmp(path, "expect.msrs"))
                r->read_msr = NULL;
            else if (!strcmp(path, "expect.frame"))
                r->frame_mask = 0;
            else if (!strcmp(path, "expect.segs"))
                r->seg_valid = 0;
            else if (!strncmp(path, "expect.frame.", 13)) {
                for (unsigned k = 0; k < 5; k++)
                    if (!strcmp(leaf, frn[k]) && !(keep_frame_rflags && k == 2))
                        r->frame_mask &= ~(1u << k);
            } else if (!strncmp(path, "expect.segs.", 12)) {
                for (unsigned k = 0; k < RC_SEG_COUNT; k++)
                    if (!strcmp(leaf, sgn[k]))
                        r->seg_valid &= ~(1u << k);
            } else if (!strncmp(path, "expect.regs.", 12)) {
                for (unsigned k = 0; k < v->expect.nregs; k++)
                    if (!strcmp(leaf, v->expect.regs[k].name))
                        r->reg_valid &= ~(1ull << v->expect.regs[k].id);
            }
        }
    }
}

bool rcv_expects_wide(const rcv_vector *v, unsigned id)
{
    for (unsigned i = 0; i < v->expect.nregs; i++)
        if (v->expect.regs[i].id == id && v->expect.regs[i].width == 64)
            return true;
    return false;
}

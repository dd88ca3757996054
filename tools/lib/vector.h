/*
 * vector.h - test vectors: a scenario on the standard machine plus the
 * verdict of independent judges (docs/vectors.md).
 *
 * A vector file is JSON (parsed with cJSON): one vector object, an array
 * of them, or {"vectors": [...]}. rcv_file_load parses and validates a
 * whole file; every error names the file, the vector and the field path.
 * The parsed cJSON tree is kept so that `record` can write the file back
 * with a refreshed "expect".
 */
#ifndef RCT_VECTOR_H
#define RCT_VECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/machine.h"
#include "ringcore.h"

typedef struct cJSON cJSON;

#define RCV_MAX_CODE 0xe000u
#define RCV_MAX_ITEMS 64      /* per list: regs, segs, gdt, idt, pages, mem, ... */
#define RCV_MAX_SOURCES 16
#define RCV_LDT_ADDR 0x6000ull /* where the vector's LDT is placed (docs/vectors.md) */
#define RCV_LDT_MAX_ENTRIES 0x300u
#define RCV_LDT_GDT_INDEX 10u  /* LDT descriptor: GDT entry 10, selector 0x50 (Linux's slot) */
#define RCV_DEFAULT_MAX_INSNS 1000u

/* A named register value: GPR/RIP/RFLAGS/CRn/DRn/EFER (any width name). */
typedef struct rcv_regval {
    char name[16];
    unsigned id;     /* rc_reg */
    unsigned width;  /* 64, 32, 16, 8 */
    unsigned shift;  /* 8 for AH..BH */
    uint64_t value;
} rcv_regval;

typedef struct rcv_msrval { char name[24]; uint32_t index; uint64_t value; } rcv_msrval;

/* A segment register: "load": reload from the GDT/LDT by selector; else
 * the fields given (mask) override the register's current cache. */
enum {
    RCV_SF_SELECTOR = 1 << 0, RCV_SF_BASE = 1 << 1, RCV_SF_LIMIT = 1 << 2, RCV_SF_TYPE = 1 << 3,
    RCV_SF_S = 1 << 4, RCV_SF_DPL = 1 << 5, RCV_SF_P = 1 << 6, RCV_SF_AVL = 1 << 7,
    RCV_SF_L = 1 << 8, RCV_SF_DB = 1 << 9, RCV_SF_G = 1 << 10, RCV_SF_UNUSABLE = 1 << 11,
};
typedef struct rcv_segval {
    unsigned reg;     /* rc_seg_reg */
    bool load;        /* given as a selector string/number */
    unsigned mask;    /* RCV_SF_* given */
    rc_segment s;
} rcv_segval;

/* A descriptor-table entry, by fields (mask: which were given) or raw. */
enum {
    RCV_DF_BASE = 1 << 0, RCV_DF_LIMIT = 1 << 1, RCV_DF_TYPE = 1 << 2, RCV_DF_S = 1 << 3,
    RCV_DF_DPL = 1 << 4, RCV_DF_P = 1 << 5, RCV_DF_AVL = 1 << 6, RCV_DF_L = 1 << 7,
    RCV_DF_DB = 1 << 8, RCV_DF_G = 1 << 9, RCV_DF_SELECTOR = 1 << 10, RCV_DF_OFFSET = 1 << 11,
    RCV_DF_IST = 1 << 12, RCV_DF_PARAMS = 1 << 13, RCV_DF_RAW = 1 << 14, RCV_DF_RAW_HI = 1 << 15,
};
typedef struct rcv_desc {
    unsigned index;   /* GDT/LDT index or IDT vector */
    unsigned mask;
    uint64_t base, offset, raw, raw_hi;
    uint32_t limit;
    uint16_t selector;
    uint8_t type, s, dpl, p, avl, l, db, g, ist, params;
} rcv_desc;

/* A page-table entry override for the 4-KiB page holding 'addr'. */
enum { RCV_PF_P = 1, RCV_PF_RW = 2, RCV_PF_US = 4, RCV_PF_NX = 8, RCV_PF_FRAME = 16,
       RCV_PF_RAW = 32 };
typedef struct rcv_page {
    uint64_t addr, frame, raw;
    unsigned mask;
    bool p, rw, us, nx;
} rcv_page;

typedef struct rcv_mem { uint64_t addr; uint8_t *bytes; size_t len; } rcv_mem;

/* TSS fields, by byte offset and width. */
typedef struct rcv_tssval { char name[8]; unsigned off, size; uint64_t value; } rcv_tssval;

typedef enum rcv_end {
    RCV_END_HLT = 0,    /* HLT at CPL 0 outside the handler stubs */
    RCV_END_EXCEPTION,  /* an exception (incl. INT3/INTO/INT1) delivered through the IDT/IVT */
    RCV_END_INT,        /* a software INT n delivered through the IDT/IVT */
    RCV_END_SHUTDOWN,   /* triple fault */
    RCV_END_LIMIT,      /* not ended within max_insns: never a valid expectation */
    RCV_END_UNSUPPORTED,/* the backend cannot run it */
    RCV_END_ERROR,
    RCV_END_COUNT
} rcv_end;

const char *rcv_end_name(rcv_end e);

/* The pushed frame (the interrupted context), as the handler sees it. */
enum { RCV_FR_RIP = 1, RCV_FR_CS = 2, RCV_FR_RFLAGS = 4, RCV_FR_RSP = 8, RCV_FR_SS = 16 };

typedef struct rcv_not_judged {
    char source[64];
    char *fields;     /* comma-separated field paths, as written */
    char *why;
} rcv_not_judged;

typedef struct rcv_expect {
    bool present;
    rcv_end end;
    int vector;             /* -1: not given */
    int has_error_code;     /* -1 not given, 0 "none", 1 given */
    uint32_t error_code;
    bool has_cr2; uint64_t cr2;
    int cpl;                /* -1 not given */
    unsigned frame_mask;
    uint64_t frame_rip, frame_cs, frame_rflags, frame_rsp, frame_ss;
    rcv_regval regs[RCV_MAX_ITEMS]; unsigned nregs;
    rcv_segval segs[RC_SEG_COUNT]; unsigned nsegs;
    rcv_msrval msrs[RCV_MAX_ITEMS]; unsigned nmsrs;
    rcv_mem mem[RCV_MAX_ITEMS]; unsigned nmem;
    char *sources[RCV_MAX_SOURCES]; unsigned nsources;
    rcv_not_judged not_judged[RCV_MAX_SOURCES]; unsigned nnot_judged;
} rcv_expect;

typedef struct rcv_vector {
    char *name;
    char *area;             /* "area" or the file's directory name */
    char *why;
    char *known_bug;        /* a known ringcore bug makes this vector fail: the reason */
    const char *file;
    unsigned index;         /* position in the file */
    cJSON *node;            /* the vector's object in the file's tree */
    rcm_options m;
    uint8_t *code; size_t code_len;
    uint64_t max_insns;
    rcv_regval regs[RCV_MAX_ITEMS]; unsigned nregs;
    rcv_segval segs[RC_SEG_COUNT]; unsigned nsegs;
    rcv_msrval msrs[RCV_MAX_ITEMS]; unsigned nmsrs;
    rcv_desc gdt[RCV_MAX_ITEMS]; unsigned ngdt;
    rcv_desc ldt[RCV_MAX_ITEMS]; unsigned nldt; bool has_ldt;
    rcv_desc idt[RCV_MAX_ITEMS]; unsigned nidt;
    rcv_tssval tss[RCV_MAX_ITEMS]; unsigned ntss;
    rcv_page pages[RCV_MAX_ITEMS]; unsigned npages;
    rcv_mem mem[RCV_MAX_ITEMS]; unsigned nmem;
    rcv_expect expect;
} rcv_vector;

typedef struct rcv_file {
    char *path;
    cJSON *root;
    rcv_vector *v;
    unsigned n;
} rcv_file;

/* Load and validate a file. Returns 0, or -1 with a message
 * "PATH: vector "NAME": field F: problem" in err. */
int rcv_file_load(const char *path, rcv_file *f, char *err, size_t errlen);
/* As rcv_file_load; with expect_optional, a vector may lack "expect" (for
 * `vectors record`, which fills it): then v->expect.present is false. */
int rcv_file_load_ex(const char *path, bool expect_optional, rcv_file *f, char *err,
                     size_t errlen);
/* Parse from a string (path names it in messages). */
int rcv_file_parse(const char *path, const char *text, rcv_file *f, char *err, size_t errlen);
void rcv_file_free(rcv_file *f);
/* Write the (possibly modified) tree back to f->path. */
int rcv_file_save(const rcv_file *f, char *err, size_t errlen);

/* Short "file: vector "name"" label for messages. */
void rcv_label(const rcv_vector *v, char *buf, size_t n);

#endif /* RCT_VECTOR_H */

/*
 * ringcore.c - the `ringcore` command line: run raw instruction bytes on
 * the standard machine (docs/standard-machine.md) at a chosen mode, CPL
 * and vendor, and print what every instruction did (docs/cli.md).
 *
 * An ordinary embedder: it uses only include/ringcore.h, plus Capstone for
 * the disassembly (through tools/lib/trace.c).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <capstone/capstone.h>
#ifdef RC_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#include "lib/boot.h"
#include "lib/explain.h"
#include "lib/kimage_host.h"
#include "lib/hex.h"
#include "lib/machine.h"
#include "lib/native.h"
#include "lib/regs.h"
#include "lib/scenario.h"
#include "lib/trace.h"
#include "lib/vbackend.h"
#include "lib/vb_bochs.h"
#include "lib/vb_kvm.h"
#include "lib/vexpect.h"
#include "lib/vb_qemu.h"
#include "lib/vector.h"

/* Exit statuses (docs/cli.md "Exit status"). */
enum {
    EXIT_HLT = 0,          /* HLT at CPL 0, or the end named by --expect */
    EXIT_INPUT = 1,        /* the code could not be read: bad hex, file, size */
    EXIT_USAGE = 2,        /* bad option or argument */
    EXIT_EXCEPTION = 3,    /* an exception ended the run (intercepted or at its stub) */
    EXIT_SHUTDOWN = 4,     /* triple fault */
    EXIT_LIMIT = 5,        /* --max instructions executed */
    EXIT_UNSUPPORTED = 6,  /* ringcore lacks an instruction or feature */
    EXIT_OTHER = 7,        /* port I/O or MMIO exit */
    EXIT_LIBRARY = 8,      /* a library call failed */
    EXIT_NOT_EXPECTED = 9, /* --expect was given and the run ended otherwise */
};

#define DEFAULT_MAX 10000
#define MAX_SETS 64
#define MAX_CODE 0x10000

static const char usage_text[] =
    "usage: ringcore run [options] HEX...\n"
    "       ringcore run [options] --file PATH\n"
    "       ringcore vectors run [--json] PATH...   (see 'ringcore vectors --help')\n"
    "       ringcore boot [options] IMAGE            (see 'ringcore boot --help')\n"
    "       ringcore --help | --version\n"
    "\n"
    "Runs raw x86 instruction bytes on the standard machine (docs/standard-machine.md)\n"
    "and prints every instruction: address, bytes, disassembly, what changed, memory\n"
    "writes, privilege transitions, and how the run ended.\n"
    "\n"
    "options:\n"
    "  --vendor intel|amd     CPU vendor model (default intel)\n"
    "  --mode MODE            real, prot16, prot32, compat or long (default long)\n"
    "  --cpl N                start at privilege level 0-3 (default 0; real mode: 0)\n"
    "  --set REG=VALUE        set a register before running (repeatable): rax..r15,\n"
    "                         eax/ax/al/ah forms, rip, rflags, cr0/2/3/4/8, dr0-7, efer,\n"
    "                         MSRs by name (star, lstar, ...), or a segment selector\n"
    "                         (cs=0x23 reloads CS from the GDT and sets CPL to its RPL)\n"
    "  --max N                stop after N instructions (default 10000)\n"
    "  --deliver              deliver exceptions through the IDT (the run then stops at\n"
    "                         the handler stub's HLT) instead of stopping at the fault\n"
    "  --no-paging            prot16/prot32: run with paging off\n"
    "  --expect END           exit 0 if the run ends so: hlt, exception, a vector\n"
    "                         (#GP, #PF, ...), shutdown, limit or unsupported; else 9\n"
    "  --json                 one JSON object per instruction, then one for the end\n"
    "  --quiet                print only the end\n"
    "  --file PATH            read the code from a raw binary file\n"
    "  -h, --help             this text\n"
    "  --version              version of ringcore and Capstone\n"
    "\n"
    "HEX: instruction bytes in hex; spaces separate groups of whole bytes\n"
    "     ('48c7c0 05000000 f4').\n"
    "\n"
    "exit status: 0 HLT at CPL 0 (or as --expect says), 1 input error, 2 usage error,\n"
    "  3 exception, 4 shutdown, 5 instruction limit, 6 unsupported, 7 I/O or MMIO,\n"
    "  8 library error, 9 not the end --expect named\n";

typedef struct cli {
    rcm_options m;
    const char *sets[MAX_SETS];
    int nsets;
    uint64_t max;
    bool json, quiet, deliver;
    const char *file;
    const char *expect;
    const char *hex[256];
    int nhex;
} cli;

/* The command being run, for the help hint of a usage error. */
static const char *g_command = "run";

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ringcore: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'ringcore %s --help')\n", g_command);
    va_end(ap);
    return EXIT_USAGE;
}

static int input_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ringcore: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_INPUT;
}

static void print_version(void)
{
    int maj = 0, min = 0;
    cs_version(&maj, &min);
    printf("ringcore %d.%d.%d (Capstone %d.%d%s)\n", RC_VERSION_MAJOR, RC_VERSION_MINOR,
           RC_VERSION_PATCH, maj, min,
#ifdef RC_HAVE_CJSON
           ", cJSON"
#else
           ""
#endif
    );
}

/* Options take their value as the next argument or after '='. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, const char *arg)
{
    size_t n = strlen(name);
    if (arg[n] == '=')
        return arg + n + 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == 0 || arg[n] == '=');
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, cli *c)
{
    char err[256];
    bool options_done = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == 0) {
            if (c->nhex >= (int)(sizeof c->hex / sizeof c->hex[0]))
                return usage_error("too many hex arguments");
            c->hex[c->nhex++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            options_done = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return EXIT_HLT;
        }
        if (!strcmp(a, "--version")) {
            print_version();
            return EXIT_HLT;
        }
        if (!strcmp(a, "--json")) { c->json = true; continue; }
        if (!strcmp(a, "--quiet")) { c->quiet = true; continue; }
        if (!strcmp(a, "--deliver")) { c->deliver = true; continue; }
        if (!strcmp(a, "--no-paging")) { c->m.no_paging = true; continue; }

        static const char *const valued[] = { "--vendor", "--mode", "--cpl", "--set", "--max",
                                              "--file", "--expect" };
        const char *name = NULL;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            if (is_opt(a, valued[k]))
                name = valued[k];
        if (!name)
            return usage_error("argument %d: unknown option '%s'", i, a);
        const char *v = opt_value(argc, argv, &i, name, a);
        if (!v)
            return usage_error("argument %d: option %s needs a value", i, name);

        if (!strcmp(name, "--vendor")) {
            if (!strcmp(v, "intel"))
                c->m.vendor = RC_VENDOR_INTEL;
            else if (!strcmp(v, "amd"))
                c->m.vendor = RC_VENDOR_AMD;
            else
                return usage_error("argument %d: --vendor '%s': expected intel or amd", i, v);
        } else if (!strcmp(name, "--mode")) {
            if (rcm_mode_parse(v, &c->m.mode))
                return usage_error("argument %d: --mode '%s': expected real, prot16, prot32, "
                                   "compat or long", i, v);
        } else if (!strcmp(name, "--cpl")) {
            uint64_t n;
            if (rct_parse_u64(v, &n, err, sizeof err) || n > 3)
                return usage_error("argument %d: --cpl '%s': expected 0, 1, 2 or 3", i, v);
            c->m.cpl = (unsigned)n;
        } else if (!strcmp(name, "--max")) {
            uint64_t n;
            if (rct_parse_u64(v, &n, err, sizeof err))
                return usage_error("argument %d: --max: %s", i, err);
            if (n == 0)
                return usage_error("argument %d: --max must be at least 1", i);
            c->max = n;
        } else if (!strcmp(name, "--set")) {
            if (c->nsets >= MAX_SETS)
                return usage_error("argument %d: more than %d --set options", i, MAX_SETS);
            c->sets[c->nsets++] = v;
        } else if (!strcmp(name, "--file")) {
            c->file = v;
        } else if (!strcmp(name, "--expect")) {
            c->expect = v;
        }
    }
    if (c->m.mode == RCM_REAL && c->m.cpl != 0)
        return usage_error("--cpl %u: real mode runs at CPL 0 only", c->m.cpl);
    if (c->m.no_paging && c->m.mode != RCM_PROT16 && c->m.mode != RCM_PROT32)
        return usage_error("--no-paging applies to prot16 and prot32 only (%s mode %s)",
                           rcm_mode_name(c->m.mode),
                           c->m.mode == RCM_REAL ? "has no paging" : "requires paging");
    if (c->file && c->nhex)
        return usage_error("give the code either as HEX arguments or with --file, not both");
    if (!c->file && !c->nhex)
        return usage_error("no code: give HEX bytes or --file PATH");
#ifndef RC_HAVE_CJSON
    if (c->json)
        return usage_error("--json: this ringcore was built without cJSON");
#endif
    return -1;
}

/* Validate every --set before anything runs: name known, number valid. */
static int check_sets(const cli *c)
{
    char err[256];
    for (int i = 0; i < c->nsets; i++) {
        const char *s = c->sets[i];
        const char *eq = strchr(s, '=');
        if (!eq || eq == s)
            return usage_error("--set '%s': expected REG=VALUE", s);
        char name[32];
        size_t n = (size_t)(eq - s);
        if (n >= sizeof name)
            return usage_error("--set '%s': unknown register name", s);
        memcpy(name, s, n);
        name[n] = 0;
        if (!rct_reg_lookup(name))
            return usage_error("--set '%s': unknown register '%s'", s, name);
        uint64_t v;
        if (rct_parse_u64(eq + 1, &v, err, sizeof err))
            return usage_error("--set '%s': %s", s, err);
    }
    return -1;
}

static int apply_sets(rc_cpu *cpu, const cli *c)
{
    char err[256];
    for (int i = 0; i < c->nsets; i++) {
        const char *s = c->sets[i];
        const char *eq = strchr(s, '=');
        char name[32];
        size_t n = (size_t)(eq - s);
        memcpy(name, s, n);
        name[n] = 0;
        uint64_t v = 0;
        rct_parse_u64(eq + 1, &v, err, sizeof err);
        err[0] = 0;
        if (rct_reg_assign(cpu, rct_reg_lookup(name), v, err, sizeof err))
            return usage_error("--set '%s': %s", s, err);
    }
    return -1;
}

static int read_code(const cli *c, uint8_t *code, size_t *len)
{
    char err[256];
    if (!c->file) {
        if (rct_hex_parse((const char *const *)c->hex, c->nhex, code, MAX_CODE, len, err,
                          sizeof err))
            return input_error("%s", err);
        return -1;
    }
    FILE *f = fopen(c->file, "rb");
    if (!f)
        return input_error("--file '%s': %s", c->file, strerror(errno));
    size_t n = fread(code, 1, MAX_CODE, f);
    int extra = fgetc(f);
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (bad)
        return input_error("--file '%s': %s", c->file, strerror(bad));
    if (extra != EOF)
        return input_error("--file '%s': larger than %d bytes", c->file, MAX_CODE);
    if (n == 0)
        return input_error("--file '%s': the file is empty: no code", c->file);
    *len = n;
    return -1;
}

static bool expect_matches(const char *e, const rct_trace_result *r)
{
    static const char *const ends[] = { "hlt", "exception", "shutdown", "limit", "unsupported",
                                        "other", "error" };
    if (!strcmp(e, ends[r->end]))
        return true;
    if (e[0] != '#' || r->end != RCT_END_EXCEPTION)
        return false;
    unsigned v = r->exit.reason == RC_EXIT_EXCEPTION ? r->exit.u.exception.vector
                                                     : (unsigned)r->handler_vector;
    char mb[16];
    return strcasecmp(e, rct_vector_mnemonic(v, mb, sizeof mb)) == 0;
}

static int exit_status(const rct_trace_result *r)
{
    switch (r->end) {
    case RCT_END_HLT: return EXIT_HLT;
    case RCT_END_EXCEPTION: return EXIT_EXCEPTION;
    case RCT_END_SHUTDOWN: return EXIT_SHUTDOWN;
    case RCT_END_LIMIT: return EXIT_LIMIT;
    case RCT_END_UNSUPPORTED: return EXIT_UNSUPPORTED;
    case RCT_END_OTHER: return EXIT_OTHER;
    default: return EXIT_LIBRARY;
    }
}

static int cmd_run(int argc, char **argv)
{
    cli c = { .m = RCM_OPTIONS_INIT, .max = DEFAULT_MAX };
    int rc = parse_args(argc, argv, &c);
    if (rc >= 0)
        return rc;
    if ((rc = check_sets(&c)) >= 0)
        return rc;
    if (c.expect) {
        static const char *const ok[] = { "hlt", "exception", "shutdown", "limit",
                                          "unsupported" };
        bool known = c.expect[0] == '#';
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            known |= !strcmp(c.expect, ok[i]);
        if (!known)
            return usage_error("--expect '%s': expected hlt, exception, #XX, shutdown, limit "
                               "or unsupported", c.expect);
    }
    static uint8_t code[MAX_CODE];
    size_t len = 0;
    if ((rc = read_code(&c, code, &len)) >= 0)
        return rc;

    char err[256];
    rc_cpu *cpu = NULL;
    if (rcm_build(&c.m, &cpu, err, sizeof err) != RC_OK) {
        fprintf(stderr, "ringcore: %s\n", err);
        return EXIT_LIBRARY;
    }
    if (rcm_load_code(cpu, &c.m, code, len, err, sizeof err) != RC_OK) {
        rc_destroy(cpu);
        return input_error("%s", err);
    }
    if ((rc = apply_sets(cpu, &c)) >= 0) {
        rc_destroy(cpu);
        return rc;
    }
    rc_set_intercept(cpu, c.deliver ? 0 : 0xffffffffu);

    if (!c.json && !c.quiet)
        printf("ringcore: %s, %s mode, CPL %u, %zu byte%s of code at 0x%llx%s\n",
               c.m.vendor == RC_VENDOR_AMD ? "AMD" : "Intel", rcm_mode_name(c.m.mode), c.m.cpl,
               len, len == 1 ? "" : "s", (unsigned long long)rcm_code_addr(c.m.mode, c.m.cpl),
               c.deliver ? ", exceptions delivered through the IDT"
                         : ", exceptions stop the run");
    rct_trace_opts to = { .max_steps = c.max, .json = c.json, .quiet = c.quiet, .out = stdout };
    rct_trace_result r;
    if (rct_trace_run(cpu, &to, &r)) {
        rc_destroy(cpu);
        return EXIT_LIBRARY;
    }
    rc_destroy(cpu);
    fflush(stdout);
    if (c.expect)
        return expect_matches(c.expect, &r) ? EXIT_HLT : EXIT_NOT_EXPECTED;
    return exit_status(&r);
}

/* ================================================================== vectors */

/* `ringcore vectors` exit statuses (docs/vectors.md "Running"). */
enum {
    VEXIT_PASS = 0,      /* every vector agrees with its recording */
    VEXIT_FORMAT = 1,    /* a file is unreadable or malformed */
    VEXIT_USAGE = 2,
    VEXIT_FAIL = 3,      /* at least one vector differs (or could not run) */
};

static const char vectors_usage[] =
    "usage: ringcore vectors run [--json] [--verbose] [--name SUBSTR] PATH...\n"
    "       ringcore vectors record --oracle ORACLE [--cpl N] PATH...\n"
    "       ringcore vectors check --oracle ORACLE [--verbose] [--cpl N] PATH...\n"
    "         (ORACLE: unicorn, native, qemu, bochs or kvm)\n"
    "       ringcore vectors image --name NAME FILE OUT.img\n"
    "\n"
    "Runs every test vector (docs/vectors.md) found in PATH (files, or directories\n"
    "searched recursively for *.json) on ringcore and compares the outcome with the\n"
    "recorded expectation. Prints a line per failing vector with the differing\n"
    "fields, then a summary per area and per source. record fills or refreshes the\n"
    "expectations a live judge can give; check compares the judge with the recording.\n"
    "--cpl N limits record/check to the vectors that start at CPL N (--cpl 0: the\n"
    "ring-0 vectors).\n"
    "image writes the test kernel's disk image carrying the vector named NAME (exactly)\n"
    "of FILE, as the qemu and bochs judges boot it (then: ringcore boot OUT.img).\n"
    "exit status: 0 all pass, 1 malformed or unreadable file, 2 usage, 3 a vector failed\n";

typedef struct vpaths {
    char **p;
    size_t n, cap;
} vpaths;

static int vpaths_add(vpaths *v, const char *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        char **np = realloc(v->p, cap * sizeof *np);
        if (!np)
            return -1;
        v->p = np;
        v->cap = cap;
    }
    v->p[v->n] = strdup(s);
    return v->p[v->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files named on the command line are taken as they are; directories are
 * searched recursively for *.json, in name order. */
static int collect(const char *path, bool top, vpaths *out)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "ringcore: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        size_t l = strlen(path);
        if (top || (l > 5 && !strcmp(path + l - 5, ".json")))
            return vpaths_add(out, path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "ringcore: %s: %s\n", path, strerror(errno));
        return -1;
    }
    vpaths here = { 0 };
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d)) && !r) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(len);
        if (!full) {
            r = -1;
            break;
        }
        snprintf(full, len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                 e->d_name);
        r = vpaths_add(&here, full);
        free(full);
    }
    closedir(d);
    qsort(here.p, here.n, sizeof *here.p, cmp_str);
    for (size_t i = 0; i < here.n; i++) {
        if (!r)
            r = collect(here.p[i], false, out);
        free(here.p[i]);
    }
    free(here.p);
    return r;
}

typedef struct tally {
    char name[96];
    unsigned total, pass, known; /* pass counts known ones too */
} tally;

typedef struct tallies {
    tally t[512];
    unsigned n;
} tallies;

static void tally_add(tallies *ts, const char *name, bool pass, bool known)
{
    unsigned i = 0;
    while (i < ts->n && strcmp(ts->t[i].name, name))
        i++;
    if (i == ts->n) {
        if (ts->n == sizeof ts->t / sizeof ts->t[0])
            return;
        snprintf(ts->t[ts->n++].name, sizeof ts->t[0].name, "%s", name);
    }
    ts->t[i].total++;
    ts->t[i].pass += pass && !known;
    ts->t[i].known += known;
}

static void tally_print(const tallies *ts, const char *title)
{
    printf("%-40s %8s %6s %6s %6s\n", title, "vectors", "pass", "fail", "known");
    for (unsigned i = 0; i < ts->n; i++)
        printf("%-40s %8u %6u %6u %6u\n", ts->t[i].name, ts->t[i].total, ts->t[i].pass,
               ts->t[i].total - ts->t[i].pass - ts->t[i].known, ts->t[i].known);
}

#ifdef RC_HAVE_CJSON
static cJSON *tally_json(const tallies *ts)
{
    cJSON *o = cJSON_CreateObject();
    for (unsigned i = 0; i < ts->n; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "vectors", ts->t[i].total);
        cJSON_AddNumberToObject(t, "pass", ts->t[i].pass);
        cJSON_AddNumberToObject(t, "fail", ts->t[i].total - ts->t[i].pass - ts->t[i].known);
        cJSON_AddNumberToObject(t, "known_bugs", ts->t[i].known);
        cJSON_AddItemToObject(o, ts->t[i].name, t);
    }
    return o;
}
#endif

typedef struct vopts {
    bool json, verbose;
    const char *name;
} vopts;

/* The source's kind for the summary: "native:AuthenticAMD-25-1" stays
 * whole; "sdm:Vol.3A/6.15" is grouped as "sdm". */
static void source_group(const char *s, char *out, size_t n)
{
    if (!strncmp(s, "sdm:", 4) || !strncmp(s, "apm:", 4))
        snprintf(out, n, "%.3s", s);
    else
        snprintf(out, n, "%s", s);
}

static int vectors_run(int argc, char **argv, int first)
{
    vopts o = { 0 };
    vpaths files = { 0 };
    int i = first;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) o.json = true;
        else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) o.verbose = true;
        else if (is_opt(a, "--name")) {
            o.name = opt_value(argc, argv, &i, "--name", a);
            if (!o.name)
                return usage_error("--name needs a value");
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(vectors_usage, stdout);
            return VEXIT_PASS;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("vectors run: unknown option '%s'", a);
        } else if (collect(a, true, &files)) {
            return VEXIT_FORMAT;
        }
    }
#ifndef RC_HAVE_CJSON
    (void)o;
    fprintf(stderr, "ringcore: vectors: this ringcore was built without cJSON\n");
    return VEXIT_USAGE;
#else
    if (!files.n)
        return usage_error("vectors run: no PATH given (a file or directory of *.json)");
    static tallies areas, sources;
    areas.n = sources.n = 0;
    unsigned total = 0, pass = 0, bad_files = 0, known = 0, fixed = 0;
    cJSON *jres = o.json ? cJSON_CreateArray() : NULL;
    for (size_t fi = 0; fi < files.n; fi++) {
        rcv_file f;
        char err[1024];
        if (rcv_file_load(files.p[fi], &f, err, sizeof err)) {
            fprintf(stderr, "ringcore: %s\n", err);
            bad_files++;
            continue;
        }
        for (unsigned k = 0; k < f.n; k++) {
            const rcv_vector *v = &f.v[k];
            if (o.name && !strstr(v->name, o.name))
                continue;
            rcv_result r;
            static char diff[8192];
            unsigned nd = 0;
            diff[0] = 0;
            if (rcv_backend_ringcore.run(v, &r, err, sizeof err)) {
                snprintf(diff, sizeof diff, "setup: %s\n", err);
                nd = 1;
            } else {
                nd = rcv_compare(v, &r, diff, sizeof diff);
                rcv_backend_ringcore.release(&r);
            }
            /* A vector marked known_bug that fails is listed, not counted as a
             * failure; one that passes is a fixed bug whose mark should go. */
            bool ok = nd == 0 || v->known_bug;
            total++;
            pass += ok;
            known += nd && v->known_bug;
            fixed += !nd && v->known_bug;
            bool is_known = nd && v->known_bug;
            tally_add(&areas, v->area, ok, is_known);
            /* A vector counts once per source group (two sdm: sections are one "sdm"). */
            for (unsigned s = 0; s < v->expect.nsources; s++) {
                char g[96], h[96];
                source_group(v->expect.sources[s], g, sizeof g);
                bool seen = false;
                for (unsigned t = 0; t < s && !seen; t++) {
                    source_group(v->expect.sources[t], h, sizeof h);
                    seen = !strcmp(g, h);
                }
                if (!seen)
                    tally_add(&sources, g, ok, is_known);
            }
            if (o.json) {
                cJSON *jr = cJSON_CreateObject();
                cJSON_AddStringToObject(jr, "file", v->file);
                cJSON_AddStringToObject(jr, "name", v->name);
                cJSON_AddStringToObject(jr, "area", v->area);
                cJSON_AddBoolToObject(jr, "pass", nd == 0);
                if (v->known_bug)
                    cJSON_AddStringToObject(jr, "known_bug", v->known_bug);
                cJSON *jd = cJSON_AddArrayToObject(jr, "diffs");
                for (char *line = diff; *line;) {
                    char *nl = strchr(line, '\n');
                    if (nl)
                        *nl = 0;
                    cJSON_AddItemToArray(jd, cJSON_CreateString(line));
                    if (!nl)
                        break;
                    line = nl + 1;
                }
                cJSON_AddItemToArray(jres, jr);
            } else if (nd) {
                size_t l = strlen(diff);
                while (l && diff[l - 1] == '\n')
                    diff[--l] = 0;
                for (char *p = diff; (p = strchr(p, '\n'));)
                    *p = ';', p++;
                printf("%s %s: vector \"%s\": %s%s%s%s\n", v->known_bug ? "KNOWN" : "FAIL",
                       v->file, v->name, diff, v->known_bug ? " [known ringcore bug: " : "",
                       v->known_bug ? v->known_bug : "", v->known_bug ? "]" : "");
            } else if (v->known_bug) {
                printf("FIXED %s: vector \"%s\" passes: remove its known_bug mark (%s)\n",
                       v->file, v->name, v->known_bug);
            } else if (o.verbose) {
                printf("pass %s: vector \"%s\"\n", v->file, v->name);
            }
        }
        rcv_file_free(&f);
    }
    for (size_t k = 0; k < files.n; k++)
        free(files.p[k]);
    free(files.p);
    if (o.json) {
        cJSON *top = cJSON_CreateObject();
        cJSON_AddItemToObject(top, "results", jres);
        cJSON_AddItemToObject(top, "areas", tally_json(&areas));
        cJSON_AddItemToObject(top, "sources", tally_json(&sources));
        cJSON_AddNumberToObject(top, "vectors", total);
        cJSON_AddNumberToObject(top, "pass", pass);
        cJSON_AddNumberToObject(top, "fail", total - pass);
        cJSON_AddNumberToObject(top, "known_bugs", known);
        cJSON_AddNumberToObject(top, "known_bugs_fixed", fixed);
        cJSON_AddNumberToObject(top, "malformed_files", bad_files);
        char *s = cJSON_PrintUnformatted(top);
        puts(s ? s : "{}");
        cJSON_free(s);
        cJSON_Delete(top);
    } else {
        printf("\n");
        tally_print(&areas, "area");
        printf("\n");
        tally_print(&sources, "source");
        printf("\ntotal: %u vectors, %u pass, %u fail", total, pass - known, total - pass);
        if (known || fixed)
            printf(", %u known ringcore bug%s (not counted as failures), %u marked bug%s now "
                   "pass%s", known, known == 1 ? "" : "s", fixed, fixed == 1 ? "" : "s",
                   fixed == 1 ? "es" : "");
        if (!bad_files)
            printf("\n");
        if (bad_files)
            printf(", %u malformed file%s\n", bad_files, bad_files == 1 ? "" : "s");
    }
    fflush(stdout);
    if (bad_files)
        return VEXIT_FORMAT;
    return pass == total ? VEXIT_PASS : VEXIT_FAIL;
#endif
}

/* ------------------------------------------------------------------ record / check */

#ifdef RC_HAVE_CJSON
static const rcv_backend *oracle_by_name(const char *name)
{
    if (!strcmp(name, "native"))
        return &rcv_backend_native;
    if (!strcmp(name, "qemu"))
        return &rcv_backend_qemu;
    if (!strcmp(name, "bochs"))
        return &rcv_backend_bochs;
    if (!strcmp(name, "kvm"))
        return &rcv_backend_kvm;
#ifdef RC_HAVE_UNICORN
    if (!strcmp(name, "unicorn"))
        return &rcv_backend_unicorn;
#endif
    (void)name;
    return NULL;
}

static const char *const gpr64_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi",
                                             "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
                                             "r14", "r15" };
static const char *const gpr32_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi",
                                            "edi" };

static cJSON *expect_from(const rcv_backend *b, const rcv_vector *v, rcv_result *r, char *why,
                          size_t n)
{
    rc_cpu *init;
    if (r->end != RCV_END_HLT) {
        snprintf(why, n, "%s sees the interrupted state of this vector but not the delivery that "
                 "ends it: record it with --oracle native, then confirm with check", b->source());
        return NULL;
    }
    if (rcv_scenario_build(v, &init, why, n))
        return NULL;
    bool wide = v->m.mode == RCM_LONG;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "end", rcv_end_name(r->end));
    cJSON *regs = cJSON_AddObjectToObject(e, "regs");
    for (unsigned i = 0; i < (wide ? 16u : 8u); i++) {
        uint64_t before = 0;
        rc_get_reg(init, (rc_reg)i, &before);
        if (!wide)
            before &= 0xffffffffu;
        if (r->reg[i] != before)
            rcv_add_hex(regs, wide ? gpr64_names[i] : gpr32_names[i], r->reg[i]);
    }
    rcv_add_hex(regs, wide ? "rip" : "eip", r->reg[RC_REG_RIP]);
    rcv_add_hex(regs, wide ? "rflags" : "eflags", r->reg[RC_REG_RFLAGS]);
    cJSON *mem = cJSON_CreateArray();
    if (rcv_changed_mem(r, rc_ram_ptr(init, 0, RCM_RAM_SIZE), 0, mem)) {
        snprintf(why, n, "the run changed more memory than a vector records (16 runs of 256 "
                 "bytes)");
        cJSON_Delete(mem);
        cJSON_Delete(e);
        rc_destroy(init);
        return NULL;
    }
    if (cJSON_GetArraySize(mem))
        cJSON_AddItemToObject(e, "mem", mem);
    else
        cJSON_Delete(mem);
    cJSON *src = cJSON_AddArrayToObject(e, "sources");
    cJSON_AddItemToArray(src, cJSON_CreateString(b->source()));
    rc_destroy(init);
    return e;
}

/* What the host CPU says about a CPL-3 vector: the exception, its error
 * code, CR2 of a #PF, the interrupted context (the frame) and the GPRs that
 * changed (RSP is in the frame). */
static cJSON *expect_from_native(const rcv_backend *b, const rcv_vector *v, const rcv_result *r,
                                 char *why, size_t n)
{
    rc_cpu *init;
    if (rcv_scenario_build(v, &init, why, n))
        return NULL;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "end", rcv_end_name(r->end));
    cJSON_AddNumberToObject(e, "vector", r->vector);
    if (r->has_error_code)
        cJSON_AddNumberToObject(e, "error_code", r->error_code);
    else if (r->end == RCV_END_EXCEPTION)
        cJSON_AddStringToObject(e, "error_code", "none");
    if (r->reg_valid & (1ull << RC_REG_CR2))
        rcv_add_hex(e, "cr2", r->reg[RC_REG_CR2]);
    cJSON *fr = cJSON_AddObjectToObject(e, "frame");
    rcv_add_hex(fr, "rip", r->frame_rip);
    rcv_add_hex(fr, "cs", r->frame_cs);
    rcv_add_hex(fr, "rflags", r->frame_rflags);
    rcv_add_hex(fr, "rsp", r->frame_rsp);
    rcv_add_hex(fr, "ss", r->frame_ss);
    cJSON *regs = cJSON_CreateObject();
    bool wide = v->m.mode == RCM_LONG;
    for (unsigned i = 0; i < 16; i++) {
        uint64_t before = 0;
        rc_get_reg(init, (rc_reg)i, &before);
        if (i == RC_REG_RSP || !(r->reg_valid & (1ull << i)) || r->reg[i] == before)
            continue;
        if (!wide && i < 8 && !(r->reg[i] >> 32))
            rcv_add_hex(regs, gpr32_names[i], r->reg[i]);
        else
            rcv_add_hex(regs, gpr64_names[i], r->reg[i]);
    }
    if (cJSON_GetArraySize(regs))
        cJSON_AddItemToObject(e, "regs", regs);
    else
        cJSON_Delete(regs);
    /* The user memory the code changed (the judge reads back what it mapped). */
    cJSON *mem = cJSON_CreateArray();
    if (r->read_mem && rcv_changed_mem(r, rc_ram_ptr(init, 0, RCM_RAM_SIZE), 0, mem)) {
        snprintf(why, n, "the run changed more memory than a vector records (16 runs of 256 "
                 "bytes)");
        cJSON_Delete(mem);
        cJSON_Delete(e);
        rc_destroy(init);
        return NULL;
    }
    if (cJSON_GetArraySize(mem))
        cJSON_AddItemToObject(e, "mem", mem);
    else
        cJSON_Delete(mem);
    cJSON *src = cJSON_AddArrayToObject(e, "sources");
    cJSON_AddItemToArray(src, cJSON_CreateString(b->source()));
    rc_destroy(init);
    return e;
}

/* Keep of v's expectation only what the judge's result can see (its
 * reg_valid, frame_mask, seg_valid, memory and MSR readers): a field a judge
 * cannot see is not judged by it (docs/vectors.md "not_judged"). */
static void trim_to_judge(rcv_vector *v, const rcv_result *r)
{
    rcv_expect *e = &v->expect;
    unsigned k = 0;
    for (unsigned i = 0; i < e->nsegs; i++)
        if (r->seg_valid & (1u << e->segs[i].reg))
            e->segs[k++] = e->segs[i];
    e->nsegs = k;
    if (!r->read_msr)
        e->nmsrs = 0;
    if (!r->read_mem)
        e->nmem = 0;
    if (!(r->reg_valid & (1ull << RC_REG_CPL)))
        e->cpl = -1;
    if (!(r->reg_valid & (1ull << RC_REG_CR2)))
        e->has_cr2 = false;
    e->frame_mask &= r->frame_mask;
    k = 0;
    for (unsigned i = 0; i < e->nregs; i++)
        if (r->reg_valid & (1ull << e->regs[i].id))
            e->regs[k++] = e->regs[i];
    e->nregs = k;
}

/* Whether the host CPU (the native judge) is of the given vendor. */
static bool host_is_vendor(rc_vendor vendor)
{
    const char *name = rc_native_cpu_name();
    return !strncmp(name, vendor == RC_VENDOR_AMD ? "AuthenticAMD" : "GenuineIntel", 12);
}

static bool only_source(const rcv_vector *v, const char *src)
{
    return v->expect.nsources == 1 && !strcmp(v->expect.sources[0], src);
}
#endif

static int vectors_oracle(int argc, char **argv, bool record)
{
    const char *oracle = NULL;
    vpaths files = { 0 };
    bool verbose = false;
    int only_cpl = -1;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            verbose = true;
        } else if (is_opt(a, "--oracle")) {
            if (!(oracle = opt_value(argc, argv, &i, "--oracle", a)))
                return usage_error("--oracle needs a value (unicorn, native, qemu, bochs or kvm)");
        } else if (is_opt(a, "--cpl")) {
            const char *c = opt_value(argc, argv, &i, "--cpl", a);
            if (!c || c[0] < '0' || c[0] > '3' || c[1])
                return usage_error("--cpl needs a privilege level 0-3");
            only_cpl = c[0] - '0';
        } else if (a[0] == '-' && a[1]) {
            return usage_error("vectors %s: unknown option '%s'", argv[2], a);
        } else if (collect(a, true, &files)) {
            return VEXIT_FORMAT;
        }
    }
#ifndef RC_HAVE_CJSON
    (void)record;
    return usage_error("vectors: this ringcore was built without cJSON");
#else
    if (!oracle)
        return usage_error("vectors %s: --oracle unicorn|native|qemu|bochs|kvm is required",
                           argv[2]);
    const rcv_backend *b = oracle_by_name(oracle);
    if (!b)
        return usage_error("vectors %s: unknown oracle '%s' (this build has: native"
#ifdef RC_HAVE_UNICORN
                           ", unicorn"
#endif
                           ", qemu, bochs, kvm)", argv[2], oracle);
    if (!files.n)
        return usage_error("vectors %s: no PATH given", argv[2]);
    char host_why[512];
    if (b == &rcv_backend_kvm && !rcv_kvm_available(host_why, sizeof host_why) &&
        !rcv_kvm_software_allowed())
        printf("%s --oracle kvm: no vector is judged on this host: %s\n", argv[2], host_why);
    unsigned judged = 0, agree = 0, skipped = 0, written = 0, bad = 0, xvendor = 0;
    for (size_t fi = 0; fi < files.n; fi++) {
        rcv_file f;
        char err[1024];
        if (rcv_file_load_ex(files.p[fi], record, &f, err, sizeof err)) {
            fprintf(stderr, "ringcore: %s\n", err);
            bad++;
            continue;
        }
        bool dirty = false;
        for (unsigned k = 0; k < f.n; k++) {
            rcv_vector *v = &f.v[k];
            char why[512];
            if (only_cpl >= 0 && v->m.cpl != (unsigned)only_cpl)
                continue;
            if (record && v->expect.present && !only_source(v, b->source())) {
                printf("keep %s: vector \"%s\": its expectation has other judges (use check)\n",
                       v->file, v->name);
                skipped++;
                continue;
            }
            /* The host CPU is one vendor's: it records only that vendor's
             * vectors; it checks the other vendor's too, but a difference there
             * may be a vendor difference, reported and not failed. */
            bool other_vendor = b == &rcv_backend_native && !host_is_vendor(v->m.vendor);
            if (record && other_vendor) {
                printf("skip %s: vector \"%s\": not recorded by %s: the vector is for %s, this "
                       "host is not (record it on such a host)\n", v->file, v->name,
                       b->source(), v->m.vendor == RC_VENDOR_AMD ? "AMD" : "Intel");
                skipped++;
                continue;
            }
            /* A software KVM runs vectors for development only (docs/kvm.md):
             * what it does is never an expectation. */
            if (record && !strncmp(b->source(), "kvm-software:", 13)) {
                printf("skip %s: vector \"%s\": not recorded by %s: a software KVM is not a "
                       "judge\n", v->file, v->name, b->source());
                skipped++;
                continue;
            }
            rcv_result r;
            if (!b->can_judge(v, why, sizeof why) || b->run(v, &r, why, sizeof why)) {
                if (record || verbose)
                    printf("skip %s: vector \"%s\": not judged by %s: %s\n", v->file, v->name,
                           b->source(), why);
                skipped++;
                continue;
            }
            judged++;
            if (record) {
                cJSON *e = b == &rcv_backend_native ? expect_from_native(b, v, &r, why, sizeof why)
                           : b == &rcv_backend_qemu ? rcv_qemu_expect(v, &r, why, sizeof why)
                           : b == &rcv_backend_bochs ? rcv_bochs_expect(v, &r, why, sizeof why)
                           : b == &rcv_backend_kvm ? rcv_kvm_expect(v, &r, why, sizeof why)
                                                    : expect_from(b, v, &r, why, sizeof why);
                if (!e) {
                    printf("skip %s: vector \"%s\": %s\n", v->file, v->name, why);
                } else {
                    if (cJSON_GetObjectItemCaseSensitive(v->node, "expect"))
                        cJSON_ReplaceItemInObjectCaseSensitive(v->node, "expect", e);
                    else
                        cJSON_AddItemToObject(v->node, "expect", e);
                    dirty = true;
                    written++;
                }
            } else {
                static char diff[8192];
                static rcv_vector tv; /* a trimmed copy: v keeps what it owns */
                tv = *v;
                trim_to_judge(&tv, &r);
                unsigned nd = rcv_compare(&tv, &r, diff, sizeof diff);
                agree += nd == 0;
                if (nd) {
                    for (char *p = diff; (p = strchr(p, '\n')) && p[1];)
                        *p++ = ';';
                    xvendor += other_vendor;
                    printf("%s %s: vector \"%s\": %s says %s", other_vendor ? "VENDOR" : "DISAGREE",
                           v->file, v->name, b->source(), diff);
                } else if (verbose) {
                    printf("AGREE %s: vector \"%s\"\n", v->file, v->name);
                }
            }
            b->release(&r);
        }
        if (dirty && rcv_file_save(&f, err, sizeof err)) {
            fprintf(stderr, "ringcore: %s\n", err);
            bad++;
        }
        rcv_file_free(&f);
    }
    for (size_t k = 0; k < files.n; k++)
        free(files.p[k]);
    free(files.p);
    if (record)
        printf("record --oracle %s: %u vectors judged, %u expectations written, %u skipped\n",
               oracle, judged, written, skipped);
    else
        printf("check --oracle %s: %u vectors judged, %u agree with the recording, %u disagree, "
               "%u not judged\n", oracle, judged, agree, judged - agree - xvendor, skipped);
    if (xvendor)
        printf("check --oracle %s: %u vectors of the other vendor differ on this host (VENDOR "
               "lines: a vendor difference or a wrong expectation; not counted as failures)\n",
               oracle, xvendor);
    if (bad)
        return VEXIT_FORMAT;
    return record || agree + xvendor == judged ? VEXIT_PASS : VEXIT_FAIL;
#endif
}

static int vectors_image(int argc, char **argv)
{
    const char *name = NULL, *paths[2] = { NULL, NULL };
    int np = 0;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        if (is_opt(a, "--name")) {
            if (!(name = opt_value(argc, argv, &i, "--name", a)))
                return usage_error("--name needs a value");
        } else if (a[0] == '-' && a[1]) {
            return usage_error("vectors image: unknown option '%s'", a);
        } else if (np < 2) {
            paths[np++] = a;
        } else {
            return usage_error("vectors image: one FILE and one OUT.img, not '%s' as well", a);
        }
    }
    if (!name || np != 2)
        return usage_error("vectors image: --name NAME FILE OUT.img");
#ifndef RC_HAVE_CJSON
    fprintf(stderr, "ringcore: vectors: this ringcore was built without cJSON\n");
    return VEXIT_USAGE;
#else
    rcv_file f;
    char err[1024];
    if (rcv_file_load_ex(paths[0], true, &f, err, sizeof err)) {
        fprintf(stderr, "ringcore: %s\n", err);
        return VEXIT_FORMAT;
    }
    int rc = VEXIT_USAGE;
    const rcv_vector *v = NULL;
    for (unsigned k = 0; k < f.n && !v; k++)
        if (!strcmp(f.v[k].name, name))
            v = &f.v[k];
    if (!v) {
        fprintf(stderr, "ringcore: vectors image: %s has no vector named '%s'\n", paths[0], name);
    } else {
        size_t size = rck_vector_disk(v, paths[1], err, sizeof err);
        if (size) {
            printf("%s: the test kernel with vector '%s' (%s, CPL %u), %zu bytes\n", paths[1],
                   name, rcm_mode_name(v->m.mode), v->m.cpl, size);
            rc = VEXIT_PASS;
        } else {
            fprintf(stderr, "ringcore: vectors image: %s\n", err);
            rc = VEXIT_FAIL;
        }
    }
    rcv_file_free(&f);
    return rc;
#endif
}

static const char boot_usage[] =
    "usage: ringcore boot [options] IMAGE\n"
    "\n"
    "Boots a raw disk image on ringcore's small PC platform (docs/boot.md): sector 0\n"
    "at 0000:7C00 in real mode with DL = 0x80, a BIOS that serves INT 13h AH=41h/42h,\n"
    "64 MiB of RAM, and the ports the test kernel uses (0xE9 debug console, 0xF4\n"
    "exit, 0x8900 Bochs shutdown, 0x92 A20, PIC masks). The guest's port-0xE9 bytes\n"
    "go to stdout; how the run ended goes to stderr. Made for the test kernel\n"
    "(tests/kernel): its log matches QEMU's and Bochs' byte for byte.\n"
    "\n"
    "options:\n"
    "  --vendor intel|amd     CPU vendor model (default intel)\n"
    "  --e9 PATH              write the port-0xE9 bytes to PATH instead of stdout\n"
    "  --transitions          print each privilege transition, in words, to stderr\n"
    "  --max N                stop after N instructions (default 2000000000)\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: the guest's exit code (the byte written to port 0xF4; 0 for Bochs'\n"
    "  shutdown port), 1 unreadable or not-bootable image, 2 usage error, 120 HLT (no\n"
    "  interrupt can wake the CPU here), 121 triple fault, 124 instruction limit,\n"
    "  125 ringcore or the platform could not go on (the message says what)\n";

enum { BEXIT_HALTED = 120, BEXIT_SHUTDOWN = 121, BEXIT_LIMIT = 124, BEXIT_STOPPED = 125 };

static int cmd_boot(int argc, char **argv)
{
    rcb_options o = { .vendor = RC_VENDOR_INTEL, .e9 = stdout };
    const char *image = NULL, *e9_path = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(boot_usage, stdout);
            return 0;
        } else if (is_opt(a, "--vendor")) {
            const char *v = opt_value(argc, argv, &i, "--vendor", a);
            if (v && !strcmp(v, "intel")) o.vendor = RC_VENDOR_INTEL;
            else if (v && !strcmp(v, "amd")) o.vendor = RC_VENDOR_AMD;
            else return usage_error("boot: --vendor is intel or amd");
        } else if (is_opt(a, "--e9")) {
            if (!(e9_path = opt_value(argc, argv, &i, "--e9", a)))
                return usage_error("boot: --e9 needs a PATH");
        } else if (!strcmp(a, "--transitions")) {
            o.transitions = stderr;
        } else if (is_opt(a, "--max")) {
            const char *v = opt_value(argc, argv, &i, "--max", a);
            char *end = NULL;
            errno = 0;
            unsigned long long n = v ? strtoull(v, &end, 0) : 0;
            if (!v || !*v || *end || errno || n == 0 || v[0] == '-')
                return usage_error("boot: --max needs a positive instruction count, not '%s'",
                                   v ? v : "");
            o.max_insns = n;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("boot: unknown option '%s'", a);
        } else if (image) {
            return usage_error("boot: one IMAGE only ('%s' and '%s')", image, a);
        } else {
            image = a;
        }
    }
    if (!image)
        return usage_error("boot: no IMAGE given");
    FILE *e9 = NULL;
    if (e9_path && !(e9 = o.e9 = fopen(e9_path, "wb")))
        return input_error("boot: %s: %s", e9_path, strerror(errno));
    rcb_result r;
    int bad = rcb_boot(image, &o, &r);
    if (e9)
        fclose(e9);
    if (bad)
        return input_error("boot: %s", r.what);
    fprintf(stderr, "ringcore boot: %s: %s; at %04x:%" PRIx64 " (%s, CPL %u) after %" PRIu64
            " instructions, %" PRIu64 " bytes to port 0xe9, %" PRIu64 " INT 13h calls\n",
            rcb_end_name(r.end), r.what, r.cs, r.rip, rc_mode_name(r.mode), r.cpl, r.icount,
            r.e9_bytes, r.bios_calls);
    switch (r.end) {
    case RCB_END_GUEST_EXIT: return r.guest_code;
    case RCB_END_HALTED: return BEXIT_HALTED;
    case RCB_END_SHUTDOWN: return BEXIT_SHUTDOWN;
    case RCB_END_LIMIT: return BEXIT_LIMIT;
    default: return BEXIT_STOPPED;
    }
}

static int cmd_vectors(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(vectors_usage, argc < 3 ? stderr : stdout);
        return argc < 3 ? VEXIT_USAGE : VEXIT_PASS;
    }
    if (!strcmp(argv[2], "run"))
        return vectors_run(argc, argv, 3);
    if (!strcmp(argv[2], "record") || !strcmp(argv[2], "check"))
        return vectors_oracle(argc, argv, argv[2][0] == 'r');
    if (!strcmp(argv[2], "image"))
        return vectors_image(argc, argv);
    return usage_error("vectors: unknown subcommand '%s' (run, record, check, image)", argv[2]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return EXIT_HLT;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        print_version();
        return EXIT_HLT;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc, argv);
    if (!strcmp(cmd, "vectors") || !strcmp(cmd, "boot"))
        g_command = cmd;
    if (!strcmp(cmd, "vectors"))
        return cmd_vectors(argc, argv);
    if (!strcmp(cmd, "boot"))
        return cmd_boot(argc, argv);
    return usage_error("unknown command '%s' (the commands are 'run', 'vectors' and 'boot')",
                       cmd);
}

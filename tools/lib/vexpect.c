/*
 * vexpect.c - the expectation `record` writes from a ring-0 judge's result
 * (QEMU, Bochs, KVM: vexpect.h). Each judge sees the same kind of end
 * state, so one function turns it into JSON; the judges differ only in the
 * options.
 */
#ifdef RC_HAVE_CJSON
#include <stdio.h>
#include <string.h>

#include "lib/machine.h"
#include "lib/scenario.h"
#include "lib/vexpect.h"

/* The standard machine's paging structures (docs/standard-machine.md): their
 * accessed/dirty bits are the CPU's bookkeeping of the walk (and in the test
 * kernel also of its own entry), so a recording leaves them out. */
#define PT_AREA_LO 0x10000ull
#define PT_AREA_HI 0x20000ull
/* The PC's VGA/BIOS window: not RAM under a BIOS (tests/kernel/README.md). */
#define PC_HOLE_LO 0xa0000ull
#define PC_HOLE_HI 0x100000ull
#define MAX_RUNS 16u
#define MAX_RUN_BYTES 256u

void rcv_add_hex(cJSON *o, const char *name, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    cJSON_AddStringToObject(o, name, b);
}

int rcv_changed_mem(const rcv_result *r, const uint8_t *init, unsigned skip, cJSON *arr)
{
    bool skip_pt = skip & RCV_MEM_SKIP_PT_AREA, skip_pc_hole = skip & RCV_MEM_SKIP_PC_HOLE;
    static uint8_t page[4096];
    unsigned runs = 0;
    for (uint64_t pa = 0x1000; pa < RCM_RAM_SIZE; pa += sizeof page) {
        if ((skip_pc_hole && pa >= PC_HOLE_LO && pa < PC_HOLE_HI) ||
            (skip_pt && pa >= PT_AREA_LO && pa < PT_AREA_HI) ||
            r->read_mem(r->ctx, pa, page, sizeof page) ||
            !memcmp(page, init + pa, sizeof page))
            continue;
        for (size_t i = 0; i < sizeof page; i++) {
            if (page[i] == init[pa + i])
                continue;
            size_t end = i + 1, last = i;
            for (; end < sizeof page && end - last <= 8; end++)
                if (page[end] != init[pa + end])
                    last = end;
            size_t len = last - i + 1;
            if (++runs > MAX_RUNS || len > MAX_RUN_BYTES)
                return -1;
            char hex[2 * MAX_RUN_BYTES + 1];
            for (size_t k = 0; k < len; k++)
                snprintf(hex + 2 * k, 3, "%02x", page[i + k]);
            cJSON *m = cJSON_CreateObject();
            rcv_add_hex(m, "addr", pa + i);
            cJSON_AddStringToObject(m, "bytes", hex);
            cJSON_AddItemToArray(arr, m);
            i = last;
        }
    }
    return 0;
}

static void add_frame(cJSON *e, const rcv_result *r)
{
    static const char *const names[5] = { "rip", "cs", "rflags", "rsp", "ss" };
    const uint64_t vals[5] = { r->frame_rip, r->frame_cs, r->frame_rflags, r->frame_rsp,
                               r->frame_ss };
    static const unsigned bits[5] = { RCV_FR_RIP, RCV_FR_CS, RCV_FR_RFLAGS, RCV_FR_RSP,
                                      RCV_FR_SS };
    cJSON *fr = cJSON_AddObjectToObject(e, "frame");
    for (unsigned k = 0; k < 5; k++)
        if (r->frame_mask & bits[k])
            rcv_add_hex(fr, names[k], vals[k]);
}

/* The GPRs that changed (and RSP always), RIP, RFLAGS of a HLT end, CS/SS
 * selectors and CPL; 64-bit names when 'wide', else 32-bit values. */
static void add_state(cJSON *e, const rcv_result *r, rc_cpu *init, bool wide)
{
    static const char *const n64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    static const char *const n32[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    uint64_t mask = wide ? ~0ull : 0xffffffffull;
    cJSON *regs = cJSON_AddObjectToObject(e, "regs");
    for (unsigned i = 0; i < (wide ? 16u : 8u); i++) {
        uint64_t before = 0;
        rc_get_reg(init, (rc_reg)i, &before);
        uint64_t now = r->reg[i] & mask;
        if ((r->reg_valid >> i & 1) && (i == RC_REG_RSP || now != (before & mask)))
            rcv_add_hex(regs, wide ? n64[i] : n32[i], now);
    }
    if (r->reg_valid >> RC_REG_RIP & 1)
        rcv_add_hex(regs, wide ? "rip" : "eip", r->reg[RC_REG_RIP] & mask);
    if (r->end == RCV_END_HLT)
        rcv_add_hex(regs, wide ? "rflags" : "eflags", r->reg[RC_REG_RFLAGS]);
    cJSON *segs = cJSON_AddObjectToObject(e, "segs");
    rcv_add_hex(segs, "cs", r->seg[RC_SEG_CS].selector);
    rcv_add_hex(segs, "ss", r->seg[RC_SEG_SS].selector);
    cJSON_AddNumberToObject(e, "cpl", (double)r->reg[RC_REG_CPL]);
}

cJSON *rcv_judge_expect(const rcv_vector *v, const rcv_result *r, const rcv_expect_opts *o,
                        char *why, size_t n)
{
    rc_cpu *init;
    if (rcv_scenario_build(v, &init, why, n))
        return NULL;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "end", rcv_end_name(r->end));
    if (r->end == RCV_END_EXCEPTION || r->end == RCV_END_INT) {
        cJSON_AddNumberToObject(e, "vector", r->vector);
        if (r->has_error_code)
            cJSON_AddNumberToObject(e, "error_code", r->error_code);
        else if (r->end == RCV_END_EXCEPTION)
            cJSON_AddStringToObject(e, "error_code", "none");
        if (r->vector == RC_EXC_PF && r->end == RCV_END_EXCEPTION)
            rcv_add_hex(e, "cr2", r->reg[RC_REG_CR2]);
        add_frame(e, r);
    }
    if (r->end != RCV_END_SHUTDOWN) {
        add_state(e, r, init, o->wide);
        if (o->with_mem && r->read_mem) {
            cJSON *mem = cJSON_CreateArray();
            unsigned skip = RCV_MEM_SKIP_PT_AREA | (o->skip_pc_hole ? RCV_MEM_SKIP_PC_HOLE : 0);
            if (rcv_changed_mem(r, rc_ram_ptr(init, 0, RCM_RAM_SIZE), skip, mem)) {
                snprintf(why, n, "the run changed more memory than a vector records (%u runs of "
                         "%u bytes)", MAX_RUNS, MAX_RUN_BYTES);
                cJSON_Delete(mem);
                cJSON_Delete(e);
                rc_destroy(init);
                return NULL;
            }
            if (cJSON_GetArraySize(mem))
                cJSON_AddItemToObject(e, "mem", mem);
            else
                cJSON_Delete(mem);
        }
    }
    cJSON *src = cJSON_AddArrayToObject(e, "sources");
    cJSON_AddItemToArray(src, cJSON_CreateString(o->source));
    if (r->end != RCV_END_SHUTDOWN && !o->with_mem && o->no_mem_why) {
        cJSON *nj = cJSON_AddArrayToObject(e, "not_judged");
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "source", o->source);
        cJSON *f = cJSON_AddArrayToObject(x, "fields");
        cJSON_AddItemToArray(f, cJSON_CreateString("expect.mem"));
        cJSON_AddStringToObject(x, "why", o->no_mem_why);
        cJSON_AddItemToArray(nj, x);
    }
    rc_destroy(init);
    return e;
}
#endif /* RC_HAVE_CJSON */

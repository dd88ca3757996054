/* explain.c - exception vectors and error codes in words (see explain.h). */
#include "explain.h"

#include <stdio.h>
#include <string.h>

/* SDM Vol. 3A 6.3.1 Table 6-1 "Protected-Mode Exceptions and Interrupts";
 * #CP (21), #HV (28), #VC (29), #SX (30) from the SDM and AMD APM Vol. 2 8.2. */
static const struct {
    const char *mnemonic;
    const char *title;
    bool error_code;
} vectors[32] = {
    [0] = { "#DE", "divide error", false },
    [1] = { "#DB", "debug", false },
    [2] = { "NMI", "non-maskable interrupt", false },
    [3] = { "#BP", "breakpoint", false },
    [4] = { "#OF", "overflow", false },
    [5] = { "#BR", "BOUND range exceeded", false },
    [6] = { "#UD", "invalid opcode", false },
    [7] = { "#NM", "device not available", false },
    [8] = { "#DF", "double fault", true },
    [9] = { "CSO", "coprocessor segment overrun", false },
    [10] = { "#TS", "invalid TSS", true },
    [11] = { "#NP", "segment not present", true },
    [12] = { "#SS", "stack-segment fault", true },
    [13] = { "#GP", "general protection", true },
    [14] = { "#PF", "page fault", true },
    [16] = { "#MF", "x87 floating-point error", false },
    [17] = { "#AC", "alignment check", true },
    [18] = { "#MC", "machine check", false },
    [19] = { "#XM", "SIMD floating-point exception", false },
    [20] = { "#VE", "virtualization exception", false },
    [21] = { "#CP", "control protection", true },
    [28] = { "#HV", "hypervisor injection", false },
    [29] = { "#VC", "VMM communication", true },
    [30] = { "#SX", "security exception", true },
};

const char *rct_vector_mnemonic(unsigned vector, char *buf, size_t n)
{
    if (vector < 32 && vectors[vector].mnemonic)
        return vectors[vector].mnemonic;
    snprintf(buf, n, "INT 0x%02x", vector & 0xff);
    return buf;
}

const char *rct_vector_title(unsigned vector)
{
    if (vector < 32)
        return vectors[vector].title ? vectors[vector].title : "reserved vector";
    return "interrupt";
}

bool rct_vector_has_error_code(unsigned vector)
{
    return vector < 32 && vectors[vector].error_code;
}

/* SDM Vol. 3A 4.7 "Page-Fault Exceptions", Figure 4-12. */
static void explain_pf(uint32_t e, char *buf, size_t n)
{
    snprintf(buf, n,
             "P=%u (%s), W/R=%u (%s), U/S=%u (%s)%s%s%s%s%s",
             e & 1, e & 1 ? "protection violation on a present page" : "page not present",
             (e >> 1) & 1, e & 2 ? "write" : "read",
             (e >> 2) & 1, e & 4 ? "user-mode access" : "supervisor-mode access",
             e & 8 ? ", RSVD=1 (reserved bit set in a paging entry)" : "",
             e & 16 ? ", I/D=1 (instruction fetch)" : "",
             e & 32 ? ", PK=1 (protection key)" : "",
             e & 64 ? ", SS=1 (shadow-stack access)" : "",
             e & 0x8000 ? ", SGX=1" : "");
}

/* SDM Vol. 3A 6.13 "Error Code", Figure 6-6: EXT, IDT, TI, index. */
static void explain_selector(uint32_t e, char *buf, size_t n)
{
    if (e == 0) {
        snprintf(buf, n, "no selector is involved");
        return;
    }
    unsigned index = (e >> 3) & 0x1fff;
    const char *ext = e & 1 ? "; EXT=1: raised while delivering an event external to the "
                              "program" : "";
    if (e & 2)
        snprintf(buf, n, "IDT=1: IDT entry for vector 0x%x%s", index, ext);
    else
        snprintf(buf, n, "selector 0x%x: index %u in the %s%s", e & 0xfffc, index,
                 e & 4 ? "LDT (TI=1)" : "GDT (TI=0)", ext);
}

void rct_explain_error_code(unsigned vector, uint32_t err, char *buf, size_t n)
{
    switch (vector) {
    case 14: explain_pf(err, buf, n); break;
    case 10: case 11: case 12: case 13: case 17: explain_selector(err, buf, n); break;
    case 8: snprintf(buf, n, "%u (#DF always pushes 0)", err); break;
    default: snprintf(buf, n, "0x%x", err); break;
    }
}

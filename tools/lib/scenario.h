/*
 * scenario.h - the scenario builder: one implementation that turns a
 * vector (tools/lib/vector.h) into a guest image plus initial state, on top
 * of the standard machine (tools/lib/machine.c). Every backend starts from
 * the rc_cpu it builds: ringcore runs it, the others copy its RAM and
 * registers (docs/vectors.md "How a vector is built").
 */
#ifndef RCT_SCENARIO_H
#define RCT_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/vector.h"

/* Build the standard machine for v->m, then apply, in this order: GDT
 * entries, the LDT, IDT entries, TSS fields, page-table entries, extra
 * memory, the code, MSRs, segment registers, registers. Returns 0 with
 * *out (destroy with rc_destroy) or -1 with a message naming the field. */
int rcv_scenario_build(const rcv_vector *v, rc_cpu **out, char *err, size_t errlen);

/* Physical address of the PTE mapping linear 'addr' in the standard
 * machine's tables for 'mode' (4-level for long/compat, 32-bit otherwise),
 * and its size in bytes (8 or 4). */
uint64_t rcv_pte_addr(rcm_mode mode, uint64_t addr, unsigned *size);

#endif /* RCT_SCENARIO_H */

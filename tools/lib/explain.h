/*
 * explain.h - words for what the CPU reports: exception vectors, error
 * codes (SDM Vol. 3A 6.13 and 4.7), exit reasons. Shared by the CLI and
 * the vector runner so every tool says the same thing the same way.
 */
#ifndef RCT_EXPLAIN_H
#define RCT_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "#GP", "#PF", "NMI", ...; for vectors without a mnemonic "INT 0x80"
 * into the caller's buffer (returned). */
const char *rct_vector_mnemonic(unsigned vector, char *buf, size_t n);
/* "general protection", "page fault", ... or "interrupt" (SDM Table 6-1). */
const char *rct_vector_title(unsigned vector);
/* Whether exception delivery of this vector pushes an error code (Table 6-1). */
bool rct_vector_has_error_code(unsigned vector);
/* The error code in words: page-fault bits (SDM Vol. 3A 4.7) for #PF, the
 * selector format (SDM Vol. 3A 6.13) for #TS/#NP/#SS/#GP, plain otherwise. */
void rct_explain_error_code(unsigned vector, uint32_t err, char *buf, size_t n);

#endif /* RCT_EXPLAIN_H */

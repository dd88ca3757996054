/*
 * vb_bochs.h - the Bochs backend's extras (the backend itself is
 * rcv_backend_bochs in vbackend.h; tools/lib/vb_bochs.c).
 */
#ifndef RCT_VB_BOCHS_H
#define RCT_VB_BOCHS_H

#include <stddef.h>

#include "lib/vbackend.h"

typedef struct cJSON cJSON;

/* The source a Bochs run of v stands for: "bochs-2.7:corei7_skylake_x"
 * (Intel vectors) or "bochs-2.7:ryzen" (AMD). */
const char *rcv_bochs_source(const rcv_vector *v);

/* The expectation `vectors record --oracle bochs` writes for v from a run's
 * result r: end, vector, error code, CR2 of a #PF, the frame, the GPRs that
 * changed plus RSP and RIP (RFLAGS for hlt ends), CS/SS selectors, CPL.
 * No expect.mem: the judge dumps only the memory it needs, so the
 * expectation says so in a not_judged entry. NULL with the reason in why. */
cJSON *rcv_bochs_expect(const rcv_vector *v, const rcv_result *r, char *why, size_t n);

#endif /* RCT_VB_BOCHS_H */

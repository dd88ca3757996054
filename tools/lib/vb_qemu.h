/*
 * vb_qemu.h - the QEMU backend's extras (the backend itself is
 * rcv_backend_qemu in vbackend.h; tools/lib/vb_qemu.c).
 */
#ifndef RCT_VB_QEMU_H
#define RCT_VB_QEMU_H

#include <stddef.h>

#include "lib/vbackend.h"

typedef struct cJSON cJSON;

/* The expectation `vectors record --oracle qemu` writes for v from a run's
 * result r: every end kind (hlt, exception, int, shutdown) with what QEMU
 * showed. NULL with the reason in why. */
cJSON *rcv_qemu_expect(const rcv_vector *v, const rcv_result *r, char *why, size_t n);

#endif /* RCT_VB_QEMU_H */

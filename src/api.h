/*
 * api.h - helpers shared by src/api.c and src/snapshot.c (not public).
 */
#ifndef RC_API_INTERNAL_H
#define RC_API_INTERNAL_H

#include "cpu.h"

/* Drop every cached translation and decoded instruction (after a state
 * load that may change what memory means). */
void rc_api_flush_caches(rc_cpu *cpu);

/* The RFLAGS bits that exist (SDM Vol. 1 3.4.3 Figure 3-8): the rest are
 * reserved and cannot be set through the API or a snapshot. */
#define RC_RFLAGS_DEFINED                                                                          \
    (RC_FLAGS_ARITH | RC_FLAG_FIXED1 | RC_FLAG_TF | RC_FLAG_IF | RC_FLAG_DF | RC_FLAG_IOPL |      \
     RC_FLAG_NT | RC_FLAG_RF | RC_FLAG_VM | RC_FLAG_AC | RC_FLAG_VIF | RC_FLAG_VIP | RC_FLAG_ID)

/* The EFER bits ringcore models (SDM Vol. 4 Table 2-2). */
#define RC_EFER_MODELED (RC_EFER_SCE | RC_EFER_LME | RC_EFER_LMA | RC_EFER_NXE)

/* The largest values of the small registers. */
#define RC_CPL_MAX 3
#define RC_CR8_MAX 15

/* A segment cache whose attribute fields are within their bit widths. */
bool rc_api_seg_valid(const rc_segment *s);

/* Write EFER from the embedder's side (LMA derived, mode updated). */
void rc_api_set_efer(rc_cpu *cpu, uint64_t v);

#endif

/*
 * vb_kvm.h - the KVM judge (tools/lib/vb_kvm.c, docs/kvm.md): a vector run
 * on the host CPU itself through /dev/kvm, for hosts whose KVM is hardware
 * (VMX or SVM). A software KVM (kvm_pvm, or no vmx/svm flag) is refused
 * with the reason.
 */
#ifndef RCT_VB_KVM_H
#define RCT_VB_KVM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/vbackend.h"

typedef struct cJSON cJSON;

extern const rcv_backend rcv_backend_kvm;

/* What /dev/kvm is, as far as the judge cares. */
typedef enum rcv_kvm_kind {
    RCV_KVM_NONE = 0,   /* no usable /dev/kvm */
    RCV_KVM_SOFTWARE,   /* /dev/kvm works, but it is not the CPU's VMX/SVM */
    RCV_KVM_HARDWARE,   /* /dev/kvm runs guests on VMX or SVM: a judge */
} rcv_kvm_kind;

/* The facts the decision rests on (gathered by rcv_kvm_probe, or made up
 * by a test). */
typedef struct rcv_kvm_facts {
    bool dev_open;          /* /dev/kvm opened read-write */
    const char *dev_error;  /* if not: why (strerror), may be NULL */
    int api_version;        /* KVM_GET_API_VERSION; meaningful when dev_open */
    const char *cpu_flags;  /* the "flags" line of /proc/cpuinfo (NULL: unreadable) */
    bool pvm_module;        /* /sys/module/kvm_pvm exists */
} rcv_kvm_facts;

/* The pure decision: the kind of KVM these facts describe, and (for NONE and
 * SOFTWARE) the reason, a sentence, in why. */
rcv_kvm_kind rcv_kvm_classify(const rcv_kvm_facts *f, char *why, size_t n);

/* Whether the word (e.g. "svm") is one of the space-separated flags. */
bool rcv_kvm_has_flag(const char *flags, const char *word);

/* This host's KVM (probed once): the kind, and why it is not hardware. */
rcv_kvm_kind rcv_kvm_probe(char *why, size_t n);

/* Whether this host's KVM can judge (hardware); if not, why. */
bool rcv_kvm_available(char *why, size_t n);

/* Development only: RC_KVM_ALLOW_SOFTWARE=1 lets the judge run on a software
 * KVM; its source then starts with "kvm-software:" and `record` must refuse
 * it (docs/kvm.md). */
bool rcv_kvm_software_allowed(void);

/* The expectation `vectors record --oracle kvm` writes for v from r: every
 * end kind with what KVM shows (GPRs that changed plus RSP, RIP, RFLAGS for
 * hlt, CS/SS selectors, CPL, CR2 of a #PF, the frame, the memory that
 * changed outside the page tables). NULL with the reason in why, and always
 * NULL for a "kvm-software:" source. */
cJSON *rcv_kvm_expect(const rcv_vector *v, const rcv_result *r, char *why, size_t n);

#endif /* RCT_VB_KVM_H */

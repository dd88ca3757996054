/*
 * fast.c - the fast system calls: SYSCALL/SYSRET and SYSENTER/SYSEXIT.
 *
 * SDM Vol. 2B "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT"; SDM Vol. 3A 5.8.7
 * and 5.8.8; AMD APM Vol. 3 "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT" and
 * APM Vol. 2 6.1 ("Fast System Call and Return").
 *
 * None of them reads a descriptor: CS and SS are loaded with selectors
 * derived from an MSR and with fixed hidden parts ("flat" 4-GiB segments of
 * the target privilege level). Where the vendors differ, the model says so
 * (src/cpu/model.c, docs/quirks.md):
 *   - syscall_legacy: AMD runs SYSCALL/SYSRET outside 64-bit mode (compat
 *     mode through CSTAR, legacy mode through STAR[31:0]); Intel #UD.
 *   - sysret_canonical_gp_cpl0: Intel checks a 64-bit SYSRET's RCX for
 *     canonical form before anything changes, so the #GP(0) is taken in
 *     ring 0, on whatever stack the kernel had loaded (CVE-2012-0217); AMD
 *     returns and faults on the fetch at CPL 3.
 *   - sysret_ss_attrs_stale: AMD's SYSRET loads the SS selector only; the
 *     hidden attributes stay those SS had (an unusable SS stays unusable).
 *   - sysenter_long: Intel runs SYSENTER/SYSEXIT in IA-32e mode; AMD #UD.
 */
#include <stdio.h>

#include "msr/msr.h"
#include "transfer.h"

/* The fixed flat segments these instructions load (SDM Vol. 2B SYSCALL /
 * SYSENTER "Operation": base 0, limit FFFFFH with G = 1, S = 1, P = 1;
 * code type 11 (execute/read, accessed), data type 3 (read/write,
 * accessed)). */
static rc_segment flat_code(uint16_t sel, uint8_t dpl, bool l64)
{
    rc_segment s = { .selector = sel, .base = 0, .limit = 0xffffffffu, .type = 11, .s = 1,
                     .dpl = dpl, .present = 1, .l = l64, .db = !l64, .g = 1 };
    return s;
}

static rc_segment flat_stack(uint16_t sel, uint8_t dpl)
{
    rc_segment s = { .selector = sel, .base = 0, .limit = 0xffffffffu, .type = 3, .s = 1,
                     .dpl = dpl, .present = 1, .db = 1, .g = 1 };
    return s;
}

static bool in_64bit_mode(const rc_cpu *cpu)
{
    return cpu->mode == RC_MODE_LONG64;
}

static bool in_ia32e(const rc_cpu *cpu)
{
    return (cpu->efer & RC_EFER_LMA) != 0;
}

static void explain_fast(rc_cpu *cpu, const char *what, const char *msr_text, rc_transition *t)
{
    if (!rc_tr_explained(cpu))
        return;
    snprintf(cpu->transition_text, sizeof(cpu->transition_text),
             "%s0x%04x:0x%llx (%s), CPL %u->%u, stack 0x%04x:0x%llx -> 0x%04x:0x%llx%s",
             what, t->new_cs, (unsigned long long)t->new_rip, rc_mode_name(t->new_mode),
             t->old_cpl, t->new_cpl, t->old_ss, (unsigned long long)t->old_rsp, t->new_ss,
             (unsigned long long)t->new_rsp, msr_text);
}

/* Commit CS, SS, CPL, RIP, RSP and the mode; then the after-hook; then the
 * single-step decision. For these four instructions it is taken from RFLAGS
 * as the instruction leaves it (SDM Vol. 3A 18.3.1.4, as the hardware
 * behaviour that Linux's single_step_syscall selftest and XTF's xsa-204
 * test observe): SYSCALL with TF set traps only when SFMASK left TF set,
 * SYSENTER (which does not clear TF) traps at CPL 0 before the first
 * kernel instruction, and a SYSRET that loads TF from R11 traps at CPL 3
 * before the first user instruction. The trap's RIP is the new one. */
static rc_fault commit(rc_cpu *cpu, const rc_transition *t, const rc_segment *cs,
                       const rc_segment *ss, bool stop)
{
    cpu->seg[RC_SEG_CS] = *cs;
    cpu->seg[RC_SEG_SS] = *ss;
    cpu->cpl = t->new_cpl;
    cpu->rip = t->new_rip;
    cpu->gpr[4] = t->new_rsp;
    rc_update_mode(cpu);
    TRY(rc_tr_after(cpu, t, stop));
    if (cpu->rflags & RC_FLAG_TF) {
        cpu->dr[6] |= 1ull << 14; /* DR6.BS */
        cpu->fault_reason = "single-step trap after a fast system call (TF set as it left "
                            "RFLAGS)";
        cpu->single_step_trap = true;
        cpu->icount_total++; /* the instruction completed */
        return rc_exc(RC_EXC_DB);
    }
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ SYSCALL */

/* 0F 05. SDM Vol. 2B SYSCALL: "IF (CS.L != 1) or (IA32_EFER.LMA != 1) or
 * (IA32_EFER.SCE != 1) THEN #UD"; RCX <- RIP (next); RIP <- IA32_LSTAR;
 * R11 <- RFLAGS; RFLAGS <- RFLAGS AND NOT IA32_FMASK (and RF cleared: "None
 * of the bits in RFLAGS are automatically cleared (except for RF)");
 * CS.Selector <- IA32_STAR[47:32] AND FFFCH, SS.Selector <- that + 8, fixed
 * hidden parts; CPL <- 0. RSP is not touched.
 * APM Vol. 3 SYSCALL: "IF (MSR_EFER.SCE = 0) #UD"; in long mode as above,
 * but from compatibility mode RIP <- CSTAR (64-bit target either way); in
 * legacy mode ECX <- next EIP, EIP <- STAR[31:0], 32-bit flat CS/SS, and
 * RFLAGS.VM, IF, RF <- 0 (no SFMASK). R11 holds RFLAGS with RF = 0. */
RC_HANDLER(ex_syscall)
{
    (void)in;
    const rc_model *m = cpu->model;
    bool ia32e = in_ia32e(cpu), amd_path = m->syscall_legacy;
    FAULT_NOERR_IF(cpu, !(cpu->efer & RC_EFER_SCE), RC_EXC_UD,
                   "SYSCALL with EFER.SCE = 0 (system-call extensions disabled)");
    FAULT_NOERR_IF(cpu, !in_64bit_mode(cpu) && !amd_path, RC_EXC_UD,
                   ia32e ? "SYSCALL in compatibility mode (Intel: valid in 64-bit mode only)"
                         : "SYSCALL outside IA-32e mode (Intel: valid in 64-bit mode only)");
    if (!ia32e && !(cpu->cr0 & RC_CR0_PE))
        return rc_unsupported(cpu, "SYSCALL in real mode (AMD)");
    if (cpu->mode == RC_MODE_VM86)
        return rc_unsupported(cpu, "SYSCALL in virtual-8086 mode (AMD)");

    uint64_t fl = rc_get_rflags(cpu);
    uint16_t sel = (uint16_t)(cpu->msr.star >> 32) & 0xfffcu;
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_SYSCALL);
    t.new_cpl = 0;
    t.new_cs = sel;
    t.new_ss = (uint16_t)(sel + 8);
    t.new_rsp = cpu->gpr[4];
    const char *via;
    if (ia32e) {
        t.msr = in_64bit_mode(cpu) ? RC_MSR_LSTAR : RC_MSR_CSTAR;
        t.new_rip = in_64bit_mode(cpu) ? cpu->msr.lstar : cpu->msr.cstar;
        t.new_mode = RC_MODE_LONG64;
        via = in_64bit_mode(cpu) ? " (RIP from LSTAR)" : " (RIP from CSTAR: AMD, from "
                                                         "compatibility mode)";
    } else {
        t.msr = RC_MSR_STAR;
        t.new_rip = cpu->msr.star & 0xffffffffu;
        t.new_mode = RC_MODE_PROT32;
        via = " (EIP from STAR[31:0]: AMD legacy-mode SYSCALL)";
    }
    if (rc_tr_explained(cpu)) {
        char extra[160];
        snprintf(extra, sizeof extra, "%s; RCX = 0x%llx, R11 = RFLAGS 0x%llx", via,
                 (unsigned long long)(ia32e ? cpu->rip : cpu->rip & 0xffffffffu),
                 (unsigned long long)(fl & ~(uint64_t)RC_FLAG_RF));
        explain_fast(cpu, "to ", extra, &t);
    }
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    rc_segment cs = flat_code(t.new_cs, 0, ia32e), ss = flat_stack(t.new_ss, 0);
    if (ia32e) {
        cpu->gpr[1] = cpu->rip;                      /* RCX: the next RIP */
        cpu->gpr[11] = fl & ~(uint64_t)RC_FLAG_RF;   /* R11 */
        rc_set_rflags(cpu, (fl & ~cpu->msr.sfmask) & ~(uint64_t)RC_FLAG_RF);
    } else {
        rc_set_gpr(cpu, 1, 4, false, cpu->rip);      /* ECX */
        rc_set_rflags(cpu, fl & ~(uint64_t)(RC_FLAG_VM | RC_FLAG_IF | RC_FLAG_RF));
    }
    return commit(cpu, &t, &cs, &ss, stop);
}

/* ------------------------------------------------------------------ SYSRET */

/* 0F 07. SDM Vol. 2B SYSRET: "IF (CS.L != 1) or (IA32_EFER.LMA != 1) or
 * (IA32_EFER.SCE != 1) THEN #UD"; "IF (CPL != 0) THEN #GP(0)"; 64-bit
 * operand size: "IF (RCX is not canonical) THEN #GP(0)", RIP <- RCX, CS <-
 * IA32_STAR[63:48] + 16; otherwise RIP <- ECX, CS <- IA32_STAR[63:48]; RPL
 * forced to 3, fixed hidden parts (L per operand size); "RFLAGS <- (R11 &
 * 3C7FD7H) | 2" (RF, VM and reserved bits cleared); SS <- (IA32_STAR[63:48]
 * + 8) OR 3 with fixed hidden parts; CPL <- 3. RSP is not touched.
 * APM Vol. 3 SYSRET: "IF (MSR_EFER.SCE = 0) #UD"; "IF ((!PROTECTED_MODE) ||
 * (CPL != 0)) #GP(0)"; no canonical check on RCX (a non-canonical RIP
 * faults on the next fetch, at CPL 3); SS.sel <- SYSRET_CS + 8 with RPL 3,
 * "SS base, limit and attributes unchanged"; legacy mode: CS 32-bit, EIP <-
 * ECX, RFLAGS.IF <- 1 (the rest kept). */
RC_HANDLER(ex_sysret)
{
    const rc_model *m = cpu->model;
    bool ia32e = in_ia32e(cpu), amd_path = m->syscall_legacy;
    FAULT_NOERR_IF(cpu, !(cpu->efer & RC_EFER_SCE), RC_EXC_UD,
                   "SYSRET with EFER.SCE = 0 (system-call extensions disabled)");
    FAULT_NOERR_IF(cpu, !in_64bit_mode(cpu) && !amd_path, RC_EXC_UD,
                   ia32e ? "SYSRET in compatibility mode (Intel: valid in 64-bit mode only)"
                         : "SYSRET outside IA-32e mode (Intel: valid in 64-bit mode only)");
    FAULT_IF(cpu, !(cpu->cr0 & RC_CR0_PE), RC_EXC_GP, 0, "SYSRET in real mode (AMD: #GP(0))");
    FAULT_IF(cpu, cpu->mode == RC_MODE_VM86, RC_EXC_GP, 0,
             "SYSRET in virtual-8086 mode: CPL is 3");
    FAULT_IF(cpu, cpu->cpl != 0, RC_EXC_GP, 0, "SYSRET at CPL > 0 is privileged");
    bool to64 = ia32e && in->opsize == 8;
    uint64_t rcx = cpu->gpr[1];
    if (to64 && m->sysret_canonical_gp_cpl0 && !rc_is_canonical(rcx)) {
        /* The quirk at the heart of CVE-2012-0217: the check comes before
         * the return, so the #GP(0) is delivered at CPL 0 with no stack
         * switch -- onto RSP as the kernel left it, typically the user's
         * stack already restored for the return. */
        cpu->fault_reason = "SYSRET to 64-bit mode with a non-canonical RCX: Intel raises "
                            "#GP(0) in ring 0, before the return, on the current stack "
                            "(RSP as the kernel loaded it: CVE-2012-0217)";
        return rc_exc_err(RC_EXC_GP, 0);
    }

    uint16_t base = (uint16_t)(cpu->msr.star >> 48);
    uint64_t r11 = cpu->gpr[11], fl = rc_get_rflags(cpu);
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_SYSRET);
    t.msr = RC_MSR_STAR;
    t.new_cpl = 3;
    t.new_cs = (uint16_t)((to64 ? base + 16 : base) | 3);
    t.new_ss = (uint16_t)((base + 8) | 3);
    t.new_rip = to64 ? rcx : rcx & 0xffffffffu;
    t.new_rsp = cpu->gpr[4];
    t.new_mode = to64 ? RC_MODE_LONG64 : ia32e ? RC_MODE_COMPAT32 : RC_MODE_PROT32;
    if (rc_tr_explained(cpu)) {
        char extra[200];
        snprintf(extra, sizeof extra, "; CS/SS from STAR[63:48] = 0x%04x%s%s", base,
                 to64 && !rc_is_canonical(rcx)
                     ? "; RCX is non-canonical: AMD returns, the fetch at CPL 3 will #GP(0)"
                     : "",
                 m->sysret_ss_attrs_stale ? "; SS hidden attributes kept (AMD)" : "");
        explain_fast(cpu, to64 ? "64-bit return to " : "32-bit return to ", extra, &t);
    }
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    rc_segment cs = flat_code(t.new_cs, 3, to64), ss;
    if (m->sysret_ss_attrs_stale) {
        ss = cpu->seg[RC_SEG_SS];
        ss.selector = t.new_ss;
    } else {
        ss = flat_stack(t.new_ss, 3);
    }
    if (ia32e)
        rc_set_rflags(cpu, (r11 & 0x3c7fd7u) | 2u);
    else
        rc_set_rflags(cpu, fl | RC_FLAG_IF); /* APM legacy SYSRET: only IF changes */
    return commit(cpu, &t, &cs, &ss, stop);
}

/* ------------------------------------------------------------------ SYSENTER */

/* 0F 34. SDM Vol. 2B SYSENTER: "IF CR0.PE = 0 OR IA32_SYSENTER_CS[15:2] = 0
 * THEN #GP(0)"; RFLAGS.VM, IF, RF <- 0; IA-32e mode: RSP <- SYSENTER_ESP,
 * RIP <- SYSENTER_EIP, CS 64-bit; otherwise ESP/EIP <- their low 32 bits,
 * CS 32-bit; CS.Selector <- SYSENTER_CS AND FFFCH, SS.Selector <- that +
 * 8, fixed hidden parts; CPL <- 0. APM Vol. 3 SYSENTER: "#UD ... in long
 * mode" (AMD: legacy mode only). */
RC_HANDLER(ex_sysenter)
{
    (void)in;
    bool ia32e = in_ia32e(cpu);
    FAULT_NOERR_IF(cpu, ia32e && !cpu->model->sysenter_long, RC_EXC_UD,
                   "SYSENTER in long mode (AMD: legacy mode only)");
    FAULT_IF(cpu, !(cpu->cr0 & RC_CR0_PE), RC_EXC_GP, 0, "SYSENTER in real mode (CR0.PE = 0)");
    FAULT_IF(cpu, (cpu->msr.sysenter_cs & 0xfffcu) == 0, RC_EXC_GP, 0,
             "SYSENTER with a null IA32_SYSENTER_CS");

    uint16_t sel = (uint16_t)cpu->msr.sysenter_cs & 0xfffcu;
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_SYSENTER);
    t.msr = RC_MSR_SYSENTER_CS;
    t.new_cpl = 0;
    t.new_cs = sel;
    t.new_ss = (uint16_t)(sel + 8);
    t.new_rip = ia32e ? cpu->msr.sysenter_eip : cpu->msr.sysenter_eip & 0xffffffffu;
    t.new_rsp = ia32e ? cpu->msr.sysenter_esp : cpu->msr.sysenter_esp & 0xffffffffu;
    t.new_mode = ia32e ? RC_MODE_LONG64 : RC_MODE_PROT32;
    explain_fast(cpu, "to ", "; CS from SYSENTER_CS, SS = CS + 8, RIP/RSP from SYSENTER_EIP/ESP",
                 &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    rc_set_rflags(cpu, rc_get_rflags(cpu) & ~(uint64_t)(RC_FLAG_VM | RC_FLAG_IF | RC_FLAG_RF));
    rc_segment cs = flat_code(t.new_cs, 0, ia32e), ss = flat_stack(t.new_ss, 0);
    return commit(cpu, &t, &cs, &ss, stop);
}

/* ------------------------------------------------------------------ SYSEXIT */

/* 0F 35. SDM Vol. 2B SYSEXIT: "IF IA32_SYSENTER_CS[15:2] = 0 OR CR0.PE = 0
 * OR CPL != 0 THEN #GP(0)"; 64-bit operand size (REX.W): RSP <- RCX, RIP <-
 * RDX, CS <- SYSENTER_CS + 32, SS <- SYSENTER_CS + 40, and in 64-bit mode
 * "#GP(0) If RCX or RDX contains a non-canonical address"; otherwise ESP <-
 * ECX, EIP <- EDX, CS <- SYSENTER_CS + 16, SS <- SYSENTER_CS + 24; RPL 3,
 * fixed hidden parts; CPL <- 3; RFLAGS unchanged. APM: #UD in long mode. */
RC_HANDLER(ex_sysexit)
{
    bool ia32e = in_ia32e(cpu);
    FAULT_IF(cpu, !(cpu->cr0 & RC_CR0_PE), RC_EXC_GP, 0, "SYSEXIT in real mode (CR0.PE = 0)");
    /* The privilege check comes before AMD's long-mode #UD: APM Vol. 3 SYSEXIT lists both
     * without an order; measured on AMD EPYC (family 19h) at CPL 3, SYSEXIT in 64-bit and in
     * compatibility mode raises #GP(0), not #UD (tests/vectors/syscall/fast3.json
     * sysexit-long-cpl3-amd-gp, sysexit-compat-cpl3-amd-gp). Intel: all three are #GP(0). */
    FAULT_IF(cpu, cpu->mode == RC_MODE_VM86 || cpu->cpl != 0, RC_EXC_GP, 0,
             "SYSEXIT at CPL > 0 is privileged");
    FAULT_NOERR_IF(cpu, ia32e && !cpu->model->sysenter_long, RC_EXC_UD,
                   "SYSEXIT in long mode (AMD: legacy mode only)");
    FAULT_IF(cpu, (cpu->msr.sysenter_cs & 0xfffcu) == 0, RC_EXC_GP, 0,
             "SYSEXIT with a null IA32_SYSENTER_CS");
    bool to64 = in_64bit_mode(cpu) && in->opsize == 8;
    FAULT_IF(cpu, to64 && (!rc_is_canonical(cpu->gpr[1]) || !rc_is_canonical(cpu->gpr[2])),
             RC_EXC_GP, 0, "64-bit SYSEXIT with a non-canonical RCX (stack) or RDX (target)");

    uint16_t base = (uint16_t)cpu->msr.sysenter_cs;
    rc_transition t;
    rc_tr_init(cpu, &t, RC_TR_SYSEXIT);
    t.msr = RC_MSR_SYSENTER_CS;
    t.new_cpl = 3;
    t.new_cs = (uint16_t)((base + (to64 ? 32 : 16)) | 3);
    t.new_ss = (uint16_t)((base + (to64 ? 40 : 24)) | 3);
    t.new_rip = to64 ? cpu->gpr[2] : cpu->gpr[2] & 0xffffffffu;
    t.new_rsp = to64 ? cpu->gpr[1] : cpu->gpr[1] & 0xffffffffu;
    t.new_mode = to64 ? RC_MODE_LONG64 : ia32e ? RC_MODE_COMPAT32 : RC_MODE_PROT32;
    explain_fast(cpu, to64 ? "64-bit return to " : "return to ",
                 "; CS/SS from SYSENTER_CS, RIP from RDX, RSP from RCX", &t);
    bool skip, stop;
    TRY(rc_tr_before(cpu, &t, true, &skip, &stop));
    if (skip)
        return RC_NOFAULT;

    rc_segment cs = flat_code(t.new_cs, 3, to64), ss = flat_stack(t.new_ss, 3);
    return commit(cpu, &t, &cs, &ss, stop);
}

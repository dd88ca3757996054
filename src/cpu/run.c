/*
 * run.c - the dispatch loop, the decoded-instruction cache, and the run
 * control calls of the public API (rc_run, rc_complete_io,
 * rc_inject_exception, rc_set_intercept).
 *
 * One step: translate RIP, find the decoded instruction in the cache (keyed
 * by physical address and code size) or fetch and decode it, run its
 * handler, and turn what the handler returned into the next step, an
 * exception delivery, or an exit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "exec.h"

rc_fault rc_unsupported(rc_cpu *cpu, const char *what)
{
    cpu->unsupported_what = what;
    return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 };
}

/* ------------------------------------------------------------------ icache */

static inline unsigned icache_index(uint64_t phys)
{
    return (unsigned)((phys ^ (phys >> 12)) & (RC_ICACHE_SIZE - 1));
}

static void mark_code_page(rc_cpu *cpu, uint64_t phys)
{
    uint64_t pn = phys >> RC_PAGE_SHIFT;
    if (pn < cpu->code_pages_limit)
        cpu->code_pages[pn >> 3] |= (uint8_t)(1u << (pn & 7));
}

void rc_icache_invalidate_page(rc_cpu *cpu, uint64_t phys)
{
    uint64_t page = phys & RC_PAGE_MASK;
    uint64_t pn = page >> RC_PAGE_SHIFT;
    cpu->code_gen++;
    if (cpu->icache)
        for (unsigned i = 0; i < RC_ICACHE_SIZE; i++) {
            uint64_t p = cpu->icache[i].phys;
            if (p && ((p - 1) & RC_PAGE_MASK) == page)
                cpu->icache[i].phys = 0;
        }
    if (cpu->blocks)
        for (unsigned i = 0; i < RC_BLOCK_CACHE; i++) {
            uint64_t p = cpu->blocks[i].phys;
            if (p && ((p - 1) & RC_PAGE_MASK) == page)
                cpu->blocks[i].phys = 0;
        }
    if (pn < cpu->code_pages_limit)
        cpu->code_pages[pn >> 3] &= (uint8_t)~(1u << (pn & 7));
}

void rc_icache_flush_all(rc_cpu *cpu)
{
    cpu->code_gen++;
    if (cpu->icache)
        memset(cpu->icache, 0, RC_ICACHE_SIZE * sizeof(*cpu->icache));
    if (cpu->blocks)
        for (unsigned i = 0; i < RC_BLOCK_CACHE; i++)
            cpu->blocks[i].phys = 0;
    if (cpu->code_pages)
        memset(cpu->code_pages, 0, (size_t)(cpu->code_pages_limit / 8));
}

rc_status rc_invalidate_code(rc_cpu *cpu, uint64_t gpa, uint64_t size)
{
    if (!cpu || gpa + size < gpa)
        return RC_ERR_INVALID_ARG;
    if (size == 0)
        return RC_OK;
    for (uint64_t p = gpa & RC_PAGE_MASK; p < gpa + size && p >= (gpa & RC_PAGE_MASK);
         p += RC_PAGE_SIZE)
        if (rc_icache_page_has_code(cpu, p))
            rc_icache_invalidate_page(cpu, p);
    return RC_OK;
}

/* ------------------------------------------------------------------ fetch + decode */

/* Physical address of the instruction at linear address 'lin': the page
 * of the previous fetch is remembered (cpu->fetch_tag) until the TLB is
 * flushed or the CPL changes, so sequential code costs no translation. */
static inline rc_fault fetch_phys(rc_cpu *cpu, uint64_t lin, uint64_t *phys)
{
    uint64_t tag = (lin >> RC_PAGE_SHIFT) + 1;
    if (__builtin_expect(tag == cpu->fetch_tag && cpu->cpl == cpu->fetch_cpl, 1)) {
        *phys = cpu->fetch_phys | (lin & (RC_PAGE_SIZE - 1));
        return RC_NOFAULT;
    }
    TRY(rc_translate(cpu, lin, RC_ACC_EXEC, phys));
    cpu->fetch_tag = tag;
    cpu->fetch_cpl = cpu->cpl;
    cpu->fetch_phys = *phys & RC_PAGE_MASK;
    return RC_NOFAULT;
}

/* Fetch and decode the instruction at cpu->rip (slow path: the cache
 * missed or cannot be used). The result points into the cache or at
 * 'scratch'. */
static rc_fault fetch_decode_slow(rc_cpu *cpu, rc_insn *scratch, bool have_phys, uint64_t phys,
                                  const rc_insn **out)
{
    uint64_t rip = cpu->rip;
    cpu->cur_insn = NULL;
    uint8_t buf[15];
    unsigned got = 0;
    TRY(rc_fetch(cpu, rip, buf, sizeof(buf), &got));
    rc_fault f = rc_decode(cpu, buf, got, cpu->code_size, scratch);
    if (f.kind == RCF_EXCEPTION && f.vector == RC_DECODE_NEED_MORE) {
        /* The instruction runs into bytes that cannot be fetched: raise the
         * fetch fault for the first missing byte. */
        unsigned got2 = 0;
        uint8_t b;
        f = rc_fetch(cpu, rip + got, &b, 1, &got2);
        if (!RC_FAILED(f)) {
            cpu->fault_reason = "instruction fetch failed";
            return rc_exc_err(RC_EXC_GP, 0);
        }
        return f;
    }
    memcpy(scratch->bytes, buf, scratch->len <= 15 ? scratch->len : 15);
    if (RC_FAILED(f)) {
        cpu->cur_insn = scratch; /* keep the bytes for the exit record */
        return f;
    }
    rc_specialize(cpu, scratch);
    *out = scratch;

    /* Cache it when it lies in one RAM page (no MMIO code, no page cross)
     * whose writes the code-page bitmap can see. */
    if (have_phys && cpu->icache && ((phys & 0xfff) + scratch->len <= RC_PAGE_SIZE) &&
        (phys >> RC_PAGE_SHIFT) < cpu->code_pages_limit && rc_bus_host_page(cpu, phys, false) &&
        !cpu->have_hooks_slow) {
        rc_icache_entry *e = &cpu->icache[icache_index(phys)];
        e->phys = phys + 1;
        e->mode_key = cpu->code_size;
        e->insn = *scratch;
        mark_code_page(cpu, phys);
        *out = &e->insn;
    }
    return RC_NOFAULT;
}

static inline rc_fault fetch_decode(rc_cpu *cpu, const rc_insn **out)
{
    uint64_t rip = cpu->rip;
    uint64_t phys = 0;
    bool have_phys = false;

    /* Cached? The translation performs the execute permission check; the
     * CS limit check for cached entries is below. A translation fault is
     * re-raised by rc_fetch in the slow path with all its checks. */
    if (__builtin_expect(cpu->icache != NULL, 1) && (cpu->code_size == 8 ? rc_is_canonical(rip) : 1)) {
        uint64_t lin =
            cpu->code_size == 8 ? rip : (cpu->seg[RC_SEG_CS].base + rip) & 0xffffffffull;
        rc_fault f = fetch_phys(cpu, lin, &phys);
        if (__builtin_expect(!RC_FAILED(f), 1)) {
            have_phys = true;
            rc_icache_entry *e = &cpu->icache[icache_index(phys)];
            if (__builtin_expect(e->phys == phys + 1 && e->mode_key == cpu->code_size, 1)) {
                if (cpu->code_size != 8 &&
                    __builtin_expect(rip + e->insn.len - 1 > cpu->seg[RC_SEG_CS].limit, 0)) {
                    /* SDM Vol. 3A 5.3: fetching past the CS limit -> #GP(0). */
                    cpu->fault_reason = "instruction fetch beyond the CS limit";
                    return rc_exc_err(RC_EXC_GP, 0);
                }
                *out = &e->insn;
                return RC_NOFAULT;
            }
        } else if (f.kind != RCF_EXCEPTION) {
            return f;
        }
    }
    return fetch_decode_slow(cpu, &cpu->decode_scratch, have_phys, phys, out);
}

/* The fast system calls decide their single-step trap themselves, from
 * RFLAGS as they leave it (src/syscall/fast.c). */
static bool self_single_step(const rc_insn *in)
{
    rc_exec_fn x = in->exec;
    return x == ex_syscall || x == ex_sysret || x == ex_sysenter || x == ex_sysexit;
}

/* Instructions that transfer privilege or load SS: single-stepping them
 * has rules of its own (SDM Vol. 3A 18.3.1.4, 6.8.3) not modeled yet. */
static bool special_single_step(const rc_insn *in)
{
    rc_exec_fn x = in->exec;
    if (x == ex_int || x == ex_int3 || x == ex_into || x == ex_int1 || x == ex_iret ||
        x == ex_call_far || x == ex_jmp_far || x == ex_retf || x == ex_hlt)
        return true;
    if (x == ex_grp5) {
        unsigned r = (in->modrm >> 3) & 7;
        return r == 3 || r == 5;
    }
    return false;
}

/* MOV SS and POP SS hold off the single-step trap (and interrupts) until
 * after the next instruction: SDM Vol. 3A 7.8.3 "Masking Exceptions and
 * Interrupts When Switching Stacks" (6.8.3 in older editions). LSS and the
 * other segment loads do not (measured on this host's CPU: the native
 * vectors of segments/movss-native.json); a second MOV SS right after the
 * first holds the trap off again (the same vectors). */
static bool loads_ss_with_shadow(const rc_insn *in)
{
    if (in->exec == ex_mov_to_sreg)
        return (in->modrm >> 3 & 7) == RC_SEG_SS;
    return in->exec == ex_pop_seg && in->map == RC_MAP_1BYTE && in->opcode == 0x17;
}

/* ------------------------------------------------------------------ one step */

/* The rarely needed per-instruction work: hardware breakpoints, the
 * instruction hook, CPL-0-only instructions and single-stepping. */
static rc_fault step_slow(rc_cpu *cpu, const rc_insn *in, uint64_t next)
{
    /* Hardware breakpoints are not modeled: say so rather than ignore them. */
    if (cpu->dr[7] & 0xff)
        return rc_unsupported(cpu, "hardware breakpoints (DR7 L0-3/G0-3 enabled)");

    if (cpu->hooks.insn) {
        rc_hook_action a =
            cpu->hooks.insn(cpu->hooks.opaque, cpu, cpu->insn_rip, in->bytes, in->len);
        if (a == RC_HOOK_STOP || a == RC_HOOK_VETO) {
            cpu->exit_pending.reason = RC_EXIT_HOOK;
            cpu->exit_restart = true;
            return (rc_fault){ RCF_EXIT, 0, 0, 0, 0 };
        }
    }

    /* CPL-0-only instructions (decode-table fact): #GP(0) otherwise. */
    if ((in->flags & RC_OPF_PRIV) && cpu->cpl != 0) {
        cpu->fault_reason = "privileged instruction executed at CPL > 0";
        return rc_exc_err(RC_EXC_GP, 0);
    }

    bool tf = (cpu->rflags & RC_FLAG_TF) != 0;
    if (tf && special_single_step(in))
        return rc_unsupported(cpu, "single-step (RFLAGS.TF) across a privilege transition "
                                   "(INT, IRET, far CALL/JMP/RET) or HLT");

    cpu->rip = next;
    TRY(in->exec(cpu, in));
    cpu->icount_total++;

    if (tf && !self_single_step(in) && !loads_ss_with_shadow(in)) {
        /* Single-step trap after the instruction: SDM Vol. 3A 18.3.1.4,
         * DR6.BS = 1, RIP = the next instruction. */
        cpu->dr[6] |= 1ull << 14;
        cpu->fault_reason = "single-step trap (RFLAGS.TF was set)";
        cpu->single_step_trap = true;
        return rc_exc(RC_EXC_DB);
    }
    return RC_NOFAULT;
}

static inline rc_fault step(rc_cpu *cpu)
{
    const rc_insn *in;
    uint64_t rip = cpu->rip;
    cpu->insn_rip = rip;
    TRY(fetch_decode(cpu, &in));
    cpu->cur_insn = in;

    uint64_t next = rip + in->len;
    if (cpu->code_size != 8)
        next &= 0xffffffffull;
    if (__builtin_expect(((cpu->dr[7] & 0xff) | (cpu->rflags & RC_FLAG_TF) |
                          (in->flags & RC_OPF_PRIV)) != 0 ||
                             cpu->hooks.insn,
                         0))
        return step_slow(cpu, in, next);

    cpu->rip = next;
    TRY(in->exec(cpu, in));
    cpu->icount_total++;
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ blocks */

/* Instructions that may run inside a block: ordinary instructions that
 * cannot change the mode, CPL, CS, SS, paging, TF, IF or the interrupt
 * shadow, and do not end the run by design. A near branch may end a block.
 * Anything else runs through step(). (Checked on the generic handler,
 * before rc_specialize.) */
static bool block_member(const rc_insn *in)
{
    static const rc_exec_fn ok[] = {
        ex_alu, ex_grp1, ex_test, ex_incdec_r, ex_grp2, ex_grp3, ex_grp4, ex_imul2, ex_imul3,
        ex_shxd, ex_bt, ex_bsf_bsr, ex_bcd, ex_salc, ex_cbw, ex_cwd, ex_sahf, ex_lahf, ex_flagop,
        ex_setcc, ex_cmovcc, ex_bswap, ex_movzx, ex_movsx, ex_movsxd, ex_xadd, ex_cmpxchg,
        ex_xchg, ex_xchg_ax, ex_mov, ex_mov_r_imm, ex_mov_rm_imm, ex_lea, ex_mov_moffs, ex_xlat,
        ex_push_r, ex_pop_r, ex_push_imm, ex_pop_rm, ex_pusha, ex_popa, ex_enter, ex_leave,
        ex_nop, ex_movs, ex_cmps, ex_stos, ex_lods, ex_scas,
        /* near branches: allowed, and they end the block */
        ex_jcc, ex_jmp_rel, ex_call_rel, ex_ret_near, ex_loop, ex_jcxz,
    };
    if (in->exec == ex_grp5) {
        unsigned r = (in->modrm >> 3) & 7; /* INC DEC CALL JMP PUSH, not CALLF/JMPF */
        return r != 3 && r != 5 && r != 7;
    }
    for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (in->exec == ok[i])
            return true;
    return false;
}

static inline unsigned block_index(uint64_t phys)
{
    return (unsigned)((phys ^ (phys >> 10)) & (RC_BLOCK_CACHE - 1));
}

/* Decode the block starting at cpu->rip (physical 'phys', one page). */
static void block_build(rc_cpu *cpu, rc_block *b, uint64_t phys)
{
    b->phys = phys + 1;
    b->mode_key = cpu->code_size;
    b->n = 0;
    b->bytes = 0;
    uint8_t *host = rc_bus_host_page(cpu, phys, false);
    if (!host || cpu->have_hooks_slow || (phys >> RC_PAGE_SHIFT) >= cpu->code_pages_limit)
        return;
    unsigned off = (unsigned)(phys & (RC_PAGE_SIZE - 1));
    while (b->n < RC_BLOCK_MAX) {
        unsigned avail = (unsigned)RC_PAGE_SIZE - off;
        rc_insn *in = &b->insn[b->n];
        rc_fault f = rc_decode(cpu, host + off, avail < 15 ? avail : 15, cpu->code_size, in);
        if (RC_FAILED(f) || !block_member(in))
            break; /* ends before it; step() will raise or run it */
        memcpy(in->bytes, host + off, in->len);
        rc_specialize(cpu, in);
        b->n++;
        b->bytes = (uint16_t)(b->bytes + in->len);
        off += in->len;
        if (in->flags & RC_OPF_BRANCH)
            break;
    }
    mark_code_page(cpu, phys);
}

/* Run the block at cpu->rip, at most 'budget' instructions. *done counts
 * the instructions attempted (retired, plus a faulting one). Returns
 * false when no block applies (run step() instead). */
static inline bool block_run(rc_cpu *cpu, uint64_t budget, uint64_t *done, rc_fault *fault)
{
    uint64_t rip = cpu->rip, phys;
    uint64_t lin = cpu->code_size == 8 ? rip : (cpu->seg[RC_SEG_CS].base + rip) & 0xffffffffull;
    if (cpu->code_size == 8 && !rc_is_canonical(rip))
        return false;
    if (RC_FAILED(fetch_phys(cpu, lin, &phys)))
        return false;
    rc_block *b = &cpu->blocks[block_index(phys)];
    if (b->phys != phys + 1 || b->mode_key != cpu->code_size)
        block_build(cpu, b, phys);
    if (b->n == 0)
        return false;
    /* SDM Vol. 3A 5.3: every byte fetched must lie within the CS limit. */
    if (cpu->code_size != 8 && rip + b->bytes - 1 > cpu->seg[RC_SEG_CS].limit)
        return false;

    uint32_t gen = cpu->code_gen;
    uint64_t wrap = cpu->code_size == 8 ? ~0ull : 0xffffffffull;
    unsigned n = b->n < budget ? b->n : (unsigned)budget;
    unsigned i = 0;
    while (i < n) {
        const rc_insn *in = &b->insn[i];
        uint64_t next = (rip + in->len) & wrap;
        cpu->insn_rip = rip;
        cpu->cur_insn = in;
        cpu->rip = next;
        rc_fault f = in->exec(cpu, in);
        if (__builtin_expect(RC_FAILED(f), 0)) {
            cpu->icount_total += i; /* retired */
            *done = i + 1;          /* attempted, the faulting one included */
            *fault = f;
            return true;
        }
        i++;
        /* A taken branch, a REP that continues, or a store into cached
         * code ends the block. */
        if (cpu->rip != next || cpu->code_gen != gen)
            break;
        rip = next;
    }
    cpu->icount_total += i;
    *done = i;
    *fault = RC_NOFAULT;
    return true;
}

static void fill_insn_bytes(rc_cpu *cpu, uint64_t *lin, uint8_t *len, uint8_t bytes[15])
{
    uint64_t rip = cpu->insn_rip;
    *lin = cpu->code_size == 8 ? rip : (cpu->seg[RC_SEG_CS].base + rip) & 0xffffffffull;
    if (cpu->cur_insn && cpu->cur_insn->len) {
        *len = cpu->cur_insn->len;
        memcpy(bytes, cpu->cur_insn->bytes, 15);
        return;
    }
    /* Best effort, without side effects. */
    *len = 0;
    for (unsigned i = 0; i < 15; i++) {
        if (rc_read_linear(cpu, *lin + i, &bytes[i], 1) != RC_OK)
            break;
        *len = (uint8_t)(i + 1);
    }
}

/* ------------------------------------------------------------------ rc_run */

rc_status rc_run(rc_cpu *cpu, uint64_t max_insns, rc_exit *exit)
{
    if (!cpu || !exit)
        return RC_ERR_INVALID_ARG;
    memset(exit, 0, sizeof(*exit));
    if (cpu->exit_pending.reason != RC_EXIT_NONE) {
        /* An exit decided outside rc_run (e.g. rc_inject_exception ended in
         * shutdown) is reported first. */
        *exit = cpu->exit_pending;
        memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
        return RC_OK;
    }
    if (!cpu->blocks)
        cpu->blocks = calloc(RC_BLOCK_CACHE, sizeof(*cpu->blocks)); /* NULL: no blocks */
    uint64_t n = 0;
    for (;;) {
        if (max_insns && n >= max_insns) {
            exit->reason = RC_EXIT_LIMIT;
            break;
        }
        rc_fault f;
        uint64_t done = 0;
        /* Blocks while nothing needs per-instruction attention. */
        if (__builtin_expect(cpu->blocks && cpu->icache && !cpu->hooks.insn &&
                                 !cpu->have_hooks_slow &&
                                 !((cpu->dr[7] & 0xff) | (cpu->rflags & RC_FLAG_TF)),
                             1) &&
            block_run(cpu, max_insns ? max_insns - n : ~0ull, &done, &f)) {
            n += done;
        } else {
            f = step(cpu);
            n++;
        }
        if (__builtin_expect(!RC_FAILED(f), 1))
            continue;

        if (f.kind == RCF_EXCEPTION) {
            /* Faults restart the instruction (RIP at it); the #DB single-step
             * trap and traps raised by handlers have set RIP already. */
            if (!cpu->single_step_trap)
                cpu->rip = cpu->insn_rip;
            cpu->single_step_trap = false;
            f = rc_raise_exception(cpu, f);
            cpu->fault_reason = NULL;
            if (!RC_FAILED(f))
                continue;
        }
        if (f.kind == RCF_EXIT) {
            if (cpu->exit_restart)
                cpu->rip = cpu->insn_rip;
            cpu->exit_restart = false;
            rc_exit_reason r = cpu->exit_pending.reason;
            *exit = cpu->exit_pending;
            exit->reason = r;
            memset(&cpu->exit_pending, 0, sizeof(cpu->exit_pending));
            if (r == RC_EXIT_HLT || r == RC_EXIT_SHUTDOWN)
                cpu->halted = true;
            break;
        }
        if (f.kind == RCF_UNSUPPORTED) {
            cpu->rip = cpu->insn_rip;
            exit->reason = RC_EXIT_UNSUPPORTED;
            fill_insn_bytes(cpu, &exit->u.unsupported.rip, &exit->u.unsupported.len,
                            exit->u.unsupported.bytes);
            exit->u.unsupported.what =
                cpu->unsupported_what ? cpu->unsupported_what : "unsupported instruction";
            break;
        }
        /* A fault kind the loop does not know: a bug in ringcore itself.
         * Stop with a message instead of continuing in a wrong state. */
        cpu->rip = cpu->insn_rip;
        exit->reason = RC_EXIT_UNSUPPORTED;
        fill_insn_bytes(cpu, &exit->u.unsupported.rip, &exit->u.unsupported.len,
                        exit->u.unsupported.bytes);
        exit->u.unsupported.what = "internal error: unexpected fault kind";
        break;
    }
    exit->icount = n;
    return RC_OK;
}

rc_status rc_complete_io(rc_cpu *cpu, uint64_t value)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    cpu->io_pending = true;
    cpu->io_value = value;
    return RC_OK;
}

rc_status rc_set_intercept(rc_cpu *cpu, uint32_t vector_mask)
{
    if (!cpu)
        return RC_ERR_INVALID_ARG;
    cpu->intercept_mask = vector_mask;
    return RC_OK;
}

rc_status rc_inject_exception(rc_cpu *cpu, uint8_t vector, int has_error_code,
                              uint32_t error_code, uint64_t cr2)
{
    if (!cpu || vector >= 32)
        return RC_ERR_INVALID_ARG;
    if (vector == RC_EXC_PF)
        cpu->cr2 = cr2;
    cpu->insn_rip = cpu->rip;
    cpu->cur_insn = NULL;
    cpu->fault_reason = "injected by the embedder";
    rc_fault f = rc_deliver(cpu, vector, has_error_code != 0, error_code, false, cpu->rip);
    if (f.kind == RCF_NONE)
        return RC_OK;
    if (f.kind == RCF_EXIT) {
        /* Shutdown or an intercepted nested fault: the next rc_run reports it. */
        return RC_OK;
    }
    return RC_ERR_STATE;
}

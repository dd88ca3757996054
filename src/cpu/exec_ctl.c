/*
 * exec_ctl.c - near control flow: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JCXZ,
 * the FF group (INC DEC CALL CALLF JMP JMPF PUSH), BOUND, the NOP forms and
 * UD0/UD1/UD2. The stack instructions are in exec_stack.c, the string and
 * port-I/O instructions in exec_string.c, far transfers in src/syscall/.
 *
 * Operand size of near branches: the decoder (RC_OPF_FORCE64) already
 * decided it. In 64-bit mode it is 64 bits; a 66 prefix is ignored by Intel
 * (SDM Vol. 2A 2.2.1.3; Vol. 2A 3.3 "JMP"/"CALL"/"Jcc": in 64-bit mode the
 * operation size is fixed at 64 bits) but honoured by AMD, which then branches to a
 * 16-bit target and pushes/pops 16-bit return addresses (APM Vol. 3 1.2.2,
 * "near branches ... can be overridden to 16 bits"). Handlers only use
 * in->opsize.
 */
#include "exec.h"

#define REG_RCX 1
#define CC_E 4 /* condition code "E/Z" (SDM Vol. 2D B.1.4 Table B-1) */

/* ------------------------------------------------------------------ near targets */

/* The target of a near branch, validated (SDM Vol. 2A 3.3 "JMP", "CALL",
 * "Jcc", Vol. 2B 4.3 "RET" pseudo-code):
 *   OperandSize 16: tempEIP <- target AND 0000FFFFH ("IP <- (IP + rel)
 *     AND 0xFFFF"); 32: AND FFFFFFFFH; 64: the full value.
 *   64-bit mode: a non-canonical target raises #GP(0) at the branch itself
 *     (RIP is the branch, nothing changed).
 *   Elsewhere: "IF tempEIP is not within code segment limit THEN #GP(0)". */
static rc_fault near_target(rc_cpu *cpu, uint64_t target, unsigned os, uint64_t *out)
{
    target &= rc_size_mask(os);
    if (cpu->code_size == 8) {
        FAULT_IF(cpu, !rc_is_canonical(target), RC_EXC_GP, 0,
                 "near branch to a non-canonical address (SDM JMP/CALL/RET: #GP(0))");
    } else {
        FAULT_IF(cpu, target > cpu->seg[RC_SEG_CS].limit, RC_EXC_GP, 0,
                 "near branch target beyond the CS limit (SDM JMP/CALL/RET: #GP(0))");
    }
    *out = target;
    return RC_NOFAULT;
}

/* Jump to a validated target. */
static rc_fault near_jump(rc_cpu *cpu, uint64_t target, unsigned os)
{
    uint64_t t;
    TRY(near_target(cpu, target, os, &t));
    cpu->rip = t;
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "CALL" (near): tempRIP <- target; check it; Push(return
 * address of the operand size: IP, EIP or RIP); RIP <- tempRIP. The push
 * faults with #SS(0) (or #PF) before anything changed. */
static rc_fault near_call(rc_cpu *cpu, uint64_t target, unsigned os)
{
    uint64_t t;
    TRY(near_target(cpu, target, os, &t));
    TRY(rc_push(cpu, cpu->rip, os));
    cpu->rip = t;
    return RC_NOFAULT;
}

/* ------------------------------------------------------------------ relative branches */

/* SDM Vol. 2A 3.3 "Jcc": IF condition THEN tempEIP <- EIP + SignExtend(DEST)
 * (truncated to the operand size, CS-limit / canonical check). The
 * condition is the low nibble of the opcode (70-7F and 0F 80-8F). */
RC_HANDLER(ex_jcc)
{
    if (!rc_cond(cpu, in->opcode & 0xfu))
        return RC_NOFAULT;
    return near_jump(cpu, cpu->rip + in->imm, in->opsize);
}

/* SDM Vol. 2A 3.3 "JMP" (EB cb, E9 cw/cd): relative to the next instruction. */
RC_HANDLER(ex_jmp_rel)
{
    return near_jump(cpu, cpu->rip + in->imm, in->opsize);
}

/* SDM Vol. 2A 3.3 "CALL" (E8 cw/cd). */
RC_HANDLER(ex_call_rel)
{
    return near_call(cpu, cpu->rip + in->imm, in->opsize);
}

/* SDM Vol. 2B 4.3 "RET" (near, C3 and C2 iw): tempEIP <- Pop() of the
 * operand size; check it (#GP(0), nothing changed: RSP is put back); then
 * "IF instruction has immediate operand THEN (R/E)SP <- (R/E)SP + SRC",
 * the stack pointer of the stack-address size. */
RC_HANDLER(ex_ret_near)
{
    unsigned os = in->opsize;
    uint64_t old_rsp = cpu->gpr[4], v, t;
    TRY(rc_pop(cpu, os, &v));
    rc_fault f = near_target(cpu, v, os, &t);
    if (RC_FAILED(f)) {
        cpu->gpr[4] = old_rsp;
        return f;
    }
    if (in->opcode == 0xC2) {
        unsigned ss = cpu->stack_size;
        rc_set_gpr(cpu, 4, ss, true, (cpu->gpr[4] + (in->imm & 0xffff)) & rc_size_mask(ss));
    }
    cpu->rip = t;
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "LOOP/LOOPcc": the count register is CX, ECX or RCX by
 * the ADDRESS size; Count <- Count - 1; branch if Count != 0 (and ZF = 1
 * for LOOPE E1, ZF = 0 for LOOPNE E0). The decrement is committed together
 * with the branch, so a #GP(0) on the target leaves rCX unchanged. */
RC_HANDLER(ex_loop)
{
    unsigned as = in->addrsize;
    uint64_t count = (rc_get_gpr(cpu, REG_RCX, as, true) - 1) & rc_size_mask(as);
    bool take = count != 0;
    if (take && in->opcode == 0xE1)
        take = rc_cond(cpu, CC_E);
    else if (take && in->opcode == 0xE0)
        take = !rc_cond(cpu, CC_E);
    uint64_t t = 0;
    if (take)
        TRY(near_target(cpu, cpu->rip + in->imm, in->opsize, &t));
    rc_set_gpr(cpu, REG_RCX, as, true, count);
    if (take)
        cpu->rip = t;
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "Jcc" (E3: JCXZ/JECXZ/JRCXZ): branch if CX/ECX/RCX, chosen
 * by the address size, is 0. */
RC_HANDLER(ex_jcxz)
{
    if (rc_get_gpr(cpu, REG_RCX, in->addrsize, true) != 0)
        return RC_NOFAULT;
    return near_jump(cpu, cpu->rip + in->imm, in->opsize);
}

/* ------------------------------------------------------------------ FF group */

/* SDM Vol. 2A 3.3 "INC" / "DEC" (FF /0, /1): "The CF flag is not affected";
 * OF SF ZF AF PF from the result (recorded lazily with the old CF). */
static rc_fault grp5_incdec(rc_cpu *cpu, const rc_insn *in, bool dec)
{
    unsigned os = in->opsize;
    uint64_t v;
    TRY(rc_rm_read(cpu, in, os, RC_ACC_RMW, &v));
    uint64_t res = (dec ? v - 1 : v + 1) & rc_size_mask(os);
    TRY(rc_rm_write(cpu, in, os, res));
    bool cf = rc_get_cf(cpu);
    rc_lazy(cpu, dec ? LZ_DEC : LZ_INC, os, res, v, 1);
    cpu->lz_cf_in = cf;
    return RC_NOFAULT;
}

/* SDM Vol. 2A 3.3 "CALL"/"JMP" far indirect (FF /3, FF /5): the operand is
 * a far pointer in memory, offset (operand size) then 16-bit selector. The
 * operand is "Ep" (SDM Vol. 2D A.2.1: memory only), so a register form is
 * #UD -- measured on the AMD EPYC host (FF D8, FF E8 raise SIGILL). Offset width in 64-bit mode with REX.W: Intel reads m16:64;
 * AMD has no m16:64 form (APM Vol. 3 "CALL (Far)"/"JMP (Far)" list only
 * mem16:16 and mem16:32) and reads m16:32 -- measured on the AMD EPYC host:
 * REX.W FF /5 over {offset64 < 4 GiB, 0x33} raises #GP (selector read from
 * offset bytes 4-5 = 0). */
static rc_fault grp5_far(rc_cpu *cpu, const rc_insn *in, bool call)
{
    FAULT_NOERR_IF(cpu, in->mod == 3, RC_EXC_UD, "far CALL/JMP through a register operand");
    /* The pointer: m16:16, m16:32, or with REX.W m16:64 on Intel; AMD reads
     * m16:32 under REX.W (APM Vol. 3 CALL/JMP (Far): no m16:64 form) but
     * keeps the 64-bit operand size, so a far CALL pushes 8-byte CS and RIP
     * slots (measured on this host: segments/far6.json
     * f6-callf-rexw-m1632-amd-long). */
    unsigned os = in->opsize, ptr = os;
    if (os == 8 && cpu->model && cpu->model->vendor == RC_VENDOR_AMD)
        ptr = 4;
    uint64_t ea = rc_effective_addr(cpu, in), off, sel;
    TRY(rc_read(cpu, in->seg, ea, ptr, RC_ACC_READ, &off));
    TRY(rc_read(cpu, in->seg, (ea + ptr) & rc_size_mask(in->addrsize), 2, RC_ACC_READ, &sel));
    if (call)
        return rc_far_call(cpu, (uint16_t)sel, off, os);
    return rc_far_jmp(cpu, (uint16_t)sel, off, os);
}

/* FF: INC DEC CALL CALLF JMP JMPF PUSH, /7 reserved (#UD; SDM Vol. 2D
 * Table A-6 "Opcode Extensions for One- and Two-byte Opcodes", group 5). */
RC_HANDLER(ex_grp5)
{
    unsigned os = in->opsize;
    uint64_t v;
    switch ((in->modrm >> 3) & 7) {
    case 0: return grp5_incdec(cpu, in, false);
    case 1: return grp5_incdec(cpu, in, true);
    case 2: /* SDM CALL: near, absolute indirect (target read before the push) */
        TRY(rc_rm_read(cpu, in, os, RC_ACC_READ, &v));
        return near_call(cpu, v, os);
    case 3: return grp5_far(cpu, in, true);
    case 4: /* SDM JMP: near, absolute indirect */
        TRY(rc_rm_read(cpu, in, os, RC_ACC_READ, &v));
        return near_jump(cpu, v, os);
    case 5: return grp5_far(cpu, in, false);
    case 6: /* SDM PUSH r/m: the address uses rSP before the decrement */
        TRY(rc_rm_read(cpu, in, os, RC_ACC_READ, &v));
        return rc_push(cpu, v, os);
    default:
        cpu->fault_reason = "FF /7 is a reserved encoding (SDM Table A-6)";
        return rc_exc(RC_EXC_UD);
    }
}

/* ------------------------------------------------------------------ BOUND, NOP, UD */

/* SDM Vol. 2A 3.3 "BOUND": the array index (signed, operand size) must lie
 * within [lower, upper], both read from the memory operand (lower at EA,
 * upper at EA + operand size); otherwise #BR (a fault: RIP at BOUND).
 * "#UD If second operand is not a memory location." Invalid in 64-bit
 * mode (decode table). */
RC_HANDLER(ex_bound)
{
    FAULT_NOERR_IF(cpu, in->mod == 3, RC_EXC_UD, "BOUND with a register operand");
    unsigned os = in->opsize;
    uint64_t ea = rc_effective_addr(cpu, in), lo, hi;
    TRY(rc_read(cpu, in->seg, ea, os, RC_ACC_READ, &lo));
    TRY(rc_read(cpu, in->seg, (ea + os) & rc_size_mask(in->addrsize), os, RC_ACC_READ, &hi));
    int64_t idx = rc_sext(rc_get_gpr(cpu, in->reg, os, true), os);
    FAULT_NOERR_IF(cpu, idx < rc_sext(lo, os) || idx > rc_sext(hi, os), RC_EXC_BR,
                   "BOUND: array index outside the bounds (SDM BOUND: #BR)");
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "NOP" (0F 1F /0 "NOP r/m"), the 0F 18-1F hint space and
 * PREFETCH/PREFETCHW (0F 0D): no architectural effect, no memory access
 * (prefetches never fault). 0F 0D with a register operand is #UD: measured
 * on the AMD EPYC host (0F 0D C0 and 0F 0D C8 raise SIGILL), and QEMU and
 * Bochs decode it as memory-only for both vendors. */
RC_HANDLER(ex_nop)
{
    if (in->map == RC_MAP_0F && in->opcode == 0x0D)
        FAULT_NOERR_IF(cpu, in->has_modrm && in->mod == 3, RC_EXC_UD,
                       "PREFETCH (0F 0D) with a register operand");
    return RC_NOFAULT;
}

/* SDM Vol. 2B 4.3 "UD": UD0 (0F FF), UD1 (0F B9), UD2 (0F 0B) always raise
 * #UD; their ModRM is part of the encoding (decoded for the length). */
RC_HANDLER(ex_ud)
{
    (void)in;
    cpu->fault_reason = "UD0/UD1/UD2: defined invalid opcode (SDM UD)";
    return rc_exc(RC_EXC_UD);
}

/*
 * operand.c - the r/m operand of a ModRM instruction, register or memory.
 */
#include "exec.h"

rc_fault rc_rm_read(rc_cpu *cpu, const rc_insn *in, unsigned size, rc_access acc, uint64_t *v)
{
    if (in->mod == 3) {
        *v = rc_get_gpr(cpu, in->rm, size, in->rex != 0);
        return RC_NOFAULT;
    }
    return rc_read(cpu, in->seg, rc_effective_addr(cpu, in), size, acc, v);
}

rc_fault rc_rm_write(rc_cpu *cpu, const rc_insn *in, unsigned size, uint64_t v)
{
    if (in->mod == 3) {
        rc_set_gpr(cpu, in->rm, size, in->rex != 0, v);
        return RC_NOFAULT;
    }
    return rc_write(cpu, in->seg, rc_effective_addr(cpu, in), size, v);
}

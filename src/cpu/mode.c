/*
 * mode.c - the operating mode derived from CR0, EFER, CS and RFLAGS.VM.
 *
 * SDM Vol. 3A 2.2 (modes), 9.8.5 (IA-32e activation: LMA = LME & PG),
 * 4.1.1 (paging modes: CR0.PG, CR4.PAE, EFER.LME).
 */
#include "cpu.h"

static const char *const mode_names[] = {
    [RC_MODE_REAL] = "real", [RC_MODE_PROT16] = "prot16", [RC_MODE_PROT32] = "prot32",
    [RC_MODE_VM86] = "vm86", [RC_MODE_COMPAT16] = "compat16", [RC_MODE_COMPAT32] = "compat32",
    [RC_MODE_LONG64] = "long",
};

const char *rc_mode_name(rc_mode mode)
{
    if ((unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]) && mode_names[mode])
        return mode_names[mode];
    return "unknown";
}

rc_mode rc_get_mode(const rc_cpu *cpu)
{
    return cpu ? cpu->mode : RC_MODE_REAL;
}

void rc_update_mode(rc_cpu *cpu)
{
    const rc_segment *cs = &cpu->seg[RC_SEG_CS];
    uint8_t old_paging = cpu->paging;

    /* IA-32e mode is active when paging is enabled with EFER.LME = 1. */
    if ((cpu->cr0 & RC_CR0_PG) && (cpu->efer & RC_EFER_LME))
        cpu->efer |= RC_EFER_LMA;
    else
        cpu->efer &= ~RC_EFER_LMA;

    if (!(cpu->cr0 & RC_CR0_PE)) {
        cpu->mode = RC_MODE_REAL;
        cpu->code_size = cs->db ? 4 : 2; /* a big real-mode CS is possible */
    } else if (cpu->efer & RC_EFER_LMA) {
        if (cs->l) {
            cpu->mode = RC_MODE_LONG64;
            cpu->code_size = 8;
        } else {
            cpu->mode = cs->db ? RC_MODE_COMPAT32 : RC_MODE_COMPAT16;
            cpu->code_size = cs->db ? 4 : 2;
        }
    } else if (cpu->rflags & RC_FLAG_VM) {
        cpu->mode = RC_MODE_VM86;
        cpu->code_size = 2;
    } else {
        cpu->mode = cs->db ? RC_MODE_PROT32 : RC_MODE_PROT16;
        cpu->code_size = cs->db ? 4 : 2;
    }
    if (cpu->mode == RC_MODE_LONG64)
        cpu->stack_size = 8;
    else
        cpu->stack_size = cpu->seg[RC_SEG_SS].db ? 4 : 2;

    if (!(cpu->cr0 & RC_CR0_PG))
        cpu->paging = 0;
    else if (cpu->efer & RC_EFER_LMA)
        cpu->paging = 4;
    else if (cpu->cr4 & RC_CR4_PAE)
        cpu->paging = 3;
    else
        cpu->paging = 2;
    if (cpu->paging != old_paging)
        rc_tlb_flush_all(cpu, false);
}

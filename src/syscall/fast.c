/*
 * fast.c - SYSCALL/SYSRET and SYSENTER/SYSEXIT.
 *
 * These are issue 7. Until then each one stops the run with an explicit
 * "unsupported" exit naming it -- never a silent no-op. (Whether the
 * instruction exists for the vendor and mode is the decode table's
 * decision; what it does will live here.)
 */
#include "exec.h"

RC_HANDLER(ex_syscall)
{
    (void)in;
    return rc_unsupported(cpu, "SYSCALL (fast system calls are issue 7)");
}

RC_HANDLER(ex_sysret)
{
    (void)in;
    return rc_unsupported(cpu, "SYSRET (fast system calls are issue 7)");
}

RC_HANDLER(ex_sysenter)
{
    (void)in;
    return rc_unsupported(cpu, "SYSENTER (fast system calls are issue 7)");
}

RC_HANDLER(ex_sysexit)
{
    (void)in;
    return rc_unsupported(cpu, "SYSEXIT (fast system calls are issue 7)");
}

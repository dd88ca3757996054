#!/bin/sh
# The showcase traces `make run` prints first (see README.md, docs/cli.md).
# Each run's exit status is shown; a non-zero status is how the CLI reports
# an exception, so it does not stop the showcase.
cli="${1:-build/ringcore}"

show() {
    echo "\$ ringcore $*"
    "$cli" "$@"
    echo "(exit status $?)"
    echo
}

# The kernel's SYSRET path with a non-canonical RCX (CVE-2012-0217): the
# kernel has restored the user's RSP, then SYSRET. Intel checks RCX first and
# takes #GP(0) in ring 0 -- on the user's stack; AMD returns to ring 3 and
# faults there, on the kernel stack from the TSS.
sysret='48c7c400f04000 48b90000000000800000 480f07'
echo "== SYSRET with a non-canonical RCX on Intel: #GP(0) in ring 0, frame pushed on the user's stack"
show run --vendor intel --deliver "$sysret"
echo "== the same bytes on AMD: SYSRET returns to ring 3, the fetch at RIP 0x800000000000 faults there"
show run --vendor amd --deliver "$sysret"

echo "== 64-bit code at CPL 0: mov, imul, add, lea, push, hlt"
show run --mode long 'b807000000 b906000000 0fafc1 83c010 488d1440 50 f4'

echo "== HLT at CPL 3 (32-bit protected mode): HLT is privileged -> #GP(0)"
show run --mode prot32 --cpl 3 'f4'

echo "== the same #GP delivered through the IDT: the CPU switches to the ring-0 stack"
show run --mode prot32 --cpl 3 --deliver --quiet 'f4'

echo "== a user-mode read of an unmapped address -> #PF, error code and CR2"
show run --mode long --cpl 3 '8b042500000001'

echo "== real mode: mov ax, 0x1234; add ax, 1; hlt"
show run --mode real 'b83412 050100 f4'

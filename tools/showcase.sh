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

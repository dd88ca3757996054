#!/bin/sh
# The showcase traces `make run` prints (see README.md).
cli="${1:-build/ringcore}"
echo "== ringcore run --mode long: an ordinary trace"
"$cli" run --mode long --max 20 '48c7c0050000004801c0480fafc0f4' || true
echo
echo "== ringcore run --mode prot32 --cpl 3 'f4': HLT at CPL 3"
"$cli" run --mode prot32 --cpl 3 'f4' || true

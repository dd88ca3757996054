#!/bin/bash
# tools/kernel-run.sh: boot the test kernel's disk image (tests/kernel/) under
# QEMU (TCG) or Bochs, never longer than a timeout, and collect its 0xE9 log.
#
#   tools/kernel-run.sh [--vendor intel|amd] [--cpu MODEL] [--timeout SECONDS]
#                       qemu|bochs DISK.img OUTDIR
#
# --vendor picks the CPU model (default intel): QEMU "qemu64,vendor=GenuineIntel"
# or "qemu64,vendor=AuthenticAMD"; Bochs "corei7_skylake_x" or "ryzen".
# --cpu overrides the model (QEMU's -cpu value, Bochs' cpu model= name).
# --timeout bounds the emulator's run (default 30 s; it is killed 5 s later
# if it ignores SIGTERM).
#
# OUTDIR receives:
#   e9.log         the guest's log: the lines of the 0xE9 stream that start
#                  with "ringcore-" (Bochs mixes its own banner and debugger
#                  lines into the same stdout; see tests/kernel/README.md)
#   e9.raw         QEMU only: the 0xE9 stream byte for byte (-debugcon)
#   emulator.out, emulator.err, emulator.status, command
#   bochsrc, bochs.dbgrc, bochs.log, disk.img (Bochs runs on a copy: it
#                  locks and may write its image)
# and the script prints one line: "kernel-run: EMU exit=N seconds=S".
#
# Exit status: the guest's exit code N (0 = clean) when the guest's last
# "ringcore-...: exit N" line is confirmed by the emulator (QEMU ended with
# status (N << 1) | 1 through isa-debug-exit; Bochs reported "Shutdown port:
# shutdown requested"); 124 on timeout; 125 when the emulator ended any other
# way (triple fault, crash, bad configuration: see OUTDIR); 126 when the
# emulator or its BIOS is not installed; 2 on a usage error.

set -u

usage() {
    sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

vendor=intel
cpu=""
timeout_s=30
while [ $# -gt 0 ]; do
    case "$1" in
        --vendor) [ $# -ge 2 ] || usage; vendor=$2; shift 2 ;;
        --cpu) [ $# -ge 2 ] || usage; cpu=$2; shift 2 ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -eq 3 ] || usage
emu=$1
disk=$2
out=$3
case "$vendor" in intel|amd) ;; *) echo "kernel-run: --vendor must be intel or amd" >&2; exit 2 ;; esac
case "$timeout_s" in ''|*[!0-9]*) echo "kernel-run: --timeout takes whole seconds" >&2; exit 2 ;; esac
[ -f "$disk" ] || { echo "kernel-run: no disk image $disk" >&2; exit 2; }
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
disk=$(cd "$(dirname "$disk")" && pwd)/$(basename "$disk")
rm -f "$out/e9.log" "$out/e9.raw" "$out/emulator.out" "$out/emulator.err" \
      "$out/emulator.status" "$out/bochs.log"

now() { date +%s.%N; }

# ---------------------------------------------------------------- QEMU
run_qemu() {
    command -v qemu-system-x86_64 >/dev/null || {
        echo "kernel-run: qemu-system-x86_64 not installed (Debian: qemu-system-x86)" >&2; return 126; }
    if [ -z "$cpu" ]; then
        case "$vendor" in
            intel) cpu="qemu64,vendor=GenuineIntel" ;;
            amd) cpu="qemu64,vendor=AuthenticAMD" ;;
        esac
    fi
    # -accel tcg: never KVM (on this project's hosts /dev/kvm may be a
    # software KVM). QEMU's -drive option parser needs commas doubled.
    # snapshot=on: guest writes go to a temporary overlay, the image stays
    # untouched and several runs can share it.
    local cmd=(qemu-system-x86_64 -accel tcg -machine pc -cpu "$cpu" -m 64 -smp 1
        -nodefaults -display none -no-reboot
        -drive "file=${disk//,/,,},format=raw,if=ide,index=0,media=disk,snapshot=on"
        -debugcon "file:$out/e9.raw"
        -device isa-debug-exit,iobase=0xf4,iosize=0x04)
    printf '%q ' timeout -k 5 "$timeout_s" "${cmd[@]}" >"$out/command"
    echo >>"$out/command"
    timeout -k 5 "$timeout_s" "${cmd[@]}" </dev/null >"$out/emulator.out" 2>"$out/emulator.err"
    local st=$?
    echo "$st" >"$out/emulator.status"
    [ -f "$out/e9.raw" ] || : >"$out/e9.raw"
    grep -a '^ringcore-' "$out/e9.raw" >"$out/e9.log"
    local n
    n=$(guest_exit_code)
    if [ -n "$n" ] && [ "$st" -eq $(( (n << 1) | 1 )) ]; then return "$n"; fi
    case "$st" in 124|137) return 124 ;; esac
    return 125
}

# ---------------------------------------------------------------- Bochs
bochs_plugin_dir() {
    local d
    for d in ${LTDL_LIBRARY_PATH:-} /usr/lib/*/bochs/plugins /usr/lib/bochs/plugins; do
        [ -d "$d" ] && { echo "$d"; return; }
    done
}

run_bochs() {
    command -v bochs >/dev/null || {
        echo "kernel-run: bochs not installed (Debian: bochs bochsbios vgabios bochs-sdl)" >&2; return 126; }
    local bios=/usr/share/bochs/BIOS-bochs-latest vgabios=/usr/share/vgabios/vgabios.bin
    [ -f "$bios" ] || { echo "kernel-run: $bios missing (Debian: bochsbios)" >&2; return 126; }
    [ -f "$vgabios" ] || { echo "kernel-run: $vgabios missing (Debian: vgabios)" >&2; return 126; }
    if [ -z "$cpu" ]; then
        case "$vendor" in
            intel) cpu=corei7_skylake_x ;;
            amd) cpu=ryzen ;;
        esac
    fi
    # Debian's Bochs 2.7 has no "nogui" display library. sdl2 (package
    # bochs-sdl) with SDL's dummy video driver needs no display; rfb (in the
    # bochs package) works too with timeout=0 (do not wait for a VNC client)
    # but listens on a TCP port 5900-5949 for the run.
    local plugins display
    plugins=$(bochs_plugin_dir)
    if [ -n "$plugins" ] && [ -e "$plugins/libbx_sdl2_gui.so" ]; then
        display="display_library: sdl2"
        export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy
    elif [ -n "$plugins" ] && [ -e "$plugins/libbx_rfb_gui.so" ]; then
        display='display_library: rfb, options="timeout=0"'
    else
        echo "kernel-run: no usable Bochs display library (Debian: bochs-sdl)" >&2
        return 126
    fi
    cp "$disk" "$out/disk.img" || return 125
    rm -f "$out/disk.img.lock"
    local size geometry=""
    size=$(stat -c %s "$out/disk.img")
    # A whole number of 16-head, 63-sector cylinders: give Bochs the geometry
    # (otherwise it guesses one from the size and logs an error line).
    if [ $((size % (16 * 63 * 512))) -eq 0 ]; then
        geometry=", cylinders=$((size / (16 * 63 * 512))), heads=16, spt=63"
    fi
    cat >"$out/bochsrc" <<EOF
# Written by tools/kernel-run.sh for one run of the ringcore test kernel.
megs: 64
romimage: file=$bios
vgaromimage: file=$vgabios
$display
cpu: model=$cpu, count=1, reset_on_triple_fault=0
ata0-master: type=disk, path=disk.img, mode=flat$geometry
boot: disk
port_e9_hack: enabled=1
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
EOF
    # Debian's Bochs is built with its debugger, which stops before the first
    # instruction: "c" continues. With stdin at /dev/null, any later stop
    # (a panic, a reset) ends the run instead of waiting for input.
    printf 'c\n' >"$out/bochs.dbgrc"
    local cmd=(bochs -q -f bochsrc -rc bochs.dbgrc)
    { printf 'cd %q && ' "$out"; printf '%q ' timeout -k 5 "$timeout_s" "${cmd[@]}"; } >"$out/command"
    echo >>"$out/command"
    (cd "$out" && exec timeout -k 5 "$timeout_s" "${cmd[@]}" </dev/null >emulator.out 2>emulator.err)
    local st=$?
    echo "$st" >"$out/emulator.status"
    grep -a '^ringcore-' "$out/emulator.out" >"$out/e9.log"
    local n
    n=$(guest_exit_code)
    if [ -n "$n" ] && grep -q 'Shutdown port: shutdown requested' "$out/emulator.err"; then
        return "$n"
    fi
    case "$st" in 124|137) return 124 ;; esac
    return 125
}

# The N of the log's last "ringcore-...: exit N" line, or nothing.
guest_exit_code() {
    sed -n 's/^ringcore-[a-z]*: exit \([0-9][0-9]*\)\( .*\)\{0,1\}$/\1/p' "$out/e9.log" | tail -n 1
}

start=$(now)
case "$emu" in
    qemu) run_qemu ;;
    bochs) run_bochs ;;
    *) usage ;;
esac
rc=$?
end=$(now)
awk -v e="$emu" -v r="$rc" -v a="$start" -v b="$end" \
    'BEGIN { printf "kernel-run: %s exit=%s seconds=%.2f\n", e, r, b - a }'
exit "$rc"

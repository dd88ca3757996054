# Adds a live judge as a confirming source to every vector that
# `ringcore vectors check --oracle ORACLE` judged and found in agreement,
# with a not_judged entry naming the recorded fields that judge cannot see
# (docs/vectors.md "Not judged", "Live judges").
# Usage: python3 addsource.py BUILD_DIR unicorn|native|qemu|bochs SOURCE_NAME [PATH...]
#   SOURCE_NAME may contain {model}: the Bochs CPU model of the vector's vendor
#   (corei7_skylake_x for Intel, ryzen for AMD), e.g. bochs-2.7:{model}
#   e.g. python3 addsource.py build native native:AuthenticAMD-25-1 tests/vectors/docs
#   (run from the repository root; PATH defaults to tests/vectors)
import json, re, subprocess, sys

#   With ADDSOURCE_LOG=FILE, the AGREE lines are read from FILE (the output of
#   an earlier `check --verbose` over the same PATHs) instead of a new run.
import os

cli, ORACLE, SRC = sys.argv[1] + "/ringcore", sys.argv[2], sys.argv[3]
paths = sys.argv[4:] or ["tests/vectors"]
if os.environ.get("ADDSOURCE_LOG"):
    out = open(os.environ["ADDSOURCE_LOG"]).read()
else:
    out = subprocess.run([cli, "vectors", "check", "--oracle", ORACLE, "--verbose"] + paths,
                         capture_output=True, text=True).stdout
agree = {}
for m in re.finditer(r'^AGREE (\S+): vector "([^"]+)"', out, re.M):
    agree.setdefault(m.group(1), set()).add(m.group(2))

QEMU_WHY = ("QEMU's monitor shows the registers, segments, control registers, EFER and memory, not "
            "the other MSRs or CR8; QEMU 7.2 pushes RF = 0 in a fault's frame, so a fault frame's "
            "RFLAGS is not judged by it")
BOCHS_WHY = ("Bochs' debugger shows the registers, segments, control and debug registers, EFER "
             "and the memory the judge dumps, not the other MSRs, nor the FS/GS bases in IA-32e mode")
WHY = {
    ("unicorn", 3): "flat code, no privilege levels: Unicorn sees the GPRs and the INT3's RIP/RFLAGS/RSP, "
                    "not CS/SS or the delivery",
    ("unicorn", 0): "flat code, no privilege levels: Unicorn sees the GPRs, RIP, RFLAGS and memory, "
                    "not segments, CPL, CR2 or MSRs",
    ("native", 3): "the CPU at ring 3 reports the fault (vector, error code, CR2, the interrupted "
                   "RIP/CS/RFLAGS/RSP/SS), the GPRs and the user memory; the delivery side (handler RIP, "
                   "ring-0 stack, CPL, segment registers) is the standard machine's",
    ("bochs", 0): BOCHS_WHY,
    ("bochs", 3): BOCHS_WHY,
    ("qemu", 0): QEMU_WHY,
    ("qemu", 3): QEMU_WHY,
}
GPR = re.compile(r"[re]?(ax|cx|dx|bx|sp|bp|si|di)|r(8|9|1[0-5])[dwb]?|[abcd][lh]|(si|di|bp|sp)l")
FLAT = ("rip", "eip", "ip", "rflags", "eflags", "flags")


def unseen(v):
    e, f = v["expect"], []
    if ORACLE == "bochs":
        # Bochs' debugger has no RDMSR (EFER only) and shows descriptor words, not
        # the FS/GS base MSRs, in IA-32e mode
        f += ["expect.msrs." + m for m in e.get("msrs", {}) if m != "efer"]
        if v.get("mode") in ("long", "compat"):
            f += ["expect.segs." + r for r in ("fs", "gs") if r in e.get("segs", {})]
        return f
    if ORACLE == "qemu":
        f += ["expect.regs." + r for r in e.get("regs", {}) if r == "cr8"]
        f += ["expect.msrs." + m for m in e.get("msrs", {}) if m not in ("efer", "fs_base", "gs_base")]
        # QEMU 7.2 pushes RF = 0 in a fault's frame: the judge leaves that RFLAGS out
        if e.get("end") == "exception" and str(e.get("vector")) not in ("1", "3", "4", "#DB", "#BP", "#OF") \
                and "rflags" in e.get("frame", {}):
            f.append("expect.frame.rflags")
        return f
    cpl3 = v.get("cpl", 0) == 3
    for r in e.get("regs", {}):
        gpr = GPR.fullmatch(r)
        if cpl3 and (r in ("rsp", "esp", "sp") or not gpr):
            f.append("expect.regs." + r)
        elif not cpl3 and not gpr and r not in FLAT:
            f.append("expect.regs." + r)
    if cpl3 and ORACLE == "unicorn":
        f += ["expect.frame." + k for k in ("cs", "ss") if k in e.get("frame", {})]
    hidden = ("segs", "cpl", "msrs") + (("cr2",) if ORACLE == "unicorn" else ())
    f += ["expect." + k for k in hidden if k in e]
    return f


n = 0
for path, names in sorted(agree.items()):
    text = open(path).read()
    d = json.loads(text)
    vs = d if isinstance(d, list) else d["vectors"]
    for v in vs:
        src = SRC.replace("{model}", "ryzen" if v.get("vendor") == "amd" else "corei7_skylake_x")
        if v["name"] not in names or src in v["expect"]["sources"]:
            continue
        e = v["expect"]
        e["sources"].append(src)
        fields = unseen(v)
        if fields:
            e.setdefault("not_judged", []).append(
                {"source": src, "fields": fields, "why": WHY[(ORACLE, 3 if v.get("cpl", 0) == 3 else 0)]})
        n += 1
    lines = text.split("\n")
    if len(lines) > 2 and lines[2].startswith('{"name"'):   # one vector per line
        head = json.dumps({k: d[k] for k in d if k != "vectors"})[:-1]
        body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in vs)
        open(path, "w").write(head + ',\n "vectors": [\n' + body + "\n]}\n")
    else:
        open(path, "w").write(json.dumps(d, indent=1) + "\n")
print(n, "vectors confirmed by", SRC)

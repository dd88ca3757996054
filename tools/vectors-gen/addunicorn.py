# Adds Unicorn as a confirming source to every vector that
# `ringcore vectors check --oracle unicorn` judged and found in agreement,
# with a not_judged entry naming the recorded fields Unicorn cannot see.
# Usage: python3 addunicorn.py BUILD_DIR   (run from the repository root)
import json, re, subprocess, sys

cli = sys.argv[1] + "/ringcore"
SRC = "unicorn-2.0.1"
out = subprocess.run([cli, "vectors", "check", "--oracle", "unicorn", "--verbose", "tests/vectors"],
                     capture_output=True, text=True).stdout
agree = {}
for m in re.finditer(r'^AGREE (\S+): vector "([^"]+)"', out, re.M):
    agree.setdefault(m.group(1), set()).add(m.group(2))

WHY_INT3 = "flat code, no privilege levels: Unicorn sees the GPRs and the INT3's RIP/RFLAGS/RSP, not CS/SS or the delivery"
WHY_HLT = "flat code, no privilege levels: Unicorn sees the GPRs, RIP, RFLAGS and memory, not segments, CPL, CR2 or MSRs"

def unseen(v):
    e, f = v["expect"], []
    cpl3 = v.get("cpl", 0) == 3
    for r in e.get("regs", {}):
        gpr = re.fullmatch(r"[re]?(ax|cx|dx|bx|sp|bp|si|di)|r(8|9|1[0-5])[dwb]?|[abcd][lh]|(si|di|bp|sp)l", r)
        if cpl3 and (r in ("rsp", "esp", "sp") or not gpr):
            f.append("expect.regs." + r)
        elif not cpl3 and not gpr and r not in ("rip", "eip", "ip", "rflags", "eflags", "flags"):
            f.append("expect.regs." + r)
    if cpl3:
        f += ["expect.frame." + k for k in ("cs", "ss") if k in e.get("frame", {})]
    f += ["expect." + k for k in ("segs", "cpl", "cr2", "msrs") if k in e]
    return f

n = 0
for path, names in sorted(agree.items()):
    text = open(path).read()
    d = json.loads(text)
    vs = d if isinstance(d, list) else d["vectors"]
    for v in vs:
        if v["name"] not in names or SRC in v["expect"]["sources"]:
            continue
        e = v["expect"]
        e["sources"].append(SRC)
        fields = unseen(v)
        if fields:
            nj = e.setdefault("not_judged", [])
            nj.append({"source": SRC, "fields": fields,
                       "why": WHY_INT3 if v.get("cpl", 0) == 3 else WHY_HLT})
        n += 1
    lines = text.split("\n")
    if len(lines) > 2 and lines[2].startswith('{"name"'):   # one vector per line
        head = json.dumps({k: d[k] for k in d if k != "vectors"})[:-1]
        body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in vs)
        open(path, "w").write(head + ',\n "vectors": [\n' + body + "\n]}\n")
    else:
        open(path, "w").write(json.dumps(d, indent=1) + "\n")
print(n, "vectors confirmed by", SRC)

import sys; sys.path.insert(0, "/tmp/vw/gen")
from common import *
V = []
def vec(name, mode, cpl, code, expect, why, **kw):
    d = {"name": name, "mode": mode, "cpl": cpl, "code": code, "why": why}
    d.update(kw); d["expect"] = expect; V.append(d)
MOV = ["sdm:Vol.2B/MOV", "sdm:Vol.3A/6.13"]
def gp(sel, rip=0x400000, vec_=13, **kw): return delivered("prot32", 3, vec_, rip, err=sel, sources=list(MOV), **kw)
def bp(rip, mode="prot32", **kw):
    return delivered(mode, 3, 3, rip, trap=True, sources=["sdm:Vol.2B/MOV", "sdm:Vol.3A/5.5-5.6"], **kw)
le32 = lambda v: "".join("%02x" % ((v >> (8 * i)) & 0xff) for i in range(4))
# --- MOV DS (SDM Vol. 2B MOV, protected-mode segment load checks)
for sel, err, why in ((0x18, 0x18, "DPL-0 data at CPL 3 (CPL > DPL)"), (0x10, 0x10, "DPL-0 code"),
                      (0x38, 0x38, "an all-zero descriptor (system type 0)"),
                      (0xf8, 0xf8, "beyond the GDT limit 0xef"),
                      (0x54, 0x54, "an LDT selector while LDTR is null"),
                      (0x40, 0x40, "the TSS descriptor (a system segment)")):
    vec("mov-ds-%02x-cpl3-prot32" % sel, "prot32", 3, "8ed8", gp(err),
        "MOV DS with selector 0x%x: %s -> #GP(selector & 0xfffc = 0x%x)." % (sel, why, err), regs={"eax": H(sel)})
e = bp(0x400003); e["segs"]["ds"] = {"selector": "0xe8", "base": "0x400000", "limit": "0xffff", "dpl": 3}
e["not_judged"] = [{"source": "native:AuthenticAMD-25-1", "fields": ["*"], "why": "GDT entry 29 exists only in the standard machine: Linux's GDT has 16 entries (limit 0x7f), so 0xe8 is beyond its limit there"}]
vec("mov-ds-rpl0-dpl3-cpl3-prot32", "prot32", 3, "8ed8 cc", e,
    "MOV DS, 0xe8 (GDT 29: DPL-3 16-bit data, base 0x400000, limit 0xffff) with RPL 0: max(CPL, RPL) = 3 <= DPL 3, allowed; INT3 ends the run; DS keeps the loaded selector and cache.",
    regs={"eax": "0xe8"})
vec("mov-ds-null-then-read-cpl3-prot32", "prot32", 3, "8ed8 8b00", gp(0, rip=0x400002),
    "MOV DS, 0 loads a null selector (allowed); the read through DS then faults #GP(0).", regs={"eax": "0x0"})
for sel, err, why in ((0x0, 0, "a null selector"), (0x18, 0x18, "DPL 0 != CPL 3"), (0x23, 0x20, "a code segment"),
                      (0x28, 0x28, "RPL 0 != CPL 3")):
    vec("mov-ss-%02x-cpl3-prot32" % sel, "prot32", 3, "8ed0", gp(err),
        "MOV SS with 0x%x: %s -> #GP(0x%x)." % (sel, why, err), regs={"eax": H(sel)})
# --- the LDT
LD = lambda **f: dict({"index": 1, "base": "0x500000", "limit": "0xfff", "type": 3, "dpl": 3, "db": 1}, **f)
vec("mov-ds-ldt-not-present-cpl3-prot32", "prot32", 3, "8ed8", gp(0x0c, vec_=11),
    "LDT entry 1 (selector 0x0f) not present: MOV DS -> #NP(0x0c) (TI = 1).", regs={"eax": "0x0f"}, ldt=[LD(p=0)])
vec("mov-ss-ldt-not-present-cpl3-prot32", "prot32", 3, "8ed0", gp(0x0c, vec_=12),
    "LDT entry 1 not present: MOV SS -> #SS(0x0c).", regs={"eax": "0x0f"}, ldt=[LD(p=0)])
vec("mov-ds-ldt-dpl2-cpl3-prot32", "prot32", 3, "8ed8", gp(0x0c),
    "LDT entry 1 has DPL 2 < CPL 3: #GP(0x0c).", regs={"eax": "0x0f"}, ldt=[LD(dpl=2)])
vec("mov-ds-ldt-exec-only-cpl3-prot32", "prot32", 3, "8ed8", gp(0x0c),
    "LDT entry 1 is execute-only code (type 8): not loadable into DS, #GP(0x0c).", regs={"eax": "0x0f"}, ldt=[LD(type=8)])
e = bp(0x400009); e["regs"]["eax"] = "0x58bd88e"
vec("mov-ds-ldt-readable-code-read-cpl3-prot32", "prot32", 3, "8ed8 8b0500000000 cc", e,
    "LDT entry 1: readable code (type 0xa) with base 0x400000: loadable into DS; mov eax,[0] reads the first code bytes 8e d8 8b 05 = 0x058bd88e.",
    regs={"eax": "0x0f"}, ldt=[LD(type=0xa, base="0x400000")])
e = bp(0x400009); e["regs"]["eax"] = "0x12345678"
vec("ldt-limit-last-dword-ok-cpl3-prot32", "prot32", 3, "8ed8 8b05fc0f0000 cc", e,
    "DS = LDT data base 0x500000, limit 0xfff: the dword at 0xffc ends at the limit, allowed; it holds 0x12345678.",
    regs={"eax": "0x0f"}, ldt=[LD()], mem=[{"addr": "0x500ffc", "bytes": "78563412"}])
vec("ldt-limit-cross-cpl3-prot32", "prot32", 3, "8ed8 8b05fd0f0000", gp(0, rip=0x400002),
    "The dword at 0xffd runs past the limit 0xfff: #GP(0) at the load (SDM Vol. 3A 5.3).",
    regs={"eax": "0x0f"}, ldt=[LD()])
vec("ldt-expand-down-below-cpl3-prot32", "prot32", 3, "8ed8 8b05fc0f0000", gp(0, rip=0x400002),
    "Expand-down data (type 7), limit 0xfff, B = 1: valid offsets are 0x1000..0xffffffff; 0xffc faults #GP(0).",
    regs={"eax": "0x0f"}, ldt=[LD(type=7)])
e = bp(0x400009); e["regs"]["eax"] = "0xcafef00d"
vec("ldt-expand-down-above-cpl3-prot32", "prot32", 3, "8ed8 8b0500100000 cc", e,
    "Expand-down data, limit 0xfff: offset 0x1000 is valid; linear 0x501000 holds 0xcafef00d.",
    regs={"eax": "0x0f"}, ldt=[LD(type=7)], mem=[{"addr": "0x501000", "bytes": "0df0feca"}])
vec("ldt-write-read-only-cpl3-prot32", "prot32", 3, "8ed8 a300000000", gp(0, rip=0x400002),
    "Read-only data (type 1): a write through DS faults #GP(0).", regs={"eax": "0x0f"}, ldt=[LD(type=1)])
vec("write-cs-override-cpl3-prot32", "prot32", 3, "2ea300005000", gp(0),
    "A write with a CS override: code segments are never writable in protected mode, #GP(0).")
e = gp(0, rip=0x400002, vec_=12, rsp=0x1002, ss=0x0f)
vec("ldt-stack-limit-push-cpl3-prot32", "prot32", 3, "8ed0 50", e,
    "SS = LDT data base 0x500000 limit 0xfff, ESP = 0x1002: PUSH EAX writes 0xffe..0x1001, past the limit: #SS(0). The frame holds the old SS:ESP 0x0f:0x1002.",
    regs={"eax": "0x0f", "esp": "0x1002"}, ldt=[LD()])
# --- far transfers between user code segments
vec("jmp-far-33-cpl3-prot32", "prot32", 3, "ea070040003300 cc", bp(0x400008, cs=0x33),
    "JMP FAR 0x33:0x400007 (a DPL-3 32-bit code segment in the legacy GDT): CS = 0x33; INT3 at 0x400007 reports CS 0x33.")
for sel, err, vv, why in ((0x10, 0x10, 13, "a DPL-0 non-conforming code segment"), (0x2b, 0x28, 13, "a data segment"),
                          (0x38, 0x38, 13, "a null descriptor"), (0x0, 0, 13, "a null selector")):
    vec("jmp-far-%02x-cpl3-prot32" % sel, "prot32", 3, "ea00004000" + "%02x00" % sel, gp(err, vec_=vv),
        "JMP FAR to 0x%x: %s -> #GP(0x%x) (SDM Vol. 2A JMP)." % (sel, why, err))
vec("jmp-far-ldt-not-present-cpl3-prot32", "prot32", 3, "ea000040000f00", gp(0x0c, vec_=11),
    "JMP FAR to LDT entry 1, a not-present DPL-3 code segment: #NP(0x0c).",
    ldt=[{"index": 1, "base": "0", "limit": "0xfffff", "g": 1, "db": 1, "type": 0xb, "dpl": 3, "p": 0}])
e = bp(0x400008, cs=0x33, rsp=0x40fff8); e["mem"] = [{"addr": "0x40fff8", "bytes": "07004000"}, {"addr": "0x40fffc", "bytes": "2300"}]
vec("call-far-33-cpl3-prot32", "prot32", 3, "9a070040003300 cc", e,
    "CALL FAR 0x33:0x400007: pushes CS (0x23, low word of a dword slot) and EIP 0x400007; ESP = 0x40fff8; INT3 in CS 0x33.")
vec("retf-to-33-cpl3-prot32", "prot32", 3, "6a33 6808004000 cb cc", bp(0x400009, cs=0x33),
    "PUSH 0x33; PUSH 0x400008; RETF: same-privilege far return to 0x33:0x400008; ESP back to 0x410000.")
e = delivered("long", 3, 3, 0x400008, trap=True, cs=0x23, sources=["sdm:Vol.2A/JMP", "sdm:Vol.3A/5.8"])
vec("jmp-far-mem-to-compat-cpl3-long", "long", 3, "ff2c2500005000 cc", e,
    "64-bit code: JMP FAR m16:32 at 0x500000 (0x400007, 0x23): CS = 0x23 (compatibility mode); the INT3 at 0x400007 runs in 32-bit code.",
    mem=[{"addr": "0x500000", "bytes": "070040002300"}])
e = delivered("compat", 3, 3, 0x400008, trap=True, cs=0x33, sources=["sdm:Vol.2A/JMP", "sdm:Vol.3A/5.8"])
vec("jmp-far-to-64-cpl3-compat", "compat", 3, "ea070040003300 cc", e,
    "Compatibility mode: JMP FAR 0x33:0x400007 enters 64-bit mode (CS.L = 1); INT3 there.")
e = delivered("prot16", 3, 3, 0x400009, trap=True, cs=0x23, sources=["sdm:Vol.2A/JMP"])
vec("jmp-far-16-to-32-cpl3-prot16", "prot16", 3, "66ea080040002300 cc", e,
    "16-bit code (0xe3, base 0x400000): 66 EA = JMP FAR ptr16:32 to 0x23:0x400008 (base 0): 32-bit code; INT3 at linear 0x400008. SS:ESP stay 0xeb:0.")
write(sys.argv[1], V); print(len(V))

# CPL-3 exception conditions whose expectation the host CPU records (vendor amd).
import sys, json
V = []
def vec(name, mode, code, regs=None, area=None, **kw):
    d = {"name": name, "vendor": "amd", "mode": mode, "cpl": 3, "code": code}
    if regs: d["regs"] = regs
    d.update(kw); V.append(d)
# invalid opcodes in 64-bit mode (SDM Vol. 2 Appendix A: i64)
for op in ("06", "07", "0e", "16", "17", "1e", "1f", "27", "2f", "37", "3f", "60", "61", "d4 0a", "d5 0a", "ce", "9a 00000000 3300", "ea 00000000 3300", "c4 c0", "62 00", "82 c0 01", "d6"):
    vec("ud-i64-%s-long" % op.replace(" ", ""), "long", op + " 90 90 90 90 90 90 90 cc")
GAP = {"c7f8 00000000": "ringcore reports XBEGIN (C7 F8) as unsupported; without RTM in CPUID it is #UD",
       "0f38ff": "ringcore reports the 0F 38 map as unsupported instead of decoding 0F 38 FF as #UD"}
for op in ("0f0b", "0fb9", "0fff", "c7f8 00000000", "0f0d c0", "8ec8", "8cf8", "0f38ff", "f0 90"):
    for mode in ("long", "compat", "prot32"):
        vec("ud-%s-%s" % (op.replace(" ", ""), mode), mode, op + " cc", known_bug=GAP.get(op))
# privileged at CPL 3 in compat/prot32
for name, code in (("hlt", "f4"), ("cli", "fa"), ("sti", "fb"), ("clts", "0f06"), ("invd", "0f08"), ("wbinvd", "0f09"),
                   ("rdmsr", "0f32"), ("wrmsr", "0f30"), ("mov-cr0", "0f20c0"), ("mov-cr4w", "0f22e0"), ("mov-dr0", "0f21c0"),
                   ("lgdt", "0f0110"), ("lidt", "0f0118"), ("lmsw", "0f01f0"), ("invlpg", "0f0138"), ("in", "e460"), ("out", "e660"),
                   ("insd", "6d"), ("outsd", "6f"), ("in-dx", "ed"), ("out-dx", "ef")):
    for mode in ("long", "compat", "prot32"):
        vec("priv-%s-%s" % (name, mode), mode, code + " cc", regs={"eax" if mode != "long" else "rax": "0x500000"})
# non-canonical addresses (64-bit): #GP(0) for data, #SS(0) for stack
for reg, mod in (("rax", "00"), ("rbx", "03"), ("rsi", "06")):
    for v in ("0x8000000000000000", "0x0000800000000000", "0xffff7fffffffffff"):
        vec("noncanon-read-%s-%s-long" % (reg, v[2:6]), "long", "8b" + mod + " cc", regs={reg: v})
        vec("noncanon-write-%s-%s-long" % (reg, v[2:6]), "long", "89" + mod + " cc", regs={reg: v})
for v in ("0x8000000000000000", "0x0000800000000008"):
    vec("noncanon-push-%s-long" % v[2:6], "long", "50 cc", regs={"rsp": v})
    vec("noncanon-pop-%s-long" % v[2:6], "long", "58 cc", regs={"rsp": v})
    vec("noncanon-rbp-%s-long" % v[2:6], "long", "8b4500 cc", regs={"rbp": v})
    vec("noncanon-jmp-%s-long" % v[2:6], "long", "ffe0 cc", regs={"rax": v})
# #AC: CR0.AM is the kernel's (set under Linux); EFLAGS.AC from user code
for sz, code in ((2, "668b00"), (4, "8b00"), (8, "488b00")):
    for off in (1, 2, 3):
        if off % sz == 0: continue
        vec("ac-read%d-off%d-long" % (sz, off), "long", code + " cc", regs={"rax": hex(0x500000 + off), "rflags": "0x40002", "cr0": "0x80050033"},
            known_bug="ringcore does not implement alignment checking (#AC when CR0.AM = 1, EFLAGS.AC = 1, CPL 3)")
# #PF in user space: not present, read-only, NX, holes
for op, code in (("read", "8b00"), ("write", "8900"), ("exec", "ffe0")):
    for what, page in (("hole", {"p": False}), ("ro", {"rw": False}), ("nx", {"nx": True})):
        for mode in ("long", "compat"):
            if what == "nx" and mode == "prot32": continue
            vec("pf-%s-%s-%s" % (op, what, mode), mode, code + " cc", regs={"rax" if mode == "long" else "eax": "0x501000"},
                pages=[{"addr": "0x501000", **page}])
    for mode in ("long", "compat"):
        vec("pf-%s-unmapped-%s" % (op, mode), mode, code + " cc", regs={"rax" if mode == "long" else "eax": "0x1000000"})
# #DE variants
for mode in ("long", "compat", "prot32"):
    r = "rcx" if mode == "long" else "ecx"
    vec("de-div8-%s" % mode, mode, "f6f1 cc", regs={("rax" if mode == "long" else "eax"): "0x1000", r: "0x1"})
    vec("de-div16-%s" % mode, mode, "66f7f1 cc", regs={("rdx" if mode == "long" else "edx"): "0x1", r: "0x1"})
    vec("de-idiv16-min-%s" % mode, mode, "66f7f9 cc", regs={("rax" if mode == "long" else "eax"): "0x8000", ("rdx" if mode == "long" else "edx"): "0xffff", r: "0xffff"})
    vec("de-aam0-%s" % mode, mode, "d400 cc") if mode != "long" else None
vec("de-div64-long", "long", "48f7f1 cc", regs={"rdx": "0x1", "rcx": "0x1"})
vec("de-idiv64-min-long", "long", "48f7f9 cc", regs={"rax": "0x8000000000000000", "rdx": "0xffffffffffffffff", "rcx": "0xffffffffffffffff"})
# INT n through the kernel's IDT (DPL-0 gates -> #GP(n*8+2)); INT3/INTO via CD
for n in (0, 1, 2, 5, 6, 8, 0xd, 0xe, 0x20, 0x30, 0x81, 0xff):
    for mode in ("long", "compat"):
        vec("int%02x-%s" % (n, mode), mode, "cd%02x cc" % n, known_bug="IA-32e delivery computes the IDT error code as vector*16+2 instead of vector*8+2" if n else None)
for mode in ("long", "compat", "prot32"):
    vec("int-cd03-%s" % mode, mode, "cd03")
    vec("int1-%s" % mode, mode, "f1", known_bug=None)
    vec("bound-%s" % mode, mode, "62 00 cc", regs={"eax": "0x500000", "ecx": "0x10"}) if mode != "long" else None
for v in V:
    if v.get("known_bug", 1) is None: v.pop("known_bug")
json.dump({"vectors": V}, open(sys.argv[1], "w"), indent=0)
print(len(V))

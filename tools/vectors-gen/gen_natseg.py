import sys, json
V = []
def vec(name, mode, code, regs=None, ldt=None, mem=None):
    d = {"name": name, "vendor": "amd", "mode": mode, "cpl": 3, "code": code}
    if regs: d["regs"] = regs
    if ldt is not None: d["ldt"] = ldt
    if mem: d["mem"] = mem
    V.append(d)
SREG = {"ds": "8ed8", "es": "8ec0", "fs": "8ee0", "gs": "8ee8", "ss": "8ed0"}
def ent(**f):
    e = {"index": 1, "base": "0x500000", "limit": "0xfff", "type": 3, "dpl": 3, "db": 1}
    e.update(f); return e
A = lambda m: "rax" if m == "long" else "eax"
# 1. MOV Sreg with every code/data type, present or not, RPL 0 and 3
for mode in ("long", "compat", "prot32"):
    for t in range(16):
        for sreg in ("ds", "ss") if mode != "prot32" else ("ds", "es", "fs", "gs", "ss"):
            vec("mov-%s-type%x-%s" % (sreg, t, mode), mode, SREG[sreg] + " cc", {A(mode): "0xf"}, [ent(type=t)])
        vec("mov-ds-type%x-np-%s" % (t, mode), mode, SREG["ds"] + " cc", {A(mode): "0xf"}, [ent(type=t, p=0)])
    for rpl in (0, 1, 2):
        for sreg in ("ds", "ss"):
            vec("mov-%s-rpl%d-%s" % (sreg, rpl, mode), mode, SREG[sreg] + " cc", {A(mode): hex(0xc | rpl)}, [ent()])
    for sel in (0x4, 0x7, 0x14, 0x17, 0x3ff):
        vec("mov-ds-beyond-ldt-%x-%s" % (sel, mode), mode, SREG["ds"] + " cc", {A(mode): hex(sel)}, [ent()])
    vec("mov-ss-null-%s" % mode, mode, SREG["ss"] + " cc", {A(mode): "0x3"}, [])
    vec("mov-ds-null-rpl3-%s" % mode, mode, SREG["ds"] + " cc", {A(mode): "0x3"}, [])
# 2. limits: expand-up / expand-down, G, B, sizes, read and write
for mode in ("compat", "prot32", "long"):
    for (t, lim, g, b, name) in ((3, 0xfff, 0, 1, "up"), (1, 0xfff, 0, 1, "up-ro"), (7, 0xfff, 0, 1, "down-b1"),
                                 (7, 0xfff, 0, 0, "down-b0"), (3, 0x0, 1, 1, "up-g1"), (7, 0xfffef, 1, 1, "down-g1")):
        offs = {"up": (0xffc, 0xffd, 0xfff, 0x1000), "up-ro": (0xffc, 0xffd), "down-b1": (0xffc, 0xfff, 0x1000, 0xfffffffc),
                "down-b0": (0xfff, 0x1000, 0xfffc, 0xfffd, 0xffff), "up-g1": (0xffc, 0xffd, 0x1000),
                "down-g1": (0xfffeffc, 0xffff0000, 0xfffffffc)}[name]
        for off in offs:
            for sz, op in ((1, "8a05"), (2, "668b05"), (4, "8b05")):
                if mode == "long":
                    code = "8ed8 " + op.replace("05", "04 25") + " %08x" % 0
                    # 64-bit: [disp32] absolute through DS: limits are not checked in 64-bit mode
                    code = "8ed8 " + op[:-2] + "0425" + "".join("%02x" % ((off >> (8 * i)) & 0xff) for i in range(4)) + " cc"
                    if off >= 0x80000000: continue
                else:
                    code = "8ed8 " + op + "".join("%02x" % ((off >> (8 * i)) & 0xff) for i in range(4)) + " cc"
                vec("lim-%s-rd%d-%x-%s" % (name, sz, off, mode), mode, code, {A(mode): "0xf"},
                    [ent(type=t, limit=hex(lim), g=g, db=b)])
            if name in ("up", "up-ro", "down-b1") and mode != "long":
                code = "8ed8 a3" + "".join("%02x" % ((off >> (8 * i)) & 0xff) for i in range(4)) + " cc"
                vec("lim-%s-wr4-%x-%s" % (name, off, mode), mode, code, {A(mode): "0xf"}, [ent(type=t, limit=hex(lim), g=g, db=b)])
    # stack segment limits: push/pop at the edges
    if mode != "long":
        for esp in (0x1000, 0x1002, 0x1004, 0x2):
            vec("ss-push-esp%x-%s" % (esp, mode), mode, "8ed0 50 cc", {"eax": "0xf", "esp": hex(esp)}, [ent()])
            vec("ss-pop-esp%x-%s" % (esp, mode), mode, "8ed0 58 cc", {"eax": "0xf", "esp": hex((esp - 4) & 0xffffffff)}, [ent()])
        for esp in (0x1000, 0x1004, 0x10000):
            vec("ss-down-push-esp%x-%s" % (esp, mode), mode, "8ed0 50 cc", {"eax": "0xf", "esp": hex(esp)}, [ent(type=7, db=1)])
# 3. far transfers to LDT code segments of different sizes
code32 = {"index": 2, "base": "0x0", "limit": "0xfffff", "g": 1, "type": 0xb, "dpl": 3, "db": 1}
code16 = {"index": 3, "base": "0x400000", "limit": "0xffff", "type": 0xb, "dpl": 3, "db": 0}
code32_np = dict(code32, index=4, p=0)
code_conf = dict(code32, index=5, type=0xf)
code_xo = dict(code32, index=6, type=0x9)
LDT = [ent(), code32, code16, code32_np, code_conf, code_xo]
for mode in ("compat", "prot32"):
    # jmp far ptr16:32 (EA), target offset 0x400007 (32-bit, base 0) or 0x0007 (16-bit, base 0x400000)
    vec("jmpf-ldt32-%s" % mode, mode, "ea07004000 1700 cc", None, LDT)
    vec("jmpf-ldt16-%s" % mode, mode, "ea07000000 1f00 cc", None, LDT)
    vec("jmpf-ldt-np-%s" % mode, mode, "ea07004000 2700 cc", None, LDT)
    vec("jmpf-ldt-conforming-%s" % mode, mode, "ea07004000 2f00 cc", None, LDT)
    vec("jmpf-ldt-xonly-%s" % mode, mode, "ea07004000 3700 cc", None, LDT)
    vec("jmpf-ldt-data-%s" % mode, mode, "ea07004000 0f00 cc", None, LDT)
    vec("jmpf-ldt-rpl0-%s" % mode, mode, "ea07004000 1400 cc", None, LDT)
    vec("callf-ldt32-%s" % mode, mode, "9a07004000 1700 cc", None, LDT)
    vec("callf-ldt16-%s" % mode, mode, "9a07000000 1f00 cc", None, LDT)
    vec("jmpf-ldt32-limit-%s" % mode, mode, "ea07004000 1700 cc", None, [ent(), dict(code32, g=0, limit="0xfff")])
    # 16-bit code: 66 EA ptr16:32 back to 0x23 / from 16-bit: "ea 0500 1f00" forms
    vec("retf-to-ldt16-%s" % mode, mode, "6a1f 6a07 66cb cc" if False else "6a1f 6a07 cb cc", None, LDT)
for sel in ("1700", "1f00", "2700"):
    vec("jmpf-mem-ldt-%s-long" % sel, "long", "ff2c25 00005000 cc", None, LDT,
        mem=[{"addr": "0x500000", "bytes": ("07004000" if sel != "1f00" else "07000000") + sel}])
json.dump({"vectors": V}, open(sys.argv[1], "w"), indent=0)
print(len(V))

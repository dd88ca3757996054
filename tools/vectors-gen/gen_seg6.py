# Issue 6 item 1: segment loads (MOV/POP Sreg, LDS/LES/LFS/LGS/LSS) with the
# checks of SDM Vol. 2A/2B "MOV", "POP", "LDS/LES/LFS/LGS/LSS" in their order,
# MOV SS / POP SS (the one-instruction shadow, SDM Vol. 3A 6.8.3), the
# descriptor-table instructions (LGDT LIDT SGDT SIDT LLDT SLDT LTR STR), the
# descriptor probes (LAR LSL VERR VERW ARPL) and the IOPL-sensitive
# instructions (CLI STI IN OUT INS OUTS PUSHF POPF).
#
# Usage (from the repository root):
#   python3 tools/vectors-gen/gen_seg6.py hand     # the hand-derived files (ring 0 judges)
#   python3 tools/vectors-gen/gen_seg6.py native   # the CPL-3 files WITHOUT expect: then
#       build-seg6/ringcore vectors record --oracle native tests/vectors/segments/*-native.json
# Hand-derived vectors (source sdm:/apm:, derivation in "why") are confirmed with
# `vectors check --oracle qemu|bochs` and tools/vectors-gen/addsource.py.
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import H, region, code_sel, data_sel, start_rip, start_rsp, delivered

OUT = "tests/vectors/segments/"
FILES = {}


def vec(fname, name, mode, cpl, code, expect, why, **kw):
    d = {"name": name, "mode": mode, "cpl": cpl, "code": code, "why": why}
    d.update(kw)
    if expect is not None:
        d["expect"] = expect
    FILES.setdefault(fname, []).append(d)


def le(v, n):
    return "".join("%02x" % ((v >> (8 * i)) & 0xff) for i in range(n))


def absm(mode, reg, addr):
    """ModRM (+SIB) + disp for [addr] with reg field `reg`: 32-bit modes disp32
    (mod 00 r/m 101), 64-bit mode SIB base none index none (mod 00 r/m 100, SIB 25h;
    r/m 101 would be RIP-relative), SDM Vol. 2A 2.1.5 Tables 2-2, 2-3, 2.2.1.6."""
    if mode == "long":
        return "%02x25" % (0x04 | reg << 3) + le(addr, 4)
    if mode in ("real", "prot16"):
        return "%02x" % (0x06 | reg << 3) + le(addr, 2)
    return "%02x" % (0x05 | reg << 3) + le(addr, 4)


IA32E = ("long", "compat")
A = lambda m: "rax" if m == "long" else "eax"
IP = lambda m: "rip" if m == "long" else "eip"
SP = lambda m: "rsp" if m == "long" else "esp"
FL = lambda m: "rflags" if m == "long" else "eflags"
GDT_BYTE = lambda idx: 0x1000 + 8 * idx + 5      # access byte of GDT entry idx
LDT_BYTE = lambda idx: 0x6000 + 8 * idx + 5


def hlt_end(mode, cpl, code, regs=None, segs=None, mem=None, sources=None, rflags=0x2):
    """End at HLT at CPL 0: RIP past the HLT (the last byte of code)."""
    n = len(code.replace(" ", "")) // 2
    e = {"end": "hlt"}
    if mode == "real":   # CS:IP = 0000:7C00 (docs/standard-machine.md)
        r = {"ip": H(0x7c00 + n), "flags": H(rflags)}
    else:
        r = {IP(mode): H(start_rip(mode, cpl) + n), FL(mode): H(rflags)}
    r.update(regs or {})
    e["regs"] = r
    if segs: e["segs"] = segs
    if mem: e["mem"] = mem
    e["cpl"] = 0
    e["sources"] = sources or []
    return e


VNUM = {"#DB": 1, "#BP": 3, "#UD": 6, "#TS": 10, "#NP": 11, "#SS": 12, "#GP": 13, "#PF": 14}


def fault(mode, cpl, v, off, err, sources, rflags=0x2, rsp=None, regs=None, mem=None, ss=None):
    """A fault at code offset `off` (the faulting instruction), delivered through the
    standard IDT (common.delivered: SDM Vol. 3A 6.12.1 / 6.14.2)."""
    v = VNUM.get(v, v)
    e = delivered(mode, cpl, v, start_rip(mode, cpl) + off, rflags=rflags, err=err, rsp=rsp,
                  sources=list(sources), ss=ss)
    if regs: e["regs"].update(regs)
    if mem: e["mem"] = mem
    return e


def trap(mode, cpl, v, off, sources, rflags=0x2, rsp=None, regs=None, mem=None, ss=None):
    v = VNUM.get(v, v)
    e = delivered(mode, cpl, v, start_rip(mode, cpl) + off, rflags=rflags, trap=True, rsp=rsp,
                  sources=list(sources), ss=ss)
    if regs: e["regs"].update(regs)
    if mem: e["mem"] = mem
    return e


def real_exc(v, ip, sources, flags=0x2):
    """Real-mode delivery (SDM Vol. 3A 21.1.4): FLAGS, CS, IP pushed as words on
    SS:SP = 0:0x7c00 -> SP 0x7bfa; CS:IP from IVT entry v = 0:0x4000 + 16v."""
    return {"end": "exception", "vector": v, "error_code": "none",
            "frame": {"rip": H(ip), "cs": "0x0", "rflags": H(flags)},
            "regs": {"ip": H(0x4000 + 16 * v), "sp": "0x7bfa"},
            "mem": [{"addr": "0x7bfa", "bytes": le(ip, 2) + "0000" + le(flags, 2)}],
            "sources": list(sources)}


BYTE_NJ = {"source": "unicorn-2.0.1", "fields": ["*"],
           "why": "Unicorn runs flat code without descriptor tables or privilege levels: segment loads, "
                  "descriptor-table instructions and descriptor probes are not modeled there"}

# ============================================================== segment loads (ring 0, hand)
F = "loads.json"
MOVS = ["sdm:Vol.2B/MOV", "apm:Vol.3/MOV"]
SREG = {"es": 0, "ss": 2, "ds": 3, "fs": 4, "gs": 5}
MOVSR = lambda s, r=0: "8e%02x" % (0xc0 | SREG[s] << 3 | r)   # MOV Sreg, r16 (8E /r)
SSCHK = ("SDM Vol. 2B MOV (and POP, LSS) 'IF SS is loaded': NULL -> #GP(0) outside 64-bit mode; "
         "index beyond the table limit, RPL != CPL, not a writable data segment or DPL != CPL "
         "-> #GP(selector); not present -> #SS(selector); error code = selector AND FFFCH "
         "(TI kept, RPL dropped; Vol. 3A 6.13). ")
DSCHK = ("SDM Vol. 2B MOV 'IF DS, ES, FS, or GS is loaded with non-NULL selector': beyond the "
         "table limit, not a data or readable code segment, or (data or non-conforming code and "
         "(RPL > DPL or CPL > DPL)) -> #GP(selector); not present -> #NP(selector). ")
ACC = "The accessed bit is written back to the descriptor (SDM Vol. 3A 3.4.5.1): access byte %s. "


def g12(**f):
    d = {"index": 12, "base": "0x0", "limit": "0xfffff", "g": 1, "db": 1, "type": 3, "dpl": 0}
    d.update(f)
    return d


for m in ("prot32", "compat", "long"):
    sfx = "-cpl0-" + m
    # ---- SS: null
    if m != "long":
        vec(F, "mov-ss-null-gp" + sfx, m, 0, MOVSR("ss"), fault(m, 0, "#GP", 0, 0, MOVS),
            SSCHK + "EAX = 0: a NULL selector into SS outside 64-bit mode -> #GP(0) at the MOV.",
            regs={A(m): "0x0"})
    else:
        e = hlt_end(m, 0, "8ed0 f4", segs={"ss": {"selector": "0x0", "unusable": True}}, sources=MOVS + ["sdm:Vol.3A/5.4.1.1"])
        vec(F, "mov-ss-null-rpl0-ok" + sfx, m, 0, "8ed0 f4", e,
            "SDM Vol. 2B MOV, 64-bit mode exceptions: a NULL selector into SS is #GP only at CPL 3 or "
            "with RPL != CPL; at CPL 0 with selector 0 (RPL 0 = CPL) it loads: SS = 0, unusable "
            "(Vol. 3A 5.4.1.1: in 64-bit mode the null SS is not checked on use). HLT ends.",
            regs={"rax": "0x0"})
        vec(F, "mov-ss-null-rpl3-gp" + sfx, m, 0, "8ed0", fault(m, 0, "#GP", 0, 0, MOVS),
            "SDM Vol. 2B MOV, 64-bit mode: '#GP(selector) if an attempt is made to load SS with a NULL "
            "selector when CPL < 3 and CPL != RPL': selector 3 at CPL 0, error code 3 AND FFFCH = 0.",
            regs={"rax": "0x3"})
    # ---- SS: checks on a non-null selector
    cases = [
        ("code", 0x10, [], 13, 0x10, "0x10 is a code segment: not a writable data segment"),
        ("dpl3-rpl0", 0x28, [], 13, 0x28, "0x28 = GDT 5 (DPL-3 data) with RPL 0 = CPL: DPL 3 != CPL 0"),
        ("readonly", 0x60, [g12(type=1)], 13, 0x60, "GDT 12 is read-only data (type 1): not writable"),
        ("beyond-gdt", 0xf0, [], 13, 0xf0, "index 30: bytes 0xf0..0xf7 beyond the GDT limit 0xef"),
        ("tss", 0x40, [], 13, 0x40, "0x40 is the TSS (a system descriptor)"),
        ("ldt-null-ldtr", 0x0c, [], 13, 0x0c, "TI = 1 while LDTR is null (no LDT): the index is beyond "
                                               "any table (Vol. 3A 3.5.1), error code 0x0c keeps TI"),
        ("not-present", 0x60, [g12(p=0)], 12, 0x60, "GDT 12 is a DPL-0 writable data segment, not present"),
        ("dpl3-not-present", 0x60, [g12(p=0, dpl=3)], 13, 0x60,
         "GDT 12 is DPL-3 data AND not present: the DPL != CPL #GP(selector) comes before the present check"),
    ]
    for nm, sel, gdt, v, err, why in cases:
        kw = {"regs": {A(m): H(sel)}}
        if gdt: kw["gdt"] = gdt
        mem = None
        if nm == "not-present":
            mem = [{"addr": H(GDT_BYTE(12)), "bytes": "12"}]
            kw["gdt"] = [g12(p=0, type=2)]
            why = "GDT 12 is DPL-0 writable data (type 2, accessed bit clear), not present; no " \
                  "descriptor write happens before a fault: the access byte stays 12H (P = 0, S = 1, type 2)"
        vec(F, "mov-ss-%s-%s%s" % (nm, "gp" if v == 13 else "ss", sfx), m, 0, MOVSR("ss"),
            fault(m, 0, "#GP" if v == 13 else "#SS", 0, err, MOVS, mem=mem),
            SSCHK + why + " -> %s(0x%x) at the MOV (CPL 0, no stack switch)." % ("#GP" if v == 13 else "#SS", err), **kw)
    # ---- SS loads that succeed: accessed bit
    for nm, t, ab in (("writable", 2, "93"), ("expand-down", 6, "97")):
        code = "8ed0 f4"
        e = hlt_end(m, 0, code, segs={"ss": {"selector": "0x60", "type": t | 1}},
                    mem=[{"addr": H(GDT_BYTE(12)), "bytes": ab}], sources=MOVS + ["sdm:Vol.3A/3.4.5.1"])
        vec(F, "mov-ss-%s-sets-accessed%s" % (nm, sfx), m, 0, code, e,
            SSCHK + "GDT 12: DPL-0 %s data, type %d (accessed clear), RPL 0 = CPL = DPL: loads. " % (nm, t)
            + ACC % ("%sH (P = 1, DPL 0, S = 1, type %d)" % (ab.upper(), t | 1)) + "SS.type = %d." % (t | 1),
            regs={A(m): "0x60"}, gdt=[g12(type=t)])
    # ---- SS from the LDT
    ldt = [{"index": 1, "base": "0x0", "limit": "0xfffff", "g": 1, "db": 1, "type": 2, "dpl": 0}]
    e = hlt_end(m, 0, "8ed0 f4", segs={"ss": {"selector": "0xc", "type": 3}},
                mem=[{"addr": H(LDT_BYTE(1)), "bytes": "93"}], sources=MOVS + ["sdm:Vol.3A/3.4.5.1"])
    vec(F, "mov-ss-ldt-sets-accessed" + sfx, m, 0, "8ed0 f4", e,
        SSCHK + "Selector 0x0c: LDT entry 1 (the LDT at 0x6000), DPL-0 writable data type 2: loads; "
        + ACC % "in the LDT, 93H", regs={A(m): "0xc"}, ldt=ldt)
    vec(F, "mov-ss-beyond-ldt-gp" + sfx, m, 0, "8ed0", fault(m, 0, "#GP", 0, 0x14, MOVS),
        SSCHK + "Selector 0x14: LDT index 2, the LDT has 2 entries (limit 0x0f): beyond its limit -> #GP(0x14).",
        regs={A(m): "0x14"}, ldt=ldt)

    # ---- DS/ES/FS/GS at CPL 0
    dcases = [
        ("ds", "rpl3-dpl0", 0x1b, [], 13, 0x18, "0x1b: DPL-0 data with RPL 3 > DPL 0"),
        ("ds", "code-rpl3-dpl0", 0x0b, [], 13, 0x08, "0x0b: DPL-0 non-conforming readable code (0x08) with RPL 3 > DPL"),
        ("es", "exec-only-conforming", 0x60, [g12(type=0xc)], 13, 0x60, "GDT 12: conforming execute-only code (type 0xc): not readable"),
        ("fs", "exec-only", 0x60, [g12(type=0x8)], 13, 0x60, "GDT 12: execute-only code (type 8): not readable"),
        ("gs", "tss", 0x40, [], 13, 0x40, "0x40: the TSS, a system descriptor"),
        ("ds", "beyond-gdt", 0xf8, [], 13, 0xf8, "index 31: beyond the GDT limit 0xef"),
        ("es", "ldt-null-ldtr", 0x7, [], 13, 0x4, "0x07: TI = 1 (index 0 of the LDT) while LDTR is null"),
        ("ds", "not-present", 0x60, [g12(p=0, type=2)], 11, 0x60, "GDT 12: DPL-0 data, not present"),
        ("fs", "dpl0-rpl3-not-present", 0x63, [g12(p=0)], 13, 0x60,
         "0x63: GDT 12 is DPL-0 data, not present, RPL 3 > DPL: the privilege #GP comes before #NP"),
    ]
    for s, nm, sel, gdt, v, err, why in dcases:
        kw = {"regs": {A(m): H(sel)}}
        if gdt: kw["gdt"] = gdt
        mem = [{"addr": H(GDT_BYTE(12)), "bytes": "12"}] if nm == "not-present" else None
        vn = "#GP" if v == 13 else "#NP"
        vec(F, "mov-%s-%s-%s%s" % (s, nm, vn[1:].lower(), sfx), m, 0, MOVSR(s),
            fault(m, 0, vn, 0, err, MOVS, mem=mem), DSCHK + why + " -> %s(0x%x)." % (vn, err)
            + (" No accessed-bit write before the fault (access byte stays 12H)." if mem else ""), **kw)
    # LDT descriptor into DS (needs an LDT: GDT 10 = 0x50)
    vec(F, "mov-ds-ldt-descriptor-gp" + sfx, m, 0, MOVSR("ds"), fault(m, 0, "#GP", 0, 0x50, MOVS),
        DSCHK + "0x50 is the LDT's own descriptor (system type 2) -> #GP(0x50).",
        regs={A(m): "0x50"}, ldt=ldt)
    # loads that succeed
    okc = [
        ("ds", "conforming-dpl3", 0x63, g12(type=0xe, dpl=3), "ff", "conforming readable code, DPL 3 (type 0xe)"),
        ("es", "conforming-dpl0-rpl3", 0x63, g12(type=0xe, dpl=0), "9f",
         "conforming readable code, DPL 0, selector RPL 3: conforming code is exempt from the RPL/CPL <= DPL test"),
        ("fs", "readable-code", 0x60, g12(type=0xa), "9b", "non-conforming readable code DPL 0 (type 0xa)"),
        ("gs", "readonly-data", 0x60, g12(type=0x0), "91", "read-only data DPL 0 (type 0)"),
        ("ds", "data-dpl3-rpl0", 0x60, g12(type=2, dpl=3), "f3", "writable data DPL 3 (max(CPL 0, RPL 0) <= 3)"),
    ]
    for s, nm, sel, gd, ab, why in okc:
        code = MOVSR(s) + " f4"
        e = hlt_end(m, 0, code, segs={s: {"selector": H(sel), "type": int(ab, 16) & 0xf, "dpl": gd["dpl"]}},
                    mem=[{"addr": H(GDT_BYTE(12)), "bytes": ab}], sources=MOVS + ["sdm:Vol.3A/3.4.5.1"])
        vec(F, "mov-%s-%s-ok%s" % (s, nm, sfx), m, 0, code, e,
            DSCHK + "GDT 12: %s: loads; " % why + ACC % (ab.upper() + "H"), regs={A(m): H(sel)}, gdt=[gd])
    e = hlt_end(m, 0, "8ed8 f4", segs={"ds": {"selector": "0x3", "unusable": True}}, sources=MOVS)
    vec(F, "mov-ds-null-rpl3-ok" + sfx, m, 0, "8ed8 f4", e,
        "SDM Vol. 2B MOV: 'IF DS, ES, FS, or GS is loaded with NULL selector THEN SegmentRegister <- "
        "segment selector; SegmentRegister <- segment descriptor' (marked unusable; RPL is kept in "
        "the selector, not checked). Selector 3 at CPL 0: DS = 3, unusable.", regs={A(m): "0x3"})

    # ---- POP Sreg and LSS/LxS at CPL 0
    if m != "long":
        rsp0 = start_rsp(m, 0)
        vec(F, "pop-ss-null-gp" + sfx, m, 0, "6a00 17",
            fault(m, 0, "#GP", 2, 0, ["sdm:Vol.2B/POP"], rsp=rsp0 - 4),
            "PUSH 0; POP SS: SDM Vol. 2B POP 'IF SS is loaded: IF segment selector is NULL THEN #GP(0)'. "
            "The POP faults, so ESP keeps the pushed slot: 0x%x (the frame's ESP is not pushed at CPL 0; "
            "the handler's ESP = 0x%x - 12 - 4)." % (rsp0 - 4, rsp0 - 4))
        vec(F, "pop-ss-code-gp" + sfx, m, 0, "6a10 17",
            fault(m, 0, "#GP", 2, 0x10, ["sdm:Vol.2B/POP"], rsp=rsp0 - 4),
            "PUSH 0x10; POP SS: a code segment is not writable data -> #GP(0x10); ESP not incremented.")
        vec(F, "pop-ss-not-present-ss" + sfx, m, 0, "6a60 17",
            fault(m, 0, "#SS", 2, 0x60, ["sdm:Vol.2B/POP"], rsp=rsp0 - 4), 
            "PUSH 0x60; POP SS: GDT 12 DPL-0 writable data not present -> #SS(0x60) (SDM Vol. 2B POP).",
            gdt=[g12(p=0)])
        e = hlt_end(m, 0, "6a18 1f 6a60 07 f4", segs={"ds": "0x18", "es": "0x60"}, regs={"esp": H(rsp0)},
                    mem=[{"addr": H(GDT_BYTE(12)), "bytes": "93"}], sources=["sdm:Vol.2B/POP", "sdm:Vol.3A/3.4.5.1"])
        vec(F, "pop-ds-es-ok" + sfx, m, 0, "6a18 1f 6a60 07 f4", e,
            "PUSH 0x18; POP DS; PUSH 0x60; POP ES: both load (DPL-0 data at CPL 0); each POP adds 4 to "
            "ESP (32-bit operand size), back to 0x%x; ES's descriptor (type 2) gets its accessed bit: 93H." % rsp0,
            gdt=[g12(type=2)])
        e = fault(m, 0, "#NP", 2, 0x60, ["sdm:Vol.2B/POP"], rsp=rsp0 - 4)
        vec(F, "pop-gs-not-present-np" + sfx, m, 0, "6a60 0fa9", e,
            "PUSH 0x60; POP GS: GDT 12 not present -> #NP(0x60) at the POP (offset 2), ESP unchanged by it.",
            gdt=[g12(p=0)])
    else:
        for op, nm in (("1f", "pop-ds"), ("07", "pop-es"), ("17", "pop-ss"), ("1e", "push-ds"), ("16", "push-ss")):
            vec(F, "%s-ud-cpl0-long" % nm, m, 0, op, fault(m, 0, "#UD", 0, None, ["sdm:Vol.2B/POP", "sdm:Vol.2B/PUSH"]),
                "Opcode %s (%s) is invalid in 64-bit mode (SDM Vol. 2B %s: '#UD If in 64-bit mode'; "
                "Vol. 2D Table A-2 i64) -> #UD at the opcode." % (op.upper(), nm.upper().replace("-", " "),
                                                                 "PUSH" if nm.startswith("push") else "POP"))
        e = fault(m, 0, "#NP", 2, 0x60, ["sdm:Vol.2B/POP"], rsp=0x10fff8)
        vec(F, "pop-fs-not-present-np" + sfx, m, 0, "6a60 0fa1", e,
            "PUSH 0x60 (8 bytes in 64-bit mode, RSP 0x10fff8); POP FS: GDT 12 not present -> #NP(0x60); "
            "the POP faults, RSP stays 0x10fff8; the 64-bit frame goes below 0x10fff0 (16-byte aligned).",
            gdt=[g12(p=0)])
        e = hlt_end(m, 0, "6a00 0fa9 f4", segs={"gs": {"selector": "0x0", "unusable": True}},
                    regs={"rsp": "0x110000"}, sources=["sdm:Vol.2B/POP"])
        vec(F, "pop-gs-null-ok" + sfx, m, 0, "6a00 0fa9 f4", e,
            "PUSH 0; POP GS: a NULL selector into GS loads (unusable); RSP back to 0x110000.")
    # LSS / LFS / LDS
    M = 0x500000
    mem_ptr = lambda off, sel: [{"addr": H(M), "bytes": le(off, 4) + le(sel, 2)}]
    code = "0fb2" + absm(m, 4, M) + " f4"   # LSS ESP, m16:32
    e = hlt_end(m, 0, code, regs={"esp": "0x10ff00"}, segs={"ss": "0x18"}, sources=["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS"])
    vec(F, "lss-ok" + sfx, m, 0, code, e,
        "LSS ESP, [0x500000] (m16:32 = 0x0010ff00, 0x18): SS = 0x18 (DPL-0 data, RPL 0 = CPL), "
        "ESP = 0x10ff00 (SDM Vol. 2A LDS/LES/LFS/LGS/LSS).", mem=mem_ptr(0x10ff00, 0x18))
    code = "0fb2" + absm(m, 4, M)
    if m == "long":
        e = hlt_end(m, 0, code + " f4", regs={"rsp": "0x10ff00"}, segs={"ss": {"selector": "0x0", "unusable": True}},
                    sources=["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS", "sdm:Vol.2B/MOV"])
        vec(F, "lss-null-rpl0-ok" + sfx, m, 0, code + " f4", e,
            "LSS ESP, [m] with selector 0 in 64-bit mode at CPL 0: the 64-bit null-SS rule (RPL 0 = CPL < 3) "
            "allows it: SS = 0 unusable, RSP = 0x10ff00 (a 32-bit destination zero-extends).",
            mem=mem_ptr(0x10ff00, 0))
    else:
        vec(F, "lss-null-gp" + sfx, m, 0, code, fault(m, 0, "#GP", 0, 0, ["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS"]),
            "LSS ESP, [m] with selector 0: 'IF SS is loaded and selector is NULL THEN #GP(0)'; the "
            "fault comes before ESP is written (the frame is on the old stack at 0x110000).",
            mem=mem_ptr(0x10ff00, 0))
    code = "0fb4" + absm(m, 0, M)   # LFS EAX
    vec(F, "lfs-not-present-np" + sfx, m, 0, code,
        fault(m, 0, "#NP", 0, 0x60, ["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS"], regs={A(m): "0x11111111"}),
        "LFS EAX, [m] (0x22222222, 0x60): GDT 12 not present -> #NP(0x60); EAX keeps 0x11111111 "
        "(the destination is written only after the segment load).",
        mem=mem_ptr(0x22222222, 0x60), gdt=[g12(p=0)], regs={A(m): "0x11111111"})
    code = "0fb5" + absm(m, 0, M) + " f4"   # LGS EAX
    e = hlt_end(m, 0, code, regs={"eax": "0x22222222"}, segs={"gs": {"selector": "0x60", "type": 1}},
                mem=[{"addr": H(GDT_BYTE(12)), "bytes": "91"}], sources=["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS", "sdm:Vol.3A/3.4.5.1"])
    vec(F, "lgs-readonly-sets-accessed" + sfx, m, 0, code, e,
        "LGS EAX, [m] (0x22222222, 0x60): GDT 12 read-only data type 0, DPL 0: loads, EAX = 0x22222222; "
        + ACC % "91H", mem=mem_ptr(0x22222222, 0x60), gdt=[g12(type=0)])
    if m != "long":
        code = "c5" + absm(m, 0, M)   # LDS EAX
        vec(F, "lds-rpl3-dpl0-gp" + sfx, m, 0, code,
            fault(m, 0, "#GP", 0, 0x18, ["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS"], regs={"eax": "0x11111111"}),
            "LDS EAX, [m] with selector 0x1b: DPL-0 data with RPL 3 > DPL -> #GP(0x18); EAX unchanged.",
            mem=mem_ptr(0x22222222, 0x1b), regs={"eax": "0x11111111"})
        code = "c4" + absm(m, 0, M) + " f4"   # LES EAX
        e = hlt_end(m, 0, code, regs={"eax": "0x22222222"}, segs={"es": {"selector": "0x0", "unusable": True}},
                    sources=["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS"])
        vec(F, "les-null-ok" + sfx, m, 0, code, e,
            "LES EAX, [m] with selector 0: a NULL selector into ES loads (unusable); EAX = 0x22222222.",
            mem=mem_ptr(0x22222222, 0))

# CPL 1 / 2 (prot32 and long)
for m in ("prot32", "long"):
    for cpl in (1, 2):
        sfx = "-cpl%d-%s" % (cpl, m)
        own = data_sel(m, cpl)
        vec(F, "mov-ds-dpl0-gp" + sfx, m, cpl, "8ed8", fault(m, cpl, "#GP", 0, 0x18, MOVS),
            DSCHK + "At CPL %d, 0x18 (DPL-0 data): CPL > DPL -> #GP(0x18); delivered to ring 0 with a stack switch." % cpl,
            regs={A(m): "0x18"})
        other = data_sel(m, 3 - cpl)   # the other middle ring's data: DPL 2 at CPL 1, DPL 1 at CPL 2
        if cpl == 1:
            e = trap(m, cpl, 3, 3, ["sdm:Vol.2B/MOV", "sdm:Vol.2A/INT3"], regs={})
            e["frame"]["rip"] = H(start_rip(m, cpl) + 3)
            vec(F, "mov-ds-dpl2-ok" + sfx, m, cpl, "8ed8 cc", e,
                DSCHK + "At CPL 1, 0xaa (DPL-2 data, RPL 2): max(CPL, RPL) = 2 <= DPL 2: loads; INT3 (gate DPL 3) ends the run with #BP from CPL 1.",
                regs={A(m): H(other)})
            vec(F, "mov-ss-dpl2-gp" + sfx, m, cpl, "8ed0", fault(m, cpl, "#GP", 0, 0xa8, MOVS),
                SSCHK + "At CPL 1, 0xaa: RPL 2 != CPL 1 -> #GP(0xa8).", regs={A(m): H(other)})
            vec(F, "mov-ss-dpl2-rpl1-gp" + sfx, m, cpl, "8ed0", fault(m, cpl, "#GP", 0, 0xa8, MOVS),
                SSCHK + "At CPL 1, 0xa9 (GDT 21, DPL-2 data, RPL 1 = CPL): DPL 2 != CPL 1 -> #GP(0xa8).", regs={A(m): "0xa9"})
        else:
            vec(F, "mov-ds-dpl1-gp" + sfx, m, cpl, "8ed8", fault(m, cpl, "#GP", 0, 0x90, MOVS),
                DSCHK + "At CPL 2, 0x91 (DPL-1 data): CPL 2 > DPL 1 -> #GP(0x90).", regs={A(m): H(other)})
        e = trap(m, cpl, 3, 3, MOVS + ["sdm:Vol.2A/INT3"])
        vec(F, "mov-ss-own-ok" + sfx, m, cpl, "8ed0 cc", e,
            SSCHK + "At CPL %d, SS <- 0x%x (its own ring's data, RPL = DPL = CPL): loads; INT3 ends the run." % (cpl, own),
            regs={A(m): H(own)})
    # null SS at CPL 1 in 64-bit mode
    if m == "long":
        e = trap(m, 1, 3, 3, MOVS + ["sdm:Vol.3A/6.14.2"], ss=0x1)
        vec(F, "mov-ss-null-rpl1-ok-cpl1-long", m, 1, "8ed0 cc", e,
            "64-bit mode, CPL 1: MOV SS with selector 1 (NULL, RPL 1 = CPL < 3) loads (SDM Vol. 2B MOV 64-bit "
            "exceptions). INT3 then delivers #BP to ring 0; the 64-bit frame holds the old SS = 0x1 and RSP 0x210000 (6.14.2).",
            regs={"rax": "0x1"})
        vec(F, "mov-ss-null-rpl0-gp-cpl1-long", m, 1, "8ed0", fault(m, 1, "#GP", 0, 0, MOVS),
            "64-bit mode, CPL 1: MOV SS with selector 0 (RPL 0 != CPL 1) -> #GP(selector AND FFFCH = 0).",
            regs={"rax": "0x0"})

# real mode and prot16
R = ["sdm:Vol.3A/21.1.1", "sdm:Vol.2B/MOV"]
vec(F, "mov-ds-real", "real", 0, "8ed8 8b1e0200 f4",
    hlt_end("real", 0, "8ed8 8b1e0200 f4", regs={"bx": "0x3412"}, segs={"ds": {"selector": "0x5000", "base": "0x50000"}},
            sources=R),
    "Real mode: MOV DS, AX (0x5000) sets the selector and base = 0x5000 x 16 = 0x50000, no checks (SDM Vol. 3A "
    "21.1.1); MOV BX, [2] then reads linear 0x50002 = 0x3412.", regs={"ax": "0x5000"},
    mem=[{"addr": "0x50002", "bytes": "1234"}])
vec(F, "pop-ss-real", "real", 0, "6a50 17 f4",
    hlt_end("real", 0, "6a50 17 f4", regs={"sp": "0x7c00"}, segs={"ss": {"selector": "0x50", "base": "0x500"}},
            sources=["sdm:Vol.2B/POP", "sdm:Vol.3A/21.1.1"]),
    "Real mode: PUSH 0x50; POP SS: SS = 0x50, base 0x500, SP back to 0x7c00 (2-byte slots).")
vec(F, "lds-real", "real", 0, "c5360006 f4",
    hlt_end("real", 0, "c5360006 f4", regs={"si": "0x1111"}, segs={"ds": {"selector": "0x2222", "base": "0x22220"}},
            sources=["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS", "sdm:Vol.3A/21.1.1"]),
    "Real mode: LDS SI, [0x600] (m16:16 = 0x1111, 0x2222): SI = 0x1111, DS = 0x2222, base 0x22220.",
    mem=[{"addr": "0x600", "bytes": "11112222"}])
vec(F, "lss-real", "real", 0, "0fb2260006 f4",
    hlt_end("real", 0, "0fb2260006 f4", regs={"sp": "0x1234"}, segs={"ss": {"selector": "0x50", "base": "0x500"}},
            sources=["sdm:Vol.2A/LDS-LES-LFS-LGS-LSS", "sdm:Vol.3A/21.1.1"]),
    "Real mode: LSS SP, [0x600] (0x1234, 0x0050): SP = 0x1234, SS = 0x50, base 0x500.",
    mem=[{"addr": "0x600", "bytes": "34125000"}])
vec(F, "mov-cs-ud-real", "real", 0, "8ec8", real_exc(6, 0x7c00, ["sdm:Vol.2B/MOV"]),
    "MOV CS, AX (8E C8) is invalid in every mode: SDM Vol. 2B MOV 'If the DS, ES, FS... the CS register "
    "cannot be loaded' -> #UD; real-mode delivery through IVT entry 6.")
# MOV SS switches the stack size at once (SS.B)
c = "8ed0 50 f4"
e = hlt_end("prot32", 0, c, regs={"esp": "0x1234000c"}, segs={"ss": "0xb8"},
            mem=[{"addr": "0x10000c", "bytes": "b8000000"}], sources=MOVS + ["sdm:Vol.3A/3.4.5"])
vec(F, "mov-ss-16bit-stack-push-cpl0-prot32", "prot32", 0, c, e,
    "MOV SS, AX with 0xb8 (16-bit data, base 0x100000, B = 0); PUSH EAX then uses SP, not ESP (SDM Vol. 3A "
    "3.4.5 'B flag ... stack segment: 16-bit stack pointer'): SP 0x0010 - 4 = 0x000c, ESP[31:16] = 0x1234 kept; "
    "the dword 0x000000b8 goes to linear 0x100000 + 0xc.", regs={"eax": "0xb8", "esp": "0x12340010"})

# XSA-191: NULL selector into FS in 64-bit mode clears the base (Intel)
c = "8ee0 f4"
e = hlt_end("long", 0, c, segs={"fs": {"selector": "0x0", "unusable": True}}, sources=["sdm:Vol.2B/MOV"])
e["msrs"] = {"fs_base": "0x0"}
vec(F, "mov-fs-null-clears-base-intel-cpl0-long", "long", 0, c, e,
    "XTF xsa-191 / Linux X86_BUG_NULL_SEG: on Intel a NULL selector load into FS zeroes the hidden base "
    "(SDM Vol. 2B MOV: the segment register is loaded with the null descriptor). FS_BASE was 0x500000; "
    "after MOV FS, AX (0) it reads 0.", vendor="intel", regs={"rax": "0x0"}, msrs={"fs_base": "0x500000"})

for s_, pfx, mv, nul in (("fs", "64", "8ee0 8ee3", 0), ("gs", "65", "8ee8 8eeb", 3)):
    c = mv + " " + pfx + "8b042500005000 cc"
    e = trap("long", 3, 3, 13, ["sdm:Vol.2B/MOV"], regs={"rax": "0x44332211"})
    vec(F, "xsa191-mov-%s-null-then-read-intel-long" % s_, "long", 3, c, e,
        "XTF xsa-191: MOV %s, AX (0x0f: LDT data, base 0x10000) then MOV %s, BX (NULL, RPL %d): Intel zeroes the "
        "hidden base of a NULL load (SDM Vol. 2B MOV: the register is loaded with the null descriptor; Linux "
        "X86_BUG_NULL_SEG is not set on Intel). In 64-bit mode the %s base still applies to %s: references, so "
        "MOV EAX, %s:[0x500000] reads linear 0x500000 = 0x44332211 (with a stale base it would read 0x510000). "
        "INT3 ends the run." % (s_.upper(), s_.upper(), nul, s_.upper(), s_.upper(), s_.upper()),
        vendor="intel", regs={"rax": "0xf", "rbx": H(nul)},
        ldt=[{"index": 1, "base": "0x10000", "limit": "0xfffff", "g": 1, "type": 3, "dpl": 3, "db": 1}],
        mem=[{"addr": "0x500000", "bytes": "11223344"}, {"addr": "0x510000", "bytes": "55667788"}])

# ============================================================== MOV SS / POP SS shadow (ring 0, hand)
F = "movss.json"
SH = ["sdm:Vol.3A/6.8.3", "sdm:Vol.3A/18.3.1.4", "sdm:Vol.2B/MOV"]
SHWHY = ("SDM Vol. 3A 6.8.3: a MOV SS/POP SS 'inhibits interrupts, debug exceptions, and single-step trap "
         "exceptions' until the instruction boundary after the NEXT instruction; the single-step #DB (a trap, "
         "18.3.1.4) is therefore reported after that instruction. ")
QSS = {"source": "qemu-7.2:qemu64", "fields": ["expect.segs.ss"],
       "why": "QEMU 7.2 loads a NULL SS on an IST stack switch at CPL 0 (tests/kernel/README.md); "
              "the SDM changes SS only on a privilege change (Vol. 3A 6.14.4)"}
# legacy vectors at CPL 1: the judges' kernel enters a legacy CPL-0 vector with POPFD, which
# cannot start it with TF set; IRET to CPL 1 can.
for m, cpl in (("prot32", 1), ("long", 0)):
    sfx = "-cpl%d-%s" % (cpl, m)
    own = data_sel(m, cpl)
    nj = [QSS] if m == "long" else None
    c = "8ed0 90 90"
    e = trap(m, cpl, 1, 3, SH, rflags=0x102)
    if nj: e["not_judged"] = list(nj)
    vec(F, "mov-ss-tf-shadow" + sfx, m, cpl, c, e,
        SHWHY + "TF = 1, MOV SS, AX (0x%x, the current SS); NOP: no #DB after the MOV SS, one after the NOP: "
        "RIP = start + 3." % own, regs={A(m): H(own), FL(m): "0x102"})
    c = "8ed8 90"
    e = trap(m, cpl, 1, 2, ["sdm:Vol.3A/18.3.1.4"], rflags=0x102)
    if nj: e["not_judged"] = list(nj)
    vec(F, "mov-ds-tf-no-shadow" + sfx, m, cpl, c, e,
        "MOV DS is no SS load: the single-step #DB comes right after it (SDM Vol. 3A 18.3.1.4), RIP = start + 2.",
        regs={A(m): H(own), FL(m): "0x102"})
r1 = start_rsp("prot32", 1)
c = "17 90 90"
e = trap("prot32", 1, 1, 2, SH + ["sdm:Vol.2B/POP"], rflags=0x102, rsp=r1)
vec(F, "pop-ss-tf-shadow-cpl1-prot32", "prot32", 1, c, e,
    SHWHY + "CPL 1, ESP = 0x%x holds 0x91 (its own SS); TF = 1; POP SS; NOP: #DB after the NOP (RIP = start + 2), "
    "ESP = 0x%x in the frame." % (r1 - 4, r1),
    regs={"esp": H(r1 - 4), "eflags": "0x102"}, mem=[{"addr": H(r1 - 4), "bytes": "91000000"}])
c = "0fb2" + absm("prot32", 4, 0x500000) + " 90"
e = trap("prot32", 1, 1, 7, ["sdm:Vol.3A/18.3.1.4", "sdm:Vol.2A/LDS-LES-LFS-LGS-LSS"], rflags=0x102, rsp=0x20ff00)
vec(F, "lss-tf-no-shadow-cpl1-prot32", "prot32", 1, c, e,
    "LSS is not among the instructions that inhibit (SDM Vol. 3A 6.8.3 names MOV SS and POP SS; Vol. 2A LSS "
    "has no such note): CPL 1, TF = 1, LSS ESP, [m] -> SS 0x91, ESP 0x20ff00; #DB right after it (RIP = start + 7).",
    regs={"eflags": "0x102"}, mem=[{"addr": "0x500000", "bytes": "00ff2000 9100"}])


# ============================================================== descriptor-table instructions (hand)
F = "descriptors.json"
DT = lambda i: ["sdm:Vol.2A/" + i]


def tss12(mode, **f):
    d = {"index": 12, "s": 0, "type": 9, "base": "0x3000", "limit": "0x67", "db": 0, "g": 0, "dpl": 0}
    d.update(f)
    return d


for m in ("prot32", "long"):
    sfx = "-cpl0-" + m
    M = 0x500000
    bl = 8 if m == "long" else 4
    for ins, lop, sop, tab, lim, base in (("gdt", 2, 0, "GDTR", 0xff, 0x1000), ("idt", 3, 1, "IDTR", 0x3ff, 0x2000)):
        c = "0f01" + absm(m, lop, M) + " 0f01" + absm(m, sop, M + 0x10) + " f4"
        img = le(lim, 2) + le(base, bl)
        e = hlt_end(m, 0, c, mem=[{"addr": H(M + 0x10), "bytes": img}], sources=DT("LGDT-LIDT") + DT("SGDT") + DT("SIDT"))
        vec(F, "l%s-s%s-roundtrip%s" % (ins, ins, sfx), m, 0, c, e,
            "L%s [0x500000] with limit 0x%x, base 0x%x (%d-byte image: 2 + %d, SDM Vol. 2A LGDT/LIDT), then "
            "S%s [0x500010] stores the same %d bytes (Vol. 2B SGDT/SIDT: %s)." % (
                ins.upper(), lim, base, 2 + bl, bl, ins.upper(), 2 + bl,
                "64-bit mode stores 2 + 8" if m == "long" else "2 + 4 bytes, the full 32-bit base"),
            mem=[{"addr": H(M), "bytes": img}])
    if m == "long":
        for ins, lop in (("gdt", 2), ("idt", 3)):
            c = "0f01" + absm(m, lop, M)
            vec(F, "l%s-noncanonical-gp%s" % (ins, sfx), m, 0, c, fault(m, 0, "#GP", 0, 0, DT("LGDT-LIDT")),
                "L%s in 64-bit mode with base 0x0000800000001000 (not canonical) -> #GP(0), the table register "
                "unchanged. The SDM's 64-bit #GP(0) line speaks of a non-canonical memory operand; the processor "
                "also refuses a non-canonical loaded base, as Bochs (LGDT64/LIDT64) and KVM's emulator "
                "(em_lgdt_lidt) do and the EDGE-CASES hypervisor tests expect (SDM Vol. 3A 2.4.1: the GDTR/IDTR "
                "base is a canonical linear address in IA-32e mode)." % ins.upper(),
                mem=[{"addr": H(M), "bytes": "ff00" + le(0x0000800000001000, 8)}])
    else:
        c = "66 0f01" + absm(m, 2, M) + " 0f01" + absm(m, 0, M + 0x10) + " f4"
        e = hlt_end(m, 0, c, mem=[{"addr": H(M + 0x10), "bytes": "ef00 00100000"}], sources=DT("LGDT-LIDT") + DT("SGDT"))
        vec(F, "lgdt-16bit-opsize-24bit-base" + sfx, m, 0, c, e,
            "66 LGDT: 'IF OperandSize = 16 THEN GDTR(Base) <- SRC[40:16] AND 00FFFFFFH' (SDM Vol. 2A LGDT): the "
            "image's base 0xaa001000 loads as 0x001000; SGDT then stores limit 0xef, base 0x00001000.",
            mem=[{"addr": H(M), "bytes": "ef00 001000aa"}])
    for cpl in (1, 2):
        for ins, op in (("lgdt", "0f01" + absm(m, 2, M)), ("lidt", "0f01" + absm(m, 3, M)),
                        ("lldt", "0f00d0"), ("ltr", "0f00d8")):
            if cpl == 2 and ins in ("lidt", "lldt"):
                continue
            vec(F, "%s-gp-cpl%d-%s" % (ins, cpl, m), m, cpl, op, fault(m, cpl, "#GP", 0, 0, DT(ins.upper())),
                "%s at CPL %d: SDM Vol. 2A %s '#GP(0) if the current privilege level is not 0' (before any "
                "operand is used); delivered to ring 0 through gate 13 with a stack switch." % (ins.upper(), cpl, ins.upper()),
                regs={A(m): "0x50"})
    # ---- SGDT/SIDT/SLDT/STR at CPL 3 (UMIP off)
    c = "0f01" + absm(m, 0, M) + " 0f01" + absm(m, 1, M + 0x10) + " cc"
    n = len(c.replace(" ", "")) // 2
    gl, il = (0xef, 0xfff) if m == "long" else (0xef, 0x7ff)
    e = trap(m, 3, 3, n, DT("SGDT") + DT("SIDT"),
             mem=[{"addr": H(M), "bytes": le(gl, 2) + le(0x1000, bl)}, {"addr": H(M + 0x10), "bytes": le(il, 2) + le(0x2000, bl)}])
    vec(F, "sgdt-sidt-cpl3-umip-off-" + m, m, 3, c, e,
        "SGDT/SIDT are not privileged (SDM Vol. 2B SGDT: #GP only when CR4.UMIP = 1 and CPL > 0; the standard "
        "machine has CR4.UMIP = 0, UMIP is left for later): at CPL 3 they store GDTR (0xef, 0x1000) and IDTR "
        "(0x%x, 0x2000), %d bytes each. INT3 ends the run. (The native judge cannot see this: Linux sets "
        "UMIP and emulates the instructions.)" % (il, 2 + bl))
    c = "0f00c8 0f00c3 cc"
    e = trap(m, 3, 3, 7, DT("STR") + DT("SLDT"), regs={A(m): "0x40", "rbx" if m == "long" else "ebx": "0x50"})
    vec(F, "str-sldt-cpl3-umip-off-" + m, m, 3, c, e,
        "STR EAX; SLDT EBX at CPL 3 with UMIP off (SDM Vol. 2B STR/SLDT: a 32-bit register gets the selector "
        "zero-extended): EAX = 0x40 (TR), EBX = 0x50 (LDTR, the vector's LDT); both were all ones before%s." % (
            ", RAX/RBX bits 63:32 cleared" if m == "long" else ""),
        regs={A(m): "0xffffffffffffffff" if m == "long" else "0xffffffff",
              ("rbx" if m == "long" else "ebx"): "0xffffffffffffffff" if m == "long" else "0xffffffff"}, ldt=[])
    # ---- STR/SLDT operand sizes at CPL 0
    c = "66 0f00c8 f4"
    e = hlt_end(m, 0, c, regs={A(m): "0xffffffffffff0040" if m == "long" else "0xffff0040"}, sources=DT("STR"))
    vec(F, "str-r16-merges" + sfx, m, 0, c, e,
        "66 STR AX: a 16-bit register destination receives the 16-bit selector 0x40; the rest of the register "
        "is untouched (SDM Vol. 2B STR: 'the operand size is 16 bits' for r16).",
        regs={A(m): "0xffffffffffffffff" if m == "long" else "0xffffffff"})
    c = "0f00" + absm(m, 0, M) + " f4"
    e = hlt_end(m, 0, c, mem=[{"addr": H(M), "bytes": "5000 aaaa"}], sources=DT("SLDT"))
    vec(F, "sldt-m16" + sfx, m, 0, c, e,
        "SLDT [m] writes 2 bytes, the LDTR selector 0x50; the next bytes (0xaaaa) stay (SDM Vol. 2B SLDT: m16).",
        mem=[{"addr": H(M), "bytes": "aaaa aaaa"}], ldt=[])

    # ---- LLDT
    ldtd = {"index": 12, "s": 0, "type": 2, "base": "0x6000", "limit": "0xf", "dpl": 0}
    LL = DT("LLDT")
    LLWHY = ("SDM Vol. 2A LLDT: CPL != 0 -> #GP(0); selector NULL -> LDTR invalid; TI = 1 or index beyond "
             "the GDT limit -> #GP(selector); descriptor not an LDT -> #GP(selector); not present -> "
             "#NP(selector)%s. " % ("; in IA-32e mode the descriptor is 16 bytes, its base must be canonical "
                                    "and the upper type field 0 -> #GP(selector)" if m == "long" else ""))
    ldt1 = [{"index": 1, "base": "0x0", "limit": "0xfffff", "g": 1, "db": 1, "type": 3, "dpl": 0}]
    c = "0f00d0 8ed9"
    vec(F, "lldt-null-then-ldt-load-gp" + sfx, m, 0, c, fault(m, 0, "#GP", 3, 0xc, LL + MOVS),
        LLWHY + "LLDT AX (0) marks LDTR invalid; the next MOV DS, CX (0x0c, LDT entry 1, valid before) now "
        "faults #GP(0x0c) (TI = 1 with an invalid LDTR), at offset 3.", regs={A(m): "0x0", "ecx": "0xc"}, ldt=ldt1)
    c = "0f00d0 f4"
    gd = [ldtd] if m != "long" else [{"index": 12, "raw": H(0x0000820060000000 | 0xf), "raw_hi": "0x0"}]
    e = hlt_end(m, 0, c, segs={"ldtr": {"selector": "0x63", "base": "0x6000", "limit": "0xf"}}, sources=LL)
    vec(F, "lldt-rpl3-ok" + sfx, m, 0, c, e,
        LLWHY + "LLDT with 0x63 (GDT 12: an LDT descriptor, base 0x6000, limit 0xf; RPL 3 is not checked): "
        "LDTR = 0x63 with that base and limit.", regs={A(m): "0x63"}, gdt=gd)
    for nm, sel, gdt, v, err, why in (
            ("ti1", 0x54, [], 13, 0x54, "TI = 1 (0x54)"),
            ("ti1-index0", 0x4, [], 13, 0x4, "0x04: bits 15:2 not all zero (TI = 1), so not NULL: TI = 1"),
            ("beyond-gdt", 0xf0, [], 13, 0xf0, "index 30 beyond the GDT limit 0xef"),
            ("data", 0x18, [], 13, 0x18, "0x18 is a data segment"),
            ("tss", 0x40, [], 13, 0x40, "0x40 is a TSS"),
            ("not-present", 0x60, [dict(ldtd, p=0)] if m != "long" else
             [{"index": 12, "raw": H(0x0000020060000000 | 0xf), "raw_hi": "0x0"}], 11, 0x60, "GDT 12: an LDT descriptor, not present")):
        vn = "#GP" if v == 13 else "#NP"
        kw = {"regs": {A(m): H(sel)}}
        if gdt: kw["gdt"] = gdt
        vec(F, "lldt-%s-%s%s" % (nm, vn[1:].lower(), sfx), m, 0, "0f00d0", fault(m, 0, vn, 0, err, LL),
            LLWHY + why + " -> %s(0x%x)." % (vn, err), **kw)
    if m == "long":
        vec(F, "lldt-noncanonical-base-gp" + sfx, m, 0, "0f00d0", fault(m, 0, "#GP", 0, 0x60, LL),
            LLWHY + "GDT 12-13: a present LDT descriptor with base[63:32] = 0x00008000 (base 0x0000800000006000, "
            "not canonical) -> #GP(0x60).", regs={"rax": "0x60"},
            gdt=[{"index": 12, "raw": H(0x0000820060000000 | 0xf), "raw_hi": "0x8000"}])
        vec(F, "lldt-16byte-crosses-gdt-limit-gp" + sfx, m, 0, "0f00d0", fault(m, 0, "#GP", 0, 0xe8, LL),
            LLWHY + "GDT 29 (0xe8, the last entry, limit 0xef) holds an LDT descriptor: its 16 bytes would end at "
            "0xf7 > 0xef -> #GP(0xe8).", regs={"rax": "0xe8"},
            gdt=[{"index": 29, "raw": H(0x0000820060000000 | 0xf)}])

    # ---- LTR
    LT = DT("LTR")
    LTWHY = ("SDM Vol. 2A LTR: CPL != 0 -> #GP(0); NULL selector -> #GP(0); TI = 1 or beyond the GDT limit -> "
             "#GP(selector); not an available TSS -> #GP(selector); not present -> #NP(selector)%s; then the "
             "descriptor is marked busy in memory and TR loaded. " % (
                 "; IA-32e: 16-byte descriptor, type 9 (64-bit TSS) only, canonical base" if m == "long" else ""))
    tssd = lambda **f: [dict(tss12(m), **f)] if m != "long" else \
        [{"index": 12, "raw": H((0x0000890030000067 & ~(0xff << 40)) | ((0x80 * f.get("p", 1) | f.get("type", 9)) << 40)),
          "raw_hi": H(f.get("hi", 0))}]
    c = "0f00d8 f4"
    e = hlt_end(m, 0, c, segs={"tr": {"selector": "0x60", "base": "0x3000", "limit": "0x67", "type": 11}},
                mem=[{"addr": H(GDT_BYTE(12)), "bytes": "8b"}], sources=LT)
    vec(F, "ltr-available-sets-busy" + sfx, m, 0, c, e,
        LTWHY + "GDT 12: an available %s TSS (type 9, base 0x3000, limit 0x67): TR = 0x60, and the access byte "
        "in the GDT becomes 8BH (busy, type 11)." % ("64-bit" if m == "long" else "32-bit"),
        regs={A(m): "0x60"}, gdt=tssd())
    c = "0f00d8 f4"
    e = hlt_end(m, 0, c, segs={"tr": {"selector": "0x63", "type": 11}}, mem=[{"addr": H(GDT_BYTE(12)), "bytes": "8b"}], sources=LT)
    vec(F, "ltr-rpl3-ok" + sfx, m, 0, c, e, LTWHY + "Selector 0x63 (RPL 3 is not checked): TR = 0x63, busy written.",
        regs={A(m): "0x63"}, gdt=tssd())
    for nm, sel, gdt, v, err, why in (
            ("busy", 0x40, None, 13, 0x40, "0x40 is the current, busy TSS (type 11)"),
            ("null", 0x0, None, 13, 0, "a NULL selector"),
            ("null-rpl3", 0x3, None, 13, 0, "selector 3 (NULL, RPL 3)"),
            ("ti1", 0x64, None, 13, 0x64, "TI = 1"),
            ("beyond-gdt", 0xf0, None, 13, 0xf0, "index 30 beyond the GDT limit"),
            ("data", 0x18, None, 13, 0x18, "a data segment"),
            ("ldt", 0x50, "ldt", 13, 0x50, "an LDT descriptor"),
            ("not-present", 0x60, tssd(p=0), 11, 0x60, "an available TSS, not present (the busy bit is not written: access byte stays 09H)")):
        vn = "#GP" if v == 13 else "#NP"
        kw = {"regs": {A(m): H(sel)}}
        if gdt == "ldt": kw["ldt"] = []
        elif gdt: kw["gdt"] = gdt
        mem = [{"addr": H(GDT_BYTE(12)), "bytes": "09"}] if nm == "not-present" else None
        vec(F, "ltr-%s-%s%s" % (nm, vn[1:].lower(), sfx), m, 0, "0f00d8", fault(m, 0, vn, 0, err, LT, mem=mem),
            LTWHY + why + " -> %s(0x%x)." % (vn, err), **kw)
    if m == "long":
        vec(F, "ltr-16bit-tss-gp" + sfx, m, 0, "0f00d8", fault(m, 0, "#GP", 0, 0x60, LT),
            LTWHY + "GDT 12: type 1 (an available 16-bit TSS): not valid in IA-32e mode (SDM Vol. 3A 8.7, LTR) -> #GP(0x60).",
            regs={"rax": "0x60"}, gdt=tssd(type=1))
        vec(F, "ltr-noncanonical-base-gp" + sfx, m, 0, "0f00d8", fault(m, 0, "#GP", 0, 0x60, LT),
            LTWHY + "GDT 12-13: an available 64-bit TSS with base[63:32] = 0xffff0000 (base 0xffff000000003000: "
            "bit 47 = 0 while bits 63:48 are 1, not canonical) -> #GP(0x60).",
            regs={"rax": "0x60"}, gdt=tssd(hi=0xffff0000))
    else:
        c = "0f00d8 f4"
        e = hlt_end(m, 0, c, segs={"tr": {"selector": "0x60", "type": 3}}, mem=[{"addr": H(GDT_BYTE(12)), "bytes": "83"}], sources=LT)
        vec(F, "ltr-16bit-tss-ok" + sfx, m, 0, c, e,
            LTWHY + "GDT 12: an available 16-bit TSS (type 1) is valid in legacy protected mode: TR = 0x60, type 3, "
            "access byte 83H (busy).", regs={"eax": "0x60"}, gdt=tssd(type=1))

    # ---- LAR / LSL / VERR / VERW on system descriptors and gates (CPL 0)
    PR = ["sdm:Vol.2A/LAR", "sdm:Vol.2A/LSL", "sdm:Vol.2B/VERR-VERW"]
    ia = m == "long"
    sysd = [
        # name, gdt entry, lar valid, lsl valid, lar value
        ("tss-busy", None, 0x40, True, True, 0x00008b00, 0x67),
        ("ldt", "ldt", 0x50, True, True, 0x00008200, 0x07),
        ("tss-avail", "tss", 0x60, True, True, 0x00008900, 0x67),
        ("tss16", "tss16", 0x60, not ia, not ia, 0x00008100, 0x67),
        ("callgate", "cg", 0x60, True, False, 0x0000ec00, None),
        ("intgate", "ig", 0x60, False, False, None, None),
        ("taskgate", "tg", 0x60, not ia, False, 0x0000e500, None),
        ("reserved-type8", "r8", 0x60, False, False, None, None),
    ]
    for nm, kind, sel, larok, lslok, larv, lslv in sysd:
        kw = {}
        if kind == "ldt":
            kw["ldt"] = []  # an empty LDT: limit 7
        elif kind in ("tss", "tss16"):
            kw["gdt"] = tssd(type=9 if kind == "tss" else 1)
        elif kind == "cg":
            kw["gdt"] = [{"index": 12, "selector": "0x10", "offset": "0x4000", "dpl": 3}]
        elif kind in ("ig", "tg", "r8"):
            t = {"ig": 14, "tg": 5, "r8": 8}[kind]
            lo = (0x80 | (3 << 5) | t) << 40 | 0x10 << 16 | 0x4000
            kw["gdt"] = [{"index": 12, "raw": H(lo), "raw_hi": "0x0"}] if ia else [{"index": 12, "raw": H(lo)}]
        c = "0f02c1 9c 0f03d1 9c f4"
        r = {"ecx": H(sel), "eax": "0x11111111", "edx": "0x22222222"}
        exp = {"eax": H(larv) if larok else "0x11111111", "edx": H(lslv) if lslok else "0x22222222"}
        fl = lambda ok: "%02x000000" % (0x42 if ok else 0x02) if not ia else "%02x00000000000000" % (0x42 if ok else 0x02)
        sp = start_rsp(m, 0)
        slot = 8 if ia else 4
        e = hlt_end(m, 0, c, regs=dict(exp, **{SP(m): H(sp - 2 * slot)}),
                    mem=[{"addr": H(sp - 2 * slot), "bytes": fl(lslok) + fl(larok)}], sources=PR,
                    rflags=0x42 if lslok else 0x2)
        vec(F, "lar-lsl-%s%s" % (nm, sfx), m, 0, c, e,
            "LAR EAX, ECX; PUSHF; LSL EDX, ECX; PUSHF with ECX = 0x%x (%s) at CPL 0. SDM Vol. 2A LAR Table 3-54 / "
            "LSL Table 3-61 (%s column): LAR %s, LSL %s. LAR's value is the descriptor's second dword AND "
            "00FxFF00H; LSL's the byte-granular limit. ZF = 1 on success, else 0 and the destination is "
            "unchanged; the two pushed flag images record each ZF." % (
                sel, nm, "IA-32e" if ia else "legacy",
                ("accepts it: EAX = 0x%x" % larv) if larok else "rejects it (ZF = 0)",
                ("accepts it: EDX = 0x%x" % lslv) if lslok else "rejects it (ZF = 0)"),
            regs=r, **kw)
    c = "0f00e1 9c 0f00e9 9c f4"
    for nm, sel, rok, wok, why in (("tss", 0x40, False, False, "a system descriptor (TSS): neither"),
                                   ("code", 0x10, True, False, "readable code: VERR yes, VERW no"),
                                   ("data", 0x18, True, True, "writable data: both"),
                                   ("data-rpl3", 0x1b, False, False, "DPL-0 data with RPL 3 > DPL: neither")):
        sp = start_rsp(m, 0)
        slot = 8 if ia else 4
        fl = lambda ok: ("%02x" % (0x42 if ok else 0x02)) + "00" * (slot - 1)
        e = hlt_end(m, 0, c, regs={SP(m): H(sp - 2 * slot)}, rflags=0x42 if wok else 0x2,
                    mem=[{"addr": H(sp - 2 * slot), "bytes": fl(wok) + fl(rok)}], sources=["sdm:Vol.2B/VERR-VERW"])
        vec(F, "verr-verw-%s%s" % (nm, sfx), m, 0, c, e,
            "VERR CX; PUSHF; VERW CX; PUSHF with CX = 0x%x at CPL 0: SDM Vol. 2B VERR/VERW: ZF = 1 when the "
            "segment is visible (DPL >= CPL and DPL >= RPL, or conforming code) and readable / writable; system "
            "descriptors give ZF = 0. Here: %s." % (sel, why), regs={"ecx": H(sel)})

# real-mode #UD for the protected-mode-only instructions
for nm, code in (("sldt", "0f00c0"), ("str", "0f00c8"), ("lldt", "0f00d0"), ("ltr", "0f00d8"), ("verr", "0f00e0"),
                 ("verw", "0f00e8"), ("lar", "0f02c1"), ("lsl", "0f03c1"), ("arpl", "63c1")):
    vec(F, nm + "-ud-real", "real", 0, code, real_exc(6, 0x7c00, ["sdm:Vol.2A/" + nm.upper()]),
        "%s is not recognized in real-address mode: SDM Vol. 2A/2B %s 'Real-Address Mode Exceptions: #UD' -> "
        "#UD through IVT entry 6 (FLAGS, CS, IP = 0x7c00 pushed)." % (nm.upper(), nm.upper()))
c = "0f01160006 0f01060206 f4"
e = hlt_end("real", 0, c, mem=[{"addr": "0x602", "bytes": "ef00 00100000"}], sources=DT("LGDT-LIDT") + DT("SGDT"))
vec(F, "lgdt-sgdt-real", "real", 0, c, e,
    "Real mode: LGDT [0x600] (16-bit operand size: limit 0xef, base 0xaa001000 AND 00FFFFFFH = 0x001000, SDM "
    "Vol. 2A LGDT) then SGDT [0x602] stores limit 0xef and the 32-bit base 0x00001000 (6 bytes).",
    mem=[{"addr": "0x600", "bytes": "ef00 001000aa"}])

# ============================================================== IOPL (hand, ring-0 judges)
F = "iopl.json"
CLI = ["sdm:Vol.2A/CLI", "sdm:Vol.2B/STI"]
for m in ("prot32", "compat", "long"):
    for ins, op, f0, f1 in (("cli", "fa", 0x3202, 0x3002), ("sti", "fb", 0x3002, 0x3202)):
        e = trap(m, 3, 3, 2, CLI, rflags=f1)
        vec(F, "%s-iopl3-cpl3-%s" % (ins, m), m, 3, op + " cc", e,
            "%s at CPL 3 with IOPL 3: SDM Vol. 2A CLI / 2B STI 'IF IOPL >= CPL THEN IF <- %d': allowed (Linux "
            "would answer this itself: iopl.c; here it is the CPU). EFLAGS 0x%x -> 0x%x, seen in the #BP frame." % (
                ins.upper(), ins == "sti", f0, f1), regs={FL(m): H(f0)})
    e = fault(m, 3, "#GP", 0, 0, CLI, rflags=0x2202)
    vec(F, "cli-iopl2-cpl3-gp-" + m, m, 3, "fa", e,
        "CLI at CPL 3 with IOPL 2 < CPL (CR4.PVI = 0): #GP(0) (SDM Vol. 2A CLI).", regs={FL(m): "0x2202"})
for m in ("prot32", "long"):
    e = trap(m, 1, 3, 2, CLI, rflags=0x1002)
    vec(F, "cli-iopl1-cpl1-%s" % m, m, 1, "fa cc", e, "CLI at CPL 1 with IOPL 1 = CPL: allowed, IF <- 0.",
        regs={FL(m): "0x1202"})
    e = fault(m, 2, "#GP", 0, 0, CLI, rflags=0x1202)
    vec(F, "sti-iopl1-cpl2-gp-%s" % m, m, 2, "fb", e, "STI at CPL 2 with IOPL 1 < CPL: #GP(0).", regs={FL(m): "0x1202"})
    e = fault(m, 1, "#GP", 0, 0, CLI, rflags=0x202)
    vec(F, "cli-iopl0-cpl1-gp-%s" % m, m, 1, "fa", e, "CLI at CPL 1 with IOPL 0: #GP(0).", regs={FL(m): "0x202"})
    IO = ["sdm:Vol.2A/IN", "sdm:Vol.2B/OUT", "sdm:Vol.1/19.5"]
    for ins, op, cpl, iopl in (("in-dx", "ec", 3, 2), ("out-dx", "ee", 3, 2), ("insb", "6c", 3, 2), ("outsw", "66 6f", 3, 1),
                               ("in-imm", "e480", 1, 0), ("out-imm", "e680", 2, 1)):
        e = fault(m, cpl, "#GP", 0, 0, IO, rflags=0x2 | iopl << 12)
        vec(F, "%s-iopl%d-cpl%d-gp-%s" % (ins, iopl, cpl, m), m, cpl, op, e,
            "%s at CPL %d with IOPL %d < CPL: SDM Vol. 1 19.5.1 / the IN/OUT/INS/OUTS pseudo-code: the I/O "
            "permission bitmap decides; the standard TSS (limit 0x67, I/O map base 0x68) has none, so every "
            "port is denied -> #GP(0) at the instruction." % (ins.upper(), cpl, iopl),
            regs={FL(m): H(0x2 | iopl << 12), "edx": "0x80"})
for ins, op, f0, f1 in (("cli", "fa", 0x202, 0x2), ("sti", "fb", 0x2, 0x202)):
    e = hlt_end("real", 0, op + " f4", rflags=f1, sources=CLI)
    vec(F, ins + "-real", "real", 0, op + " f4", e,
        "Real mode: %s always changes IF (SDM pseudo-code 'IF PE = 0 THEN IF <- %d'): FLAGS 0x%x -> 0x%x." % (
            ins.upper(), ins == "sti", f0, f1), regs={"flags": H(f0)})
# POPF at CPL 0..3 (ring-0 judges)
PF = ["sdm:Vol.2B/POPF", "apm:Vol.3/POPF"]
ALL = 0x3f7cd5   # every flag but TF and IF, incl. IOPL 3, NT, RF, VM, AC, VIF, VIP, ID
for m in ("prot32", "long"):
    c = ("68" + le(ALL, 4)) + " 9d 9c f4"
    sp = start_rsp(m, 0)
    res = 0x2 | (ALL & 0x247cd5)
    slot = 8 if m == "long" else 4
    e = hlt_end(m, 0, c, regs={SP(m): H(sp - slot)}, rflags=res,
                mem=[{"addr": H(sp - slot), "bytes": le(res, slot)}], sources=PF)
    vec(F, "popf-all-flags-cpl0-" + m, m, 0, c, e,
        "PUSH 0x%x; POPF%s; PUSHF at CPL 0: SDM Vol. 2B POPF, protected mode CPL 0: 'All non-reserved flags "
        "except RF, VIP, VIF, and VM can be modified; VIP, VIF, VM, and all reserved bits are unaffected. RF is "
        "cleared.' IOPL 3, NT, AC, ID and the arithmetic flags, DF load; RF, VM, VIF, VIP stay 0: EFLAGS = 0x%x." % (
            ALL, "Q" if m == "long" else "D", res))
    c = "68" + le(0x3002, 4) + " 9d cc"
    e = trap(m, 1, 3, 7, PF, rflags=0x1002, rsp=start_rsp(m, 1))
    vec(F, "popf-iopl1-cpl1-clears-if-keeps-iopl-" + m, m, 1, c, e,
        "At CPL 1 with IOPL 1, POPF of 0x3002: 'IF CPL <= IOPL ... IF is changed; IOPL unaffected (CPL > 0)': "
        "IF -> 0, IOPL stays 1: EFLAGS 0x1202 -> 0x1002.", regs={FL(m): "0x1202"})
    c = "68" + le(0x3002, 4) + " 9d cc"
    e = trap(m, 1, 3, 7, PF, rflags=0x202, rsp=start_rsp(m, 1))
    vec(F, "popf-iopl0-cpl1-keeps-if-" + m, m, 1, c, e,
        "At CPL 1 with IOPL 0 < CPL, POPF of 0x3002: neither IF nor IOPL change (no fault: the bits are "
        "silently kept): EFLAGS stays 0x202.", regs={FL(m): "0x202"})
    c = "68" + le(0x0002, 4) + " 9d cc"
    e = trap(m, 3, 3, 7, PF, rflags=0x3002, rsp=start_rsp(m, 3))
    vec(F, "popf-iopl3-cpl3-clears-if-" + m, m, 3, c, e,
        "At CPL 3 with IOPL 3, POPF of 0x2: CPL <= IOPL so IF -> 0; IOPL unaffected at CPL > 0: 0x3202 -> 0x3002.",
        regs={FL(m): "0x3202"})
    c = "9c 58 cc"
    e = trap(m, 3, 3, 3, ["sdm:Vol.2B/PUSHF"], rflags=0x3202, regs={A(m): "0x3202"})
    vec(F, "pushf-iopl3-cpl3-" + m, m, 3, c, e,
        "PUSHF at CPL 3 with IOPL 3 pushes EFLAGS as they are (RF and VM read as 0 in the image; SDM Vol. 2B "
        "PUSHF): POP EAX = 0x3202.", regs={FL(m): "0x3202"})
c = "68" + le(0x3002, 2) + " 9d f4"
e = hlt_end("real", 0, c, rflags=0x3002, sources=PF)
vec(F, "popf-iopl-real", "real", 0, c, e,
    "Real mode: PUSH 0x3002; POPF loads IOPL (SDM Vol. 2B POPF: 'IF VM = 0 and PE = 0 ... all "
    "non-reserved flags can be modified' for 16 bits): FLAGS = 0x3002 (IF stays 0: no interrupt can end the HLT).")

# ============================================================== native (CPL 3, recorded from the host)
NATIVE = {}





def nvec(fname, name, mode, code, **kw):
    d = {"name": name, "vendor": "amd", "mode": mode, "cpl": 3, "code": code}
    d.update(kw)
    NATIVE.setdefault(fname, []).append(d)


def nldt(**f):
    e = {"index": 1, "base": "0x500000", "limit": "0xfff", "type": 3, "dpl": 3, "db": 1}
    e.update(f)
    return e


NL = "loads-native.json"
for m in ("long", "compat", "prot32"):
    C = "rcx" if m == "long" else "ecx"
    for sel in (0x0, 0x3, 0x2b, 0x18, 0x23, 0x33, 0x0f, 0x0c):
        if m == "long":
            nvec(NL, "pop-fs-%02x-long" % sel, m, "6a%02x 0fa1 cc" % sel, ldt=[nldt()])
        else:
            nvec(NL, "pop-ds-%02x-%s" % (sel, m), m, "6a%02x 1f cc" % sel, ldt=[nldt()])
            nvec(NL, "pop-ss-%02x-%s" % (sel, m), m, "6a%02x 17 cc" % sel, ldt=[nldt()])
    for sel in (0x0, 0x2b, 0x18, 0x0f):
        mm = 0x500100
        ptr = [{"addr": H(mm), "bytes": le(0x40fff0, 4) + le(sel, 2)}]
        ins_l = (("lss", "0fb2", 4), ("lfs", "0fb4", 1), ("lgs", "0fb5", 1))
        if m != "long":
            ins_l += (("lds", "c5", 1), ("les", "c4", 1))
        for ins, op, reg in ins_l:
            nvec(NL, "%s-%02x-%s" % (ins, sel, m), m, op + absm(m, reg, mm) + " cc",
                 regs={C: "0x1111"}, ldt=[nldt()], mem=ptr)
    if m == "long":
        nvec(NL, "mov-ss-null-rpl0-long", m, "8ed0 cc", regs={"rax": "0x0"})
        # XSA-191: NULL into FS/GS after a based LDT segment, then an FS/GS-relative read
        for s_, pfx, mv in (("fs", "64", "8ee0 8ee3"), ("gs", "65", "8ee8 8eeb")):
            nvec(NL, "xsa191-mov-%s-null-then-read-long" % s_, m, mv + " " + pfx + "8b042500005000 cc",
                 regs={"rax": "0xf", "rbx": "0x3" if s_ == "gs" else "0x0"},
                 ldt=[nldt(base="0x10000", limit="0xfffff", g=1)],
                 mem=[{"addr": "0x500000", "bytes": "11223344"}, {"addr": "0x510000", "bytes": "55667788"}])
# prot16 loads
for sel in (0x2b, 0x18, 0x0, 0xf):
    nvec(NL, "mov-ds-%02x-prot16" % sel, "prot16", "8ed8 cc", regs={"ax": H(sel)}, ldt=[nldt()])
    nvec(NL, "mov-ss-%02x-prot16" % sel, "prot16", "8ed0 cc", regs={"ax": H(sel)}, ldt=[nldt()])
    nvec(NL, "pop-es-%02x-prot16" % sel, "prot16", "6a%02x 07 cc" % sel, ldt=[nldt()])

ND = "descriptors-native.json"
# modify_ldt always sets the accessed bit: every type here is an accessed one. Each vector uses LDT
# entry 1 only: the native server "clears" entries with an all-zero user_desc, which Linux turns into a
# present data segment (reported), so an entry >= 2 would leak into later cases' beyond-LDT probes.
LDTS = {"data": nldt(type=3), "ro-g1": nldt(type=1, limit="0xabcde", g=1), "down16": nldt(type=7, db=0),
        "code32-g1": nldt(type=0xb, base="0x0", limit="0xfffff", g=1), "xonly": nldt(type=0x9, limit="0x1234"),
        "conf-np": nldt(type=0xf, p=0), "data-np": nldt(type=3, p=0), "code16": nldt(type=0xb, db=0),
        "conf-xonly-np": nldt(type=0xd, p=0)}
SELS = [(0x0, None), (0x3, None), (0x8, None), (0x10, None), (0x18, None), (0x1b, None), (0x23, None),
        (0x2b, None), (0x33, None), (0x38, None), (0x40, None), (0x0c, "data"), (0x0c, "conf-np")] + \
       [(0x0f, k) for k in LDTS]
for m in ("long", "compat"):
    for sel, lk in SELS:
        big = "0xffffffffffffffff" if m == "long" else "0xffffffff"
        rs = {"rcx" if m == "long" else "ecx": H(sel), A(m): big, "rdx" if m == "long" else "edx": big,
              "rbx" if m == "long" else "ebx": "0x0", FL(m): "0x202"}
        # LAR EAX,ECX; SETZ BL; LSL EDX,ECX; SETZ BH; VERR CX; PUSHF; VERW CX; INT3 (VERW's ZF in the frame)
        code = "0f02c1 0f94c3 0f03d1 0f94c7 0f00e1 9c 0f00e9 cc"
        kw = {"ldt": [LDTS[lk]]} if lk else {}
        nvec(ND, "lar-lsl-verr-verw-%02x%s-%s" % (sel, "-ldt-" + lk if lk else "", m), m, code, regs=rs, **kw)
for m in ("prot32", "prot16", "compat"):
    for d, s in ((0x0, 0x3), (0x3, 0x0), (0x1, 0x1), (0x2, 0x3), (0xfff2, 0x1), (0x23, 0x2b)):
        nvec(ND, "arpl-%x-%x-%s" % (d, s, m), m, "63c1 9c cc", regs={"ecx": H(0xabcd0000 | d), "eax": H(s), "eflags": "0x202"})
nvec(ND, "arpl-mem-prot32", "prot32", "63050000 5000 cc", regs={"eax": "0x3"}, mem=[{"addr": "0x500000", "bytes": "2000"}])
nvec(ND, "movsxd-63-is-not-arpl-long", "long", "4863c1 63c1 cc", regs={"rcx": "0x80000001", "rax": "0x5"})
for m in ("long", "compat", "prot32"):
    for ins, code in (("lldt", "0f00d0"), ("ltr", "0f00d8"), ("lldt-mem-not-present", "0f00" + absm(m, 2, 0x500000)),
                      ("lgdt-mem-not-present", "0f01" + absm(m, 2, 0x500000)),
                      ("ltr-mem-not-present", "0f00" + absm(m, 3, 0x500000))):
        kw = {"pages": [{"addr": "0x500000", "p": 0}]} if "mem" in ins else {}
        nvec(ND, "%s-cpl3-%s" % (ins, m), m, code, regs={A(m): "0x0"}, **kw)

NI = "iopl-native.json"
for m in ("long", "compat", "prot32", "prot16"):
    # (no NT: a case that leaves NT = 1 makes the native server's next IRETQ fault -- reported)
    for img in (0x0002, 0x3202, 0x3002, 0x10202, 0x20202, 0x40202, 0x80202, 0x100202, 0x200202, 0x3f3ed5, 0x0cd7):
        if m == "prot16":
            code = "66 68" + le(img, 4) + " 66 9d 66 9c 66 58 cc"
            rg = {"eflags": "0x202"}
        else:
            code = "68" + le(img, 4) + " 9d 9c 58 cc"
            rg = {FL(m): "0x202"}
        nvec(NI, "popf-%x-cpl3-%s" % (img, m), m, code, regs=rg)
    code = ("66 68" + le(0x0002, 2) + " 66 9d 9c 58 cc") if m != "prot16" else ("68" + le(0x3002, 2) + " 9d 9c 58 cc")
    nvec(NI, "popf16-cpl3-%s" % m, m, code, regs={FL(m): "0x202"})
    if m != "prot16":
        nvec(NI, "popf-sets-tf-cpl3-%s" % m, m, "68" + le(0x302, 4) + " 9d 90 90", regs={FL(m): "0x202"})
        for ins, op in (("insb", "6c"), ("insd", "6d"), ("outsb", "6e"), ("in-ax-imm", "66e580"), ("out-imm-eax", "e780")):
            nvec(NI, "%s-iopl0-cpl3-%s" % (ins, m), m, op, regs={"edx": "0x80", FL(m): "0x202"})

NM = "movss-native.json"
for m in ("long", "compat", "prot32"):
    fl = {FL(m): "0x302"}
    nvec(NM, "mov-ss-tf-shadow-%s" % m, m, "8ed0 90 90 90", regs=dict(fl, **{A(m): "0x2b"}))
    nvec(NM, "mov-ss-mov-ss-tf-%s" % m, m, "8ed0 8ed0 90 90 90", regs=dict(fl, **{A(m): "0x2b"}))
    nvec(NM, "mov-ds-tf-no-shadow-%s" % m, m, "8ed8 90 90", regs=dict(fl, **{A(m): "0x2b"}))
    nvec(NM, "mov-ss-fault-tf-%s" % m, m, "8ed0 90 90", regs=dict(fl, **{A(m): "0x18"}))
    nvec(NM, "mov-ss-null-tf-%s" % m, m, "8ed0 90 90", regs=dict(fl, **{A(m): "0x0"}))
    nvec(NM, "lss-tf-no-shadow-%s" % m, m, "0fb2" + absm(m, 4, 0x500000) + " 90 90", regs=fl,
         mem=[{"addr": "0x500000", "bytes": "f0ff4000 2b00"}])
    nvec(NM, "mov-ss-then-pushf-tf-%s" % m, m, "8ed0 9c 90 90", regs=dict(fl, **{A(m): "0x2b"}))
    if m != "long":
        nvec(NM, "pop-ss-tf-shadow-%s" % m, m, "17 90 90 90", regs=dict(fl, esp="0x40fff0"),
             mem=[{"addr": "0x40fff0", "bytes": "2b000000"}])
        for sel in (0x0, 0x18, 0x23, 0x28, 0x0f):
            nvec(NM, "pop-ss-%02x-fault-%s" % (sel, m), m, "17 cc", regs={"esp": "0x40fff0"},
                 mem=[{"addr": "0x40fff0", "bytes": le(sel, 4)}], ldt=[nldt(p=0)])


Q = "qemu-7.2:qemu64"
QNJ = {
    "mov-ss-null-rpl3-gp-cpl0-long": "QEMU 7.2 (helper_load_seg) does not check RPL = CPL for a NULL SS in 64-bit mode: it loads it",
    "mov-ss-null-rpl0-gp-cpl1-long": "QEMU 7.2 (helper_load_seg) does not check RPL = CPL for a NULL SS in 64-bit mode: it loads it",
    "mov-ss-null-rpl1-ok-cpl1-long": "QEMU 7.2 takes CPL from SS.DPL when SS is loaded: a NULL SS (DPL 0) at CPL 1 makes it CPL 0, so INT3 is delivered without a stack switch",
    "ltr-null-gp-cpl0-prot32": "QEMU 7.2 (helper_ltr) accepts a NULL selector (TR made invalid) instead of #GP(0)",
    "ltr-null-rpl3-gp-cpl0-prot32": "QEMU 7.2 (helper_ltr) accepts a NULL selector (TR made invalid) instead of #GP(0)",
    "ltr-null-gp-cpl0-long": "QEMU 7.2 (helper_ltr) accepts a NULL selector (TR made invalid) instead of #GP(0)",
    "ltr-null-rpl3-gp-cpl0-long": "QEMU 7.2 (helper_ltr) accepts a NULL selector (TR made invalid) instead of #GP(0)",
    "lgdt-noncanonical-gp-cpl0-long": "QEMU 7.2 loads a non-canonical GDTR base in 64-bit mode (no check) and then shuts down",
    "lidt-noncanonical-gp-cpl0-long": "QEMU 7.2 loads a non-canonical IDTR base in 64-bit mode (no check) and then shuts down",
    "lldt-noncanonical-base-gp-cpl0-long": "QEMU 7.2 (helper_lldt) does not check that the 16-byte LDT descriptor's base is canonical",
    "ltr-noncanonical-base-gp-cpl0-long": "QEMU 7.2 (helper_ltr) does not check that the 16-byte TSS descriptor's base is canonical",
    "ltr-16bit-tss-gp-cpl0-long": "QEMU 7.2 (helper_ltr) accepts a 16-bit TSS (type 1) in IA-32e mode",
    "lar-lsl-tss16-cpl0-long": "QEMU 7.2 (helper_lar/helper_lsl) accepts 16-bit TSS descriptors in IA-32e mode, where SDM Vol. 2A Table 3-54/3-61 marks them invalid",
    "lar-lsl-taskgate-cpl0-long": "QEMU 7.2 (helper_lar) accepts a task gate in IA-32e mode, where SDM Vol. 2A Table 3-54 marks it invalid",
}
QNJ["lss-tf-no-shadow-cpl1-prot32"] = ("QEMU 7.2 inhibits the single-step trap after LSS as after MOV SS (one "
                                       "helper for every SS load); the SDM (Vol. 3A 6.8.3) and the AMD CPU here "
                                       "(movss-native.json lss-tf-no-shadow-*) trap right after LSS")
QTR = "QEMU 7.2's TR cache keeps the descriptor type read before LTR set the busy bit (the GDT byte in memory does become busy, and QEMU agrees on it)"


PRIV_NJ = {"source": "unicorn-2.0.1", "fields": ["*"],
           "why": "Unicorn runs without privilege levels: what CPL and IOPL allow (the IF/IOPL masking of "
                  "POPF, CLI/STI) is not modeled there"}


def post_native():
    """After `record --oracle native`: refuse Unicorn the recorded CPL-3 vectors whose outcome depends
    on descriptor tables or privilege (Unicorn would judge them: they end at an INT3)."""
    for fn in ("descriptors-native.json", "iopl-native.json"):
        path = OUT + fn
        d = json.load(open(path))
        for v in d["vectors"]:
            e = v.get("expect")
            if not e:
                continue
            nj = e.setdefault("not_judged", [])
            have = any(x["source"].startswith("unicorn") for x in nj)
            if not have and v["name"].startswith("lar-"):
                nj.append(BYTE_NJ)
            elif not have and v["name"].startswith("popf"):
                nj.append(PRIV_NJ)
            if not nj:
                del e["not_judged"]
        write(path, d["vectors"], d.get("comment", ""))


def add_nj(v):
    nj = v["expect"].setdefault("not_judged", [])
    if v["name"] in QNJ:
        nj.append({"source": Q, "fields": ["*"], "why": QNJ[v["name"]]})
    elif v["name"].startswith("ltr-") and "tr" in v["expect"].get("segs", {}):
        nj.append({"source": Q, "fields": ["expect.segs.tr"], "why": QTR})
    if v.get("_uc_blind"):
        nj.append(BYTE_NJ)
    if v.get("_uc_priv"):
        nj.append(PRIV_NJ)
    v.pop("_uc_blind", None)
    v.pop("_uc_priv", None)
    if not nj:
        del v["expect"]["not_judged"]


def write(path, vs, comment):
    head = json.dumps({"comment": comment})[:-1]
    body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in vs)
    with open(path, "w") as f:
        f.write(head + ',\n "vectors": [\n' + body + "\n]}\n")


COMMENT = ("Issue 6 item 1, generated by tools/vectors-gen/gen_seg6.py: %s. docs/coverage.md lists the "
           "conditions covered.")
if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "hand"
    if what == "hand":
        for fn, vs in FILES.items():
            for v in vs:
                # Unicorn has no descriptor tables, TR/LDTR or descriptor probes: refuse it the
                # descriptor-table vectors it would otherwise judge (only LGDT/SGDT round trips stay)
                if fn == "descriptors.json" and "roundtrip" not in v["name"] and "24bit" not in v["name"]:
                    v["_uc_blind"] = True
                if fn == "iopl.json" and v.get("cpl") == 3:
                    v["_uc_priv"] = True
                add_nj(v)
            write(OUT + fn, vs, COMMENT % "hand-derived (SDM/APM), confirmed by QEMU and Bochs")
            print(fn, len(vs))
    elif what == "post-native":
        post_native()
    elif what == "native":
        for fn, vs in NATIVE.items():
            write(OUT + fn, vs, COMMENT % "CPL-3 cases recorded from this host's CPU (vectors record --oracle native)")
            print(fn, len(vs))

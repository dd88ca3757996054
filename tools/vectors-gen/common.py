# Hand-derivation helpers: docs/standard-machine.md + SDM Vol. 3A 6.12.1 / 6.14.2.
import json, os
H = lambda v: "0x%x" % v
ERRC = {8, 10, 11, 12, 13, 14, 17}
IST = {8: 1, 2: 2, 1: 3, 18: 4}
def region(cpl): return (cpl + 1) * 0x100000
def code_sel(mode, cpl):
    if mode == "prot16": return 0xb0 + 17 * cpl
    if mode == "long": return [0x10, 0x89, 0xa2, 0x33][cpl]
    return [0x08, 0x81, 0x9a, 0x23][cpl]
def data_sel(mode, cpl):
    if mode == "prot16": return 0xb8 + 17 * cpl
    return [0x18, 0x91, 0xaa, 0x2b][cpl]
def start_rip(mode, cpl): return 0 if mode == "prot16" else region(cpl)
def start_rsp(mode, cpl): return 0 if mode == "prot16" else region(cpl) + 0x10000

def delivered(mode, cpl, vec, rip, rflags=0x2, err=None, trap=False, kind="exception",
              rsp=None, cs=None, ss=None, sources=None):
    """Expectation for an event delivered through the standard IDT.
    rip: the pushed return address (faulting insn for faults, next for traps)."""
    rsp = start_rsp(mode, cpl) if rsp is None else rsp
    cs = code_sel(mode, cpl) if cs is None else cs
    ss = data_sel(mode, cpl) if ss is None else ss
    pushed_rflags = rflags if trap else rflags | 0x10000  # SDM 3A 18.3.1.1: RF=1 in fault images
    e = {"end": kind, "vector": vec}
    if kind == "exception":
        e["error_code"] = err if err is not None else "none"
    ia32e = mode in ("long", "compat")
    n_err = 1 if err is not None else 0
    if ia32e:
        # 6.14.2: 8-byte slots, SS:RSP always pushed; new stack RSP0 on CPL change,
        # IST for #DF/NMI/#DB/#MC, else current RSP aligned down to 16.
        if vec in IST: top = 0x20000 + IST[vec] * 0x1000
        elif cpl != 0: top = 0x110000
        else: top = rsp & ~0xf
        fin = top - 8 * (5 + n_err)
        e["frame"] = {"rip": H(rip), "cs": H(cs), "rflags": H(pushed_rflags), "rsp": H(rsp), "ss": H(ss)}
        e["regs"] = {"rip": H(0x4000 + 16 * vec), "rsp": H(fin)}
        e["segs"] = {"cs": "0x10", "ss": H(0 if cpl != 0 else ss)}  # 6.14.4: null SS (RPL 0) on CPL change
    else:
        # 6.12.1: 4-byte slots; SS:ESP pushed only on a privilege change (to SS0:ESP0)
        if cpl != 0:
            top = 0x110000; slots = 5
            e["frame"] = {"rip": H(rip), "cs": H(cs), "rflags": H(pushed_rflags), "rsp": H(rsp), "ss": H(ss)}
        else:
            top = rsp; slots = 3
            e["frame"] = {"rip": H(rip), "cs": H(cs), "rflags": H(pushed_rflags)}
        fin = top - 4 * (slots + n_err)
        if mode == "prot16" and cpl == 0:
            fin &= 0xffff  # SS.B = 0: a 16-bit stack, SP wraps (SDM Vol. 3A 6.12.1, 3.4.5 B flag)
        e["regs"] = {"eip": H(0x4000 + 16 * vec), "esp": H(fin)}
        e["segs"] = {"cs": "0x10", "ss": H(0x18 if cpl != 0 else ss)}  # SS0 on a privilege change
    e["cpl"] = 0
    e["sources"] = sources or []
    return e

def write(path, vectors):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(vectors, indent=1) + "\n")

# Hand-derived vectors for hardware task switches in legacy protected mode
# (tests/vectors/tasks/switch.json): far CALL/JMP to a TSS and through task gates, IRET with
# NT = 1, INT n and exceptions through IDT task gates, and the faults of SDM Vol. 3A Table 8-1.
#
# The rules each expectation is worked from (SDM Vol. 3A chapter 8, Vol. 2A CALL/JMP/IRET/INT n):
#  * 8.3 steps 6-10, 8.4 Table 8-2: JMP/IRET clear the old TSS's busy flag, CALL/JMP/INT set the
#    new one's; CALL/INT write the old TR selector into the new TSS's link field (offset 0) and set
#    NT in the loaded EFLAGS; IRET clears NT in the EFLAGS image saved in the old TSS.
#  * 8.3 step 8, Figure 8-2: the old task's EIP (0x20), EFLAGS (0x24), EAX..EDI (0x28..0x44) and
#    ES CS SS DS FS GS (0x48..0x5c, 4-byte slots) are saved in the old TSS; 16-bit TSS (8.6,
#    Figure 8-12): IP 0x0e, FLAGS 0x10, AX..DI 0x12..0x20, ES CS SS DS 0x22..0x28.
#  * 8.3: CR0.TS is set by every task switch; CR3 is loaded from a 32-bit TSS when paging is on.
#  * Table 8-1 / pseudo-code: bad TSS selector or busy TSS -> #GP(TSS sel) (CALL/JMP/INT) or
#    #TS(sel) (IRET), not present -> #NP(sel), limit < 67H (2BH 16-bit) -> #TS(sel); faults while
#    loading the new task's segments come after the switch, in the new task (frame = new CS:EIP).
# The standard machine (docs/standard-machine.md): GDT at 0x1000 (descriptor i at 0x1000 + 8i, its
# access byte at + 5), TR = 0x40 (TSS at 0x3000, busy, access byte 0x8b at 0x1045), IDT at 0x2000
# (8-byte gates), handlers at 0x4000 + 16v, ring-r code at 0x100000(r+1), stack top + 0x10000,
# CR0 = 0x80010033 (PG on), CR3 = 0x10000.
# Here: TSS B at 0x600000 (GDT 11, selector 0x58), TSS C at 0x600100 (GDT 12, 0x60), 16-bit
# TSS D at 0x600200 (GDT 14, 0x70), a task gate at GDT 13 (0x68); the new tasks' code at 0x601000.
# Usage: python3 gen_task.py > tests/vectors/tasks/switch.json
import json
import struct

H = lambda v: "0x%x" % v
V = []
SRC_CALL = ["sdm:Vol.3A/8.3", "sdm:Vol.3A/8.4", "sdm:Vol.2A/CALL"]
SRC_JMP = ["sdm:Vol.3A/8.3", "sdm:Vol.3A/8.4", "sdm:Vol.2A/JMP"]
SRC_IRET = ["sdm:Vol.3A/8.3", "sdm:Vol.3A/8.4", "sdm:Vol.2A/IRET"]
SRC_INT = ["sdm:Vol.3A/8.3", "sdm:Vol.3A/6.12.2", "sdm:Vol.2A/INT n"]
CR0_TS = 0x80010033 | 0x8
B, C, D = 0x600000, 0x600100, 0x600200
SEL_B, SEL_C, SEL_GATE, SEL_D = 0x58, 0x60, 0x68, 0x70
TASK_CODE = 0x601000
OLD_REGS = {"eax": 0x11111111, "ecx": 0x22222222, "edx": 0x33333333, "ebx": 0x44444444,
            "ebp": 0x55555555, "esi": 0x66666666, "edi": 0x77777777}
NEW_GPR = [0xa0000001, 0xa0000002, 0xa0000003, 0xa0000004, None, 0xa0000006, 0xa0000007,
           0xa0000008]
GPR_NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
CODE_SEL = [0x08, 0x81, 0x9a, 0x23]
DATA_SEL = [0x18, 0x91, 0xaa, 0x2b]


def le(v, n):
    return v.to_bytes(n, "little").hex()


def tss32(link=0, esp0=0x10c000, ss0=0x18, esp1=0x20c000, ss1=0x91, esp2=0x30c000, ss2=0xaa,
          cr3=0x10000, eip=TASK_CODE, eflags=0x2, gpr=None, esp=0x108000, cs=0x08, ss=0x18,
          ds=0x18, es=None, fs=None, gs=None, ldt=0, trap=0, iomap=0x68):
    """SDM Vol. 3A Figure 8-2, as bytes."""
    g = list(NEW_GPR if gpr is None else gpr)
    g[4] = esp
    es = ds if es is None else es
    fs = ds if fs is None else fs
    gs = ds if gs is None else gs
    w = [link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags] + g + [es, cs, ss, ds, fs, gs, ldt]
    b = b"".join(struct.pack("<I", x) for x in w) + struct.pack("<HH", trap, iomap)
    assert len(b) == 0x68
    return b.hex()


def tss16(link=0, sp0=0xc000, ss0=0xb8, ip=0x1000, flags=0x2, gpr=None, sp=0x8000, cs=0xb0,
          ss=0xb8, ds=0xb8, es=None, ldt=0):
    """SDM Vol. 3A Figure 8-12 (16-bit TSS), as bytes."""
    g = [0xb001, 0xb002, 0xb003, 0xb004, sp, 0xb006, 0xb007, 0xb008] if gpr is None else gpr
    es = ds if es is None else es
    w = [link, sp0, ss0, 0, 0, 0, 0, ip, flags] + g + [es, cs, ss, ds, ldt]
    return b"".join(struct.pack("<H", x) for x in w).hex()


def tss_desc(index, base, limit=0x67, type_=9, dpl=0, p=1):
    return {"index": index, "base": H(base), "limit": H(limit), "type": type_, "s": 0, "dpl": dpl,
            "p": p}


def task_gate(index, tss_sel, dpl=3, p=1):
    return {"index": index, "selector": H(tss_sel), "type": 5, "dpl": dpl, "p": p}


def idt_task_gate(vector, tss_sel, dpl=3, p=1):
    """An IDT task gate (SDM Vol. 3A 6.11 Figure 6-2), written with `mem` over the standard IDT
    entry so the live judges' check for handler addresses does not refuse the vector: the gate's
    offset is unused (a task gate has none)."""
    lo = (tss_sel << 16) | ((0x80 if p else 0) | (dpl << 5) | 0x5) << 40
    return {"addr": H(0x2000 + 8 * vector), "bytes": le(lo, 8)}


def old_save(eip, eflags, cpl=0, regs=None, esp=None):
    """The bytes the switch saves into the old 32-bit TSS, offsets 0x20..0x5f."""
    r = dict(OLD_REGS if regs is None else regs)
    esp = (cpl + 1) * 0x100000 + 0x10000 if esp is None else esp
    g = [r.get(n, 0) for n in GPR_NAMES]
    g[4] = esp
    sel = [DATA_SEL[cpl], CODE_SEL[cpl], DATA_SEL[cpl], DATA_SEL[cpl], DATA_SEL[cpl],
           DATA_SEL[cpl]]
    return {"addr": "0x3020",
            "bytes": " ".join(le(x, 4) for x in [eip, eflags] + g + sel)}


def new_regs(eip, eflags, esp=0x108000, gpr=None, extra=None):
    g = NEW_GPR if gpr is None else gpr
    r = {n: H(v) for n, v in zip(GPR_NAMES, g) if v is not None}
    r["esp"] = H(esp)
    r["eip"] = H(eip)
    r["eflags"] = H(eflags)
    r["cr0"] = H(CR0_TS)
    if extra:
        r.update(extra)
    return r


def vec(name, why, **kw):
    v = {"name": name, "mode": kw.pop("mode", "prot32"), "cpl": kw.pop("cpl", 0), "why": why}
    v.update(kw)
    V.append(v)


def regs_in(cpl=0, extra=None):
    r = {k: H(v) for k, v in OLD_REGS.items()}
    if extra:
        r.update(extra)
    return r


CALL_B = "9a00000000" + le(SEL_B, 2)        # CALL 0x58:0 (7 bytes)
JMP_B = "ea00000000" + le(SEL_B, 2)         # JMP 0x58:0 (7 bytes)
CALL_GATE = "9a00000000" + le(SEL_GATE, 2)  # CALL 0x68:0 through the task gate
JMP_GATE = "ea00000000" + le(SEL_GATE, 2)
GDT_B = [tss_desc(11, B)]
GDT_BG = [tss_desc(11, B), task_gate(13, SEL_B)]


def hlt_task(extra_mem=None, **tss):
    m = [{"addr": H(B), "bytes": tss32(**tss)}, {"addr": H(TASK_CODE), "bytes": "f4"}]
    return m + (extra_mem or [])


def fault_end(vector, err, frame, esp, cpl_old, sources, extra=None):
    """An exception delivered through the standard IDT: legacy frame (SDM Vol. 3A 6.12.1)."""
    e = {"end": "exception", "vector": vector, "error_code": err, "frame": frame,
         "regs": {"eip": H(0x4000 + 16 * {"#GP": 13, "#NP": 11, "#TS": 10, "#SS": 12, "#DF": 8,
                                          "#BP": 3, "#UD": 6, "#PF": 14}[vector]),
                  "esp": H(esp)},
         "cpl": 0, "sources": sources}
    if extra:
        e.update(extra)
    return e


# ------------------------------------------------------------------ successful switches

vec("task-call-tss32-cpl0-prot32",
    "CALL 0x58:0 at CPL 0 to the available 32-bit TSS B (DPL 0): CALL TASK-STATE-SEGMENT (TSS DPL 0 "
    ">= CPL 0 and RPL 0), SWITCH-TASKS with nesting. Old TSS at 0x3000 gets EIP 0x100007 (after the "
    "7-byte CALL), EFLAGS 0x2, the GPRs, ES..GS = 0x18 and CS 0x08; B's link field <- 0x40; B's "
    "busy flag set (access byte 0x89 -> 0x8b), the old one stays set (0x8b). The new task: EIP "
    "0x601000 (HLT), EFLAGS 0x2 | NT = 0x4002, GPRs and ESP 0x108000 from B, TR 0x58, CR0.TS = 1, "
    "CR3 0x10000 from B; the HLT ends the run at EIP 0x601001.",
    code=CALL_B + "f4", regs=regs_in(), gdt=GDT_B, mem=hlt_task(),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002, extra={"cr3": "0x10000"}),
            "segs": {"cs": "0x8", "ss": "0x18", "ds": "0x18", "es": "0x18", "tr": H(SEL_B)},
            "cpl": 0,
            "mem": [old_save(0x100007, 0x2), {"addr": H(B), "bytes": "4000"},
                    {"addr": "0x1045", "bytes": "8b"}, {"addr": "0x105d", "bytes": "8b"}],
            "sources": SRC_CALL})

vec("task-call-iret-roundtrip-prot32",
    "CALL 0x58:0 to TSS B (as task-call-tss32-cpl0), whose task executes IRET with NT = 1 (SDM IRET "
    "TASK-RETURN): back link 0x40 names the busy TSS A; SWITCH-TASKS without nesting: B's busy flag "
    "cleared (0x89), B's state saved: EIP 0x601001 (after the 1-byte IRET), EFLAGS 0x4002 with NT "
    "cleared in the image = 0x2, B's GPRs, selectors; A's state reloaded: EIP 0x100007, EFLAGS 0x2 "
    "(A's saved image, NT = 0), the old GPRs; A stays busy (0x8b), TR 0x40, CR0.TS set. The HLT at "
    "0x100007 ends the run at 0x100008.",
    code=CALL_B + "f4", regs=regs_in(), gdt=GDT_B,
    mem=[{"addr": H(B), "bytes": tss32()}, {"addr": H(TASK_CODE), "bytes": "cf"}],
    expect={"end": "hlt",
            "regs": {**{k: H(v) for k, v in OLD_REGS.items()}, "esp": "0x110000", "eip": "0x100008",
                     "eflags": "0x2", "cr0": H(CR0_TS)},
            "segs": {"cs": "0x8", "ss": "0x18", "tr": "0x40"}, "cpl": 0,
            "mem": [{"addr": H(B + 0x20), "bytes": " ".join(
                le(x, 4) for x in [0x601001, 0x2] + [v if v else 0x108000 for v in NEW_GPR]
                + [0x18, 0x08, 0x18, 0x18, 0x18, 0x18])},
                {"addr": H(B), "bytes": "4000"},
                {"addr": "0x1045", "bytes": "8b"}, {"addr": "0x105d", "bytes": "89"}],
            "sources": SRC_CALL + ["sdm:Vol.2A/IRET"]})

vec("task-jmp-tss32-cpl0-prot32",
    "JMP 0x58:0 at CPL 0 to TSS B (SDM JMP TASK-STATE-SEGMENT, SWITCH-TASKS without nesting): the "
    "old TSS's busy flag is cleared (0x8b -> 0x89), B's set (0x8b); B's link field keeps its 0x1234; "
    "NT is B's image's (0): EFLAGS 0x2; the old state saved with EIP 0x100007.",
    code=JMP_B + "f4", regs=regs_in(), gdt=GDT_B, mem=hlt_task(link=0x1234),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x2),
            "segs": {"cs": "0x8", "ss": "0x18", "tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100007, 0x2), {"addr": H(B), "bytes": "3412"},
                    {"addr": "0x1045", "bytes": "89"}, {"addr": "0x105d", "bytes": "8b"}],
            "sources": SRC_JMP})

vec("task-jmp-via-task-gate-prot32",
    "JMP 0x68:0 through the task gate at GDT 13 (DPL 3, TSS selector 0x58; SDM JMP TASK-GATE: gate "
    "DPL 3 >= CPL 0 and RPL 0, present; the TSS: GDT, available, present): same result as a JMP to "
    "the TSS: old busy flag cleared, B busy, no back link, EFLAGS 0x2.",
    code=JMP_GATE + "f4", regs=regs_in(), gdt=GDT_BG, mem=hlt_task(link=0x1234),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x2),
            "segs": {"cs": "0x8", "tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100007, 0x2), {"addr": H(B), "bytes": "3412"},
                    {"addr": "0x1045", "bytes": "89"}, {"addr": "0x105d", "bytes": "8b"}],
            "sources": SRC_JMP})

vec("task-call-via-task-gate-from-cpl3-prot32",
    "CALL 0x6b:0 at CPL 3 through the DPL-3 task gate (RPL 3 <= DPL 3) to TSS B whose descriptor has "
    "DPL 0: through a gate only the gate's DPL is checked (SDM CALL TASK-GATE; Vol. 3A 8.3 step 2). "
    "The new task runs at CPL 0 (CS 0x08 in B): HLT. Old state saved with EIP 0x400007, CS 0x23, "
    "SS/DS.. 0x2b, ESP 0x410000; back link 0x40, NT = 1.",
    cpl=3, code="9a00000000" + le(SEL_GATE | 3, 2), regs=regs_in(), gdt=GDT_BG, mem=hlt_task(),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002),
            "segs": {"cs": "0x8", "ss": "0x18", "tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x400007, 0x2, cpl=3), {"addr": H(B), "bytes": "4000"},
                    {"addr": "0x105d", "bytes": "8b"}],
            "sources": SRC_CALL})

vec("task-call-tss-dpl3-from-cpl3-new-cpl3-prot32",
    "CALL 0x5b:0 at CPL 3 directly to TSS B with DPL 3 (DPL 3 >= CPL 3 and >= RPL 3); B's task runs "
    "at CPL 3 (CS 0x23, SS/DS 0x2b, ESP 0x40c000, EIP 0x601000: INT3). #BP through the DPL-3 gate 3: "
    "a privilege change to ring 0 with SS0:ESP0 from the new TSS B = 0x18:0x10c000: frame EIP "
    "0x601001, CS 0x23, EFLAGS 0x4002 (NT set by the CALL), ESP 0x40c000, SS 0x2b; ESP 0x10c000 - 20. "
    "TR holds the selector as given, 0x5b (8.3 step 11: 'loads the task register with the segment "
    "selector'; Bochs and QEMU keep its RPL too).",
    cpl=3, code="9a00000000" + le(SEL_B | 3, 2), regs=regs_in(), gdt=[tss_desc(11, B, dpl=3)],
    mem=[{"addr": H(B), "bytes": tss32(cs=0x23, ss=0x2b, ds=0x2b, esp=0x40c000)},
         {"addr": H(TASK_CODE), "bytes": "cc"}],
    expect={"end": "exception", "vector": "#BP", "error_code": "none",
            "frame": {"rip": "0x601001", "cs": "0x23", "rflags": "0x4002", "rsp": "0x40c000",
                      "ss": "0x2b"},
            "regs": {"eip": "0x4030", "esp": H(0x10c000 - 20), "eax": H(NEW_GPR[0])},
            "segs": {"tr": H(SEL_B | 3)}, "cpl": 0,
            "mem": [old_save(0x400007, 0x2, cpl=3), {"addr": H(B), "bytes": "4000"},
                    {"addr": "0x105d", "bytes": "eb"}],
            "sources": SRC_CALL + ["sdm:Vol.3A/6.12.1"]})

for ocpl in (1, 2):
    vec("task-call-via-task-gate-from-cpl%d-prot32" % ocpl,
        "CALL through the DPL-3 task gate at CPL %d (gate DPL 3 >= CPL): the new task (CPL 0) runs "
        "its HLT. Old state saved: EIP 0x%x (after the CALL), CS 0x%x, data 0x%x, ESP 0x%x; back "
        "link 0x40, NT = 1." % (ocpl, (ocpl + 1) * 0x100000 + 7, CODE_SEL[ocpl], DATA_SEL[ocpl],
                                 (ocpl + 1) * 0x100000 + 0x10000),
        cpl=ocpl, code="9a00000000" + le(SEL_GATE | ocpl, 2), regs=regs_in(), gdt=GDT_BG,
        mem=hlt_task(),
        expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002),
                "segs": {"cs": "0x8", "tr": H(SEL_B)}, "cpl": 0,
                "mem": [old_save((ocpl + 1) * 0x100000 + 7, 0x2, cpl=ocpl),
                        {"addr": H(B), "bytes": "4000"}],
                "sources": SRC_CALL})

for ncpl in (1, 2):
    vec("task-call-to-cpl%d-task-prot32" % ncpl,
        "CALL 0x58:0 at CPL 0 to TSS B whose task runs at CPL %d (CS 0x%x, SS/DS 0x%x, ESP 0x%x; "
        "8.3 step 13: CS RPL = DPL = %d, SS DPL = CPL): INT3 through the DPL-3 gate 3 switches to "
        "ring 0 on B's SS0:ESP0 0x18:0x10c000: frame EIP 0x601001, CS 0x%x, EFLAGS 0x4002, ESP "
        "0x%x, SS 0x%x." % (ncpl, CODE_SEL[ncpl], DATA_SEL[ncpl], (ncpl + 1) * 0x100000 + 0xc000,
                            ncpl, CODE_SEL[ncpl], (ncpl + 1) * 0x100000 + 0xc000, DATA_SEL[ncpl]),
        code=CALL_B + "f4", regs=regs_in(), gdt=GDT_B,
        mem=[{"addr": H(B), "bytes": tss32(cs=CODE_SEL[ncpl], ss=DATA_SEL[ncpl], ds=DATA_SEL[ncpl],
                                           esp=(ncpl + 1) * 0x100000 + 0xc000)},
             {"addr": H(TASK_CODE), "bytes": "cc"}],
        expect={"end": "exception", "vector": "#BP", "error_code": "none",
                "frame": {"rip": "0x601001", "cs": H(CODE_SEL[ncpl]), "rflags": "0x4002",
                          "rsp": H((ncpl + 1) * 0x100000 + 0xc000), "ss": H(DATA_SEL[ncpl])},
                "regs": {"eip": "0x4030", "esp": H(0x10c000 - 20)}, "cpl": 0,
                "sources": SRC_CALL + ["sdm:Vol.3A/6.12.1"]})

vec("task-call-new-cr3-prot32",
    "CALL to TSS B whose CR3 field is 0x18000, a second page directory with the same four PDEs as "
    "the standard one (0x11007..0x14007): with CR0.PG = 1 the switch loads CR3 from the 32-bit TSS "
    "(8.3 step 12), and the new task's HLT at 0x601000 is reached through it.",
    code=CALL_B + "f4", regs=regs_in(), gdt=GDT_B,
    mem=hlt_task([{"addr": "0x18000", "bytes": "07100100 07200100 07300100 07400100"}],
                 cr3=0x18000),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002, extra={"cr3": "0x18000"}),
            "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100007, 0x2)], "sources": SRC_CALL})

vec("task-call-no-paging-cr3-kept-prot32",
    "Without paging (CR0 = 0x33) the CR3 field of the new TSS (0x18000) is read but not loaded "
    "(8.3 step 12): CR3 stays 0; CR0.TS is set: CR0 = 0x3b.",
    code=CALL_B + "f4", regs=regs_in(), gdt=GDT_B, paging=False,
    mem=hlt_task(cr3=0x18000),
    expect={"end": "hlt", "regs": {"eip": "0x601001", "eflags": "0x4002", "cr0": "0x3b",
                                   "cr3": "0x0", "esp": "0x108000"},
            "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100007, 0x2), {"addr": H(B), "bytes": "4000"}],
            "sources": SRC_CALL})

vec("task-call-indirect-m16-32-via-gate-prot32",
    "CALL FAR [0x500000] (FF /3, m16:32 = 0x68:0) through the task gate: the offset is ignored; the "
    "old EIP saved is 0x100006 (after the 6-byte FF 1D disp32).",
    code="ff1d00005000f4", regs=regs_in(), gdt=GDT_BG,
    mem=hlt_task([{"addr": "0x500000", "bytes": "00000000" + le(SEL_GATE, 2)}]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002), "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100006, 0x2), {"addr": H(B), "bytes": "4000"}],
            "sources": SRC_CALL})

vec("task-call-via-ldt-task-gate-prot32",
    "A task gate in the LDT (entry 1, selector 0x0c; SDM Vol. 3A 8.2.5: task gates may be in the "
    "LDT) naming TSS B in the GDT: CALL 0x0c:0 switches to B.",
    code="9a000000000c00f4", regs=regs_in(), gdt=GDT_B,
    ldt=[{"index": 1, "selector": H(SEL_B), "type": 5, "dpl": 3}], mem=hlt_task(),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002),
            "segs": {"tr": H(SEL_B), "ldtr": "0x0"}, "cpl": 0,
            "mem": [{"addr": H(B), "bytes": "4000"}], "sources": SRC_CALL})

vec("task-nested-call-call-iret-iret-prot32",
    "A calls B (back link 0x40), B calls C (0x60:0; C's link <- 0x58, NT = 1), C IRETs to B (C's busy "
    "flag cleared, C saved with EIP 0x601101), B resumes at 0x601007 and IRETs to A (B not busy), "
    "A resumes at 0x100007: HLT. All three links and busy flags as Table 8-2 says: A 0x8b, B 0x89, "
    "C 0x89.",
    code=CALL_B + "f4", regs=regs_in(), gdt=[tss_desc(11, B), tss_desc(12, C)],
    mem=[{"addr": H(B), "bytes": tss32()}, {"addr": H(C), "bytes": tss32(eip=TASK_CODE + 0x100)},
         {"addr": H(TASK_CODE), "bytes": "9a00000000" + le(SEL_C, 2) + "cf"},
         {"addr": H(TASK_CODE + 0x100), "bytes": "cf"}],
    expect={"end": "hlt", "regs": {"eip": "0x100008", "eflags": "0x2", "esp": "0x110000",
                                   "eax": H(OLD_REGS["eax"])},
            "segs": {"tr": "0x40"}, "cpl": 0,
            "mem": [{"addr": H(B), "bytes": "4000"}, {"addr": H(C), "bytes": "5800"},
                    {"addr": H(C + 0x20), "bytes": le(0x601101, 4) + le(0x2, 4)},
                    {"addr": H(B + 0x20), "bytes": le(0x601008, 4) + le(0x2, 4)},
                    {"addr": "0x1045", "bytes": "8b"}, {"addr": "0x105d", "bytes": "89"},
                    {"addr": "0x1065", "bytes": "89"}],
            "sources": SRC_CALL + ["sdm:Vol.2A/IRET"]})

vec("task-iret-nt-to-busy-backlink-prot32",
    "IRET at CPL 0 with NT = 1 (EFLAGS 0x4002) while TSS A's link field holds 0x58 and B is busy "
    "(type 11): TASK-RETURN to B (SDM IRET): A's busy flag cleared (0x89), A's state saved with EIP "
    "0x100001 and EFLAGS 0x2 (NT cleared in the image, 8.3 step 7); B's state loaded as is (no NT "
    "set by an IRET: EFLAGS 0x2), TR 0x58, B stays busy (0x8b).",
    code="cff4", regs=regs_in(extra={"eflags": "0x4002"}), gdt=[tss_desc(11, B, type_=11)],
    mem=hlt_task([{"addr": "0x3000", "bytes": "5800"}]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x2), "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100001, 0x2), {"addr": "0x1045", "bytes": "89"},
                    {"addr": "0x105d", "bytes": "8b"}],
            "sources": SRC_IRET})

vec("task-iretd-operand-size-ignored-cpl3-prot32",
    "IRET at CPL 3 with NT = 1 returning to the busy CPL-0 task B (link 0x58): a task return pops "
    "nothing and needs no privilege check (the new task's CS RPL decides its CPL, 8.3); the old "
    "(ring-3) state is saved with EIP 0x400001, ESP 0x410000 unchanged.",
    cpl=3, code="cf", regs=regs_in(extra={"eflags": "0x4002"}), gdt=[tss_desc(11, B, type_=11)],
    mem=hlt_task([{"addr": "0x3000", "bytes": "5800"}]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x2), "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x400001, 0x2, cpl=3), {"addr": "0x1045", "bytes": "89"}],
            "sources": SRC_IRET})

# 16-bit TSS D at 0x600200 (GDT 14, type 1, limit 0x2b): its task runs 16-bit code 0xb0
# (base 0x100000) at IP 0x1000 -> linear 0x101000; stack 0xb8:0x8000.
# Limit 0x2c: valid whether the minimum is 2BH (the last byte of the 44-byte TSS: Bochs, QEMU,
# ringcore) or Table 6-6's "less than 2CH" is read literally.
GDT_D = [tss_desc(14, D, limit=0x2c, type_=1)]
vec("task-call-tss16-prot32",
    "CALL 0x70:0 to the 16-bit TSS D (type 1, limit 0x2C): a 16-bit TSS (8.6) loads IP 0x1000, "
    "FLAGS 0x2 | NT, AX..DI with the upper halves changed (8.6: 'modified and not maintained'; "
    "FFFFH as Bochs and QEMU make them), ES/CS/SS/DS 0xb8/0xb0/0xb8/0xb8, FS = GS = null; CR3 is "
    "not touched (no field). D's link <- 0x40, D busy (0x81 -> 0x83). The 16-bit ring-0 code at "
    "0xb0:0x1000 (linear 0x101000) is HLT: IP 0x1001.",
    code="9a00000000" + le(SEL_D, 2) + "f4", regs=regs_in(), gdt=GDT_D,
    mem=[{"addr": H(D), "bytes": tss16()}, {"addr": "0x101000", "bytes": "f4"}],
    expect={"end": "hlt",
            "regs": {"eip": "0x1001", "eflags": "0x4002", "eax": "0xffffb001", "ecx": "0xffffb002",
                     "edx": "0xffffb003", "ebx": "0xffffb004", "esp": "0xffff8000",
                     "ebp": "0xffffb006", "esi": "0xffffb007", "edi": "0xffffb008",
                     "cr0": H(CR0_TS), "cr3": "0x10000"},
            "segs": {"cs": "0xb0", "ss": "0xb8", "ds": "0xb8", "es": "0xb8", "fs": "0x0",
                     "gs": "0x0", "tr": H(SEL_D)}, "cpl": 0,
            "mem": [old_save(0x100007, 0x2), {"addr": H(D), "bytes": "4000"},
                    {"addr": "0x1075", "bytes": "83"}],
            "sources": SRC_CALL + ["sdm:Vol.3A/8.6"]})

vec("task-call-tss16-iret-back-prot32",
    "CALL to the 16-bit TSS D, whose code (IP 0x1000) is IRET: the return saves the 16-bit state in "
    "D (Figure 8-12): IP 0x1001, FLAGS 0x2 (NT cleared in the image), AX..DI 0xb001.., SP 0x8000, "
    "ES CS SS DS = b8 b0 b8 b8; D's busy flag cleared (0x81). A resumes at 0x100007: HLT.",
    code="9a00000000" + le(SEL_D, 2) + "f4", regs=regs_in(), gdt=GDT_D,
    mem=[{"addr": H(D), "bytes": tss16()}, {"addr": "0x101000", "bytes": "cf"}],
    expect={"end": "hlt", "regs": {"eip": "0x100008", "eflags": "0x2", "eax": H(OLD_REGS["eax"]),
                                   "esp": "0x110000"},
            "segs": {"cs": "0x8", "tr": "0x40"}, "cpl": 0,
            "mem": [{"addr": H(D + 0x0e), "bytes": "0110 0200 01b0 02b0 03b0 04b0 0080 06b0 07b0 "
                                                  "08b0 b800 b000 b800 b800"},
                    {"addr": "0x1075", "bytes": "81"}],
            "sources": SRC_CALL + ["sdm:Vol.2A/IRET", "sdm:Vol.3A/8.6"]})

# ------------------------------------------------------------------ INT n / exceptions via IDT task gates

vec("task-int-n-via-idt-task-gate-cpl3-prot32",
    "INT 0x40 at CPL 3 through an IDT task gate (DPL 3, TSS 0x58; SDM INT n TASK-GATE, Vol. 3A "
    "6.12.2): SWITCH-TASKS with nesting; no error code. Old EIP saved = 0x400002 (after INT 0x40, a "
    "trap), CS 0x23; B: link 0x40, busy, EFLAGS 0x4002; B's HLT ends the run.",
    cpl=3, code="cd40", regs=regs_in(), gdt=GDT_B,
    mem=hlt_task([idt_task_gate(0x40, SEL_B)]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002), "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x400002, 0x2, cpl=3), {"addr": H(B), "bytes": "4000"},
                    {"addr": "0x105d", "bytes": "8b"}],
            "sources": SRC_INT})

vec("task-gp-error-code-via-idt-task-gate-prot32",
    "MOV DS, AX with AX = 0x18 at CPL 3 (DPL-0 data: #GP(0x18), SDM MOV) with IDT[13] a task gate to "
    "B: the exception switches tasks (nesting) and pushes its error code on the new task's stack "
    "(INT n TASK-GATE 'Push(error code)'; 4 bytes, 32-bit TSS): ESP 0x108000 - 4 = 0x107ffc, "
    "[0x107ffc] = 0x18. The old TSS gets EIP 0x400004 (the faulting MOV, after the 4-byte "
    "MOV AX), EFLAGS 0x10002 (RF = 1 in the image of a fault, SDM Vol. 3A 18.3.1.1).",
    cpl=3, code="66b818008ed8", regs=regs_in(), gdt=GDT_B,
    mem=hlt_task([idt_task_gate(13, SEL_B, dpl=0)]),
    expect={"end": "hlt",
            "regs": new_regs(0x601001, 0x4002, esp=0x107ffc,
                             gpr=[0xa0000001] + NEW_GPR[1:]),
            "segs": {"tr": H(SEL_B), "ss": "0x18"}, "cpl": 0,
            "mem": [{"addr": "0x107ffc", "bytes": "18000000"},
                    old_save(0x400004, 0x10002, cpl=3, regs={**OLD_REGS, "eax": 0x11110018}),
                    {"addr": H(B), "bytes": "4000"}],
            "sources": SRC_INT + ["sdm:Vol.3A/6.13"]})

vec("task-pf-via-idt-task-gate-prot32",
    "MOV EAX, [0x1000] at CPL 3 reads a supervisor page: #PF, error code 5 (P, user read), CR2 "
    "0x1000; IDT[14] is a task gate to B: the error code is pushed on B's stack (ESP 0x107ffc), CR2 "
    "is loaded; the old EIP saved is the faulting 0x400000.",
    cpl=3, code="a100100000", regs=regs_in(), gdt=GDT_B,
    mem=hlt_task([idt_task_gate(14, SEL_B, dpl=0)]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002, esp=0x107ffc, extra={"cr2": "0x1000"}),
            "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [{"addr": "0x107ffc", "bytes": "05000000"}, {"addr": H(B), "bytes": "4000"},
                    {"addr": "0x3020", "bytes": "00004000"}],
            "sources": SRC_INT + ["sdm:Vol.3A/4.7"]})

vec("task-ud-no-error-code-via-idt-task-gate-prot32",
    "UD2 at CPL 0 with IDT[6] a task gate to B: #UD has no error code, so nothing is pushed on B's "
    "stack (ESP stays 0x108000); old EIP 0x100000 (the UD2), EFLAGS image 0x10002 (RF, a fault).",
    code="0f0b", regs=regs_in(), gdt=GDT_B, mem=hlt_task([idt_task_gate(6, SEL_B, dpl=0)]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002), "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x100000, 0x10002), {"addr": H(B), "bytes": "4000"}],
            "sources": SRC_INT})

vec("task-int3-via-idt-task-gate-cpl3-prot32",
    "INT3 at CPL 3 with IDT[3] a DPL-3 task gate to B: #BP is a trap: the old EIP saved is 0x400001 "
    "(after INT3), EFLAGS image 0x2 (no RF for a trap); no error code.",
    cpl=3, code="cc", regs=regs_in(), gdt=GDT_B, mem=hlt_task([idt_task_gate(3, SEL_B)]),
    expect={"end": "hlt", "regs": new_regs(0x601001, 0x4002), "segs": {"tr": H(SEL_B)}, "cpl": 0,
            "mem": [old_save(0x400001, 0x2, cpl=3), {"addr": H(B), "bytes": "4000"}],
            "sources": SRC_INT})

vec("task-gp-via-task-gate-tss16-pushes-word-prot32",
    "#GP(0x18) at CPL 3 (MOV DS) through an IDT task gate to the 16-bit TSS D: the error code is "
    "pushed as a word (16-bit TSS) on D's stack 0xb8:0x8000 (SS.B = 0: SP) -> SP 0x7ffe, [0x100000 "
    "+ 0x7ffe] = 0x0018; ESP = 0xffff7ffe (upper half FFFFH from the 16-bit TSS load).",
    cpl=3, code="66b818008ed8", regs=regs_in(), gdt=GDT_D,
    mem=[{"addr": H(D), "bytes": tss16()}, {"addr": "0x101000", "bytes": "f4"},
         idt_task_gate(13, SEL_D, dpl=0)],
    expect={"end": "hlt", "regs": {"eip": "0x1001", "esp": "0xffff7ffe", "eflags": "0x4002"},
            "segs": {"cs": "0xb0", "tr": H(SEL_D)}, "cpl": 0,
            "mem": [{"addr": "0x107ffe", "bytes": "1800"}, {"addr": H(D), "bytes": "4000"}],
            "sources": SRC_INT + ["sdm:Vol.3A/8.6"]})

# ------------------------------------------------------------------ faults before the switch (old task)


def gp_cpl0(err, rip=0x100000, rflags=0x2, vector="#GP"):
    """A fault of the instruction at CPL 0: same-privilege frame on 0x18:0x110000 (6.12.1)."""
    return fault_end(vector, err, {"rip": H(rip), "cs": "0x8", "rflags": H(rflags | 0x10000)},
                     0x110000 - 16, 0, [])


def gp_cpl3(err, rip=0x400000, vector="#GP"):
    return fault_end(vector, err, {"rip": H(rip), "cs": "0x23", "rflags": "0x10002",
                                   "rsp": "0x410000", "ss": "0x2b"}, 0x110000 - 24, 3, [])


def fvec(name, why, e, sources, **kw):
    e["sources"] = sources
    e.setdefault("segs", {})["tr"] = "0x40"
    vec(name, why, expect=e, **kw)


fvec("task-call-tss-dpl0-from-cpl3-gp-prot32",
     "CALL 0x5b:0 at CPL 3 to TSS B with DPL 0: 'IF TSS DPL < CPL ... THEN #GP(TSS selector)' "
     "(SDM CALL TASK-STATE-SEGMENT): #GP(0x58) at CPL 3, nothing switched (TR 0x40).",
     gp_cpl3(0x58), SRC_CALL, cpl=3, code="9a00000000" + le(SEL_B | 3, 2), gdt=GDT_B,
     mem=hlt_task())
fvec("task-call-tss-rpl3-above-dpl0-gp-prot32",
     "CALL 0x5b:0 at CPL 0 (RPL 3) to TSS B with DPL 0: 'TSS DPL < TSS segment-selector RPL' -> "
     "#GP(0x58).", gp_cpl0(0x58), SRC_CALL, code="9a00000000" + le(SEL_B | 3, 2), gdt=GDT_B,
     mem=hlt_task())
fvec("task-jmp-tss-dpl0-from-cpl3-gp-prot32",
     "JMP 0x5b:0 at CPL 3 to the DPL-0 TSS B: #GP(0x58) (SDM JMP TASK-STATE-SEGMENT).",
     gp_cpl3(0x58), SRC_JMP, cpl=3, code="ea00000000" + le(SEL_B | 3, 2), gdt=GDT_B,
     mem=hlt_task())
fvec("task-call-busy-tss-gp-prot32",
     "CALL 0x58:0 to TSS B whose descriptor is busy (type 11): 'TSS descriptor indicates TSS not "
     "available' -> #GP(0x58) (Table 8-1: busy for a CALL -> #GP).",
     gp_cpl0(0x58), SRC_CALL, code=CALL_B, gdt=[tss_desc(11, B, type_=11)], mem=hlt_task())
fvec("task-jmp-busy-tss-gp-prot32",
     "JMP 0x58:0 to a busy TSS B (type 11): #GP(0x58).",
     gp_cpl0(0x58), SRC_JMP, code=JMP_B, gdt=[tss_desc(11, B, type_=11)], mem=hlt_task())
fvec("task-call-current-tss-busy-gp-prot32",
     "CALL 0x40:0 to the current TSS (busy, type 11): #GP(0x40); the task cannot call itself "
     "(8.4: tasks are not re-entrant).",
     gp_cpl0(0x40), SRC_CALL, code="9a000000004000")
fvec("task-call-tss-not-present-np-prot32",
     "CALL 0x58:0 to TSS B with P = 0: 'IF TSS is not present THEN #NP(TSS selector)': #NP(0x58).",
     gp_cpl0(0x58, vector="#NP"), SRC_CALL, code=CALL_B, gdt=[tss_desc(11, B, p=0)],
     mem=hlt_task())
fvec("task-call-tss-limit-66-ts-prot32",
     "CALL 0x58:0 to TSS B with limit 0x66 (< 67H): Table 8-1 'TSS segment limit greater than or "
     "equal to 108' -> #TS(0x58), before anything is saved.",
     gp_cpl0(0x58, vector="#TS"), SRC_CALL, code=CALL_B, gdt=[tss_desc(11, B, limit=0x66)],
     mem=hlt_task())
fvec("task-call-tss16-limit-2a-ts-prot32",
     "CALL 0x70:0 to the 16-bit TSS D with limit 0x2a, below its last byte 0x2b (and below Table "
     "6-6's 'less than 2CH for 16-bit TSS'): #TS(0x70).",
     gp_cpl0(0x70, vector="#TS"), SRC_CALL, code="9a00000000" + le(SEL_D, 2),
     gdt=[tss_desc(14, D, limit=0x2a, type_=1)], mem=[{"addr": H(D), "bytes": tss16()}])
fvec("task-jmp-tss-limit-66-ts-prot32",
     "JMP 0x58:0 to TSS B with limit 0x66: #TS(0x58); the old task's busy flag is not cleared "
     "(0x8b at 0x1045).",
     {**gp_cpl0(0x58, vector="#TS"), "mem": [{"addr": "0x1045", "bytes": "8b"},
                                              {"addr": "0x105d", "bytes": "89"}]},
     SRC_JMP, code=JMP_B, gdt=[tss_desc(11, B, limit=0x66)], mem=hlt_task())
fvec("task-gate-dpl0-from-cpl3-gp-prot32",
     "CALL 0x6b:0 at CPL 3 through a task gate with DPL 0: 'IF task gate DPL < CPL ... THEN "
     "#GP(task gate selector)': #GP(0x68).",
     gp_cpl3(0x68), SRC_CALL, cpl=3, code="9a00000000" + le(SEL_GATE | 3, 2),
     gdt=[tss_desc(11, B), task_gate(13, SEL_B, dpl=0)], mem=hlt_task())
fvec("task-gate-rpl3-above-dpl0-gp-prot32",
     "CALL 0x6b:0 at CPL 0 through a DPL-0 task gate (RPL 3 > DPL 0): #GP(0x68).",
     gp_cpl0(0x68), SRC_CALL, code="9a00000000" + le(SEL_GATE | 3, 2),
     gdt=[tss_desc(11, B), task_gate(13, SEL_B, dpl=0)], mem=hlt_task())
fvec("task-gate-not-present-np-prot32",
     "CALL 0x68:0 through a task gate with P = 0: 'IF task gate not present THEN #NP(task gate "
     "selector)': #NP(0x68).",
     gp_cpl0(0x68, vector="#NP"), SRC_CALL, code=CALL_GATE,
     gdt=[tss_desc(11, B), task_gate(13, SEL_B, p=0)], mem=hlt_task())
fvec("task-gate-jmp-not-present-np-prot32",
     "JMP 0x68:0 through a not-present task gate: #NP(0x68).",
     gp_cpl0(0x68, vector="#NP"), SRC_JMP, code=JMP_GATE,
     gdt=[tss_desc(11, B), task_gate(13, SEL_B, p=0)], mem=hlt_task())
fvec("task-gate-tss-selector-ti1-gp-prot32",
     "A task gate whose TSS selector is 0x5c (TI = 1): 'IF TSS segment selector local/global bit is "
     "set to local ... THEN #GP(TSS selector)': #GP(0x5c).",
     gp_cpl0(0x5c), SRC_CALL, code=CALL_GATE, gdt=[tss_desc(11, B), task_gate(13, 0x5c)],
     mem=hlt_task())
fvec("task-gate-tss-beyond-gdt-limit-gp-prot32",
     "A task gate naming TSS selector 0x1f8 (index 63) while the GDT limit covers index 13: 'index "
     "not within GDT limits' -> #GP(0x1f8).",
     gp_cpl0(0x1f8), SRC_CALL, code=CALL_GATE, gdt=[tss_desc(11, B), task_gate(13, 0x1f8)],
     mem=hlt_task())
fvec("task-gate-to-code-segment-gp-prot32",
     "A task gate naming 0x08 (a code segment): 'descriptor is not a TSS segment' -> #GP(0x08).",
     gp_cpl0(0x08), SRC_JMP, code=JMP_GATE, gdt=[tss_desc(11, B), task_gate(13, 0x08)],
     mem=hlt_task())
fvec("task-gate-to-busy-tss-gp-prot32",
     "A task gate naming the current TSS 0x40 (busy): 'TSS descriptor specifies that the TSS is "
     "busy' -> #GP(0x40).",
     gp_cpl0(0x40), SRC_CALL, code=CALL_GATE, gdt=[tss_desc(11, B), task_gate(13, 0x40)])
fvec("task-gate-tss-not-present-np-prot32",
     "A task gate naming TSS B with P = 0: 'IF TSS not present THEN #NP(TSS selector)': #NP(0x58).",
     gp_cpl0(0x58, vector="#NP"), SRC_CALL, code=CALL_GATE,
     gdt=[tss_desc(11, B, p=0), task_gate(13, SEL_B)], mem=hlt_task())
# IRET with NT = 1: the back link's checks are #TS (Table 6-6 "During an IRET task switch ...")
IRET_NT = {"eflags": "0x4002"}


def iret_fault(err, vector="#TS"):
    return gp_cpl0(err, rflags=0x4002, vector=vector)


fvec("task-iret-backlink-available-ts-prot32",
     "IRET with NT = 1, A's link = 0x58 naming TSS B that is available (type 9), not busy: 'the "
     "backlink points to a descriptor which is not a busy TSS' -> #TS(0x58); frame EFLAGS 0x14002.",
     iret_fault(0x58), SRC_IRET + ["sdm:Vol.3A/6.15"], code="cf", regs=IRET_NT, gdt=GDT_B,
     mem=hlt_task([{"addr": "0x3000", "bytes": "5800"}]))
fvec("task-iret-backlink-null-ts-prot32",
     "IRET with NT = 1 and a null back link (A's link field 0): 'the backlink is a NULL selector' "
     "-> #TS(0).", iret_fault(0), SRC_IRET + ["sdm:Vol.3A/6.15"], code="cf", regs=IRET_NT)
fvec("task-iret-backlink-ti1-ts-prot32",
     "IRET with NT = 1, back link 0x5c (TI = 1): 'the TI flag in the TSS segment selector indicates "
     "the LDT' -> #TS(0x5c).", iret_fault(0x5c), SRC_IRET + ["sdm:Vol.3A/6.15"], code="cf",
     regs=IRET_NT, gdt=[tss_desc(11, B, type_=11)],
     mem=hlt_task([{"addr": "0x3000", "bytes": "5c00"}]))
fvec("task-iret-backlink-beyond-gdt-ts-prot32",
     "IRET with NT = 1, back link 0x1f8 beyond the GDT limit: 'the TSS segment selector exceeds "
     "descriptor table limit' -> #TS(0x1f8).", iret_fault(0x1f8),
     SRC_IRET + ["sdm:Vol.3A/6.15"], code="cf", regs=IRET_NT,
     mem=[{"addr": "0x3000", "bytes": "f801"}])
fvec("task-iret-backlink-code-segment-ts-prot32",
     "IRET with NT = 1, back link 0x08 (a code segment): not a busy TSS -> #TS(0x08).",
     iret_fault(0x08), SRC_IRET + ["sdm:Vol.3A/6.15"], code="cf", regs=IRET_NT,
     mem=[{"addr": "0x3000", "bytes": "0800"}])
fvec("task-iret-backlink-not-present-np-prot32",
     "IRET with NT = 1, back link 0x58: a busy TSS with P = 0: Table 8-1 'P flag in TSS descriptor "
     "is set' -> #NP(0x58).", iret_fault(0x58, vector="#NP"), SRC_IRET, code="cf",
     regs=IRET_NT, gdt=[tss_desc(11, B, type_=11, p=0)],
     mem=hlt_task([{"addr": "0x3000", "bytes": "5800"}]))
fvec("task-iret-backlink-limit-66-ts-prot32",
     "IRET with NT = 1 to a busy TSS B with limit 0x66: #TS(0x58).", iret_fault(0x58),
     SRC_IRET, code="cf", regs=IRET_NT, gdt=[tss_desc(11, B, type_=11, limit=0x66)],
     mem=hlt_task([{"addr": "0x3000", "bytes": "5800"}]))

# INT n / exceptions through IDT task gates whose TSS is bad (before the switch).
fvec("task-int-n-idt-task-gate-dpl0-gp-prot32",
     "INT 0x40 at CPL 3 through a DPL-0 IDT task gate: the gate-DPL check of INT n (SDM INT n: 'IF "
     "gate DPL < CPL THEN #GP(vector * 8 + 2)') comes before the gate type: #GP(0x202).",
     gp_cpl3(0x202), SRC_INT, cpl=3, code="cd40", gdt=GDT_B,
     mem=hlt_task([idt_task_gate(0x40, SEL_B, dpl=0)]))
fvec("task-int-n-idt-task-gate-not-present-np-prot32",
     "INT 0x40 at CPL 3 through a not-present DPL-3 IDT task gate: #NP(0x202) (IDT bit set).",
     gp_cpl3(0x202, vector="#NP"), SRC_INT, cpl=3, code="cd40", gdt=GDT_B,
     mem=hlt_task([idt_task_gate(0x40, SEL_B, p=0)]))
fvec("task-int-n-task-gate-busy-tss-gp-prot32",
     "INT 0x40 through a task gate naming the busy current TSS 0x40: 'IF TSS descriptor specifies "
     "that the TSS is busy THEN #GP(TSS selector)': #GP(0x40), EXT = 0 for INT n; the fault is the "
     "INT instruction's (frame EIP 0x100000).",
     gp_cpl0(0x40), SRC_INT, code="cd40", mem=[idt_task_gate(0x40, 0x40)])
fvec("task-int-n-task-gate-tss-not-present-np-prot32",
     "INT 0x40 through a task gate naming TSS B with P = 0: #NP(0x58).",
     gp_cpl0(0x58, vector="#NP"), SRC_INT, code="cd40", gdt=[tss_desc(11, B, p=0)],
     mem=hlt_task([idt_task_gate(0x40, SEL_B)]))
fvec("task-int-n-task-gate-tss-limit-ts-prot32",
     "INT 0x40 through a task gate naming TSS B with limit 0x66: #TS(0x58) (Table 8-1), the INT's "
     "own fault.", gp_cpl0(0x58, vector="#TS"), SRC_INT, code="cd40",
     gdt=[tss_desc(11, B, limit=0x66)], mem=hlt_task([idt_task_gate(0x40, SEL_B)]))
fvec("task-ud-task-gate-busy-tss-gp-ext-prot32",
     "UD2 with IDT[6] a task gate naming the busy current TSS 0x40: the #UD's delivery raises "
     "#GP(0x40) with EXT = 1 (SDM Vol. 3A 6.13: raised while delivering an exception) = 0x41; #UD "
     "is benign, so the #GP is delivered (Table 6-5), through the standard IDT[13], frame EIP "
     "0x100000.", gp_cpl0(0x41), SRC_INT + ["sdm:Vol.3A/6.13", "sdm:Vol.3A/6.15"], code="0f0b",
     mem=[idt_task_gate(6, 0x40, dpl=0)])
fvec("task-gp-task-gate-busy-tss-double-fault-prot32",
     "HLT at CPL 3 (#GP(0)) with IDT[13] a task gate naming the busy TSS 0x40: a contributory #GP "
     "while delivering #GP -> #DF(0) (SDM Vol. 3A 6.15 Table 6-5), delivered through IDT[8] from "
     "CPL 3 (frame EIP 0x400000, ESP 0x410000).",
     fault_end("#DF", 0, {"rip": "0x400000", "cs": "0x23", "rflags": "0x2", "rsp": "0x410000",
                          "ss": "0x2b"}, 0x110000 - 24, 3, []),
     SRC_INT + ["sdm:Vol.3A/6.15"], cpl=3, code="f4", mem=[idt_task_gate(13, 0x40, dpl=0)])

# IA-32e mode: no task switches (SDM Vol. 3A 8.7; IRET IA-32e-MODE "IF NT = 1 THEN #GP(0)").
fvec("task-iret-nt-long-gp",
     "IRETQ with NT = 1 in 64-bit mode: 'IF NT = 1 THEN #GP(0)' (SDM IRET IA-32e-MODE): frame RIP "
     "0x100000, RFLAGS 0x14002; CPL 0, RSP 0x110000 aligned: frame at 0x110000 - 48.",
     {"end": "exception", "vector": "#GP", "error_code": 0,
      "frame": {"rip": "0x100000", "cs": "0x10", "rflags": "0x14002", "rsp": "0x110000",
                "ss": "0x18"}, "regs": {"rip": "0x40d0", "rsp": H(0x110000 - 48)}, "cpl": 0},
     SRC_IRET + ["sdm:Vol.3A/8.7"], mode="long", code="48cf", regs={"rflags": "0x4002"})
fvec("task-iret-nt-compat-gp",
     "IRETD with NT = 1 in compatibility mode (IA-32e): #GP(0) as in 64-bit mode.",
     {"end": "exception", "vector": "#GP", "error_code": 0,
      "frame": {"rip": "0x100000", "cs": "0x8", "rflags": "0x14002", "rsp": "0x110000",
                "ss": "0x18"}, "regs": {"rip": "0x40d0", "rsp": H(0x110000 - 48)}, "cpl": 0},
     SRC_IRET + ["sdm:Vol.3A/8.7"], mode="compat", code="cf", regs={"rflags": "0x4002"})
fvec("task-call-far-to-tss-compat-gp",
     "CALL 0x58:0 in compatibility mode to a 64-bit TSS descriptor (type 9, 16 bytes at GDT 11-12): "
     "in IA-32e mode only call gates are valid system targets (SDM CALL: 'IF IA32_EFER.LMA = 1 "
     "... IF segment type is not a conforming or nonconforming code segment, 64-bit call gate ... "
     "THEN #GP(segment selector)'): #GP(0x58).",
     {"end": "exception", "vector": "#GP", "error_code": 0x58,
      "frame": {"rip": "0x100000", "cs": "0x8", "rflags": "0x10002", "rsp": "0x110000",
                "ss": "0x18"}, "regs": {"rip": "0x40d0", "rsp": H(0x110000 - 48)}, "cpl": 0},
     SRC_CALL + ["sdm:Vol.3A/8.7"], mode="compat", code=CALL_B,
     gdt=[{"index": 11, "raw": "0x0000896000000067", "raw_hi": "0x0"}])
fvec("task-int-n-idt-task-gate-long-gp",
     "INT 0x40 in 64-bit mode with IDT[0x40] of type 5 (a task gate): not a valid IA-32e gate type "
     "(SDM Vol. 3A 6.14.1, 8.7) -> #GP(0x40 * 8 + 2 = 0x202).",
     {"end": "exception", "vector": "#GP", "error_code": 0x202,
      "frame": {"rip": "0x100000", "cs": "0x10", "rflags": "0x10002", "rsp": "0x110000",
                "ss": "0x18"}, "regs": {"rip": "0x40d0", "rsp": H(0x110000 - 48)}, "cpl": 0},
     SRC_INT + ["sdm:Vol.3A/8.7"], mode="long", code="cd40",
     mem=[{"addr": H(0x2000 + 16 * 0x40), "bytes": le((0x58 << 16) | (0xe5 << 40), 8) + "0000000000000000"}])

# Ring 3 can observe these on the host CPU (native judge): NT is not privileged (POPF/the start
# state set it), and the standard GDT's entry 8 is a busy TSS as in Linux's GDT.
def cpl3_ia32e_gp(err, rip, cs, rflags=0x10002):
    """#GP from CPL 3 in IA-32e mode (SDM Vol. 3A 6.14.2): RSP0 0x110000, 6 slots."""
    return {"end": "exception", "vector": "#GP", "error_code": err,
            "frame": {"rip": H(rip), "cs": H(cs), "rflags": H(rflags), "rsp": "0x410000",
                      "ss": "0x2b"}, "regs": {"rip": "0x40d0", "rsp": H(0x110000 - 48)}, "cpl": 0}


fvec("task-iret-nt-cpl3-long-gp",
     "IRETQ with NT = 1 at CPL 3 in 64-bit mode: 'IF NT = 1 THEN #GP(0)' (SDM IRET IA-32e-MODE) "
     "before any pop: frame RIP 0x400000, CS 0x33, RFLAGS 0x14002 (NT, RF), RSP 0x410000.",
     cpl3_ia32e_gp(0, 0x400000, 0x33, 0x14002), SRC_IRET + ["sdm:Vol.3A/8.7"], mode="long", cpl=3,
     code="48cf", regs={"rflags": "0x4002"})
fvec("task-iret-nt-cpl3-compat-gp",
     "IRETD with NT = 1 at CPL 3 in compatibility mode: #GP(0) as in 64-bit mode (IA-32e).",
     cpl3_ia32e_gp(0, 0x400000, 0x23, 0x14002), SRC_IRET + ["sdm:Vol.3A/8.7"], mode="compat",
     cpl=3, code="cf", regs={"rflags": "0x4002"})
fvec("task-call-far-busy-tss-cpl3-compat-gp",
     "CALL 0x43:0 at CPL 3 in compatibility mode: 0x40 is the busy 64-bit TSS (GDT 8, as in "
     "Linux's GDT); in IA-32e mode a TSS is not a valid far CALL target (SDM CALL: 'IF segment type "
     "is not a conforming or nonconforming code segment, 64-bit call gate THEN #GP(segment "
     "selector)', Vol. 3A 8.7): #GP(0x40).",
     cpl3_ia32e_gp(0x40, 0x400000, 0x23), SRC_CALL + ["sdm:Vol.3A/8.7"], mode="compat", cpl=3,
     code="9a000000004300")
fvec("task-jmp-far-busy-tss-cpl3-long-gp",
     "JMP FAR [0x500000] (FF /5, m16:32 = 0x43:0) at CPL 3 in 64-bit mode to the busy TSS 0x40: "
     "#GP(0x40) (SDM JMP IA-32e: only code segments and 64-bit call gates).",
     cpl3_ia32e_gp(0x40, 0x400000, 0x33), SRC_JMP + ["sdm:Vol.3A/8.7"], mode="long", cpl=3,
     code="ff2c2500005000", mem=[{"addr": "0x500000", "bytes": "00000000 4300"}])

# ------------------------------------------------------------------ faults after the commit point (new task)
# The new task runs at CPL 3 (CS 0x23 in B) so the #TS/#SS/#NP of its segment loads is delivered
# with a stack switch to B's SS0:ESP0 = 0x18:0x10c000 (TR is B already): frame = B's EIP 0x601000,
# CS 0x23, EFLAGS 0x4002 | RF = 0x14002, B's ESP 0x40c000 and B's SS selector; ESP 0x10c000 - 24.


def new_task_fault(vector, err, ss, rflags=0x14002, esp=0x40c000, eip=0x601000, cs=0x23):
    return fault_end(vector, err, {"rip": H(eip), "cs": H(cs), "rflags": H(rflags), "rsp": H(esp),
                                   "ss": H(ss)}, 0x10c000 - 24, 3, [],
                     extra={"segs": {"tr": H(SEL_B)}})


CPL3_TSS = dict(cs=0x23, ss=0x2b, ds=0x2b, esp=0x40c000)
GDT_NP = [tss_desc(11, B), {"index": 15, "base": "0x0", "limit": "0xfffff", "type": 3, "s": 1,
                            "dpl": 3, "p": 0, "db": 1, "g": 1}]


def nt_vec(name, why, e, tss_fields, gdt=None, code=CALL_B, **kw):
    f = dict(CPL3_TSS)
    f.update(tss_fields)
    e["sources"] = SRC_CALL + ["sdm:Vol.3A/8.3 Table 8-1"]
    e["mem"] = e.get("mem", []) + [{"addr": "0x105d", "bytes": "8b"},
                                    {"addr": H(B), "bytes": "4000"}]
    vec(name, why, code=code, regs=regs_in(), gdt=gdt or GDT_B,
        mem=[{"addr": H(B), "bytes": tss32(**f)}, {"addr": H(TASK_CODE), "bytes": "cc"}],
        expect=e, **kw)


nt_vec("task-new-ss-null-ts-in-new-task-prot32",
       "CALL to TSS B whose SS field is 0 (null) with CS 0x23: the switch commits (B busy, link "
       "0x40), then 'SS segment selector is valid' fails: #TS(0) in the new task (Table 8-1).",
       new_task_fault("#TS", 0, 0), {"ss": 0})
nt_vec("task-new-ss-dpl0-cpl3-ts-in-new-task-prot32",
       "B's SS = 0x18 (DPL 0) with CS 0x23 (CPL 3): 'Stack segment DPL matches CPL' fails -> "
       "#TS(0x18) in the new task.", new_task_fault("#TS", 0x18, 0x18), {"ss": 0x18})
nt_vec("task-new-ss-rpl-mismatch-ts-in-new-task-prot32",
       "B's SS = 0x28 (the DPL-3 data segment with RPL 0), CS 0x23: 'Stack segment DPL matches "
       "selector RPL' fails -> #TS(0x28).", new_task_fault("#TS", 0x28, 0x28), {"ss": 0x28})
nt_vec("task-new-ss-code-segment-ts-in-new-task-prot32",
       "B's SS = 0x23 (a code segment): not a writable data segment -> #TS(0x20).",
       new_task_fault("#TS", 0x20, 0x23), {"ss": 0x23})
nt_vec("task-new-ss-not-present-ss-in-new-task-prot32",
       "B's SS = 0x7b, a DPL-3 writable data segment with P = 0: 'Stack segment is present' -> "
       "#SS(0x78) in the new task.", new_task_fault("#SS", 0x78, 0x7b), {"ss": 0x7b}, gdt=GDT_NP)
nt_vec("task-new-ss-beyond-gdt-ts-in-new-task-prot32",
       "B's SS = 0x1fb (index 63, beyond the GDT limit): not valid -> #TS(0x1f8).",
       new_task_fault("#TS", 0x1f8, 0x1fb), {"ss": 0x1fb})
nt_vec("task-new-ds-dpl0-ts-in-new-task-prot32",
       "B's DS = 0x18 (DPL 0 data) with CPL 3: 'DS ... segment DPL greater than or equal to CPL' "
       "fails -> #TS(0x18); SS 0x2b loaded fine.", new_task_fault("#TS", 0x18, 0x2b),
       {"ds": 0x18, "es": 0x2b, "fs": 0x2b, "gs": 0x2b})
nt_vec("task-new-ds-not-present-np-in-new-task-prot32",
       "B's DS = 0x7b (P = 0): 'DS, ES, FS, and GS segments are present' -> #NP(0x78).",
       new_task_fault("#NP", 0x78, 0x2b), {"ds": 0x7b, "es": 0x2b, "fs": 0x2b, "gs": 0x2b},
       gdt=GDT_NP)
nt_vec("task-new-es-exec-only-code-ts-in-new-task-prot32",
       "B's ES = 0x7b naming execute-only code (type 8, DPL 3): 'segments are readable' fails -> "
       "#TS(0x78).", new_task_fault("#TS", 0x78, 0x2b), {"es": 0x7b, "ds": 0x2b, "fs": 0x2b,
                                                         "gs": 0x2b},
       gdt=[tss_desc(11, B), {"index": 15, "base": "0x0", "limit": "0xfffff", "type": 8, "s": 1,
                              "dpl": 3, "p": 1, "db": 1, "g": 1}])
nt_vec("task-new-cs-not-present-np-in-new-task-prot32",
       "B's CS = 0x7b, DPL-3 code with P = 0: 'Code segment is present' -> #NP(0x78) in the new "
       "task; the frame's CS is the selector loaded, 0x7b.",
       new_task_fault("#NP", 0x78, 0x2b, cs=0x7b), {"cs": 0x7b},
       gdt=[tss_desc(11, B), {"index": 15, "base": "0x0", "limit": "0xfffff", "type": 11, "s": 1,
                              "dpl": 3, "p": 0, "db": 1, "g": 1}])
nt_vec("task-new-cs-data-segment-ts-in-new-task-prot32",
       "B's CS = 0x2b (a data segment): 'CS segment selector is valid' fails -> #TS(0x28).",
       new_task_fault("#TS", 0x28, 0x2b, cs=0x2b), {"cs": 0x2b})
nt_vec("task-new-cs-rpl-mismatch-ts-in-new-task-prot32",
       "B's CS = 0x21 (the DPL-3 code segment with RPL 1) and SS 0x2b: the CPL the switch gives is "
       "the RPL 1, so SS DPL 3 != CPL 1 fails first (Bochs's order: SS before CS) -> #TS(0x28).",
       new_task_fault("#TS", 0x28, 0x2b, cs=0x21), {"cs": 0x21})
nt_vec("task-new-ldt-not-ldt-ts-in-new-task-prot32",
       "B's LDT selector = 0x08 (a code segment, not an LDT descriptor): 'LDT segment selector of "
       "new task is valid' -> #TS(0x08) in the new task (the LDT comes first).",
       new_task_fault("#TS", 0x08, 0x2b), {"ldt": 0x08})
nt_vec("task-new-cs-dpl-rpl-mismatch-ts-in-new-task-prot32",
       "B's CS = 0x0b (the DPL-0 code segment GDT 1 with RPL 3), SS/DS 0x2b: the CPL is the RPL 3, "
       "SS and DS qualify, then 'Code segment DPL matches segment selector RPL' fails -> #TS(0x08) "
       "in the new task (frame CS 0x0b).", new_task_fault("#TS", 0x08, 0x2b, cs=0x0b), {"cs": 0x0b})
nt_vec("task-new-ldt-not-present-ts-in-new-task-prot32",
       "B's LDT selector = 0x78, an LDT descriptor (type 2) with P = 0: Table 8-1 'LDT of new task is "
       "present' -> #TS(0x78) (not #NP) in the new task.", new_task_fault("#TS", 0x78, 0x2b),
       {"ldt": 0x78}, gdt=[tss_desc(11, B), tss_desc(15, 0x6000, limit=0x7, type_=2, p=0)])
nt_vec("task-new-gs-beyond-gdt-ts-in-new-task-prot32",
       "B's GS = 0x1fb (index 63, beyond the GDT limit): 'DS, ES, FS, and GS segment selectors are "
       "valid' -> #TS(0x1f8) in the new task.", new_task_fault("#TS", 0x1f8, 0x2b),
       {"gs": 0x1fb, "ds": 0x2b, "es": 0x2b, "fs": 0x2b})
nt_vec("task-new-ldt-ti1-ts-in-new-task-prot32",
       "B's LDT selector = 0x5c (TI = 1): an LDT descriptor must be in the GDT -> #TS(0x5c).",
       new_task_fault("#TS", 0x5c, 0x2b), {"ldt": 0x5c})
vec("task-new-eip-beyond-cs-limit-gp-in-new-task-prot32",
    "B's task: CS 0xe3 (16-bit ring-3 code, base 0x400000, limit 0xffff), SS 0xeb, EIP 0x10000: "
    "after the switch 'IF EIP not within code segment limit THEN #GP(0)' (CALL TASK-GATE/TSS) in "
    "the new task: #GP(0) from CPL 3, frame EIP 0x10000, CS 0xe3, EFLAGS 0x14002, ESP 0x40c000, SS "
    "0xeb; stack B's SS0:ESP0.",
    code=CALL_B, regs=regs_in(), gdt=GDT_B,
    mem=[{"addr": H(B), "bytes": tss32(cs=0xe3, ss=0xeb, ds=0xeb, esp=0x40c000, eip=0x10000)}],
    expect={**new_task_fault("#GP", 0, 0xeb, eip=0x10000, cs=0xe3),
            "sources": SRC_CALL + ["sdm:Vol.3A/8.3 Table 8-1"]})
vec("task-new-ds-not-present-cpl0-task-np-prot32",
    "A CPL-0 new task (CS 0x08, SS 0x18, ESP 0x108000) with DS = 0x78 (P = 0, DPL 0 data): #NP(0x78) "
    "in the new task, delivered at CPL 0 without a stack switch on its own stack: frame EIP "
    "0x601000, CS 0x08, EFLAGS 0x14002 (NT from the CALL, RF), ESP 0x108000 - 16.",
    code=CALL_B, regs=regs_in(), mem=[{"addr": H(B), "bytes": tss32(ds=0x78)}],
    gdt=[tss_desc(11, B), {"index": 15, "base": "0x0", "limit": "0xfffff", "type": 3, "s": 1,
                           "dpl": 0, "p": 0, "db": 1, "g": 1}],
    expect={**fault_end("#NP", 0x78, {"rip": "0x601000", "cs": "0x8", "rflags": "0x14002"},
                        0x108000 - 16, 0, []),
            "segs": {"tr": H(SEL_B), "ss": "0x18"},
            "sources": SRC_CALL + ["sdm:Vol.3A/8.3 Table 8-1"]})
vec("task-int-n-task-gate-new-ss-bad-ts-in-new-task-prot32",
    "INT 0x40 at CPL 3 through a DPL-3 IDT task gate to TSS B (CPL-3 task) whose SS is 0x18: the "
    "switch commits, then #TS(0x18) in the new task; for INT n the error code has EXT = 0 and it is "
    "a fresh exception (not a double fault): frame EIP 0x601000, CS 0x23.",
    cpl=3, code="cd40", regs=regs_in(), gdt=GDT_B,
    mem=[{"addr": H(B), "bytes": tss32(**{**CPL3_TSS, "ss": 0x18})},
         idt_task_gate(0x40, SEL_B)],
    expect={**new_task_fault("#TS", 0x18, 0x18),
            "mem": [old_save(0x400002, 0x2, cpl=3), {"addr": H(B), "bytes": "4000"}],
            "sources": SRC_INT + ["sdm:Vol.3A/8.3 Table 8-1"]})
vec("task-ud-task-gate-new-ss-bad-ts-ext-in-new-task-prot32",
    "UD2 at CPL 0 with IDT[6] a task gate to TSS B (CPL-3 task) whose SS is 0x18: #TS(0x18) in the "
    "new task, raised while delivering #UD: EXT = 1 -> error code 0x19 (SDM 6.13); #UD benign + "
    "#TS: the #TS is delivered (Table 6-5) with the new task's frame.",
    code="0f0b", regs=regs_in(), gdt=GDT_B,
    mem=[{"addr": H(B), "bytes": tss32(**{**CPL3_TSS, "ss": 0x18})},
         idt_task_gate(6, SEL_B, dpl=0)],
    expect={**new_task_fault("#TS", 0x19, 0x18),
            "mem": [old_save(0x100000, 0x10002)],
            "sources": SRC_INT + ["sdm:Vol.3A/6.13", "sdm:Vol.3A/6.15"]})

# ------------------------------------------------------------------ where a judge departs from the manual
# The expectation stays the manual's; the judge is told what not to compare (docs/vectors.md "Not
# judged"; end, vector and error code cannot be left out, so such a vector refuses the judge: "*").
QEMU = "qemu-7.2:qemu64"
BOCHS = "bochs-2.7:corei7_skylake_x"
Q_UPPER = ("QEMU 7.2 keeps the upper 16 bits of the general-purpose registers when it loads them from "
           "a 16-bit TSS; SDM Vol. 3A 8.6 says they are 'modified and not maintained', Bochs makes "
           "them FFFFH")
Q_RF_TSS = ("QEMU 7.2 does not set RF in the EFLAGS image of a fault (here the image saved in the old "
            "TSS; SDM Vol. 3A 18.3.1.1), so the old TSS's memory is not compared")
Q_CPL = ("QEMU 7.2 takes CPL from SS's descriptor cache, which its task switch clears before loading "
         "the new segments: the fault of the new task is delivered at CPL 0 without a stack switch, "
         "on the new task's (unloaded) stack; Bochs and the manual's 'in the context of the new task' "
         "(CPL 3, the new TSS's ring-0 stack) agree")
NJ = {
    "task-call-tss16-prot32": [(QEMU, ["expect.regs." + r for r in GPR_NAMES], Q_UPPER)],
    "task-gp-via-task-gate-tss16-pushes-word-prot32": [(QEMU, ["expect.regs.esp"], Q_UPPER)],
    "task-gp-error-code-via-idt-task-gate-prot32": [(QEMU, ["expect.mem"], Q_RF_TSS)],
    "task-ud-no-error-code-via-idt-task-gate-prot32": [(QEMU, ["expect.mem"], Q_RF_TSS)],
    "task-gate-tss-selector-ti1-gp-prot32": [(QEMU, ["*"], "QEMU 7.2 raises #TS(TSS selector) for a "
                                             "TI = 1 TSS selector in a task gate; the CALL/JMP "
                                             "TASK-GATE pseudo-code says #GP(TSS selector)")],
    "task-ud-task-gate-busy-tss-gp-ext-prot32": [(QEMU, ["*"], "QEMU 7.2 leaves EXT = 0 in the "
                                                 "error code of a fault found while switching tasks "
                                                 "for an exception (SDM Vol. 3A 6.13: EXT = 1)")],
    "task-ud-task-gate-new-ss-bad-ts-ext-in-new-task-prot32": [(QEMU, ["*"], "QEMU 7.2 leaves EXT = "
                                                               "0 (SDM 6.13: 1) and delivers the "
                                                               "new task's fault at CPL 0 (see the "
                                                               "other new-task vectors)")],
    "task-int-n-idt-task-gate-long-gp": [(QEMU, ["*"], "QEMU 7.2 reports vector * 16 + 2 for a bad "
                                          "IA-32e IDT gate; SDM 6.13 and the host CPU: vector * 8 + 2 "
                                          "(docs/oracle-disagreements.md)")],
    "task-new-ss-not-present-ss-in-new-task-prot32": [(QEMU, ["*"], "QEMU 7.2 raises #NP for the new "
                                                       "task's not-present SS; Table 8-1: #SS")],
    "task-new-cs-rpl-mismatch-ts-in-new-task-prot32": [(QEMU, ["*"], "QEMU 7.2 qualifies CS before "
                                                        "SS (#TS(0x20)); Bochs and ringcore SS "
                                                        "first (#TS(0x28)); the SDM gives no order")],
    "task-gp-task-gate-busy-tss-double-fault-prot32": [
        ("native:AuthenticAMD-25-1", ["*"], "the IDT task gate is written over the standard IDT "
         "with mem, which the native judge cannot install (Linux's IDT answers)"),
        (BOCHS, ["expect.frame.rflags"], "Bochs 2.7 "
                                                        "pushes RF = 1 in this #DF frame (the RF of "
                                                        "the first #GP); #DF is an abort (SDM 6.15: "
                                                        "the saved CS:EIP is undefined) and "
                                                        "ringcore pushes no RF for it")],
}
for n in ("task-new-ss-null-ts-in-new-task-prot32", "task-new-ss-dpl0-cpl3-ts-in-new-task-prot32",
          "task-new-ss-rpl-mismatch-ts-in-new-task-prot32",
          "task-new-ss-code-segment-ts-in-new-task-prot32",
          "task-new-ss-beyond-gdt-ts-in-new-task-prot32",
          "task-new-cs-not-present-np-in-new-task-prot32",
          "task-new-cs-data-segment-ts-in-new-task-prot32",
          "task-new-ldt-not-ldt-ts-in-new-task-prot32", "task-new-ldt-ti1-ts-in-new-task-prot32",
          "task-int-n-task-gate-new-ss-bad-ts-in-new-task-prot32",
          "task-new-cs-dpl-rpl-mismatch-ts-in-new-task-prot32",
          "task-new-ldt-not-present-ts-in-new-task-prot32",
          "task-new-gs-beyond-gdt-ts-in-new-task-prot32"):
    NJ[n] = [(QEMU, ["expect.frame.rsp", "expect.frame.ss", "expect.regs.esp"], Q_CPL)]
names = {v["name"] for v in V}
for n, entries in NJ.items():
    assert n in names, n
    v = [x for x in V if x["name"] == n][0]
    for src, fields, why in entries:
        v["expect"].setdefault("not_judged", []).append({"source": src, "fields": fields,
                                                         "why": why})

print(json.dumps({"comment": "Hardware task switches (issue 6 item 5), hand-derived from SDM Vol. "
                             "3A chapter 8 and the CALL/JMP/IRET/INT n pseudo-code; generated by "
                             "tools/vectors-gen/gen_task.py.",
                  "vectors": V}, indent=1))

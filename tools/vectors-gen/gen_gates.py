# Hand-derived vectors for far CALL/JMP through call gates (tests/vectors/segments/gates.json).
# Standard machine (docs/standard-machine.md): legacy TSS SS0:ESP0 = 0x18:0x110000, 64-bit
# TSS RSP0 = 0x110000; GDT index 12 (selector 0x60, 0x63 with RPL 3) is free; 0x10 is the
# ring-0 code segment (32-bit in legacy machines, 64-bit in IA-32e ones), 0xb0 a 16-bit
# ring-0 code segment with base 0x100000. Handlers of vector v at 0x4000 + 16v.
# Usage: python3 gen_gates.py > tests/vectors/segments/gates.json
import json

V = []
HLT_K = [{"addr": "0x180000", "bytes": "f4"}]


def vec(**kw):
    V.append(kw)


vec(name="callgate32-cpl3-to-ring0-2params-prot32", mode="prot32", cpl=3,
    code="6811111111 6822222222 9a000000006300 cc",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "params": 2, "type": 12, "dpl": 3}],
    mem=HLT_K,
    why="CALL 0x63:0 through a 32-bit call gate (DPL 3, 2 parameters) to the non-conforming ring-0 "
        "code 0x10 at 0x180000 (SDM Vol. 2A CALL, MORE-PRIVILEGE; Vol. 3A 5.8.5, Figure 5-13): the "
        "new stack is TSS SS0:ESP0 = 0x18:0x110000; pushed: old SS 0x2b, old ESP 0x40fff8 (after the "
        "two PUSHes), the parameters in their order (old [ESP] = 0x22222222 lowest, 0x11111111 above "
        "it), old CS 0x23, old EIP 0x400011 (after the 7-byte CALL): 6 dwords, ESP 0x10ffe8; CS 0x10, "
        "CPL 0; the HLT at 0x180000 ends the run (EIP 0x180001).",
    expect={"end": "hlt", "regs": {"eip": "0x180001", "esp": "0x10ffe8"},
            "segs": {"cs": "0x10", "ss": "0x18"}, "cpl": 0,
            "mem": [{"addr": "0x10ffe8", "bytes": "11004000 23000000 22222222 11111111 f8ff4000 2b000000"}],
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.5"]})

vec(name="callgate32-round-trip-retf-imm-prot32", mode="prot32", cpl=3,
    code="6811111111 6822222222 9a000000006300 cc",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "params": 2, "type": 12, "dpl": 3}],
    mem=[{"addr": "0x180000", "bytes": "ca0800"}],
    why="As above, then the ring-0 code returns with RETF 8 (SDM RET RETURN-TO-OUTER-PRIVILEGE-LEVEL): "
        "EIP 0x400011, CS 0x23, CPL 3, and SS:ESP popped from the inner stack = 0x2b:0x40fff8, plus 8 "
        "released on the outer stack too: ESP 0x410000. The INT3 at 0x400011 then traps: frame EIP "
        "0x400012, CS 0x23, EFLAGS 0x2, ESP 0x410000, SS 0x2b; delivery on SS0:ESP0 (5 dwords): ESP "
        "0x10ffec, EIP 0x4030.",
    expect={"end": "exception", "vector": "#BP", "error_code": "none",
            "frame": {"rip": "0x400012", "cs": "0x23", "rflags": "0x2", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x4030", "esp": "0x10ffec"}, "cpl": 0,
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.2A/RET", "sdm:Vol.3A/5.8.5"]})

vec(name="callgate16-cpl3-to-16bit-ring0-1param-prot32", mode="prot32", cpl=3,
    code="6834120000 9a000000006300 cc",
    gdt=[{"index": 12, "selector": "0xb0", "offset": "0x8000", "params": 1, "type": 4, "dpl": 3}],
    mem=[{"addr": "0x108000", "bytes": "f4"}],
    why="A 16-bit call gate (type 4, 1 parameter) to the 16-bit ring-0 code 0xb0 (base 0x100000) at "
        "offset 0x8000: every push is 16 bits (SDM CALL, CallGateSize = 16): old SS 0x2b, old SP "
        "0xfffc (ESP 0x40fffc after the PUSH), the parameter word at old SS:ESP = 0x1234, old CS 0x23, "
        "old IP 0x000c (EIP 0x40000c truncated): 10 bytes below TSS ESP0 0x110000: ESP 0x10fff6 (SS0 "
        "0x18 is a 32-bit stack). The HLT at linear 0x108000 ends the run: EIP 0x8001.",
    expect={"end": "hlt", "regs": {"eip": "0x8001", "esp": "0x10fff6"},
            "segs": {"cs": "0xb0", "ss": "0x18"}, "cpl": 0,
            "mem": [{"addr": "0x10fff6", "bytes": "0c00 2300 3412 fcff 2b00"}],
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.5"]})

vec(name="callgate64-cpl3-to-ring0-long", mode="long", cpl=3,
    code="ff1c2500014000 cc",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 3}],
    mem=HLT_K + [{"addr": "0x400100", "bytes": "00000000 6300"}],
    why="CALL FAR [0x400100] (FF /3, m16:32 = 0x63:0) in 64-bit mode through a 64-bit call gate "
        "(16 bytes, DPL 3) to the 64-bit ring-0 code 0x10 (SDM Vol. 3A 5.8.3.1, CALL IA-32e "
        "MORE-PRIVILEGE): RSP from TSS.RSP0 = 0x110000 (no alignment for call gates), SS <- null "
        "with RPL 0; pushed 8 bytes each: old SS 0x2b, old RSP 0x410000, old CS 0x33, old RIP "
        "0x400007; no parameter copy. RSP 0x10ffe0, CPL 0; HLT at 0x180000 ends the run.",
    expect={"end": "hlt", "regs": {"rip": "0x180001", "rsp": "0x10ffe0"},
            "segs": {"cs": "0x10", "ss": {"selector": "0x0", "unusable": 1}}, "cpl": 0,
            "mem": [{"addr": "0x10ffe0", "bytes": "0700400000000000 3300000000000000 "
                                                  "0000410000000000 2b00000000000000"}],
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.3.1"]})

vec(name="jmpgate32-same-privilege-cpl0-prot32", mode="prot32", cpl=0,
    code="ea000000006000",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 0}],
    mem=HLT_K,
    why="JMP 0x60:0 through a DPL-0 call gate at CPL 0 to the ring-0 code 0x10 (SDM JMP CALL-GATE: "
        "DPL == CPL): CS 0x10, EIP 0x180000, no stack change (ESP 0x110000 stays); the HLT ends it.",
    expect={"end": "hlt", "regs": {"eip": "0x180001", "esp": "0x110000"}, "segs": {"cs": "0x10"},
            "cpl": 0, "sources": ["sdm:Vol.2A/JMP"]})

vec(name="jmpgate32-to-inner-ring-gp-prot32", mode="prot32", cpl=3,
    code="ea000000006300",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 3}],
    why="JMP through a call gate may not change privilege: the target 0x10 is non-conforming with "
        "DPL 0 != CPL 3: #GP(code-segment selector) = #GP(0x10) (SDM JMP CALL-GATE). Legacy delivery "
        "from CPL 3: 6 dwords below ESP0: ESP 0x10ffe8, EIP 0x40d0.",
    expect={"end": "exception", "vector": "#GP", "error_code": "0x10",
            "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x40d0", "esp": "0x10ffe8"}, "cpl": 0, "sources": ["sdm:Vol.2A/JMP"]})

vec(name="callgate32-dpl0-from-cpl3-gp-prot32", mode="prot32", cpl=3,
    code="9a000000006300",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 0}],
    why="Call gate DPL 0 < CPL 3: #GP(call-gate selector) = #GP(0x60) (SDM CALL CALL-GATE: 'IF call "
        "gate (DPL < CPL) or (RPL > DPL) THEN #GP(call-gate selector)').",
    expect={"end": "exception", "vector": "#GP", "error_code": "0x60",
            "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x40d0", "esp": "0x10ffe8"}, "cpl": 0, "sources": ["sdm:Vol.2A/CALL"]})

vec(name="callgate32-not-present-np-prot32", mode="prot32", cpl=3,
    code="9a000000006300",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 3, "p": 0}],
    why="Call gate not present: #NP(call-gate selector) = #NP(0x60) (SDM CALL). Legacy delivery "
        "through gate 11 from CPL 3: 6 dwords: ESP 0x10ffe8, EIP 0x40b0.",
    expect={"end": "exception", "vector": "#NP", "error_code": "0x60",
            "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x40b0", "esp": "0x10ffe8"}, "cpl": 0, "sources": ["sdm:Vol.2A/CALL"]})

vec(name="callgate64-upper-type-nonzero-gp-long", mode="long", cpl=3,
    code="ff1c2500014000",
    gdt=[{"index": 12, "raw": "0x0018ec0000100000", "raw_hi": "0x0000010000000000"}],
    mem=[{"addr": "0x400100", "bytes": "00000000 6300"}],
    why="A 64-bit call gate whose upper 8 bytes have a non-zero type field (bits 44:40 of the upper "
        "half = 1): #GP(call-gate selector) = #GP(0x60) (SDM CALL IA-32e: 'IF the type field of the "
        "upper 8 bytes is not 0'). 64-bit delivery from CPL 3: 6 qwords below RSP0: RSP 0x10ffd0.",
    expect={"end": "exception", "vector": "#GP", "error_code": "0x60",
            "frame": {"rip": "0x400000", "cs": "0x33", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"rip": "0x40d0", "rsp": "0x10ffd0"}, "cpl": 0,
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.3.1"]})

vec(name="callgate64-to-32bit-code-gp-long", mode="long", cpl=3,
    code="ff1c2500014000",
    gdt=[{"index": 12, "selector": "0x8", "offset": "0x180000", "type": 12, "dpl": 3}],
    mem=[{"addr": "0x400100", "bytes": "00000000 6300"}],
    why="An IA-32e call gate must lead to a 64-bit code segment: 0x08 is 32-bit code (L = 0): "
        "#GP(code-segment selector) = #GP(0x8) (SDM CALL IA-32e CALL-GATE).",
    expect={"end": "exception", "vector": "#GP", "error_code": "0x8",
            "frame": {"rip": "0x400000", "cs": "0x33", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"rip": "0x40d0", "rsp": "0x10ffd0"}, "cpl": 0,
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.3.1"]})

# ---- more of CALL's CALL-GATE path ---------------------------------------------------------
GATE3 = {"index": 12, "selector": "0x81", "offset": "0x280000", "type": 12, "dpl": 3}
vec(name="callgate32-cpl3-to-ring1-prot32", mode="prot32", cpl=3, code="9a000000006300",
    gdt=[GATE3], mem=[{"addr": "0x280000", "bytes": "f4"}],
    why="A call gate to the ring-1 code 0x81 (DPL 1): MORE-PRIVILEGE to CPL 1 with the TSS's SS1:ESP1 "
        "= 0x91:0x210000; pushed old SS 0x2b, ESP 0x410000, CS 0x23, EIP 0x400007: ESP 0x20fff0. The "
        "HLT at 0x280000 is privileged at CPL 1: #GP(0), delivered to ring 0 with a stack switch to "
        "SS0:ESP0 (6 dwords): frame EIP 0x280000, CS 0x81, EFLAGS 0x10002, ESP 0x20fff0, SS 0x91; "
        "ESP 0x10ffe8, EIP 0x40d0.",
    expect={"end": "exception", "vector": "#GP", "error_code": 0,
            "frame": {"rip": "0x280000", "cs": "0x81", "rflags": "0x10002", "rsp": "0x20fff0", "ss": "0x91"},
            "regs": {"eip": "0x40d0", "esp": "0x10ffe8"}, "cpl": 0,
            "mem": [{"addr": "0x20fff0", "bytes": "07004000 23000000 00004100 2b000000"}],
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.5", "sdm:Vol.2A/HLT"]})
vec(name="callgate32-tss-ss1-rpl-mismatch-ts-prot32", mode="prot32", cpl=3, code="9a000000006300",
    gdt=[GATE3], tss={"ss1": "0x90"}, mem=[{"addr": "0x280000", "bytes": "f4"}],
    why="The TSS's SS1 = 0x90 has RPL 0, not the target's DPL 1: 'IF NewSS RPL != new code-segment "
        "DPL THEN #TS(NewSS)' = #TS(0x90), a fault on the CALL at CPL 3; delivered to ring 0 through "
        "gate 10 (SS0 is fine): 6 dwords below ESP0: ESP 0x10ffe8, EIP 0x40a0.",
    expect={"end": "exception", "vector": "#TS", "error_code": "0x90",
            "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x40a0", "esp": "0x10ffe8"}, "cpl": 0,
            "sources": ["sdm:Vol.2A/CALL"]})
vec(name="callgate32-to-conforming-code-stays-cpl3-prot32", mode="prot32", cpl=3, code="9a000000006300",
    gdt=[{"index": 12, "selector": "0x68", "offset": "0x400100", "type": 12, "dpl": 3},
         {"index": 13, "base": "0x0", "limit": "0xfffff", "type": 15, "s": 1, "dpl": 0, "p": 1,
          "db": 1, "g": 1}],
    mem=[{"addr": "0x400100", "bytes": "cc"}],
    why="A call gate to a conforming code segment (0x68, DPL 0) does not change privilege (SDM CALL: "
        "'IF code segment is non-conforming and DPL < CPL THEN MORE-PRIVILEGE ELSE SAME-PRIVILEGE'): "
        "CS <- 0x68 with RPL = CPL 3 = 0x6b, CS:EIP pushed on the current stack (0x23, 0x400007): ESP "
        "0x40fff8. The INT3 at 0x400100 traps at CPL 3: frame EIP 0x400101, CS 0x6b, EFLAGS 0x2, ESP "
        "0x40fff8, SS 0x2b; delivery: ESP 0x10ffec, EIP 0x4030.",
    expect={"end": "exception", "vector": "#BP", "error_code": "none",
            "frame": {"rip": "0x400101", "cs": "0x6b", "rflags": "0x2", "rsp": "0x40fff8", "ss": "0x2b"},
            "regs": {"eip": "0x4030", "esp": "0x10ffec"}, "cpl": 0,
            "mem": [{"addr": "0x40fff8", "bytes": "07004000 23000000"}],
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.4"]})
for nm, gate, extra, vecname, err, why in (
        ("callgate32-null-target-gp", {"selector": "0x0"}, [], "#GP", 0,
         "'IF call-gate code-segment selector is NULL THEN #GP(0)'"),
        ("callgate32-data-target-gp", {"selector": "0x18"}, [], "#GP", "0x18",
         "the gate names the data segment 0x18: 'does not indicate a code segment' -> #GP(0x18)"),
        ("callgate32-target-not-present-np", {"selector": "0x68"},
         [{"index": 13, "base": "0x0", "limit": "0xfffff", "type": 11, "s": 1, "dpl": 0, "p": 0, "db": 1,
           "g": 1}], "#NP", "0x68",
         "the target code segment 0x68 is not present: #NP(0x68), checked after its type and DPL")):
    g = {"index": 12, "offset": "0x180000", "type": 12, "dpl": 3}
    g.update(gate)
    evec = {"#GP": "0x40d0", "#NP": "0x40b0"}[vecname]
    vec(name=nm + "-prot32", mode="prot32", cpl=3, code="9a000000006300", gdt=[g] + extra,
        why="SDM Vol. 2A CALL CALL-GATE: " + why + ". A fault at CPL 3 delivered to ring 0 (6 dwords "
            "below ESP0): ESP 0x10ffe8.",
        expect={"end": "exception", "vector": vecname, "error_code": err,
                "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000",
                          "ss": "0x2b"},
                "regs": {"eip": evec, "esp": "0x10ffe8"}, "cpl": 0, "sources": ["sdm:Vol.2A/CALL"]})
vec(name="callgate64-same-privilege-cpl0-long", mode="long", cpl=0, code="ff1c2500011000",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 0}],
    mem=HLT_K + [{"addr": "0x100100", "bytes": "00000000 6000"}],
    why="CALL FAR [0x100100] at CPL 0 through a DPL-0 64-bit call gate to the 64-bit ring-0 code: "
        "SAME-PRIVILEGE, 8-byte pushes on the current stack (CallGateSize = 64): CS 0x10 and RIP "
        "0x100007 below RSP 0x110000: RSP 0x10fff0. The HLT at 0x180000 ends the run.",
    expect={"end": "hlt", "regs": {"rip": "0x180001", "rsp": "0x10fff0"}, "segs": {"cs": "0x10"}, "cpl": 0,
            "mem": [{"addr": "0x10fff0", "bytes": "0700100000000000 1000000000000000"}],
            "sources": ["sdm:Vol.2A/CALL", "sdm:Vol.3A/5.8.3.1"]})

vec(name="callgate32-rpl-above-gate-dpl-gp-prot32", mode="prot32", cpl=0, code="9a000000006200",
    gdt=[{"index": 12, "selector": "0x10", "offset": "0x180000", "type": 12, "dpl": 1}],
    why="CALL 0x62:0 at CPL 0: the selector's RPL 2 is above the gate's DPL 1: #GP(gate selector) = "
        "#GP(0x60) (SDM CALL: 'IF call gate (DPL < CPL) or (RPL > DPL)'). A fault at CPL 0 in legacy "
        "mode: EFLAGS, CS, EIP and the error code on the current stack: ESP 0x110000 - 16 = 0x10fff0; "
        "frame EIP 0x100000, CS 0x08, EFLAGS 0x10002; EIP 0x40d0.",
    expect={"end": "exception", "vector": "#GP", "error_code": "0x60",
            "frame": {"rip": "0x100000", "cs": "0x8", "rflags": "0x10002"},
            "regs": {"eip": "0x40d0", "esp": "0x10fff0"}, "cpl": 0, "sources": ["sdm:Vol.2A/CALL"]})
vec(name="callgate32-target-beyond-gdt-limit-gp-prot32", mode="prot32", cpl=3, code="9a000000006300",
    gdt=[{"index": 12, "selector": "0x200", "offset": "0x180000", "type": 12, "dpl": 3}],
    why="The gate names code selector 0x200 (index 64), beyond the GDT limit 0xef: 'IF call-gate "
        "code-segment selector index is outside descriptor table limits THEN #GP(code-segment "
        "selector)' = #GP(0x200).",
    expect={"end": "exception", "vector": "#GP", "error_code": "0x200",
            "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x40d0", "esp": "0x10ffe8"}, "cpl": 0, "sources": ["sdm:Vol.2A/CALL"]})
vec(name="callgate32-offset-beyond-target-limit-gp-prot32", mode="prot32", cpl=3, code="9a000000006300",
    gdt=[{"index": 12, "selector": "0xb0", "offset": "0x12345", "type": 12, "dpl": 3}],
    why="A 32-bit gate to the 16-bit ring-0 code 0xb0 (limit 0xffff) at offset 0x12345: after the "
        "stack checks, 'IF CallGate(InstructionPointer) not within new code-segment limit THEN "
        "#GP(0)'. A fault on the CALL at CPL 3, nothing changed: 6 dwords below ESP0: ESP 0x10ffe8.",
    expect={"end": "exception", "vector": "#GP", "error_code": 0,
            "frame": {"rip": "0x400000", "cs": "0x23", "rflags": "0x10002", "rsp": "0x410000", "ss": "0x2b"},
            "regs": {"eip": "0x40d0", "esp": "0x10ffe8"}, "cpl": 0, "sources": ["sdm:Vol.2A/CALL"]})

print(json.dumps({"comment": "Far CALL/JMP through call gates, derived by hand from the SDM "
                             "(tools/vectors-gen/gen_gates.py).", "vectors": V}, indent=1))

# Hand-derived vectors for the MSR file (issue 7 item 1): tests/vectors/syscall/msr.json.
#
# Every expectation is worked out here from the manuals, never copied from ringcore:
#  * SDM Vol. 2B RDMSR: "EDX:EAX <- MSR[ECX]"; in 64-bit mode "the high-order 32 bits of RCX are
#    ignored" and "the high-order 32 bits of each of RAX and RDX are cleared"; #GP(0) "if the
#    current privilege level is not 0" or "if the value in ECX specifies a reserved or
#    unimplemented MSR address".
#  * SDM Vol. 2B WRMSR: "MSR[ECX] <- EDX:EAX"; the high-order 32 bits of RAX, RCX, RDX are
#    ignored; #GP(0) at CPL > 0, for an unimplemented MSR, for a reserved bit set, and for "a
#    non-canonical address to IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE, IA32_LSTAR,
#    IA32_SYSENTER_EIP, IA32_SYSENTER_ESP" (Intel). APM Vol. 3 RDMSR/WRMSR: the same rules;
#    APM Vol. 2 6.1.1: LSTAR and CSTAR must be canonical; APM Vol. 2 6.1.2: SYSENTER_ESP/EIP
#    are 32-bit registers on AMD (legacy mode only), the upper half of a write is dropped.
#  * SDM Vol. 4 Table 2-2 / APM Vol. 2 Appendix A: which MSRs exist and their reserved bits
#    (IA32_FMASK[63:32], IA32_TSC_AUX[63:32] reserved on Intel; AMD keeps 32 bits of TSC_AUX,
#    APM Vol. 3 RDTSCP); IA32_EFER: SCE 0, LME 8, LMA 10 (read-only), NXE 11, the rest
#    reserved (SDM Vol. 4 Table 2-2, APM Vol. 2 3.1.7); SDM Vol. 3A 9.8.5 / APM Vol. 2 14.6.1:
#    "IA32_EFER.LME cannot be modified while paging is enabled ... #GP(0)".
#  * The standard machine (docs/standard-machine.md): EFER 0xd01 in IA-32e machines, 0x1 in
#    legacy ones; STAR 0x0023001000005020, LSTAR 0x5000, CSTAR 0x5010, SFMASK 0x47700,
#    SYSENTER_CS 0x10, SYSENTER_ESP 0x110000, SYSENTER_EIP 0x5030; the other MSRs at their
#    power-up value 0 (KERNEL_GS_BASE, TSC_AUX, FS/GS base); code at 0x100000 * (CPL + 1).
#  * Delivery of the #GP(0): SDM Vol. 3A 6.14.2 (IA-32e frame), 6.12.1 (legacy), via common.py.
# Usage: python3 tools/vectors-gen/gen_msr.py   (writes tests/vectors/syscall/msr.json)
import json, os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import delivered  # noqa: E402

H = lambda v: "0x%x" % v
MASK64 = (1 << 64) - 1
MSR = {"efer": 0xc0000080, "star": 0xc0000081, "lstar": 0xc0000082, "cstar": 0xc0000083,
       "sfmask": 0xc0000084, "sysenter_cs": 0x174, "sysenter_esp": 0x175, "sysenter_eip": 0x176,
       "fs_base": 0xc0000100, "gs_base": 0xc0000101, "kernel_gs_base": 0xc0000102,
       "tsc_aux": 0xc0000103, "pat": 0x277, "apic_base": 0x1b, "misc_enable": 0x1a0, "tsc": 0x10}
QEMU, NATIVE = "qemu-7.2:qemu64", "native:AuthenticAMD-25-1"
BOCHS = {"intel": "bochs-2.7:corei7_skylake_x", "amd": "bochs-2.7:ryzen"}


def le32(v): return struct.pack("<I", v & 0xffffffff).hex()
def le64(v): return struct.pack("<Q", v & MASK64).hex()


R = {"eax": 0, "ecx": 1, "edx": 2, "ebx": 3, "esp": 4, "ebp": 5, "esi": 6, "edi": 7}


def mov32(reg, imm):   # MOV r32, imm32 (B8+r id): in 64-bit mode zero-extends into r64
    return "%02x" % (0xb8 + R[reg]) + le32(imm)


def mov64(n, imm):     # REX.W MOV r64, imm64 (REX.W B8+r io); n = register number 0..15
    return "%02x%02x" % (0x48 | (n >> 3), 0xb8 + (n & 7)) + le64(imm)


def nbytes(code): return len(code.replace(" ", "")) // 2


WRMSR, RDMSR, HLT = "0f30", "0f32", "f4"
MINUS1_RAX, MINUS1_RDX = "48c7c0ffffffff", "48c7c2ffffffff"   # REX.W C7 /0 id: sign-extended
JUNK = 0xa5a5a5a5 << 32    # upper halves WRMSR/RDMSR must ignore


def canonical(v):
    return (v >> 47) in (0, 0x1ffff)


def vendors_src(vendor, intel, amd):
    return intel if vendor == "intel" else amd


class Gen:
    def __init__(self):
        self.V = []
        self.disagree = {}     # name -> [(source, why)]: a judge that departs from the manual

        self.dropped = {}      # name -> why: no live judge agrees (kept out of the file)

    def vec(self, **kw):
        self.V.append(kw)

    def drop(self, name, why):
        self.dropped[name] = why

    def not_judged(self, name, source, why):
        self.disagree.setdefault(name, []).append((source, why))

    def finish(self):
        for v in self.V:
            for src, why in self.disagree.get(v["name"], []):
                v["expect"].setdefault("not_judged", []).append(
                    {"source": src, "fields": ["*"], "why": why})
        assert set(self.dropped) <= {v["name"] for v in self.V}, "unknown dropped name"
        self.V = [v for v in self.V if v["name"] not in self.dropped]
        names = [v["name"] for v in self.V]
        assert len(names) == len(set(names)), "duplicate names"
        return self.V


def write(path, comment, vectors):
    body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in vectors)
    with open(path, "w") as f:
        f.write(json.dumps({"comment": comment})[:-1] + ',\n "vectors": [\n' + body + "\n]}\n")


# ---------------------------------------------------------------------------------------------
# What a WRMSR of value v leaves in the MSR, per vendor (None: #GP(0)), from the manuals.
def write_result(vendor, msr, v, mode="long", cr0_pg=True, efer=0xd01):
    intel = vendor == "intel"
    if msr in ("fs_base", "gs_base", "kernel_gs_base", "lstar"):
        return v if canonical(v) else None          # SDM WRMSR canonical list; APM 6.1.1
    if msr == "cstar":
        # Intel: CSTAR is not in WRMSR's canonical list (SDM Vol. 2B WRMSR); AMD: APM 6.1.1
        return v if intel or canonical(v) else None
    if msr in ("sysenter_esp", "sysenter_eip"):
        if intel:
            return v if canonical(v) else None      # SDM WRMSR canonical list
        return v & 0xffffffff                        # APM Vol. 2 6.1.2: 32-bit registers
    if msr == "sfmask":
        return None if v >> 32 else v                # SDM Vol. 4: IA32_FMASK[63:32] reserved
    if msr == "tsc_aux":
        if intel:
            return None if v >> 32 else v            # SDM Vol. 4: IA32_TSC_AUX[63:32] reserved
        return v & 0xffffffff                        # APM Vol. 3 RDTSCP: TSC_AUX[31:0]
    if msr == "efer":
        if v & ~0xd01:
            return None                              # reserved bits (SDM Vol. 4, APM 3.1.7)
        if cr0_pg and (v ^ efer) & 0x100:
            return None                              # LME change with CR0.PG = 1 (9.8.5)
        lma = efer & 0x400                           # LMA is read-only
        return (v & 0x901) | lma
    return v                                         # STAR, SYSENTER_CS: every bit stored


def roundtrip_code(idx, v, junk):
    hi, lo = v >> 32, v & 0xffffffff
    if junk:   # RCX/RAX/RDX upper halves set: WRMSR and RDMSR ignore them
        pre = mov64(1, JUNK | idx) + mov64(0, JUNK | lo) + mov64(2, JUNK | hi)
    else:
        pre = mov32("ecx", idx) + mov32("eax", lo) + mov32("edx", hi)
    return pre, pre + WRMSR + MINUS1_RAX + MINUS1_RDX + RDMSR + HLT


def gen(g):
    vec = g.vec
    VEND = ("intel", "amd")

    # ---- 1. WRMSR then RDMSR: round trips in 64-bit mode at CPL 0 ------------------------
    RT = {
        "star": [0x001b000800000000, 0xffffffffffffffff, 0x1234567890abcdef, 0x0],
        "lstar": [0x180000, 0x7fffffffffff, 0xffff800000000000, 0xffffffff81000000],
        "cstar": [0x180000, 0x7fffffffffff, 0xffff800000000000, 0xffffffff81000000],
        "sfmask": [0x0, 0xffffffff, 0x257fd5, 0x40700],
        "sysenter_cs": [0x0, 0x8, 0xfffc, 0x60],
        "fs_base": [0x0, 0x12345678, 0x7fffffffffff, 0xffff800000000000, 0xfffffffffffff000],
        "gs_base": [0x0, 0x12345678, 0x7fffffffffff, 0xffff800000000000, 0xfffffffffffff000],
        "kernel_gs_base": [0x0, 0x12345678, 0x7fffffffffff, 0xffff800000000000,
                           0xfffffffffffff000],
        "tsc_aux": [0x0, 0x1, 0xffffffff, 0x80000000],
    }
    RT_V = {"intel": {"sysenter_esp": [0x110000, 0xffff800000001000, 0x7ffffffff000],
                      "sysenter_eip": [0x5030, 0xffffffff81000000, 0x7ffffffff000]},
            "amd": {"sysenter_esp": [0x0, 0x110000, 0xfffffff0],
                    "sysenter_eip": [0x5030, 0x80000000, 0xfffffff0]}}
    for vendor in VEND:
        table = dict(RT, **RT_V[vendor])
        for msr, vals in table.items():
            for i, v in enumerate(vals):
                junk = i % 2 == 1
                idx = MSR[msr]
                pre, code = roundtrip_code(idx, v, junk)
                r = write_result(vendor, msr, v)
                assert r is not None
                end = 0x100000 + nbytes(code)
                rcx = (JUNK | idx) if junk else idx
                vec(name="wrmsr-rdmsr-%s-%s-%s" % (msr, H(v), vendor), vendor=vendor, mode="long",
                    cpl=0, code=code,
                    why="WRMSR %s (ECX 0x%x) with EDX:EAX = 0x%x:0x%x%s at CPL 0 stores %s (%s); "
                        "RAX and RDX are then set to -1 and RDMSR returns EDX:EAX = 0x%x:0x%x, "
                        "the upper halves of RAX/RDX cleared (SDM RDMSR: 'the high-order 32 bits "
                        "of each of RAX and RDX are cleared'). HLT at 0x%x ends the run, RIP 0x%x; "
                        "MOVs leave RFLAGS 0x2."
                        % (msr.upper(), idx, v >> 32, v & 0xffffffff,
                           " (RCX/RAX/RDX[63:32] = 0xa5a5a5a5, ignored: SDM WRMSR 'the high-order "
                           "32 bits of RAX, RCX, RDX are ignored')" if junk else "",
                           H(r), "every bit of the value" if r == v else "the low 32 bits",
                           r >> 32, r & 0xffffffff, end - 1, end),
                    expect={"end": "hlt",
                            "regs": {"rip": H(end), "rax": H(r & 0xffffffff), "rdx": H(r >> 32),
                                     "rcx": H(rcx), "rflags": "0x2"},
                            "cpl": 0,
                            "sources": ["sdm:Vol.2B/WRMSR", "sdm:Vol.2B/RDMSR",
                                        "apm:Vol.3/WRMSR" if vendor == "amd" else "sdm:Vol.4/2.1",
                                        ] + (["apm:Vol.2/6.1.2"] if vendor == "amd" and
                                             msr.startswith("sysenter") else [])})

    # ---- 2. RDMSR of the standard machine's values (the judges' kernel loads them) -------
    STD = {"star": 0x0023001000005020, "lstar": 0x5000, "cstar": 0x5010, "sfmask": 0x47700,
           "sysenter_cs": 0x10, "sysenter_esp": 0x110000, "sysenter_eip": 0x5030,
           "kernel_gs_base": 0x0, "efer": 0xd01}
    for vendor in VEND:
        for msr, v in STD.items():
            code = mov32("ecx", MSR[msr]) + MINUS1_RAX + MINUS1_RDX + RDMSR + HLT
            end = 0x100000 + nbytes(code)
            vec(name="rdmsr-std-%s-%s" % (msr, vendor), vendor=vendor, mode="long", cpl=0, code=code,
                why="RDMSR %s at CPL 0 in 64-bit mode reads the standard machine's value %s "
                    "(docs/standard-machine.md 'MSRs'): EDX:EAX = 0x%x:0x%x, upper halves of "
                    "RAX/RDX (set to -1 before) cleared (SDM RDMSR)." % (msr.upper(), H(v), v >> 32,
                                                                         v & 0xffffffff),
                expect={"end": "hlt", "regs": {"rip": H(end), "rax": H(v & 0xffffffff),
                                               "rdx": H(v >> 32), "rcx": H(MSR[msr])},
                        "cpl": 0, "sources": ["sdm:Vol.2B/RDMSR", "apm:Vol.3/RDMSR"]})
        # the same MSRs given by the vector (msrs field), read back
        for msr, v in (("lstar", 0xffffffff81e00000), ("kernel_gs_base", 0xffff888000000000),
                       ("star", 0x0033002800000000)):
            code = mov32("ecx", MSR[msr]) + RDMSR + HLT
            end = 0x100000 + nbytes(code)
            vec(name="rdmsr-given-%s-%s" % (msr, vendor), vendor=vendor, mode="long", cpl=0,
                code=code, msrs={msr: H(v)},
                why="The vector sets %s = %s; RDMSR returns it in EDX:EAX = 0x%x:0x%x (SDM RDMSR)."
                    % (msr.upper(), H(v), v >> 32, v & 0xffffffff),
                expect={"end": "hlt", "regs": {"rip": H(end), "rax": H(v & 0xffffffff),
                                               "rdx": H(v >> 32)},
                        "cpl": 0, "sources": ["sdm:Vol.2B/RDMSR", "apm:Vol.3/RDMSR"]})

    # ---- 3. non-canonical and reserved-bit writes: #GP(0), nothing written ---------------
    NONCANON = [0x0000800000000000, 0xffff7fffffffffff]
    for vendor in VEND:
        msrs = ["fs_base", "gs_base", "kernel_gs_base", "lstar"] + \
            (["cstar"] if vendor == "amd" else ["sysenter_esp", "sysenter_eip"])
        for msr in msrs:
            for v in NONCANON:
                pre = mov32("ecx", MSR[msr]) + mov32("eax", v & 0xffffffff) + mov32("edx", v >> 32)
                code = pre + WRMSR + HLT
                rip = 0x100000 + nbytes(pre)
                e = delivered("long", 0, 13, rip, err=0, sources=[
                    "sdm:Vol.2B/WRMSR" if vendor == "intel" else "apm:Vol.2/6.1.1",
                    "apm:Vol.3/WRMSR" if vendor == "amd" else "sdm:Vol.3A/6.14.2"])
                e["regs"].update({"rcx": H(MSR[msr]), "rax": H(v & 0xffffffff), "rdx": H(v >> 32)})
                vec(name="wrmsr-%s-noncanonical-%s-gp-%s" % (msr, H(v), vendor), vendor=vendor,
                    mode="long", cpl=0, code=code, expect=e,
                    why="WRMSR %s = %s: bits 63:47 are neither all 0 nor all 1, a non-canonical "
                        "address in an address MSR: #GP(0) before the write (%s). A fault at CPL 0 "
                        "without a stack switch: RSP 0x110000 -> 6 qwords -> 0x10ffd0; frame RIP "
                        "= the WRMSR %s, CS 0x10, RFLAGS 0x10002 (RF), RSP 0x110000, SS 0x18; "
                        "RIP 0x40d0."
                        % (msr.upper(), H(v), "SDM Vol. 2B WRMSR" if vendor == "intel" else
                           "APM Vol. 2 6.1.1 / Vol. 3 WRMSR", H(rip)))
    # Intel CSTAR takes any value; AMD SYSENTER_ESP/EIP drop the upper half
    for vendor, msr, v in (("intel", "cstar", 0x0000800000000000),
                           ("intel", "cstar", 0xffff7fffffffffff),
                           ("amd", "sysenter_esp", 0x0000800000001000),
                           ("amd", "sysenter_eip", 0xffff7fff00005030)):
        pre, code = roundtrip_code(MSR[msr], v, False)
        r = write_result(vendor, msr, v)
        end = 0x100000 + nbytes(code)
        vec(name="wrmsr-%s-noncanonical-%s-accepted-%s" % (msr, H(v), vendor), vendor=vendor,
            mode="long", cpl=0, code=code,
            why=("Intel: IA32_CSTAR is not in WRMSR's list of MSRs that must hold a canonical "
                 "address (SDM Vol. 2B WRMSR; compatibility-mode SYSCALL is #UD on Intel, CSTAR is "
                 "never used), so %s is stored and read back whole." % H(v)) if vendor == "intel"
            else ("AMD: SYSENTER_ESP/EIP are 32-bit registers (APM Vol. 2 6.1.2, SYSENTER is legacy-"
                  "mode only): WRMSR of %s keeps bits 31:0, no canonical check; RDMSR gives EDX:EAX "
                  "= 0:0x%x." % (H(v), r)),
            expect={"end": "hlt", "regs": {"rip": H(end), "rax": H(r & 0xffffffff),
                                           "rdx": H(r >> 32)},
                    "cpl": 0, "sources": ["sdm:Vol.2B/WRMSR"] if vendor == "intel"
                    else ["apm:Vol.2/6.1.2", "apm:Vol.3/WRMSR"]})

    # reserved bits: SFMASK[63:32] (both), TSC_AUX[63:32] (Intel #GP, AMD dropped)
    for vendor in VEND:
        for msr, v in (("sfmask", 0x100047700), ("sfmask", 0x8000000000000000),
                       ("tsc_aux", 0x1200000034)):
            r = write_result(vendor, msr, v)
            pre, code = roundtrip_code(MSR[msr], v, False)
            if r is None:
                rip = 0x100000 + nbytes(pre)
                e = delivered("long", 0, 13, rip, err=0,
                              sources=["sdm:Vol.2B/WRMSR", "sdm:Vol.4/2.1" if vendor == "intel"
                                       else "apm:Vol.2/A", "sdm:Vol.3A/6.14.2"])
                why = ("WRMSR %s = %s sets a reserved bit (bits 63:32 of %s are reserved: SDM Vol. 4 "
                       "Table 2-2%s): #GP(0) before the write; frame RIP = the WRMSR %s, CS 0x10, "
                       "RFLAGS 0x10002, RSP 0x110000, SS 0x18; RSP 0x10ffd0, RIP 0x40d0."
                       % (msr.upper(), H(v), msr.upper(),
                          "; APM Vol. 2 A: SFMASK[63:32] reserved, MBZ" if vendor == "amd" else "",
                          H(rip)))
                tag = "gp"
            else:
                end = 0x100000 + nbytes(code)
                e = {"end": "hlt", "regs": {"rip": H(end), "rax": H(r & 0xffffffff),
                                            "rdx": H(r >> 32)}, "cpl": 0,
                     "sources": ["apm:Vol.3/RDTSCP", "apm:Vol.3/WRMSR"]}
                why = ("AMD: TSC_AUX holds 32 bits (APM Vol. 3 RDTSCP 'TSC_AUX[31:0]'); the upper half "
                       "of WRMSR's EDX:EAX = 0x12:0x34 is dropped: RDMSR gives 0:0x34.")
                tag = "low32"
            vec(name="wrmsr-%s-reserved-%s-%s-%s" % (msr, H(v), tag, vendor), vendor=vendor,
                mode="long", cpl=0, code=code, expect=e, why=why)

    # ---- 4. EFER ------------------------------------------------------------------------------
    for vendor in VEND:
        for v in (0x501, 0xd00, 0x101, 0x901):
            r = write_result(vendor, "efer", v)
            pre, code = roundtrip_code(MSR["efer"], v, False)
            end = 0x100000 + nbytes(code)
            vec(name="wrmsr-efer-%s-long-%s" % (H(v), vendor), vendor=vendor, mode="long", cpl=0,
                code=code,
                why="WRMSR EFER = %s in 64-bit mode (EFER 0xd01 = SCE|LME|LMA|NXE): no reserved bit, "
                    "LME unchanged (1), so no #GP (SDM Vol. 3A 9.8.5); LMA (bit 10) is read-only and "
                    "stays 1 (SDM Vol. 4 Table 2-2 'IA32_EFER.LMA (R)'), SCE/NXE take the written "
                    "value: RDMSR gives %s." % (H(v), H(r)),
                expect={"end": "hlt", "regs": {"rip": H(end), "rax": H(r), "rdx": "0x0"},
                        "cpl": 0, "sources": ["sdm:Vol.4/2.1", "sdm:Vol.2B/WRMSR",
                                              "apm:Vol.2/3.1.7"]})
        for bit in (1, 2, 9, 16, 32, 63):
            v = 0xd01 | (1 << bit)
            pre = mov32("ecx", MSR["efer"]) + mov32("eax", v & 0xffffffff) + mov32("edx", v >> 32)
            rip = 0x100000 + nbytes(pre)
            vec(name="wrmsr-efer-reserved-bit%d-gp-%s" % (bit, vendor), vendor=vendor, mode="long",
                cpl=0, code=pre + WRMSR + HLT,
                why="WRMSR EFER = %s sets reserved bit %d (EFER defines SCE 0, LME 8, LMA 10, NXE 11 "
                    "here; SDM Vol. 4 Table 2-2 / APM Vol. 2 3.1.7 'reserved, MBZ'): #GP(0) at the "
                    "WRMSR %s; CPL 0 frame on RSP 0x110000 -> RSP 0x10ffd0, RIP 0x40d0."
                    % (H(v), bit, H(rip)),
                expect=delivered("long", 0, 13, rip, err=0,
                                 sources=["sdm:Vol.2B/WRMSR", "sdm:Vol.4/2.1", "apm:Vol.2/3.1.7"]))
        # LME cleared while paging is on (64-bit mode)
        pre = mov32("ecx", MSR["efer"]) + mov32("eax", 0xc01) + mov32("edx", 0)
        rip = 0x100000 + nbytes(pre)
        vec(name="wrmsr-efer-clear-lme-pg1-gp-%s" % vendor, vendor=vendor, mode="long", cpl=0,
            code=pre + WRMSR + HLT,
            why="WRMSR EFER = 0xc01 clears LME while CR0.PG = 1: 'IA32_EFER.LME cannot be modified "
                "while paging is enabled ... #GP(0)' (SDM Vol. 3A 9.8.5; APM Vol. 2 14.6.1). Frame "
                "RIP 0x%x at CPL 0, RSP 0x10ffd0." % rip,
            expect=delivered("long", 0, 13, rip, err=0,
                             sources=["sdm:Vol.3A/9.8.5", "apm:Vol.2/14.6.1", "sdm:Vol.2B/WRMSR"]))
        # legacy protected mode with paging: setting LME is a change of LME with PG = 1
        pre = mov32("ecx", MSR["efer"]) + mov32("eax", 0x101) + mov32("edx", 0)
        rip = 0x100000 + nbytes(pre)
        vec(name="wrmsr-efer-set-lme-pg1-prot32-gp-%s" % vendor, vendor=vendor, mode="prot32",
            cpl=0, code=pre + WRMSR + HLT,
            why="prot32 with 32-bit paging (CR0.PG = 1), EFER = 0x1: WRMSR EFER = 0x101 sets LME "
                "while paging is on: #GP(0) (SDM Vol. 3A 9.8.5). Legacy fault at CPL 0, no stack "
                "change: error code, EIP, CS, EFLAGS (4 dwords) below ESP 0x110000: ESP 0x10fff0; "
                "frame EIP 0x%x, CS 0x08, EFLAGS 0x10002; EIP 0x40d0." % rip,
            expect=delivered("prot32", 0, 13, rip, err=0,
                             sources=["sdm:Vol.3A/9.8.5", "apm:Vol.2/14.6.1", "sdm:Vol.3A/6.12.1"]))
        # legacy mode without paging: LME and NXE may be set; LMA stays 0
        for v in (0x101, 0x901, 0x800):
            r = write_result(vendor, "efer", v, cr0_pg=False, efer=0x1)
            code = (mov32("ecx", MSR["efer"]) + mov32("eax", v) + mov32("edx", 0) + WRMSR +
                    mov32("eax", 0xffffffff) + mov32("edx", 0xffffffff) + RDMSR + HLT)
            end = 0x100000 + nbytes(code)
            vec(name="wrmsr-efer-%s-nopaging-prot32-%s" % (H(v), vendor), vendor=vendor,
                mode="prot32", paging=False, cpl=0, code=code,
                why="prot32 without paging (CR0.PG = 0): WRMSR EFER = %s is allowed (LME may change "
                    "while PG = 0, SDM Vol. 3A 9.8.5; the mode switch happens only when PG is set "
                    "later), LMA stays 0 (read-only): RDMSR gives EDX:EAX = 0:%s." % (H(v), H(r)),
                expect={"end": "hlt", "regs": {"eip": H(end), "eax": H(r), "edx": "0x0",
                                               "ecx": H(MSR["efer"])},
                        "cpl": 0, "sources": ["sdm:Vol.3A/9.8.5", "sdm:Vol.4/2.1",
                                              "apm:Vol.2/3.1.7"]})
        for mode, v in (("compat", 0xd01), ("prot32", 0x1)):
            code = mov32("ecx", MSR["efer"]) + RDMSR + HLT
            end = 0x100000 + nbytes(code)
            vec(name="rdmsr-efer-%s-%s" % (mode, vendor), vendor=vendor, mode=mode, cpl=0, code=code,
                why="RDMSR EFER at CPL 0 in %s mode reads the standard machine's EFER %s (%s)." % (
                    mode, H(v), "SCE|LME|LMA|NXE: IA-32e mode is active in compatibility mode"
                    if mode == "compat" else "SCE only: legacy protected mode"),
                expect={"end": "hlt", "regs": {"eip": H(end), "eax": H(v), "edx": "0x0"},
                        "cpl": 0, "sources": ["sdm:Vol.2B/RDMSR", "sdm:Vol.4/2.1"]})

    # ---- 5. MSRs the vendor model does not have: #GP(0) -----------------------------------
    for vendor in VEND:
        for idx in (0x12345678, 0xc0000085, 0xc000ffff, 0x3fff):
            pre = mov32("ecx", idx)
            rip = 0x100000 + nbytes(pre)
            vec(name="rdmsr-unknown-%s-gp-%s" % (H(idx), vendor), vendor=vendor, mode="long", cpl=0,
                code=pre + RDMSR + HLT,
                why="RDMSR of MSR %s, which neither vendor's table has (SDM Vol. 4 Table 2-2, APM "
                    "Vol. 2 A): '#GP(0) if the value in ECX specifies a reserved or unimplemented MSR "
                    "address' (SDM RDMSR). Frame RIP 0x%x at CPL 0, RSP 0x10ffd0." % (H(idx), rip),
                expect=delivered("long", 0, 13, rip, err=0,
                                 sources=["sdm:Vol.2B/RDMSR", "apm:Vol.3/RDMSR"]))
        for idx in (0x12345678, 0xc0000085):
            pre = mov32("ecx", idx) + mov32("eax", 0) + mov32("edx", 0)
            rip = 0x100000 + nbytes(pre)
            vec(name="wrmsr-unknown-%s-gp-%s" % (H(idx), vendor), vendor=vendor, mode="long", cpl=0,
                code=pre + WRMSR + HLT,
                why="WRMSR to MSR %s, not implemented: #GP(0) (SDM WRMSR). Frame RIP 0x%x at CPL 0."
                    % (H(idx), rip),
                expect=delivered("long", 0, 13, rip, err=0,
                                 sources=["sdm:Vol.2B/WRMSR", "apm:Vol.3/WRMSR"]))
    pre = mov32("ecx", MSR["misc_enable"])
    rip = 0x100000 + nbytes(pre)
    vec(name="rdmsr-misc-enable-gp-amd", vendor="amd", mode="long", cpl=0, code=pre + RDMSR + HLT,
        why="IA32_MISC_ENABLE (0x1A0) is an Intel MSR (SDM Vol. 4 Table 2-2); AMD's MSR list (APM Vol. "
            "2 Appendix A) has no MSR 0x1A0: RDMSR raises #GP(0). Frame RIP 0x%x." % rip,
        expect=delivered("long", 0, 13, rip, err=0, sources=["apm:Vol.2/A", "apm:Vol.3/RDMSR"]))

    # ---- 6. CPL > 0: #GP(0) for every index, before the index is looked at ----------------
    IDX3 = ["efer", "star", "lstar", "cstar", "sfmask", "sysenter_cs", "sysenter_esp",
            "sysenter_eip", "fs_base", "gs_base", "kernel_gs_base", "tsc_aux", "pat", "apic_base",
            "misc_enable", "tsc"]
    for vendor in VEND:
        for msr in IDX3 + [0x12345678]:
            idx = MSR[msr] if isinstance(msr, str) else msr
            nm = msr if isinstance(msr, str) else H(msr)
            pre = mov32("ecx", idx)
            rip = 0x400000 + nbytes(pre)
            e = delivered("long", 3, 13, rip, err=0,
                          sources=["sdm:Vol.2B/RDMSR", "apm:Vol.3/RDMSR", "sdm:Vol.3A/6.14.2"])
            e["regs"]["rcx"] = H(idx)
            vec(name="rdmsr-cpl3-%s-gp-long-%s" % (nm, vendor), vendor=vendor, mode="long", cpl=3,
                code=pre + RDMSR + "cc",
                why="RDMSR at CPL 3: '#GP(0) If the current privilege level is not 0' (SDM RDMSR, "
                    "APM RDMSR), whatever ECX (here %s) names. From CPL 3 through gate 13: RSP0 "
                    "0x110000 - 6 qwords = 0x10ffd0; frame RIP 0x%x, CS 0x33, RFLAGS 0x10002, RSP "
                    "0x410000, SS 0x2b; RIP 0x40d0." % (H(idx), rip), expect=e)
        for msr in ("efer", "lstar", "tsc_aux", 0x12345678):
            idx = MSR[msr] if isinstance(msr, str) else msr
            nm = msr if isinstance(msr, str) else H(msr)
            pre = mov32("ecx", idx) + mov32("eax", 0) + mov32("edx", 0)
            for mode in ("compat", "prot32"):
                rip = 0x400000 + nbytes(pre)
                e = delivered(mode, 3, 13, rip, err=0,
                              sources=["sdm:Vol.2B/WRMSR", "apm:Vol.3/WRMSR",
                                       "sdm:Vol.3A/6.14.2" if mode == "compat" else
                                       "sdm:Vol.3A/6.12.1"])
                vec(name="wrmsr-cpl3-%s-gp-%s-%s" % (nm, mode, vendor), vendor=vendor, mode=mode,
                    cpl=3, code=pre + WRMSR + "cc",
                    why="WRMSR at CPL 3 in %s mode: #GP(0) (SDM WRMSR, APM WRMSR: CPL != 0). %s"
                        % (mode, "IA-32e delivery from CPL 3: RSP 0x10ffd0, frame CS 0x23." if mode ==
                           "compat" else "Legacy delivery from CPL 3 onto SS0:ESP0 0x18:0x110000: "
                           "SS, ESP, EFLAGS, CS, EIP, error code (6 dwords): ESP 0x10ffe8."),
                    expect=e)
        for cpl in (1, 2):
            pre = mov32("ecx", MSR["efer"])
            rip = region(cpl) + nbytes(pre)
            vec(name="rdmsr-cpl%d-efer-gp-long-%s" % (cpl, vendor), vendor=vendor, mode="long",
                cpl=cpl, code=pre + RDMSR + HLT,
                why="RDMSR at CPL %d: #GP(0) (CPL != 0). IA-32e delivery from CPL %d to the DPL-0 "
                    "handler switches to RSP0 0x110000: RSP 0x10ffd0; frame RIP 0x%x, CS 0x%x, RSP "
                    "0x%x, SS 0x%x." % (cpl, cpl, rip, [0, 0x89, 0xa2][cpl], region(cpl) + 0x10000,
                                       [0, 0x91, 0xaa][cpl]),
                expect=delivered("long", cpl, 13, rip, err=0,
                                 sources=["sdm:Vol.2B/RDMSR", "sdm:Vol.3A/6.14.2"]))
            pre = mov32("ecx", MSR["star"]) + mov32("eax", 0) + mov32("edx", 0)
            rip = region(cpl) + nbytes(pre)
            vec(name="wrmsr-cpl%d-star-gp-compat-%s" % (cpl, vendor), vendor=vendor, mode="compat",
                cpl=cpl, code=pre + WRMSR + HLT,
                why="WRMSR at CPL %d in compatibility mode: #GP(0). Delivery to RSP0: RSP 0x10ffd0; "
                    "frame RIP 0x%x." % (cpl, rip),
                expect=delivered("compat", cpl, 13, rip, err=0,
                                 sources=["sdm:Vol.2B/WRMSR", "sdm:Vol.3A/6.14.2"]))


def region(cpl): return (cpl + 1) * 0x100000


# Judges that depart from the manual, found with `ringcore vectors check --oracle qemu|bochs`
# (docs/oracle-disagreements.md "Fast system calls and MSRs (issue 7 vectors)").
Q_CANON = ("QEMU 7.2 TCG's WRMSR makes no canonical check on FS_BASE, GS_BASE, KERNEL_GS_BASE, "
           "LSTAR, CSTAR, SYSENTER_ESP/EIP: it stores the value, no #GP")
Q_EFER = ("QEMU 7.2 TCG's WRMSR EFER drops reserved bits silently and lets LME change with CR0.PG "
          "= 1: no #GP")
Q_AUX = "QEMU 7.2 TCG keeps all 64 bits of TSC_AUX on its AMD model"
B_CSTAR = "Bochs 2.7 requires a canonical CSTAR on its Intel model too (#GP)"
NO_JUDGE_UNKNOWN = ("no live judge: QEMU 7.2 TCG's RDMSR/WRMSR of an unknown MSR returns 0 / does "
                    "nothing, and Debian's Bochs 2.7 runs with ignore_bad_msrs (the same); the CPU "
                    "at ring 3 sees only the CPL check")


def judge_notes(g):
    for v in g.V:
        n = v["name"]
        if "noncanonical" in n and n.endswith(("gp-intel", "gp-amd")):
            g.not_judged(n, QEMU, Q_CANON)
        if n.startswith("wrmsr-efer-") and "-gp-" in n:
            g.not_judged(n, QEMU, Q_EFER)
        if n == "wrmsr-tsc_aux-reserved-0x1200000034-low32-amd":
            g.not_judged(n, QEMU, Q_AUX)
        if n.startswith(("rdmsr-std-", "rdmsr-efer-")) or (n.startswith("wrmsr-efer-") and
                                                           v["expect"]["end"] == "hlt") or \
                n == "wrmsr-tsc_aux-reserved-0x1200000034-low32-amd":
            # The vector states EFER at the standard machine's value: Unicorn judges only
            # vectors without EFER/MSRs, and it has neither the machine's MSRs nor 32-bit TSC_AUX.
            v.setdefault("regs", {})["efer"] = "0xd01" if v["mode"] in ("long", "compat") else "0x1"
            v["why"] += " (EFER is given at the standard machine's value so that Unicorn, which " \
                        "runs without the machine's MSRs, does not judge it.)"
        if n.startswith("wrmsr-cstar-noncanonical") and n.endswith("accepted-intel"):
            g.not_judged(n, BOCHS["intel"], B_CSTAR)
        if "-unknown-" in n or n == "rdmsr-misc-enable-gp-amd":
            g.drop(n, NO_JUDGE_UNKNOWN)
        if n.startswith("wrmsr-sfmask-reserved") or n == "wrmsr-tsc_aux-reserved-0x1200000034-gp-intel":
            g.drop(n, "no live judge: QEMU 7.2 and Bochs 2.7 both accept bits 63:32 (QEMU stores "
                      "them, Bochs truncates to 32 bits) where SDM Vol. 4 Table 2-2 reserves them")
        if n.startswith("wrmsr-sysenter_e") and n.endswith("accepted-amd"):
            g.drop(n, "no live judge: QEMU 7.2 keeps 64 bits of SYSENTER_ESP/EIP on its AMD model, "
                      "Bochs 2.7 raises #GP for the non-canonical value; APM Vol. 2 6.1.2 has 32-bit "
                      "registers")


if __name__ == "__main__":
    g = Gen()
    gen(g)
    judge_notes(g)
    V = g.finish()
    for n, why in sorted(g.dropped.items()):
        print("dropped %s: %s" % (n, why[:60]), file=sys.stderr)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    write(os.path.join(root, "tests/vectors/syscall/msr.json"),
          "RDMSR/WRMSR per vendor (issue 7 item 1), derived by hand from the SDM and APM "
          "(tools/vectors-gen/gen_msr.py); live judges added with addsource.py", V)
    print(len(V), "vectors", file=sys.stderr)

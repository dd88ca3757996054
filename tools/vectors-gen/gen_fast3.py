# Hand-derived vectors for the fast system calls, SWAPGS, RD/WR FS/GS BASE, RDTSCP and Linux's
# entry paths (issue 7 items 2, 3, 4, 6): tests/vectors/syscall/fast3.json.
#
# The expectations are worked out here from the manuals' pseudo-code, never copied from ringcore:
#  SDM Vol. 2B SYSCALL: #UD unless 64-bit mode and EFER.SCE; RCX <- next RIP; R11 <- RFLAGS (RF
#    cleared, APM Vol. 3 SYSCALL 'R11 = RFLAGS with RF cleared'); RFLAGS <- RFLAGS AND NOT
#    IA32_FMASK, RF cleared; CS.Selector <- STAR[47:32] AND FFFCH, SS.Selector <- that + 8, fixed
#    flat hidden parts (CS L = 1 in IA-32e mode); CPL 0; RIP <- LSTAR; RSP untouched.
#  APM Vol. 3 SYSCALL: compatibility mode -> RIP <- CSTAR (the rest as 64-bit mode); legacy mode
#    -> ECX <- next EIP, EIP <- STAR[31:0], RFLAGS.VM, IF, RF <- 0 (no SFMASK), 32-bit CS.
#  SDM Vol. 2B SYSRET: #UD unless 64-bit mode and SCE; #GP(0) if CPL != 0; with REX.W '#GP(0) if
#    RCX is not canonical' (Intel, before any change); RIP <- RCX / ECX; CS <- STAR[63:48] + 16
#    (64-bit) or STAR[63:48] (32-bit), RPL forced to 3; RFLAGS <- (R11 AND 3C7FD7H) OR 2;
#    SS <- (STAR[63:48] + 8) OR 3; CPL 3; RSP untouched. APM Vol. 3 SYSRET: no canonical check
#    (the fetch at CPL 3 faults), valid in compatibility mode and legacy mode (IF <- 1).
#  SDM Vol. 2B SYSENTER: #GP(0) if CR0.PE = 0 or SYSENTER_CS[15:2] = 0; RFLAGS.VM, IF, RF <- 0;
#    CS <- SYSENTER_CS AND FFFCH, SS <- CS + 8; legacy: ESP/EIP <- low 32 bits of SYSENTER_ESP/
#    EIP; IA-32e: RSP/RIP <- the whole MSRs, CS L = 1. APM Vol. 3 SYSENTER/SYSEXIT: #UD in long
#    mode. SDM SYSEXIT: #GP(0) if SYSENTER_CS[15:2] = 0, CR0.PE = 0 or CPL != 0; REX.W: CS <-
#    SYSENTER_CS + 32, SS <- + 40, RSP <- RCX, RIP <- RDX, #GP(0) if RCX or RDX non-canonical;
#    otherwise CS <- + 16, SS <- + 24, ESP <- ECX, EIP <- EDX; RPL 3; RFLAGS unchanged.
#  SDM Vol. 2B SWAPGS: #UD outside 64-bit mode, #GP(0) at CPL != 0; GS.base <-> KERNEL_GS_BASE.
#  SDM Vol. 2B RDFSBASE/WRFSBASE: #UD outside 64-bit mode or with CR4.FSGSBASE = 0; WRFSBASE
#    #GP(0) for a non-canonical address; 32-bit forms zero-extend. RDTSCP: #GP(0) at CPL > 0 with
#    CR4.TSD = 1; ECX <- TSC_AUX[31:0] (RCX[63:32] cleared).
#  Delivery: SDM Vol. 3A 6.14.2 (IA-32e frame, RSP aligned, RSP0 on a CPL change, IST for #DB),
#    6.12.1 (legacy frame), 18.3.1.1 (RF = 1 in a fault's pushed RFLAGS); the interrupt gate
#    clears IF, TF, NT, RF, VM in RFLAGS.
# The standard machine (docs/standard-machine.md): STAR 0x0023001000005020, LSTAR 0x5000, CSTAR
# 0x5010, STAR[31:0] 0x5020, SYSENTER_EIP 0x5030 (16 HLTs each), SFMASK 0x47700, SYSENTER_CS
# 0x10, SYSENTER_ESP 0x110000; RSP0/ESP0 0x110000; handler of vector v at 0x4000 + 16v.
# Usage: python3 tools/vectors-gen/gen_fast3.py  (writes tests/vectors/syscall/fast3.json)
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import delivered  # noqa: E402
from gen_msr import (H, MSR, Gen, write, mov32, mov64, nbytes, le32, le64, canonical,  # noqa: E402
                     QEMU, BOCHS)

TF, IF, DF, NT, RF, VM, AC = 0x100, 0x200, 0x400, 0x4000, 0x10000, 0x20000, 0x40000
GATE_CLEARS = TF | IF | NT | RF | VM    # interrupt gate: SDM Vol. 3A 6.12.1.3 / 6.14.2
INT3 = [{"addr": "0x400000", "bytes": "cc"}]
VEND = ("intel", "amd")
SYSRET_MASK = 0x3c7fd7


def bp_from_cpl3(mode, rip_after, cs, rflags, rsp, ss, extra_regs=None, sources=()):
    """INT3 (a trap) at CPL 3 delivered through the DPL-3 gate 3 to CPL 0: frame RIP = the next
    instruction; IA-32e: RSP0 0x110000 - 5 qwords = 0x10ffd8; legacy: SS0:ESP0, 5 dwords ->
    0x10ffec. The gate clears IF, TF, NT, RF, VM."""
    e = {"end": "exception", "vector": "#BP", "error_code": "none",
         "frame": {"rip": H(rip_after), "cs": H(cs), "rflags": H(rflags), "rsp": H(rsp),
                   "ss": H(ss)}, "cpl": 0, "sources": list(sources)}
    if mode in ("long", "compat"):
        e["regs"] = {"rip": "0x4030", "rsp": "0x10ffd8", "rflags": H(rflags & ~GATE_CLEARS)}
    else:
        e["regs"] = {"eip": "0x4030", "esp": "0x10ffec", "eflags": H(rflags & ~GATE_CLEARS)}
    if extra_regs:
        e["regs"].update(extra_regs)
    return e


def fault_from_cpl3_64(vec, err, rip, cs, rflags, rsp, ss, cr2=None, sources=()):
    """A fault at CPL 3 in IA-32e mode: RSP0 0x110000 minus 5 or 6 qwords, RF = 1 pushed."""
    n = 6 if err is not None else 5
    e = {"end": "exception", "vector": vec, "error_code": err if err is not None else "none",
         "frame": {"rip": H(rip), "cs": H(cs), "rflags": H(rflags | RF), "rsp": H(rsp),
                   "ss": H(ss)},
         "regs": {"rip": H(0x4000 + 16 * vec), "rsp": H(0x110000 - 8 * n)}, "cpl": 0,
         "sources": list(sources)}
    if cr2 is not None:
        e["cr2"] = H(cr2)
    return e


def gen(g):
    vec = g.vec
    nj = g.not_judged
    QEMU_STATUS = ("QEMU 7.2 TCG clears the arithmetic status flags on SYSCALL whatever SFMASK "
                   "says (docs/oracle-disagreements.md)")

    # =============================== SYSCALL ===============================================
    # 64-bit mode, CPL 3, RFLAGS x SFMASK
    PAIRS = [(0x202, 0x47700), (0x246, 0x47700), (0x3202, 0x47700), (0x40202, 0x47700),
             (0x4202, 0x47700), (0x602, 0x47700), (0x10202, 0x47700), (0x200202, 0x47700),
             (0xed7, 0x0), (0x3a46, 0x0), (0x40602, 0x200), (0x202, 0x8d5), (0x8d7, 0x8d5),
             (0x3202, 0x3000), (0x4602, 0x4000), (0x40202, 0x40000), (0x602, 0x400),
             (0x2c3ed7 & ~TF, 0x3ffffd), (0x200246, 0x200000)]
    for vendor in VEND:
        for fl, mask in PAIRS:
            r11 = fl & ~RF
            new = fl & ~mask & ~RF
            name = "syscall64-rflags-%s-sfmask-%s-%s" % (H(fl), H(mask), vendor)
            vec(name=name, vendor=vendor, mode="long", cpl=3, code="0f05",
                regs={"rflags": H(fl)}, msrs={"sfmask": H(mask)},
                why="SYSCALL from 64-bit mode at CPL 3 with RFLAGS %s and SFMASK %s: RCX <- next RIP "
                    "0x400002; R11 <- RFLAGS with RF cleared = %s; RFLAGS <- RFLAGS AND NOT SFMASK, "
                    "RF cleared = %s; CS 0x10 (L = 1), SS 0x18 from STAR[47:32]; RIP <- LSTAR 0x5000, "
                    "whose HLT ends the run: RIP 0x5001; RSP untouched 0x410000." % (
                        H(fl), H(mask), H(r11), H(new)),
                expect={"end": "hlt", "regs": {"rip": "0x5001", "rcx": "0x400002", "r11": H(r11),
                                               "rflags": H(new), "rsp": "0x410000"},
                        "segs": {"cs": {"selector": "0x10", "l": 1, "db": 0, "dpl": 0},
                                 "ss": {"selector": "0x18", "dpl": 0}}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSCALL", "apm:Vol.3/SYSCALL"]})
            if new & 0x8d5:
                nj(name, QEMU, QEMU_STATUS)
    # STAR / LSTAR / RSP / CPL variations
    for vendor in VEND:
        for star_cs, lstar in ((0x08, 0x5004), (0x60, 0x5008), (0x0, 0x500f), (0xfff0, 0x5000)):
            star = (0x23 << 48) | (star_cs << 32) | 0x5020
            end = lstar + 1
            vec(name="syscall64-star-cs-%s-lstar-%s-%s" % (H(star_cs), H(lstar), vendor),
                vendor=vendor, mode="long", cpl=3, code="0f05", regs={"rflags": "0x202"},
                msrs={"star": H(star), "lstar": H(lstar)},
                why="STAR = %s: SYSCALL loads CS.Selector <- STAR[47:32] AND FFFCH = %s and SS.Selector "
                    "<- %s (+8) without reading the GDT (fixed hidden parts); RIP <- LSTAR %s (a HLT of "
                    "the stub area): RIP %s after it; RFLAGS 0x202 AND NOT 0x47700 = 0x2." % (
                        H(star), H(star_cs), H((star_cs + 8) & 0xffff), H(lstar), H(end)),
                expect={"end": "hlt", "regs": {"rip": H(end), "rcx": "0x400002", "r11": "0x202",
                                               "rflags": "0x2"},
                        "segs": {"cs": H(star_cs), "ss": H((star_cs + 8) & 0xffff)}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSCALL", "apm:Vol.3/SYSCALL"]})
        for rsp in (0x0, 0xffffffffffffffff, 0x12345678):
            vec(name="syscall64-rsp-%s-untouched-%s" % (H(rsp), vendor), vendor=vendor, mode="long",
                cpl=3, code="0f05", regs={"rflags": "0x202", "rsp": H(rsp)},
                why="SYSCALL does not read, save or change RSP (SDM SYSCALL 'does not save the stack "
                    "pointer'): entering with RSP %s (Linux's syscall_arg_fault) reaches LSTAR's HLT "
                    "with RSP %s, RCX 0x400002, R11 0x202." % (H(rsp), H(rsp)),
                expect={"end": "hlt", "regs": {"rip": "0x5001", "rsp": H(rsp), "rcx": "0x400002",
                                               "r11": "0x202", "rflags": "0x2"}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSCALL", "apm:Vol.3/SYSCALL"]})
        for cpl in (0, 1, 2):
            base = (cpl + 1) * 0x100000
            vec(name="syscall64-from-cpl%d-%s" % (cpl, vendor), vendor=vendor, mode="long", cpl=cpl,
                code="0f05", regs={"rflags": "0x246"},
                why="SYSCALL is allowed at any CPL in 64-bit mode: from CPL %d (code 0x%x) it saves RCX "
                    "0x%x, R11 0x246, masks RFLAGS to 0x46 (IF cleared) and enters CPL 0 at LSTAR "
                    "0x5000 with CS 0x10 / SS 0x18; RSP stays 0x%x." % (
                        cpl, base, base + 2, base + 0x10000),
                expect={"end": "hlt", "regs": {"rip": "0x5001", "rcx": H(base + 2), "r11": "0x246",
                                               "rflags": "0x46", "rsp": H(base + 0x10000)},
                        "segs": {"cs": "0x10", "ss": "0x18"}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSCALL", "apm:Vol.3/SYSCALL"]})
                # ZF/PF survive: QEMU clears them
            nj("syscall64-from-cpl%d-%s" % (cpl, vendor), QEMU, QEMU_STATUS)
        # LSTAR pointing at an unmapped page: #PF at CPL 0 on the user's stack
        vec(name="syscall64-lstar-unmapped-pf-ring0-%s" % vendor, vendor=vendor, mode="long", cpl=3,
            code="0f05", regs={"rflags": "0x202"}, msrs={"lstar": "0x7ffffffff000"},
            why="LSTAR = 0x7ffffffff000 (canonical, beyond the 16 MiB map): SYSCALL completes (CPL 0, "
                "RIP = LSTAR, RFLAGS 0x2, RSP still the user's 0x410000), then the fetch raises #PF "
                "at CPL 0: no stack switch, the frame goes on the user stack (RSP 0x410000 - 6 qwords "
                "= 0x40ffd0); error code 0x10 (not present, supervisor, instruction fetch with NXE); "
                "CR2 0x7ffffffff000; frame RIP 0x7ffffffff000, CS 0x10, RFLAGS 0x10002, SS 0x18.",
            expect={"end": "exception", "vector": "#PF", "error_code": "0x10", "cr2": "0x7ffffffff000",
                    "frame": {"rip": "0x7ffffffff000", "cs": "0x10", "rflags": "0x10002",
                              "rsp": "0x410000", "ss": "0x18"},
                    "regs": {"rip": "0x40e0", "rsp": "0x40ffd0", "rcx": "0x400002", "r11": "0x202"},
                    "cpl": 0, "sources": ["sdm:Vol.2B/SYSCALL", "sdm:Vol.3A/4.7",
                                          "sdm:Vol.3A/6.14.2"]})
    # EFER.SCE = 0: #UD in every mode
    for vendor in VEND:
        for mode, cpl, efer in (("long", 0, 0xd00), ("compat", 3, 0xd00), ("prot32", 3, 0x0)):
            base = (cpl + 1) * 0x100000
            e = delivered(mode, cpl, 6, base, sources=["sdm:Vol.2B/SYSCALL", "apm:Vol.3/SYSCALL"])
            vec(name="syscall-sce0-ud-%s-cpl%d-%s" % (mode, cpl, vendor), vendor=vendor, mode=mode,
                cpl=cpl, code="0f05", regs={"efer": H(efer)}, expect=e,
                why="EFER.SCE = 0 (EFER %s): SYSCALL is #UD on both vendors in every mode (SDM: "
                    "'IA32_EFER.SCE != 1 THEN #UD'; APM: 'IF (MSR_EFER.SCE = 0) EXCEPTION [#UD]'), "
                    "frame RIP = the SYSCALL." % H(efer))
    # compatibility mode: Intel #UD, AMD via CSTAR
    for fl, cstar in ((0x202, 0x5010), (0x246, 0x5018), (0x3602, 0x501f), (0x40ed7, 0x5010)):
        r11 = fl
        new = fl & ~0x47700
        name = "syscall-compat-rflags-%s-cstar-%s-amd" % (H(fl), H(cstar))
        vec(name=name, vendor="amd", mode="compat", cpl=3, code="0f05",
            regs={"rflags": H(fl), "rcx": "0xffffffffffffffff"}, msrs={"cstar": H(cstar)},
            why="AMD SYSCALL from compatibility mode: RCX <- next RIP 0x400002 (the whole register), "
                "R11 <- RFLAGS %s, RFLAGS <- %s AND NOT SFMASK 0x47700 = %s, CS 0x10 64-bit, SS 0x18, "
                "RIP <- CSTAR %s (64-bit mode): its HLT ends the run at %s." % (
                    H(fl), H(fl), H(new), H(cstar), H(cstar + 1)),
            expect={"end": "hlt", "regs": {"rip": H(cstar + 1), "rcx": "0x400002", "r11": H(r11),
                                           "rflags": H(new), "rsp": "0x410000"},
                    "segs": {"cs": {"selector": "0x10", "l": 1, "db": 0}, "ss": "0x18"}, "cpl": 0,
                    "sources": ["apm:Vol.3/SYSCALL", "apm:Vol.2/6.1.1"]})
        if new & 0x8d5:
            nj(name, QEMU, QEMU_STATUS)
    for cpl, fl in ((3, 0x246), (0, 0x2)):
        base = (cpl + 1) * 0x100000
        vec(name="syscall-compat-cpl%d-intel-ud" % cpl, vendor="intel", mode="compat", cpl=cpl,
            code="0f05", regs={"rflags": H(fl)},
            why="Intel: SYSCALL outside 64-bit mode (here compatibility mode, CPL %d) is #UD: 'IF "
                "(CS.L != 1) ... THEN #UD' (SDM SYSCALL). Frame RIP 0x%x." % (cpl, base),
            expect=delivered("compat", cpl, 6, base, rflags=fl & ~0 if cpl else fl,
                             sources=["sdm:Vol.2B/SYSCALL", "sdm:Vol.3A/6.14.2"]))
    # legacy protected mode: AMD through STAR[31:0], Intel #UD
    for cpl, fl, eip in ((3, 0x202, 0x5020), (3, 0x3246, 0x5028), (3, 0x40602, 0x502f),
                         (0, 0x8d7 | IF, 0x5024), (3, 0x4a97 & ~TF, 0x5020)):
        base = (cpl + 1) * 0x100000
        new = fl & ~(VM | IF | RF)
        star = 0x0023001000000000 | eip
        vec(name="syscall-legacy-cpl%d-rflags-%s-eip-%s-amd" % (cpl, H(fl), H(eip)), vendor="amd",
            mode="prot32", cpl=cpl, code="0f05", regs={"eflags": H(fl)}, msrs={"star": H(star)},
            why="AMD legacy-mode SYSCALL (APM Vol. 3 SYSCALL): ECX <- next EIP 0x%x, EIP <- "
                "STAR[31:0] = %s, CS 0x10 / SS 0x18 (32-bit flat), CPL 0, RFLAGS.VM, IF, RF <- 0 and "
                "nothing else (SFMASK is not used in legacy mode): %s -> %s; ESP untouched." % (
                    base + 2, H(eip), H(fl), H(new)),
            expect={"end": "hlt", "regs": {"eip": H(eip + 1), "ecx": H(base + 2), "eflags": H(new),
                                           "esp": H(base + 0x10000)},
                    "segs": {"cs": {"selector": "0x10", "db": 1, "l": 0}, "ss": "0x18"}, "cpl": 0,
                    "sources": ["apm:Vol.3/SYSCALL"]})
    vec(name="syscall-legacy-cpl0-intel-ud", vendor="intel", mode="prot32", cpl=0, code="0f05",
        why="Intel: SYSCALL in legacy protected mode is #UD (SDM SYSCALL). CPL 0: EFLAGS, CS, EIP "
            "pushed on the current stack: ESP 0x110000 - 12 = 0x10fff4; frame EIP 0x100000, CS 0x08.",
        expect=delivered("prot32", 0, 6, 0x100000, sources=["sdm:Vol.2B/SYSCALL", "sdm:Vol.3A/6.12.1"]))

    # =============================== SYSRET ================================================
    R11S = [0x2, 0x202, 0x246, 0x3202, 0x40202, 0x200202, 0x180202, 0x4202, 0x602, 0x8d7,
            0xffffffffffc00202, 0x8202 | 0x28, 0x0, 0x10202, 0x20202, 0xfffffffffffffeff]
    for vendor in VEND:
        for r11 in R11S:
            fl = (r11 & SYSRET_MASK) | 2
            name = "sysretq-r11-%s-%s" % (H(r11), vendor)
            vec(name=name, vendor=vendor, mode="long", cpl=0, code="480f07",
                regs={"rcx": "0x400000", "r11": H(r11), "rsp": "0x40f000"}, mem=INT3,
                why="SYSRETQ at CPL 0: RIP <- RCX 0x400000, CS <- STAR[63:48] + 16 = 0x33 | 3, SS <- "
                    "0x2b, CPL 3, RFLAGS <- (R11 %s AND 3C7FD7H) OR 2 = %s (RF, VM, bits 3, 5, 15 and "
                    "22-63 cleared), RSP untouched. The INT3 at 0x400000 traps: frame RIP 0x400001, "
                    "CS 0x33, RFLAGS %s, RSP 0x40f000, SS 0x2b; the DPL-3 gate 3 switches to RSP0: "
                    "RSP 0x10ffd8, RIP 0x4030, RFLAGS %s (IF, TF, NT, RF, VM cleared)." % (
                        H(r11), H(fl), H(fl), H(fl & ~GATE_CLEARS)),
                expect=bp_from_cpl3("long", 0x400001, 0x33, fl, 0x40f000, 0x2b,
                                    {"rcx": "0x400000", "r11": H(r11)},
                                    ["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET", "sdm:Vol.3A/6.14.2"]))
            if r11 & (RF | VM) or r11 & 0x180000:
                nj(name, QEMU, "QEMU 7.2 TCG loads RF and VM from R11 on SYSRET (and not VIF/VIP); "
                               "the SDM's mask 3C7FD7H clears RF and VM and keeps VIF/VIP")
        for r11 in (0x202, 0x3246, 0x40ad7, 0xffffffff00000202, 0x10202):
            fl = (r11 & SYSRET_MASK) | 2
            name = "sysretl-r11-%s-%s" % (H(r11), vendor)
            vec(name=name, vendor=vendor, mode="long", cpl=0, code="0f07",
                regs={"rcx": "0xffff800000400000", "r11": H(r11), "rsp": "0x40f000"}, mem=INT3,
                why="SYSRET without REX.W returns to compatibility mode: EIP <- ECX = 0x400000 (RCX[63:32] "
                    "ignored), CS <- STAR[63:48] | 3 = 0x23, SS 0x2b, RFLAGS <- (R11 %s AND 3C7FD7H) OR "
                    "2 = %s. INT3: frame RIP 0x400001, CS 0x23, RFLAGS %s, RSP 0x40f000, SS 0x2b." % (
                        H(r11), H(fl), H(fl)),
                expect=bp_from_cpl3("compat", 0x400001, 0x23, fl, 0x40f000, 0x2b, None,
                                    ["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET", "sdm:Vol.3A/6.14.2"]))
            if r11 & (RF | VM):
                nj(name, QEMU, "QEMU 7.2 TCG loads RF and VM from R11 on SYSRET")
    # RCX at the canonical boundaries, per vendor
    for vendor in VEND:
        for rcx in (0x00007fffffffffff, 0x0000800000000000, 0xffff800000000000, 0xffff7fffffffffff,
                    0xffffffffffffffff):
            for rsp in (0x40f000, 0x500ff8):
                name = "sysretq-rcx-%s-rsp-%s-%s" % (H(rcx), H(rsp), vendor)
                r11 = 0x246
                fl = r11
                if canonical(rcx):
                    # returns; the fetch at CPL 3 meets a not-present PML4E: #PF, U=1, I/D=1
                    e = fault_from_cpl3_64(14, 0x14, rcx, 0x33, fl, rsp, 0x2b, cr2=rcx,
                                           sources=["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET",
                                                    "sdm:Vol.3A/4.7", "sdm:Vol.3A/6.14.2"])
                    why = ("RCX %s is canonical: SYSRETQ returns to CPL 3 (CS 0x33, SS 0x2b, RFLAGS "
                           "0x246, RSP %s) on both vendors; the fetch at %s meets a not-present "
                           "paging entry (nothing is mapped beyond 16 MiB): #PF at CPL 3, error code "
                           "0x14 (user, instruction fetch, not present), CR2 = RIP; delivery on RSP0: "
                           "RSP 0x10ffd0, RIP 0x40e0; frame RFLAGS 0x10246." % (H(rcx), H(rsp), H(rcx)))
                elif vendor == "intel":
                    e = {"end": "exception", "vector": "#GP", "error_code": 0,
                         "frame": {"rip": "0x100000", "cs": "0x10", "rflags": "0x10002",
                                   "rsp": H(rsp), "ss": "0x18"},
                         "regs": {"rip": "0x40d0", "rsp": H((rsp & ~0xf) - 48)}, "cpl": 0,
                         "sources": ["sdm:Vol.2B/SYSRET", "sdm:Vol.3A/6.14.2"]}
                    why = ("Intel SYSRETQ with the non-canonical RCX %s: '#GP(0) If RCX contains a "
                           "non-canonical address' is checked before anything changes, so the fault "
                           "is taken at CPL 0 on the stack the kernel already loaded (RSP %s, a user "
                           "address: CVE-2012-0217). Frame RIP 0x100000, CS 0x10, RFLAGS 0x10002, RSP "
                           "%s, SS 0x18; RSP aligned down to 16 minus 6 qwords = %s." % (
                               H(rcx), H(rsp), H(rsp), H((rsp & ~0xf) - 48)))
                    nj(name, QEMU, "QEMU 7.2 TCG has no canonical check in SYSRET: it returns and "
                                   "faults at CPL 3")
                else:
                    e = fault_from_cpl3_64(13, 0, rcx, 0x33, fl, rsp, 0x2b,
                                           sources=["apm:Vol.3/SYSRET", "apm:Vol.2/8.2",
                                                    "sdm:Vol.3A/6.14.2"])
                    why = ("AMD SYSRETQ has no canonical check: it returns to CPL 3 (CS 0x33, SS 0x2b, "
                           "RFLAGS 0x246, RSP %s) and the fetch at the non-canonical %s raises #GP(0) "
                           "at CPL 3; delivery switches to RSP0: RSP 0x10ffd0; frame RIP %s, CS 0x33, "
                           "RFLAGS 0x10246, SS 0x2b." % (H(rsp), H(rcx), H(rcx)))
                    nj(name, BOCHS["amd"], "Bochs 2.7 applies Intel's canonical check to SYSRET on "
                                           "its AMD model (ryzen): #GP(0) in ring 0")
                vec(name=name, vendor=vendor, mode="long", cpl=0, code="480f07",
                    regs={"rcx": H(rcx), "r11": "0x246", "rsp": H(rsp)}, expect=e, why=why)
        # SYSRETL ignores RCX[63:32]: the non-canonical RCX is harmless
        vec(name="sysretl-noncanonical-rcx-upper-ignored-%s" % vendor, vendor=vendor, mode="long",
            cpl=0, code="0f07", regs={"rcx": "0xffff7fff00400000", "r11": "0x202", "rsp": "0x40f000"},
            mem=INT3,
            why="SYSRET with 32-bit operand size uses ECX only: RCX 0xffff7fff00400000 is not "
                "canonical but no check applies (SDM: the check is for the 64-bit return); EIP "
                "0x400000, CS 0x23, compatibility mode; INT3 frame RIP 0x400001, CS 0x23.",
            expect=bp_from_cpl3("compat", 0x400001, 0x23, 0x202, 0x40f000, 0x2b, None,
                                ["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET"]))
    # STAR[63:48] selector variants (RPL forced to 3; no descriptor is read)
    for vendor in VEND:
        for base in (0x20, 0x1b, 0x50, 0x0):
            star = (base << 48) | (0x10 << 32) | 0x5020
            for q in (True, False):
                cs = ((base + 16) if q else base) | 3
                ss = (base + 8) | 3
                name = "sysret%s-star-%s-%s" % ("q" if q else "l", H(base), vendor)
                vec(name=name, vendor=vendor, mode="long", cpl=0, code="480f07" if q else "0f07",
                    regs={"rcx": "0x400000", "r11": "0x202", "rsp": "0x40f000"},
                    msrs={"star": H(star)}, mem=INT3,
                    why="STAR[63:48] = %s: SYSRET%s loads CS.Selector <- (%s%s) OR 3 = %s and "
                        "SS.Selector <- (%s + 8) OR 3 = %s with fixed hidden parts, no GDT read "
                        "(SDM SYSRET 'RPL forced to 3'). The INT3's frame shows CS %s, SS %s." % (
                            H(base), "Q" if q else "L", H(base), " + 16" if q else "", H(cs),
                            H(base), H(ss), H(cs), H(ss)),
                    expect=bp_from_cpl3("long" if q else "compat", 0x400001, cs, 0x202, 0x40f000, ss,
                                        None, ["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET"]))
    # CPL != 0, wrong mode, SCE = 0
    for vendor in VEND:
        for cpl in (1, 2):
            base = (cpl + 1) * 0x100000
            vec(name="sysretq-cpl%d-gp-%s" % (cpl, vendor), vendor=vendor, mode="long", cpl=cpl,
                code="480f07", regs={"rcx": "0x400000"},
                why="SYSRET at CPL %d: '#GP(0) If CPL != 0' (SDM/APM SYSRET). Delivery from CPL %d "
                    "to RSP0: RSP 0x10ffd0; frame RIP 0x%x." % (cpl, cpl, base),
                expect=delivered("long", cpl, 13, base, err=0,
                                 sources=["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET"]))
        vec(name="sysretq-cpl3-sce0-ud-%s" % vendor, vendor=vendor, mode="long", cpl=3,
            code="480f07", regs={"efer": "0xd00"},
            why="SYSRET at CPL 3 with EFER.SCE = 0: the #UD check comes first in both manuals' "
                "pseudo-code, before the CPL check: #UD, frame RIP 0x400000.",
            expect=delivered("long", 3, 6, 0x400000,
                             sources=["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET"]))
        vec(name="sysretq-cpl3-gp-long-%s" % vendor, vendor=vendor, mode="long", cpl=3,
            code="480f07",
            why="SYSRETQ at CPL 3 in 64-bit mode: #GP(0) on both vendors (CPL != 0).",
            expect=delivered("long", 3, 13, 0x400000, err=0,
                             sources=["sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSRET"]))
    for mode in ("compat", "prot32"):
        vec(name="sysret-cpl3-%s-intel-ud" % mode, vendor="intel", mode=mode, cpl=3, code="0f07",
            why="Intel: SYSRET outside 64-bit mode is #UD, checked before the CPL (SDM SYSRET).",
            expect=delivered(mode, 3, 6, 0x400000, sources=["sdm:Vol.2B/SYSRET"]))
        vec(name="sysret-cpl3-%s-amd-gp" % mode, vendor="amd", mode=mode, cpl=3, code="0f07",
            why="AMD: SYSRET is valid outside 64-bit mode but privileged: 'IF ((!PROTECTED_MODE) || "
                "(CPL != 0)) EXCEPTION [#GP(0)]' (APM SYSRET).",
            expect=delivered(mode, 3, 13, 0x400000, err=0, sources=["apm:Vol.3/SYSRET"]))
    vec(name="sysret-compat-cpl0-amd", vendor="amd", mode="compat", cpl=0, code="0f07",
        regs={"rcx": "0x400000", "r11": "0x246", "rsp": "0x40f000"}, mem=INT3,
        why="AMD: SYSRET from compatibility mode at CPL 0 (long mode, 32-bit operand size): EIP <- "
            "ECX 0x400000, CS <- STAR[63:48] | 3 = 0x23, SS 0x2b, RFLAGS <- (R11 AND 3C7FD7H) OR 2 = "
            "0x246 (APM SYSRET, long mode). INT3 frame RIP 0x400001, CS 0x23.",
        expect=bp_from_cpl3("compat", 0x400001, 0x23, 0x246, 0x40f000, 0x2b, None,
                            ["apm:Vol.3/SYSRET"]))
    vec(name="sysret-compat-cpl0-intel-ud", vendor="intel", mode="compat", cpl=0, code="0f07",
        regs={"rcx": "0x400000", "r11": "0x246", "rsp": "0x40f000"},
        why="Intel: SYSRET in compatibility mode is #UD even at CPL 0 (SDM SYSRET 'CS.L != 1'). "
            "Fault at CPL 0 on RSP 0x40f000: 5 qwords below: RSP 0x40efd8; frame CS 0x08.",
        expect=delivered("compat", 0, 6, 0x100000, rsp=0x40f000, sources=["sdm:Vol.2B/SYSRET"]))
    for r11, eflags in ((0x2, 0x2), (0x246, 0x46)):
        vec(name="sysret-legacy-eflags-%s-amd" % H(eflags), vendor="amd", mode="prot32", cpl=0,
            code="0f07", regs={"ecx": "0x400000", "esp": "0x40f000", "eflags": H(eflags),
                               "r11": H(r11)}, mem=INT3,
            why="AMD legacy-mode SYSRET: RFLAGS.IF <- 1, the other flags unchanged (R11 is not used "
                "outside long mode): EFLAGS %s -> %s; CS 0x23, SS 0x2b, EIP <- ECX. INT3 legacy "
                "frame on SS0:ESP0: ESP 0x10ffec." % (H(eflags), H(eflags | IF)),
            expect=bp_from_cpl3("prot32", 0x400001, 0x23, eflags | IF, 0x40f000, 0x2b, None,
                                ["apm:Vol.3/SYSRET", "sdm:Vol.3A/6.12.1"]))

    # =============================== SYSENTER ==============================================
    for vendor in VEND:
        for fl in (0x202, 0x246, 0x3202, 0x40202, 0x4202, 0x10202, 0x602, 0xcd7):
            new = fl & ~(VM | IF | RF)
            vec(name="sysenter-prot32-eflags-%s-%s" % (H(fl), vendor), vendor=vendor, mode="prot32",
                cpl=3, code="0f34", regs={"eflags": H(fl)},
                why="SYSENTER from CPL 3 in legacy protected mode (both vendors): CS <- SYSENTER_CS "
                    "AND FFFCH = 0x10, SS <- 0x18, CPL 0, EIP <- SYSENTER_EIP 0x5030, ESP <- "
                    "SYSENTER_ESP 0x110000, RFLAGS.VM, IF, RF <- 0: %s -> %s (TF, NT, DF, AC, IOPL "
                    "and the status flags stay). The HLT at 0x5030 ends the run." % (H(fl), H(new)),
                expect={"end": "hlt", "regs": {"eip": "0x5031", "esp": "0x110000", "eflags": H(new)},
                        "segs": {"cs": {"selector": "0x10", "db": 1, "l": 0}, "ss": "0x18"},
                        "cpl": 0, "sources": ["sdm:Vol.2B/SYSENTER", "apm:Vol.3/SYSENTER"]})
        for scs, eip, esp in ((0x08, 0x5034, 0x200000), (0x0b, 0x5030, 0x10), (0x60, 0x503f, 0x0),
                              (0x13, 0x5030, 0xfffffffc)):
            cs = scs & 0xfffc
            vec(name="sysenter-prot32-cs-%s-eip-%s-esp-%s-%s" % (H(scs), H(eip), H(esp), vendor),
                vendor=vendor, mode="prot32", cpl=3, code="0f34", regs={"eflags": "0x202"},
                msrs={"sysenter_cs": H(scs), "sysenter_eip": H(eip), "sysenter_esp": H(esp)},
                why="SYSENTER_CS %s: CS.Selector <- %s AND FFFCH = %s, SS.Selector <- CS + 8 = %s "
                    "(fixed hidden parts, no GDT read); EIP <- %s, ESP <- %s." % (
                        H(scs), H(scs), H(cs), H(cs + 8), H(eip), H(esp)),
                expect={"end": "hlt", "regs": {"eip": H(eip + 1), "esp": H(esp), "eflags": "0x2"},
                        "segs": {"cs": H(cs), "ss": H(cs + 8)}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSENTER", "apm:Vol.3/SYSENTER"]})
        for cpl in (0, 1, 2):
            base = (cpl + 1) * 0x100000
            vec(name="sysenter-prot32-from-cpl%d-%s" % (cpl, vendor), vendor=vendor, mode="prot32",
                cpl=cpl, code="0f34", regs={"eflags": "0x246", "ecx": H(base), "edx": "0x1234"},
                why="SYSENTER works at any CPL: from CPL %d it enters CPL 0 at SYSENTER_EIP 0x5030 with "
                    "ESP 0x110000, EFLAGS 0x46 (IF cleared); ECX and EDX untouched." % cpl,
                expect={"end": "hlt", "regs": {"eip": "0x5031", "esp": "0x110000", "eflags": "0x46",
                                               "ecx": H(base), "edx": "0x1234"},
                        "segs": {"cs": "0x10", "ss": "0x18"}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSENTER", "apm:Vol.3/SYSENTER"]})
        for scs in (0x0, 0x1, 0x3, 0x10000):
            name = "sysenter-null-cs-%s-gp-prot32-%s" % (H(scs), vendor)
            vec(name=name, vendor=vendor, mode="prot32", cpl=3, code="0f34",
                msrs={"sysenter_cs": H(scs)},
                why="SYSENTER_CS = %s: bits 15:2 are 0 (a null selector): 'IF IA32_SYSENTER_CS[15:2] "
                    "= 0 THEN #GP(0)' (SDM SYSENTER; APM SYSENTER 'SYSENTER_CS.SEL = 0'). Legacy "
                    "delivery from CPL 3: ESP 0x10ffe8, frame EIP 0x400000." % H(scs),
                expect=delivered("prot32", 3, 13, 0x400000, err=0,
                                 sources=["sdm:Vol.2B/SYSENTER", "apm:Vol.3/SYSENTER",
                                          "sdm:Vol.3A/6.12.1"]))
            if scs & 0xffff:
                nj(name, QEMU, "QEMU 7.2 TCG raises #GP only when the whole SYSENTER_CS is 0, not "
                               "when bits 15:2 are 0 (RPL bits set)")
    # truncation to 32 bits in legacy mode (Intel MSRs may hold 64-bit values)
    for esp, eip in ((0xffffffff00120000, 0x100005030), (0x7fff00000ff0, 0xffffffff0000503c)):
        vec(name="sysenter-prot32-truncates-esp-%s-intel" % H(esp), vendor="intel", mode="prot32",
            cpl=3, code="0f34", regs={"eflags": "0x202"},
            msrs={"sysenter_esp": H(esp), "sysenter_eip": H(eip)},
            why="Outside IA-32e mode SYSENTER loads ESP/EIP from bits 31:0 of SYSENTER_ESP/EIP (SDM "
                "SYSENTER: 'ESP <- IA32_SYSENTER_ESP[31:0]; EIP <- IA32_SYSENTER_EIP[31:0]'): ESP %s, "
                "EIP %s." % (H(esp & 0xffffffff), H(eip & 0xffffffff)),
            expect={"end": "hlt", "regs": {"eip": H((eip & 0xffffffff) + 1),
                                           "esp": H(esp & 0xffffffff), "eflags": "0x2"},
                    "cpl": 0, "sources": ["sdm:Vol.2B/SYSENTER"]})
    # Intel IA-32e: full 64-bit RSP/RIP; AMD: #UD in long mode
    for mode in ("long", "compat"):
        for esp, eip in ((0xffff800000123000, 0x5038), (0x7ffffffffff0, 0x5030)):
            vec(name="sysenter-%s-esp-%s-intel" % (mode, H(esp)), vendor="intel", mode=mode, cpl=3,
                code="0f34", regs={"rflags": "0x10246"},
                msrs={"sysenter_esp": H(esp), "sysenter_eip": H(eip)},
                why="Intel SYSENTER in IA-32e mode (from %s mode) enters 64-bit mode: RSP <- "
                    "SYSENTER_ESP %s and RIP <- SYSENTER_EIP %s whole, CS 0x10 (L = 1), SS 0x18, CPL 0, "
                    "RFLAGS 0x10246 -> 0x46 (VM, IF, RF cleared)." % (mode, H(esp), H(eip)),
                expect={"end": "hlt", "regs": {"rip": H(eip + 1), "rsp": H(esp), "rflags": "0x46"},
                        "segs": {"cs": {"selector": "0x10", "l": 1}, "ss": "0x18"}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SYSENTER"]})
        for cpl in (0, 3):
            base = (cpl + 1) * 0x100000
            name = "sysenter-%s-cpl%d-amd-ud" % (mode, cpl)
            if name in ("sysenter-long-cpl3-amd-ud", "sysenter-compat-cpl3-amd-ud"):
                continue   # fast.json / fast2.json have these
            vec(name=name, vendor="amd", mode=mode, cpl=cpl, code="0f34",
                why="AMD: SYSENTER is #UD in long mode (64-bit and compatibility; APM SYSENTER "
                    "'#UD ... in long mode'), also at CPL 0. Frame RIP 0x%x." % base,
                expect=delivered(mode, cpl, 6, base, sources=["apm:Vol.3/SYSENTER"]))
            nj(name, BOCHS["amd"], "Bochs 2.7 executes SYSENTER in long mode on its AMD model (ryzen)")
    vec(name="sysenter-compat-null-cs-gp-intel", vendor="intel", mode="compat", cpl=3, code="0f34",
        msrs={"sysenter_cs": "0x0"},
        why="Intel SYSENTER from compatibility mode with a null SYSENTER_CS: #GP(0); IA-32e delivery "
            "from CPL 3: RSP 0x10ffd0, frame RIP 0x400000, CS 0x23.",
        expect=delivered("compat", 3, 13, 0x400000, err=0, sources=["sdm:Vol.2B/SYSENTER"]))
    # SYSENTER with TF: the trap comes at CPL 0 before the first kernel instruction
    vec(name="sysenter-compat-tf-db-ring0-intel", vendor="intel", mode="compat", cpl=3, code="0f34",
        regs={"rflags": "0x302"},
        why="SYSENTER does not clear TF: RFLAGS 0x302 -> 0x102 in 64-bit mode at CPL 0, so the "
            "single-step #DB (a trap) follows with RIP = SYSENTER_EIP 0x5030: frame RIP 0x5030, CS "
            "0x10, RFLAGS 0x102, RSP 0x110000, SS 0x18; gate 1 uses IST3 0x23000: RSP 0x22fd8, RIP "
            "0x4010, RFLAGS 0x2.",
        expect={"end": "exception", "vector": "#DB", "error_code": "none",
                "frame": {"rip": "0x5030", "cs": "0x10", "rflags": "0x102", "rsp": "0x110000",
                          "ss": "0x18"},
                "regs": {"rip": "0x4010", "rsp": "0x22fd8", "rflags": "0x2"}, "cpl": 0,
                "sources": ["sdm:Vol.2B/SYSENTER", "sdm:Vol.3A/18.3.1.4", "sdm:Vol.3A/6.14.5"]})
    vec(name="sysenter-prot32-tf-db-ring0-amd", vendor="amd", mode="prot32", cpl=3, code="0f34",
        regs={"eflags": "0x346"},
        why="AMD legacy SYSENTER keeps TF: EFLAGS 0x346 -> 0x146; #DB trap at CPL 0 with EIP 0x5030, "
            "no stack switch in the delivery (already CPL 0): EFLAGS, CS, EIP below ESP 0x110000: "
            "ESP 0x10fff4; frame EIP 0x5030, CS 0x10, EFLAGS 0x146; EIP 0x4010, EFLAGS 0x46.",
        expect={"end": "exception", "vector": "#DB", "error_code": "none",
                "frame": {"rip": "0x5030", "cs": "0x10", "rflags": "0x146"},
                "regs": {"eip": "0x4010", "esp": "0x10fff4", "eflags": "0x46"}, "cpl": 0,
                "sources": ["apm:Vol.3/SYSENTER", "sdm:Vol.3A/18.3.1.4", "sdm:Vol.3A/6.12.1"]})

    # =============================== SYSEXIT ===============================================
    for vendor in VEND:
        for scs, ecx, fl in ((0x10, 0x40f000, 0x202), (0x08, 0x500000, 0x246), (0x60, 0x40fff0, 0x3202),
                             (0x13, 0x410000, 0x40202), (0x10, 0x0, 0x4202)):
            cs, ss = (scs + 16) | 3, (scs + 24) | 3
            vec(name="sysexit-prot32-cs-%s-esp-%s-%s" % (H(scs), H(ecx), vendor), vendor=vendor,
                mode="prot32", cpl=0, code="0f35",
                regs={"ecx": H(ecx), "edx": "0x400000", "eflags": H(fl)},
                msrs={"sysenter_cs": H(scs)}, mem=INT3,
                why="SYSEXIT (legacy, both vendors): CS.Selector <- (SYSENTER_CS %s + 16) OR 3 = %s, "
                    "SS.Selector <- (%s + 24) OR 3 = %s, fixed hidden parts, CPL 3, EIP <- EDX "
                    "0x400000, ESP <- ECX %s, EFLAGS unchanged %s. The INT3: legacy frame on "
                    "SS0:ESP0 (ESP 0x10ffec): EIP 0x400001, CS %s, EFLAGS %s, ESP %s, SS %s." % (
                        H(scs), H(cs), H(scs), H(ss), H(ecx), H(fl), H(cs), H(fl), H(ecx), H(ss)),
                expect=bp_from_cpl3("prot32", 0x400001, cs, fl, ecx, ss, None,
                                    ["sdm:Vol.2B/SYSEXIT", "apm:Vol.3/SYSEXIT", "sdm:Vol.3A/6.12.1"]))
        for scs in (0x0, 0x2):
            name = "sysexit-null-cs-%s-gp-prot32-%s" % (H(scs), vendor)
            vec(name=name, vendor=vendor, mode="prot32", cpl=0, code="0f35",
                regs={"ecx": "0x40f000", "edx": "0x400000"}, msrs={"sysenter_cs": H(scs)},
                why="SYSEXIT with SYSENTER_CS[15:2] = 0 (%s): #GP(0) (SDM SYSEXIT; APM SYSEXIT). A "
                    "CPL-0 legacy fault: error code, EIP, CS, EFLAGS below ESP 0x110000: ESP 0x10fff0."
                    % H(scs),
                expect=delivered("prot32", 0, 13, 0x100000, err=0,
                                 sources=["sdm:Vol.2B/SYSEXIT", "apm:Vol.3/SYSEXIT"]))
            if scs:
                nj(name, QEMU, "QEMU 7.2 TCG raises #GP only when the whole SYSENTER_CS is 0")
        for cpl in (1, 2):
            base = (cpl + 1) * 0x100000
            vec(name="sysexit-prot32-cpl%d-gp-%s" % (cpl, vendor), vendor=vendor, mode="prot32",
                cpl=cpl, code="0f35", regs={"ecx": "0x40f000", "edx": "0x400000"},
                why="SYSEXIT at CPL %d: #GP(0) (CPL != 0). Legacy delivery to SS0:ESP0: ESP 0x10ffe8."
                    % cpl,
                expect=delivered("prot32", cpl, 13, base, err=0,
                                 sources=["sdm:Vol.2B/SYSEXIT", "apm:Vol.3/SYSEXIT"]))
    for mode in ("long", "compat"):
        vec(name="sysexit-%s-cpl3-amd-gp" % mode, vendor="amd", mode=mode, cpl=3, code="0f35",
            why="AMD SYSEXIT at CPL 3 in long mode (%s): APM Vol. 3 SYSEXIT lists both #UD ('not "
                "recognized in long mode') and #GP(0) ('CPL was not 0') without an order; the host CPU "
                "(AMD EPYC, native judge) raises #GP(0): the privilege check comes first. IA-32e "
                "delivery from CPL 3: RSP 0x10ffd0, frame RIP 0x400000." % mode,
            expect=delivered(mode, 3, 13, 0x400000, err=0, sources=["apm:Vol.3/SYSEXIT"]))
        vec(name="sysexit-%s-cpl3-intel-gp" % mode, vendor="intel", mode=mode, cpl=3, code="0f35",
            why="Intel: SYSEXIT at CPL 3 in IA-32e mode: #GP(0) (SDM SYSEXIT: CPL != 0).",
            expect=delivered(mode, 3, 13, 0x400000, err=0, sources=["sdm:Vol.2B/SYSEXIT"]))
        name = "sysexit-%s-cpl0-amd-ud" % mode
        vec(name=name, vendor="amd", mode=mode, cpl=0, code="0f35",
            regs={"rcx": "0x40f000", "rdx": "0x400000"},
            why="AMD: SYSEXIT (32-bit operand size) is #UD in long mode (%s) at CPL 0 too." % mode,
            expect=delivered(mode, 0, 6, 0x100000, sources=["apm:Vol.3/SYSEXIT"]))
        nj(name, BOCHS["amd"], "Bochs 2.7 executes SYSEXIT in long mode on its AMD model (ryzen)")
    # Intel 64-bit mode: SYSEXIT to compat, SYSEXITQ to 64-bit, canonical checks
    for scs, q in ((0x10, False), (0x08, False), (0x08, True), (0x60, True), (0x13, True)):
        cs = (scs + (32 if q else 16)) | 3
        ss = (scs + (40 if q else 24)) | 3
        rcx = 0x40f000 if q else 0xffffffff0040f000
        rsp = 0x40f000
        vec(name="sysexit%s-long-cs-%s-intel" % ("q" if q else "", H(scs)), vendor="intel",
            mode="long", cpl=0, code="480f35" if q else "0f35",
            regs={"rcx": H(rcx), "rdx": "0xffffffff00400000" if not q else "0x400000",
                  "rflags": "0x246"},
            msrs={"sysenter_cs": H(scs)}, mem=INT3,
            why="Intel SYSEXIT%s in 64-bit mode: CS.Selector <- (SYSENTER_CS %s + %d) OR 3 = %s (%s), "
                "SS.Selector <- (%s + %d) OR 3 = %s; %s; CPL 3, RFLAGS unchanged 0x246. INT3 frame "
                "RIP 0x400001, CS %s, RSP 0x40f000, SS %s." % (
                    "Q (REX.W)" if q else " (32-bit operand size)", H(scs), 32 if q else 16, H(cs),
                    "64-bit" if q else "compatibility mode", H(scs), 40 if q else 24, H(ss),
                    "RIP <- RDX, RSP <- RCX" if q else
                    "RIP <- EDX and RSP <- ECX, zero-extended (RCX/RDX[63:32] = 0xffffffff dropped)",
                    H(cs), H(ss)),
            expect=bp_from_cpl3("long" if q else "compat", 0x400001, cs, 0x246, rsp, ss, None,
                                ["sdm:Vol.2B/SYSEXIT", "sdm:Vol.3A/5.8.7"]))
    for rcx, rdx in ((0x800000000000, 0x400000), (0x40f000, 0xffff7fffffffffff),
                     (0xffff7ffffffffff0, 0x8000000000000000)):
        name = "sysexitq-noncanonical-rcx-%s-rdx-%s-intel-gp" % (H(rcx), H(rdx))
        vec(name=name, vendor="intel", mode="long", cpl=0, code="480f35",
            regs={"rcx": H(rcx), "rdx": H(rdx)},
            why="Intel 64-bit SYSEXIT: '#GP(0) If RCX or RDX contains a non-canonical address' (here "
                "%s), checked before the return: a fault at CPL 0, RSP 0x10ffd0, frame RIP 0x100000, "
                "CS 0x10." % ("RCX" if not canonical(rcx) and canonical(rdx) else
                               "RDX" if canonical(rcx) else "both"),
            expect=delivered("long", 0, 13, 0x100000, err=0, sources=["sdm:Vol.2B/SYSEXIT"]))
        nj(name, QEMU, "QEMU 7.2 TCG has no canonical check in SYSEXIT: it returns and faults at "
                       "CPL 3")
    for rcx, rdx in ((0xffff800000000000, 0x400000), (0x40f000, 0x7fffffffffff)):
        if rdx == 0x400000:
            e = bp_from_cpl3("long", 0x400001, 0x33, 0x2, rcx, 0x3b, None,
                             ["sdm:Vol.2B/SYSEXIT", "sdm:Vol.3A/6.14.2"])
            why = ("Intel SYSEXITQ with RCX 0xffff800000000000 (canonical): RSP <- RCX, RIP <- RDX "
                   "0x400000, CS 0x33, SS 0x3b; the INT3 switches to RSP0, so the unmapped user RSP is "
                   "never touched: frame RSP 0xffff800000000000.")
        else:
            e = fault_from_cpl3_64(14, 0x14, rdx, 0x33, 0x2, rcx, 0x3b, cr2=rdx,
                                   sources=["sdm:Vol.2B/SYSEXIT", "sdm:Vol.3A/4.7"])
            why = ("Intel SYSEXITQ with RDX 0x7fffffffffff (canonical): returns to CPL 3; the fetch "
                   "there is not mapped: #PF at CPL 3, error code 0x14, CR2 0x7fffffffffff, frame CS "
                   "0x33, SS 0x3b, RSP 0x40f000; RSP0 delivery: RSP 0x10ffd0.")
        vec(name="sysexitq-canonical-rcx-%s-rdx-%s-intel" % (H(rcx), H(rdx)), vendor="intel",
            mode="long", cpl=0, code="480f35", regs={"rcx": H(rcx), "rdx": H(rdx)},
            mem=INT3, expect=e, why=why)

    # =============================== SWAPGS ================================================
    for vendor in VEND:
        for kgs in (0x500000, 0x7ff000, 0xabc000):
            marker = 0x1122334455667788 ^ kgs
            code = "0f01f8" + "65488b042500000000" + "b9010100c0" + "0f32" + "4989c0" + "4989d1" + \
                   "b9020100c0" + "0f32" + "f4"
            end = 0x100000 + nbytes(code)
            vec(name="swapgs-kgs-%s-%s" % (H(kgs), vendor), vendor=vendor, mode="long", cpl=0,
                code=code, msrs={"kernel_gs_base": H(kgs), "gs_base": "0x600000"},
                mem=[{"addr": H(kgs), "bytes": le64(marker)}],
                why="SWAPGS at CPL 0: GS.base <- KERNEL_GS_BASE %s, KERNEL_GS_BASE <- the old GS.base "
                    "0x600000 (SDM SWAPGS). MOV RAX, GS:[0] then reads the qword at %s = %s. RDMSR "
                    "GS_BASE gives 0:%s (kept in R9:R8), RDMSR KERNEL_GS_BASE 0:0x600000 in EDX:EAX."
                    % (H(kgs), H(kgs), H(marker), H(kgs)),
                expect={"end": "hlt", "regs": {"rip": H(end), "r8": H(kgs), "r9": "0x0",
                                               "rax": "0x600000", "rdx": "0x0"}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SWAPGS", "sdm:Vol.2B/RDMSR"]})
            # and the GS-relative read alone (reads before the RDMSRs overwrite RAX)
            code2 = "0f01f8" + "65488b042500000000" + "f4"
            vec(name="swapgs-gs-read-kgs-%s-%s" % (H(kgs), vendor), vendor=vendor, mode="long",
                cpl=0, code=code2, msrs={"kernel_gs_base": H(kgs)},
                mem=[{"addr": H(kgs), "bytes": le64(marker)}],
                why="After SWAPGS, GS.base = KERNEL_GS_BASE %s: MOV RAX, GS:[0] loads the qword "
                    "there, %s." % (H(kgs), H(marker)),
                expect={"end": "hlt", "regs": {"rip": H(0x100000 + nbytes(code2)), "rax": H(marker)},
                        "cpl": 0, "sources": ["sdm:Vol.2B/SWAPGS", "sdm:Vol.3A/3.4.4"]})
        code = "0f01f8" + "0f01f8" + "b9010100c0" + "0f32" + "f4"
        vec(name="swapgs-twice-restores-%s" % vendor, vendor=vendor, mode="long", cpl=0, code=code,
            msrs={"kernel_gs_base": "0x123456789000", "gs_base": "0x600000"},
            why="Two SWAPGS exchange twice: GS.base is 0x600000 again; RDMSR GS_BASE gives 0:0x600000.",
            expect={"end": "hlt", "regs": {"rip": H(0x100000 + nbytes(code)), "rax": "0x600000",
                                           "rdx": "0x0"}, "cpl": 0,
                    "sources": ["sdm:Vol.2B/SWAPGS", "sdm:Vol.2B/RDMSR"]})
        for cpl in (1, 2):
            base = (cpl + 1) * 0x100000
            vec(name="swapgs-cpl%d-gp-%s" % (cpl, vendor), vendor=vendor, mode="long", cpl=cpl,
                code="0f01f8",
                why="SWAPGS at CPL %d: #GP(0) (SDM SWAPGS 'IF CPL != 0 THEN #GP(0)')." % cpl,
                expect=delivered("long", cpl, 13, base, err=0, sources=["sdm:Vol.2B/SWAPGS"]))
        for mode, cpl in (("compat", 0), ("prot32", 0), ("prot32", 3)):
            base = (cpl + 1) * 0x100000
            vec(name="swapgs-%s-cpl%d-ud-%s" % (mode, cpl, vendor), vendor=vendor, mode=mode, cpl=cpl,
                code="0f01f8",
                why="SWAPGS outside 64-bit mode is #UD (SDM SWAPGS: 'IF CS.L != 1 THEN #UD'; in legacy "
                    "mode 0F 01 /7 with a register operand is undefined), checked before the CPL.",
                expect=delivered(mode, cpl, 6, base, sources=["sdm:Vol.2B/SWAPGS"]))
    vec(name="swapgs-cpl3-gp-intel", vendor="intel", mode="long", cpl=3, code="0f01f8",
        why="SWAPGS at CPL 3 in 64-bit mode: #GP(0).",
        expect=delivered("long", 3, 13, 0x400000, err=0, sources=["sdm:Vol.2B/SWAPGS"]))
    vec(name="swapgs-compat-cpl3-ud-intel", vendor="intel", mode="compat", cpl=3, code="0f01f8",
        why="SWAPGS in compatibility mode at CPL 3: #UD (mode check first).",
        expect=delivered("compat", 3, 6, 0x400000, sources=["sdm:Vol.2B/SWAPGS"]))

    # =============================== RD/WR FS/GS BASE ======================================
    RDFS = lambda r, w=True: "f3%s0faec%x" % ("48" if w else "", r)      # F3 REX.W 0F AE /0
    RDGS = lambda r, w=True: "f3%s0faec%x" % ("48" if w else "", 8 + r)  # /1
    WRFS = lambda r, w=True: "f3%s0faed%x" % ("48" if w else "", r)      # /2
    WRGS = lambda r, w=True: "f3%s0faed%x" % ("48" if w else "", 8 + r)  # /3
    CR4_FSGS = "0x10020"
    QEMU_NOFSGS = ("the qemu64 model reports no FSGSBASE (CPUID.7:EBX[0] = 0), so QEMU refuses "
                   "CR4.FSGSBASE = 1: not a departure from the manual, a model without the feature")
    for vendor in VEND:
        for v in (0x123456789000, 0x7fffffffffff, 0xffff800000000000, 0x500000):
            code = mov64(0, v) + WRFS(0) + RDFS(3) + WRGS(0) + RDGS(2) + "f4"
            end = 0x100000 + nbytes(code)
            name = "wrfsbase-rdfsbase-%s-%s" % (H(v), vendor)
            vec(name=name, vendor=vendor, mode="long", cpl=0, code=code, regs={"cr4": CR4_FSGS},
                why="CR4.FSGSBASE = 1: WRFSBASE RAX / WRGSBASE RAX load FS.base and GS.base with the "
                    "canonical %s; RDFSBASE RBX and RDGSBASE RDX read them back (SDM RDFSBASE/"
                    "WRFSBASE)." % H(v),
                expect={"end": "hlt", "regs": {"rip": H(end), "rbx": H(v), "rdx": H(v)}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/WRFSBASE", "sdm:Vol.2B/RDFSBASE"]})
        # FS-relative access through a WRFSBASE'd base, at CPL 3 too
        for cpl in (0, 3):
            base = (cpl + 1) * 0x100000
            code = mov64(1, 0x500000) + WRFS(1) + "64488b042508000000" + (
                "f4" if cpl == 0 else "cc")
            end = base + nbytes(code)
            e = ({"end": "hlt", "regs": {"rip": H(end), "rax": "0x8877665544332211"}, "cpl": 0,
                  "sources": ["sdm:Vol.2B/WRFSBASE", "sdm:Vol.3A/3.4.4"]} if cpl == 0 else
                 bp_from_cpl3("long", end, 0x33, 0x2, 0x410000, 0x2b,
                              {"rax": "0x8877665544332211"},
                              ["sdm:Vol.2B/WRFSBASE", "sdm:Vol.3A/3.4.4"]))
            vec(name="wrfsbase-then-fs-read-cpl%d-%s" % (cpl, vendor), vendor=vendor, mode="long",
                cpl=cpl, code=code, regs={"cr4": CR4_FSGS},
                mem=[{"addr": "0x500008", "bytes": "1122334455667788"}],
                why="WRFSBASE is allowed at any CPL when CR4.FSGSBASE = 1: FS.base <- 0x500000; MOV "
                    "RAX, FS:[8] reads the qword at 0x500008 = 0x8877665544332211 (little-endian).",
                expect=e)
        for wr in (True, False):
            v = 0xffff8000deadb000
            code = mov64(0, v) + (WRFS(0, False) + RDFS(3) if wr else WRFS(0) + RDFS(3, False)) + "f4"
            end = 0x100000 + nbytes(code)
            res = (v & 0xffffffff)
            vec(name="fsbase-32bit-%s-%s" % ("write" if wr else "read", vendor), vendor=vendor,
                mode="long", cpl=0, code=code, regs={"cr4": CR4_FSGS, "rbx": "0xffffffffffffffff"},
                why=("WRFSBASE EAX (no REX.W) writes the 32-bit value zero-extended: FS.base <- "
                     "0xdeadb000; RDFSBASE RBX reads 0xdeadb000." if wr else
                     "RDFSBASE EBX (no REX.W) returns FS.base[31:0] zero-extended into RBX: FS.base "
                     "0xffff8000deadb000 -> RBX 0xdeadb000.") + " (SDM RDFSBASE/WRFSBASE operation)",
                expect={"end": "hlt", "regs": {"rip": H(end), "rbx": H(res)}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/WRFSBASE", "sdm:Vol.2B/RDFSBASE"]})
        for v in (0x800000000000, 0xffff7fffffffffff):
            pre = mov64(0, v)
            vec(name="wrgsbase-noncanonical-%s-gp-%s" % (H(v), vendor), vendor=vendor, mode="long",
                cpl=0, code=pre + WRGS(0) + "f4", regs={"cr4": CR4_FSGS},
                why="WRGSBASE with the non-canonical %s: #GP(0) (SDM WRFSBASE/WRGSBASE 'If the source "
                    "register contains a non-canonical address'), frame RIP 0x%x." % (
                        H(v), 0x100000 + nbytes(pre)),
                expect=delivered("long", 0, 13, 0x100000 + nbytes(pre), err=0,
                                 sources=["sdm:Vol.2B/WRFSBASE"]))
            vec(name="wrfsbase-noncanonical-%s-gp-%s" % (H(v), vendor), vendor=vendor, mode="long",
                cpl=0, code=pre + WRFS(0) + "f4", regs={"cr4": CR4_FSGS},
                why="WRFSBASE with the non-canonical %s: #GP(0)." % H(v),
                expect=delivered("long", 0, 13, 0x100000 + nbytes(pre), err=0,
                                 sources=["sdm:Vol.2B/WRFSBASE"]))
        for cpl, insn, nm in ((0, RDFS(0), "rdfsbase"), (3, RDFS(0), "rdfsbase"),
                              (0, WRGS(0), "wrgsbase"), (3, RDGS(0, False), "rdgsbase32")):
            base = (cpl + 1) * 0x100000
            vec(name="%s-cr4-off-ud-cpl%d-%s" % (nm, cpl, vendor), vendor=vendor, mode="long",
                cpl=cpl, code=insn + "f4",
                why="CR4.FSGSBASE = 0 (the standard machine's CR4 = PAE): RDFSBASE/RDGSBASE/WRFSBASE/"
                    "WRGSBASE are #UD (SDM: 'If CR4.FSGSBASE[bit 16] = 0'). Frame RIP 0x%x." % base,
                expect=delivered("long", cpl, 6, base, sources=["sdm:Vol.2B/RDFSBASE"]))
        vec(name="rdfsbase-compat-ud-%s" % vendor, vendor=vendor, mode="compat", cpl=0,
            code=RDFS(0, False) + "f4", regs={"cr4": CR4_FSGS},
            why="RDFSBASE outside 64-bit mode: #UD ('If the processor is not in 64-bit mode'), even "
                "with CR4.FSGSBASE = 1.",
            expect=delivered("compat", 0, 6, 0x100000, sources=["sdm:Vol.2B/RDFSBASE"]))

    # =============================== RDTSCP ================================================
    QEMU_NORDTSCP = ("the qemu64 model reports no RDTSCP (CPUID.80000001H:EDX[27] = 0): QEMU raises "
                     "#UD; a model without the feature, not a departure from the manual")
    for vendor in VEND:
        for aux in (0x0, 0x1, 0xdeadbeef, 0x80000000):
            code = mov32("ecx", MSR["tsc_aux"]) + mov32("eax", aux) + mov32("edx", 0) + "0f30" + \
                mov64(1, 0xffffffffffffffff) + "0f01f9" + "f4"
            end = 0x100000 + nbytes(code)
            name = "rdtscp-tsc-aux-%s-%s" % (H(aux), vendor)
            vec(name=name, vendor=vendor, mode="long", cpl=0, code=code,
                why="WRMSR TSC_AUX = %s, RCX <- -1, RDTSCP: 'ECX <- IA32_TSC_AUX[31:0]' and in 64-bit "
                    "mode RCX[63:32] <- 0 (SDM RDTSCP): RCX = %s. EDX:EAX hold the TSC (not compared)."
                    % (H(aux), H(aux)),
                expect={"end": "hlt", "regs": {"rip": H(end), "rcx": H(aux)}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/RDTSCP", "apm:Vol.3/RDTSCP"]})
            nj(name, QEMU, QEMU_NORDTSCP)
        code = mov32("ecx", MSR["tsc_aux"]) + mov32("eax", 0x34) + mov32("edx", 0x12) + "0f30" + \
            "0f01f9" + "f4"
        if vendor == "amd":
            name = "rdtscp-tsc-aux-upper-dropped-amd"
            vec(name=name, vendor="amd", mode="long", cpl=0, code=code,
                why="AMD: TSC_AUX keeps 32 bits (APM RDTSCP), WRMSR of 0x12:0x34 stores 0x34; RDTSCP "
                    "gives RCX 0x34.",
                expect={"end": "hlt", "regs": {"rip": H(0x100000 + nbytes(code)), "rcx": "0x34"},
                        "cpl": 0, "sources": ["apm:Vol.3/RDTSCP", "apm:Vol.3/WRMSR"]})
            nj(name, QEMU, QEMU_NORDTSCP)
        # CR4.TSD: CPL 3 #GP, CPL 0 allowed; CPL 3 allowed with TSD = 0
        name = "rdtscp-tsd-cpl3-gp-%s" % vendor
        vec(name=name, vendor=vendor, mode="long", cpl=3, code="0f01f9cc", regs={"cr4": "0x24"},
            why="CR4.TSD = 1: RDTSCP at CPL 3 raises #GP(0) (SDM RDTSCP 'If the TSD flag in CR4 is "
                "set and the CPL is greater than 0'). Frame RIP 0x400000.",
            expect=delivered("long", 3, 13, 0x400000, err=0,
                             sources=["sdm:Vol.2B/RDTSCP", "apm:Vol.3/RDTSCP"]))
        nj(name, QEMU, QEMU_NORDTSCP)
        for mode in ("long", "compat"):
            name = "rdtscp-cpl3-%s-%s" % (mode, vendor)
            vec(name=name, vendor=vendor, mode=mode, cpl=3, code="0f01f9cc",
                regs={"rcx": "0xffffffff"},
                why="CR4.TSD = 0: RDTSCP is allowed at CPL 3 (%s mode); ECX <- TSC_AUX[31:0] = 0 (the "
                    "standard machine's power-up value). The INT3 after it traps: frame RIP 0x400004."
                    % mode,
                expect=bp_from_cpl3(mode, 0x400004, 0x33 if mode == "long" else 0x23, 0x2, 0x410000,
                                    0x2b, {"rcx": "0x0"}, ["sdm:Vol.2B/RDTSCP", "apm:Vol.3/RDTSCP"]))
            g.V[-1]["expect"]["regs"].pop("rflags")   # CF etc. untouched, but keep it simple
            nj(name, QEMU, QEMU_NORDTSCP)
        code = "0f01f9f4"
        name = "rdtscp-tsd-cpl0-ok-%s" % vendor
        vec(name=name, vendor=vendor, mode="long", cpl=0, code=code, regs={"cr4": "0x24",
                                                                            "rcx": "0x5"},
            why="CR4.TSD = 1 restricts RDTSCP to CPL 0 only: at CPL 0 it runs, RCX <- TSC_AUX = 0.",
            expect={"end": "hlt", "regs": {"rip": "0x100004", "rcx": "0x0"}, "cpl": 0,
                    "sources": ["sdm:Vol.2B/RDTSCP"]})
        nj(name, QEMU, QEMU_NORDTSCP)

    # =============================== Linux entry paths =====================================
    PERCPU = [{"addr": "0x190000", "bytes": "00001a0000000000" "0000000000000000"
                                            "2a00000000000000"}]
    for vendor in VEND:
        for mode in ("long", "compat"):
            cs = 0x33 if mode == "long" else 0x23
            # the entry half: INT 0x80 from user code ends at the gate's stub
            vec(name="linux-int80-from-%s-entry-%s" % (mode, vendor), vendor=vendor, mode=mode,
                cpl=3, code="b804000000 cd80 cc", regs={"rflags": "0x202"},
                why="Linux's INT 0x80 system call from %s code (entry_INT80_compat serves both): MOV "
                    "EAX,4; INT 0x80 through the DPL-3 interrupt gate 0x80: CPL 0, RSP0 0x110000, the "
                    "5-qword frame (RIP 0x400007, CS %s, RFLAGS 0x202, RSP 0x410000, SS 0x2b) at "
                    "0x10ffd8; IF cleared; RIP = the stub 0x4800. RAX keeps 4." % (mode, H(cs)),
                expect={"end": "int", "vector": 128,
                        "frame": {"rip": "0x400007", "cs": H(cs), "rflags": "0x202",
                                  "rsp": "0x410000", "ss": "0x2b"},
                        "regs": {"rax": "0x4", "rip": "0x4800", "rsp": "0x10ffd8", "rflags": "0x2"},
                        "cpl": 0, "sources": ["sdm:Vol.2A/INT n", "sdm:Vol.3A/6.14.2"]})
            # the return half: the handler's SWAPGS / per-CPU read / SWAPGS / IRETQ
            frame = le64(0x400007) + le64(cs) + le64(0x202) + le64(0x410000) + le64(0x2b)
            kernel = "0f01f8" + "65488b042510000000" + "0f01f8" + "48cf"
            vec(name="linux-int80-return-to-%s-iretq-%s" % (mode, vendor), vendor=vendor,
                mode="long", cpl=0, code=kernel, regs={"rsp": "0x10ffd8", "rax": "0x4"},
                msrs={"kernel_gs_base": "0x190000"},
                mem=PERCPU + [{"addr": "0x10ffd8", "bytes": frame},
                              {"addr": "0x400007", "bytes": "cc"}],
                why="The return half of Linux's INT 0x80 path, starting in the handler with the gate's "
                    "frame at 0x10ffd8 (RIP 0x400007, CS %s, RFLAGS 0x202, RSP 0x410000, SS 0x2b): "
                    "SWAPGS (GS.base <- 0x190000), MOV RAX, GS:[0x10] = 0x2a (the per-CPU value), "
                    "SWAPGS back, IRETQ to CPL 3 (%s mode): RIP 0x400007, RFLAGS 0x202, RSP 0x410000. "
                    "The INT3 there traps: frame RIP 0x400008, CS %s; RSP0 delivery: RSP 0x10ffd8, "
                    "RIP 0x4030." % (H(cs), mode, H(cs)),
                expect={"end": "exception", "vector": "#BP", "error_code": "none",
                        "frame": {"rip": "0x400008", "cs": H(cs), "rflags": "0x202",
                                  "rsp": "0x410000", "ss": "0x2b"},
                        "regs": {"rax": "0x2a", "rip": "0x4030", "rsp": "0x10ffd8"}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SWAPGS", "sdm:Vol.2A/IRET", "sdm:Vol.3A/6.14.2"]})
        # paranoid entry: decide on SWAPGS from the sign of GS_BASE (Linux paranoid_entry)
        for from_kernel in (False, True):
            code = ("b9010100c0" "0f32" "85d2" "7803" "0f01f8"
                    "b9010100c0" "0f32" "4889c7" "b9020100c0" "0f32" "f4")
            name = "linux-paranoid-entry-%s-%s" % ("kernel-gs" if from_kernel else "user-gs", vendor)
            gs, kgs = (0xffff888000190000, 0x0) if from_kernel else (0x0, 0xffff888000190000)
            new_gs, new_kgs = (gs, kgs) if from_kernel else (kgs, gs)
            vec(name=name, vendor=vendor, mode="long", cpl=0, code=code,
                msrs={"gs_base": H(gs), "kernel_gs_base": H(kgs)},
                why="Linux's paranoid_entry (NMI, #MC, #DB...): RDMSR GS_BASE; if EDX is negative the "
                    "kernel GS is already loaded and SWAPGS is skipped (JS over it), else SWAPGS. "
                    "GS_BASE %s, KERNEL_GS_BASE %s: EDX = 0x%x %s; then RDMSR GS_BASE into RDI (low "
                    "half) and RDMSR KERNEL_GS_BASE into EDX:EAX: RDI %s, RAX %s, RDX %s; HLT." % (
                        H(gs), H(kgs), gs >> 32, "(sign set: no SWAPGS)" if from_kernel else
                        "(not negative: SWAPGS)", H(new_gs & 0xffffffff), H(new_kgs & 0xffffffff),
                        H(new_kgs >> 32)),
                expect={"end": "hlt", "regs": {"rip": H(0x100000 + nbytes(code)),
                                               "rdi": H(new_gs & 0xffffffff),
                                               "rax": H(new_kgs & 0xffffffff),
                                               "rdx": H(new_kgs >> 32)}, "cpl": 0,
                        "sources": ["sdm:Vol.2B/SWAPGS", "sdm:Vol.2B/RDMSR"]})
        # SYSCALL64 building Linux's pt_regs tail (SS, RSP, R11, CS, RCX) and returning by SYSRET
        kernel = ("0f01f8" "654889242508000000" "65488b242500000000"
                  "6a2b" "65ff342508000000" "4153" "6a33" "51"
                  "48c7c0" + le32(0x77) +
                  "59" "4883c408" "415b" "488b2424"
                  "0f01f8" "480f07")
        vec(name="linux-syscall64-ptregs-sysret-%s" % vendor, vendor=vendor, mode="long", cpl=3,
            code="b827000000 0f05 cc", regs={"rflags": "0x246"},
            msrs={"lstar": "0x180000", "kernel_gs_base": "0x190000"}, mem=PERCPU + [
                {"addr": "0x180000", "bytes": kernel}],
            why="entry_SYSCALL_64 with the pt_regs tail. User: MOV EAX,39; SYSCALL: RCX <- 0x400007, "
                "R11 <- 0x246, RFLAGS <- 0x246 AND NOT 0x47700 = 0x46, CPL 0 at LSTAR 0x180000. "
                "Kernel: SWAPGS (GS.base 0x190000); MOV gs:[8], RSP (0x410000); MOV RSP, gs:[0] "
                "(0x1a0000); PUSH 0x2b (SS at 0x19fff8), PUSH gs:[8] (user RSP at 0x19fff0), PUSH R11 "
                "(0x246 at 0x19ffe8), PUSH 0x33 (CS at 0x19ffe0), PUSH RCX (0x400007 at 0x19ffd8); "
                "MOV RAX, 0x77; POP RCX; ADD RSP, 8 (skip CS); POP R11; MOV RSP, [RSP] (the saved user "
                "RSP 0x410000); SWAPGS; SYSRETQ: RIP 0x400007, CS 0x33, SS 0x2b, RFLAGS 0x246, CPL 3. "
                "The INT3 at 0x400007: frame RIP 0x400008, CS 0x33, RFLAGS 0x246, RSP 0x410000, SS "
                "0x2b; RSP0 delivery: RSP 0x10ffd8, RIP 0x4030. The ADD leaves flags from 0x19ffe0 + 8 "
                "= 0x19ffe8 (no CF/ZF/SF/OF; PF: low byte 0xe8 has 4 one bits -> PF = 1; AF: 0+8 no "
                "carry from bit 3 -> 0), but SYSRET reloads RFLAGS from R11 anyway.",
            expect={"end": "exception", "vector": "#BP", "error_code": "none",
                    "frame": {"rip": "0x400008", "cs": "0x33", "rflags": "0x246", "rsp": "0x410000",
                              "ss": "0x2b"},
                    "regs": {"rax": "0x77", "rcx": "0x400007", "r11": "0x246", "rip": "0x4030",
                             "rsp": "0x10ffd8"},
                    "mem": [{"addr": "0x19ffd8", "bytes": "0700400000000000" "3300000000000000"
                                                          "4602000000000000" "0000410000000000"
                                                          "2b00000000000000"},
                            {"addr": "0x190008", "bytes": "0000410000000000"}],
                    "cpl": 0, "sources": ["sdm:Vol.2B/SYSCALL", "sdm:Vol.2B/SWAPGS",
                                          "sdm:Vol.2B/SYSRET", "apm:Vol.3/SYSCALL"]})
    # Intel: SYSENTER from compatibility mode, returning with SYSRETL (Linux sysret32 path)
    kernel = ("0f01f8" "65488b242500000000" "55" "b9" + le32(0x400008) + "41bb" + le32(0x202) +
              "b8" + le32(0x55) + "5c" "0f01f8" "0f07")
    vec(name="linux-sysenter-compat-sysretl-intel", vendor="intel", mode="compat", cpl=3,
        code="89e5 0f34 90 90 90 90 cc", regs={"rflags": "0x202"},
        msrs={"sysenter_eip": "0x180000", "kernel_gs_base": "0x190000"},
        mem=PERCPU + [{"addr": "0x180000", "bytes": kernel}],
        why="Linux's entry_SYSENTER_compat returns through the SYSRETL path (sysret32_from_system_"
            "call). User (compat, like the vDSO): MOV EBP, ESP (0x410000); SYSENTER at 0x400002: CS "
            "0x10 (64-bit), SS 0x18, RIP 0x180000, RSP <- SYSENTER_ESP 0x110000, RFLAGS 0x202 -> 0x2. "
            "Kernel: SWAPGS; MOV RSP, gs:[0] (0x1a0000); PUSH RBP (0x410000 at 0x19fff8); MOV ECX, "
            "0x400008 (the INT3 after the four NOPs at 0x400004); MOV R11D, 0x202; MOV EAX, 0x55; POP "
            "RSP (0x410000); SWAPGS; SYSRETL: EIP <- ECX 0x400008, CS 0x23, SS 0x2b, RFLAGS <- R11 "
            "0x202, CPL 3. The INT3: frame RIP 0x400009, CS 0x23, RFLAGS 0x202, RSP 0x410000, SS "
            "0x2b; RSP0 delivery: RSP 0x10ffd8, RIP 0x4030.",
        expect={"end": "exception", "vector": "#BP", "error_code": "none",
                "frame": {"rip": "0x400009", "cs": "0x23", "rflags": "0x202", "rsp": "0x410000",
                          "ss": "0x2b"},
                "regs": {"rax": "0x55", "rip": "0x4030", "rsp": "0x10ffd8"},
                "mem": [{"addr": "0x19fff8", "bytes": "0000410000000000"}], "cpl": 0,
                "sources": ["sdm:Vol.2B/SYSENTER", "sdm:Vol.2B/SYSRET", "sdm:Vol.2B/SWAPGS"]})


# Judges that depart from the manual (or cannot run a vector), found with `ringcore vectors check
# --oracle qemu|bochs` and listed in docs/oracle-disagreements.md "Fast system calls and MSRs
# (issue 7 vectors)". The ones decided at generation time are in gen() (nj(...)).
Q_DF = "QEMU 7.2 TCG's SYSCALL loses DF (RFLAGS.DF = 0 after it even when SFMASK keeps DF)"
Q_VIF = ("QEMU 7.2 TCG's IRETQ into the vector does not load VIF/VIP, so the RFLAGS SYSCALL saves "
         "in R11 lacks them")
Q_VENDOR_UD = ("QEMU 7.2 TCG does not model the vendor #UD (Intel: SYSCALL/SYSRET outside 64-bit "
               "mode; AMD: SYSENTER/SYSEXIT in compatibility mode): it executes the instruction")
Q_SYSEXIT32 = ("QEMU 7.2 TCG's 32-bit SYSEXIT from 64-bit mode loads RIP/RSP from the whole RDX/RCX "
               "instead of EDX/ECX zero-extended")
Q_FSGS = ("the qemu64 model reports no FSGSBASE (CPUID.7:EBX[0] = 0): the judge's kernel cannot set "
          "CR4.FSGSBASE and the run times out; a model without the feature")
B_SYSRET_COMPAT = ("Bochs 2.7 treats SYSRET in compatibility mode (AMD, CPL 0) as legacy-mode "
                   "SYSRET: RFLAGS.IF <- 1 instead of RFLAGS <- R11")


def judge_notes(g):
    for v in g.V:
        n, fl = v["name"], int(v.get("regs", {}).get("rflags", "0x0"), 16)
        if n.startswith("syscall64-rflags-") and fl & DF and not int(
                v["msrs"]["sfmask"], 16) & DF and not fl & ~int(v["msrs"]["sfmask"], 16) & 0x8d5:
            g.not_judged(n, QEMU, Q_DF)
        if n.startswith("syscall64-rflags-") and fl & 0x180000:
            g.not_judged(n, QEMU, Q_VIF)
        if n in ("syscall-compat-cpl3-intel-ud", "syscall-compat-cpl0-intel-ud",
                 "syscall-legacy-cpl0-intel-ud", "sysret-cpl3-compat-intel-ud",
                 "sysret-cpl3-prot32-intel-ud", "sysret-compat-cpl0-intel-ud",
                 "sysenter-compat-cpl0-amd-ud", "sysexit-compat-cpl0-amd-ud"):
            g.not_judged(n, QEMU, Q_VENDOR_UD)
        if n in ("sysexit-long-cs-0x10-intel", "sysexit-long-cs-0x8-intel"):
            g.not_judged(n, QEMU, Q_SYSEXIT32)
        if v.get("regs", {}).get("cr4") == "0x10020":
            g.not_judged(n, QEMU, Q_FSGS)
        if n == "sysret-compat-cpl0-amd":
            g.not_judged(n, BOCHS["amd"], B_SYSRET_COMPAT)
        if n in ("sysenter-compat-cpl0-amd-ud", "sysexit-compat-cpl0-amd-ud"):
            g.drop(n, "no live judge: QEMU 7.2 and Bochs 2.7 both execute SYSENTER/SYSEXIT in "
                      "compatibility mode on their AMD models (APM: #UD in long mode)")


if __name__ == "__main__":
    g = Gen()
    gen(g)
    judge_notes(g)
    V = g.finish()
    for n, why in sorted(g.dropped.items()):
        print("dropped %s: %s" % (n, why[:60]), file=sys.stderr)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    write(os.path.join(root, "tests/vectors/syscall/fast3.json"),
          "SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, RD/WR FS/GS BASE, RDTSCP and Linux entry paths "
          "per vendor (issue 7), derived by hand from the SDM and APM (tools/vectors-gen/"
          "gen_fast3.py); live judges added with addsource.py", V)
    print(len(V), "vectors", file=sys.stderr)

import sys; sys.path.insert(0, "/tmp/vw/gen")
from common import *
out_dir = sys.argv[1]
# ---------------------------------------------------------------- ordinary instructions
V = []
def hv(name, mode, code, regs, why, mem=None, src="sdm:Vol.1/3.4.3", cpl=0, **kw):
    e = {"end": "hlt", "regs": regs, "sources": [src] if isinstance(src, str) else src}
    if mode in ("long", "prot32") and cpl == 0 and not kw:
        e["sources"].append("unicorn-2.0.1")  # confirmed by `vectors check --oracle unicorn`
    if mem: e["mem"] = mem
    d = {"name": name, "mode": mode, "cpl": cpl, "code": code, "why": why}; d.update(kw); d["expect"] = e; V.append(d)
hv("add-carry-zero-long", "long", "b8ffffffff 83c001 f4", {"rax": "0x0", "rflags": "0x57", "rip": "0x100009"},
   "0xffffffff + 1 = 0 with carry: CF, PF (0 has even parity), AF (carry out of bit 3), ZF: 0x1|0x4|0x10|0x40 | bit 1 = 0x57; 32-bit write zero-extends.", src="sdm:Vol.2A/ADD")
hv("add-overflow-long", "long", "b8ffffff7f 83c001 f4", {"rax": "0x80000000", "rflags": "0x896", "rip": "0x100009"},
   "0x7fffffff + 1 = 0x80000000: OF (signed overflow), SF, AF, PF (low byte 0 even), no CF, no ZF: 0x800|0x80|0x10|0x4|0x2 = 0x896.", src="sdm:Vol.2A/ADD")
hv("sub-borrow-long", "long", "b800000000 83e801 f4", {"rax": "0xffffffff", "rflags": "0x97", "rip": "0x100009"},
   "0 - 1 = 0xffffffff: CF (borrow), AF (borrow from bit 4), SF, PF (0xff: 8 ones): 0x1|0x4|0x10|0x80|0x2 = 0x97.", src="sdm:Vol.2B/SUB")
hv("mov32-zero-extends-long", "long", "48c7c0ffffffff b801000000 f4", {"rax": "0x1", "rip": "0x10000d"},
   "MOV RAX,-1 then MOV EAX,1: a 32-bit destination zero-extends into RAX (SDM Vol. 1 3.4.1.1).", src="sdm:Vol.1/3.4.1.1")
hv("mov16-merges-long", "long", "48c7c0ffffffff 66b80100 f4", {"rax": "0xffffffffffff0001", "rip": "0x10000c"},
   "A 16-bit destination leaves bits 63:16 unchanged (SDM Vol. 1 3.4.1.1).", src="sdm:Vol.1/3.4.1.1")
hv("mov8h-merges-long", "long", "48c7c0ffffffff b412 f4", {"rax": "0xffffffffffff12ff", "rip": "0x10000a"},
   "MOV AH,0x12 changes bits 15:8 only.", src="sdm:Vol.1/3.4.1.1")
hv("push-imm8-long", "long", "6aff f4", {"rsp": "0x10fff8", "rip": "0x100003"},
   "PUSH imm8 in 64-bit mode sign-extends to 64 bits and pushes 8 bytes: RSP 0x110000 - 8.", mem=[{"addr": "0x10fff8", "bytes": "ffffffffffffffff"}], src="sdm:Vol.2B/PUSH")
hv("lea-rip-relative-long", "long", "488d0500000000 f4", {"rax": "0x100007", "rip": "0x100008"},
   "LEA RAX,[RIP+0]: RIP-relative addressing uses the address of the next instruction, 0x100007.", src="sdm:Vol.2A/2.2.1.6")
hv("bswap-long", "long", "b878563412 0fc8 f4", {"rax": "0x78563412", "rip": "0x100008"}, "BSWAP EAX reverses the bytes.", src="sdm:Vol.2A/BSWAP")
hv("movsx-long", "long", "b980000000 0fbec1 f4", {"rax": "0xffffff80", "rip": "0x100009"},
   "MOVSX EAX,CL with CL = 0x80: 0xffffff80, zero-extended to RAX by the 32-bit write.", src="sdm:Vol.2B/MOVSX")
hv("cmpxchg-equal-long", "long", "b801000000 b902000000 890425 00005000 0fb10c25 00005000 f4",
   {"rax": "0x1", "rflags": "0x46", "rip": "0x10001a"},
   "CMPXCHG [0x500000],ECX with EAX = [m] = 1: equal, so [m] = ECX = 2; flags as CMP EAX,[m] (1 - 1 = 0): ZF, PF = 0x46.",
   mem=[{"addr": "0x500000", "bytes": "02000000"}], src="sdm:Vol.2A/CMPXCHG")
hv("rep-movsb-long", "long", "be00005000 bf00015000 b904000000 f3a4 f4",
   {"rcx": "0x0", "rsi": "0x500004", "rdi": "0x500104", "rip": "0x100012"},
   "REP MOVSB copies 4 bytes forward (DF = 0), RCX counts down to 0.",
   mem=[{"addr": "0x500100", "bytes": "01020304"}], src="sdm:Vol.2B/REP", **{"mem_init": None})
V[-1].pop("mem_init"); V[-1]["mem"] = [{"addr": "0x500000", "bytes": "01020304"}]
hv("loop-long", "long", "b903000000 b800000000 83c002 e2fb f4", {"rax": "0x6", "rcx": "0x0", "rflags": "0x6", "rip": "0x100010"},
   "LOOP runs the ADD EAX,2 three times: 6; the last ADD (4 + 2) sets PF (0b110 has two ones), no AF, no CF.", src="sdm:Vol.2A/LOOP")
hv("call-ret-near-long", "long", "e801000000 f4 c3", {"rsp": "0x110000", "rip": "0x100006"},
   "CALL +1 pushes 0x100005 and jumps to the RET at 0x100006, which returns to the HLT at 0x100005.",
   mem=[{"addr": "0x10fff8", "bytes": "0500100000000000"}], src="sdm:Vol.2A/CALL")
hv("rex-ignored-before-hlt-long", "long", "b8ffffffff 40 f4", {"rax": "0xffffffff", "rip": "0x100007"},
   "In 64-bit mode 0x40 is a REX prefix (of the HLT): EAX stays 0xffffffff.", src="sdm:Vol.2A/2.2.1")
hv("inc-40-compat", "compat", "b8ffffffff 40 f4", {"rax": "0x0", "rflags": "0x56", "rip": "0x100007"},
   "In compatibility mode 0x40 is INC EAX: 0xffffffff + 1 = 0; INC leaves CF alone (0) and sets ZF, PF, AF: 0x56.", src="sdm:Vol.2A/INC")
hv("pushad-prot32", "prot32", "b811000000 60 f4", {"esp": "0x10ffe0", "eip": "0x100007"},
   "PUSHAD pushes EAX, ECX, EDX, EBX, the original ESP (0x110000), EBP, ESI, EDI: 32 bytes; from 0x10ffe0 up: EDI, ESI, EBP, ESP, EBX, EDX, ECX, EAX = 0x11.",
   mem=[{"addr": "0x10ffe0", "bytes": "00000000 00000000 00000000 00001100 00000000 00000000 00000000 11000000"}], src="sdm:Vol.2B/PUSHA")
hv("add16-carry-prot16", "prot16", "b8ffff 050100 f4", {"ax": "0x0", "eflags": "0x57", "eip": "0x7"},
   "16-bit code: 0xffff + 1 = 0: CF, PF, AF, ZF = 0x57; IP = 7 (CS.base 0x100000).", src="sdm:Vol.2A/ADD")
hv("add-real", "real", "b83412 050100 f4", {"ax": "0x1235", "eflags": "0x6", "eip": "0x7c07"},
   "Real mode: 0x1234 + 1 = 0x1235, low byte 0x35 has 4 ones: PF.", src="sdm:Vol.2A/ADD")
hv("segment-store-real", "real", "b80050 8ed8 c606100042 f4", {"eip": "0x7c0b"},
   "Real mode: DS = 0x5000, so [0x10] is linear 0x50010 (base = selector * 16).",
   mem=[{"addr": "0x50010", "bytes": "42"}], src="sdm:Vol.3A/21.1.1")
write(out_dir + "/ordinary/hand.json", V); n = len(V)

# ---------------------------------------------------------------- real mode events
V = []
def real_ev(name, code, vec, ip, kind="exception", flags=0x2, why="", regs=None):
    e = {"end": kind, "vector": vec}
    if kind == "exception": e["error_code"] = "none"
    e["frame"] = {"rip": H(ip), "cs": "0x0", "rflags": H(flags)}
    e["regs"] = {"ip": H(0x4000 + 16 * vec), "sp": "0x7bfa"}
    e["mem"] = [{"addr": "0x7bfa", "bytes": "%02x%02x 0000 %02x%02x" % (ip & 0xff, ip >> 8, flags & 0xff, flags >> 8)}]
    e["sources"] = ["sdm:Vol.3A/21.1.4"]
    d = {"name": name, "mode": "real", "code": code, "why": why + " Real-mode delivery (SDM Vol. 3A 21.1.4): FLAGS, CS, IP pushed as words on SS:SP = 0:0x7c00 (SP = 0x7bfa), no error code, CS:IP from IVT entry = 0:0x4000 + 16v."}
    if regs: d["regs"] = regs
    d["expect"] = e; V.append(d)
real_ev("int10-real", "cd10", 0x10, 0x7c02, kind="int", why="INT 0x10: software interrupt, return IP = next (0x7c02).")
real_ev("int3-real", "cc", 3, 0x7c01, why="INT3: #BP trap, return IP 0x7c01.")
real_ev("div-zero-real", "b90000 f7f1", 0, 0x7c03, why="MOV CX,0; DIV CX: #DE fault at the DIV (IP 0x7c03); the 16-bit FLAGS image has no RF.")
real_ev("ud2-real", "0f0b", 6, 0x7c00, why="UD2: #UD at 0x7c00.")
real_ev("into-real", "ce", 4, 0x7c01, flags=0x802, why="INTO with OF = 1: #OF trap.", regs={"flags": "0x802"})
real_ev("word-at-ffff-real", "a1ffff", 13, 0x7c00, why="MOV AX,[0xffff]: the word's second byte is past the 0xffff limit: #GP (SDM Vol. 3A 21.1.3), no error code in real mode.")
write(out_dir + "/real/events.json", V); n += len(V)

# ---------------------------------------------------------------- fast system calls (issue 7)
V = []
NI = lambda what: "%s is not implemented yet (fast system calls are issue 7)" % what
def sv(name, mode, cpl, code, expect, why, vendor="intel", **kw):
    d = {"name": name, "vendor": vendor, "mode": mode, "cpl": cpl, "code": code, "why": why}
    d.update(kw); d["expect"] = expect; V.append(d)
sv("syscall-cpl3-long", "long", 3, "0f05",
   {"end": "hlt", "regs": {"rip": "0x5001", "rcx": "0x400002", "r11": "0x246", "rflags": "0x46", "rsp": "0x410000"},
    "segs": {"cs": "0x10", "ss": "0x18"}, "cpl": 0, "sources": ["sdm:Vol.2B/SYSCALL"]},
   "SYSCALL: RCX = next RIP 0x400002, R11 = RFLAGS 0x246, RFLAGS &= ~SFMASK (0x47700 clears IF) = 0x46, CS = STAR[47:32] = 0x10, SS = 0x18, RIP = LSTAR 0x5000; the HLT there ends the run (RIP 0x5001). RSP unchanged.",
   regs={"rflags": "0x246"}, known_bug=NI("SYSCALL"))
sv("syscall-compat-intel-ud", "compat", 3, "0f05", delivered("compat", 3, 6, 0x400000, sources=["sdm:Vol.2B/SYSCALL"]),
   "Intel: SYSCALL outside 64-bit mode (CS.L = 0) is #UD.", known_bug=NI("SYSCALL"))
sv("syscall-compat-amd-cstar", "compat", 3, "0f05",
   {"end": "hlt", "regs": {"rip": "0x5011", "rcx": "0x400002", "r11": "0x2"}, "segs": {"cs": "0x10", "ss": "0x18"}, "cpl": 0,
    "sources": ["apm:Vol.3/SYSCALL"]},
   "AMD: SYSCALL from compatibility mode enters 64-bit mode at CSTAR = 0x5010; ECX = next EIP 0x400002, R11 = RFLAGS 0x2.", vendor="amd", known_bug=NI("SYSCALL"))
sv("sysenter-cpl3-prot32", "prot32", 3, "0f34",
   {"end": "hlt", "regs": {"eip": "0x5031", "esp": "0x110000"}, "segs": {"cs": "0x10", "ss": "0x18"}, "cpl": 0,
    "sources": ["sdm:Vol.2B/SYSENTER"]},
   "SYSENTER: CS = SYSENTER_CS 0x10, SS = 0x18, EIP = SYSENTER_EIP 0x5030, ESP = SYSENTER_ESP 0x110000; HLT at 0x5030.", known_bug=NI("SYSENTER"))
sv("sysenter-long-amd-ud", "long", 3, "0f34", delivered("long", 3, 6, 0x400000, sources=["apm:Vol.3/SYSENTER"]),
   "AMD: SYSENTER in long mode is #UD.", vendor="amd", known_bug=NI("SYSENTER"))
write(out_dir + "/syscall/fast.json", V); n += len(V)
print(n)

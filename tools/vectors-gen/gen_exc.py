import sys; sys.path.insert(0, "/tmp/vw/gen")
from common import *
OUT = sys.argv[1]
V = []
def vec(name, mode, cpl, code, expect, why, **kw):
    d = {"name": name, "mode": mode, "cpl": cpl, "code": code, "why": why}
    d.update(kw); d["expect"] = expect; V.append(d)

# --- HLT at CPL > 0: #GP(0) (SDM Vol. 2A HLT: "#GP(0) If the current privilege level is not 0")
for mode in ("long", "compat", "prot32", "prot16"):
    for cpl in (3, 1) if mode in ("long", "prot32") else (3,):
        r = start_rip(mode, cpl)
        vec("hlt-cpl%d-%s" % (cpl, mode), mode, cpl, "f4",
            delivered(mode, cpl, 13, r, err=0, sources=["sdm:Vol.2A/HLT", "sdm:Vol.3A/6.12.1" if mode in ("prot32", "prot16") else "sdm:Vol.3A/6.14.2"]),
            "HLT at CPL %d is privileged: #GP(0), a fault (frame RIP = the HLT, RF = 1 in the pushed RFLAGS), delivered through the DPL-0 interrupt gate 13 onto the ring-0 stack RSP0/ESP0 = 0x110000." % cpl)

# --- INT3 from CPL 3: #BP trap through the DPL-3 gate (SDM Vol. 2A INT3; 6.12.1 / 6.14.2)
for mode in ("long", "compat", "prot32", "prot16"):
    r = start_rip(mode, 3)
    vec("int3-cpl3-%s" % mode, mode, 3, "cc",
        delivered(mode, 3, 3, r + 1, trap=True, sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1", "sdm:Vol.3A/6.12.1"]),
        "INT3 raises #BP, a trap: the pushed return address is the next instruction (code + 1), no error code, RF not set. Gate 3 has DPL 3, so CPL 3 may use it; the stack switches to RSP0/ESP0 = 0x110000.")
vec("int3-cpl0-long", "long", 0, "cc", delivered("long", 0, 3, 0x100001, trap=True, sources=["sdm:Vol.3A/6.14.2"]),
    "INT3 at CPL 0 in 64-bit mode: no privilege change, but IA-32e delivery still pushes SS:RSP (the old 0x18:0x110000) on the 16-byte-aligned current stack: 0x110000 - 40.")
vec("int3-cpl0-prot32", "prot32", 0, "cc", delivered("prot32", 0, 3, 0x100001, trap=True, sources=["sdm:Vol.3A/6.12.1"]),
    "INT3 at CPL 0 in legacy protected mode: no stack switch, EFLAGS, CS, EIP pushed (12 bytes) on ESP 0x110000.")

# --- INTO (SDM Vol. 2A INTO: #OF trap if OF = 1; #UD in 64-bit mode)
vec("into-of1-cpl3-prot32", "prot32", 3, "ce",
    delivered("prot32", 3, 4, 0x400001, rflags=0x802, trap=True, sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1"]),
    "INTO with OF = 1 raises #OF as a trap through the DPL-3 gate 4: return address = next instruction; pushed EFLAGS = 0x802 (OF).", regs={"eflags": "0x802"})
vec("into-of0-cpl3-prot32", "prot32", 3, "ce cc",
    delivered("prot32", 3, 3, 0x400002, trap=True, sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1"]),
    "INTO with OF = 0 does nothing; the INT3 after it ends the run with #BP (return address 0x400002).")
vec("into-long-ud", "long", 3, "ce",
    delivered("long", 3, 6, 0x400000, sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1"]),
    "INTO (CE) is invalid in 64-bit mode: #UD, a fault without an error code.")

# --- INT n
vec("int80-cpl3-long", "long", 3, "cd80",
    delivered("long", 3, 0x80, 0x400002, trap=True, kind="int", sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1"]),
    "INT 0x80 through the DPL-3 gate: a software interrupt, return address = next instruction, no error code, RF clear.")
vec("int80-cpl3-prot32", "prot32", 3, "cd80",
    delivered("prot32", 3, 0x80, 0x400002, trap=True, kind="int", sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1"]),
    "INT 0x80 through the DPL-3 32-bit interrupt gate from CPL 3: stack switch to 0x18:0x110000, 5 dwords pushed.")
vec("int80-cpl0-long", "long", 0, "cd80",
    delivered("long", 0, 0x80, 0x100002, trap=True, kind="int", sources=["sdm:Vol.3A/6.14.2"]),
    "INT 0x80 at CPL 0: same-privilege 64-bit delivery, SS:RSP still pushed.")
NATIVE = "native:AuthenticAMD-25-1"
PROBE_NJ = [{"source": NATIVE, "fields": ["expect.regs", "expect.segs", "expect.cpl", "expect.frame.rip", "expect.frame.cs", "expect.frame.rsp", "expect.frame.ss"],
             "why": "confirmed by a standalone ring-3 probe in a Linux process (int $n, ucontext REG_TRAPNO/REG_ERR/REG_EFL): vector, error code and the pushed RFLAGS (RF = 1) only; the addresses there are the process's and the delivery side is the kernel's"}]
IA32E_BUG = "IA-32e delivery computes the IDT error code as vector*16+2 (the 16-byte gate offset) instead of vector*8+2; the host CPU reports 0x10a for int 0x21"
for n, mode in ((0x21, "long"), (0x0d, "long"), (0x40, "long"), (0x21, "prot32"), (0x40, "compat"), (0x0e, "prot16")):
    r = start_rip(mode, 3)
    e = delivered(mode, 3, 13, r, err=n * 8 + 2, sources=["sdm:Vol.2A/INT n-INTO-INT3-INT1", "sdm:Vol.3A/6.13"])
    kw = {}
    if mode == "long":
        e["sources"].append(NATIVE)
        e["not_judged"] = PROBE_NJ
    if mode in ("long", "compat"):
        kw["known_bug"] = IA32E_BUG
    vec("int%02x-dpl0-cpl3-%s" % (n, mode), mode, 3, "cd%02x" % n, e,
        "INT 0x%x at CPL 3 through a DPL-0 gate: #GP with error code vector*8 + 2 (the selector-format error code names IDT entry 0x%x with the IDT bit; SDM 6.13, also in IA-32e mode) = 0x%x, a fault at the INT." % (n, n, n * 8 + 2), **kw)

# --- #DE (SDM Vol. 2A DIV/IDIV: #DE if the divisor is 0 or the quotient too large)
vec("div-zero-cpl3-long", "long", 3, "b900000000 f7f1",
    delivered("long", 3, 0, 0x400005, sources=["sdm:Vol.2A/DIV"]),
    "mov ecx,0; div ecx: divide by zero, #DE fault at the DIV (0x400005).")
vec("div-overflow-cpl3-long", "long", 3, "ba01000000 b901000000 f7f1",
    delivered("long", 3, 0, 0x40000a, sources=["sdm:Vol.2A/DIV"]),
    "EDX:EAX = 0x1_0000_0000 / 1: the quotient does not fit in 32 bits, #DE at the DIV (0x40000a).")
vec("idiv-min-cpl3-prot32", "prot32", 3, "b800000080 99 b9ffffffff f7f9",
    delivered("prot32", 3, 0, 0x40000b, sources=["sdm:Vol.2A/IDIV"]),
    "EAX = 0x80000000, CDQ, ECX = -1, IDIV ECX: +2^31 does not fit a signed dword: #DE at the IDIV (0x40000b).")
vec("div8-zero-cpl0-prot16", "prot16", 0, "b300 f6f3",
    delivered("prot16", 0, 0, 0x2, sources=["sdm:Vol.2A/DIV"]),
    "16-bit code at CPL 0: mov bl,0; div bl: #DE at IP 2 (CS 0xb0, base 0x100000). Same privilege: FLAGS, CS, IP pushed as dwords through the 32-bit gate on SS:ESP = 0xb8:0.",
    )

# --- #UD
vec("ud2-cpl3-long", "long", 3, "0f0b", delivered("long", 3, 6, 0x400000, sources=["sdm:Vol.2A/UD"]),
    "UD2 always raises #UD (a fault, no error code).")
vec("ud2-cpl0-prot32", "prot32", 0, "0f0b", delivered("prot32", 0, 6, 0x100000, sources=["sdm:Vol.2A/UD"]),
    "UD2 at CPL 0: #UD, same-privilege legacy frame.")
for name, mode, code in (("lock-nop-long", "long", "f090"), ("lock-mov-prot32", "prot32", "f089c0"),
                         ("lock-add-reg-long", "long", "f001c0"), ("lock-inc-reg-compat", "compat", "f0ffc0"),
                         ("lock-lea-prot16", "prot16", "f08d00")):
    r = start_rip(mode, 3)
    vec(name + "-cpl3", mode, 3, code, delivered(mode, 3, 6, r, sources=["sdm:Vol.2A/LOCK"]),
        "LOCK is only valid with a memory destination of ADD, ADC, AND, BTC, BTR, BTS, CMPXCHG, CMPXCH8B, CMPXCHG16B, DEC, INC, NEG, NOT, OR, SBB, SUB, XOR, XADD, XCHG: otherwise #UD at the instruction.")

# --- the 15-byte limit (SDM Vol. 2A 2.3.11: #GP(0) when an instruction exceeds 15 bytes)
vec("len15-ok-long", "long", 0, "66" * 14 + "90" + "f4",
    {"end": "hlt", "regs": {"rip": "0x100010"}, "sources": ["sdm:Vol.2A/2.3.11", "unicorn-2.0.1"]},
    "14 operand-size prefixes + NOP = 15 bytes: legal; then HLT at 0x10000f, RIP after it 0x100010.")
vec("len16-gp-long", "long", 0, "66" * 15 + "90",
    delivered("long", 0, 13, 0x100000, err=0, sources=["sdm:Vol.2A/2.3.11"]),
    "15 prefixes + NOP = 16 bytes: more than 15, #GP(0) at the first prefix.")
vec("len16-gp-cpl3-prot32", "prot32", 3, "2e" * 15 + "90",
    delivered("prot32", 3, 13, 0x400000, err=0, sources=["sdm:Vol.2A/2.3.11"]),
    "15 CS-override prefixes + NOP = 16 bytes at CPL 3: #GP(0).")
vec("len16-gp-mov-long", "long", 3, "f3" * 5 + "66" * 4 + "48c7c0" + "00000000" + "cc",
    delivered("long", 3, 13, 0x400000, err=0, sources=["sdm:Vol.2A/2.3.11"]),
    "9 prefixes + REX.W C7 /0 imm32 (7 bytes) = 16 bytes: #GP(0).")

# --- privileged instructions at CPL 3: #GP(0) (each SDM Vol. 2 entry: "#GP(0) If the CPL is greater than 0")
priv = [("mov-cr0-write", "0f22c0", "MOV CR0,RAX"), ("mov-cr0-read", "0f20c0", "MOV RAX,CR0"),
        ("mov-cr3-read", "0f20d8", "MOV RAX,CR3"), ("mov-dr7-write", "0f23f8", "MOV DR7,RAX"),
        ("lgdt", "0f0110", "LGDT"), ("lidt", "0f0118", "LIDT"), ("lldt", "0f00d0", "LLDT"),
        ("ltr", "0f00d8", "LTR"), ("lmsw", "0f01f0", "LMSW"), ("clts", "0f06", "CLTS"),
        ("invd", "0f08", "INVD"), ("wbinvd", "0f09", "WBINVD"), ("invlpg", "0f0138", "INVLPG"),
        ("rdmsr", "0f32", "RDMSR"), ("wrmsr", "0f30", "WRMSR"), ("swapgs", "0f01f8", "SWAPGS"),
        ("sysret", "0f07", "SYSRET"), ("sysexit", "0f35", "SYSEXIT"), ("rdpmc", "0f33", "RDPMC (CR4.PCE = 0)"),
        ("cli", "fa", "CLI (IOPL 0 < CPL)"), ("sti", "fb", "STI (IOPL 0 < CPL)"),
        ("in-dx", "ec", "IN AL,DX (IOPL 0 < CPL, no I/O bitmap)"), ("out-dx", "ee", "OUT DX,AL"),
        ("in-imm", "e460", "IN AL,0x60"), ("insb", "6c", "INSB"), ("outsb", "6e", "OUTSB")]
for name, code, what in priv:
    kw = {"known_bug": "%s is not implemented yet (fast system calls are issue 7)" % name.upper()} if name in ("sysret", "sysexit") else {}
    vec("priv-%s-cpl3-long" % name, "long", 3, code, **kw, expect=
        delivered("long", 3, 13, 0x400000, err=0, sources=["sdm:Vol.2A-2B/" + what.split()[0]]),
        why="%s at CPL 3: #GP(0) fault." % what)
for name, code, what in priv[:6] + [("cli", "fa", "CLI"), ("in-dx", "ec", "IN"), ("rdmsr", "0f32", "RDMSR")]:
    vec("priv-%s-cpl3-prot32" % name, "prot32", 3, code.replace("0f0110", "0f0110").replace("0f0118", "0f0118"),
        delivered("prot32", 3, 13, 0x400000, err=0, sources=["sdm:Vol.2A-2B/" + what.split()[0]]),
        "%s at CPL 3 in legacy protected mode: #GP(0)." % what)
vec("priv-hlt-cpl2-long", "long", 2, "f4", delivered("long", 2, 13, 0x300000, err=0, sources=["sdm:Vol.2A/HLT"]),
    "HLT at CPL 2: #GP(0); frame CS 0xa2, SS:RSP 0xaa:0x310000.")
vec("cli-iopl3-cpl3-prot32", "prot32", 3, "fa cc",
    delivered("prot32", 3, 3, 0x400002, rflags=0x3002, trap=True, sources=["sdm:Vol.2A/CLI"]),
    "CLI at CPL 3 with IOPL 3 is allowed (IF was 0 anyway); the INT3 after it ends the run. Pushed EFLAGS 0x3002 (IOPL 3).", regs={"eflags": "0x3002"})

write(OUT, V)
print(len(V))

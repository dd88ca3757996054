import sys; sys.path.insert(0, "/tmp/vw/gen")
from common import *
V = []
def vec(name, mode, cpl, code, expect, why, **kw):
    d = {"name": name, "mode": mode, "cpl": cpl, "code": code, "why": why}
    d.update(kw); d["expect"] = expect; V.append(d)
SRC = ["sdm:Vol.3A/4.7", "sdm:Vol.3A/6.15-PF"]
def pf(mode, cpl, rip, err, cr2, **kw):
    e = delivered(mode, cpl, 14, rip, err=err, sources=list(SRC)); e["cr2"] = H(cr2); return e
le32 = lambda v: "".join("%02x" % ((v >> (8 * i)) & 0xff) for i in range(4))
# long mode: mov eax,[disp32] = 8b 04 25 disp32 ; mov [disp32],eax = 89 04 25 disp32
for cpl in (3, 0):
    r = region(cpl)
    for addr, what, base_err in ((0x1000000, "unmapped (PDE not present)", 0), (0x0, "page 0 (PTE not present)", 0),
                                 (0x100000, "supervisor page", 1), (0x500000, "user page", 1)):
        if cpl == 0 and base_err == 1: continue  # CPL 0 may read/write both: no fault
        us = 4 if cpl == 3 else 0
        for op, code, w in (("read", "8b0425", 0), ("write", "890425", 2)):
            if base_err == 1 and what == "user page": continue
            vec("pf-%s-%s-cpl%d-long-%x" % (op, what.split()[0], cpl, addr), "long", cpl, code + le32(addr),
                pf("long", cpl, r, base_err | w | us, addr),
                "CPL %d %s of %s at 0x%x: #PF, error code P=%d W/R=%d U/S=%d = 0x%x, CR2 = the address." %
                (cpl, op, what, addr, base_err, w >> 1, us >> 2, base_err | w | us))
# read-only user page (R/W = 0 in the PTE)
vec("pf-write-ro-user-cpl3-long", "long", 3, "890425" + le32(0x500000),
    pf("long", 3, 0x400000, 7, 0x500000), "PTE of 0x500000 with R/W = 0: a CPL-3 write faults with P=1 W=1 U=1 = 0x7.",
    pages=[{"addr": "0x500000", "rw": False}])
vec("pf-read-ro-user-cpl3-long-ok", "long", 3, "8b0425" + le32(0x500000) + "cc",
    dict(delivered("long", 3, 3, 0x400008, trap=True, sources=["sdm:Vol.3A/4.6"]), regs={"rip": "0x4030", "rsp": "0x10ffd8", "rax": "0x0"}),
    "Reading a read-only user page at CPL 3 is allowed (the page holds zeros); the INT3 after it ends the run.",
    pages=[{"addr": "0x500000", "rw": False}])
vec("pf-write-ro-user-cpl0-wp-long", "long", 0, "890425" + le32(0x500000),
    pf("long", 0, 0x100000, 3, 0x500000), "CR0.WP = 1: a supervisor write to a read-only page faults: P=1 W=1 U=0 = 0x3.",
    pages=[{"addr": "0x500000", "rw": False}])
vec("pf-write-ro-user-cpl0-nowp-long", "long", 0, "890425" + le32(0x500000) + "f4",
    {"end": "hlt", "regs": {"rip": "0x100008"}, "mem": [{"addr": "0x500000", "bytes": "00000000"}], "sources": ["sdm:Vol.3A/4.6"]},
    "CR0.WP = 0: supervisor writes ignore R/W (SDM 4.6.1), so the store succeeds and HLT ends the run.",
    pages=[{"addr": "0x500000", "rw": False}], regs={"cr0": "0x80000033"})
vec("pf-not-present-leaf-cpl3-long", "long", 3, "8b0425" + le32(0x500000),
    pf("long", 3, 0x400000, 4, 0x500000), "PTE P = 0: read at CPL 3, error code U=1 = 0x4.",
    pages=[{"addr": "0x500000", "p": False}])
# fetches
vec("pf-fetch-nx-cpl3-long", "long", 3, "b800005000 ffe0",
    pf("long", 3, 0x500000, 0x15, 0x500000), "jmp to an XD page (EFER.NXE = 1): #PF on the fetch, P=1 U=1 I/D=1 = 0x15; the frame RIP is the target 0x500000.",
    pages=[{"addr": "0x500000", "nx": True}])
vec("pf-fetch-supervisor-cpl3-long", "long", 3, "b800001000 ffe0",
    pf("long", 3, 0x100000, 0x15, 0x100000), "jmp to a supervisor page from CPL 3: P=1 U=1 I/D=1 (NXE = 1, so I/D is reported) = 0x15.")
vec("pf-fetch-unmapped-cpl3-long", "long", 3, "b800000001 ffe0",
    pf("long", 3, 0x1000000, 0x14, 0x1000000), "jmp to 16 MiB (not present): P=0 U=1 I/D=1 = 0x14.")
vec("pf-fetch-nx-cpl0-long", "long", 0, "b800005000 ffe0",
    pf("long", 0, 0x500000, 0x11, 0x500000), "CPL 0 fetch from an XD page: P=1 I/D=1 = 0x11.",
    pages=[{"addr": "0x500000", "nx": True}])
e = delivered("long", 3, 14, 0x406000, rflags=0x82, err=0x14, sources=list(SRC)); e["cr2"] = "0x406000"
vec("pf-fetch-next-page-cpl3-long", "long", 3, "b8fe5f4000 ffe0", e,
    "mov eax,0x405ffe; jmp rax. The bytes at 0x405ffe are 00 00 (zeroed RAM): ADD [RAX],AL, 2 bytes, adds AL = 0xfe to the byte 0x00 at 0x405ffe: 0xfe, SF = 1, PF = 0 (7 bits set), ZF = CF = OF = AF = 0, RFLAGS = 0x82. The next fetch at 0x406000 (PTE P = 0) faults: P=0 U=1 I/D=1 = 0x14, CR2 = 0x406000, frame RIP = 0x406000, pushed RFLAGS 0x82 | RF.",
    pages=[{"addr": "0x406000", "p": False}])
# prot32: 32-bit paging: no I/D bit without PAE/NXE
vec("pf-read-supervisor-cpl3-prot32", "prot32", 3, "a1" + le32(0x100000),
    pf("prot32", 3, 0x400000, 5, 0x100000), "32-bit paging, CPL-3 read of a supervisor page: P=1 U=1 = 0x5.")
vec("pf-write-unmapped-cpl3-prot32", "prot32", 3, "a3" + le32(0x1000000),
    pf("prot32", 3, 0x400000, 6, 0x1000000), "32-bit paging, write beyond 16 MiB (PDE 4 not present): W=1 U=1 = 0x6.")
vec("pf-fetch-supervisor-cpl3-prot32", "prot32", 3, "b800001000 ffe0",
    pf("prot32", 3, 0x100000, 5, 0x100000), "32-bit paging: a fetch is not flagged (I/D is reported only with PAE + NXE or SMEP), so P=1 U=1 = 0x5.")
vec("pf-read-page0-cpl0-prot32", "prot32", 0, "a1" + le32(0),
    pf("prot32", 0, 0x100000, 0, 0), "CPL-0 read of page 0 (PTE not present): error code 0, CR2 = 0.")
vec("pf-write-ro-cpl3-compat", "compat", 3, "a3" + le32(0x500000),
    pf("compat", 3, 0x400000, 7, 0x500000), "compatibility mode uses 4-level paging: write to a read-only user page, 0x7.",
    pages=[{"addr": "0x500000", "rw": False}])
vec("pf-push-stack-unmapped-cpl3-long", "long", 3, "50",
    pf("long", 3, 0x400000, 6, 0xfffff8, rsp=0x1000000) if False else dict(pf("long", 3, 0x400000, 6, 0xfffff8)),
    "placeholder")
V.pop()
e = delivered("long", 3, 14, 0x400000, err=6, rsp=0x1000008, sources=list(SRC)); e["cr2"] = "0x1000000"
vec("pf-push-unmapped-cpl3-long", "long", 3, "50", e,
    "RSP = 0x1000008: PUSH RAX writes 8 bytes at 0x1000000, not present: #PF W=1 U=1 = 0x6, CR2 = 0x1000000; the pushed RSP is the unchanged 0x1000008.",
    regs={"rsp": "0x1000008"})
write(sys.argv[1], V); print(len(V))

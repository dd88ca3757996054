# Inputs for `ringcore vectors record --oracle unicorn`: ordinary instructions on
# chosen values, flat code at CPL 0, ending with HLT. No expectation here: Unicorn fills it.
import sys, json, os
out = sys.argv[1]
V = []
VALS = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff,
        0x8000000000000000, 0xffffffffffffffff, 0x123456789abcdef0, 0x0fedcba987654321]
PAIRS = [(0, 0), (0x7f, 1), (0x80, 0xff), (0x7fffffff, 0x80000000),
         (0x8000000000000000, 0xffffffffffffffff), (0x123456789abcdef0, 0x0fedcba987654321)]
def mask(sz): return (1 << sz) - 1
def pre(sz, long):
    p = ""
    if sz == 16: p = "66"
    if sz == 64: p = "48"
    return p
# flags-defined ops: (name, opcode8, opcode, modrm) reg-reg forms op eax/al, ecx/cl
ALU = [("add", "00", "01"), ("adc", "10", "11"), ("sub", "28", "29"), ("sbb", "18", "19"), ("cmp", "38", "39")]
LOGIC = [("and", "20", "21"), ("or", "08", "09"), ("xor", "30", "31"), ("test", "84", "85")]
UNARY = [("neg", "f6", "f7", "d8"), ("inc", "fe", "ff", "c0"), ("dec", "fe", "ff", "c8"), ("not", "f6", "f7", "d0")]
MULDIV = [("mul", "e1"), ("imul1", "e9"), ("div", "f1"), ("idiv", "f9")]
SHIFTS = [("shl", "e0"), ("shr", "e8"), ("sar", "f8"), ("rol", "c0"), ("ror", "c8"), ("rcl", "d0"), ("rcr", "d8")]
def vec(name, mode, regs, code, area="unicorn"):
    V.append({"name": name, "mode": mode, "code": code + " f4", "regs": regs,
              "why": "ordinary instruction, flat code at CPL 0; expectation recorded from Unicorn"})
def fix_flags(long):  # SUB r15,r15 / SUB EBP,EBP: makes every status flag defined (ZF PF set)
    return "4d29ff" if long else "29ed"
for mode, long in (("long", True), ("prot32", False)):
    sizes = (8, 16, 32, 64) if long else (8, 16, 32)
    ra, rc = ("rax", "rcx") if long else ("eax", "ecx")
    for cf in (0, 1):
        for name, op8, op in ALU:
            if cf and name not in ("adc", "sbb"): continue
            for sz in sizes:
                for a, b in PAIRS:
                    a &= mask(64 if long else 32); b &= mask(64 if long else 32)
                    code = (op8 if sz == 8 else pre(sz, long) + op) + "c8"
                    vec("%s%d-%x-%x-cf%d-%s" % (name, sz, a, b, cf, mode), mode,
                        {ra: hex(a), rc: hex(b), "rflags": hex(0x2 | cf)}, code)
    for name, op8, op in LOGIC:
        for sz in sizes:
            for a, b in PAIRS[1:5]:
                a &= mask(64 if long else 32); b &= mask(64 if long else 32)
                code = (op8 if sz == 8 else pre(sz, long) + op) + "c8 " + fix_flags(long)
                vec("%s%d-%x-%x-%s" % (name, sz, a, b, mode), mode, {ra: hex(a), rc: hex(b)}, code)
    for name, op8, op, m in UNARY:
        for sz in sizes:
            for a in (0, 1, 0x7f, 0x80, 0x7fffffff, 0xffffffff, 0x8000000000000000 if long else 0x8000):
                code = (op8 if sz == 8 else pre(sz, long) + op) + m
                vec("%s%d-%x-%s" % (name, sz, a, mode), mode, {ra: hex(a)}, code)
    for name, m in MULDIV:
        for sz in sizes:
            for a, b in ((7, 6), (0xffff, 0xffff), (0x80000000, 2), (0x12345678, 0x9abc), (0xfffffffe, 0xffffffff), (100, 7)):
                n = mask(sz)
                aa, bb = a & n, b & n
                if bb == 0: continue
                if name in ("div", "idiv"):
                    def sgn(x): return x - (1 << sz) if x >> (sz - 1) else x
                    if name == "div":
                        q = aa // bb
                        if sz == 8: q = (aa & 0xffff) // bb  # AX / r8
                        if q > n: continue
                    else:
                        num = sgn(aa) if sz != 8 else ((aa & 0xffff) - (1 << 16) if (aa & 0x8000) else aa & 0xffff)
                        # dividend is rDX:rAX with rDX = 0 for sz > 8: positive aa
                        if sz != 8: num = aa
                        d = sgn(bb); q = abs(num) // abs(d) * (1 if (num < 0) == (d < 0) else -1)
                        if not (-(1 << (sz - 1)) <= q < (1 << (sz - 1))): continue
                code = ("f6" if sz == 8 else pre(sz, long) + "f7") + m + " " + fix_flags(long)
                vec("%s%d-%x-%x-%s" % (name, sz, a, b, mode), mode, {ra: hex(a), rc: hex(b), ("rdx" if long else "edx"): "0x0"}, code)
    for name, m in SHIFTS:
        for sz in sizes:
            for a, cnt in ((0x81, 1), (0x80000001, 1), (0x12345678, 4), (0xffff, 0), (0x8000000000000001 if long else 0x8001, 63 if long else 31), (0x55, 9)):
                code = ("d2" if sz == 8 else pre(sz, long) + "d3") + m + " " + fix_flags(long)
                vec("%s%d-%x-c%d-%s" % (name, sz, a, cnt, mode), mode, {ra: hex(a), rc: hex(cnt)}, code)
    # moves and friends (no flags): movzx/movsx/bswap/xchg/cbw.. /cmov/setcc/lea/bsf/bsr/xadd/cmpxchg/imul r,r/shld/shrd
    for a in (0x80, 0x8000, 0xffffffff):
        for nm, code in (("movzx8", "0fb6c1"), ("movzx16", "0fb7c1"), ("movsx8", "0fbec1"), ("movsx16", "0fbfc1"),
                         ("bswap", "0fc9"), ("xchg", "87c1"), ("cwde", "98"), ("cdq", "99"), ("cbw", "6698"),
                         ("lea", "8d0449" if True else ""), ("bsf", "0fbcc1 " + fix_flags(long)), ("bsr", "0fbdc1 " + fix_flags(long)),
                         ("xadd", "0fc1c8"), ("cmpxchg", "0fb1c8"), ("imul2", "0fafc1 " + fix_flags(long)),
                         ("shld", "0fa5c8 " + fix_flags(long)), ("shrd", "0fadc8 " + fix_flags(long))):
            regs = {ra: hex(0x1111), rc: hex(a)}
            if nm in ("shld", "shrd"): regs[rc] = hex(a & ~0xff | 5)
            if nm in ("bsf", "bsr") and a == 0: continue
            vec("%s-%x-%s" % (nm, a, mode), mode, regs, code)
        for cc in range(16) if a != 0x8000 else ():
            vec("setcc%x-cmp-%x-%s" % (cc, a, mode), mode, {ra: hex(0x1234), rc: hex(a)}, "39c8 0f9%xc0" % cc)
            vec("cmovcc%x-cmp-%x-%s" % (cc, a, mode), mode, {ra: hex(0x1234), rc: hex(a)}, "39c8 0f4%xc1" % cc)
    if long:
        for a in (0x80000000, 0x7fffffff):
            vec("cdqe-%x-long" % a, mode, {"rax": hex(a)}, "4898")
            vec("cqo-%x-long" % a, mode, {"rax": hex(a << 32)}, "4899")
    # stack and memory
    vec("push-pop-%s" % mode, mode, {ra: "0x1234"}, "50 5b")
    vec("call-ret-%s" % mode, mode, {}, "e801000000 f4 c3")
    vec("enter-leave-%s" % mode, mode, {}, "c8100000 c9")
    vec("stosb-rep-%s" % mode, mode, {("rdi" if long else "edi"): "0x500000", rc: "0x10", ra: "0x41"}, "f3aa")
    vec("movsd-rep-%s" % mode, mode, {("rsi" if long else "esi"): "0x500000", ("rdi" if long else "edi"): "0x500100", rc: "0x3"}, "f3a5")
    vec("std-stosw-%s" % mode, mode, {("rdi" if long else "edi"): "0x500010", rc: "0x4", ra: "0xbeef"}, "fd f366ab fc")
    vec("scasb-repne-%s" % mode, mode, {("rdi" if long else "edi"): "0x500000", rc: "0x20", ra: "0x0"}, "f2ae")
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump({"comment": "expectations recorded with `ringcore vectors record --oracle unicorn`", "vectors": V}, open(out, "w"), indent=1)
print(len(V))

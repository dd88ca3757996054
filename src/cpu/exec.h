/*
 * exec.h - instruction handlers, one per instruction family.
 *
 * The opcode table (src/cpu/optable.c) maps every opcode to one of these.
 * A handler receives the decoded instruction; cpu->rip already points at
 * the NEXT instruction (branches overwrite it), cpu->insn_rip at this one.
 * On a fault the dispatch loop restores RIP (faults) and any handler must
 * leave architectural state unchanged when it returns a fault: check, then
 * commit.
 *
 * Who implements what:
 *   src/cpu/exec_alu.c   data movement, arithmetic/logic, shifts, bit ops, flags ops
 *   src/cpu/exec_ctl.c   control flow, stack, string instructions, port I/O
 *   src/cpu/exec_sys.c   system instructions: segment loads, CRs/DRs, MSRs,
 *                        descriptor tables, CPUID, RDTSC, HLT
 *   src/syscall/         INT/IRET/far transfers/SYSCALL/SYSENTER and delivery
 */
#ifndef RC_EXEC_H
#define RC_EXEC_H

#include "cpu.h"

#define RC_HANDLER(name) rc_fault name(rc_cpu *cpu, const rc_insn *in)

/* ---- exec_alu.c */
RC_HANDLER(ex_alu);          /* 00-3D: ADD OR ADC SBB AND SUB XOR CMP, all six forms (op = opcode>>3) */
RC_HANDLER(ex_grp1);         /* 80-83 */
RC_HANDLER(ex_test);         /* 84 85 A8 A9 */
RC_HANDLER(ex_incdec_r);     /* 40-4F (not in 64-bit mode: REX) */
RC_HANDLER(ex_grp2);         /* C0 C1 D0-D3: ROL ROR RCL RCR SHL SHR SAL SAR */
RC_HANDLER(ex_grp3);         /* F6 F7: TEST NOT NEG MUL IMUL DIV IDIV */
RC_HANDLER(ex_grp4);         /* FE: INC/DEC r/m8 */
RC_HANDLER(ex_imul2);        /* 0F AF */
RC_HANDLER(ex_imul3);        /* 69 6B */
RC_HANDLER(ex_shxd);         /* 0F A4 A5 AC AD */
RC_HANDLER(ex_bt);           /* 0F A3 AB B3 BB, 0F BA /4-/7 */
RC_HANDLER(ex_bsf_bsr);      /* 0F BC BD */
RC_HANDLER(ex_bcd);          /* 27 2F 37 3F D4 D5 */
RC_HANDLER(ex_salc);         /* D6 */
RC_HANDLER(ex_cbw);          /* 98 */
RC_HANDLER(ex_cwd);          /* 99 */
RC_HANDLER(ex_sahf);         /* 9E */
RC_HANDLER(ex_lahf);         /* 9F */
RC_HANDLER(ex_flagop);       /* F5 F8 F9 FC FD (CMC CLC STC CLD STD) */
RC_HANDLER(ex_setcc);        /* 0F 90-9F */
RC_HANDLER(ex_cmovcc);       /* 0F 40-4F */
RC_HANDLER(ex_bswap);        /* 0F C8-CF */
RC_HANDLER(ex_movzx);        /* 0F B6 B7 */
RC_HANDLER(ex_movsx);        /* 0F BE BF */
RC_HANDLER(ex_movsxd);       /* 63 in 64-bit mode */
RC_HANDLER(ex_xadd);         /* 0F C0 C1 */
RC_HANDLER(ex_cmpxchg);      /* 0F B0 B1 */
RC_HANDLER(ex_grp9);         /* 0F C7: CMPXCHG8B/16B (others unsupported/#UD) */
RC_HANDLER(ex_xchg);         /* 86 87 */
RC_HANDLER(ex_xchg_ax);      /* 90-97 (90 without REX.B = NOP, F3 90 = PAUSE) */
RC_HANDLER(ex_mov);          /* 88-8B */
RC_HANDLER(ex_mov_r_imm);    /* B0-BF */
RC_HANDLER(ex_mov_rm_imm);   /* C6 C7 /0 */
RC_HANDLER(ex_lea);          /* 8D */
RC_HANDLER(ex_mov_moffs);    /* A0-A3 */
RC_HANDLER(ex_xlat);         /* D7 */

/* ---- exec_ctl.c */
RC_HANDLER(ex_jcc);          /* 70-7F, 0F 80-8F */
RC_HANDLER(ex_jmp_rel);      /* E9 EB */
RC_HANDLER(ex_call_rel);     /* E8 */
RC_HANDLER(ex_ret_near);     /* C2 C3 */
RC_HANDLER(ex_loop);         /* E0 E1 E2 */
RC_HANDLER(ex_jcxz);         /* E3 */
RC_HANDLER(ex_grp5);         /* FF: INC DEC CALL CALLF JMP JMPF PUSH */
RC_HANDLER(ex_push_r);       /* 50-57 */
RC_HANDLER(ex_pop_r);        /* 58-5F */
RC_HANDLER(ex_push_imm);     /* 68 6A */
RC_HANDLER(ex_pop_rm);       /* 8F /0 */
RC_HANDLER(ex_pusha);        /* 60 */
RC_HANDLER(ex_popa);         /* 61 */
RC_HANDLER(ex_pushf);        /* 9C */
RC_HANDLER(ex_popf);         /* 9D */
RC_HANDLER(ex_enter);        /* C8 */
RC_HANDLER(ex_leave);        /* C9 */
RC_HANDLER(ex_push_seg);     /* 06 0E 16 1E 0F A0 0F A8 */
RC_HANDLER(ex_pop_seg);      /* 07 17 1F 0F A1 0F A9 */
RC_HANDLER(ex_movs);         /* A4 A5 */
RC_HANDLER(ex_cmps);         /* A6 A7 */
RC_HANDLER(ex_stos);         /* AA AB */
RC_HANDLER(ex_lods);         /* AC AD */
RC_HANDLER(ex_scas);         /* AE AF */
RC_HANDLER(ex_ins);          /* 6C 6D */
RC_HANDLER(ex_outs);         /* 6E 6F */
RC_HANDLER(ex_in);           /* E4 E5 EC ED */
RC_HANDLER(ex_out);          /* E6 E7 EE EF */
RC_HANDLER(ex_bound);        /* 62 (not 64-bit) */
RC_HANDLER(ex_nop);          /* 0F 1F /0 .., 0F 18-1E hints, 0F 0D */
RC_HANDLER(ex_ud);           /* 0F 0B UD2, 0F B9 UD1, 0F FF UD0 */

/* ---- exec_sys.c */
RC_HANDLER(ex_hlt);          /* F4 */
RC_HANDLER(ex_cli_sti);      /* FA FB */
RC_HANDLER(ex_cpuid);        /* 0F A2 */
RC_HANDLER(ex_rdtsc);        /* 0F 31 */
RC_HANDLER(ex_rdmsr);        /* 0F 32 */
RC_HANDLER(ex_wrmsr);        /* 0F 30 */
RC_HANDLER(ex_rdpmc);        /* 0F 33 */
RC_HANDLER(ex_mov_from_sreg);/* 8C */
RC_HANDLER(ex_mov_to_sreg);  /* 8E */
RC_HANDLER(ex_lxs);          /* C4 C5 (not 64-bit) 0F B2 B4 B5: LES LDS LSS LFS LGS */
RC_HANDLER(ex_mov_cr);       /* 0F 20 0F 22 */
RC_HANDLER(ex_mov_dr);       /* 0F 21 0F 23 */
RC_HANDLER(ex_grp6);         /* 0F 00: SLDT STR LLDT LTR VERR VERW */
RC_HANDLER(ex_grp7);         /* 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG SWAPGS RDTSCP ... */
RC_HANDLER(ex_grp15);        /* 0F AE: RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (the rest unsupported) */
RC_HANDLER(ex_lar);          /* 0F 02 */
RC_HANDLER(ex_lsl);          /* 0F 03 */
RC_HANDLER(ex_clts);         /* 0F 06 */
RC_HANDLER(ex_invd);         /* 0F 08 0F 09 INVD WBINVD */
RC_HANDLER(ex_arpl);         /* 63 outside 64-bit mode */

/* ---- src/syscall/ */
RC_HANDLER(ex_int);          /* CD ib */
RC_HANDLER(ex_int3);         /* CC */
RC_HANDLER(ex_into);         /* CE */
RC_HANDLER(ex_int1);         /* F1 */
RC_HANDLER(ex_iret);         /* CF */
RC_HANDLER(ex_call_far);     /* 9A */
RC_HANDLER(ex_jmp_far);      /* EA */
RC_HANDLER(ex_retf);         /* CA CB */
RC_HANDLER(ex_syscall);      /* 0F 05 */
RC_HANDLER(ex_sysret);       /* 0F 07 */
RC_HANDLER(ex_sysenter);     /* 0F 34 */
RC_HANDLER(ex_sysexit);      /* 0F 35 */

/* Shared by several handlers: far transfers through a selector:offset
 * (used by ex_grp5's CALLF/JMPF). src/syscall/far.c */
rc_fault rc_far_call(rc_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize);
rc_fault rc_far_jmp(rc_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize);

/* Read/write the r/m operand of a ModRM instruction (register or memory).
 * size in bytes; for memory, acc says READ or RMW. src/cpu/operand.c */
rc_fault rc_rm_read(rc_cpu *cpu, const rc_insn *in, unsigned size, rc_access acc, uint64_t *v);
rc_fault rc_rm_write(rc_cpu *cpu, const rc_insn *in, unsigned size, uint64_t v);

/* Segment register loads with every protected-mode check (src/mmu/seg.c):
 * real/VM86 mode: base = sel << 4. Used by MOV/POP Sreg, LxS. */
rc_fault rc_load_seg(rc_cpu *cpu, unsigned seg, uint16_t sel);

#endif /* RC_EXEC_H */

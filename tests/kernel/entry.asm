; tests/kernel/entry.asm: the test kernel's entry, from 32-bit protected mode
; (where boot.asm leaves it, EBX = the header sector's address) to 64-bit
; mode, and the exception stubs of its 64-bit IDT. kernel.c does the rest.
;
; Everything here lives at KERNEL_LOAD (28 MiB) and up, in the kernel image or
; its .bss: GDT, page tables, IDT, stack. Nothing below 16 MiB is touched
; after the header has been copied, so kernel.c can fill 0..16 MiB with a
; vector's RAM image. Section numbers are the current SDM's (Vol. 3A chapter
; 10 "Processor Management and Initialization" and chapter 7 "Interrupt and
; Exception Handling"; chapters 9 and 6 in older editions such as
; 253668-060).

%include "layout.inc"

CR0_PG         equ 1 << 31            ; SDM Vol. 3A 2.5
CR4_PAE        equ 1 << 5             ; SDM Vol. 3A 2.5
MSR_EFER       equ 0xc0000080         ; SDM Vol. 3A 2.2.1 Table 2-1
EFER_LME       equ 1 << 8
CPUID_EXT_MAX  equ 0x80000000
CPUID_EXT_FEAT equ 0x80000001
CPUID_EDX_LM   equ 1 << 29            ; CPUID.80000001H:EDX[29], Intel 64 / long mode
PTE_P          equ 1 << 0             ; SDM Vol. 3A 4.5: present
PTE_RW         equ 1 << 1             ; read/write
PTE_PS         equ 1 << 7             ; in a PDE: maps a 2-MByte page
PAGE_2M        equ 0x200000
MAP_2M_PAGES   equ RAM_BYTES / PAGE_2M ; identity map all of RAM (64 MiB)

; Selectors of the kernel's GDT (kgdt below).
KSEL_CODE32    equ 0x08
KSEL_DATA      equ 0x10
KSEL_CODE64    equ 0x18
KSEL_KSTACK    equ 0x20           ; the kernel stack as a 64 KiB segment (enter_legacy)
KSEL_CODE16    equ 0x28           ; 16-bit code, 64 KiB, base = rm_tramp (enter_real)
KSEL_DATA16    equ 0x30           ; 16-bit data, 64 KiB, base 0 (enter_real)
KSEL_KSTACK16  equ 0x38           ; the kernel stack, 16-bit (B = 0), 64 KiB (enter_real)

global _start32
global isr_table
global test_ud2
global kernel_stack_top
global boot_header_copy
global enter_ia32e
global enter_legacy
extern vstate
extern kernel_main
extern kernel_exception
extern __bss_start
extern __bss_end

; ---------------------------------------------------------------- 32-bit entry
section .text.entry progbits alloc exec nowrite align=16
bits 32
_start32:
    cli
    ; The kernel's own GDT, then every segment register and the stack
    ; (SDM Vol. 3A 10.9.1 steps 4 and 9, redone with the kernel's tables).
    lgdt [kgdt_ptr]
    jmp KSEL_CODE32:.flat
.flat:
    mov ax, KSEL_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, kernel_stack_top

    ; Clear .bss (page tables, stack, IDT...), then copy the header sector up
    ; into it: after this the kernel reads nothing below 16 MiB.
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    shr ecx, 2
    xor eax, eax
    cld
    rep stosd
    mov esi, ebx
    mov edi, boot_header_copy
    mov ecx, SECTOR_SIZE / 4
    rep movsd

    mov esi, msg_protected
    call puts32

    ; Long mode needs CPUID.80000001H:EDX.LM (SDM Vol. 2A CPUID; a CPU
    ; without it would #GP on the EFER write below).
    mov eax, CPUID_EXT_MAX
    cpuid
    cmp eax, CPUID_EXT_FEAT
    jb .no_long_mode
    mov eax, CPUID_EXT_FEAT
    cpuid
    test edx, CPUID_EDX_LM
    jz .no_long_mode

    ; Identity map of all RAM with 2-MByte pages: PML4[0] -> PDPT,
    ; PDPT[0] -> PD, PD[i] -> i * 2 MiB (SDM Vol. 3A 4.5 "4-Level Paging
    ; and 5-Level Paging", the PML4E, PDPTE and 2-MByte-page PDE formats).
    mov eax, pdpt
    or eax, PTE_P | PTE_RW
    mov [pml4], eax
    mov eax, pd
    or eax, PTE_P | PTE_RW
    mov [pdpt], eax
    xor ecx, ecx
.map:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_P | PTE_RW | PTE_PS
    mov [pd + ecx * 8], eax
    inc ecx
    cmp ecx, MAP_2M_PAGES
    jb .map

    ; SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode". Step 1: paging must
    ; be off; it is (CR0.PG = 0 since reset, boot.asm never set it).
    ; Step 2: CR4.PAE = 1.
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    ; Step 3: CR3 = the PML4's physical address.
    mov eax, pml4
    mov cr3, eax
    ; Step 4: IA32_EFER.LME = 1.
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    ; Step 5: CR0.PG = 1; the processor sets IA32_EFER.LMA and runs on in
    ; compatibility mode. This code is identity-mapped, as the step requires.
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    ; A far JMP to a code segment with L = 1, D = 0 enters 64-bit mode
    ; (SDM Vol. 3A 10.8.5.3 "64-bit Mode and Compatibility Mode Operation").
    jmp KSEL_CODE64:long_entry

.no_long_mode:
    mov esi, msg_no_long_mode
    call puts32
    mov al, EXIT_NO_LONG_MODE
    out PORT_EXIT, al
    mov esi, msg_shutdown
    mov dx, PORT_BOCHS_SHUTDOWN
.shutdown:
    lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .shutdown
.halt:
    cli
    hlt
    jmp .halt

; esi = NUL-terminated string, written to port 0xE9. Clobbers eax, esi.
puts32:
    lodsb
    test al, al
    jz .done
    out PORT_E9, al
    jmp puts32
.done:
    ret

; ---------------------------------------------------------------- 64-bit entry
bits 64
long_entry:
    ; SDM Vol. 3A 3.4.4: in 64-bit mode DS, ES, SS bases are treated as 0;
    ; they still get the flat data selector so no register holds a value
    ; left from an older mode.
    mov ax, KSEL_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov rsp, kernel_stack_top
    mov rdi, boot_header_copy
    call kernel_main                  ; does not return (it ends the run)
.hang:
    cli
    hlt
    jmp .hang

; ---------------------------------------------------------------- exception stubs
; One 16-byte-aligned stub per vector 0-31. Each leaves the same frame for
; kernel_exception: vector, error code (0 where the CPU pushes none), then
; what the processor pushed (SDM Vol. 3A 7.14.2 "64-Bit Mode Stack Frame":
; RIP, CS, RFLAGS, RSP, SS). The vectors with an error code are those of
; SDM Vol. 3A Table 7-1 "Protected-Mode Exceptions and Interrupts" (8,
; 10-14, 17, 21) and, on AMD, #VC (29)
; and #SX (30) (AMD APM Vol. 2 8.2 Table 8-1).
%macro ISR 1
align 16
isr_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
    push qword %1
%else
    push qword 0
    push qword %1
%endif
    jmp isr_common
%endmacro

%assign v 0
%rep 32
    ISR v
%assign v v + 1
%endrep

; Save the general registers below the vector/error pair and call
; kernel_exception(frame); it prints the frame and ends the run.
isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    and rsp, -16                      ; SysV ABI: 16-byte stack alignment at the call
    call kernel_exception
.hang:
    cli
    hlt
    jmp .hang

; Executes UD2 (SDM Vol. 2B UD: raises #UD, a fault, so the frame's RIP is
; this instruction's address, test_ud2). Used when the header asks for it.
test_ud2:
    ud2
    ret

; ---------------------------------------------------------------- entering a vector
; kernel.c has installed everything but the last steps (tests/kernel/README.md,
; "Entering the vector"). The state is read from `vstate` by absolute address,
; so no register is needed to hold its address.

; Load the GPRs but RSP/ESP from vstate: width 64 (IA-32e) or 32 (legacy), a
; segment prefix for the legacy path (after DS became the vector's).
%macro LOAD_GPRS64 0
    mov rax, [vstate + VS_GPR + 8 * 0]
    mov rcx, [vstate + VS_GPR + 8 * 1]
    mov rdx, [vstate + VS_GPR + 8 * 2]
    mov rbx, [vstate + VS_GPR + 8 * 3]
    mov rbp, [vstate + VS_GPR + 8 * 5]
    mov rsi, [vstate + VS_GPR + 8 * 6]
    mov r8,  [vstate + VS_GPR + 8 * 8]
    mov r9,  [vstate + VS_GPR + 8 * 9]
    mov r10, [vstate + VS_GPR + 8 * 10]
    mov r11, [vstate + VS_GPR + 8 * 11]
    mov r12, [vstate + VS_GPR + 8 * 12]
    mov r13, [vstate + VS_GPR + 8 * 13]
    mov r14, [vstate + VS_GPR + 8 * 14]
    mov r15, [vstate + VS_GPR + 8 * 15]
    mov rdi, [vstate + VS_GPR + 8 * 7]
%endmacro
%macro LOAD_GPRS32 0
    mov eax, [cs:vstate + VS_GPR + 8 * 0]
    mov ecx, [cs:vstate + VS_GPR + 8 * 1]
    mov edx, [cs:vstate + VS_GPR + 8 * 2]
    mov ebx, [cs:vstate + VS_GPR + 8 * 3]
    mov ebp, [cs:vstate + VS_GPR + 8 * 5]
    mov esi, [cs:vstate + VS_GPR + 8 * 6]
    mov edi, [cs:vstate + VS_GPR + 8 * 7]
%endmacro

bits 64
; IA-32e vectors (long, compat): kernel.c has switched to the vector's CR3,
; CR4, EFER, MSRs, CR0, GDT, LDTR, TR, data segments, FS/GS bases and IDT and
; logged "enter". IRETQ pops RIP, CS, RFLAGS, RSP, SS in 64-bit mode at any
; privilege level (SDM Vol. 2A IRET "IA-32e-MODE" operation; Vol. 3A 7.14.3),
; so CPL, CS:RIP, RFLAGS and SS:RSP become exactly the vector's.
enter_ia32e:
    push qword [vstate + VS_SEG + 8 * 2]   ; SS
    push qword [vstate + VS_GPR + 8 * 4]   ; RSP
    push qword [vstate + VS_RFLAGS]
    push qword [vstate + VS_SEG + 8 * 1]   ; CS
    push qword [vstate + VS_RIP]
    LOAD_GPRS64
    iretq

; Legacy vectors (prot32): kernel.c has written the MSRs but EFER, filled
; the vector's PDEs 4..7 with the kernel's own page tables and the far
; pointer; this leaves IA-32e mode per SDM Vol. 3A 10.8.5.4 "Switching Out of
; IA-32e Mode" and installs the rest.
enter_legacy:
    cli
    ; Step 1: to compatibility mode: a far return to the kernel's 32-bit code
    ; segment (this code is identity-mapped, as the steps require).
    push qword KSEL_CODE32
    push qword .compat
    o64 retf
bits 32
.compat:
    ; The base of KSEL_KSTACK: kernel_stack (SDM Vol. 3A 3.4.5 Figure 3-8:
    ; base 15:0 in bytes 2-3, 23:16 in byte 4, 31:24 in byte 7).
    mov eax, kernel_stack
    mov [kgdt + KSEL_KSTACK + 2], ax
    shr eax, 16
    mov [kgdt + KSEL_KSTACK + 4], al
    mov [kgdt + KSEL_KSTACK + 7], ah
    mov eax, kernel_stack
    mov [kgdt + KSEL_KSTACK16 + 2], ax
    shr eax, 16
    mov [kgdt + KSEL_KSTACK16 + 4], al
    mov [kgdt + KSEL_KSTACK16 + 7], ah
    ; Step 2: CR0.PG = 0 deactivates IA-32e mode (EFER.LMA = 0).
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    ; Step 3: CR3 = the vector's page directory (32-bit paging).
    mov eax, [vstate + VS_CR3]
    mov cr3, eax
    ; Step 4: EFER = the vector's, LME = 0 (the host refused vectors with LME).
    mov ecx, MSR_EFER
    mov eax, [vstate + VS_EFER]
    mov edx, [vstate + VS_EFER + 4]
    wrmsr
    ; CR4 = the vector's (PAE = 0 selects 32-bit paging, SDM Vol. 3A 4.1.1).
    mov eax, [vstate + VS_CR4]
    mov cr4, eax
    ; A real-mode vector leaves protected mode from here (enter_real).
    cmp dword [vstate + VS_MODE], RCK_VMODE_REAL
    je enter_real
    ; Step 5: CR0 = the vector's (PG = 1 enables legacy paging); the next
    ; instruction is a branch, as the SDM asks after enabling paging.
    mov eax, [vstate + VS_CR0]
    mov cr0, eax
    jmp .paged
.paged:
    mov eax, [vstate + VS_CR2]
    mov cr2, eax
    ; IRET to a 16-bit stack segment loads only SP; ESP[31:16] keep the bits
    ; they had (SDM Vol. 2A IRET; QEMU and Bochs model it, Linux's espfix
    ; exists because of it). So the entry's stack is KSEL_KSTACK with ESP
    ; below 64 KiB: whatever is left in ESP[31:16] is 0, as in the vector's
    ; state (kimage.c refuses a 16-bit SS with ESP >= 64 KiB). From here the
    ; kernel's data is read through CS (its flat, readable code segment).
    mov ax, KSEL_KSTACK
    mov ss, ax
    mov esp, 0x10000
    ; SDM Vol. 2A LGDT: in legacy mode the operand is a 2-byte limit and a
    ; 4-byte base. The kernel's CS, SS, DS keep their cached descriptors.
    lgdt [vstate + VS_GDTR + 6]
    xor eax, eax
    test dword [vstate + VS_FLAGS], RCK_VF_LOAD_LDTR
    jz .ldtr
    mov eax, [vstate + VS_LDTR]
.ldtr:
    lldt ax                           ; SDM Vol. 2A LLDT (a null selector is allowed)
    test dword [vstate + VS_FLAGS], RCK_VF_LOAD_TR
    jz .tr_done
    ; SDM Vol. 2A LTR: #GP unless the descriptor is an available TSS; LTR
    ; marks it busy. The standard GDT holds it busy (type 11), so the type
    ; byte is made available for the LTR and then written back as the image
    ; had it (tests/kernel/README.md: the GDT reads as the vector's).
    mov edi, [vstate + VS_TR]
    and edi, ~7
    add edi, [vstate + VS_GDTR_BASE]
    mov bl, [edi + 5]
    mov al, bl
    and al, ~2
    mov [edi + 5], al
    ltr [vstate + VS_TR]
    mov [edi + 5], bl
.tr_done:
    ; Data segment registers (SDM Vol. 2B MOV: loaded from the vector's GDT
    ; or LDT). DS last; the state is read through CS.
    mov ax, [vstate + VS_SEG + 8 * 0]
    mov es, ax
    mov ax, [vstate + VS_SEG + 8 * 4]
    mov fs, ax
    mov ax, [vstate + VS_SEG + 8 * 5]
    mov gs, ax
    mov ax, [vstate + VS_SEG + 8 * 3]
    mov ds, ax
    ; The vector's IDT last: a fault before this goes to the kernel's IDT
    ; (and ends the run before "enter" is logged).
    lidt [cs:vstate + VS_IDTR + 6]
    mov esi, msg_enter
.log:
    mov al, [cs:esi]
    test al, al
    jz .logged
    out PORT_E9, al
    inc esi
    jmp .log
.logged:
    cmp dword [cs:vstate + VS_CPL], 0
    jne .outer
    ; CPL 0: IRET to the same privilege level pops no SS:ESP (SDM Vol. 2A
    ; IRET "RETURN-TO-SAME-PRIVILEGE-LEVEL"), so its frame would have to lie
    ; below the vector's ESP. Instead: POPFD (at CPL 0 it loads every flag
    ; but RF, VM, VIF, VIP: the host refused vectors that set those or TF)
    ; from the kernel's stack, then SS:ESP, then a far JMP through a pointer
    ; read with a CS override (the kernel's readable flat code segment).
    push dword [cs:vstate + VS_RFLAGS]
    LOAD_GPRS32
    popfd
    mov ss, [cs:vstate + VS_SEG + 8 * 2]
    mov esp, [cs:vstate + VS_GPR + 8 * 4]
    jmp far [cs:vstate + VS_FAR]
.outer:
    ; CPL 1-3: IRETD to an outer level pops EIP, CS, EFLAGS, ESP, SS (SDM
    ; Vol. 2A IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
    push dword [cs:vstate + VS_SEG + 8 * 2] ; SS
    push dword [cs:vstate + VS_GPR + 8 * 4] ; ESP
    push dword [cs:vstate + VS_RFLAGS]
    push dword [cs:vstate + VS_SEG + 8 * 1] ; CS
    push dword [cs:vstate + VS_RIP]
    LOAD_GPRS32
    iretd

; Real-mode vectors: paging is off (CR0 as the IA-32e exit left it, PE = 1),
; CR3/CR4/EFER are the vector's. This follows SDM Vol. 3A 10.9.2 "Switching
; Back to Real-Address Mode": a 16-bit code segment with a 64 KiB limit
; (step 3), SS/DS/ES/FS/GS with 64 KiB byte-granular writable segments
; (step 4), the vector's IVT (step 5), PE = 0 (step 6); then the vector's
; real-mode segment values (step 8) and a far JMP into the vector (step 7,
; last, because it is the vector's own CS:IP). Everything the 16-bit code
; reads lies in rm_tramp's 64 KiB, addressed through CS: rm_* is filled
; here from vstate.
enter_real:
    mov eax, [vstate + VS_CR2]
    mov cr2, eax
    mov eax, rm_tramp
    mov [kgdt + KSEL_CODE16 + 2], ax
    shr eax, 16
    mov [kgdt + KSEL_CODE16 + 4], al
    mov [kgdt + KSEL_CODE16 + 7], ah
    mov ax, [vstate + VS_GDTR + 6]
    mov [rm_gdtr], ax
    mov eax, [vstate + VS_GDTR + 8]
    mov [rm_gdtr + 2], eax
    mov ax, [vstate + VS_IDTR + 6]
    mov [rm_idtr], ax
    mov eax, [vstate + VS_IDTR + 8]
    mov [rm_idtr + 2], eax
    mov eax, [vstate + VS_CR0]
    mov [rm_cr0], eax
    mov eax, [vstate + VS_RFLAGS]
    mov [rm_flags], eax
%assign r 0
%rep 8
    mov eax, [vstate + VS_GPR + 8 * r]
    mov [rm_gpr + 4 * r], eax
%assign r r + 1
%endrep
    mov eax, [vstate + VS_GPR + 8 * 4]
    mov [rm_esp], eax
    mov ax, [vstate + VS_SEG + 8 * 2]
    mov [rm_ss], ax
    mov ax, [vstate + VS_RIP]
    mov [rm_ip], ax
    mov ax, [vstate + VS_SEG + 8 * 1]
    mov [rm_cs], ax
    mov ax, [vstate + VS_SEG + 8 * 0]
    mov [rm_es], ax
    mov ax, [vstate + VS_SEG + 8 * 3]
    mov [rm_ds], ax
    mov ax, [vstate + VS_SEG + 8 * 4]
    mov [rm_fs], ax
    mov ax, [vstate + VS_SEG + 8 * 5]
    mov [rm_gs], ax
    jmp KSEL_CODE16:0                 ; step 3 (rm_tramp is offset 0 of KSEL_CODE16)
bits 64

; ---------------------------------------------------------------- data
section .rodata
msg_enter:        db "ringcore-kernel: enter", 10, 0
align 8
isr_table:                            ; the 32 stubs' addresses, for kernel.c's IDT
%assign v 0
%rep 32
    dq isr_ %+ v
%assign v v + 1
%endrep
msg_protected:    db "ringcore-kernel: protected mode", 10, 0
msg_no_long_mode: db "ringcore-kernel: error no long mode", 10
                  db "ringcore-kernel: exit ", '0' + EXIT_NO_LONG_MODE, 10, 0
msg_shutdown:     db "Shutdown", 0

section .data
; The real-mode entry (enter_real) and its data, in one 64 KiB window that
; KSEL_CODE16 maps; offsets are from rm_tramp. In .data because enter_real
; writes the rm_* fields (paging is off when it runs: nothing is no-execute).
bits 16
%define RM(x) (x - rm_tramp)
rm_tramp:
    mov ax, KSEL_DATA16               ; step 4
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ax, KSEL_KSTACK16
    mov ss, ax
    xor esp, esp                      ; B = 0: pushes use SP, from 0xFFFE down
    o32 lgdt [cs:RM(rm_gdtr)]         ; the vector's GDTR (SDM Vol. 2A LGDT, 32-bit operand)
    o32 lidt [cs:RM(rm_idtr)]         ; step 5: the vector's IVT
    mov si, RM(rm_msg)
.log:
    mov al, [cs:si]
    test al, al
    jz .logged
    out PORT_E9, al
    inc si
    jmp .log
.logged:
    mov eax, [cs:RM(rm_cr0)]          ; step 6: the vector's CR0 (PE = 0, PG = 0)
    mov cr0, eax
    mov es, [cs:RM(rm_es)]            ; step 8: real-mode loads (base = selector x 16)
    mov fs, [cs:RM(rm_fs)]
    mov gs, [cs:RM(rm_gs)]
    push dword [cs:RM(rm_flags)]
    popfd                             ; at CPL 0 every flag but RF, VM, VIF, VIP (refused)
    mov ds, [cs:RM(rm_ds)]
    mov eax, [cs:RM(rm_gpr) + 4 * 0]
    mov ecx, [cs:RM(rm_gpr) + 4 * 1]
    mov edx, [cs:RM(rm_gpr) + 4 * 2]
    mov ebx, [cs:RM(rm_gpr) + 4 * 3]
    mov ebp, [cs:RM(rm_gpr) + 4 * 5]
    mov esi, [cs:RM(rm_gpr) + 4 * 6]
    mov edi, [cs:RM(rm_gpr) + 4 * 7]
    lss esp, [cs:RM(rm_esp)]          ; SS:ESP (m16:32)
    jmp far [cs:RM(rm_ip)]            ; step 7: CS:IP (m16:16)
align 4
rm_gdtr:  dw 0
          dd 0
rm_idtr:  dw 0
          dd 0
rm_cr0:   dd 0
rm_flags: dd 0
rm_gpr:   times 8 dd 0
rm_esp:   dd 0
rm_ss:    dw 0
rm_ip:    dw 0
rm_cs:    dw 0
rm_es:    dw 0
rm_ds:    dw 0
rm_fs:    dw 0
rm_gs:    dw 0
rm_msg:   db "ringcore-kernel: enter", 10, 0
bits 64

; The kernel's GDT, descriptor fields per SDM Vol. 3A 3.4.5 Figure 3-8.
align 16
kgdt:
    dq 0                              ; null
    dq 0x00cf9a000000ffff             ; 0x08: code, 32-bit (D=1), 4 GiB
    dq 0x00cf92000000ffff             ; 0x10: data, read/write, 4 GiB
    dq 0x00af9a000000ffff             ; 0x18: code, 64-bit (L=1, D=0)
    dq 0x004092000000ffff             ; 0x20: data, read/write, B=1, 64 KiB; base = kernel_stack
    dq 0x00009a000000ffff             ; 0x28: code, 16-bit, execute/read, 64 KiB; base = rm_tramp
    dq 0x000092000000ffff             ; 0x30: data, 16-bit, read/write, 64 KiB, base 0
    dq 0x000092000000ffff             ; 0x38: data, B=0, read/write, 64 KiB; base = kernel_stack
kgdt_end:
align 16
kgdt_ptr:
    dw kgdt_end - kgdt - 1
    dq kgdt                           ; LGDT reads 4 bytes of base in 32-bit mode, 8 in 64-bit

; The stack is not executable (tells the linker so).
section .note.GNU-stack noalloc noexec nowrite progbits

section .bss
align 4096
pml4:             resb 4096
pdpt:             resb 4096
pd:               resb 4096
kernel_stack:     resb 65536
kernel_stack_top:
boot_header_copy: resb SECTOR_SIZE

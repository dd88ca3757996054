; tests/kernel/boot.asm: the test kernel's boot sector (LBA 0 of disk.img).
;
; The BIOS loads this sector at 0000:7C00 and jumps to it in real mode with
; DL = the boot drive. It reads the header sector (LBA 1), then the kernel and
; the payload named there, 64 sectors at a time, with INT 13h AH=42h into a
; low buffer, and copies each chunk to its place above 16 MiB from a short
; stay in 32-bit protected mode. Finally it enters protected mode for good and
; jumps to the kernel's 32-bit entry with EBX = the header's address.
; Every line it writes to port 0xE9 starts with "ringcore-boot: ".
; tests/kernel/README.md describes the layout and cites the manual for each
; mode switch; the section numbers below are the current SDM's (Vol. 3A
; chapter 10 "Processor Management and Initialization", chapter 9 in older
; editions such as 253668-060).

%include "layout.inc"
bits 16
org BOOT_ADDR

CR0_PE     equ 1                      ; SDM Vol. 3A 2.5: CR0 bit 0, protection enable
; Selectors of the boot sector's own GDT (gdt below).
SEL_CODE32 equ 0x08
SEL_DATA32 equ 0x10
SEL_CODE16 equ 0x18
SEL_DATA16 equ 0x20

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, BOOT_ADDR
    jmp 0:.cs_zero                    ; some BIOSes enter at 07C0:0000
.cs_zero:
    sti
    cld
    mov [boot_drive], dl
    mov si, msg_mbr
    call print

    ; A20 on through the "fast A20" bit (bit 1) of System Control Port A
    ; (port 0x92), keeping bit 0 (fast reset) clear: the payload is loaded
    ; at 32 MiB and up, where every odd megabyte needs address line 20.
    in al, 0x92
    or al, 2
    and al, 0xfe
    out 0x92, al

    ; INT 13h AH=41h BX=55AAh: the extensions are present when CF = 0,
    ; BX = AA55h and CX bit 0 (the fixed-disk access subset, AH=42h) is set.
    mov ah, 0x41
    mov bx, 0x55aa
    mov dl, [boot_drive]
    int 0x13
    mov al, 'x'
    jc fail
    cmp bx, 0xaa55
    jne fail
    test cl, 1
    jz fail

    mov eax, HEADER_LBA
    mov cx, 1
    mov bx, HEADER_ADDR >> 4
    call read_sectors
    mov si, HEADER_ADDR + H_MAGIC
    mov di, magic
    mov cx, 8
    repe cmpsb
    mov al, 'h'
    jne fail

    ; si = HEADER_ADDR + 8 now (CMPSB advanced it); load_high keeps si.
    mov eax, [si + H_KERNEL_LBA - 8]
    mov ecx, [si + H_KERNEL_SECTORS - 8]
    mov edi, [si + H_KERNEL_LOAD - 8]
    call load_high

    mov eax, [si + H_PAYLOAD_LBA - 8]
    mov ecx, [si + H_PAYLOAD_BYTES - 8]
    add ecx, SECTOR_SIZE - 1
    shr ecx, 9
    mov edi, [si + H_PAYLOAD_LOAD - 8]
    call load_high

    ; SDM Vol. 3A 10.9.1 "Switching to Protected Mode", steps 1-4: CLI,
    ; LGDT, MOV CR0 with PE = 1, then at once a far JMP (which loads CS
    ; from the new GDT and discards what was fetched in real mode).
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, CR0_PE
    mov cr0, eax
    jmp SEL_CODE32:enter_kernel

; eax = first LBA, ecx = sector count, edi = physical destination. Reads
; CHUNK_SECTORS at a time into LOW_BUF and copies each chunk up with
; copy_high. Clobbers eax, ebx, ecx, edx, edi; keeps si.
load_high:
.next:
    test ecx, ecx
    jz .done
    mov edx, ecx
    cmp edx, CHUNK_SECTORS
    jbe .sized
    mov edx, CHUNK_SECTORS
.sized:
    pushad
    mov cx, dx
    mov bx, LOW_BUF_SEG
    call read_sectors
    mov esi, LOW_BUF
    mov ecx, edx
    shl ecx, 7                        ; sectors -> dwords
    call copy_high
    popad
    add eax, edx
    sub ecx, edx
    shl edx, 9
    add edi, edx
    jmp .next
.done:
    ret

; eax = LBA, cx = sector count, bx = buffer segment (offset 0). INT 13h
; AH=42h "extended read" with the disk address packet dap. Registers kept.
read_sectors:
    pushad
    mov si, dap
    mov [si + 2], cx
    mov [si + 6], bx
    mov [si + 8], eax
    mov ah, 0x42
    mov dl, [boot_drive]
    int 0x13
    popad                             ; POPAD leaves CF as INT 13h set it
    jc .error
    ret
.error:
    mov al, 'd'
    jmp fail

; Copy ecx dwords from physical esi to physical edi (above 1 MiB) in 32-bit
; protected mode, then come back to real mode. Clobbers eax, ecx, esi, edi.
copy_high:
    ; SDM Vol. 3A 10.9.1 steps 1-4 (as above).
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, CR0_PE
    mov cr0, eax
    jmp SEL_CODE32:.pm32
bits 32
.pm32:
    ; SDM Vol. 3A 10.9.1 step 9: load the data segment registers.
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
    cld
    rep movsd
    ; SDM Vol. 3A 10.9.2 "Switching Back to Real-Address Mode": paging is
    ; off (step 2 does not apply); step 3: go to a code segment with a 64 KiB
    ; limit; step 4: load SS, DS, ES with a 64 KiB, byte-granular, expand-up,
    ; writable, present data segment.
    jmp SEL_CODE16:.pm16
bits 16
.pm16:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; Step 5 (LIDT of the real-mode IVT) is not needed: IDTR was never
    ; changed and still holds the IVT (base 0, limit 0x3ff). Step 6: clear
    ; PE; step 7: far JMP to real-mode code; step 8: real-mode segment
    ; values; step 9: interrupts back on.
    mov eax, cr0
    and al, ~CR0_PE
    mov cr0, eax
    jmp 0:.real
.real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    sti
    ret

; print the NUL-terminated string at ds:si to port 0xE9.
print:
    lodsb
    test al, al
    jz .done
    out PORT_E9, al
    jmp print
.done:
    ret

; al = a letter naming the step that failed ('x' no INT 13h extensions,
; 'd' disk read error, 'h' bad header magic). Logs the exit line with that
; letter appended and ends the run.
fail:
    mov [msg_exit.what], al
    mov si, msg_exit
    call print
    mov al, EXIT_BOOT_FAILED
    out PORT_EXIT, al                 ; QEMU ends here
    mov si, shutdown_string
    mov dx, PORT_BOCHS_SHUTDOWN       ; Bochs ends after the 8th byte
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

bits 32
; Reached by the far JMP above: SDM Vol. 3A 10.9.1 step 9, load the data
; segment registers (DS for the jump below; the kernel's entry loads its own
; GDT, every segment register and its stack before anything else), then jump
; to the kernel's entry (layout.inc, H_KERNEL_ENTRY) with EBX = the header.
enter_kernel:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ebx, HEADER_ADDR
    jmp [HEADER_ADDR + H_KERNEL_ENTRY]

; ---------------------------------------------------------------- data
; GDT: descriptors as 8-byte little-endian values, fields per SDM Vol. 3A
; 3.4.5 Figure 3-8 (limit 15:0 | base 23:0 | type, S, DPL, P | limit 19:16,
; AVL, L, D/B, G | base 31:24).
; The null descriptor's 8 bytes are never read, so GDTR's image lives there.
gdt:
gdtr:
    dw gdt_end - gdt - 1              ; null descriptor / GDTR limit
    dd gdt                            ; GDTR base
    dw 0
    dq 0x00cf9a000000ffff             ; 0x08: code, execute/read, 32-bit (D=1), 4 GiB (G=1)
    dq 0x00cf92000000ffff             ; 0x10: data, read/write, 4 GiB
    dq 0x00009a000000ffff             ; 0x18: code, 16-bit, base 0, limit 0xffff, G=0
    dq 0x000092000000ffff             ; 0x20: data, base 0, limit 0xffff, G=0
gdt_end:

; INT 13h AH=42h disk address packet: size 16, reserved, sector count,
; buffer offset:segment, 64-bit LBA (read_sectors fills in the rest).
dap:
    db 0x10, 0
    dw 0                              ; sector count
    dw 0, 0                           ; buffer offset, segment
    dq 0                              ; LBA

boot_drive: db 0
magic:      db "RCKDISK1"
msg_mbr:    db "ringcore-boot: mbr", 10, 0
msg_exit:   db "ringcore-boot: exit ", '0' + EXIT_BOOT_FAILED, " "
.what:      db "?", 10, 0
shutdown_string: db "Shutdown", 0

    times 510 - ($ - $$) db 0
    dw 0xaa55

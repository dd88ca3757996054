; tests/kernel/disk.asm: assembles disk.img, the raw hard-disk image both
; emulators boot (tests/kernel/README.md, "Disk layout"):
;   LBA 0      boot.bin, the boot sector
;   LBA 1      the header sector (layout.inc H_*)
;   LBA 2..    kernel.bin, padded to whole sectors
;   then       the payload (empty in this image), padded to whole sectors
;   then       zeros up to a whole number of 16 x 63 sector cylinders
; boot.bin and kernel.bin are found on nasm's include path (-I, the build
; directory, see CMakeLists.txt).
; tests/support/kernel_disk.c writes images with other payloads by the same
; layout, reusing LBA 0..(payload_lba - 1) of this one.

%include "layout.inc"

bits 32
section .disk start=0

    incbin "boot.bin"
%if ($ - $$) != SECTOR_SIZE
%error "boot.bin must be exactly one sector"
%endif

header:
    db "RCKDISK1"                         ; H_MAGIC
    dd HEADER_VERSION                     ; H_VERSION
    dd KERNEL_LBA                         ; H_KERNEL_LBA
    dd (kernel_end - kernel) / SECTOR_SIZE ; H_KERNEL_SECTORS
    dd KERNEL_LOAD                        ; H_KERNEL_LOAD
    dd KERNEL_LOAD                        ; H_KERNEL_ENTRY (kernel.ld puts _start32 first)
    dd (payload - $$) / SECTOR_SIZE       ; H_PAYLOAD_LBA
    dd payload_end - payload              ; H_PAYLOAD_BYTES
    dd PAYLOAD_LOAD                       ; H_PAYLOAD_LOAD
    dd 0                                  ; H_PAYLOAD_CRC32: CRC-32 of no bytes is 0
    dd 0                                  ; H_FLAGS
    times SECTOR_SIZE - ($ - header) db 0

kernel:
    incbin "kernel.bin"
    align SECTOR_SIZE, db 0
kernel_end:

payload:
payload_end:

    times (CYLINDER_BYTES - (($ - $$) % CYLINDER_BYTES)) % CYLINDER_BYTES db 0

/* weak_stubs.c - TEMPORARY development scaffolding: weak definitions of every
 * internal and public function so the tree links while parts are written.
 * Strong definitions in the real files override these. Removed before release. */
#include "exec.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

__attribute__((weak)) const char *rc_strerror(rc_status status) { return NULL; }
__attribute__((weak)) rc_status rc_create(const rc_config *cfg, rc_cpu **out) { return RC_ERR_STATE; }
__attribute__((weak)) void rc_destroy(rc_cpu *cpu) { }
__attribute__((weak)) rc_status rc_reset(rc_cpu *cpu) { return RC_ERR_STATE; }
__attribute__((weak)) rc_vendor rc_get_vendor(const rc_cpu *cpu) { return (rc_vendor)0; }
__attribute__((weak)) rc_status rc_map_ram(rc_cpu *cpu, uint64_t gpa, uint64_t size, void *host, uint32_t flags) { return RC_ERR_STATE; }
__attribute__((weak)) void *rc_ram_ptr(rc_cpu *cpu, uint64_t gpa, uint64_t size) { return NULL; }
__attribute__((weak)) rc_status rc_map_mmio(rc_cpu *cpu, uint64_t gpa, uint64_t size, rc_mmio_read_fn rd, rc_mmio_write_fn wr, void *opaque) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_port_io(rc_cpu *cpu, rc_pio_in_fn in, rc_pio_out_fn out, void *opaque) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_read_phys(rc_cpu *cpu, uint64_t gpa, void *buf, size_t len) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_write_phys(rc_cpu *cpu, uint64_t gpa, const void *buf, size_t len) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_get_reg(const rc_cpu *cpu, rc_reg reg, uint64_t *value) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_reg(rc_cpu *cpu, rc_reg reg, uint64_t value) { return RC_ERR_STATE; }
__attribute__((weak)) const char *rc_reg_name(rc_reg reg) { return NULL; }
__attribute__((weak)) rc_status rc_get_seg(const rc_cpu *cpu, rc_seg_reg seg, rc_segment *out) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_seg(rc_cpu *cpu, rc_seg_reg seg, const rc_segment *in) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_get_gdtr(const rc_cpu *cpu, rc_dtable *out) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_gdtr(rc_cpu *cpu, const rc_dtable *in) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_get_idtr(const rc_cpu *cpu, rc_dtable *out) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_idtr(rc_cpu *cpu, const rc_dtable *in) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_get_msr(const rc_cpu *cpu, uint32_t index, uint64_t *value) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_msr(rc_cpu *cpu, uint32_t index, uint64_t value) { return RC_ERR_STATE; }
__attribute__((weak)) rc_mode rc_get_mode(const rc_cpu *cpu) { return (rc_mode)0; }
__attribute__((weak)) const char *rc_mode_name(rc_mode mode) { return NULL; }
__attribute__((weak)) const char *rc_exit_reason_name(rc_exit_reason reason) { return NULL; }
__attribute__((weak)) rc_status rc_set_intercept(rc_cpu *cpu, uint32_t vector_mask) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_run(rc_cpu *cpu, uint64_t max_insns, rc_exit *exit) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_complete_io(rc_cpu *cpu, uint64_t value) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_inject_exception(rc_cpu *cpu, uint8_t vector, int has_error_code, uint32_t error_code, uint64_t cr2) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_set_hooks(rc_cpu *cpu, const rc_hooks *hooks) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_save(const rc_cpu *cpu, void *buf, size_t *len) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_load(rc_cpu *cpu, const void *buf, size_t len) { return RC_ERR_STATE; }
__attribute__((weak)) rc_fault rc_unsupported(struct rc_cpu *cpu, const char *what) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) const rc_model *rc_model_get(rc_vendor v) { return NULL; }
__attribute__((weak)) void rc_model_cpuid(const struct rc_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]) { }
__attribute__((weak)) void rc_update_mode(rc_cpu *cpu) { }
__attribute__((weak)) uint64_t rc_get_rflags(rc_cpu *cpu) { return (uint64_t)0; }
__attribute__((weak)) void rc_set_rflags(rc_cpu *cpu, uint64_t v) { }
__attribute__((weak)) void rc_materialize_flags(rc_cpu *cpu) { }
__attribute__((weak)) bool rc_cond(rc_cpu *cpu, unsigned cc) { return false; }
__attribute__((weak)) bool rc_get_cf(rc_cpu *cpu) { return false; }
__attribute__((weak)) void rc_set_status_flags(rc_cpu *cpu, uint32_t mask, uint32_t val) { }
__attribute__((weak)) uint32_t rc_parity(uint64_t v) { return (uint32_t)0; }
__attribute__((weak)) rc_region *rc_bus_find(rc_cpu *cpu, uint64_t gpa) { return NULL; }
__attribute__((weak)) rc_fault rc_phys_read(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_phys_write(rc_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) uint8_t *rc_bus_host_page(rc_cpu *cpu, uint64_t gpa, bool for_write) { return NULL; }
__attribute__((weak)) rc_fault rc_translate(rc_cpu *cpu, uint64_t lin, unsigned acc, uint64_t *phys) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) void rc_tlb_flush_all(rc_cpu *cpu, bool keep_global) { }
__attribute__((weak)) void rc_tlb_flush_page(rc_cpu *cpu, uint64_t lin) { }
__attribute__((weak)) rc_fault rc_lin_read(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc, uint64_t *val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_lin_write(rc_cpu *cpu, uint64_t lin, unsigned size, unsigned acc, uint64_t val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_lin_read_bytes(rc_cpu *cpu, uint64_t lin, void *buf, unsigned len, unsigned acc) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_lin_write_bytes(rc_cpu *cpu, uint64_t lin, const void *buf, unsigned len, unsigned acc) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_seg_linear(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc, uint64_t *lin) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_read(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, rc_access acc, uint64_t *val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_write(rc_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_fetch(rc_cpu *cpu, uint64_t rip, uint8_t *buf, unsigned len, unsigned *got) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) uint64_t rc_effective_addr(const rc_cpu *cpu, const rc_insn *in) { return (uint64_t)0; }
__attribute__((weak)) rc_fault rc_push(rc_cpu *cpu, uint64_t v, unsigned size) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_pop(rc_cpu *cpu, unsigned size, uint64_t *v) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_port_in(rc_cpu *cpu, uint16_t port, unsigned size, uint32_t *val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_port_out(rc_cpu *cpu, uint16_t port, unsigned size, uint32_t val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_decode(rc_cpu *cpu, const uint8_t *bytes, unsigned avail, unsigned code_size, rc_insn *out) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) unsigned rc_decode_length(const uint8_t *bytes, unsigned avail, unsigned code_size) { return (unsigned)0; }
__attribute__((weak)) rc_fault rc_msr_read(rc_cpu *cpu, uint32_t index, uint64_t *val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_msr_write(rc_cpu *cpu, uint32_t index, uint64_t val) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_deliver(rc_cpu *cpu, uint8_t vector, bool has_err, uint32_t err, bool software, uint64_t next_rip) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_hook_action rc_fire_transition(rc_cpu *cpu, const rc_transition *t, bool before) { return (rc_hook_action)0; }
__attribute__((weak)) rc_fault rc_far_call(rc_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_far_jmp(rc_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_load_seg(rc_cpu *cpu, unsigned seg, uint16_t sel) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_alu(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp1(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_test(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_incdec_r(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp2(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp3(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp4(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_imul2(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_imul3(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_shxd(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_bt(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_bsf_bsr(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_bcd(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_salc(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cbw(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cwd(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_sahf(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_lahf(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_flagop(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_setcc(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cmovcc(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_bswap(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_movzx(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_movsx(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_movsxd(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_xadd(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cmpxchg(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp9(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_xchg(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_xchg_ax(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_r_imm(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_rm_imm(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_lea(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_moffs(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_xlat(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_jcc(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_jmp_rel(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_call_rel(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_ret_near(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_loop(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_jcxz(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp5(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_push_r(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_pop_r(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_push_imm(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_pop_rm(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_pusha(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_popa(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_pushf(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_popf(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_enter(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_leave(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_push_seg(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_pop_seg(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_movs(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cmps(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_stos(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_lods(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_scas(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_ins(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_outs(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_in(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_out(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_bound(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_nop(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_ud(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_hlt(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cli_sti(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_cpuid(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_rdtsc(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_rdmsr(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_wrmsr(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_rdpmc(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_from_sreg(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_to_sreg(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_lxs(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_cr(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_mov_dr(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp6(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_grp7(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_lar(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_lsl(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_clts(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_invd(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_arpl(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_int(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_int3(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_into(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_int1(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_iret(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_call_far(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_jmp_far(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_retf(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_syscall(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_sysret(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_sysenter(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault ex_sysexit(rc_cpu *cpu, const rc_insn *in) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_status rc_translate_linear(rc_cpu *cpu, uint64_t linear, uint64_t *gpa) { return RC_ERR_STATE; }
__attribute__((weak)) rc_status rc_read_linear(rc_cpu *cpu, uint64_t linear, void *buf, size_t len) { return RC_ERR_STATE; }
__attribute__((weak)) rc_fault rc_raise_exception(rc_cpu *cpu, rc_fault f) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) void rc_icache_invalidate_page(rc_cpu *cpu, uint64_t phys) { }
__attribute__((weak)) void rc_desc_decode(uint64_t lo, uint64_t hi, rc_desc *d) { }
__attribute__((weak)) rc_fault rc_desc_fetch(rc_cpu *cpu, uint16_t sel, bool wide, uint8_t vec, rc_desc *d) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) rc_fault rc_desc_set_accessed(rc_cpu *cpu, uint16_t sel, rc_desc *d) { return (rc_fault){ RCF_UNSUPPORTED, 0, 0, 0, 0 }; }
__attribute__((weak)) void rc_seg_from_desc(rc_segment *s, uint16_t sel, const rc_desc *d) { }

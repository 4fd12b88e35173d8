import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, MSRS, VMCS_FIELDS, assemblerConstantDocs, assemblerConstants, upperSnake } from '../../src/arch/index';

const c = (n: string) => assemblerConstants.get(n);

describe('assembler constants', () => {
  it('are upper-case identifiers', () => {
    for (const name of assemblerConstants.keys()) expect(name).toMatch(/^[A-Z_][A-Z0-9_]*$/);
  });

  it('the examples of the brief and docs/arch.md', () => {
    expect(c('IA32_FRED_CONFIG')).toBe(0x1d4n);
    expect(c('CR4_FRED')).toBe(1n << 32n);
    expect(c('CR4_FRED_BIT')).toBe(32n);
    expect(c('GUEST_RIP')).toBe(0x681en);
    expect(c('GUEST_IA32_PAT_HIGH')).toBe(0x2805n);
    expect(c('CR0_PG')).toBe(0x8000_0000n);
    expect(c('EFER_LME')).toBe(0x100n);
    expect(c('RFLAGS_IF')).toBe(0x200n);
    expect(c('RFLAGS_IOPL_MASK')).toBe(0x3000n);
    expect(c('RFLAGS_IOPL_SHIFT')).toBe(12n);
    expect(c('FRED_CONFIG_REDZONE_MASK')).toBe(0x1c0n);
    expect(c('FRED_CONFIG_INT_STKLVL_SHIFT')).toBe(9n);
    expect(c('FRED_CONFIG_SSP_DECREMENT')).toBe(8n);
    expect(c('X86_TRAP_PF')).toBe(14n);
    expect(c('X86_TRAP_DF')).toBe(8n);
    expect(c('EVENT_TYPE_EXTINT')).toBe(0n);
    expect(c('EVENT_TYPE_OTHER')).toBe(7n);
    expect(c('INTR_TYPE_HARD_EXCEPTION')).toBe(0x300n);
    expect(c('INTR_INFO_VALID_MASK')).toBe(0x8000_0000n);
    expect(c('INTR_INFO_NESTED_EXCEPTION_MASK')).toBe(0x2000n);
    expect(c('EXIT_REASON_CPUID')).toBe(10n);
    expect(c('VM_ENTRY_LOAD_IA32_FRED')).toBe(0x80_0000n);
    expect(c('SECONDARY_VM_EXIT_LOAD_IA32_FRED')).toBe(2n);
    expect(c('VM_EXIT_ACTIVATE_SECONDARY_CONTROLS')).toBe(0x8000_0000n);
    expect(c('CPU_BASED_HLT_EXITING')).toBe(0x80n);
    expect(c('FRED_FRAME_EVENT_DATA')).toBe(0x30n);
    expect(c('FRED_SS_NESTED')).toBe(1n << 58n);
    expect(c('FRED_SS_VECTOR_SHIFT')).toBe(32n);
    expect(c('FRED_CS_SL_MASK')).toBe(0x3_0000n);
    expect(c('FRED_SYSCALL')).toBe(1n);
    expect(c('GUEST_INTR_STATE_STI')).toBe(1n);
    expect(c('GUEST_ACTIVITY_HLT')).toBe(1n);
    expect(c('AR_UNUSABLE')).toBe(0x1_0000n);
    expect(c('X2APIC_LVT_TIMER_MASK')).toBe(0x1_0000n);
    expect(c('VMXERR_ENTRY_INVALID_CONTROL_FIELD')).toBe(7n);
    expect(c('IA32_FRED_SSP0')).toBe(0x6a4n);
  });

  it('every MSR, VMCS field and event type has its constant', () => {
    for (const m of MSRS) expect(c(m.name), m.name).toBe(BigInt(m.index));
    for (const f of VMCS_FIELDS) expect(c(f.name), f.name).toBe(BigInt(f.encoding));
    for (const e of EVENT_TYPES) expect(c(e.vmxName)).toBe(BigInt(e.type << 8));
  });

  it('no constants for reserved exception vectors', () => {
    expect(c('X86_TRAP_RES15')).toBeUndefined();
    expect(c('X86_TRAP_OLD_MF')).toBe(9n);
  });

  it('upperSnake', () => {
    expect(upperSnake('errorCode')).toBe('ERROR_CODE');
    expect(upperSnake('nmiUnblockingDueToIret')).toBe('NMI_UNBLOCKING_DUE_TO_IRET');
    expect(upperSnake('LVT_TIMER')).toBe('LVT_TIMER');
  });
});

describe('assembler constant docs', () => {
  it('every constant has a one-line description', () => {
    for (const name of assemblerConstants.keys()) {
      const d = assemblerConstantDocs.get(name);
      expect(d, name).toBeDefined();
      expect(d!.includes('\n'), name).toBe(false);
    }
    expect(assemblerConstantDocs.get('GUEST_RIP')).toBe('Guest RIP — VMCS field 0x681E (Guest-state area: guest register state, natural-width)');
    expect(assemblerConstantDocs.get('CR4_FRED')).toBe('CR4 bit 32: Flexible return and event delivery (needs IA32_EFER.LMA = 1)');
    expect(assemblerConstantDocs.get('IA32_FRED_CONFIG')).toMatch(/^MSR 0x1D4: FRED configuration/);
  });
});

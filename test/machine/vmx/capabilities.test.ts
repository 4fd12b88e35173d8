import { describe, expect, it } from 'vitest';
import { CONTROL_FIELD_LAYOUTS, CR4_BITS, msrIndex } from '../../../src/arch/index';
import { capabilityMsr, controlAllowed, vmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { VMX_MISC_BITS } from '../../../src/arch/index';

const fred = vmxCapabilities();
const bare = vmxCapabilities({ fred: false });
const hi = (v: bigint) => v >> 32n;
const lo = (v: bigint) => v & 0xffff_ffffn;

describe('VMX capability MSRs (vmx-fred.md §1.4, §1.15)', () => {
  it('exist for every index 0x480–0x493', () => {
    for (let i = 0x480; i <= 0x493; i++) expect(fred.msrs.has(i), i.toString(16)).toBe(true);
  });

  it('IA32_VMX_BASIC: revision, 4 KiB VMCS, WB, TRUE_CTLS (55), bit 56, nested exception (58) only with FRED', () => {
    const b = capabilityMsr(fred, 'IA32_VMX_BASIC');
    expect(b & 0x7fff_ffffn).toBeGreaterThan(0n);
    expect((b >> 32n) & 0x1fffn).toBe(0x1000n);
    expect((b >> 50n) & 0xfn).toBe(6n);
    expect((b >> 55n) & 1n).toBe(1n);
    expect((b >> 56n) & 1n).toBe(1n);
    expect((b >> 58n) & 1n).toBe(1n);
    expect(b & (0x1fn << 59n | 1n << 57n | 1n << 31n)).toBe(0n); // reserved bits
    expect((capabilityMsr(bare, 'IA32_VMX_BASIC') >> 58n) & 1n).toBe(0n);
    expect((capabilityMsr(vmxCapabilities({ noErrorCodeCheck: false }), 'IA32_VMX_BASIC') >> 56n) & 1n).toBe(0n);
  });

  it('exit controls advertise bit 31 and entry controls bit 23 only with FRED, in both plain and TRUE MSRs', () => {
    for (const name of ['IA32_VMX_EXIT_CTLS', 'IA32_VMX_TRUE_EXIT_CTLS']) {
      expect((hi(capabilityMsr(fred, name)) >> 31n) & 1n).toBe(1n);
      expect((hi(capabilityMsr(bare, name)) >> 31n) & 1n).toBe(0n);
    }
    for (const name of ['IA32_VMX_ENTRY_CTLS', 'IA32_VMX_TRUE_ENTRY_CTLS']) {
      expect((hi(capabilityMsr(fred, name)) >> 23n) & 1n).toBe(1n);
      expect((hi(capabilityMsr(bare, name)) >> 23n) & 1n).toBe(0n);
    }
  });

  it('IA32_VMX_EXIT_CTLS2 (0x493) = 3 with FRED, 0 without', () => {
    expect(fred.msrs.get(0x493)).toBe(3n);
    expect(bare.msrs.get(0x493)).toBe(0n);
  });

  it('the plain control MSRs report the default-1 class of src/arch as allowed-0; TRUE MSRs clear only the SDM exceptions', () => {
    const pairs: [string, string, string, bigint][] = [
      ['PIN_BASED_VM_EXEC_CONTROL', 'IA32_VMX_PINBASED_CTLS', 'IA32_VMX_TRUE_PINBASED_CTLS', 0x16n],
      ['CPU_BASED_VM_EXEC_CONTROL', 'IA32_VMX_PROCBASED_CTLS', 'IA32_VMX_TRUE_PROCBASED_CTLS', 0x04006172n],
      ['VM_EXIT_CONTROLS', 'IA32_VMX_EXIT_CTLS', 'IA32_VMX_TRUE_EXIT_CTLS', 0x00036dfbn],
      ['VM_ENTRY_CONTROLS', 'IA32_VMX_ENTRY_CTLS', 'IA32_VMX_TRUE_ENTRY_CTLS', 0x000011fbn],
    ];
    for (const [field, plain, truth, trueAllowed0] of pairs) {
      const d1 = CONTROL_FIELD_LAYOUTS.find((c) => c.field === field)!.default1;
      expect(lo(capabilityMsr(fred, plain)), plain).toBe(d1);
      expect(lo(capabilityMsr(fred, truth)), truth).toBe(trueAllowed0); // vmx-fred.md §3.4 "true:" masks
      expect(hi(capabilityMsr(fred, plain)) & d1).toBe(d1); // allowed-1 includes every bit that must be 1
    }
  });

  it('CR0/CR4 fixed bits: PE, NE, PG and VMXE fixed to 1; CR4_FIXED1 has bit 32 only with FRED', () => {
    expect(capabilityMsr(fred, 'IA32_VMX_CR0_FIXED0')).toBe(0x8000_0021n);
    expect(capabilityMsr(fred, 'IA32_VMX_CR4_FIXED0')).toBe(CR4_BITS.VMXE);
    expect(capabilityMsr(fred, 'IA32_VMX_CR4_FIXED1') & CR4_BITS.FRED).toBe(CR4_BITS.FRED);
    expect(capabilityMsr(bare, 'IA32_VMX_CR4_FIXED1') & CR4_BITS.FRED).toBe(0n);
  });

  it('IA32_VMX_MISC: HLT activity state, 4 CR3 targets, VMWRITE-all (29) clear, zero-length injection (30) by option', () => {
    const m = capabilityMsr(fred, 'IA32_VMX_MISC');
    expect(m & VMX_MISC_BITS.ACTIVITY_HLT).not.toBe(0n);
    expect((m & VMX_MISC_BITS.CR3_TARGETS) >> 16n).toBe(4n);
    expect(m & VMX_MISC_BITS.VMWRITE_ALL).toBe(0n);
    expect(m & VMX_MISC_BITS.ZERO_LENGTH_INJECTION).toBe(0n);
    expect(capabilityMsr(vmxCapabilities({ zeroLengthInjection: true }), 'IA32_VMX_MISC') & VMX_MISC_BITS.ZERO_LENGTH_INJECTION).not.toBe(0n);
  });

  it('IA32_VMX_VMCS_ENUM reports the highest index: injected-event data (0x29) with FRED', () => {
    expect(capabilityMsr(fred, 'IA32_VMX_VMCS_ENUM')).toBe(0x29n << 1n);
    expect(capabilityMsr(bare, 'IA32_VMX_VMCS_ENUM')).toBeLessThan(0x29n << 1n);
  });

  it('EPT/VPID capabilities: 4-level walk, WB, INVEPT and INVVPID', () => {
    const c = capabilityMsr(fred, 'IA32_VMX_EPT_VPID_CAP');
    for (const b of [6n, 14n, 20n, 32n]) expect((c >> b) & 1n).toBe(1n);
  });

  it('capabilityMsr rejects a name that is not a capability MSR', () => {
    expect(() => capabilityMsr(fred, 'IA32_EFER')).toThrow(/not a VMX capability MSR/);
  });
});

describe('controlAllowed', () => {
  it('32-bit controls: every allowed-0 bit set, no bit outside allowed-1', () => {
    const entry = msrIndex('IA32_VMX_TRUE_ENTRY_CTLS');
    expect(controlAllowed(fred, entry, 0x11fbn | (1n << 9n) | (1n << 23n)).ok).toBe(true);
    expect(controlAllowed(fred, entry, 0x11fan)).toEqual({ ok: false, missing: 1n, notAllowed: 0n });
    expect(controlAllowed(fred, entry, 0x11fbn | (1n << 20n))).toEqual({ ok: false, missing: 0n, notAllowed: 1n << 20n });
    expect(controlAllowed(bare, 'IA32_VMX_TRUE_ENTRY_CTLS', 0x11fbn | (1n << 23n)).ok).toBe(false);
  });

  it('EXIT_CTLS2 and PROCBASED_CTLS3 have only allowed-1 bits', () => {
    expect(controlAllowed(fred, 0x493, 3n).ok).toBe(true);
    expect(controlAllowed(fred, 0x493, 0n).ok).toBe(true);
    expect(controlAllowed(fred, 0x493, 4n)).toEqual({ ok: false, missing: 0n, notAllowed: 4n });
    expect(controlAllowed(bare, 0x493, 1n).ok).toBe(false);
    expect(controlAllowed(fred, 'IA32_VMX_PROCBASED_CTLS3', 1n).ok).toBe(false);
  });

  it('rejects an MSR that is not a capability MSR', () => {
    expect(() => controlAllowed(fred, 'IA32_STAR', 0n)).toThrow(/not a VMX capability MSR/);
  });
});

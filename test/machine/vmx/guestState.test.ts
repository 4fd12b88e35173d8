import { describe, expect, it } from 'vitest';
import { CR4_BITS, msrIndex } from '../../../src/arch/index';
import { vmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { setUpVmcs } from '../../../src/machine/vmx/controls';
import { checkVmEntry } from '../../../src/machine/vmx/entryChecks';
import { GUEST_FRED_MSR_FIELDS, loadGuestState, loadHostFredState, saveGuestState } from '../../../src/machine/vmx/guestState';
import { DEFAULT_VMX_POLICY } from '../../../src/machine/vmx/policy';
import { Vmcs } from '../../../src/machine/vmx/vmcs';
import { machineFor } from '../helpers';

function bootVmcs(fred = true) {
  const m = machineFor('_start:\n  hlt\n');
  const vmcs = new Vmcs({ fred });
  setUpVmcs(vmcs, vmxCapabilities({ fred }), DEFAULT_VMX_POLICY);
  saveGuestState(m.cpu, vmcs, 'all');
  return { m, vmcs };
}

describe('guest state from the booted machine (ARCHITECTURE §3)', () => {
  it('the boot state is a valid 64-bit VMX guest', () => {
    expect(checkVmEntry(bootVmcs().vmcs, vmxCapabilities())).toBeUndefined();
    expect(checkVmEntry(bootVmcs(false).vmcs, vmxCapabilities({ fred: false }))).toBeUndefined();
  });

  it('captures segments in the access-rights format, RIP, CR4 with VMXE, EFER', () => {
    const { m, vmcs } = bootVmcs();
    expect(vmcs.get('GUEST_CS_SELECTOR')).toBe(0x10n);
    expect(vmcs.get('GUEST_CS_AR_BYTES') & 0x2000n).toBe(0x2000n); // L
    expect(vmcs.get('GUEST_TR_AR_BYTES') & 0xfn).toBe(11n); // busy 64-bit TSS
    expect(vmcs.get('GUEST_RIP')).toBe(m.getRip());
    expect(vmcs.get('GUEST_CR4')).toBe(m.cpu.cr4 | CR4_BITS.VMXE);
    expect(vmcs.get('GUEST_IA32_EFER')).toBe(m.cpu.efer);
    expect(vmcs.get('GUEST_ACTIVITY_STATE')).toBe(0n);
  });

  it('the guest FRED fields hold MSRs 0x1CD–0x1D4; RSP0 is not a VMCS field', () => {
    expect([...GUEST_FRED_MSR_FIELDS.keys()].sort((a, b) => a - b)).toEqual([0x1cd, 0x1ce, 0x1cf, 0x1d0, 0x1d1, 0x1d2, 0x1d3, 0x1d4]);
    const { m } = bootVmcs();
    m.cpu.msr.set(msrIndex('IA32_FRED_CONFIG'), 0x10_4000n);
    m.cpu.msr.set(msrIndex('IA32_FRED_RSP0'), 0x20_0000n);
    const vmcs = new Vmcs({ fred: true });
    setUpVmcs(vmcs, vmxCapabilities(), DEFAULT_VMX_POLICY);
    saveGuestState(m.cpu, vmcs, 'all');
    expect(vmcs.get('GUEST_IA32_FRED_CONFIG')).toBe(0x10_4000n);
  });

  it('round trip: load into another machine restores registers, CPL, interruptibility and activity', () => {
    const { vmcs } = bootVmcs();
    vmcs.set('GUEST_RIP', 0x10_0010n);
    vmcs.set('GUEST_RSP', 0x1234_5670n);
    vmcs.set('GUEST_RFLAGS', 0x202n);
    vmcs.set('GUEST_INTERRUPTIBILITY_INFO', 1n | 8n);
    vmcs.set('GUEST_ACTIVITY_STATE', 1n);
    vmcs.set('GUEST_IA32_FRED_STKLVLS', 0x30000n);
    const other = machineFor('_start:\n  nop\n  hlt\n').cpu;
    loadGuestState(vmcs, other);
    expect(other.rip).toBe(0x10_0010);
    expect(other.gpr(4)).toBe(0x1234_5670n);
    expect(other.rflags).toBe(0x202);
    expect(other.cpl).toBe(0);
    expect(other.shadow).toBe(true);
    expect(other.nmiBlocked).toBe(true);
    expect(other.halted).toBe(true);
    expect(other.cr4 & CR4_BITS.VMXE).toBe(0n);
    expect(other.msr.get(0x1d0)).toBe(0x30000n);
    const again = new Vmcs({ fred: true });
    setUpVmcs(again, vmxCapabilities(), DEFAULT_VMX_POLICY);
    saveGuestState(other, again, 'all');
    expect(again.get('GUEST_INTERRUPTIBILITY_INFO')).toBe(1n | 8n);
    expect(again.get('GUEST_ACTIVITY_STATE')).toBe(1n);
  });

  it('FRED MSRs are loaded only with entry control 23 and saved on exit only with secondary exit control 0', () => {
    const { m, vmcs } = bootVmcs();
    vmcs.set('GUEST_IA32_FRED_RSP1', 0x40_0000n);
    vmcs.set('VM_ENTRY_CONTROLS', vmcs.get('VM_ENTRY_CONTROLS') & ~(1n << 23n));
    loadGuestState(vmcs, m.cpu);
    expect(m.cpu.msr.get(0x1cd)).toBeUndefined();
    m.cpu.msr.set(0x1cd, 0x50_0000n);
    vmcs.set('SECONDARY_VM_EXIT_CONTROLS', 2n);
    saveGuestState(m.cpu, vmcs, 'exit');
    expect(vmcs.get('GUEST_IA32_FRED_RSP1')).toBe(0x40_0000n);
    vmcs.set('SECONDARY_VM_EXIT_CONTROLS', 3n);
    saveGuestState(m.cpu, vmcs, 'exit');
    expect(vmcs.get('GUEST_IA32_FRED_RSP1')).toBe(0x50_0000n);
  });

  it('VM exit with "load host FRED state" puts the host FRED values into the CPU MSRs; RSP0 is untouched', () => {
    const { vmcs } = bootVmcs();
    const msrs = new Map<number, bigint>([[0x1cc, 0x77_0000n]]);
    expect(loadHostFredState(vmcs, msrs)).toBe(true);
    expect(msrs.get(0x1d4)).toBe(vmcs.get('HOST_IA32_FRED_CONFIG'));
    expect(msrs.get(0x1cd)).toBe(vmcs.get('HOST_IA32_FRED_RSP1'));
    expect(msrs.get(0x1cc)).toBe(0x77_0000n);
    vmcs.set('SECONDARY_VM_EXIT_CONTROLS', 1n);
    expect(loadHostFredState(vmcs, new Map())).toBe(false);
  });

  it('a single step pending across an interrupt shadow or HLT is saved as pending BS (SDM §28.3.4); the entry check accepts it', () => {
    const { m, vmcs } = bootVmcs();
    m.cpu.rflags = 0x302; // TF, IF
    m.cpu.blockingBySti = true; // STI with IF = 1
    saveGuestState(m.cpu, vmcs, 'exit');
    expect(vmcs.get('GUEST_PENDING_DBG_EXCEPTIONS')).toBe(0x4000n);
    expect(checkVmEntry(vmcs, vmxCapabilities())).toBeUndefined();
    m.cpu.blockingBySti = false;
    saveGuestState(m.cpu, vmcs, 'exit');
    expect(vmcs.get('GUEST_PENDING_DBG_EXCEPTIONS')).toBe(0n);
  });
});

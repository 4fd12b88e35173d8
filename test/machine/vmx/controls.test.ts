import { describe, expect, it } from 'vitest';
import { CR4_BITS, msrIndex } from '../../../src/arch/index';
import { vmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { HOST_STATE, MONITOR_MEMORY, kvmControls, setUpVmcs } from '../../../src/machine/vmx/controls';
import { checkVmEntry } from '../../../src/machine/vmx/entryChecks';
import { crWriteCausesExit, msrAccessCausesExit } from '../../../src/machine/vmx/intercepts';
import { DEFAULT_VMX_POLICY, parseVmxPolicy, type VmxPolicy } from '../../../src/machine/vmx/policy';
import { Vmcs } from '../../../src/machine/vmx/vmcs';
import { validVmcs } from './fixtures';

/** The fixture's guest state under the monitor's controls and host state. */
function monitorVmcs(fred: boolean, policy: VmxPolicy = DEFAULT_VMX_POLICY) {
  const vmcs = validVmcs(fred);
  const setup = setUpVmcs(vmcs, vmxCapabilities({ fred }), policy);
  return { vmcs, setup };
}

describe('setUpVmcs: KVM-like controls and host state', () => {
  it('pass the VM-entry checks with and without FRED', () => {
    expect(checkVmEntry(monitorVmcs(true).vmcs, vmxCapabilities())).toBeUndefined();
    expect(checkVmEntry(monitorVmcs(false).vmcs, vmxCapabilities({ fred: false }))).toBeUndefined();
  });

  it('with FRED: exit control 31, secondary exit controls save+load FRED, entry control 23 (v9 patch 02)', () => {
    const c = kvmControls(vmxCapabilities());
    expect((c['VM_EXIT_CONTROLS']! >> 31n) & 1n).toBe(1n);
    expect(c['SECONDARY_VM_EXIT_CONTROLS']).toBe(3n);
    expect((c['VM_ENTRY_CONTROLS']! >> 23n) & 1n).toBe(1n);
    const bare = kvmControls(vmxCapabilities({ fred: false }));
    expect(bare['SECONDARY_VM_EXIT_CONTROLS']).toBeUndefined();
    expect((bare['VM_ENTRY_CONTROLS']! >> 23n) & 1n).toBe(0n);
  });

  it('host FRED state is Linux-like: #DB on SL1, NMI and #MC on SL2, #DF on SL3', () => {
    const { vmcs } = monitorVmcs(true);
    const stklvls = vmcs.get('HOST_IA32_FRED_STKLVLS');
    const level = (v: number) => Number((stklvls >> BigInt(2 * v)) & 3n);
    expect([level(1), level(2), level(8), level(18), level(14)]).toEqual([1, 2, 3, 2, 0]);
    expect(vmcs.get('HOST_CR4') & CR4_BITS.FRED).toBe(CR4_BITS.FRED);
    expect(monitorVmcs(false).vmcs.get('HOST_CR4') & CR4_BITS.FRED).toBe(0n);
    expect(HOST_STATE['HOST_IA32_FRED_SSP1']).toBeUndefined(); // SSP1–3 = 0 (no kernel shadow stacks)
  });

  it('the policy decides the exception bitmap and the MSR bitmap', () => {
    const policy = parseVmxPolicy({ exceptionBitmap: ['#PF', '#GP'], msrIntercepts: ['IA32_FRED_CONFIG'] });
    if (!policy.ok || !policy.policy) throw new Error('policy');
    const { vmcs, setup } = monitorVmcs(true, policy.policy);
    expect(vmcs.get('EXCEPTION_BITMAP')).toBe(0x6000n);
    expect(vmcs.get('MSR_BITMAP')).toBe(MONITOR_MEMORY.msrBitmap);
    expect(msrAccessCausesExit(vmcs, setup.msrBitmap, msrIndex('IA32_FRED_CONFIG'), true)).toBe(true);
    expect(msrAccessCausesExit(vmcs, setup.msrBitmap, msrIndex('IA32_FRED_RSP1'), true)).toBe(false);
  });

  it('KVM defaults: IA32_PL0_SSP exits, the FRED stack MSRs do not', () => {
    const { vmcs, setup } = monitorVmcs(true);
    expect(msrAccessCausesExit(vmcs, setup.msrBitmap, msrIndex('IA32_PL0_SSP'), false)).toBe(true);
    expect(msrAccessCausesExit(vmcs, setup.msrBitmap, msrIndex('IA32_FRED_STKLVLS'), false)).toBe(false);
  });

  it('CR4: VMXE and FRED are host-owned (a guest write of CR4.FRED exits), PGE and OSFXSR are the guest\'s', () => {
    const { vmcs } = monitorVmcs(true);
    vmcs.set('CR4_READ_SHADOW', 0x6a0n);
    expect(crWriteCausesExit(vmcs, 4, 0x6a0n | CR4_BITS.FRED)).toBe(true);
    expect(crWriteCausesExit(vmcs, 4, 0x6a0n & ~CR4_BITS.PGE)).toBe(false);
  });

  it('refuses capabilities that do not offer a control it needs', () => {
    const caps = vmxCapabilities();
    const noHlt = { ...caps, msrs: new Map(caps.msrs).set(0x48e, caps.msrs.get(0x48e)! & ~(0x80n << 32n)) };
    expect(() => setUpVmcs(new Vmcs({ fred: true }), noHlt, DEFAULT_VMX_POLICY)).toThrow(/CPU_BASED_VM_EXEC_CONTROL .* not allowed by IA32_VMX_TRUE_PROCBASED_CTLS \(missing 0x0, not allowed 0x80\)/);
  });
});

import { describe, expect, it } from 'vitest';
import { msrIndex } from '../../../src/arch/index';
import { vmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { setUpVmcs } from '../../../src/machine/vmx/controls';
import { EXIT, VmExit, createIntercepts } from '../../../src/machine/vmx/exitSignal';
import { recordVmExit } from '../../../src/machine/vmx/exitInfo';
import { parseVmxPolicy } from '../../../src/machine/vmx/policy';
import { recordVectoring } from '../../../src/machine/vmx/reinjection';
import { Vmcs } from '../../../src/machine/vmx/vmcs';

function intercepts(raw: unknown = {}) {
  const p = parseVmxPolicy(raw);
  if (!p.ok || !p.policy) throw new Error('policy');
  const vmcs = new Vmcs({ fred: true });
  const setup = setUpVmcs(vmcs, vmxCapabilities(), p.policy);
  vmcs.set('CR4_READ_SHADOW', 0x6a0n);
  return { vmcs, hooks: createIntercepts(vmcs, setup.msrBitmap) };
}

describe('VmxIntercepts under the KVM-like controls', () => {
  it('CPUID and VMCALL always exit with their length; HLT exits (HLT exiting)', () => {
    const { hooks } = intercepts();
    expect(hooks.cpuid(2)).toMatchObject({ basicReason: EXIT.CPUID, instructionLength: 2 });
    expect(hooks.vmcall(3)).toMatchObject({ basicReason: EXIT.VMCALL, instructionLength: 3 });
    expect(hooks.hlt(1)?.basicReason).toBe(EXIT.HLT);
  });

  it('RDMSR/WRMSR exit by the policy MSR bitmap', () => {
    const { hooks } = intercepts();
    expect(hooks.msr(msrIndex('IA32_FRED_CONFIG'), true, 2)).toBeUndefined();
    expect(hooks.msr(msrIndex('IA32_PL0_SSP'), false, 2)?.basicReason).toBe(EXIT.MSR_READ);
    expect(hooks.msr(msrIndex('IA32_EFER'), true, 2)?.basicReason).toBe(EXIT.MSR_WRITE);
  });

  it('MOV to CR4 setting FRED exits with the CR-access qualification; reading CR4 gives the shadow', () => {
    const { hooks } = intercepts();
    const e = hooks.crWrite(4, 0, 0x6a0n | (1n << 32n), 3);
    expect(e).toMatchObject({ basicReason: EXIT.CR_ACCESS, qualification: 0x4n, instructionLength: 3 });
    expect(hooks.crWrite(4, 0, 0x620n, 3)).toBeUndefined(); // clearing PGE: guest-owned
    expect(hooks.crRead(3, 1, 3)).toBeUndefined(); // EPT: no CR3 exiting
    expect(hooks.crValue(4, 0x26a0n)).toBe(0x6a0n);
  });

  it('port I/O always exits (unconditional I/O exiting) with the I/O qualification', () => {
    const { hooks } = intercepts();
    expect(hooks.io(0x3f8, 1, false, 1, false)).toMatchObject({ basicReason: EXIT.IO_INSTRUCTION, qualification: 0x3f8_0000n });
  });

  it('exceptions exit by the policy bitmap: #PF with the address as qualification, #UD by default', () => {
    const { hooks } = intercepts({ exceptionBitmap: ['#PF'] });
    const e = hooks.exception(3, 14, 2, true, 0x7000_1000n)!;
    expect(e).toMatchObject({ basicReason: 0, qualification: 0x7000_1000n, event: { type: 3, vector: 14, errorCode: 2, nested: true } });
    expect(hooks.exception(3, 13, 0, false)).toBeUndefined();
    expect(intercepts().hooks.exception(3, 6, undefined, false)?.basicReason).toBe(0);
    expect(intercepts().hooks.exception(3, 14, 2, false, 0x1000n)).toBeUndefined(); // KVM with EPT: no #PF exits
  });

  it('an exit during delivery carries the event being delivered into the exit record', () => {
    const { vmcs } = intercepts();
    const exit = new VmExit(EXIT.EPT_VIOLATION, 0x182n, 0, undefined, undefined, 0x1f_ffc0n, 0x1f_f000n)
      .during({ type: 0, vector: 0x20, instructionLength: 0, nested: false, eventData: 0n });
    recordVmExit(vmcs, {
      basicReason: exit.basicReason, qualification: exit.qualification,
      vectoring: recordVectoring(exit.delivering!, true), guestPhysicalAddress: exit.guestPhysicalAddress,
    }, true);
    expect(vmcs.get('IDT_VECTORING_INFO_FIELD')).toBe(0x8000_0020n);
    expect(vmcs.get('GUEST_PHYSICAL_ADDRESS')).toBe(0x1f_f000n);
  });
});

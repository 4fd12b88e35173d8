// The monitor's part of `fred-lab run` output (src/cli/vmxTrace.ts, src/cli/vmxReport.ts): trace lines
// in words and the `vmx` JSON object (policy as --vmx-config JSON, VMCS grouped as the SDM groups it).
import { describe, expect, test } from 'vitest';
import { VMCS_FIELDS, VMCS_GROUP_TITLES } from '../../src/arch/index';
import { DEFAULT_VMX_POLICY, parseVmxPolicy } from '../../src/machine/vmx/policy';
import { Vmcs } from '../../src/machine/vmx/vmcs';
import { describeInterruption, describeQualification, formatVmEntry, formatVmEntryFailure, formatVmExit } from '../../src/cli/vmxTrace';
import { policyJson, vmcsJson, vmxJson } from '../../src/cli/vmxReport';

describe('trace lines for the monitor records', () => {
  test('interruption information in words, with the nested bit and error code', () => {
    expect(describeInterruption(0x80002b0e, 6)).toBe('hardware exception #PF (vector 14) error 0x6 nested');
    expect(describeInterruption(0x80000202)).toBe('NMI (vector 2)');
    expect(describeInterruption(0x80000701)).toBe('other SYSCALL (vector 1)');
    expect(describeInterruption(0x80000030)).toBe('external interrupt vector 0x30');
    expect(describeInterruption(0x0000030e)).toBeUndefined();
  });

  test('qualifications: CR access, I/O, EPT violation flags, #PF address', () => {
    expect(describeQualification(28, 0x004n, 0)).toBe('MOV to CR4 from RAX');
    expect(describeQualification(28, 0x314n, 0)).toBe('MOV from CR4 into RBX');
    expect(describeQualification(30, (0x3f8n << 16n) | 0x40n, 0)).toBe('OUT port 0x3f8, 1 byte(s)');
    expect(describeQualification(48, 0x18an, 0)).toBe('write, readable, linearValid, finalTranslation');
    expect(describeQualification(0, 0x7ff000n, 0x80000b0e)).toBe('page-fault address 0x7ff000');
    expect(describeQualification(10, 0n, 0)).toBe('');
  });

  test('vmexit during a FRED delivery names the event and the original-event data', () => {
    const line = formatVmExit({
      kind: 'vmexit', icount: 5, basicReason: 48, reasonName: 'EPT violation', qualification: 0x18an,
      exitInterruptionInfo: 0, idtVectoringInfo: 0x80000b0e, idtVectoringErrorCode: 6, originalEventData: 0x7ff000n, guestRip: 0x100040n,
    });
    expect(line).toBe('vmexit EPT violation (48) at rip 0x100040: write, readable, linearValid, finalTranslation; ' +
      'during delivery of hardware exception #PF (vector 14) error 0x6, original-event data 0x7ff000');
  });

  test('vmentry with and without an injected event; entry failure in words', () => {
    expect(formatVmEntry({ kind: 'vmentry', icount: 1, injectedInterruptionInfo: 0, injectedEventData: 0n, instructionLength: 0, checksPassed: true })).toBe('vmentry');
    expect(formatVmEntry({ kind: 'vmentry', icount: 1, injectedInterruptionInfo: 0x80000501, injectedEventData: 0n, instructionLength: 1, checksPassed: true }))
      .toBe('vmentry injecting privileged software exception #DB (vector 1), injected-event data 0x0, instruction length 1');
    expect(formatVmEntryFailure({ kind: 'vmentryFailure', icount: 1, check: 'bit 13 only with type 3', field: 'VM_ENTRY_INTR_INFO_FIELD', value: 0x80002202n, failure: 'vmfail', errorNumber: 7 }))
      .toBe('VM entry failed: bit 13 only with type 3; VM_ENTRY_INTR_INFO_FIELD = 0x80002202 (VMfailValid, VM-instruction error 7 (VM entry with invalid control field(s)))');
  });
});

describe('the vmx JSON object', () => {
  test('the policy is printed in the --vmx-config schema and reads back to the same policy', () => {
    const json = policyJson(DEFAULT_VMX_POLICY);
    expect(json.exceptionBitmap).toEqual(['#DB', '#UD', '#AC', '#MC']);
    expect(json.msrIntercepts).not.toContain('IA32_FRED_CONFIG');
    const back = parseVmxPolicy(JSON.parse(JSON.stringify(json)));
    expect(back).toEqual({ ok: true, policy: DEFAULT_VMX_POLICY });
    const custom = parseVmxPolicy({ exceptionBitmap: ['#PF'], ept: 'eager', interrupts: [{ vector: 0x30, at: 'here' }], nmis: [{ every: 100 }], kvmV9Quirks: true });
    if (!custom.ok || !custom.policy) throw new Error('policy');
    expect(parseVmxPolicy(JSON.parse(JSON.stringify(policyJson(custom.policy))))).toEqual(custom);
  });

  test('the VMCS: every supported field by name in its SDM group, values as hex strings', () => {
    const vmcs = new Vmcs({ fred: true });
    vmcs.set('GUEST_RIP', 0x100000n);
    vmcs.set('VM_EXIT_REASON', 48n);
    const json = vmcsJson(vmcs);
    expect(Object.keys(json)).toEqual(Object.keys(VMCS_GROUP_TITLES));
    expect(json.guestRegisterState.GUEST_RIP).toBe('0x100000');
    expect(json.exitInformation.VM_EXIT_REASON).toBe('0x30');
    expect(json.guestRegisterState).toHaveProperty('GUEST_IA32_FRED_CONFIG');
    const count = Object.values(json).reduce((n, g) => n + Object.keys(g).length, 0);
    expect(count).toBe(VMCS_FIELDS.length);
    const noFred = vmcsJson(new Vmcs({ fred: false }));
    expect(Object.values(noFred).reduce((n, g) => n + Object.keys(g).length, 0)).toBe(VMCS_FIELDS.filter((f) => !f.fred).length);
    expect(vmxJson(undefined)).toBeNull();
    expect(vmxJson({ policy: DEFAULT_VMX_POLICY, exitCount: 3, vmcs })).toMatchObject({ exitCount: 3, policy: { ept: 'lazy' } });
  });
});

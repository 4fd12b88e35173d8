import { describe, expect, it } from 'vitest';
import { vmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { checkVmEntry } from '../../../src/machine/vmx/entryChecks';
import { exitInterruptionInfo, recordVmExit } from '../../../src/machine/vmx/exitInfo';
import { completeInterrupts, recordVectoring } from '../../../src/machine/vmx/reinjection';
import { vmEntryFailureRecord, vmEntryRecord, vmExitRecord } from '../../../src/machine/vmx/traceRecords';
import { Vmcs } from '../../../src/machine/vmx/vmcs';
import { makeFredGuest, validVmcs } from './fixtures';

describe('exit interruption information (vmx-fred.md §1.5)', () => {
  it('bit 13 for a nested exception of a FRED guest only, never for #DF', () => {
    expect(exitInterruptionInfo({ type: 3, vector: 14, errorCode: 2, nested: true }, true)).toBe(0x8000_2b0e);
    expect(exitInterruptionInfo({ type: 3, vector: 14, errorCode: 2, nested: true }, false)).toBe(0x8000_0b0e);
    expect(exitInterruptionInfo({ type: 3, vector: 8, errorCode: 0, nested: true }, true)).toBe(0x8000_0b08);
    expect(exitInterruptionInfo({ type: 2, vector: 2, nested: true }, true)).toBe(0x8000_0202);
  });
});

describe('recordVmExit', () => {
  it('an EPT violation during FRED delivery of a #PF: reason, qualification, addresses, vectoring, original-event data', () => {
    const vmcs = new Vmcs({ fred: true });
    vmcs.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0b0en);
    const vectoring = recordVectoring({ type: 3, vector: 14, errorCode: 2, instructionLength: 0, nested: false, eventData: 0x7000n }, true);
    recordVmExit(vmcs, { basicReason: 48, qualification: 0x182n, vectoring, guestLinearAddress: 0x1f_ffc0n, guestPhysicalAddress: 0x1f_f000n }, true);
    expect(vmcs.get('VM_EXIT_REASON')).toBe(48n);
    expect(vmcs.get('EXIT_QUALIFICATION')).toBe(0x182n);
    expect(vmcs.get('IDT_VECTORING_INFO_FIELD')).toBe(0x8000_0b0en);
    expect(vmcs.get('IDT_VECTORING_ERROR_CODE')).toBe(2n);
    expect(vmcs.get('ORIGINAL_EVENT_DATA')).toBe(0x7000n);
    expect(vmcs.get('GUEST_PHYSICAL_ADDRESS')).toBe(0x1f_f000n);
    expect(vmcs.get('VM_EXIT_INTR_INFO')).toBe(0n);
    expect(vmcs.get('VM_ENTRY_INTR_INFO_FIELD')).toBe(0x0000_0b0en); // valid bit cleared by every exit
  });

  it('an instruction exit records its length and no vectoring; a FRED-less VMCS has no original-event data field', () => {
    const vmcs = new Vmcs({ fred: false });
    vmcs.set('IDT_VECTORING_INFO_FIELD', 0x8000_0030n);
    recordVmExit(vmcs, { basicReason: 10, instructionLength: 2 }, false);
    expect(vmcs.get('VM_EXIT_INSTRUCTION_LEN')).toBe(2n);
    expect(vmcs.get('IDT_VECTORING_INFO_FIELD')).toBe(0n);
  });
});

describe('trace records (ARCHITECTURE §4)', () => {
  it('vmexit: reason name, exit interruption info with its error code, vectoring, original-event data, guest RIP', () => {
    const vmcs = new Vmcs({ fred: true });
    vmcs.set('GUEST_RIP', 0x10_0020n);
    recordVmExit(vmcs, {
      basicReason: 0, event: { type: 3, vector: 13, errorCode: 0x18, nested: true },
      vectoring: recordVectoring({ type: 0, vector: 0x20, instructionLength: 0, nested: false, eventData: 0n }, true),
    }, true);
    expect(vmExitRecord(vmcs, 7)).toEqual({
      kind: 'vmexit', icount: 7, basicReason: 0, reasonName: 'exception or NMI', qualification: 0n,
      exitInterruptionInfo: 0x8000_2b0d, exitInterruptionErrorCode: 0x18, idtVectoringInfo: 0x8000_0020,
      originalEventData: 0n, guestRip: 0x10_0020n,
    });
  });

  it('vmentry after re-injection carries the injected event; vmentryFailure the check in words', () => {
    const vmcs = validVmcs();
    makeFredGuest(vmcs);
    const r = completeInterrupts({ idtVectoringInfo: 0x8000_2b0e, idtVectoringErrorCode: 4, exitInstructionLength: 0, originalEventData: 0xbeefn }, 0, { guestFred: true, kvmV9Quirks: false });
    expect(r.event?.nested).toBe(true);
    vmcs.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_2b0en);
    vmcs.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 4n);
    vmcs.set('INJECTED_EVENT_DATA', 0xbeefn);
    expect(vmEntryRecord(vmcs, 9)).toEqual({
      kind: 'vmentry', icount: 9, injectedInterruptionInfo: 0x8000_2b0e, injectedErrorCode: 4, injectedEventData: 0xbeefn,
      instructionLength: 0, checksPassed: true,
    });
    vmcs.set('GUEST_SS_AR_BYTES', vmcs.get('GUEST_SS_AR_BYTES') | 0x20n);
    const f = checkVmEntry(vmcs, vmxCapabilities())!;
    expect(vmEntryFailureRecord(f, 9)).toEqual({
      kind: 'vmentryFailure', icount: 9, check: f.check, field: 'GUEST_SS_AR_BYTES', value: vmcs.get('GUEST_SS_AR_BYTES'),
      failure: 'exit', errorNumber: 33,
    });
    expect(f.check).toContain('SS.DPL');
  });
});

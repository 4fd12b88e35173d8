import { describe, expect, it } from 'vitest';
import { vmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { checkVmEntry } from '../../../src/machine/vmx/entryChecks';
import { entryInjection, injectedEvent } from '../../../src/machine/vmx/injection';
import { NO_VECTORING, completeInterrupts, eventFromInfo, recordVectoring, type VectoringFields } from '../../../src/machine/vmx/reinjection';
import { makeFredGuest, validVmcs } from './fixtures';

const FRED = { guestFred: true, kvmV9Quirks: false };
const IDT = { guestFred: false, kvmV9Quirks: false };
const QUIRKS = { guestFred: true, kvmV9Quirks: true };
const vect = (idtVectoringInfo: number, over: Partial<VectoringFields> = {}): VectoringFields =>
  ({ idtVectoringInfo, idtVectoringErrorCode: 0, exitInstructionLength: 0, originalEventData: 0n, ...over });

describe('recordVectoring: what a VM exit during delivery stores', () => {
  const pf = { type: 3 as const, vector: 14, errorCode: 2, instructionLength: 0, eventData: 0x7000_1000n };

  it('a nested exception of a FRED guest sets bit 13 and the original-event data', () => {
    expect(recordVectoring({ ...pf, nested: true }, true)).toEqual(
      { idtVectoringInfo: 0x8000_2b0e, idtVectoringErrorCode: 2, exitInstructionLength: 0, originalEventData: 0x7000_1000n });
  });

  it('not nested → no bit 13; IDT guest → neither bit 13 nor event data', () => {
    expect(recordVectoring({ ...pf, nested: false }, true).idtVectoringInfo).toBe(0x8000_0b0e);
    expect(recordVectoring({ ...pf, nested: true }, false)).toEqual(
      { idtVectoringInfo: 0x8000_0b0e, idtVectoringErrorCode: 2, exitInstructionLength: 0, originalEventData: 0n });
  });

  it('#DF is never nested; software events record their length', () => {
    expect(recordVectoring({ type: 3, vector: 8, errorCode: 0, instructionLength: 0, nested: true, eventData: 0n }, true).idtVectoringInfo).toBe(0x8000_0b08);
    expect(recordVectoring({ type: 4, vector: 0x80, instructionLength: 2, nested: false, eventData: 0n }, true).exitInstructionLength).toBe(2);
    expect(recordVectoring({ type: 0, vector: 0x20, instructionLength: 5, nested: false, eventData: 0n }, true).exitInstructionLength).toBe(0);
  });
});

describe('completeInterrupts (KVM __vmx_complete_interrupts)', () => {
  it('nothing to re-inject when IDT-vectoring information is not valid', () => {
    expect(completeInterrupts(NO_VECTORING, 0, FRED)).toEqual({ event: undefined, clearNmiBlocking: false, setNmiBlocking: false, ripAdvance: 0 });
  });

  it('a hardware exception keeps vector, error code, nested bit and original-event data (FRED guest)', () => {
    const r = completeInterrupts(vect(0x8000_2b0e, { idtVectoringErrorCode: 0x11, originalEventData: 0xabcdn, exitInstructionLength: 4 }), 0, FRED);
    expect(r.event).toEqual({ type: 3, vector: 14, errorCode: 0x11, instructionLength: 0, nested: true, eventData: 0xabcdn });
  });

  it('an IDT guest re-injects event data 0', () => {
    expect(completeInterrupts(vect(0x8000_0b0e, { originalEventData: 0xabcdn }), 0, IDT).event?.eventData).toBe(0n);
  });

  it('the undefined bit 12 is dropped and the error code only taken with bit 11', () => {
    const r = completeInterrupts(vect(0x8000_1306, { idtVectoringErrorCode: 7 }), 0, FRED);
    expect(r.event).toEqual({ type: 3, vector: 6, instructionLength: 0, nested: false, eventData: 0n });
    expect(entryInjection(r.event!, true).interruptionInfo).toBe(0x8000_0306);
  });

  it.each([
    [0x8000_0480, 4], [0x8000_0603, 6], [0x8000_0701, 7],
  ])('type of %s keeps the exit instruction length', (info, type) => {
    const r = completeInterrupts(vect(info, { exitInstructionLength: 2 }), 0, FRED);
    expect(r.event).toMatchObject({ type, instructionLength: 2 });
    expect(entryInjection(r.event!, true).instructionLength).toBe(2);
  });

  it('an NMI is re-injected with NMI blocking cleared', () => {
    const r = completeInterrupts(vect(0x8000_0202), 0, FRED);
    expect(r.event).toMatchObject({ type: 2, vector: 2 });
    expect(r.clearNmiBlocking).toBe(true);
  });

  it('an external interrupt is re-injected as such', () => {
    expect(completeInterrupts(vect(0x8000_0030), 0, FRED).event).toMatchObject({ type: 0, vector: 0x30, instructionLength: 0 });
  });

  it('NMI unblocking due to IRET (exit info bit 12) sets NMI blocking unless a delivery was interrupted or the vector is #DF', () => {
    expect(completeInterrupts(NO_VECTORING, 0x8000_130e, FRED).setNmiBlocking).toBe(true);
    expect(completeInterrupts(NO_VECTORING, 0x8000_1b08, FRED).setNmiBlocking).toBe(false);
    expect(completeInterrupts(vect(0x8000_0030), 0x8000_130e, FRED).setNmiBlocking).toBe(false);
    expect(completeInterrupts(NO_VECTORING, 0x8000_030e, FRED).setNmiBlocking).toBe(false);
  });

  it('ICEBP (type 5) stays type 5 with its length by default (trap semantics, vmx-fred.md §1.14)', () => {
    const r = completeInterrupts(vect(0x8000_0501, { exitInstructionLength: 1 }), 0, FRED);
    expect(r.event).toMatchObject({ type: 5, vector: 1, instructionLength: 1 });
    expect(r.ripAdvance).toBe(0);
    expect(entryInjection(r.event!, true)).toMatchObject({ interruptionInfo: 0x8000_0501, instructionLength: 1 });
  });

  it('ICEBP with kvmV9Quirks: v9 skips the instruction and injects #DB as type 3', () => {
    const r = completeInterrupts(vect(0x8000_0501, { exitInstructionLength: 1 }), 0, QUIRKS);
    expect(r.event).toMatchObject({ type: 3, vector: 1, instructionLength: 0 });
    expect(r.ripAdvance).toBe(1);
    expect(entryInjection(r.event!, true).interruptionInfo).toBe(0x8000_0301);
  });

  it('a reflected exception (exit interruption information) follows the same rule', () => {
    expect(eventFromInfo(0x8000_0501, 0, 1, 0n, FRED).event?.type).toBe(5);
    expect(eventFromInfo(0x8000_0501, 0, 1, 0n, QUIRKS)).toMatchObject({ event: { type: 3 }, ripAdvance: 1 });
    expect(eventFromInfo(0x0000_030e, 0, 0, 0n, FRED)).toEqual({ ripAdvance: 0 });
  });
});

describe('seed scenario: a #PF whose FRED delivery a VM exit interrupted (lazy EPT on the stack)', () => {
  const FAULT_ADDRESS = 0x0000_7fff_f000_1008n;
  const GUEST_RIP = 0x10_0040n;

  for (const nested of [false, true]) {
    it(`${nested ? 'nested #PF (raised while delivering an interrupt)' : '#PF from an instruction'}: record → VMCS → re-inject → deliver`, () => {
      const vmcs = validVmcs();
      makeFredGuest(vmcs);
      vmcs.set('GUEST_RIP', GUEST_RIP);
      // The CPU records the interrupted delivery in the exit-information fields.
      const rec = recordVectoring({ type: 3, vector: 14, errorCode: 6, instructionLength: 0, nested, eventData: FAULT_ADDRESS }, true);
      vmcs.set('IDT_VECTORING_INFO_FIELD', BigInt(rec.idtVectoringInfo));
      vmcs.set('IDT_VECTORING_ERROR_CODE', BigInt(rec.idtVectoringErrorCode));
      vmcs.set('VM_EXIT_INSTRUCTION_LEN', BigInt(rec.exitInstructionLength));
      vmcs.set('ORIGINAL_EVENT_DATA', rec.originalEventData);
      expect(vmcs.get('IDT_VECTORING_INFO_FIELD')).toBe(nested ? 0x8000_2b0en : 0x8000_0b0en);
      expect(vmcs.get('ORIGINAL_EVENT_DATA')).toBe(FAULT_ADDRESS);

      // The monitor reads them back (after fixing the EPT violation) and re-injects.
      const r = completeInterrupts({
        idtVectoringInfo: Number(vmcs.get('IDT_VECTORING_INFO_FIELD')),
        idtVectoringErrorCode: Number(vmcs.get('IDT_VECTORING_ERROR_CODE')),
        exitInstructionLength: Number(vmcs.get('VM_EXIT_INSTRUCTION_LEN')),
        originalEventData: vmcs.get('ORIGINAL_EVENT_DATA'),
      }, 0, FRED);
      const entry = entryInjection(r.event!, true);
      expect(entry).toEqual({ interruptionInfo: nested ? 0x8000_2b0e : 0x8000_0b0e, errorCode: 6, instructionLength: 0, injectedEventData: FAULT_ADDRESS });
      vmcs.vmwrite(0x4016, BigInt(entry.interruptionInfo));
      vmcs.vmwrite(0x4018, BigInt(entry.errorCode!));
      vmcs.vmwrite(0x401a, BigInt(entry.instructionLength));
      vmcs.vmwrite(0x2052, entry.injectedEventData!);
      expect(checkVmEntry(vmcs, vmxCapabilities())).toBeUndefined();

      // VM entry delivers it through the guest's FRED: same #PF, same event data, nested as recorded.
      const d = injectedEvent({
        interruptionInfo: Number(vmcs.get('VM_ENTRY_INTR_INFO_FIELD')), errorCode: Number(vmcs.get('VM_ENTRY_EXCEPTION_ERROR_CODE')),
        instructionLength: Number(vmcs.get('VM_ENTRY_INSTRUCTION_LEN')), injectedEventData: vmcs.get('INJECTED_EVENT_DATA'),
      }, vmcs.get('GUEST_RIP'), true);
      expect(d).toEqual({
        kind: 'deliver', nested,
        event: { type: 3, vector: 14, errorCode: 6, rip: Number(GUEST_RIP), instructionLength: 0, eventData: FAULT_ADDRESS },
      });
    });
  }

  it('without IA32_VMX_BASIC[58] the re-injected nested bit would fail VM entry (error 7)', () => {
    const vmcs = validVmcs();
    makeFredGuest(vmcs);
    vmcs.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_2b0en);
    const caps = vmxCapabilities();
    const noNested = { ...caps, msrs: new Map(caps.msrs).set(0x480, caps.msrs.get(0x480)! & ~(1n << 58n)) };
    expect(checkVmEntry(vmcs, noNested)?.outcome).toEqual({ kind: 'vmfail', vmInstructionError: 7 });
  });
});

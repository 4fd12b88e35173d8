import { describe, expect, it } from 'vitest';
import { decodeInterruptionInfo } from '../../../src/arch/index';
import {
  InjectionQueue, entryInjection, exceptionEventData, injectedEvent, type QueuedEvent,
} from '../../../src/machine/vmx/injection';

const ev = (over: Partial<QueuedEvent>): QueuedEvent => ({ type: 3, vector: 13, instructionLength: 0, nested: false, eventData: 0n, ...over });

describe('exception event data per vector (vmx-fred.md §1.7)', () => {
  it('#PF: the faulting address; #NM: XFD_ERR; #DB: pending-debug bits without bit 12; others 0', () => {
    expect(exceptionEventData(14, 0xffff_8000_dead_b000n)).toBe(0xffff_8000_dead_b000n);
    expect(exceptionEventData(7, 1n << 18n)).toBe(1n << 18n);
    expect(exceptionEventData(1, 0x500fn)).toBe(0x400fn);
    expect(exceptionEventData(13, 0x1234n)).toBe(0n);
    expect(exceptionEventData(2, 5n)).toBe(0n);
  });
});

describe('InjectionQueue (KVM kvm_multiple_exception)', () => {
  it('a first exception is not nested; its error code and event data are filled', () => {
    const q = new InjectionQueue();
    expect(q.queueException({ vector: 14, errorCode: 2, payload: 0x7000n })).toBe('queued');
    expect(q.next()).toEqual({ type: 3, vector: 14, errorCode: 2, instructionLength: 0, nested: false, eventData: 0x7000n });
  });

  it('an exception while an NMI or an interrupt is being injected is nested', () => {
    const q = new InjectionQueue();
    q.queueNmi();
    q.queueException({ vector: 14, errorCode: 0, payload: 0x1000n });
    expect(q.exception?.nested).toBe(true);
    const r = new InjectionQueue();
    r.queueInterrupt(0x20);
    r.queueException({ vector: 13, errorCode: 0 });
    expect(r.exception?.nested).toBe(true);
  });

  it('benign after anything: the newer exception replaces the older one, nested', () => {
    const q = new InjectionQueue();
    q.queueException({ vector: 14, errorCode: 0, payload: 0x1000n });
    expect(q.queueException({ vector: 6 })).toBe('queued');
    expect(q.exception).toMatchObject({ vector: 6, nested: true, errorCode: undefined, eventData: 0n });
  });

  it('contributory after #PF escalates to #DF (error code 0, not nested, event data 0)', () => {
    const q = new InjectionQueue();
    q.queueException({ vector: 14, errorCode: 0, payload: 0x1000n });
    expect(q.queueException({ vector: 13, errorCode: 0 })).toBe('doubleFault');
    expect(q.exception).toEqual({ type: 3, vector: 8, errorCode: 0, instructionLength: 0, nested: false, eventData: 0n });
  });

  it('a fault on top of #DF is a triple fault', () => {
    const q = new InjectionQueue();
    q.queueException({ vector: 13, errorCode: 0 });
    q.queueException({ vector: 11, errorCode: 0x10 });
    expect(q.exception?.vector).toBe(8);
    expect(q.queueException({ vector: 14, errorCode: 0 })).toBe('tripleFault');
    expect(q.exception).toBeUndefined();
  });

  it('#BP/#OF are software exceptions (type 6) with their length; vectors without an error code drop it', () => {
    const q = new InjectionQueue();
    q.queueException({ vector: 3, instructionLength: 1, errorCode: 5 });
    expect(q.exception).toMatchObject({ type: 6, vector: 3, instructionLength: 1, errorCode: undefined });
  });

  it('priority: exception, then NMI, then interrupt; clear() empties the queue', () => {
    const q = new InjectionQueue();
    q.queueInterrupt(0x30);
    expect(q.next()).toMatchObject({ type: 0, vector: 0x30 });
    q.queueNmi();
    expect(q.next()).toMatchObject({ type: 2, vector: 2 });
    q.queueException({ vector: 6 });
    expect(q.next()).toMatchObject({ type: 3, vector: 6 });
    q.clear();
    expect(q.next()).toBeUndefined();
    q.queueInterrupt(0x80, 2);
    expect(q.next()).toMatchObject({ type: 4, vector: 0x80, instructionLength: 2 });
  });
});

describe('entryInjection: the VM-entry fields (vmx-fred.md §1.13 injectException)', () => {
  it('a nested #PF into a FRED guest sets bit 13, the error code and the injected-event data', () => {
    const e = entryInjection(ev({ vector: 14, errorCode: 3, nested: true, eventData: 0x7000_1000n }), true);
    expect(e).toEqual({ interruptionInfo: 0x8000_2b0e, errorCode: 3, instructionLength: 0, injectedEventData: 0x7000_1000n });
  });

  it('an IDT guest never gets bit 13, and the event-data field is left alone', () => {
    const e = entryInjection(ev({ vector: 14, errorCode: 3, nested: true, eventData: 0x7000_1000n }), false);
    expect(e).toEqual({ interruptionInfo: 0x8000_0b0e, errorCode: 3, instructionLength: 0 });
  });

  it('bit 13 only for type 3 and never for #DF', () => {
    expect(entryInjection(ev({ vector: 8, errorCode: 0, nested: true }), true).interruptionInfo).toBe(0x8000_0b08);
    expect(entryInjection(ev({ type: 6, vector: 3, nested: true, instructionLength: 1 }), true).interruptionInfo).toBe(0x8000_0603);
  });

  it('software events carry their length; NMIs and interrupts inject event data 0 into a FRED guest', () => {
    expect(entryInjection(ev({ type: 4, vector: 0x80, instructionLength: 2 }), true)).toEqual(
      { interruptionInfo: 0x8000_0480, instructionLength: 2, injectedEventData: 0n });
    expect(entryInjection(ev({ type: 2, vector: 2, instructionLength: 3 }), true)).toEqual(
      { interruptionInfo: 0x8000_0202, instructionLength: 0, injectedEventData: 0n });
  });
});

describe('injectedEvent: VM-entry fields → MachineEvent for deliverEvent', () => {
  const RIP = 0x10_2000n;

  it('a hardware exception saves the guest RIP, length 0, the injected-event data; no CR2 write', () => {
    const d = injectedEvent({ interruptionInfo: 0x8000_2b0e, errorCode: 6, instructionLength: 3, injectedEventData: 0xdead_0000n }, RIP, true);
    expect(d).toEqual({
      kind: 'deliver', nested: true,
      event: { type: 3, vector: 14, errorCode: 6, rip: 0x10_2000, instructionLength: 0, eventData: 0xdead_0000n },
    });
    if (d.kind === 'deliver') expect(d.event.address).toBeUndefined();
  });

  it.each([
    [0x8000_0480, 'INT n'], [0x8000_0501, 'INT1'], [0x8000_0603, 'INT3'], [0x8000_0701, 'SYSCALL'], [0x8000_0702, 'SYSENTER'],
  ])('%s (%s) saves RIP + instruction length and reports the length', (info) => {
    const d = injectedEvent({ interruptionInfo: info, instructionLength: 2, injectedEventData: 0n }, RIP, true);
    expect(d.kind).toBe('deliver');
    if (d.kind === 'deliver') {
      expect(d.event.rip).toBe(0x10_2002);
      expect(d.event.instructionLength).toBe(2);
      expect(d.event.type).toBe(decodeInterruptionInfo(info).type);
      expect(d.nested).toBe(false);
    }
  });

  it('an IDT guest gets event data 0; high canonical RIPs stay exact', () => {
    const d = injectedEvent({ interruptionInfo: 0x8000_0020, instructionLength: 0, injectedEventData: 5n }, 0xffff_ffff_8000_0ffen, false);
    expect(d).toEqual({ kind: 'deliver', nested: false, event: { type: 0, vector: 0x20, errorCode: undefined, rip: -0x7fff_f002, instructionLength: 0, eventData: 0n } });
  });

  it('type 7 vector 0 is a pending MTF VM exit, not a delivery', () => {
    expect(injectedEvent({ interruptionInfo: 0x8000_0700, instructionLength: 0 }, RIP, true)).toEqual({ kind: 'pendingMtf' });
  });
});

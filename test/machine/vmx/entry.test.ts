// VM entry with event injection (SDM Vol. 3C §27.6; vmx-fred.md §1.5–§1.8): every interruption type
// the debugger (requestInjection) or hypercall 2 asks for is delivered through the guest's own
// mechanism — FRED or the IDT — exactly as the VM-entry fields say; a request the hardware refuses
// fails the VM entry, and the stop names the check.
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/machine/machine';
import { KERNEL_LIB } from '../helpers';
import { frameAt, rsp, STACKS, wrmsr } from '../fred/harness';
import { deliveries, entries, plain, runFred, runSource, valid } from './guest';

/** The VM entries that injected an event. */
const injecting = (m: Machine) => entries(m).filter((e) => e.injectedInterruptionInfo >= valid(0));

interface Request { type: number; vector: number; errorCode?: number; eventData?: bigint; nested?: boolean; instructionLength?: number }

const REQUESTS: Record<string, Request> = {
  'external interrupt (0)': { type: 0, vector: 0x41 },
  'NMI (2)': { type: 2, vector: 2 },
  'hardware exception (3) with error code and event data': { type: 3, vector: 14, errorCode: 2, eventData: 0x7fff0000n },
  'software interrupt (4)': { type: 4, vector: 0x80, instructionLength: 2 },
  'privileged software exception (5)': { type: 5, vector: 1, instructionLength: 1 },
  'software exception (6)': { type: 6, vector: 3, instructionLength: 1 },
};

/** Halt (IF = 1 so interrupts can be injected), then inject `req` at the next run. */
function injectAfterHalt(run: () => { m: Machine; stop: { reason: string } }, req: Request) {
  const r = run();
  expect(r.stop.reason).toBe('halted');
  const haltedAt = r.m.getRip();
  r.m.vmx!.requestInjection(req);
  const stop = r.m.run();
  return { ...r, stop, haltedAt };
}

describe('injection into a FRED guest', () => {
  const fredGuest = () => runFred({ stklvls: '1 << 2', body: 'sti\nhlt', kernelHandler: 'hlt' });

  it.each(Object.entries(REQUESTS))('%s: delivered by FRED with the injected fields (type, vector, length, event data)', (_name, req) => {
    const r = injectAfterHalt(fredGuest, req);
    expect(r.stop.reason).toBe('halted');
    const info = valid(req.vector | (req.type << 8) | (req.errorCode !== undefined ? 0x800 : 0));
    expect(injecting(r.m).at(-1)).toMatchObject({ injectedInterruptionInfo: info, injectedEventData: req.eventData ?? 0n });
    expect(deliveries(r.m)).toMatchObject([{ mechanism: 'fred', type: req.type, vector: req.vector, injected: true, errorCode: req.errorCode }]);
    const f = frameAt(r.m, rsp(r.m));
    expect(f.ss).toMatchObject({ type: req.type, vector: req.vector, insnLen: req.type >= 4 ? req.instructionLength : 0 });
    expect(f.eventData).toBe(req.eventData ?? 0n);
    expect(f.rip).toBe(r.haltedAt + BigInt(req.type >= 4 ? req.instructionLength! : 0));
    if (req.errorCode !== undefined) expect(f.errorCode).toBe(BigInt(req.errorCode));
  });

  it('other event (7) SYSCALL with its length; the nested bit (13) on a hardware exception picks the nested stack level', () => {
    const syscall = injectAfterHalt(fredGuest, { type: 7, vector: 1, instructionLength: 2 });
    expect(frameAt(syscall.m, rsp(syscall.m)).ss).toMatchObject({ type: 7, vector: 1, insnLen: 2, swevent: true });
    // #PF nested, STKLVLS[14] = 2: level 2 even though the ring-0 event would stay on level 0.
    const nested = injectAfterHalt(() => runFred({ stklvls: '2 << 28', body: 'sti\nhlt', kernelHandler: 'hlt' }),
      { type: 3, vector: 14, errorCode: 0, nested: true });
    expect(injecting(nested.m).at(-1)!.injectedInterruptionInfo).toBe(valid(0x2b0e));
    expect(deliveries(nested.m)).toMatchObject([{ nested: true, newCsl: 2, injected: true }]);
    expect(rsp(nested.m)).toBe(STACKS.rsp2 - 64n);
    expect(frameAt(nested.m, rsp(nested.m)).ss.nested).toBe(true);
  });
});

describe('injection into an IDT guest', () => {
  const gates = [1, 2, 3, 13, 14, 0x41, 0x80].map((v) => `mov edi, ${v}\nlea rsi, [rel handler]\nmov edx, 0xee00\ncall set_gate`).join('\n');
  const idtGuest = () => runSource(plain(`${gates}\ncall load_idt\nsti\nhlt\njmp $\nhandler: hlt\n${KERNEL_LIB}`));

  it.each(Object.entries(REQUESTS))('%s: delivered through the IDT gate', (_name, req) => {
    const r = injectAfterHalt(idtGuest, req);
    expect(r.stop.reason).toBe('halted');
    expect(deliveries(r.m)).toMatchObject([{ mechanism: 'idt', type: req.type, vector: req.vector, injected: true, errorCode: req.errorCode, eventData: 0n }]);
    const top = rsp(r.m);
    const pushedRip = r.m.readMemory(top + (req.errorCode !== undefined ? 8n : 0n), 8);
    expect(Buffer.from(pushedRip).readBigUInt64LE()).toBe(r.haltedAt + BigInt(req.type >= 4 ? req.instructionLength! : 0));
  });

  it('type 7 SYSCALL is refused without CR4.FRED: the VM entry fails and names the check', () => {
    const r = injectAfterHalt(idtGuest, { type: 7, vector: 1, instructionLength: 2 });
    expect(r.stop.reason).toBe('vmentryFailure');
    expect(r.stop.message).toMatch(/VM_ENTRY_INTR_INFO_FIELD = 0x80000701/);
    expect(r.m.trace.records.at(-1)).toMatchObject({ kind: 'vmentryFailure', field: 'VM_ENTRY_INTR_INFO_FIELD', value: 0x80000701n, failure: 'vmfail', errorNumber: 7 });
    expect(deliveries(r.m)).toEqual([]);
  });
});

describe('hypercall 2: inject what RBX asks for', () => {
  it('delivers the requested #GP with its error code at the next entry', () => {
    const r = runFred({ body: 'mov eax, 2\nmov ebx, 0x80000b0d\nmov ecx, 0x18\nxor edx, edx\nxor r8d, r8d\nvmcall\nafter:', kernelHandler: 'hlt' });
    expect(r.stop.reason).toBe('halted');
    expect(deliveries(r.m)).toMatchObject([{ type: 3, vector: 13, errorCode: 0x18, injected: true, fromRip: r.p.symbol('after') }]);
    expect(r.m.getGpr(0)).toBe(0n);
  });

  it('a request the hardware refuses (nested bit with an NMI) fails the VM entry; the stop names the check, field and value', () => {
    const r = runFred({ body: 'mov eax, 2\nmov ebx, 0x80002202\nxor ecx, ecx\nxor edx, edx\nxor r8d, r8d\nvmcall', kernelHandler: 'hlt' });
    expect(r.stop.reason).toBe('vmentryFailure');
    expect(r.stop.message).toMatch(/^VM-entry failure: .*bit 13.*; VM_ENTRY_INTR_INFO_FIELD = 0x80002202 \(VMfailValid, VM-instruction error 7\)$/);
    expect(r.m.trace.records.filter((x) => x.kind === 'vmentryFailure')).toHaveLength(1);
    // The next run tries the same entry again (the VMCS is unchanged): the same failure.
    expect(r.m.run().reason).toBe('vmentryFailure');
    // Fixed in the VMCS (as a user would in the VMCS view), the entry succeeds and the guest goes on.
    r.m.vmx!.vmcs.set('VM_ENTRY_INTR_INFO_FIELD', 0n);
    expect(r.m.run().message).toBe(`halted (HLT with RFLAGS.IF = 0) before 0x${(r.p.symbol('done') + 1n).toString(16)}`);
    expect(deliveries(r.m)).toEqual([]);
  });

  it('an NMI (0x80000202) is injected on its STKLVLS level', () => {
    const r = runFred({ body: `${wrmsr('IA32_FRED_STKLVLS', '0x30')}\nmov eax, 2\nmov ebx, 0x80000202\nxor ecx, ecx\nxor edx, edx\nxor r8d, r8d\nvmcall`, kernelHandler: 'hlt' });
    expect(r.stop.reason).toBe('halted');
    expect(deliveries(r.m)).toMatchObject([{ type: 2, vector: 2, injected: true, newCsl: 3 }]);
    expect(r.m.cpu.nmiBlocked).toBe(true);
  });
});

// The monitor's API as the debugger and the CLI use it (docs/vmx.md "API"): stopAtVmExit,
// requestInjection with the vCPU kick, the lazily filled guest-state area (reads show the exit-time
// state, writes take effect at the next VM entry after its checks), and VMX state in snapshots.
import { describe, expect, it } from 'vitest';
import { boot, fredSource, program } from '../fred/harness';
import { deliveries, entryAfter, exits, KVM, plain, stopAt, valid } from './guest';

const CPUID_TWICE = plain('first: cpuid\nsecond: cpuid\nmov r15, 0x1234\nhlt');

describe('stopAtVmExit', () => {
  it('stops right after the exit is recorded, before handling; the next run handles it and goes on', () => {
    const p = program(CPUID_TWICE);
    const m = boot(p, { vmx: KVM });
    const seen: number[] = [];
    m.stopAtVmExit = (r) => { seen.push(r.basicReason); return r.basicReason === 10; };
    const stop = m.run();
    expect(stop).toMatchObject({ reason: 'vmexit', message: `VM exit: CPUID (10) at guest RIP 0x${p.symbol('first').toString(16)}`, rip: p.symbol('first') });
    expect(m.vmx!.stoppedAtExit).toMatchObject({ basicReason: 10, guestRip: p.symbol('first') });
    const count = m.vmx!.exitCount;
    expect(count).toBe(seen.length);
    expect(m.run()).toMatchObject({ reason: 'vmexit', rip: p.symbol('second') });
    expect(m.vmx!.exitCount).toBe(count + 1);
    m.stopAtVmExit = undefined;
    expect(m.run().reason).toBe('halted');
    expect(m.vmx!.stoppedAtExit).toBeUndefined();
    expect(m.getGpr(15)).toBe(0x1234n);
  });

  it('step() at a stopped exit handles it and executes the emulated instruction as one step', () => {
    const p = program(CPUID_TWICE);
    const m = boot(p, { vmx: KVM });
    stopAt(m, (r) => r.basicReason === 10);
    expect(m.step()).toBeUndefined();
    expect(m.getRip()).toBe(p.symbol('second'));
  });
});

describe('requestInjection', () => {
  const guest = fredSource({ body: 'spin: inc r15\nmark: jmp spin', kernelHandler: 'hlt' });

  it('while the guest runs (paused at a breakpoint): the next run first forces an exit (kick), then the entry injects', () => {
    const p = program(guest);
    const m = boot(p, { vmx: KVM });
    m.addBreakpoint(p.symbol('mark'));
    expect(m.run().reason).toBe('breakpoint');
    m.removeBreakpoint(p.symbol('mark'));
    m.vmx!.requestInjection({ type: 3, vector: 13, errorCode: 0x28 });
    expect(m.run().reason).toBe('halted');
    const kick = exits(m, 1).at(-1)!;
    expect(kick).toMatchObject({ exitInterruptionInfo: valid(0xfd), guestRip: p.symbol('mark') });
    expect(entryAfter(m, kick)).toMatchObject({ injectedInterruptionInfo: valid(0xb0d), injectedErrorCode: 0x28 });
    expect(deliveries(m)).toMatchObject([{ type: 3, vector: 13, errorCode: 0x28, fromRip: p.symbol('mark'), injected: true }]);
  });

  it('a request the hardware refuses ends in the vmentryFailure stop naming the check', () => {
    const p = program(guest);
    const m = boot(p, { vmx: KVM, maxInstructions: 50 });
    expect(m.run().reason).toBe('instructionLimit');
    m.vmx!.requestInjection({ type: 2, vector: 3 });
    const stop = m.run();
    expect(stop.reason).toBe('vmentryFailure');
    expect(stop.message).toMatch(/NMI.*vector 2.*VM_ENTRY_INTR_INFO_FIELD = 0x80000203/);
  });
});

describe('the guest-state area', () => {
  it('reads at a stopped exit show the state the exit saved (GUEST_CR4 with VMXE, RSP, RFLAGS)', () => {
    const p = program(plain('mov rsp, 0x2f000\nat: cpuid\nhlt'));
    const m = boot(p, { vmx: KVM });
    stopAt(m, (r) => r.basicReason === 10);
    const vmcs = m.vmx!.vmcs;
    expect(vmcs.get('GUEST_RSP')).toBe(0x2f000n);
    expect(vmcs.get('GUEST_RIP')).toBe(p.symbol('at'));
    expect(vmcs.get('GUEST_CR4')).toBe(m.cpu.cr4 | (1n << 13n));
    expect(vmcs.get('GUEST_RFLAGS')).toBe(2n);
    expect(vmcs.vmread(0x681c)).toEqual({ ok: true, value: 0x2f000n }); // VMREAD GUEST_RSP
  });

  it('a write at a stopped exit takes effect at the next VM entry (after the handler), through the checks', () => {
    const p = program(plain('at: cpuid\nhlt'));
    const m = boot(p, { vmx: KVM });
    stopAt(m, (r) => r.basicReason === 10);
    m.vmx!.vmcs.set('GUEST_RSP', 0x12340n);
    expect(m.run().reason).toBe('halted');
    expect(m.getGpr(4)).toBe(0x12340n);
    expect(m.getRip()).toBe(p.symbol('at') + 3n); // the handler still skipped the CPUID

    const bad = boot(p, { vmx: KVM });
    stopAt(bad, (r) => r.basicReason === 10);
    bad.vmx!.vmcs.set('GUEST_RFLAGS', 0n); // bit 1 must be 1
    const stop = bad.run();
    expect(stop.reason).toBe('vmentryFailure');
    expect(stop.message).toMatch(/GUEST_RFLAGS = 0x0 \(VM-entry failure, exit reason 33/);
    expect(bad.trace.records.at(-1)).toMatchObject({ kind: 'vmentryFailure', field: 'GUEST_RFLAGS', failure: 'exit', errorNumber: 33 });
  });
});

describe('snapshots include the VMX state', () => {
  it('restore puts back the VMCS, the exit count, the EPT mappings and the stopped exit; replay is identical', () => {
    const p = program(fredSource({ body: 'cpuid\nmov qword [0x2f0000], 1\ncpuid\nud2', kernelHandler: 'hlt' }));
    const m = boot(p, { vmx: KVM });
    stopAt(m, (r) => r.basicReason === 10);
    const snap = m.snapshot();
    const at = { exits: m.vmx!.exitCount, mapped: m.vmx!.ept.mappedPages, rip: m.vmx!.vmcs.get('GUEST_RIP'), stopped: m.vmx!.stoppedAtExit };
    const first = m.run();
    const trace = m.trace.records.slice();
    expect(first.reason).toBe('halted');
    expect(m.vmx!.ept.mappedPages).toBeGreaterThan(at.mapped);
    m.restore(snap);
    expect(m.vmx!.exitCount).toBe(at.exits);
    expect(m.vmx!.ept.mappedPages).toBe(at.mapped);
    expect(m.vmx!.vmcs.get('GUEST_RIP')).toBe(at.rip);
    expect(m.vmx!.stoppedAtExit).toEqual(at.stopped);
    expect(m.vmx!.ept.permissions(0x2f0000)).toBe(0);
    expect(m.run()).toEqual(first);
    expect(m.trace.records).toEqual(trace);
  });
});

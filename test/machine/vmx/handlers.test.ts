// The monitor's handling of the exits that matter for virtualized FRED (vmx-fred.md §1.9–§1.14): the
// seed scenario (an exit in the middle of a FRED delivery, re-injected as KVM's
// __vmx_complete_interrupts does, and a guest frame identical to bare metal), ICEBP with and without
// v9's quirk, IA32_FRED_RSP0 outside the VMCS, and timer interrupts injected on the interrupt stack
// level.
import { describe, expect, it } from 'vitest';
import { vmcsFieldByName } from '../../../src/arch/index';
import type { MachineOptions } from '../../../src/machine/machine';
import type { DeliveryRecord } from '../../../src/machine/trace';
import type { VmxPolicy } from '../../../src/machine/vmx/policy';
import { boot, fredSource, program, STACKS, toUser, wrmsr, type FredProgramParts } from '../fred/harness';
import { deliveries, EAGER, entryAfter, exits, KVM, policy, stopAt, valid } from './guest';

/** Run `parts` and keep every delivered frame's bytes as the handler found them. */
function framesOf(parts: FredProgramParts, vmx: VmxPolicy | false, options: MachineOptions = {}) {
  const p = program(fredSource(parts));
  const m = boot(p, { vmx, ...options });
  const frames: string[] = [];
  m.trace.subscribe((r) => {
    if (r.kind !== 'delivery') return;
    const bytes = m.tryReadMemory(r.frameAddress, 64);
    frames.push(bytes.ok ? Buffer.from(bytes.bytes).toString('hex') : bytes.message);
  });
  const stop = m.run();
  return { p, m, stop, frames };
}

const withoutInjected = (ds: DeliveryRecord[]) => ds.map(({ injected: _i, ...d }) => d);

/** The same program bare and under the monitor: the same deliveries, frames, final registers and instruction count. */
function expectTransparent(parts: FredProgramParts, vmx: VmxPolicy, options: MachineOptions = {}) {
  const bare = framesOf(parts, false, options);
  const under = framesOf(parts, vmx, options);
  expect(under.stop.reason).toBe(bare.stop.reason);
  expect(under.frames).toEqual(bare.frames);
  expect(withoutInjected(deliveries(under.m))).toEqual(withoutInjected(deliveries(bare.m)));
  expect(Array.from({ length: 16 }, (_, i) => under.m.getGpr(i))).toEqual(Array.from({ length: 16 }, (_, i) => bare.m.getGpr(i)));
  expect(under.m.icount).toBe(bare.m.icount);
  return under;
}

const UNMAPPED = 0x4000_0000n; // beyond the 4 MiB the boot page tables map

describe('the seed scenario: a ring-3 #PF whose FRED delivery hits a lazily mapped stack page', () => {
  const seed: FredProgramParts = { body: toUser(), user: `at: mov rax, [${UNMAPPED}]`, userHandler: 'hlt' };

  it('EPT violation during delivery: IDT-vectoring information, error code and original-event data = the faulting address', () => {
    const r = expectTransparent(seed, KVM);
    const during = exits(r.m, 48).filter((e) => e.idtVectoringInfo !== 0);
    for (const e of during) expect(e).toMatchObject({ idtVectoringInfo: valid(0xb0e), idtVectoringErrorCode: 4, originalEventData: UNMAPPED, guestRip: r.p.symbol('at') });
    // The guest's walk for the stack page (a paging-structure read), then the frame push itself (a final write).
    expect(during.map((e) => e.qualification)).toContain(0x182n);
    expect(r.m.vmx!.vmcs.fred).toBe(true);
    // Re-injection exactly like __vmx_complete_interrupts: the same information, error code and event data.
    expect(entryAfter(r.m, during.at(-1)!)).toMatchObject({ injectedInterruptionInfo: valid(0xb0e), injectedErrorCode: 4, injectedEventData: UNMAPPED });
    expect(deliveries(r.m)).toMatchObject([{ type: 3, vector: 14, errorCode: 4, eventData: UNMAPPED, nested: false, injected: true, frameAddress: STACKS.rsp0 - 64n }]);
  });

  it('with eager EPT nothing exits during the delivery: the #PF is delivered by the guest itself', () => {
    const r = expectTransparent(seed, EAGER);
    expect(exits(r.m, 48)).toEqual([]);
    expect(deliveries(r.m)).toMatchObject([{ type: 3, vector: 14, injected: false }]);
  });

  it('a nested #PF (raised by the INT3 delivery on an unmapped RSP0) hitting the lazy RSP1 page: bit 13 in the IDT-vectoring information', () => {
    const nested: FredProgramParts = {
      setup: wrmsr('IA32_FRED_RSP0', String(UNMAPPED + 0x1000n)),
      stklvls: '1 << 28', // #PF on level 1
      body: toUser(), user: 'int3', userHandler: 'hlt',
    };
    const r = expectTransparent(nested, KVM);
    const during = exits(r.m, 48).find((e) => e.idtVectoringInfo !== 0);
    expect(during).toMatchObject({ idtVectoringInfo: valid(0x2b0e), idtVectoringErrorCode: 2 /* supervisor write: frame pushes are implicit supervisor accesses */, originalEventData: UNMAPPED + 0x1000n - 8n });
    expect(entryAfter(r.m, during!)).toMatchObject({ injectedInterruptionInfo: valid(0x2b0e), injectedEventData: UNMAPPED + 0x1000n - 8n });
    expect(deliveries(r.m)).toMatchObject([{ type: 3, vector: 14, nested: true, newCsl: 1, injected: true, frameAddress: STACKS.rsp1 - 64n }]);
  });
});

describe('ICEBP (INT1) under FRED: #DB is intercepted (vmx-fred.md §1.14)', () => {
  const icebp: FredProgramParts = { body: 'at: int1\nafter:', kernelHandler: 'hlt' };

  it('default: re-injected as type 5 with its length (trap semantics); the guest frame says type 5, as on bare metal', () => {
    const r = expectTransparent(icebp, KVM);
    const [exit] = exits(r.m, 0);
    expect(exit).toMatchObject({ exitInterruptionInfo: valid(0x501), guestRip: r.p.symbol('at') });
    expect(entryAfter(r.m, exit!)).toMatchObject({ injectedInterruptionInfo: valid(0x501), instructionLength: 1 });
    expect(deliveries(r.m)).toMatchObject([{ type: 5, vector: 1, fromRip: r.p.symbol('after'), injected: true }]);
  });

  it('kvmV9Quirks: the ICEBP is skipped and #DB injected as a type-3 hardware exception: the frame says type 3', () => {
    const r = framesOf(icebp, policy({ kvmV9Quirks: true }));
    const bare = framesOf(icebp, false);
    const [exit] = exits(r.m, 0);
    expect(entryAfter(r.m, exit!)).toMatchObject({ injectedInterruptionInfo: valid(0x301), instructionLength: 0 });
    expect(deliveries(r.m)).toMatchObject([{ type: 3, vector: 1, fromRip: r.p.symbol('after'), injected: true }]);
    expect(deliveries(bare.m)).toMatchObject([{ type: 5, vector: 1, fromRip: r.p.symbol('after') }]);
    expect(r.frames).not.toEqual(bare.frames);
    expect(r.m.icount).toBe(bare.m.icount);
  });
});

describe('IA32_FRED_RSP0 lives outside the VMCS (vmx-fred.md §1.9)', () => {
  it('no VMCS field holds it; a value written before exits is the stack of the next ring-3 event', () => {
    expect(vmcsFieldByName('GUEST_IA32_FRED_RSP0')).toBeUndefined();
    const parts: FredProgramParts = {
      setup: wrmsr('IA32_FRED_RSP0', '0x2c0000'),
      body: `cpuid\nmov dx, 0x3f8\nmov al, 'x'\nout dx, al\n${toUser()}`,
      user: 'syscall', userHandler: 'hlt',
    };
    const p = program(fredSource(parts));
    const m = boot(p, { vmx: KVM });
    stopAt(m, (e) => e.basicReason === 10);
    expect(m.readMsr(0x1cc)).toBe(0x2c0000n); // the vCPU's MSR, kept across the exit
    expect(m.vmx!.vmcs.get('GUEST_IA32_FRED_RSP1')).toBe(STACKS.rsp1); // the other FRED MSRs are VMCS fields
    expect(m.run().reason).toBe('halted');
    expect(exits(m).map((e) => e.basicReason)).toEqual(expect.arrayContaining([10, 30]));
    expect(deliveries(m)).toMatchObject([{ type: 7, vector: 1, fromCpl: 3, frameAddress: 0x2c0000n - 64n }]);
    expectTransparent(parts, KVM);
  });
});

describe('timer interrupts reach the guest by injection', () => {
  const apicTimer = (level: number): FredProgramParts => ({
    config: `${level} << 9`,
    setup: [wrmsr('0x80f', '0x1ff'), wrmsr('0x83e', '0xb'), wrmsr('0x832', '0x40'), wrmsr('0x838', '200')].join('\n'),
    body: 'sti\nspin: inc r15\njmp spin',
    kernelHandler: 'hlt',
  });

  it('the APIC timer interrupt exits (external interrupt) and is injected on the interrupt stack level CONFIG[10:9]', () => {
    const r = expectTransparent(apicTimer(3), KVM);
    const ext = exits(r.m, 1);
    expect(ext).toHaveLength(1);
    expect(entryAfter(r.m, ext[0]!)).toMatchObject({ injectedInterruptionInfo: valid(0x40) });
    expect(deliveries(r.m)).toMatchObject([{ type: 0, vector: 0x40, newCsl: 3, stackSwitched: true, injected: true, frameAddress: STACKS.rsp3 - 64n }]);
  });

  it('policy-driven schedules (MachineOptions.interrupts) behave the same bare and under the monitor, eager or lazy', () => {
    const parts: FredProgramParts = { config: '2 << 9', setup: wrmsr('0x80f', '0x1ff'), body: 'sti\nspin: inc r15\njmp spin', kernelHandler: 'mov ecx, 0x80b\nxor eax, eax\nxor edx, edx\nwrmsr\ninc r14\nerets' }; // EOI
    for (const vmx of [KVM, EAGER]) {
      const r = expectTransparent(parts, vmx, { interrupts: [{ vector: 0x41, every: 37 }], maxInstructions: 2000 });
      expect(r.stop.reason).toBe('instructionLimit');
      expect(deliveries(r.m).length).toBeGreaterThan(10);
      expect(deliveries(r.m).every((d) => d.injected && d.newCsl === 2)).toBe(true);
    }
  });
});

describe('the policy\'s interrupt and NMI sources (policy.interrupts, policy.nmis)', () => {
  const spin: FredProgramParts = { config: '1 << 9', stklvls: '2 << 4', body: 'sti\nnop\nnop\nmark: nop\nspin: inc r15\njmp spin', kernelHandler: 'hlt' };
  const run = (changes: Partial<VmxPolicy>) => {
    const r = framesOf(spin, policy(changes));
    expect(r.stop.reason).toBe('halted');
    return r;
  };

  it('{ vector, every }: injected without any APIC set-up, after an external-interrupt exit', () => {
    const r = run({ interrupts: [{ vector: 0x50, every: 100 }] });
    expect(deliveries(r.m)).toMatchObject([{ type: 0, vector: 0x50, injected: true, newCsl: 1 }]);
    expect(entryAfter(r.m, exits(r.m, 1)[0]!)).toMatchObject({ injectedInterruptionInfo: valid(0x50) });
    expect(r.m.icount).toBeGreaterThanOrEqual(100);
  });

  it('{ vector, at: label }: once, when the guest reaches the label', () => {
    const r = run({ interrupts: [{ vector: 0x51, at: 'mark' }] });
    expect(deliveries(r.m)).toMatchObject([{ type: 0, vector: 0x51, fromRip: r.p.symbol('mark'), injected: true }]);
  });

  it('NMIs { every } and { at }: injected as NMIs on their stack level', () => {
    const every = run({ nmis: [{ every: 60 }] });
    expect(deliveries(every.m)).toMatchObject([{ type: 2, vector: 2, newCsl: 2, injected: true }]);
    const at = run({ nmis: [{ at: 'mark' }] });
    expect(deliveries(at.m)).toMatchObject([{ type: 2, vector: 2, fromRip: at.p.symbol('mark'), injected: true }]);
  });

  it('an `at` label the program does not define is a clear error when the machine is built', () => {
    const p = program(fredSource(spin));
    expect(() => boot(p, { vmx: policy({ nmis: [{ at: 'nowhere' }] }) })).toThrow("vmx policy: label 'nowhere' is not defined by the program");
  });
});

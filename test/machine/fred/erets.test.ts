// Conformance: ERETS (fred-architecture.md §4.2; SDM ERETS "Operation"). One program pops a frame the
// test writes into its parameter slots; every check of ERETS has its own violating frame.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/machine/machine';
import { boot, csl, expectStop, fredSource, frameAt, program, rsp, writeU64, wrmsr, type Program } from './harness';

const VALID = { rip: 0n, cs: 0x10n, rflags: 0x2n, rsp: 0x240008n, ss: 0x18n, csl: 0n };
type Params = typeof VALID;

let p: Program;
beforeAll(() => {
  p = program(fredSource({
    setup: wrmsr('0x80f', '0x1ff'),
    body: `
        mov     ecx, IA32_FRED_CONFIG
        rdmsr
        or      eax, [rel p_csl]
        wrmsr
        cmp     qword [rel p_irq], 0
        je      .frame
        mov     ecx, 0x83f              ; x2APIC SELF_IPI: vector 0x41 pending (IF = 0 for now)
        mov     eax, 0x41
        xor     edx, edx
        wrmsr
.frame:
        mov     rsp, 0x250000
        push    qword [rel p_ss]
        push    qword [rel p_rsp]
        push    qword [rel p_rflags]
        push    qword [rel p_cs]
        push    qword [rel p_rip]
        push    0
the_erets:
        erets
        hlt
target:
        nop
target2:
        nop
        hlt`,
    data: 'p_rip: dq 0\np_cs: dq 0\np_rflags: dq 0\np_rsp: dq 0\np_ss: dq 0\np_csl: dq 0\np_irq: dq 0',
    user: 'user_erets: erets',
  }));
  VALID.rip = p.symbol('target');
});

function runErets(change: Partial<Params> & { irq?: boolean } = {}, before?: (m: Machine) => void): Machine {
  const m = boot(p);
  const v = { ...VALID, ...change };
  for (const k of ['rip', 'cs', 'rflags', 'rsp', 'ss', 'csl'] as const) writeU64(m, p.symbol(`p_${k}`), v[k]);
  writeU64(m, p.symbol('p_irq'), change.irq ? 1n : 0n);
  before?.(m);
  expectStop(m.run(), 'halted');
  return m;
}

function expectGp(m: Machine): void {
  expect(m.getRip()).toBe(p.symbol('fred_entry_kernel') + 1n);
  const f = frameAt(m, rsp(m));
  expect(f.ss).toMatchObject({ type: 3, vector: 13 });
  expect([f.errorCode, f.rip, f.rsp]).toEqual([0n, p.symbol('the_erets'), 0x250000n - 48n]);
}

describe('ERETS returns', () => {
  it('loads RIP, RFLAGS and all 64 bits of RSP; CS and SS stay', () => {
    const m = runErets({ rsp: 0x8000_0000_0000_0008n, rflags: 0x3ad7n });
    expect(m.getRip()).toBe(p.symbol('target2') + 2n);
    expect(rsp(m)).toBe(0x8000_0000_0000_0008n);
    expect(m.getRflags()).toBe(0x3ad7n); // IOPL may change through ERETS
    expect(m.getSegment(1).sel).toBe(0x10);
  });

  it.each([[0x10000n, 'RF'], [0x40000n, 'AC'], [0x80000n, 'VIF'], [0x100000n, 'VIP'], [0x200000n, 'ID'], [0x4000n, 'NT']])('accepts RFLAGS bit %s (%s)', (bit) => {
    const m = runErets({ rflags: 2n | bit });
    expect(m.getRip()).toBe(p.symbol('target2') + 2n);
  });

  it('accepts SL and WFE bits in the CS word and ignores SS word bits 63:32', () => {
    const m = runErets({ cs: 0x10n | (3n << 16n) | (1n << 18n), ss: 0x18n | (0xffffffffn << 32n), csl: 2n });
    expect(m.getRip()).toBe(p.symbol('target2') + 2n);
  });

  it.each([[2n, 1n, 1], [1n, 3n, 1], [3n, 0n, 0], [0n, 2n, 0]])('CSL %i with frame SL %i gives CSL %i (min: never raised)', (from, sl, to) => {
    const m = runErets({ csl: from, cs: 0x10n | (sl << 16n) });
    expect(m.getRip()).toBe(p.symbol('target2') + 2n);
    expect(csl(m)).toBe(to);
    const rec = m.trace.records.filter((r) => r.kind === 'return').at(-1);
    expect(rec).toMatchObject({ instruction: 'erets', cslAfter: to, toCpl: 0, toRip: p.symbol('target') });
  });

  it('STI bit with IF = 1 blocks a pending interrupt for one instruction', () => {
    const blocked = runErets({ irq: true, rflags: 0x202n, ss: 0x18n | (1n << 16n) });
    expect(frameAt(blocked, rsp(blocked)).rip).toBe(p.symbol('target2'));
    const open = runErets({ irq: true, rflags: 0x202n });
    expect(frameAt(open, rsp(open)).rip).toBe(p.symbol('target'));
  });

  it('swevent bit with TF = 1 pends a single-step #DB right after ERETS', () => {
    const pended = runErets({ rflags: 0x102n, ss: 0x18n | (1n << 17n) });
    let f = frameAt(pended, rsp(pended));
    expect(f.ss).toMatchObject({ type: 3, vector: 1 });
    expect([f.rip, f.eventData]).toEqual([p.symbol('target'), 0x4000n]);
    // Without the bit the instruction at the target runs first (ERETS set TF; no trap for ERETS itself).
    const plain = runErets({ rflags: 0x102n });
    f = frameAt(plain, rsp(plain));
    expect(f.rip).toBe(p.symbol('target2'));
  });

  it('NMI bit unblocks NMIs; without it they stay blocked', () => {
    const block = (m: Machine) => { m.cpu.nmiBlocked = true; };
    expect(runErets({ ss: 0x18n | (1n << 18n) }, block).cpu.nmiBlocked).toBe(false);
    expect(runErets({}, block).cpu.nmiBlocked).toBe(true);
  });
});

describe('ERETS checks: #GP(0), nothing changed', () => {
  const cases: [string, Partial<Params>][] = [
    ['RIP not canonical', { rip: 0x0000_8000_0000_0000n }],
    ['CS word bits 63:32 not 0', { cs: 0x10n | (1n << 32n) }],
    ['CS word bits 31:19 not 0', { cs: 0x10n | (1n << 19n) }],
    ['CS selector differs (RPL)', { cs: 0x13n }],
    ['CS selector differs (index)', { cs: 0x08n }],
    ['RFLAGS bit 1 clear', { rflags: 0n }],
    ['RFLAGS bit 3 set', { rflags: 0xan }],
    ['RFLAGS bit 5 set', { rflags: 0x22n }],
    ['RFLAGS bit 15 set', { rflags: 0x8002n }],
    ['RFLAGS.VM set', { rflags: 0x20002n }],
    ['RFLAGS bit 22 set', { rflags: 0x400002n }],
    ['RFLAGS bit 63 set', { rflags: 0x8000_0000_0000_0002n }],
    ['SS selector differs', { ss: 0x28n }],
    ['SS word bits 31:19 not 0', { ss: 0x18n | (1n << 19n) }],
  ];
  it.each(cases)('%s', (_name, change) => {
    const m = runErets({ ...change, csl: 1n });
    expectGp(m);
    expect(csl(m)).toBe(1); // CSL untouched by the failed ERETS
  });
});

describe('ERETS #UD', () => {
  it('at CPL 3 (delivered from ring 3 as #UD)', () => {
    const src = fredSource({ body: `
        push    0x2b
        push    0x380000
        push    2
        push    0x33
        lea     rax, [rel user_erets]
        push    rax
        push    0
        eretu`, user: 'user_erets: erets' });
    const q = program(src);
    const m = boot(q);
    expectStop(m.run(), 'halted');
    expect(m.getRip()).toBe(q.symbol('fred_entry') + 1n);
    const f = frameAt(m, rsp(m));
    expect(f.ss).toMatchObject({ type: 3, vector: 6 });
    expect(f.rip).toBe(q.symbol('user_erets'));
  });

  it('with CR4.FRED = 0 (no IDT: the shutdown names the #UD)', () => {
    const m = boot(program('_start: erets'));
    const stop = m.run();
    expectStop(stop, 'shutdown');
    expect(stop.message).toMatch(/#UD/);
  });
});

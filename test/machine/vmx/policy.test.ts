import { describe, expect, it } from 'vitest';
import { msrIndex } from '../../../src/arch/index';
import {
  DEFAULT_VMX_POLICY, checkPolicyLabels, formatPolicyErrors, parseVmxPolicy, parseVmxPolicyJson, type PolicyResult, type VmxPolicy,
} from '../../../src/machine/vmx/policy';

function ok(r: PolicyResult): VmxPolicy {
  if (!r.ok) throw new Error(formatPolicyErrors(r.errors));
  if (r.policy === false) throw new Error('bare');
  return r.policy;
}

function errorsOf(raw: unknown): string {
  const r = parseVmxPolicy(raw);
  expect(r.ok).toBe(false);
  return r.ok ? '' : formatPolicyErrors(r.errors);
}

describe('VMX policy defaults (KVM v9)', () => {
  it('undefined, true and {} give KVM defaults; false runs bare', () => {
    for (const raw of [undefined, true, {}]) expect(ok(parseVmxPolicy(raw))).toEqual(DEFAULT_VMX_POLICY);
    expect(parseVmxPolicy(false)).toEqual({ ok: true, policy: false });
  });

  it('exception bitmap: #DB, #UD, #AC, #MC exit; #PF does not (EPT)', () => {
    const bm = DEFAULT_VMX_POLICY.exceptionBitmap;
    expect(bm).toBe((1 << 1) | (1 << 6) | (1 << 17) | (1 << 18));
    expect(bm & (1 << 14)).toBe(0);
  });

  it('MSR intercepts: the FRED MSRs except PL0_SSP pass through, as in v9 patch 08', () => {
    const m = DEFAULT_VMX_POLICY.msrIntercepts;
    for (const name of ['IA32_FRED_RSP0', 'IA32_FRED_RSP1', 'IA32_FRED_STKLVLS', 'IA32_FRED_SSP3', 'IA32_FRED_CONFIG', 'IA32_KERNEL_GS_BASE']) {
      expect(m, name).not.toContain(msrIndex(name));
    }
    for (const name of ['IA32_PL0_SSP', 'IA32_EFER', 'IA32_STAR', 'IA32_LSTAR']) expect(m, name).toContain(msrIndex(name));
  });

  it('lazy EPT, FRED/LKGS/WRMSRNS exposed, no injected events, no v9 quirks', () => {
    expect(DEFAULT_VMX_POLICY).toMatchObject({
      ept: 'lazy', cpuid: { fred: true, lkgs: true, wrmsrns: true }, interrupts: [], nmis: [], kvmV9Quirks: false,
    });
  });
});

describe('VMX policy values', () => {
  it('exceptionBitmap as a number or a list of mnemonics and vectors', () => {
    expect(ok(parseVmxPolicy({ exceptionBitmap: 0x6000 })).exceptionBitmap).toBe(0x6000);
    expect(ok(parseVmxPolicy({ exceptionBitmap: ['#PF', 'gp', 3] })).exceptionBitmap).toBe((1 << 14) | (1 << 13) | (1 << 3));
    expect(ok(parseVmxPolicy({ exceptionBitmap: ['#RES31'] })).exceptionBitmap).toBe(0x8000_0000);
  });

  it('msrIntercepts by name (IA32_ optional, aliases) or index, deduplicated and sorted', () => {
    const p = ok(parseVmxPolicy({ msrIntercepts: ['FRED_CONFIG', 'IA32_FRED_SSP0', 0x1cc, 'ia32_pl0_ssp'] }));
    expect(p.msrIntercepts).toEqual([0x1cc, 0x1d4, 0x6a4]);
  });

  it('other settings override one at a time, the rest keep their defaults', () => {
    const p = ok(parseVmxPolicy({
      ept: 'eager', cpuid: { lkgs: false }, kvmV9Quirks: true,
      interrupts: [{ vector: 32, every: 1000 }, { vector: 0x40, at: 'timer_here' }], nmis: [{ every: 5 }, { at: 'nmi_here' }],
    }));
    expect(p.ept).toBe('eager');
    expect(p.cpuid).toEqual({ fred: true, lkgs: false, wrmsrns: true });
    expect(p.kvmV9Quirks).toBe(true);
    expect(p.interrupts).toEqual([{ vector: 32, every: 1000 }, { vector: 0x40, at: 'timer_here' }]);
    expect(p.nmis).toEqual([{ every: 5 }, { at: 'nmi_here' }]);
    expect(p.exceptionBitmap).toBe(DEFAULT_VMX_POLICY.exceptionBitmap);
  });
});

describe('VMX policy validation errors say where and what is allowed', () => {
  it.each([
    [42, 'vmx: expected an object (the monitor policy) or false (run bare), got 42'],
    [{ ept: 'fast' }, 'vmx.ept: expected "eager" or "lazy", got "fast"'],
    [{ turbo: 1 }, 'vmx.turbo: unknown property (allowed: exceptionBitmap, msrIntercepts, ept, cpuid, interrupts, nmis, kvmV9Quirks)'],
    [{ exceptionBitmap: -1 }, 'vmx.exceptionBitmap: expected an integer 0–0xFFFFFFFF or a list of exceptions, got -1'],
    [{ exceptionBitmap: 'PF' }, 'vmx.exceptionBitmap: expected an integer 0–0xFFFFFFFF or a list of exceptions such as ["#PF", "#GP"], got "PF"'],
    [{ exceptionBitmap: ['#PF', '#XX'] }, 'vmx.exceptionBitmap[1]: expected an exception mnemonic such as "#PF" or a vector 0–31, got "#XX"'],
    [{ exceptionBitmap: [32] }, 'vmx.exceptionBitmap[0]: expected an exception mnemonic such as "#PF" or a vector 0–31, got 32'],
    [{ msrIntercepts: 'IA32_STAR' }, 'vmx.msrIntercepts: expected a list of MSR names (such as "IA32_FRED_CONFIG") or indices, got "IA32_STAR"'],
    [{ msrIntercepts: ['IA32_NOPE'] }, 'vmx.msrIntercepts[0]: unknown MSR name "IA32_NOPE"'],
    [{ msrIntercepts: [0x4000_0000] }, 'vmx.msrIntercepts[0]: MSR 0x40000000 is outside the MSR-bitmap ranges 0–0x1FFF and 0xC0000000–0xC0001FFF (its accesses always exit)'],
    [{ msrIntercepts: [1.5] }, 'vmx.msrIntercepts[0]: expected an MSR name or an index 0–0xFFFFFFFF, got 1.5'],
    [{ cpuid: [] }, 'vmx.cpuid: expected an object with fred, lkgs, wrmsrns, got an array'],
    [{ cpuid: { fred: 'yes' } }, 'vmx.cpuid.fred: expected true or false, got "yes"'],
    [{ cpuid: { sse: true } }, 'vmx.cpuid.sse: unknown property (allowed: fred, lkgs, wrmsrns)'],
    [{ interrupts: {} }, 'vmx.interrupts: expected a list of interrupts ({vector, every} or {vector, at}), got an object'],
    [{ interrupts: [5] }, 'vmx.interrupts[0]: expected interrupts ({vector, every} or {vector, at}), got 5'],
    [{ interrupts: [{ vector: 256, every: 1 }] }, 'vmx.interrupts[0].vector: expected a vector 0–255, got 256'],
    [{ interrupts: [{ vector: 32 }] }, 'vmx.interrupts[0]: expected exactly one of "every" (instructions) or "at" (a label), got neither'],
    [{ interrupts: [{ vector: 32, every: 5, at: 'x' }] }, 'vmx.interrupts[0]: expected exactly one of "every" (instructions) or "at" (a label), got both'],
    [{ interrupts: [{ vector: 32, every: 0 }] }, 'vmx.interrupts[0].every: expected a whole number of instructions ≥ 1, got 0'],
    [{ interrupts: [{ vector: 32, at: ' ' }] }, 'vmx.interrupts[0].at: expected a label name, got " "'],
    [{ interrupts: [{ vector: 32, every: 1, period: 2 }] }, 'vmx.interrupts[0].period: unknown property (allowed: vector, every, at)'],
    [{ nmis: [{ vector: 2, every: 3 }] }, 'vmx.nmis[0].vector: unknown property (allowed: every, at)'],
    [{ nmis: [{}] }, 'vmx.nmis[0]: expected exactly one of "every" (instructions) or "at" (a label), got neither'],
    [{ kvmV9Quirks: 1 }, 'vmx.kvmV9Quirks: expected true or false, got 1'],
  ])('%j', (raw, message) => {
    expect(errorsOf(raw)).toBe(message);
  });

  it('collects every error, not only the first', () => {
    expect(errorsOf({ ept: 'x', kvmV9Quirks: 'no', nmis: [{ every: -1 }] }).split('\n')).toEqual([
      'vmx.ept: expected "eager" or "lazy", got "x"',
      'vmx.nmis[0].every: expected a whole number of instructions ≥ 1, got -1',
      'vmx.kvmV9Quirks: expected true or false, got "no"',
    ]);
  });

  it('a JSON file: syntax errors name the file; paths start at the file name', () => {
    const bad = parseVmxPolicyJson('{ "ept": ', 'policy.json');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(formatPolicyErrors(bad.errors)).toMatch(/^policy\.json: invalid JSON: /);
    const wrong = parseVmxPolicyJson('{"ept":"fast"}', 'policy.json');
    if (!wrong.ok) expect(formatPolicyErrors(wrong.errors)).toBe('policy.json.ept: expected "eager" or "lazy", got "fast"');
    expect(wrong.ok).toBe(false);
    expect(ok(parseVmxPolicyJson('{"ept":"eager"}', 'p.json')).ept).toBe('eager');
  });

  it('labels of "at" triggers must exist in the program', () => {
    const p = ok(parseVmxPolicy({ interrupts: [{ vector: 32, at: 'here' }, { vector: 33, at: 'gone' }], nmis: [{ at: 'missing' }] }));
    const errors = checkPolicyLabels(p, (l) => (l === 'here' ? 0x100000 : undefined));
    expect(formatPolicyErrors(errors)).toBe('vmx.interrupts[1].at: unknown label "gone"\nvmx.nmis[0].at: unknown label "missing"');
  });
});

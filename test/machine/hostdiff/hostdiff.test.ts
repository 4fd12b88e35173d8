// Differential test of the emulator's integer ALU against the host CPU (ARCHITECTURE §7): a native
// harness (harness.c, built here with the system C compiler) runs generated single-instruction cases
// and reports registers and RFLAGS; architecturally undefined flags are masked per instruction.
import { beforeAll, describe, expect, it } from 'vitest';
import { AluCaseGenerator, FAMILY_HOST_FLAGS, type AluCase } from './aluCases';
import { describeInput, difference, disassemble } from './compare';
import { runOnEmulator } from './emulatorRunner';
import { buildHarness, hostCpuFlags, hostUnsupportedReason, runOnHost, type CaseResult } from './hostHarness';
import { knownCases, type KnownCase } from './knownResults';

const SEED = 0xf2ed;
/** Distinct encodings × input states per encoding = 102 000 cases. */
const GROUPS = 3000;
const INPUTS_PER_GROUP = 34;

/** Check one result against a known-results row (host or emulator alike). */
function expectKnown(c: KnownCase, r: CaseResult, who: string): void {
  expect(r.status, `${who}: ${c.text}`).toBe(c.expectStatus);
  if (c.expectStatus !== 'ok') return;
  for (let reg = 0; reg < 16; reg++) {
    if (reg === 4) continue;
    expect(r.regs[reg], `${who}: ${c.text}: register ${reg}`).toBe(c.expectRegs[reg] ?? c.regs[reg]);
  }
  expect(r.rflags & c.flagMask, `${who}: ${c.text}: flags`).toBe(c.expectFlags & c.flagMask);
}

let harness = '';

beforeAll(() => {
  const unsupported = hostUnsupportedReason();
  if (unsupported) throw new Error(`host differential test: ${unsupported}; this test needs an x86-64 Linux host`);
  harness = buildHarness();
});

describe('host harness', () => {
  it('runs on a host that has every instruction the generator draws (lzcnt/abm, tzcnt/bmi1, popcnt)', () => {
    const flags = hostCpuFlags();
    const needed = Object.values(FAMILY_HOST_FLAGS).flat();
    const missing = needed.filter((flag) => !flags.has(flag));
    console.log(`host CPU flags needed by the generator: ${needed.join(', ')}; missing: ${missing.join(', ') || 'none'}`);
    expect(missing, 'the host cannot serve as oracle for LZCNT/TZCNT/POPCNT').toEqual([]);
  });

  it('reproduces known architectural results', () => {
    const table = knownCases();
    const results = runOnHost(harness, table);
    table.forEach((c, i) => expectKnown(c, results[i]!, 'host'));
  });

  it('gives identical results for the same seed (deterministic generator, stable oracle)', () => {
    const draw = (seed: number) => {
      const generator = new AluCaseGenerator(seed);
      const cases = Array.from({ length: 2000 }, () => generator.next());
      generator.free();
      return cases;
    };
    const a = draw(7);
    const b = draw(7);
    expect(b).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    expect(runOnHost(harness, b)).toEqual(runOnHost(harness, a));
  });

  it('draws every form of every family', () => {
    const generator = new AluCaseGenerator(1);
    const seen = new Set<string>();
    for (let i = 0; i < 40_000; i++) seen.add(generator.next().form);
    generator.free();
    const all = Object.values(AluCaseGenerator.allForms()).flat();
    expect(all.filter((form) => !seen.has(form))).toEqual([]);
  });
});

describe('emulator against the host CPU', () => {
  it('reproduces the known architectural results', () => {
    const table = knownCases();
    const results = runOnEmulator(table);
    table.forEach((c, i) => expectKnown(c, results[i]!, 'emulator'));
  });

  it(`matches the host on ${GROUPS * INPUTS_PER_GROUP} generated cases (seed ${SEED}), undefined flags masked`, () => {
    const generator = new AluCaseGenerator(SEED);
    const cases: AluCase[] = [];
    for (let g = 0; g < GROUPS; g++) cases.push(...generator.nextGroup(INPUTS_PER_GROUP));
    generator.free();
    const host = runOnHost(harness, cases);
    const emulator = runOnEmulator(cases);

    const perFamily = new Map<string, { cases: number; mismatches: number }>();
    const perForm = new Map<string, number>();
    const examples: string[] = [];
    let mismatches = 0;
    let divideErrors = 0;
    cases.forEach((c, i) => {
      const family = perFamily.get(c.family) ?? { cases: 0, mismatches: 0 };
      family.cases++;
      perFamily.set(c.family, family);
      if (host[i]!.status === 'DE') divideErrors++;
      const diff = difference(c, host[i]!, emulator[i]!);
      if (diff === undefined) return;
      mismatches++;
      family.mismatches++;
      const seen = perForm.get(c.form) ?? 0;
      perForm.set(c.form, seen + 1);
      if (seen < 2 && examples.length < 40) examples.push(`  ${disassemble(c.code)}: ${diff}\n    input: ${describeInput(c)}`);
    });
    const summary = [...perFamily].map(([f, n]) => `${f} ${n.cases}${n.mismatches ? ` (${n.mismatches} mismatches)` : ''}`).join(', ');
    console.log(`hostdiff: ${cases.length} cases (${divideErrors} #DE), ${mismatches} mismatches; ${summary}`);
    if (mismatches > 0) {
      const forms = [...perForm].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f}: ${n}`).join(', ');
      expect.fail(`${mismatches} of ${cases.length} cases differ from the host CPU (seed ${SEED}).\nBy form: ${forms}\nFirst examples:\n${examples.join('\n')}`);
    }
  });
});

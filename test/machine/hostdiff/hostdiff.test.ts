// Differential test of the emulator's integer ALU against the host CPU (ARCHITECTURE §7): a native
// harness (harness.c, built here with the system C compiler) runs generated single-instruction cases
// and reports registers and RFLAGS; architecturally undefined flags are masked per instruction.
import { beforeAll, describe, expect, it } from 'vitest';
import { AluCaseGenerator, FAMILY_HOST_FLAGS } from './aluCases';
import { buildHarness, hostCpuFlags, hostUnsupportedReason, runOnHost } from './hostHarness';
import { knownCases } from './knownResults';

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
    table.forEach((c, i) => {
      const r = results[i]!;
      expect(r.status, c.text).toBe(c.expectStatus);
      if (c.expectStatus !== 'ok') return;
      for (let reg = 0; reg < 16; reg++) {
        if (reg === 4) continue;
        expect(r.regs[reg], `${c.text}: register ${reg}`).toBe(c.expectRegs[reg] ?? c.regs[reg]);
      }
      expect(r.rflags & c.flagMask, `${c.text}: flags`).toBe(c.expectFlags & c.flagMask);
    });
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

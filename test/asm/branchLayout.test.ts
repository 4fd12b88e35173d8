// Branch relaxation sizes a branch to a label of its own section from the label's offset, as a number
// (Assembler.labelDistance), and the emitting pass encodes it so (encoder.ts encodeBranch, memoised by
// distance); any other target goes through evaluate(), bigints and encode(). `label + 0` is not a plain
// label, so it takes the general path: random programs with branches on both sides of the rel8 range,
// forward and backward, across sections, with `short`/`near` and growing code in between, must assemble
// to the same bytes, symbols, source map and messages both ways.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index';
import { rng } from './shapes';

const BRANCHES = ['jmp', 'je', 'jne', 'jb', 'jg', 'call', 'jne near', 'jmp near'];
/** rel8-only branches (loop, jrcxz, `short`): errors when out of range, in half of the programs. */
const SHORT_ONLY = ['loop', 'jrcxz', 'jmp short', 'je short'];
const FILLERS = ['nop', 'add rax, rbx', 'mov rax, [rbx + 8]', 'db 1, 2, 3', 'times 40 nop', 'times 90 db 0', 'align 16', 'resb 7', 'mov eax, 100000'];

function randomProgram(seed: number): { plain: string; general: string } {
  const r = rng(seed);
  const labels = 12;
  const plain: string[] = [];
  const general: string[] = [];
  const push = (a: string, b = a): void => void (plain.push(a), general.push(b));
  push('org 0x400000');
  for (const section of ['.text', '.other']) {
    push(`section ${section}`);
    let defined = 0;
    for (let i = 0; i < 160; i++) {
      const k = r() % 10;
      if (k < 2 && defined < labels) push(`${section.slice(1)}${defined++}:`);
      else if (k < 5) {
        const target = `${r() % 3 ? section.slice(1) : 'other'}${r() % labels}`;
        const b = seed % 2 && r() % 8 === 0 ? SHORT_ONLY[r() % SHORT_ONLY.length] : BRANCHES[r() % BRANCHES.length];
        push(`${b} ${target}`, `${b} ${target} + 0`);
      } else push(FILLERS[r() % FILLERS.length]);
    }
  }
  // Every label exists once (a missing one is defined at the end).
  for (const prefix of ['text', 'other']) for (let i = 0; i < labels; i++) if (!plain.includes(`${prefix}${i}:`)) push(`${prefix}${i}:`);
  return { plain: plain.join('\n'), general: general.join('\n') };
}


describe('branch relaxation', () => {
  it('sizes branches to labels of their own section as the general evaluation does', () => {
    let relaxed = 0;
    let clean = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const { plain, general } = randomProgram(seed);
      const a = assemble(plain);
      const b = assemble(general);
      expect(a.diagnostics.map((d) => `${d.line}: ${d.message}`)).toStrictEqual(b.diagnostics.map((d) => `${d.line}: ${d.message}`));
      expect(a.image.sections.map((s) => Buffer.from(s.bytes).toString('hex'))).toStrictEqual(b.image.sections.map((s) => Buffer.from(s.bytes).toString('hex')));
      expect([...a.image.symbols]).toStrictEqual([...b.image.symbols]);
      expect(a.sourceMap.entries.map((e) => `${e.line} ${e.address} ${e.size}`)).toStrictEqual(b.sourceMap.entries.map((e) => `${e.line} ${e.address} ${e.size}`));
      relaxed += a.sourceMap.entries.filter((e) => e.size === 6).length;
      if (a.ok) clean++;
    }
    // The programs do reach the near forms (0F 8x rel32), not only short ones, and some assemble
    // without errors (a loop out of range or a `short` too far is an error).
    expect(relaxed).toBeGreaterThan(50);
    expect(clean).toBeGreaterThan(5);
  });
});

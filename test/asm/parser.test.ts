// Parser behaviour that its reuse of repeated lines must keep: a line read again means what it means
// in its new context (%define generation, global label scope, `default rel`), and errors are reported
// on every line that has them.
import { describe, expect, it } from 'vitest';
import { generateAssemblerBenchSource } from '../../src/cli/bench/assemblerBench';
import { evaluate, type Expr } from '../../src/asm/expression';
import { FixedInstructions } from '../../src/asm/instructions';
import { parseProgram } from '../../src/asm/parser';
import { asm, bytesOf, errorsOf } from './helpers';

/**
 * Everything an assembly outputs except the listing (whose rows show the source text) and the end
 * columns of messages (an instruction's range runs to the end of its line, comment included).
 */
function outputOf(source: string): string {
  const r = asm(source, { org: 0x7ff0n });
  return JSON.stringify({
    diagnostics: r.diagnostics.map((d) => `${d.severity} ${d.line}:${d.column} ${d.message}`),
    sections: r.image.sections.map((s) => `${s.name} ${s.address} ${s.size} ${Buffer.from(s.bytes).toString('hex')}`),
    symbols: [...r.image.symbols].map(([n, v]) => `${n}=${v}`),
    map: r.sourceMap.entries.map((e) => `${e.line}:${e.column} ${e.address} ${e.size}`),
  });
}

describe('repeated source lines', () => {
  it('a repeated `jmp .x` jumps to the local label of its own global label', () => {
    const source = ['a:', '        jmp .x', '        nop', '.x:', 'b:', '        jmp .x', '.x:', '        ret'].join('\n');
    // a: EB 01 (over the nop to a.x); b: EB 00 (to b.x, right after it).
    expect(bytesOf(source)).toBe('eb0190eb00c3');
  });

  it('a repeated line follows a %define that changed in between', () => {
    expect(bytesOf('%define N 1\nmov eax, N\n%define N 2\nmov eax, N')).toBe('b801000000b802000000');
  });

  it('a repeated [label] operand becomes rip-relative after `default rel`', () => {
    const abs = 'mov eax, [d]';
    const out = asm(`nop\n${abs}\ndefault rel\n${abs}\nd: dd 0`, { org: 0x1000n });
    const bytes = Buffer.from(out.image.sections[0].bytes).toString('hex');
    // After the nop, the first is [abs32] (8B 04 25 disp32), the second [rip + disp32] (8B 05 disp32).
    expect(bytes.slice(2, 8)).toBe('8b0425');
    expect(bytes.slice(16, 20)).toBe('8b05');
  });

  it('a repeated line follows `default rel` and `default abs` back and forth', () => {
    const abs = 'mov eax, [d]';
    const out = asm(`${abs}\ndefault rel\n${abs}\ndefault abs\n${abs}\ndefault rel\n${abs}\nd: dd 0`, { org: 0x1000n });
    const bytes = Buffer.from(out.image.sections[0].bytes).toString('hex');
    // [abs32] is 8B 04 25 disp32 (7 bytes), [rip + disp32] 8B 05 disp32 (6 bytes).
    expect([bytes.slice(0, 6), bytes.slice(14, 18), bytes.slice(26, 32), bytes.slice(40, 44)]).toEqual(['8b0425', '8b05', '8b0425', '8b05']);
  });

  it('reusing repeated lines changes nothing: the bench program assembles as with every line unique', () => {
    for (const seed of [1, 2]) {
      const source = generateAssemblerBenchSource(20_000, seed);
      // A distinct comment makes every line's text unique (no reuse); it changes no bytes and no address.
      const unique = source.split('\n').map((line, i) => `${line} ; ${i}`).join('\n');
      const a = asm(source);
      const b = asm(unique);
      expect(a.ok && b.ok).toBe(true);
      expect(a.image.sections.map((s) => Buffer.from(s.bytes).toString('hex'))).toEqual(b.image.sections.map((s) => Buffer.from(s.bytes).toString('hex')));
      expect([...a.image.symbols]).toEqual([...b.image.symbols]);
      expect(a.sourceMap.entries.map((e) => `${e.line}:${e.column} ${e.address} ${e.size}`)).toEqual(b.sourceMap.entries.map((e) => `${e.line}:${e.column} ${e.address} ${e.size}`));
    }
  });

  it('every kind of repeated line assembles as when each line is unique', () => {
    // Fixed (with and without a template), branches whose second copy needs rel32, rip-relative and
    // symbolic operands, `times`, and lines whose encoding fails: repetitions of fixed instructions keep
    // their original's bytes, the others get statements of their own before layout.
    const lines = [
      'N equ 5', 'section .text', 'a:', 'jne .x', 'add eax, 7', 'push rbp', 'mov ah, sil', 'lea rax, [rel d]', 'mov ecx, N',
      'times 3 nop', 'times N add eax, 1', '.x:', 'jne .x', 'add eax, 7', 'push rbp', 'mov ah, sil', 'lea rax, [rel d]',
      'times 130 nop', 'jne .x', 'jmp b', 'mov ecx, N', 'times 3 nop', 'times N add eax, 1', 'b:', 'jmp b', 'jne .x', 'push rbp',
      'section .data', 'd: dq 1', 'add eax, 7', 'push rbp', 'jmp b',
    ];
    const source = lines.join('\n');
    const unique = lines.map((line, i) => `${line} ; ${i}`).join('\n');
    expect(outputOf(source)).toBe(outputOf(unique));
    // Two encodings that fail, and `.x` under `b` that is not defined.
    expect(errorsOf(source).length).toBe(3);
    // The repetitions of fixed instructions do take the shared path (with the assembler's sink; the
    // operands of fixed instructions are constants, so a context without symbols evaluates them).
    const constants = { lookup: () => undefined, final: false };
    const ctx = { here: 0n, final: false, evaluate: (e: Expr) => evaluate(e, constants), labelDistance: () => NaN, requestPass: () => undefined };
    const statements = parseProgram(source, 'x.fred', { instructions: new FixedInstructions(ctx) }).statements;
    // add eax, 7 (twice) and push rbp (three times); not `mov ah, sil` (no encoding), `times` lines,
    // `mov ecx, N` (a symbol), branches or `lea` (relative).
    expect(statements.filter((st) => st.k === 'again').map((st) => st.line)).toEqual([14, 15, 27, 30, 31]);
  });

  it('repeated lines keep their own line in the source map and listing', () => {
    const r = asm('nop\nnop\nnop');
    expect(r.sourceMap.entries.map((e) => [e.line, e.column, e.size])).toEqual([[1, 1, 1], [2, 1, 1], [3, 1, 1]]);
    expect(r.listing.split('\n').filter((l) => l.includes('90')).length).toBe(3);
  });

  it('a repeated line with an error reports it on each line', () => {
    expect(errorsOf('mov eax, undefined_symbol\nmov eax, undefined_symbol').map((e) => e.split(':')[0])).toEqual(['1', '2']);
    expect(errorsOf('mov eax, 1, 2\nmov eax, 1, 2').length).toBe(2);
  });
});

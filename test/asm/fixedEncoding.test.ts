// Fixed instructions are encoded from templates (fixedEncoding.ts): the first of a shape through
// iced-x86, the next ones by patching their constants into its bytes. Each source is assembled with and
// without templates and must give the same bytes, listing and diagnostics; values sit on both sides of
// every range that decides a form or a displacement size.
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index';
import { setTemplatesEnabled, templateUseCount, valueClass } from '../../src/asm/fixedEncoding';
import { setFixedEncodingsEnabled } from '../../src/asm/instructions';
import { generateAssemblerBenchSource } from '../../src/cli/bench/assemblerBench';
import { generateCorpus } from './corpus';
import { mixedShapeLines } from './shapes';

const EDGES = [
  '0', '1', '2', '-1', '127', '128', '-128', '-129', '255', '256', '-256', '32767', '32768', '-32768', '-32769', '65535', '65536',
  '0x7fffffff', '0x80000000', '-0x80000000', '-0x80000001', '0xffffffff', '0x100000000', '0x7fffffffffffffff', '-0x8000000000000000',
  '0xffffffffffffffff', '0xffffff80', '0xffffffffffffff80', '0xff80', '0xffff', '0xfffffff0',
];
const REGS = ['al', 'spl', 'r9b', 'ax', 'r10w', 'eax', 'ecx', 'r11d', 'rax', 'rcx', 'r12'];
const SIZES = ['', 'byte ', 'word ', 'dword ', 'qword '];

function boundaryLines(): string[] {
  const lines: string[] = [];
  for (const v of EDGES) {
    for (const m of ['mov', 'add', 'cmp', 'test', 'and', 'imul', 'shl', 'push', 'enter', 'int', 'ret']) {
      for (const r of REGS) lines.push(`${m} ${r}, ${v}`);
      for (const size of SIZES) lines.push(`${m} ${size}[rbx + 8], ${v}`, `${m} ${size}${v}`);
    }
    lines.push(`mov rax, [rbx + ${v}]`, `mov rax, [rbp + ${v}]`, `mov [r13 + ${v}], cl`, `lea eax, [ebx + ${v}]`, `mov eax, [${v}]`, `lea rax, [rsp + rcx*8 + ${v}]`);
    lines.push(`mov qword [rbx + ${v}], ${v}`, `xchg rax, [rbx + ${v}]`, `imul rax, [rbx + ${v}], ${v}`, `mov al, [ebp - ${v}]`);
  }
  return lines;
}

function expectSameWithAndWithoutTemplates(source: string): void {
  setTemplatesEnabled(true);
  const a = assemble(source);
  setTemplatesEnabled(false);
  const b = assemble(source);
  setTemplatesEnabled(true);
  expect(a.diagnostics).toStrictEqual(b.diagnostics);
  expect(a.image.sections.map((s) => Buffer.from(s.bytes).toString('hex'))).toStrictEqual(b.image.sections.map((s) => Buffer.from(s.bytes).toString('hex')));
  expect(a.listing).toBe(b.listing);
}

describe('fixed encodings from templates', () => {
  afterEach(() => setTemplatesEnabled(true));

  it('classifies values by every range a form or a field size depends on', () => {
    // Equal classes only for values no selection rule tells apart.
    expect(valueClass(2n)).toBe(valueClass(100n));
    expect(valueClass(1n)).not.toBe(valueClass(2n));
    for (const [a, b] of [[127n, 128n], [-128n, -129n], [255n, 256n], [0xffffn, 0x10000n], [-1n, 0n], [0x7fffffffn, 0x80000000n], [0xffffffffn, 0x100000000n], [-0x80000000n, -0x80000001n], [0xff80n, 0xff7fn], [0xffffff80n, 0xffffff7fn]]) {
      expect(valueClass(a)).not.toBe(valueClass(b));
    }
  });

  it('patches immediates and displacements at the edges of their ranges as iced-x86 encodes them', () => {
    const lines = boundaryLines();
    const before = templateUseCount();
    for (let i = 0; i < lines.length; i += 150) expectSameWithAndWithoutTemplates(lines.slice(i, i + 150).join('\n'));
    expect(templateUseCount() - before).toBeGreaterThan(lines.length / 10);
  });

  it('gives the same bytes on mixed shapes, the corpus and the bench program', () => {
    const mixed = mixedShapeLines(8000, 29);
    for (let i = 0; i < mixed.length; i += 200) expectSameWithAndWithoutTemplates(mixed.slice(i, i + 200).join('\n'));
    expectSameWithAndWithoutTemplates(generateCorpus().map((l) => l.text).join('\n'));
    expectSameWithAndWithoutTemplates(generateAssemblerBenchSource(5000, 5));
  });
});

/** Everything an assembly outputs, for comparing two ways of making it. */
function outputOf(source: string): string {
  const r = assemble(source, { org: 0x4000n });
  return JSON.stringify({
    diagnostics: r.diagnostics,
    entry: String(r.image.entry),
    sections: r.image.sections.map((s) => `${s.name} ${s.address} ${s.size} ${Buffer.from(s.bytes).toString('hex')}`),
    symbols: [...r.image.symbols].map(([n, v]) => `${n}=${v}`),
    map: r.sourceMap.entries.map((e) => `${e.file}:${e.line}:${e.column} ${e.address} ${e.size}`),
    listing: r.listing,
  });
}

function expectSameAsGeneralPath(source: string): void {
  const fast = outputOf(source);
  setFixedEncodingsEnabled(false);
  try {
    expect(fast).toBe(outputOf(source));
  } finally {
    setFixedEncodingsEnabled(true);
  }
}

describe('fixed instructions encoded before layout and emitted from FixedBytes', () => {
  afterEach(() => setFixedEncodingsEnabled(true));

  it('give what the general layout and emitting path gives', () => {
    // Repeated lines, `times`, a nobits section (a warning per instruction), failing encodings,
    // labels, data and branches between them.
    expectSameAsGeneralPath([
      'a: push rbp', 'mov rbp, rsp', 'add eax, 300', 'times 3 add eax, 1', 'mov ah, sil', 'jmp a', 'add eax, 300', 'push rbp',
      'section .bss', 'push rbp', 'add eax, 300', 'b: resb 4', 'section .text', 'push rbp', 'mov ah, sil', 'db 1', 'add eax, 300',
    ].join('\n'));
    const mixed = mixedShapeLines(4000, 31);
    for (let i = 0; i < mixed.length; i += 500) expectSameAsGeneralPath(mixed.slice(i, i + 500).join('\n'));
    expectSameAsGeneralPath(generateCorpus().map((l) => l.text).join('\n'));
    expectSameAsGeneralPath(generateAssemblerBenchSource(5000, 7));
  });
});

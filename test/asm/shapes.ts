// Random lines of the common instruction shapes (deterministic from a seed): registers of every size,
// immediates and displacements at the edges of their fields, memory operands of every addressing form,
// labels, data, and a share of invalid combinations. The fast paths are compared with the general paths
// on them (lineScanner.test.ts, fixedEncoding.test.ts).

/** A xorshift32 generator: deterministic random 32-bit numbers from a seed (shared by the asm tests). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const BY_SIZE: Record<number, string[]> = {
  1: ['al', 'cl', 'dl', 'bl', 'ah', 'bh', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r11b', 'r12b', 'r15b', 'R9L'],
  2: ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r12w', 'r13w', 'r15w'],
  4: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r12d', 'r13d', 'r15d', 'EAX'],
  8: ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r12', 'r13', 'r15', 'Rbx'],
};
const OTHER_REGS = ['fs', 'ss', 'cr0', 'cr3', 'dr7', 'rip'];
const ALU = ['mov', 'add', 'sub', 'and', 'or', 'xor', 'cmp', 'adc', 'sbb', 'test', 'xchg', 'MOV', 'Xor'];
const RM = [...ALU, 'lea', 'imul', 'cmovz', 'cmovg', 'popcnt', 'bsf', 'movbe', 'crc32', 'bt', 'xadd', 'cmpxchg', 'movsxd', 'bound'];
const UNARY = ['inc', 'dec', 'neg', 'not', 'push', 'pop', 'mul', 'idiv', 'shl', 'sar', 'bswap', 'setz', 'jmp', 'call', 'nop', 'int'];
const IMMS = [
  '0', '1', '-1', '2', '5', '0x7f', '127', '128', '-128', '-129', '255', '0xff', '256', '1000', '0x7fff', '32767', '32768', '65535', '0x10000',
  '-32768', '-32769', '0x7fffffff', '0x80000000', '0xffffffff', '-0x80000000', '-0x80000001', '0x100000000', '0x123456789', '0x7fffffffffffffff',
  '0xffffffffffffffff', "'A'", "'ok'", 'K', 'K*4', 'K - 6', 'lbl0', 'lbl1 - lbl0', 'SCALE', '0_10h', '101b', '17q', '- -3', '2*3 + 1',
];
const DISPS = ['', ' + 8', ' - 8', ' + 0', ' + 127', ' + 128', ' - 128', ' - 129', ' + 0x7fffffff', ' + 0x80000000', ' - 0x80000000', ' - 0x80000001', '+16', ' + K', ' + lbl0', ' + SCALE*2', ' - 0x10'];
const BASES = ['rax', 'rbx', 'rsp', 'rbp', 'r12', 'r13', 'rsi', 'r15', 'r8', 'eax', 'esp', 'ebp', 'r13d', 'rip'];
const SPACES = [' ', '  ', '\t', '        '];

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[r() % a.length];
}

function memory(r: () => number): string {
  const k = r() % 9;
  const b = pick(r, BASES);
  const ix = pick(r, b.startsWith('e') || b === 'r13d' ? ['eax', 'ecx', 'ebp', 'r12d', 'esp'] : ['rax', 'rcx', 'rbp', 'r12', 'r13', 'r9', 'rsp']);
  if (k < 4) return `[${b}${pick(r, DISPS)}]`;
  if (k < 6) return `[${b} + ${ix}*${pick(r, ['1', '2', '4', '8', 'SCALE', '3'])}${pick(r, DISPS)}]`;
  if (k === 6) return `[rel lbl${r() % 2}]`;
  if (k === 7) return `[${pick(r, ['2', '3', '4', '5', '8', '9'])}*${ix}${pick(r, DISPS)}]`;
  return `[${pick(r, ['0x1000', 'lbl0', 'K'])}]`;
}

/** `count` lines (a context block of labels and constants every 50 lines). */
export function mixedShapeLines(count: number, seed: number): string[] {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0) lines.push('K equ 5', '%define SCALE 8', 'lbl0:', 'lbl1: nop', '.loc: db 1');
    // Mostly one operand size per line (valid), sometimes mixed or another register class (invalid).
    const size = pick(r, [1, 2, 4, 8, 8, 4]);
    const reg = (): string => (r() % 16 === 0 ? pick(r, [...OTHER_REGS, ...BY_SIZE[pick(r, [1, 2, 4, 8])]]) : pick(r, BY_SIZE[size]));
    const keyword = { 1: 'byte ', 2: 'word ', 4: 'dword ', 8: 'qword ' }[size]!;
    const sz = pick(r, ['', '', keyword, `${keyword}ptr `, 'qword ']);
    const sp = pick(r, SPACES);
    const k = r() % 16;
    let line: string;
    if (k < 4) line = `${pick(r, ALU)}${sp}${reg()},${pick(r, [' ', '', '\t'])}${reg()}`;
    else if (k < 7) line = `${pick(r, ALU)}${sp}${reg()}, ${pick(r, ['', '', sz])}${pick(r, IMMS)}`;
    else if (k < 9) line = `${pick(r, RM)}${sp}${reg()}, ${sz}${memory(r)}`;
    else if (k < 10) line = `${pick(r, RM)}${sp}${sz}${memory(r)}, ${reg()}`;
    else if (k < 11) line = `${pick(r, ALU)}${sp}${sz || 'dword '}${memory(r)}, ${pick(r, IMMS)}`;
    else if (k < 12) line = `${pick(r, UNARY)}${sp}${pick(r, [reg(), `${sz}${memory(r)}`, pick(r, IMMS)])}`;
    else if (k < 13) line = `${pick(r, ['shl', 'shr', 'rol', 'sar', 'imul', 'in', 'out', 'enter'])}${sp}${reg()}, ${pick(r, ['1', '2', '31', '63', 'cl', 'dx', 'K', reg()])}`;
    else if (k < 14) line = `${pick(r, ['db', 'dw', 'dd', 'dq'])}${sp}${pick(r, IMMS)}, ${pick(r, ['"s"', '0', '10', 'K', "'ab'"])}`;
    else if (k < 15) line = `${pick(r, ['movzx', 'movsx'])}${sp}${pick(r, BY_SIZE[pick(r, [2, 4, 8])])}, ${pick(r, ['byte ', 'word ', ''])}${memory(r)}`;
    else line = `${pick(r, ['jmp', 'je', 'jnz', 'call', 'loop', 'lock add', 'lock xadd', 'rep stosb'])}${sp}${pick(r, ['lbl0', 'lbl1', '.loc', '$', '[rax]', 'qword [rbx], rcx'])}`;
    if (r() % 5 === 0) line += pick(r, [' ; comment', ';c', '\t; x, y [z]', '   ']);
    if (r() % 4 === 0) line = pick(r, SPACES) + line;
    if (r() % 10 === 0) line = `v${i}:${line}`;
    lines.push(line);
  }
  return lines;
}

const FUZZ_FRAGMENTS = [
  'mov', 'add', 'jmp', 'lea', 'db', 'dq', 'times', 'equ', 'section', 'org', 'align', 'resb', '%define', '%include', 'rax', 'eax', 'al',
  'ah', 'r8b', 'cr0', 'dr7', 'fs', '[', ']', '[rel', '[rip', '+', '-', '*', '/', '//', '%', '<<', '>>', '~', '(', ')', ',', ':', '$', '$$',
  '0x1F', '1Fh', '0b101', '99999999999999999999', "'A'", '"str', '"ok"', '`\\x4`', 'byte', 'qword ptr', 'lock', 'rep', 'o64', '.local', 'label:',
  'user', 'start=', ';', '\t', 'erets', 'vmread', 'int', '3', '-128', '0', '1 / 0', 'short', 'near', 'far', 'default rel', 'bits 64', '\u00e9',
];

/**
 * A fuzz input of `lines` lines (fuzz.test.ts, test/asm/outputHash.ts): each a mutated line of `valid`
 * (a character deleted, doubled or replaced, or a fragment spliced in) or fragments glued together.
 */
export function fuzzSource(next: () => number, valid: readonly string[], lines: number): string {
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    if (next() % 2) {
      let line = valid[next() % valid.length];
      const at = line.length ? next() % line.length : 0;
      switch (next() % 4) {
        case 0: line = line.slice(0, at) + line.slice(at + 1); break;
        case 1: line = line.slice(0, at) + line[at] + line.slice(at); break;
        case 2: line = line.slice(0, at) + String.fromCharCode(32 + (next() % 95)) + line.slice(at + 1); break;
        default: line = line.slice(0, at) + FUZZ_FRAGMENTS[next() % FUZZ_FRAGMENTS.length] + line.slice(at);
      }
      out.push(line);
    } else {
      const n = 1 + (next() % 6);
      const parts: string[] = [];
      for (let k = 0; k < n; k++) parts.push(FUZZ_FRAGMENTS[next() % FUZZ_FRAGMENTS.length]);
      out.push(parts.join(next() % 2 ? ' ' : ''));
    }
  }
  return out.join('\n');
}

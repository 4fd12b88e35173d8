// The parser's fast path (lineScanner.ts) must build exactly what the general path builds: the same
// statements (operands, expressions, positions), sections, rows and diagnostics, for the lines it takes
// and for the lines it hands over. Each source is parsed both ways and compared; the common shapes are
// also checked to take the fast path at all (else the comparison would prove nothing).
import { describe, expect, it } from 'vitest';
import { parseProgram } from '../../src/asm/parser';
import { LineScanner, ScanResult } from '../../src/asm/lineScanner';
import { tokenize } from '../../src/asm/lexer';
import { generateAssemblerBenchSource } from '../../src/cli/bench/assemblerBench';
import { generateCorpus } from './corpus';
import { mixedShapeLines } from './shapes';

function expectSameParse(source: string): void {
  const fast = parseProgram(source, 'x.fred', { readFile: () => 'db 1' });
  const general = parseProgram(source, 'x.fred', { readFile: () => 'db 1', generalOnly: true });
  expect(fast.diagnostics).toStrictEqual(general.diagnostics);
  expect(fast.sections).toStrictEqual(general.sections);
  expect(fast.rows).toStrictEqual(general.rows);
  expect(fast.statements.length).toBe(general.statements.length);
  for (let i = 0; i < fast.statements.length; i++) expect(fast.statements[i]).toStrictEqual(general.statements[i]);
}

/** Lines of the shapes the scanner takes, with what makes each shape tricky. */
const SHAPES = [
  'add rax, rbx', '  ADD  Rax ,rBx  ; comment', 'xor eax,eax', 'mov r8b, r15b', 'mov ah, bh', 'test spl, 1',
  'mov ecx, 5', 'mov rax, -1', 'mov rax, 0x7fffffff', 'mov rax, 0xffffffffffffffff', 'mov al, 0FFh', 'mov al, 0b101', 'mov eax, 1_000',
  "mov al, 'A'", 'mov eax, "abcd"', "cmp byte [rel msg], 'x'", 'mov eax, K + 1', 'mov eax, K*2 - 3', 'mov eax, -4', 'mov eax, 2*3*4',
  'mov eax, - -1', 'mov eax, 1 - -1', 'sub rsp, STACK_TOP - 16',
  'mov rax, [rbx]', 'mov rax, [rbx + 8]', 'mov rax, [rbx - 8]', 'mov rax, [rbx+rcx*8-8]', 'mov rax, [8*rcx + rbx]', 'mov rax, [rbx + rcx*SCALE + 16]',
  'mov rax, [rax*2]', 'mov rax, [rax*3]', 'mov rax, [rcx*4]', 'mov rax, [rsp + rax]', 'mov rax, [rbp]', 'mov rax, [r13 + 0]', 'mov eax, [ecx + edx*2]',
  'mov rax, [rip + 4]', 'lea rax, [rel msg]', 'lea rax, [abs msg]', 'mov rax, [msg + rbx]', 'mov rax, [rbx + K*4]', 'mov rax, [rbx - msg]',
  'mov qword [rbx], 1', 'mov byte ptr [rbx], 1', 'mov DWORD PTR [rbx + 4], eax', 'inc qword [r12]', 'movzx eax, byte [rsi]', 'movzx ecx, word ptr [rsi + 2]',
  'mov dword eax, 1', 'mov eax, dword 1', 'add rax, byte 1', 'push qword 5',
  'imul rax, rbx, 1000', 'imul rax, 8', 'imul eax, [rbx], 3', 'shl rax, 1', 'shl rax, cl', 'out dx, al', 'in al, dx', 'int 3', 'enter 16, 0',
  'jmp .L1', 'jne .L1', 'call func', 'jmp func + 2', 'loop .L1', 'jmp rax', 'call [rax + 8]',
  'ret', 'RET', 'wrmsr', 'nop ; nothing', 'lock xadd [rax], ecx', 'lock add qword [rbx], 1', 'rep stosb', 'repne scasb', 'rep movsq',
  'db 1, 2, 3', 'db "message 7", 10, 0', 'dw 0x1234, "ab"', 'dd 1 ; value', 'dq msg, 12', 'db "a" + 1', "db 'ab', 'c'",
  'msg:', '.L1:', '  .L2:   ; local', 'func:', '_start:', '?weird@name:', 'a.b:', '..@special:',
  '', '   ', '; only a comment', '\t', 'nop\r',
];

/** Lines that look like the shapes but must give the general path's errors or other statements. */
const TRAPS = [
  'mov rax', 'mov rax,', 'mov , rax', 'mov rax rbx', 'mov rax, rbx,', 'mov rax, [rbx', 'mov rax, rbx]', 'mov rax, [rbx]]', 'mov rax, [rbx + ]',
  'mov rax, [rbx*rcx]', 'mov rax, [rbx - rcx]', 'mov rax, [rax + rbx + rcx]', 'mov rax, [rax*3 + rbx]', 'mov rax, [rsp*2]', 'mov rax, [eax + rbx]',
  'mov rax, [cr0]', 'mov rax, [fs]', 'mov rax, [fs:rbx]', 'mov rax, fs:[rbx]', 'mov rax, [rip + rbx]', 'lea rax, [rel rbx]', 'mov rax, [rbx*16]',
  'mov rax, byte [rbx]', 'mov byte rax, 1', 'mov byte word [rax], 1', 'mov rax, byte word 1', 'mov rax, ptr', 'mov byte ptr ptr [rax], 1',
  'mov rip, 1', 'mov rax, rip', 'mov rax, 99999999999999999999', 'mov rax, 0x', 'mov rax, 12abc', 'mov rax, 5 6', 'mov rax, 5 / 2', 'mov rax, (5)',
  "mov rax, 'abcdefghi'", "mov rax, 'open", 'mov rax, `x`', 'mov rax, $', 'mov rax, $$ + 1', 'mov rax, +1', 'mov rax, ~1', 'mov rax, 2**3',
  'mov rax, 1 +', 'mov rax, rbx + 1', 'mov rax, short x', 'jmp short .L1', 'jmp near .L1', 'jmp far [rax]', 'mov: nop', 'mov:', 'rax:', 'db:',
  'frobnicate rax', 'label', 'label nop', 'lbl: mov rax, 1', 'x equ 5', 'mov equ 5', 'db equ 3', 'lock', 'lock db 1', 'lock equ', 'o64 sysret',
  'rep', 'times 2 nop', 'db', 'db 1,', 'db "open', 'db `x\\n`', 'db 300', 'db "s" 1', 'resb 4', 'align 8', 'section .data', 'default rel',
  '.local:', 'é', 'mov rax, é', 'mov rax, 1 ; é', '5: nop', '%define X 1', 'mov eax, X', 'mov rax, [rbx + 8]:', 'mov rax, [rbx] + 1',
  'lea rax, [rel rel]', "db 'it''s'", 'dq 1 << 3', 'mov eax, 0x7fffffffffffffffff', 'add eax, 0x80000000', 'mov al, 0x1ff', 'mov ah, sil', 'inc [rax]', 'mov rax, [rbx + 0x80000000]',
];

describe('line scanner (fast path of the parser)', () => {
  it('takes the common shapes', () => {
    const defines = new Map([['SCALE', tokenize('8')]]);
    const scanner = new LineScanner(defines);
    scanner.syncDefines(1);
    const notTaken = SHAPES.filter((line) => scanner.scan(line, 0) === ScanResult.Fallback);
    expect(notTaken).toEqual([]);
  });

  it('builds what the general path builds for the common shapes', () => {
    const context = ['%define SCALE 8', 'K equ 5', 'STACK_TOP equ 0x200000', 'msg: db 0', 'func:', 'top:', '.L1:'];
    expectSameParse([...context, ...SHAPES].join('\n'));
    // Each line alone too: no label scope, no section yet, no %define.
    for (const line of SHAPES) expectSameParse(line);
  });

  it('hands over lines it does not take, with the general path’s diagnostics', () => {
    const context = ['%define SCALE 8', 'K equ 5', 'msg: db 0', 'top:'];
    expectSameParse([...context, ...TRAPS].join('\n'));
    for (const line of TRAPS) expectSameParse(line);
    for (const line of TRAPS) expectSameParse(`%define SCALE 8\ntop:\n${line}`);
  });

  it('follows %define: a defined word is not what it spells', () => {
    expectSameParse(['%define mov add', 'mov rax, 1', '%define byte 2', 'mov byte [rax], 1', '%define rel 5', 'lea rax, [rel x]', 'x:', '%define L x', 'L:', 'jmp L'].join('\n'));
    expectSameParse(['%define N 3', 'mov eax, N', '%undef N', 'mov eax, N', '%assign N 4', 'mov eax, N', '%define R rbx', 'mov rax, [R + 8]', '%define E', 'mov eax, 1 E'].join('\n'));
  });

  it('follows `default rel` and local label scopes', () => {
    expectSameParse(['a:', 'mov eax, [x]', 'jmp .l', 'default rel', 'mov eax, [x]', 'mov eax, [fs:x]', 'mov eax, [rbx + x]', '.l:', 'b:', 'jmp .l', '.l:', 'x: dd 0'].join('\n'));
  });

  it('builds what the general path builds for the bench program, the corpus and mixed shapes', () => {
    expectSameParse(generateAssemblerBenchSource(4000, 3));
    expectSameParse(generateCorpus().map((l) => l.text).join('\n'));
    const mixed = mixedShapeLines(6000, 17);
    for (let i = 0; i < mixed.length; i += 200) expectSameParse(mixed.slice(i, i + 200).join('\n'));
  });
});

// `asm_lines_per_s` (wall clock) and `asm_lines_per_cpu_s` (process CPU time, stable on a loaded
// machine): assembling a generated 50 000-line program with a realistic mix of instructions, labels,
// local labels, data and comments (ARCHITECTURE §8).
import { assemble } from '../../asm/index';
import { median, WARM_UP_RUNS, type Benchmark } from './benchmark';

const LINES = 50_000;
const RUNS = 7;

/** Deterministic pseudo-random source (xorshift32), so every run assembles the same text. */
export function generateAssemblerBenchSource(lines: number, seed = 1): string {
  let state = seed >>> 0 || 1;
  const rand = (n: number): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
  const r64 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
  const r32 = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d'];
  const r8 = ['al', 'bl', 'cl', 'dl', 'sil', 'dil', 'r8b', 'r9b'];
  const alu = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'adc', 'sbb', 'test', 'mov'];
  const jcc = ['je', 'jne', 'jb', 'jae', 'jl', 'jge', 'jz', 'jnz', 'ja', 'jbe'];
  const pick = <T>(a: readonly T[]): T => a[rand(a.length)];
  const out: string[] = ['bits 64', 'org 0x100000', 'STACK_TOP equ 0x200000', '%define SCALE 8', 'section .text', '_start:'];
  let fn = 0;
  let local = 0;
  let maxRef = 0;
  // Forward references to local labels are defined before the function ends.
  const closeFunction = (): void => {
    while (local < maxRef) out.push(`.L${++local}:`);
    local = 0;
    maxRef = 0;
  };
  const localRef = (ahead: number): string => {
    const n = 1 + rand(local + ahead);
    if (n > maxRef) maxRef = n;
    return `.L${n}`;
  };
  const dataLabels: string[] = [];
  let dataLines = 0;
  while (out.length < lines * 0.9) {
    const k = rand(100);
    if (k < 4) {
      closeFunction();
      fn++;
      out.push('', `; function ${fn}`, `func${fn}:`, '        push    rbp', '        mov     rbp, rsp');
    } else if (k < 10) out.push(`.L${++local}:`);
    else if (k < 16) out.push(`        ${pick(jcc)}      ${localRef(2)}`);
    else if (k < 18) out.push(`        call    func${1 + rand(fn + 5)}`);
    else if (k < 36) out.push(`        ${pick(alu)}     ${pick(r64)}, ${pick(r64)}`);
    else if (k < 46) out.push(`        ${pick(alu)}     ${pick(r32)}, ${rand(4) ? rand(100) : rand(0x100000)}`);
    else if (k < 56) out.push(`        mov     ${pick(r64)}, [${pick(r64)} + ${rand(16) * 8}]`);
    else if (k < 62) out.push(`        mov     [${pick(r64)} + ${pick(r64)}*SCALE + ${rand(256)}], ${pick(r64)}`);
    else if (k < 66) out.push(`        lea     ${pick(r64)}, [rel data${rand(64)}]`);
    else if (k < 70) out.push(`        movzx   ${pick(r32)}, byte [${pick(r64)}]`);
    else if (k < 73) out.push(`        mov     ${pick(r8)}, ${rand(256)}        ; byte constant`);
    else if (k < 76) out.push(`        shl     ${pick(r64)}, ${1 + rand(63)}`);
    else if (k < 78) out.push(`        inc     qword [${pick(r64)}]`);
    else if (k < 80) out.push(`        imul    ${pick(r64)}, ${pick(r64)}, ${rand(1000)}`);
    else if (k < 83) out.push('        ; a comment line explaining the next few instructions');
    else if (k < 85) out.push(`        mov     rsp, STACK_TOP - ${rand(16) * 16}`);
    else if (k < 87) out.push(`        cmp     byte [rel data${rand(64)}], '${String.fromCharCode(65 + rand(26))}'`);
    else if (k < 89) out.push(`        jmp     ${localRef(1)}`);
    else if (k < 91) out.push('        pop     rbp', '        ret');
    else if (k < 93) out.push(`        out     dx, al`);
    else if (k < 95) out.push(`        wrmsr`);
    else if (k < 97) out.push(`        lock xadd [${pick(r64)}], ${pick(r32)}`);
    else out.push('');
  }
  closeFunction();
  for (let i = 0; i < fn + 6; i++) if (!out.includes(`func${i}:`) && i > 0) out.push(`func${i}:`, '        ret');
  out.push('', 'section .data');
  while (out.length < lines) {
    const i = dataLines++;
    if (i < 64) {
      dataLabels.push(`data${i}`);
      out.push(`data${i}:`);
    }
    const k = rand(4);
    if (k === 0) out.push(`        db      "message ${i}", 10, 0`);
    else if (k === 1) out.push(`        dq      ${rand(1 << 30)}, data${rand(Math.min(64, dataLabels.length))}`);
    else if (k === 2) out.push(`        dw      ${rand(65536)}, 0x${rand(65536).toString(16)}`);
    else out.push(`        dd      ${rand(1 << 30)} ; value`);
  }
  return `${out.join('\n')}\n`;
}

export const assemblerBenchmark: Benchmark = {
  name: 'assembler',
  description: `assemble a generated ${LINES.toLocaleString('en-US')}-line program (median of ${RUNS} runs after ${WARM_UP_RUNS} warm-up runs)`,
  run() {
    const source = generateAssemblerBenchSource(LINES);
    const lineCount = source.split('\n').length - 1;
    const rates: number[] = [];
    const cpuRates: number[] = [];
    let bytes = 0;
    // Warm-up runs (JIT compilation, iced-x86's opcode tables) are not measured.
    for (let i = 0; i < WARM_UP_RUNS; i++) assemble(source, { fileName: 'bench.fred' });
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const result = assemble(source, { fileName: 'bench.fred' });
      const cpu = process.cpuUsage(c0);
      const seconds = (performance.now() - t0) / 1000;
      // CPU time of the process (all its threads, so parallel GC counts too): meaningful on a loaded machine.
      cpuRates.push(lineCount / Math.max((cpu.user + cpu.system) / 1e6, 1e-6));
      if (!result.ok) {
        const first = result.diagnostics.find((d) => d.severity === 'error')!;
        throw new Error(`benchmark source does not assemble: ${first.line}:${first.column}: ${first.message}`);
      }
      bytes = result.image.sections.reduce((n, s) => n + s.bytes.length, 0);
      rates.push(lineCount / seconds);
    }
    return { figures: { asm_lines_per_s: median(rates), asm_lines_per_cpu_s: median(cpuRates) }, detail: `${lineCount} lines → ${bytes} bytes` };
  },
};

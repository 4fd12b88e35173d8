// Guest MIPS of the whole machine as a user gets it (ARCHITECTURE §8): paging on, an interrupt source
// armed (IF = 1, the APIC schedule consulted at block boundaries), a debugger breakpoint set but never
// hit, the trace on. `alu_mips`: add/xor/dec/jnz; `mem_mips`: load/add/store over a 64 KiB array.
import { assemble } from '../../asm/index';
import { createMachine } from '../../machine/machine';
import { median, type Benchmark } from './benchmark';

const RUNS = 5;

export const ALU_LOOP = `
bits 64
org 0x100000
_start:
        sti
        mov     rcx, ITERATIONS
        mov     rbx, 0x123456789
.loop:  add     rax, rbx
        xor     rdx, rax
        dec     rcx
        jnz     .loop
        cli
        hlt
never:  hlt
`;

export const MEMORY_LOOP = `
bits 64
org 0x100000
_start:
        sti
        mov     r8, PASSES
        mov     rbx, 3
.pass:  lea     rdi, [rel array]
        mov     rcx, 8192
.loop:  mov     rax, [rdi]
        add     rax, rbx
        mov     [rdi], rax
        add     rdi, 8
        dec     rcx
        jnz     .loop
        dec     r8
        jnz     .pass
        cli
        hlt
never:  hlt
align 4096
array:  times 65536 db 0
`;

/** MIPS of one run of `source` (median over RUNS runs). */
export function measureMips(source: string): { mips: number; instructions: number } {
  const result = assemble(source, { fileName: 'bench.fred' });
  if (!result.ok) throw new Error(`bench program: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  const never = result.image.symbols.get('never') ?? 0x7fff0000n;
  const samples: number[] = [];
  let instructions = 0;
  for (let k = 0; k < RUNS; k++) {
    const machine = createMachine(result.image, { interrupts: [{ vector: 0x20, every: 1e12 }] });
    machine.addBreakpoint(never);
    machine.trace.subscribe(() => {});
    const start = performance.now();
    const stop = machine.run(1e9);
    const ms = performance.now() - start;
    if (stop.reason !== 'halted') throw new Error(`bench program stopped: ${stop.message}`);
    instructions = machine.icount;
    samples.push(instructions / ms / 1000);
  }
  return { mips: median(samples), instructions };
}

export const machineBenchmark: Benchmark = {
  name: 'machine',
  description: 'guest MIPS: ALU loop and memory loop (paging, interrupts armed, breakpoint set, trace on)',
  run() {
    const alu = measureMips(ALU_LOOP.replace('ITERATIONS', String(10_000_000)));
    const mem = measureMips(MEMORY_LOOP.replace('PASSES', String(1000)));
    return {
      figures: { alu_mips: alu.mips, mem_mips: mem.mips },
      detail: `median of ${RUNS} runs; ${alu.instructions.toLocaleString('en-US')} and ${mem.instructions.toLocaleString('en-US')} instructions`,
    };
  },
};

// Test helpers: assemble a snippet with src/asm and boot a machine on it.
import { assemble } from '../../src/asm/index';
import { createMachine, type Machine, type MachineOptions } from '../../src/machine/machine';

export function assembleImage(source: string) {
  const result = assemble(`bits 64\norg 0x100000\n${source}`, { fileName: 'test.fred' });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n'));
  return result.image;
}

/** Boot a machine on `source` (64-bit code at 0x100000). */
export function machineFor(source: string, options?: MachineOptions): Machine {
  return createMachine(assembleImage(source), options);
}

/** Run `source` to its stop and return the machine. */
export function runProgram(source: string, options?: MachineOptions, max = 1_000_000): Machine {
  const m = machineFor(source, options);
  const stop = m.run(max);
  (m as Machine & { lastStop?: unknown }).lastStop = stop;
  return m;
}

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** Status flags CF PF AF ZF SF OF. */
export const CF = 0x1n, PF = 0x4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, OF = 0x800n;
export const STATUS = CF | PF | AF | ZF | SF | OF;

/**
 * Run `body` (64-bit code ending in HLT) both on one-instruction blocks (the reference interpreter)
 * and on compiled blocks; the two machines must agree on every GPR, RIP, RFLAGS and the icount.
 * Returns the compiled machine.
 */
export function runBoth(body: string, max = 1_000_000): Machine {
  const image = assembleImage(`_start:\n${body}\n  hlt\n`);
  const interpreted = createMachine(image, { interpretOnly: true });
  const compiled = createMachine(image, { optimizeAfter: 0 }); // optimized blocks from the first run
  const a = interpreted.run(max), b = compiled.run(max);
  const state = (m: Machine) => ({
    gprs: Array.from({ length: 16 }, (_, i) => hex(m.getGpr(i))), rip: hex(m.getRip()), rflags: hex(m.getRflags()), icount: m.icount,
  });
  if (JSON.stringify(state(interpreted)) !== JSON.stringify(state(compiled)) || a.reason !== b.reason) {
    throw new Error(`interpreted and compiled runs differ:\n${JSON.stringify({ a, ...state(interpreted) }, null, 1)}\n${JSON.stringify({ b, ...state(compiled) }, null, 1)}`);
  }
  (compiled as Machine & { lastStop?: unknown }).lastStop = b;
  return compiled;
}

/**
 * Guest code installing IDT gates through KERNEL_LIB's `set_gate`: one entry per gate, [vector,
 * handler label, gate word] (0x8E00 = 64-bit interrupt gate, DPL 0, no IST; default).
 */
export function setGates(gates: readonly (readonly [vector: number, handler: string, gateWord?: number])[]): string {
  return gates.map(([vector, handler, word = 0x8e00]) =>
    `        mov     rdi, ${vector}\n        lea     rsi, [rel ${handler}]\n        mov     edx, 0x${word.toString(16).toUpperCase()}\n        call    set_gate`).join('\n');
}

/**
 * Kernel-side library appended to system tests: `set_gate` (RDI = vector, RSI = handler,
 * EDX = gate word: 0x8E00 interrupt gate | DPL << 13 | IST), `load_idt`, and `to_user`
 * (RSI = user RIP, RDX = user RSP: IRETQ to CS 0x33 / SS 0x2B with IF = 0).
 */
export const KERNEL_LIB = `
set_gate:
        shl     rdi, 4
        lea     rax, [rel idt_table]
        add     rdi, rax
        mov     rax, rsi
        mov     [rdi], ax
        mov     word [rdi + 2], 0x10
        mov     [rdi + 4], dx
        shr     rax, 16
        mov     [rdi + 6], ax
        shr     rax, 16
        mov     [rdi + 8], eax
        mov     dword [rdi + 12], 0
        ret
load_idt:
        lea     rax, [rel idt_table]
        mov     [rel idtr_desc + 2], rax
        lidt    [rel idtr_desc]
        ret
to_user:
        push    0x2b
        push    rdx
        push    0x2
        push    0x33
        push    rsi
        iretq
align 16
idtr_desc:  dw 4095
            dq 0
align 16
idt_table:  times 4096 db 0
`;

export function stopOf(m: Machine): import('../../src/machine/machine').StopReason {
  return (m as Machine & { lastStop: import('../../src/machine/machine').StopReason }).lastStop;
}

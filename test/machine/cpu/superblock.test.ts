// Superblocks (translator.ts `continuation`, block.ts): a block goes on through direct branches in its
// page — backward taken, forward not taken — and ends with a system instruction. Every test runs the
// program one instruction per block (the reference) and compiled, and compares registers, RIP,
// RFLAGS, icount, the stop and every trace record (their icounts say when each event happened).
// A system instruction that faults after changing registers at the end of a multi-instruction block
// (a REP string's completed iterations) is covered by exec/strings.test.ts "REP string restartability".
import { describe, expect, test } from 'vitest';
import { assemble } from '../../../src/asm/index';
import { createMachine, type LoadableImage, type Machine } from '../../../src/machine/machine';
import type { Block } from '../../../src/machine/cpu/codegen/block';
import type { Translator } from '../../../src/machine/cpu/translator';
import { INT3_ERETS, SYSCALL_ERETU } from '../../../src/cli/bench/fredBench';

function image(source: string): LoadableImage {
  const result = assemble(source, { fileName: 'superblock.fred' });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
  return result.image as unknown as LoadableImage;
}

function state(m: Machine, stop: unknown) {
  return {
    stop,
    gprs: Array.from({ length: 16 }, (_, i) => m.getGpr(i).toString(16)), rip: m.getRip().toString(16), rflags: m.getRflags().toString(16), icount: m.icount,
    trace: m.trace.records.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))),
  };
}

/** Run interpreted and compiled (optimized from the first execution, and with the default first tier); all must agree. */
function runAll(source: string, max = 200_000): Machine {
  const img = image(source);
  const reference = createMachine(img, { interpretOnly: true });
  const expected = state(reference, reference.run(max));
  let compiled: Machine | undefined;
  for (const optimizeAfter of [0, 4]) {
    const m = createMachine(img, { optimizeAfter });
    expect(state(m, m.run(max)), `optimizeAfter ${optimizeAfter}`).toEqual(expected);
    compiled = m;
  }
  return compiled!;
}

function blockAt(m: Machine, rip: bigint): Block {
  return (m as unknown as { translator: Translator }).translator.get(Number(rip), false);
}

describe('superblocks', () => {
  test('a never-taken JO/JB after a logic op ends its block at the next instruction (was an endless loop)', () => {
    const m = runAll(`bits 64
org 0x100000
_start: mov ecx, 10
.l:     or al, 1
        jo .bad
        jb .bad
        dec ecx
        jnz .l
        hlt
.bad:   mov eax, 0xdead
        hlt`);
    expect(m.getGpr(0) & 0xffffn).not.toBe(0xdeadn);
    expect(m.icount).toBe(1 + 10 * 5 + 1);
  });

  test('loops with forward skips, backward edges to a mid-block label and RDTSC/CPUID at the end agree with the reference', () => {
    runAll(`bits 64
org 0x100000
_start: mov ecx, 300
        xor ebx, ebx
.top:   inc rbx
.again: test bl, 3
        jz .skip
        add rsi, rbx
        cmp bl, 7
        jb .again          ; backward, to a label inside the block
.skip:  dec ecx
        jz .out
        test cl, 1
        jnz .odd
        rdtsc              ; reads icount: the instructions before it in its block have retired
        xor rdi, rax
        jmp .top
.odd:   mov eax, 1
        cpuid
        jmp .top
.out:   hlt`);
  });

  test('the FRED bench loops: the instructions after INT3/SYSCALL and the next event are one block', () => {
    for (const [source, event] of [[INT3_ERETS, 'int3'], [SYSCALL_ERETU, 'syscall']] as const) {
      const m = runAll(source.replace('ROUNDS', '50'));
      expect(m.getGpr(3)).toBe(0n);
      // The instruction after the event: `dec rbx`, then the branch back to the event.
      const after = [...m.trace.records].reverse().find((r) => r.kind === 'return'); // the last: back after the event

      expect(after, 'an ERETx record').toBeDefined();
      const block = blockAt(m, (after as { toRip: bigint }).toRip);
      expect(block.insns.map((d) => d.text.split(' ')[0])).toEqual(['dec', 'jne', event]);
      expect(block.endsInSystem).toBe(true);
    }
  });
});

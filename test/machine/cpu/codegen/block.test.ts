import { describe, expect, it } from 'vitest';
import { compileBlock, FACTORY_CACHE_SIZE } from '../../../../src/machine/cpu/codegen/block';
import type { DecodedInsn } from '../../../../src/machine/cpu/decode';

// compileBlock keeps one factory per source for every machine of the process; what must never be
// shared is a block's constants (its decoded instructions and system helper).
const SOURCE = 'return function block(c) { c.seen = D[0]; if (S) S(c, D[0], 0); };';
const insn = (rip: number) => ({ rip }) as unknown as DecodedInsn;

describe('compileBlock', () => {
  it('gives every block its own constants when two blocks have the same source', () => {
    const calls: number[] = [];
    const first = compileBlock(SOURCE, [insn(1)], ((_c: never, d: DecodedInsn) => calls.push(10 + d.rip)) as never);
    const second = compileBlock(SOURCE, [insn(2)], ((_c: never, d: DecodedInsn) => calls.push(20 + d.rip)) as never);
    const a = { seen: undefined as unknown }, b = { seen: undefined as unknown };
    first(a);
    second(b);
    first(a);
    expect((a.seen as { rip: number }).rip).toBe(1);
    expect((b.seen as { rip: number }).rip).toBe(2);
    expect(calls).toEqual([11, 22, 11]);
  });

  it('still compiles correctly after more sources than the cache keeps', () => {
    const blocks = [];
    for (let k = 0; k < FACTORY_CACHE_SIZE + 10; k++) blocks.push(compileBlock(`return function block(c) { c.value = ${k}; };`, [], undefined));
    const state = { value: -1 };
    blocks[0](state);
    expect(state.value).toBe(0);
    blocks[FACTORY_CACHE_SIZE + 9](state);
    expect(state.value).toBe(FACTORY_CACHE_SIZE + 9);
    // The first source was dropped; compiling it again works and is a new factory.
    compileBlock('return function block(c) { c.value = 0; };', [], undefined)(state);
    expect(state.value).toBe(0);
  });
});

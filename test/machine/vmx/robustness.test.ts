// Robustness under the monitor: random bytes executed as a guest in VMX non-root operation (lazy
// EPT, KVM's policy) never throw on the host and always end in a documented stop — the monitor's
// handlers, re-injection and entry checks included (ARCHITECTURE §2; test/machine/robustness.test.ts
// does the same on bare metal).
import { describe, expect, it } from 'vitest';
import { createMachine, type StopReason } from '../../../src/machine/machine';
import { Random } from '../hostdiff/random';
import { KVM } from './guest';

const SEED = 0x5eed5;
const TARGET_INSTRUCTIONS = 300_000;
const RUN_LIMIT = 20_000;
const STOPS = new Set(['halted', 'debugExit', 'shutdown', 'instructionLimit', 'unimplemented', 'vmexit']);
const LOW = 0x25000, TOP = 4 << 20, STACK = 0x380000;

describe('robustness under the monitor: random code', () => {
  it(`executes at least ${TARGET_INSTRUCTIONS} instructions of random bytes with only documented stops (seed ${SEED})`, () => {
    const random = new Random(SEED);
    const m = createMachine({ sections: [{ address: BigInt(LOW), bytes: random.bytes(TOP - LOW), size: TOP - LOW, user: false, writable: true, executable: true }], entry: BigInt(LOW) }, { memoryMiB: 4, vmx: KVM });
    const boot = m.snapshot();
    let exitCount = 0;
    m.trace.subscribe((r) => { if (r.kind === 'vmexit') exitCount++; });
    const seen = new Map<string, number>();
    let instructions = 0;
    let stuck = 0;
    while (instructions < TARGET_INSTRUCTIONS) {
      for (let r = 0; r < 16; r++) m.setGpr(r, r === 4 ? BigInt(STACK + random.below(0x70000)) & ~7n : random.chance(0.6) ? random.u64() : BigInt(LOW + random.below(TOP - LOW)));
      m.setRflags(BigInt(random.u32() & 0xcd5) | 0x2n | (random.chance(0.2) ? 0x200n : 0n) | (random.chance(0.05) ? 0x100n : 0n));
      m.setRip(BigInt(LOW + random.below(STACK - LOW)));
      const before = m.icount;
      let stop: StopReason;
      try {
        stop = m.run(RUN_LIMIT);
      } catch (error) {
        throw new Error(`host exception ${String(error)} at run ${seen.size}`);
      }
      if (!STOPS.has(stop.reason)) expect.fail(`stop '${stop.reason}': ${stop.message}`);
      expect(stop.message).not.toBe('');
      instructions += m.icount - before;
      seen.set(stop.reason, (seen.get(stop.reason) ?? 0) + 1);
      // The guest states the emulated CPU produces always pass the VM-entry checks.
      if (stop.reason === 'vmentryFailure') expect.fail(stop.message);
      // Random code wrecks its page tables or GDT, or leaves an exit the monitor cannot handle: start over.
      stuck = stop.reason === 'shutdown' || stop.reason === 'vmexit' ? stuck + 1 : 0;
      if (stuck >= 3) { m.restore(boot); stuck = 0; }
    }
    expect(exitCount).toBeGreaterThan(1000);
    expect(seen.get('instructionLimit') ?? 0).toBeGreaterThan(0);
  });
});

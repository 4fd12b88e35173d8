// Compiled blocks against the reference (one instruction per block): random programs drawn from a
// pool of integer instructions (registers, memory through RSI/RDI, stack, flags consumers, short
// branches), random register and flag inputs, fixed seed. Every register, RIP, RFLAGS, the icount,
// the stop and 8 KiB of memory must agree.
import { expect, test } from 'vitest';
import { createMachine } from '../../../src/machine/machine';

const POOL = [
  '4801d8', '4829d8', '4831c3', '4821c8', '4809d1', '48ffc0', '48ffc9', '48f7d8', '48f7d0', '4839c8', '4885c0', '4811d8', '4819c8',
  '01d8', '29c8', '31d1', 'ffc0', 'ffc9', '00d8', '28c8', '6601d8', '6629c8', '80c305', '83c0ff', '4883e801', '4883f805',
  '480fafc3', '486bc007', '48f7e3', '48d1e0', '48d1e8', '48d1f8', '48d3e0', '48c1c005', '48c1c803', '480fa3d8', '480fbcc3',
  '0f94c0', '0f9fc1', '480f44c3', '480f4fc8', '480fc8', '4887d8', '480fc1d8', '4863c0', '480fbec0', '480fb7c3', '4898', '4899',
  'f9', 'f8', 'f5', '9f', '488b06', '488907', '480306', '482907', '48ff06', '488d4608', '4883c608', '4883ef08', '50', '5b', '53',
  '58', '6a05', '59', '7402', '7502', '7c02', '7f02', 'eb02', '9090', '8a06', '8807', '668b06', '66ff07', '0fb606', '48630e',
];

test('random instruction streams: compiled blocks match one-instruction blocks', () => {
  let seed = 0x5eed;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed >>> 16);
  let ran = 0;
  for (let k = 0; k < 60; k++) {
    const hex = Array.from({ length: 40 }, () => POOL[rnd() % POOL.length]).join('') + 'f4';
    const code = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    const regs = Array.from({ length: 16 }, () => (BigInt(rnd()) << 48n) | (BigInt(rnd()) << 32n) | (BigInt(rnd()) << 16n) | BigInt(rnd()));
    const run = (interpretOnly: boolean) => {
      const m = createMachine({ sections: [{ address: 0x100000n, bytes: code, size: code.length, user: false, writable: true, executable: true }], entry: 0x100000n }, { memoryMiB: 4, interpretOnly, optimizeAfter: 0 });
      regs.forEach((v, i) => i !== 4 && m.setGpr(i, v));
      m.setGpr(6, 0x200000n);
      m.setGpr(7, 0x200800n);
      m.setRflags(0x2n | (regs[0] & 0x8d5n));
      const stop = m.run(500);
      const memory = m.tryReadMemory(0x1ff000n, 0x2000);
      return {
        stop: `${stop.reason}: ${stop.message}`,
        gprs: Array.from({ length: 16 }, (_, i) => m.getGpr(i).toString(16)),
        rip: m.getRip(), rflags: m.getRflags(), icount: m.icount,
        memory: memory.ok ? Buffer.from(memory.bytes).toString('hex') : memory.message,
      };
    };
    const reference = run(true);
    expect(run(false), `program ${hex}`).toEqual(reference);
    ran += reference.icount;
  }
  expect(ran).toBeGreaterThan(60 * 20); // the programs really ran (not all stopped at once)
});

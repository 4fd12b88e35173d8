// Launch attributes: defaults, accepted forms, and one clear message per bad attribute.
import { describe, expect, it } from 'vitest';
import { checkLaunchArguments } from '../../src/debug/launchConfig';

describe('checkLaunchArguments', () => {
  it('fills the defaults and keeps the client keys out of the way', () => {
    const r = checkLaunchArguments({ type: 'fred', request: 'launch', name: 'x', program: 'a.fred', __sessionId: 'id' });
    expect(r).toEqual({ ok: true, config: { program: 'a.fred', stopOnEntry: false, vmx: {}, memoryMiB: 64, interrupts: [], maxInstructions: undefined, trace: false } });
  });

  it('accepts vmx false or a policy object, interrupts and a limit', () => {
    const r = checkLaunchArguments({ program: 'a.fred', vmx: false, interrupts: [{ vector: 32, every: 1000 }], maxInstructions: 5, stopOnEntry: true, trace: true, memoryMiB: 2 });
    expect(r.ok && r.config).toMatchObject({ vmx: false, interrupts: [{ vector: 32, every: 1000 }], maxInstructions: 5, stopOnEntry: true, trace: true, memoryMiB: 2 });
    expect(checkLaunchArguments({ program: 'a.fred', vmx: { ept: 'lazy' } }).ok).toBe(true);
  });

  it('lists every problem', () => {
    const r = checkLaunchArguments({ program: '', stopOnEntry: 'yes', vmx: true, memoryMiB: 1, interrupts: [{ vector: 1, every: 2, at: 'x' }, 7], maxInstructions: 0, trace: 1 });
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors;
    expect(errors).toEqual([
      `'program' must be the path of a .fred source file (got "")`,
      `'stopOnEntry' must be true or false (got "yes")`,
      `'vmx' must be false (bare metal) or an object with the monitor's policy (got true)`,
      `'memoryMiB' must be an integer from 2 to 256 (got 1)`,
      `'interrupts[0]': unknown key 'at'`,
      `'interrupts[1]' must be an object {vector, every}`,
      `'maxInstructions' must be a positive integer (got 0)`,
      `'trace' must be true or false (got 1)`,
    ]);
  });
});

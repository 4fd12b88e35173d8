// Launch attributes: defaults, accepted forms, and one clear message per bad attribute.
import { describe, expect, it } from 'vitest';
import { checkLaunchArguments } from '../../src/debug/launchConfig';
import { DEFAULT_VMX_POLICY } from '../../src/machine/vmx/policy';

describe('checkLaunchArguments', () => {
  it('fills the defaults and keeps the client keys out of the way', () => {
    const r = checkLaunchArguments({ type: 'fred', request: 'launch', name: 'x', program: 'a.fred', __sessionId: 'id' });
    expect(r).toEqual({ ok: true, config: { program: 'a.fred', stopOnEntry: false, vmx: DEFAULT_VMX_POLICY, memoryMiB: 64, interrupts: [], maxInstructions: undefined, trace: false } });
  });

  it('accepts vmx false or a policy object, interrupts and a limit', () => {
    const r = checkLaunchArguments({ program: 'a.fred', vmx: false, interrupts: [{ vector: 32, every: 1000 }], maxInstructions: 5, stopOnEntry: true, trace: true, memoryMiB: 2 });
    expect(r.ok && r.config).toMatchObject({ vmx: false, interrupts: [{ vector: 32, every: 1000 }], maxInstructions: 5, stopOnEntry: true, trace: true, memoryMiB: 2 });
    const policy = checkLaunchArguments({ program: 'a.fred', vmx: { ept: 'eager', exceptionBitmap: ['#PF', 13], nmis: [{ at: 'tick' }] } });
    expect(policy.ok && policy.config.vmx).toEqual({ ...DEFAULT_VMX_POLICY, ept: 'eager', exceptionBitmap: (1 << 14) | (1 << 13), nmis: [{ at: 'tick' }] });
  });

  it("checks the vmx policy with the monitor's validator: every error with its property path", () => {
    const r = checkLaunchArguments({ program: 'a.fred', vmx: { ept: 'fast', interrupts: [{ vector: 32, every: 10, at: 'x' }], msrIntercepts: ['IA32_NOPE'], colour: 1 } });
    expect(r.ok ? [] : r.errors).toEqual([
      `'vmx.colour': unknown property (allowed: exceptionBitmap, msrIntercepts, ept, cpuid, interrupts, nmis, kvmV9Quirks)`,
      `'vmx.msrIntercepts[0]': unknown MSR name "IA32_NOPE"`,
      `'vmx.ept': expected "eager" or "lazy", got "fast"`,
      `'vmx.interrupts[0]': expected exactly one of "every" (instructions) or "at" (a label), got both`,
    ]);
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

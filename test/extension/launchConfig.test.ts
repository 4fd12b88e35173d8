// The default launch configuration and the checks before a session starts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultLaunchConfig, resolveLaunchConfig } from '../../src/extension/launchConfig';
import { LAUNCH_ATTRIBUTES, MEMORY_MIB_RANGE, checkLaunchArguments } from '../../src/debug/launchConfig';
import { DEFAULT_VMX_POLICY } from '../../src/machine/vmx/policy';

describe('resolveLaunchConfig', () => {
  it('debugs the active .fred file when there is no launch.json (F5)', () => {
    expect(resolveLaunchConfig({}, 'fred-asm', true)).toEqual({
      action: 'start',
      config: { type: 'fred', request: 'launch', name: 'Debug FRED program', program: '${file}', stopOnEntry: true },
    });
  });

  it('says what to open when the active file is not .fred', () => {
    const r = resolveLaunchConfig({}, 'markdown', true);
    expect(r.action).toBe('abort');
    expect(r.action === 'abort' && r.message).toMatch(/open a \.fred file/);
    expect(resolveLaunchConfig({}, undefined, true).action).toBe('abort');
  });

  it('keeps the user configuration and fills defaults', () => {
    const r = resolveLaunchConfig({ type: 'fred', request: 'launch', name: 'bare', program: 'a.fred', vmx: false }, undefined, true);
    expect(r).toEqual({ action: 'start', config: { type: 'fred', request: 'launch', name: 'bare', program: 'a.fred', vmx: false, stopOnEntry: true } });
  });

  it('refuses a configuration without a program, naming it', () => {
    const r = resolveLaunchConfig({ type: 'fred', request: 'launch', name: 'mine' }, 'fred-asm', true);
    expect(r).toEqual({ action: 'abort', message: expect.stringContaining('"mine" needs a "program"') });
  });

  it('refuses to run in an untrusted workspace', () => {
    const r = resolveLaunchConfig({}, 'fred-asm', false);
    expect(r).toEqual({ action: 'abort', message: expect.stringContaining('trusted workspace') });
  });
});

describe('package.json debugger contribution', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const debuggerEntry = pkg.contributes.debuggers.find((d: { type: string }) => d.type === 'fred');

  it('offers the provider default as its initial configuration', () => {
    expect(debuggerEntry.initialConfigurations).toEqual([defaultLaunchConfig()]);
  });

  it('describes every launch attribute the default uses', () => {
    const launch = debuggerEntry.configurationAttributes.launch;
    expect(launch.required).toEqual(['program']);
    const known = new Set(['type', 'request', 'name', ...Object.keys(launch.properties)]);
    for (const key of Object.keys(defaultLaunchConfig())) expect(known.has(key), key).toBe(true);
    for (const key of ['program', 'stopOnEntry', 'vmx', 'memoryMiB', 'interrupts', 'maxInstructions', 'trace']) {
      expect(launch.properties[key], key).toBeDefined();
    }
  });

  // The schema is what VS Code validates launch.json with; the adapter is what runs. They must agree.
  const launch = debuggerEntry.configurationAttributes.launch;
  const policy = launch.properties.vmx.oneOf.find((o: { type: string }) => o.type === 'object');
  const attempt = (extra: Record<string, unknown>) => checkLaunchArguments({ program: 'a.fred', ...extra });

  it('has exactly the launch attributes the adapter accepts, with its defaults', () => {
    expect(Object.keys(launch.properties).sort()).toEqual([...LAUNCH_ATTRIBUTES].sort());
    const defaults = attempt({});
    expect(defaults.ok).toBe(true);
    if (!defaults.ok) return;
    expect(launch.properties.memoryMiB).toMatchObject({ type: 'integer', minimum: MEMORY_MIB_RANGE.min, maximum: MEMORY_MIB_RANGE.max, default: defaults.config.memoryMiB });
    expect(launch.properties.trace.default).toBe(defaults.config.trace);
    for (const memoryMiB of [MEMORY_MIB_RANGE.min, MEMORY_MIB_RANGE.max]) expect(attempt({ memoryMiB }).ok, String(memoryMiB)).toBe(true);
    for (const memoryMiB of [MEMORY_MIB_RANGE.min - 1, MEMORY_MIB_RANGE.max + 1]) expect(attempt({ memoryMiB }).ok, String(memoryMiB)).toBe(false);
  });

  it("describes every vmx policy property the monitor's validator knows, and only those", () => {
    expect(launch.properties.vmx.oneOf.find((o: { enum?: unknown[] }) => o.enum)).toMatchObject({ type: 'boolean', enum: [false] });
    expect(policy.additionalProperties).toBe(false);
    expect(Object.keys(policy.properties).sort()).toEqual(Object.keys(DEFAULT_VMX_POLICY).sort());
    expect(Object.keys(policy.properties.cpuid.properties).sort()).toEqual(Object.keys(DEFAULT_VMX_POLICY.cpuid).sort());
    expect(policy.properties.ept.enum).toEqual(['eager', 'lazy']);
    for (const ept of policy.properties.ept.enum) expect(attempt({ vmx: { ept } }).ok).toBe(true);
    expect(attempt({ vmx: { ept: 'fast' } }).ok).toBe(false);
    expect(attempt({ vmx: { colour: 1 } }).ok).toBe(false);
    expect(attempt({ vmx: { cpuid: { avx: true } } }).ok).toBe(false);
  });

  it('exceptionBitmap is an integer or a list of mnemonics and vectors in both', () => {
    const [asInt, asList] = policy.properties.exceptionBitmap.oneOf;
    expect(asInt).toMatchObject({ type: 'integer', minimum: 0, maximum: 0xffffffff });
    expect(asList.type).toBe('array');
    expect(asList.items.anyOf).toEqual([{ type: 'string' }, { type: 'integer', minimum: 0, maximum: 31 }]);
    for (const exceptionBitmap of [0, 0xffffffff, ['#PF', 13], []]) expect(attempt({ vmx: { exceptionBitmap } }).ok, JSON.stringify(exceptionBitmap)).toBe(true);
    for (const exceptionBitmap of [-1, 0x100000000, [32], 'all']) expect(attempt({ vmx: { exceptionBitmap } }).ok, JSON.stringify(exceptionBitmap)).toBe(false);
  });

  it('interrupts and nmis: every N instructions or at a label, in both', () => {
    const item = policy.properties.interrupts.items;
    expect(item).toMatchObject({ required: ['vector'], oneOf: [{ required: ['every'] }, { required: ['at'] }], additionalProperties: false });
    expect(item.properties.vector).toMatchObject({ minimum: 0, maximum: 255 });
    expect(item.properties.every).toMatchObject({ type: 'integer', minimum: 1 });
    expect(policy.properties.nmis.items).toMatchObject({ oneOf: [{ required: ['every'] }, { required: ['at'] }], additionalProperties: false });
    expect(attempt({ vmx: { interrupts: [{ vector: 255, every: 1 }, { vector: 0, at: 'tick' }], nmis: [{ every: 5 }, { at: 'tick' }] } }).ok).toBe(true);
    for (const bad of [{ vector: 256, every: 1 }, { vector: 1, every: 0 }, { vector: 1 }, { vector: 1, every: 2, at: 'x' }, { vector: 1, every: 2, when: 3 }]) {
      expect(attempt({ vmx: { interrupts: [bad] } }).ok, JSON.stringify(bad)).toBe(false);
    }
    const platform = launch.properties.interrupts.items;
    expect(platform).toMatchObject({ required: ['vector', 'every'], additionalProperties: false });
    expect(attempt({ interrupts: [{ vector: 32, at: 'x' }] }).ok).toBe(false);
  });

  it('registers breakpoints for the language (without it VS Code sets none)', () => {
    expect(pkg.contributes.breakpoints).toEqual([{ language: 'fred-asm' }]);
  });
});

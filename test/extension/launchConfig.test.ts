// The default launch configuration and the checks before a session starts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultLaunchConfig, resolveLaunchConfig } from '../../src/extension/launchConfig';

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
    expect(launch.properties.memoryMiB).toMatchObject({ minimum: 1, maximum: 4096, default: 64 });
  });

  it('registers breakpoints for the language (without it VS Code sets none)', () => {
    expect(pkg.contributes.breakpoints).toEqual([{ language: 'fred-asm' }]);
  });
});

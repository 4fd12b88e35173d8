// The stand-alone adapter (`node dist/debugAdapter.js`) as a real child process speaking DAP on
// stdin/stdout. The entry is bundled here with esbuild exactly as scripts/build.mjs bundles it, into a
// temporary directory (with iced-x86's WebAssembly next to it), so the test does not depend on dist/.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { InjectResponseBody, VmcsResponseBody } from '../../src/debug/customRequests';
import { fixture } from './helpers';

let dir: string;
let adapter: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fred-dap-'));
  adapter = join(dir, 'debugAdapter.js');
  await build({ entryPoints: ['src/debug/debugAdapter.ts'], outfile: adapter, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
  const require = createRequire(import.meta.url);
  copyFileSync(join(dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm'), join(dir, 'iced_x86_bg.wasm'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('stand-alone adapter process', () => {
  it('launches, stops on an event breakpoint, shows the event frame, and runs to the debug exit', async () => {
    const dc = new DebugClient('node', adapter, 'fred');
    dc.defaultTimeout = 15_000;
    await dc.start();
    try {
      await dc.initializeRequest();
      const initialized = dc.waitForEvent('initialized');
      await dc.launch({ program: fixture('events.fred'), stopOnEntry: false, memoryMiB: 8 });
      await initialized;
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '#PF' }] });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      expect(((await stopped) as DebugProtocol.StoppedEvent).body.reason).toBe('function breakpoint');
      const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
      expect(frames.map((f) => f.name)).toEqual(['fred_entry_kernel', '#PF (hardware exception 14) · SL1 · from CPL 0 ← fault_here']);
      const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
      const frame = (await dc.variablesRequest({ variablesReference: scopes.find((s) => s.name === 'Event frame')!.variablesReference })).body.variables;
      expect(frame.find((v) => v.name === '+0x30 eventData')?.value).toBe('0x0000000040000000');
      const exited = dc.waitForEvent('exited');
      const terminated = dc.waitForEvent('terminated');
      await dc.continueRequest({ threadId: 1 });
      expect(((await exited) as DebugProtocol.ExitedEvent).body.exitCode).toBe(0);
      await terminated;
    } finally {
      await dc.stop();
    }
  });

  it('under the VMX monitor: a vmexit breakpoint, the VM exit frame, fredLab/vmcs, fredLab/inject, dataBreakpointInfo', async () => {
    const dc = new DebugClient('node', adapter, 'fred');
    dc.defaultTimeout = 15_000;
    await dc.start();
    try {
      await dc.initializeRequest();
      expect(await dc.launch({ program: fixture('vmx.fred'), vmx: { ept: 'warp' } }).then(() => '', (e: Error) => e.message)).toMatch(/'vmx\.ept': expected "eager" or "lazy", got "warp"/);
      const initialized = dc.waitForEvent('initialized');
      await dc.launch({ program: fixture('vmx.fred'), memoryMiB: 8 }); // no vmx: the monitor with KVM's defaults
      await initialized;
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'vmexit:CPUID' }] });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      expect(((await stopped) as DebugProtocol.StoppedEvent).body.description).toMatch(/^VM exit: CPUID \(10\) at guest RIP 0x/);
      expect((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name).toBe('VM exit: CPUID (10) ← cpuids+0x2');
      const vmcs = (await dc.customRequest('fredLab/vmcs')).body as VmcsResponseBody;
      expect(vmcs.stoppedAtExit?.reason).toBe(10);
      expect(vmcs.groups.find((g) => g.group === 'exitInformation')?.fields.find((f) => f.name === 'VM_EXIT_REASON')?.note).toBe('CPUID (10)');
      expect(((await dc.customRequest('fredLab/inject', { kind: 'nmi' })).body as InjectResponseBody).description).toMatch(/^NMI queued/);
      await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      const watch = await dc.customRequest('dataBreakpointInfo', { name: 'IA32_FRED_CONFIG' });
      expect(watch.body.dataId).toBe('msr:IA32_FRED_CONFIG');
      const exited = dc.waitForEvent('exited');
      await dc.continueRequest({ threadId: 1 });
      expect(((await exited) as DebugProtocol.ExitedEvent).body.exitCode).toBe(0);
    } finally {
      await dc.stop();
    }
  });

  it('an assembler error fails the launch with file:line:col', async () => {
    const dc = new DebugClient('node', adapter, 'fred');
    dc.defaultTimeout = 15_000;
    await dc.start();
    try {
      await dc.initializeRequest();
      const error = await dc.launch({ program: fixture('bad.fred') }).then(() => '', (e: Error) => e.message);
      expect(error).toContain(`${fixture('bad.fred')}:7:9: error: unknown instruction 'frobnicate'`);
    } finally {
      await dc.stop();
    }
  });
});

// DAP latency through the stand-alone adapter (ARCHITECTURE §8), as VS Code sees it: a step round
// trip (stepIn → stopped → stackTrace → scopes → variables), a step back with 10 M instructions of
// history, and how long `pause` takes to stop a guest spinning in a tight loop.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapClient } from '../../debug/dapClient';
import { median, percentile, type Benchmark } from './benchmark';

const STEP_SAMPLES = 300;
const STEPBACK_SAMPLES = 40;
const PAUSE_SAMPLES = 5;

/** 2.5 M iterations of 4 instructions reach `done` after about 10 M instructions. */
const PROGRAM = `
bits 64
org 0x100000
_start:
        mov     rcx, 2500000
again:
        inc     rax
        add     rbx, rax
        dec     rcx
        jnz     again
done:
        inc     rax
        add     rbx, rax
        jmp     done
`;

function adapterPath(): string {
  const path = join(dirname(process.argv[1] ?? '.'), 'debugAdapter.js');
  if (!existsSync(path)) throw new Error(`the debug benchmark needs the stand-alone adapter next to the CLI (${path}): run \`npm run build\``);
  return path;
}

/** Launch `program` stopped on entry, run `measure`, and always end the adapter process. */
async function withSession<T>(program: string, measure: (dc: DapClient) => Promise<T>): Promise<T> {
  const dc = new DapClient(adapterPath());
  try {
    await dc.request('initialize', { adapterID: 'fred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.next('initialized');
    await dc.request('launch', { program, stopOnEntry: true, memoryMiB: 8, vmx: false });
    await initialized;
    return await measure(dc);
  } finally {
    await dc.close();
  }
}

async function stopAfter(dc: DapClient, command: string, args: unknown = { threadId: 1 }): Promise<void> {
  const stopped = dc.next('stopped');
  await dc.request(command, args);
  await stopped;
}

async function roundTrip(dc: DapClient, command: string): Promise<number> {
  const t = performance.now();
  await stopAfter(dc, command);
  const frames = await dc.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: 1 });
  const scopes = await dc.request<DebugProtocol.ScopesResponse>('scopes', { frameId: frames.body.stackFrames[0].id });
  await dc.request('variables', { variablesReference: scopes.body.scopes[0].variablesReference });
  return performance.now() - t;
}

export const debugBenchmark: Benchmark = {
  name: 'debug',
  description: 'DAP round trips through the stand-alone adapter (node dist/debugAdapter.js)',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'fred-bench-'));
    const program = join(dir, 'bench.fred');
    writeFileSync(program, PROGRAM);
    try {
      // Step: the entry stop, then STEP_SAMPLES steps (the first ones warm up the JIT and are dropped).
      const steps = await withSession(program, async (dc) => {
        await stopAfter(dc, 'configurationDone', {});
        const samples: number[] = [];
        for (let k = 0; k < STEP_SAMPLES + 20; k++) samples.push(await roundTrip(dc, 'stepIn'));
        return samples.slice(20);
      });
      // Step back with 10 M instructions of history: run to `done`, then step back repeatedly.
      const back = await withSession(program, async (dc) => {
        await dc.request('setFunctionBreakpoints', { breakpoints: [{ name: 'done' }] });
        await stopAfter(dc, 'configurationDone', {});
        await stopAfter(dc, 'continue');
        const samples: number[] = [];
        for (let k = 0; k < STEPBACK_SAMPLES; k++) samples.push(await roundTrip(dc, 'stepBack'));
        return samples;
      });
      // Pause: a guest spinning at `done` forever; time from the pause request to the stopped event.
      const pauses = await withSession(program, async (dc) => {
        await stopAfter(dc, 'configurationDone', {});
        const samples: number[] = [];
        for (let k = 0; k < PAUSE_SAMPLES; k++) {
          await dc.request('continue', { threadId: 1 });
          await new Promise((r) => setTimeout(r, 100));
          const t = performance.now();
          await stopAfter(dc, 'pause');
          samples.push(performance.now() - t);
        }
        return samples;
      });
      return {
        figures: {
          dap_step_p50_ms: median(steps),
          dap_step_p99_ms: percentile(steps, 99),
          dap_stepback_10m_p50_ms: median(back),
          dap_pause_ms: median(pauses),
        },
        detail: `${steps.length} step round trips, ${back.length} step backs after 10 M instructions, ${pauses.length} pauses (targets: step ≤ 5 ms p50, step back ≤ 50 ms p50)`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

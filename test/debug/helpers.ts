// DAP test helpers: a FredDebugSession served in-process over a TCP socket (fast), driven by
// @vscode/debugadapter-testsupport's DebugClient; launch-and-stop shortcuts; fixture paths.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FredDebugSession } from '../../src/debug/session';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixture = (name: string) => join(FIXTURES, name);

export interface Harness {
  dc: DebugClient;
  close(): Promise<void>;
}

export async function inProcess(): Promise<Harness> {
  const server: Server = createServer((socket) => {
    const session = new FredDebugSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dc = new DebugClient('node', 'unused', 'fred');
  dc.defaultTimeout = 10_000;
  await dc.start((server.address() as AddressInfo).port);
  return {
    dc,
    close: async () => {
      // A failed test may leave the session mid-request: never wait long for the goodbye.
      await Promise.race([dc.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      server.close();
    },
  };
}

/** Launch `program` (stopOnEntry) and wait for the entry stop. */
export async function launchStopped(dc: DebugClient, program: string, extra: Record<string, unknown> = {}, configure?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const initialized = dc.waitForEvent('initialized');
  await Promise.all([dc.initializeRequest(), dc.launch({ program, stopOnEntry: true, memoryMiB: 8, vmx: false, ...extra })]);
  await initialized;
  if (configure) await configure();
  const stopped = dc.waitForEvent('stopped');
  await dc.configurationDoneRequest();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

/** Run a request that resumes the machine and return the next stopped (or terminated) event. */
export async function resume(dc: DebugClient, request: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped');
  await request();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

export async function topFrame(dc: DebugClient): Promise<DebugProtocol.StackFrame> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
}

export async function rip(dc: DebugClient): Promise<bigint> {
  return BigInt((await topFrame(dc)).instructionPointerReference!);
}

/** Value of an expression as a bigint (the evaluate result starts with 0x…). */
export async function value(dc: DebugClient, expression: string): Promise<bigint> {
  const r = await dc.evaluateRequest({ expression, context: 'watch' });
  return BigInt(r.body.result.split(' ')[0]);
}

/** Variables of the scope named `scope` in frame `frameId` (default the top frame). */
export async function scopeVariables(dc: DebugClient, scope: string, frameId?: number): Promise<DebugProtocol.Variable[]> {
  const id = frameId ?? (await topFrame(dc)).id;
  const scopes = (await dc.scopesRequest({ frameId: id })).body.scopes;
  const s = scopes.find((x) => x.name === scope);
  if (!s) throw new Error(`no scope '${scope}' (have ${scopes.map((x) => x.name).join(', ')})`);
  return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

export async function children(dc: DebugClient, v: DebugProtocol.Variable): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: v.variablesReference })).body.variables;
}

/** The error message of a request that must fail. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the request succeeded but should have failed');
}

/** Resolves with the first output event of `category` whose text contains `text` (other output is ignored). */
export function outputContaining(dc: DebugClient, category: string, text: string, timeout = 10_000): Promise<DebugProtocol.OutputEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dc.removeListener('output', listener);
      reject(new Error(`no ${category} output containing '${text}' within ${timeout} ms`));
    }, timeout);
    const listener = (e: DebugProtocol.OutputEvent) => {
      if ((e.body.category ?? 'console') === category && e.body.output.includes(text)) {
        clearTimeout(timer);
        dc.removeListener('output', listener);
        resolve(e);
      }
    };
    dc.on('output', listener);
  });
}

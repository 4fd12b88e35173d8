// A minimal DAP client over a child process's stdio (Content-Length framing): the benchmark drives the
// stand-alone adapter with it, without the test-support library in the production bundle.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';

type Pending = { resolve: (r: DebugProtocol.Response) => void; reject: (e: Error) => void };

export class DapClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: { event: string; resolve: (e: DebugProtocol.Event) => void }[] = [];

  constructor(adapterPath: string) {
    this.child = spawn(process.execPath, [adapterPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString('ascii'))?.[1] ?? -1);
      if (length < 0 || this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')) as DebugProtocol.ProtocolMessage;
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.type === 'response') {
        const r = message as DebugProtocol.Response;
        const p = this.pending.get(r.request_seq);
        this.pending.delete(r.request_seq);
        if (r.success) p?.resolve(r);
        else p?.reject(new Error(r.message ?? `${r.command} failed`));
      } else if (message.type === 'event') {
        const e = message as DebugProtocol.Event;
        const at = this.waiters.findIndex((w) => w.event === e.event);
        if (at >= 0) this.waiters.splice(at, 1)[0].resolve(e);
      }
    }
  }

  request<T extends DebugProtocol.Response = DebugProtocol.Response>(command: string, args?: unknown): Promise<T> {
    const seq = this.seq++;
    const json = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.child.stdin.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`);
    return new Promise<T>((resolve, reject) => this.pending.set(seq, { resolve: resolve as Pending['resolve'], reject }));
  }

  /** The next event named `event` (register before sending the request that causes it). */
  next(event: string): Promise<DebugProtocol.Event> {
    return new Promise((resolve) => this.waiters.push({ event, resolve }));
  }

  async close(): Promise<void> {
    await Promise.race([this.request('disconnect').catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    this.child.kill();
  }
}

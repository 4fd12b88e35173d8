// Builds and drives the native oracle (harness.c): cases go in as fixed-size binary records on stdin,
// results come back the same way. One process run per batch of many thousand cases.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, 'harness.c');
const OUT_DIR = join(here, '..', '..', '.tmp');

export const MAX_CODE = 112;
const CASE_BYTES = 17 * 8 + 8 + MAX_CODE;
const RESULT_BYTES = 18 * 8;

/** Host outcome of a case: what the SIGFPE/SIGILL/SIGSEGV handler saw, or 'ok'. */
export type HostStatus = 'ok' | 'DE' | 'UD' | 'fault';
const STATUS: readonly HostStatus[] = ['ok', 'DE', 'UD', 'fault'];

export interface MachineCase {
  /** RAX..R15 (index 4, RSP, is not used by cases). */
  regs: readonly bigint[];
  /** Arithmetic flags only (CF PF AF ZF SF OF). */
  rflags: bigint;
  code: Uint8Array;
}

export interface CaseResult {
  regs: bigint[];
  rflags: bigint;
  status: HostStatus;
}

/** Arithmetic flags CF, PF, AF, ZF, SF, OF (SDM Vol. 1 §3.4.3.1). */
export const ARITHMETIC_FLAGS = 0x8d5n;

/** Why the host cannot serve as the oracle, or undefined when it can. */
export function hostUnsupportedReason(): string | undefined {
  if (process.arch !== 'x64') return `the host is ${process.arch}, not x86-64`;
  if (process.platform !== 'linux') return `the harness needs Linux (host: ${process.platform})`;
  return undefined;
}

/** Compile harness.c with the system C compiler into test/.tmp/ (once per source change). */
export function buildHarness(): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const binary = join(OUT_DIR, 'hostdiff-harness');
  let fresh = false;
  try {
    fresh = statSync(binary).mtimeMs >= statSync(SOURCE).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh) {
    const compiler = process.env.CC ?? 'cc';
    try {
      execFileSync(compiler, ['-O2', '-Wall', '-o', binary, SOURCE], { stdio: 'pipe' });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
      throw new Error(`building the host harness with '${compiler}' failed: ${stderr}`);
    }
  }
  return binary;
}

export function encodeCases(cases: readonly MachineCase[]): Buffer {
  const bytes = new Uint8Array(cases.length * CASE_BYTES);
  const words = new BigUint64Array(bytes.buffer);
  const view = new DataView(bytes.buffer);
  cases.forEach((c, i) => {
    const base = i * CASE_BYTES;
    if (c.code.length > MAX_CODE) throw new Error(`case ${i}: ${c.code.length} code bytes > ${MAX_CODE}`);
    for (let r = 0; r < 16; r++) words[base / 8 + r] = c.regs[r] ?? 0n; // BigUint64Array wraps mod 2^64
    words[base / 8 + 16] = c.rflags & ARITHMETIC_FLAGS;
    view.setUint32(base + 17 * 8, c.code.length, true);
    bytes.set(c.code, base + 18 * 8);
  });
  return Buffer.from(bytes.buffer);
}

export function decodeResults(buffer: Buffer, count: number): CaseResult[] {
  if (buffer.length !== count * RESULT_BYTES) {
    throw new Error(`host harness returned ${buffer.length} bytes for ${count} cases (expected ${count * RESULT_BYTES})`);
  }
  const words = new BigUint64Array(Uint8Array.from(buffer).buffer);
  const results: CaseResult[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * 18;
    const regs = Array.from(words.subarray(base, base + 16));
    const status = STATUS[Number(words[base + 17])] ?? 'fault';
    results.push({ regs, rflags: words[base + 16]! & ARITHMETIC_FLAGS, status });
  }
  return results;
}

/** Run the cases natively; results in case order. */
export function runOnHost(binary: string, cases: readonly MachineCase[]): CaseResult[] {
  const run = spawnSync(binary, [], { input: encodeCases(cases), maxBuffer: 1 << 30 });
  if (run.status !== 0) {
    throw new Error(`host harness exited with ${run.status ?? run.signal}: ${run.stderr.toString()}`);
  }
  return decodeResults(run.stdout, cases.length);
}

/** Host CPU feature flags from /proc/cpuinfo (empty set when unreadable). */
export function hostCpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

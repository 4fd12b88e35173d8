// `fred-lab run FILE [...]` (ARCHITECTURE §6): assemble a .fred file (or load a flat binary at --org),
// boot the machine of the boot contract, run it to a stop and report. `--json` prints one document
// (schema in the README, "fred-lab run"; every 64-bit value is a "0x…" string), `--trace` one line per trace
// record. The guest runs under the VMX monitor with KVM v9's policy unless `--no-vmx` (bare metal) or
// `--vmx-config FILE` (another policy) says otherwise; the JSON's `vmx` object is built in vmxReport.ts.
import { readFileSync } from 'node:fs';
import { assemble } from '../asm/index';
import { msrByIndex } from '../arch/index';
import { parseInterruptSpec } from '../machine/devices/index';
import { createMachine, type LoadableImage, type Machine, type MachineOptions, type StopReason } from '../machine/machine';
import { GPR_NAMES, SEGMENT_NAMES, type Segment } from '../machine/cpu/state';
import { DEFAULT_ORG } from '../machine/boot';
import type { TraceRecord } from '../machine/trace';
import { formatDiagnostic } from './asmCommand';
import { parseArgs, UsageError, type CliIo } from './io';
import { checkVmxLabels, vmxPolicyOption } from './vmxOptions';
import { vmxJson } from './vmxReport';
import { formatVmEntry, formatVmEntryFailure, formatVmExit } from './vmxTrace';

const VALUE_OPTIONS = ['--max-instructions', '--load', '--map', '--dump-mem', '--org', '--interrupt', '--memory', '--vmx-config'];
const FLAGS = ['--json', '--trace', '--no-vmx'];

/** MSRs reported in the JSON document: FRED MSRs, STAR, KERNEL_GS_BASE, EFER and the other SYSCALL/base MSRs. */
export const REPORTED_MSRS = [0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0x1cc, 0x1cd, 0x1ce, 0x1cf, 0x1d0, 0x1d1, 0x1d2, 0x1d3, 0x1d4];

export function parseNumber(text: string, what: string): bigint {
  const clean = text.replaceAll('_', '');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(clean)) throw new UsageError(`${what}: '${text}' is not a number (decimal or 0x-hex)`);
  return BigInt(clean);
}

function splitPair(text: string, sep: string, option: string, left: string, right: string): [string, string] {
  const at = text.lastIndexOf(sep);
  if (at <= 0 || at === text.length - 1) throw new UsageError(`${option} '${text}': expected ${left}${sep}${right}`);
  return [text.slice(0, at), text.slice(at + 1)];
}

export function hex(value: bigint | number): string {
  return `0x${BigInt.asUintN(64, BigInt(value)).toString(16)}`;
}

/** A trace record with every bigint as a "0x…" string. */
export function jsonRecord(record: TraceRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) out[key] = typeof value === 'bigint' ? hex(value) : value;
  return out;
}

/** Things the user should know about a run that are not errors (printed on stderr, and in the JSON). */
export function runNotes(machine: Machine, options: MachineOptions): string[] {
  const notes: string[] = [];
  const dropped = machine.devices.apic.droppedWhileDisabled;
  if (options.interrupts?.length && dropped > 0) {
    notes.push(`${dropped} external interrupt request(s) from --interrupt were dropped because the local APIC was ` +
      'software-disabled (IA32_X2APIC_SIVR bit 8 clear), as hardware drops them; enable it with ' +
      '`mov ecx, IA32_X2APIC_SIVR` / `mov eax, 0x1FF` / `xor edx, edx` / `wrmsr`');
  }
  return notes;
}

/** One readable line per trace record. */
export function formatRecord(r: TraceRecord): string {
  const at = `[${String(r.icount).padStart(8)}]`;
  switch (r.kind) {
    case 'delivery':
      return `${at} delivery ${r.mechanism} type ${r.type} vector ${r.vector}${r.errorCode !== undefined ? ` error ${hex(r.errorCode)}` : ''}` +
        ` from CPL${r.fromCpl} rip ${hex(r.fromRip)} rsp ${hex(r.fromRsp)} → entry ${hex(r.entryRip)} frame ${hex(r.frameAddress)}` +
        `${r.stackSwitched ? ' (stack switched)' : ''}${r.nested ? ' nested' : ''}${r.mechanism === 'fred' ? ` CSL ${r.oldCsl}→${r.newCsl} event data ${hex(r.eventData)}` : ''}` +
        `${r.injected ? ' (injected by VM entry)' : ''}`;
    case 'return':
      return `${at} return ${r.instruction} from ${hex(r.fromRip)} → CPL${r.toCpl} rip ${hex(r.toRip)} rsp ${hex(r.toRsp)}`;
    case 'output':
      return `${at} output ${r.device} ${JSON.stringify(r.text)}`;
    case 'halt':
      return `${at} halt at ${hex(r.rip)}`;
    case 'shutdown':
      return `${at} shutdown: ${r.reason}`;
    case 'debugExit':
      return `${at} debug exit code ${r.code}`;
    case 'msrWrite':
      return `${at} wrmsr ${r.name} = ${hex(r.value)}${r.fault ? ` → #GP: ${r.fault}` : ''}`;
    case 'crWrite':
      return `${at} mov cr${r.cr} = ${hex(r.value)}${r.fault ? ` → #GP: ${r.fault}` : ''}`;
    case 'vmexit':
      return `${at} ${formatVmExit(r)}`;
    case 'vmentry':
      return `${at} ${formatVmEntry(r)}`;
    case 'vmentryFailure':
      return `${at} ${formatVmEntryFailure(r)}`;
    default:
      return `${at} ${JSON.stringify(jsonRecord(r))}`;
  }
}

function segmentJson(s: Segment): Record<string, string> {
  return { selector: hex(s.sel), base: hex(s.base), limit: hex(s.limit), attributes: hex(s.attr) };
}

/** The `--json` document (README "fred-lab run", "--json schema"). */
export function runReport(machine: Machine, stop: StopReason, dumps: { address: bigint; length: number }[]): Record<string, unknown> {
  const c = machine.cpu;
  const registers: Record<string, string> = {};
  GPR_NAMES.forEach((name, i) => (registers[name] = hex(machine.getGpr(i))));
  registers.rip = hex(machine.getRip());
  registers.rflags = hex(machine.getRflags());
  const segments: Record<string, unknown> = {};
  SEGMENT_NAMES.forEach((name, i) => (segments[name] = segmentJson(c.seg[i])));
  segments.ldtr = segmentJson(c.ldtr);
  segments.tr = segmentJson(c.tr);
  segments.gdtr = { base: hex(c.gdtr.base), limit: hex(c.gdtr.limit) };
  segments.idtr = { base: hex(c.idtr.base), limit: hex(c.idtr.limit) };
  const msrs: Record<string, string> = {};
  for (const index of REPORTED_MSRS) {
    const value = machine.readMsr(index);
    if (value !== undefined) msrs[msrByIndex(index)?.name ?? hex(index)] = hex(value);
  }
  const memory = dumps.map(({ address, length }) => {
    const r = machine.tryReadMemory(address, length);
    return r.ok
      ? { address: hex(address), length, hex: Buffer.from(r.bytes).toString('hex') }
      : { address: hex(address), length, error: r.message };
  });
  return {
    mode: machine.vmx ? 'VMX non-root operation under the monitor' : 'bare metal',
    vmx: vmxJson(machine.vmx),
    stop: { reason: stop.reason, message: stop.message, rip: hex(stop.rip), icount: stop.icount, ...(stop.exitCode !== undefined ? { exitCode: stop.exitCode } : {}) },
    icount: machine.icount,
    cpl: c.cpl,
    registers,
    segments,
    controlRegisters: { cr0: hex(c.cr0), cr2: hex(c.cr2), cr3: hex(c.cr3), cr4: hex(c.cr4), cr8: hex(c.cr8) },
    debugRegisters: Object.fromEntries(c.dr.map((v, i) => [`dr${i}`, hex(v)]).filter((_, i) => i !== 4 && i !== 5)),
    msrs,
    trace: machine.trace.records.map(jsonRecord),
    output: machine.output,
    memory,
  };
}

/** Exit status: debug exit → its code; halted → 0; hostError → 70; any other stop → 1. */
export function exitStatus(stop: StopReason): number {
  if (stop.reason === 'debugExit') return stop.exitCode ?? 0;
  if (stop.reason === 'halted') return 0;
  return stop.reason === 'hostError' ? 70 : 1;
}

function readBinary(path: string, io: CliIo): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    io.err(`fred-lab run: cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
    return undefined;
  }
}

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, VALUE_OPTIONS, FLAGS);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length ? `unexpected argument '${args.positional[1]}'` : 'run needs a FILE (.fred source or flat binary)');
  const file = args.positional[0];
  const one = (name: string) => {
    const list = args.options.get(name) ?? [];
    if (list.length > 1) throw new UsageError(`${name} given more than once`);
    return list[0];
  };
  const vmxConfig = one('--vmx-config');
  const policy = vmxPolicyOption(args.flags.has('--no-vmx'), vmxConfig);
  const options: MachineOptions = { vmx: policy };
  const max = one('--max-instructions');
  if (max !== undefined) {
    const n = parseNumber(max, '--max-instructions');
    if (n < 1n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError('--max-instructions must be a positive count');
    options.maxInstructions = Number(n);
  }
  const memory = one('--memory');
  if (memory !== undefined) options.memoryMiB = Number(parseNumber(memory, '--memory'));
  const org = one('--org');
  const interrupts = (args.options.get('--interrupt') ?? []).map((text) => {
    const r = parseInterruptSpec(text);
    if (!r.ok) throw new UsageError(r.message);
    return r.spec;
  });
  if (interrupts.length) options.interrupts = interrupts;
  options.extraMappings = (args.options.get('--map') ?? []).map((text) => {
    const [a, s] = splitPair(text, ':', '--map', 'ADDR', 'SIZE');
    return { address: parseNumber(a, '--map'), size: Number(parseNumber(s, '--map')) };
  });
  const dumps = (args.options.get('--dump-mem') ?? []).map((text) => {
    const [a, l] = splitPair(text, ':', '--dump-mem', 'ADDR', 'LEN');
    const length = Number(parseNumber(l, '--dump-mem'));
    if (length > 1 << 20) throw new UsageError(`--dump-mem '${text}': at most 1 MiB per dump`);
    return { address: parseNumber(a, '--dump-mem'), length };
  });
  const loads: { address: bigint; bytes: Uint8Array }[] = [];
  for (const text of args.options.get('--load') ?? []) {
    const [path, a] = splitPair(text, '@', '--load', 'FILE', 'ADDR');
    const address = parseNumber(a, '--load');
    const bytes = readBinary(path, io);
    if (!bytes) return 1;
    loads.push({ address, bytes });
  }
  options.loads = loads;

  let image: LoadableImage;
  if (/\.fred$/i.test(file)) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (error) {
      io.err(`fred-lab run: cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      return 1;
    }
    const result = assemble(source, { fileName: file, readFile: (p) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } } });
    for (const d of result.diagnostics) io.err(`${formatDiagnostic(d)}\n`);
    if (!result.ok) return 1;
    if (org !== undefined) throw new UsageError('--org applies to flat binaries; a .fred file sets its origin with `org`');
    checkVmxLabels(policy, result.image.symbols, vmxConfig ?? 'vmx');
    image = result.image;
  } else {
    checkVmxLabels(policy, undefined, vmxConfig ?? 'vmx');
    const bytes = readBinary(file, io);
    if (!bytes) return 1;
    const address = org !== undefined ? parseNumber(org, '--org') : BigInt(DEFAULT_ORG);
    image = { sections: [{ address, bytes, size: bytes.length, user: false, writable: true, executable: true }], entry: address };
  }

  let machine: Machine;
  try {
    machine = createMachine(image, options);
  } catch (error) {
    io.err(`fred-lab run: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const json = args.flags.has('--json');
  if (args.flags.has('--trace') && !json) machine.trace.subscribe((r) => io.out(`${formatRecord(r)}\n`));
  const stop = machine.run();
  const notes = runNotes(machine, options);
  for (const note of notes) io.err(`fred-lab run: note: ${note}\n`);
  if (json) io.out(`${JSON.stringify({ ...runReport(machine, stop, dumps), notes }, null, 2)}\n`);
  else {
    if (!args.flags.has('--trace')) io.out(machine.output);
    for (const dump of dumps) {
      const r = machine.tryReadMemory(dump.address, dump.length);
      io.out(r.ok ? `memory ${hex(dump.address)}: ${Buffer.from(r.bytes).toString('hex')}\n` : `memory ${hex(dump.address)}: ${r.message}\n`);
    }
    io.out(`stop: ${stop.reason}: ${stop.message} (${stop.icount} instructions)\n`);
  }
  return exitStatus(stop);
}

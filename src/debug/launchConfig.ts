// Launch attributes of the `fred` debug type (package.json "configurationAttributes.launch"), checked
// before anything runs: a bad attribute is a clear error that names the attribute, never a throw.

export interface InterruptSpec {
  vector: number;
  every: number;
}

export interface LaunchConfig {
  program: string;
  stopOnEntry: boolean;
  /** false = bare metal; otherwise the monitor's policy (parseVmxPolicy: KVM v9's defaults for what is absent). */
  vmx: VmxPolicy | false;
  memoryMiB: number;
  interrupts: InterruptSpec[];
  /** Total guest instructions before the session ends (undefined = no limit). */
  maxInstructions?: number;
  trace: boolean;
}

export type LaunchCheck = { ok: true; config: LaunchConfig } | { ok: false; errors: string[] };

/** The launch attributes (package.json's launch schema has exactly these; test/extension pins it). */
export const LAUNCH_ATTRIBUTES = ['program', 'stopOnEntry', 'vmx', 'memoryMiB', 'interrupts', 'maxInstructions', 'trace'] as const;
const KNOWN = new Set<string>(LAUNCH_ATTRIBUTES);
/** Keys VS Code and the DAP client add to every configuration. */
const CLIENT_KEYS = new Set(['type', 'request', 'name', 'noDebug', '__sessionId', '__restart', '__configurationTarget', 'cwd', 'debugServer', 'presentation', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'suppressMultipleSessionWarning', '__parentId']);

import { MAX_MEMORY_MIB } from '../machine/boot';
import { parseVmxPolicy, type VmxPolicy } from '../machine/vmx/policy';

/** The machine's memory bounds (the Machine constructor rejects anything else). */
export const MEMORY_MIB_RANGE = { min: 2, max: MAX_MEMORY_MIB } as const;

function isInteger(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

export function checkLaunchArguments(args: Record<string, unknown>): LaunchCheck {
  const errors: string[] = [];
  for (const key of Object.keys(args)) {
    if (!KNOWN.has(key) && !CLIENT_KEYS.has(key)) errors.push(`unknown launch attribute '${key}' (known: ${[...KNOWN].join(', ')})`);
  }
  const program = args.program;
  if (typeof program !== 'string' || program.trim() === '') errors.push(`'program' must be the path of a .fred source file (got ${JSON.stringify(program)})`);
  const stopOnEntry = args.stopOnEntry ?? false;
  if (typeof stopOnEntry !== 'boolean') errors.push(`'stopOnEntry' must be true or false (got ${JSON.stringify(stopOnEntry)})`);
  let vmx: VmxPolicy | false = false;
  if (args.vmx !== undefined && args.vmx !== false && (typeof args.vmx !== 'object' || args.vmx === null || Array.isArray(args.vmx))) {
    errors.push(`'vmx' must be false (bare metal) or an object with the monitor's policy (got ${JSON.stringify(args.vmx)})`);
  } else {
    // One validator for the launch configuration and the CLI's --vmx-config: each error names its path (vmx.ept, vmx.interrupts[1].every).
    const policy = parseVmxPolicy(args.vmx);
    if (policy.ok) vmx = policy.policy;
    else errors.push(...policy.errors.map((e) => `'${e.path}': ${e.message}`));
  }
  const memoryMiB = args.memoryMiB ?? 64;
  if (!isInteger(memoryMiB, MEMORY_MIB_RANGE.min, MEMORY_MIB_RANGE.max)) errors.push(`'memoryMiB' must be an integer from ${MEMORY_MIB_RANGE.min} to ${MEMORY_MIB_RANGE.max} (got ${JSON.stringify(memoryMiB)})`);
  const interrupts: InterruptSpec[] = [];
  const rawInterrupts = args.interrupts ?? [];
  if (!Array.isArray(rawInterrupts)) errors.push(`'interrupts' must be a list of {vector, every} (got ${JSON.stringify(rawInterrupts)})`);
  else {
    rawInterrupts.forEach((item: unknown, i) => {
      const o = item as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null) return errors.push(`'interrupts[${i}]' must be an object {vector, every}`);
      if (!isInteger(o.vector, 0, 255)) errors.push(`'interrupts[${i}].vector' must be an integer from 0 to 255 (got ${JSON.stringify(o.vector)})`);
      if (!isInteger(o.every, 1, Number.MAX_SAFE_INTEGER)) errors.push(`'interrupts[${i}].every' must be a positive integer (got ${JSON.stringify(o.every)})`);
      for (const k of Object.keys(o)) if (k !== 'vector' && k !== 'every') errors.push(`'interrupts[${i}]': unknown key '${k}'`);
      if (isInteger(o.vector, 0, 255) && isInteger(o.every, 1, Number.MAX_SAFE_INTEGER)) interrupts.push({ vector: o.vector, every: o.every });
    });
  }
  const maxInstructions = args.maxInstructions;
  if (maxInstructions !== undefined && !isInteger(maxInstructions, 1, Number.MAX_SAFE_INTEGER)) errors.push(`'maxInstructions' must be a positive integer (got ${JSON.stringify(maxInstructions)})`);
  const trace = args.trace ?? false;
  if (typeof trace !== 'boolean') errors.push(`'trace' must be true or false (got ${JSON.stringify(trace)})`);
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    config: {
      program: program as string, stopOnEntry: stopOnEntry as boolean, vmx, memoryMiB: memoryMiB as number,
      interrupts, maxInstructions: maxInstructions as number | undefined, trace: trace as boolean,
    },
  };
}

// Event injection asked for by the user (Debug Console `inject …`, the `fredLab/inject` request): one
// validation and one call into the monitor (VmxMonitor.requestInjection, delivered at the next VM
// entry through the guest's FRED or IDT mechanism). Bad input is an error in words, never a throw.
import { exceptionByMnemonic, exceptionByVector, exceptionHasErrorCode } from '../arch/index';
import type { Machine } from '../machine/machine';
import type { InjectArguments } from './customRequests';
import { ExpressionError } from './expressions';
import { monitorOf } from './monitor';

export class InjectError extends Error {}

export const INJECT_USAGE = 'inject nmi | inject intr VECTOR | inject exc VECTOR [err=ERROR_CODE] [data=EVENT_DATA]';

const NMI = 2, EXT_INTERRUPT = 0, HARDWARE_EXCEPTION = 3;

function number(value: unknown, what: string, max: bigint): bigint {
  let v: bigint;
  try {
    v = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : typeof value === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(value.trim()) ? BigInt(value.trim()) : -1n;
  } catch {
    v = -1n;
  }
  if (v < 0n || v > max) throw new InjectError(`${what} must be a number from 0 to 0x${max.toString(16)} (got ${typeof value === 'bigint' ? `0x${value.toString(16)}` : JSON.stringify(value)})`);
  return v;
}

/** Queue the event with the monitor; returns it in words. */
export function inject(machine: Machine, args: InjectArguments): string {
  const vmx = monitorOf(machine);
  if (!vmx) throw new InjectError('inject: the guest runs on bare metal ("vmx": false), so there is no monitor to inject events (launch with a "vmx" policy)');
  let description: string;
  if (args.kind === 'nmi') {
    vmx.requestInjection({ type: NMI, vector: 2 });
    description = 'NMI';
  } else if (args.kind === 'interrupt') {
    const vector = Number(number(args.vector, 'inject intr: the vector', 255n));
    vmx.requestInjection({ type: EXT_INTERRUPT, vector });
    description = `external interrupt, vector 0x${vector.toString(16)}`;
  } else if (args.kind === 'exception') {
    const vector = Number(number(args.vector, 'inject exc: the vector', 31n));
    const ex = exceptionByVector(vector);
    if (!ex || ex.kind === 'reserved' || vector === NMI) throw new InjectError(`inject exc: vector ${vector} is not an exception (${vector === NMI ? 'use inject nmi' : 'reserved'})`);
    // An exception that pushes an error code must deliver one (SDM §27.2.1.3): 0 unless given.
    const errorCode = args.errorCode !== undefined ? Number(number(args.errorCode, 'inject exc: err', 0xffff_ffffn)) : exceptionHasErrorCode(vector) ? 0 : undefined;
    const eventData = args.eventData !== undefined ? number(typeof args.eventData === 'string' ? args.eventData : args.eventData, 'inject exc: data', (1n << 64n) - 1n) : undefined;
    vmx.requestInjection({ type: HARDWARE_EXCEPTION, vector, ...(errorCode !== undefined ? { errorCode } : {}), ...(eventData !== undefined ? { eventData } : {}) });
    description = `${ex.mnemonic} (hardware exception ${vector})${errorCode !== undefined ? `, error code 0x${errorCode.toString(16)}` : ''}${eventData !== undefined ? `, event data 0x${eventData.toString(16)}` : ''}`;
  } else {
    throw new InjectError(`fredLab/inject: 'kind' must be "nmi", "interrupt" or "exception" (got ${JSON.stringify((args as { kind?: unknown }).kind)})`);
  }
  return `${description} queued: the monitor injects it at the next VM entry`;
}

/**
 * The console form: `inject nmi`, `inject intr 0x20`, `inject exc #PF err=2 data=0x400000` (values are
 * expressions without spaces, evaluated by `evaluate`).
 */
export function parseInjectCommand(text: string, evaluate: (expression: string) => bigint): InjectArguments {
  const words = text.trim().split(/\s+/).slice(1);
  const [kind, vector, ...options] = words;
  const usage = `usage: ${INJECT_USAGE}`;
  const value = (expression: string, what: string) => {
    try {
      return evaluate(expression);
    } catch (error) {
      throw new InjectError(`inject: ${what} '${expression}': ${(error as ExpressionError).message}`);
    }
  };
  switch (kind?.toLowerCase()) {
    case 'nmi':
      if (words.length !== 1) throw new InjectError(`inject nmi takes nothing more (got '${words.slice(1).join(' ')}'); ${usage}`);
      return { kind: 'nmi' };
    case 'intr':
      if (vector === undefined || options.length) throw new InjectError(`inject intr takes one vector, e.g. inject intr 0x20; ${usage}`);
      return { kind: 'interrupt', vector: Number(number(value(vector, 'vector'), 'inject intr: the vector', 255n)) };
    case 'exc': {
      if (vector === undefined) throw new InjectError(`inject exc needs a vector or mnemonic, e.g. inject exc #GP err=0; ${usage}`);
      const ex = exceptionByMnemonic(vector);
      const args: InjectArguments = { kind: 'exception', vector: ex ? ex.vector : Number(number(value(vector, 'vector'), 'inject exc: the vector', 31n)) };
      for (const option of options) {
        const m = /^(err|data)=(.+)$/i.exec(option);
        if (!m) throw new InjectError(`inject exc: '${option}' is not err=ERROR_CODE or data=EVENT_DATA; ${usage}`);
        const v = value(m[2], m[1].toLowerCase());
        if (m[1].toLowerCase() === 'err') args.errorCode = Number(number(v, 'inject exc: err', 0xffff_ffffn));
        else args.eventData = `0x${v.toString(16)}`;
      }
      return args;
    }
    default:
      throw new InjectError(kind === undefined ? usage : `inject: '${kind}' is not nmi, intr or exc; ${usage}`);
  }
}

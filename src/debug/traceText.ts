// Trace records in words (Debug Console lines with `"trace": true`, and the timeline's summaries),
// and as JSON with every 64-bit value a "0x…" string (ARCHITECTURE §6).
import type { TraceRecord } from '../machine/trace';
import { deliveryLabel } from './eventStack';

const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

export function summarizeRecord(r: TraceRecord): string {
  switch (r.kind) {
    case 'delivery':
      return `${deliveryLabel(r)}: ${r.mechanism.toUpperCase()} delivery from ${hex(r.fromRip)} to ${hex(r.entryRip)}, frame at ${hex(r.frameAddress)}` +
        `${r.errorCode !== undefined ? `, error code ${hex(r.errorCode)}` : ''}${r.mechanism === 'fred' ? `, event data ${hex(r.eventData)}` : ''}${r.stackSwitched ? ', stack switched' : ''}`;
    case 'return':
      return `${r.instruction.toUpperCase()} at ${hex(r.fromRip)} returned to CPL ${r.toCpl} at ${hex(r.toRip)}, RSP ${hex(r.toRsp)}, CSL ${r.cslAfter}`;
    case 'msrWrite':
      return `WRMSR ${r.name} ← ${hex(r.value)}${r.fault ? ` refused (#GP): ${r.fault}` : ''}`;
    case 'crWrite':
      return `MOV CR${r.cr} ← ${hex(r.value)}${r.fault ? ` refused (#GP): ${r.fault}` : ''}`;
    case 'output':
      return `${r.device} output ${JSON.stringify(r.text)}`;
    case 'halt':
      return `HLT at ${hex(r.rip)}`;
    case 'shutdown':
      return `shutdown: ${r.reason}`;
    case 'debugExit':
      return `debug exit with code ${r.code}`;
    case 'vmexit':
      return `VM exit: ${r.reasonName} at guest RIP ${hex(r.guestRip)}`;
    case 'vmentry':
      return `VM entry${r.injectedInterruptionInfo & 0x80000000 ? `, injecting ${hex(r.injectedInterruptionInfo)}` : ''}`;
    case 'vmentryFailure':
      return `VM-entry failure: ${r.check} (${r.field} = ${hex(r.value)})`;
  }
}

export function recordJson(r: TraceRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r)) out[key] = typeof value === 'bigint' ? hex(value) : value;
  return out;
}

// Debug Console commands (evaluate with context "repl"): `info fred`, `x/NFU ADDR`, `help`. Anything
// else is an expression. Output is text; values come from the machine and src/arch tables.
import { FRED_CONFIG_BITS, exceptionByVector, msrIndex } from '../arch/index';
import type { Machine } from '../machine/machine';
import type { DeliveryRecord } from '../machine/trace';
import { ExpressionError } from './expressions';
import { deliveryLabel } from './eventStack';

const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

export const CONSOLE_COMMANDS = ['info fred', 'info vmcs', 'inject ', 'x/8gx ', 'help'];

export const CONSOLE_HELP = [
  'Expressions: registers (rax, eax, rip, rflags, cr4, cpl), labels, MSR names (IA32_FRED_CONFIG),',
  '  numbers (0x10, 42), + - * / % & | ^ ~ << >> == != < > <= >= && || !, memory [rsp+8], qword/dword/word/byte [addr].',
  'info fred         FRED state: CR4.FRED, IA32_FRED_CONFIG, RSP0–3, STKLVLS, active events',
  'info vmcs         the VMCS by SDM group: the non-zero fields, decoded (under the VMX monitor)',
  'inject nmi | intr VEC | exc VEC [err=E] [data=D]',
  '                  have the monitor inject an event at the next VM entry (exc takes a vector or #PF, #GP, …)',
  'x/NFU ADDR        examine memory: N units, format x (hex) or d (decimal), unit b/h/w/g (1/2/4/8 bytes)',
  'vmcs.FIELD        a VMCS field in expressions, e.g. vmcs.GUEST_RIP, vmcs.VM_EXIT_REASON',
].join('\n');

export function infoFred(machine: Machine, active: readonly DeliveryRecord[]): string {
  const msr = (name: string) => machine.readMsr(msrIndex(name)) ?? 0n;
  const config = msr('IA32_FRED_CONFIG');
  const fred = (machine.cpu.cr4 >> 32n) & 1n;
  const lines = [
    `CR4.FRED = ${fred}  CPL = ${machine.cpu.cpl}`,
    `IA32_FRED_CONFIG = ${hex(config)}: entry point ${hex(config & FRED_CONFIG_BITS.ENTRYPOINT)} (ring 0 at +0x100), red zone ${((config & FRED_CONFIG_BITS.REDZONE) >> 6n) * 64n} bytes, interrupt SL ${(config & FRED_CONFIG_BITS.INT_STKLVL) >> 9n}, CSL ${config & FRED_CONFIG_BITS.CSL}`,
    ...[0, 1, 2, 3].map((n) => `IA32_FRED_RSP${n} = ${hex(msr(`IA32_FRED_RSP${n}`))}${n > 0 ? `  IA32_FRED_SSP${n} = ${hex(msr(`IA32_FRED_SSP${n}`))}` : ''}`),
  ];
  const stklvls = msr('IA32_FRED_STKLVLS');
  const nonzero = Array.from({ length: 32 }, (_, v) => [v, Number((stklvls >> BigInt(2 * v)) & 3n)] as const).filter(([, l]) => l > 0);
  lines.push(`IA32_FRED_STKLVLS = ${hex(stklvls)}${nonzero.length ? `: ${nonzero.map(([v, l]) => `${exceptionByVector(v)?.mnemonic ?? v}→SL${l}`).join(', ')}` : ' (every exception on SL0)'}`);
  lines.push(active.length ? `Active events (innermost first):\n${[...active].reverse().map((d) => `  ${deliveryLabel(d)}, frame ${hex(d.frameAddress)}`).join('\n')}` : 'No active event.');
  return lines.join('\n');
}

const UNITS: Record<string, number> = { b: 1, h: 2, w: 4, g: 8 };

/** `x/8gx rsp`: parse the GDB-style examine command; `evaluate` computes the address. */
export function examine(command: string, machine: Machine, evaluate: (text: string) => bigint): string {
  const m = /^x(?:\/(\d*)([xdu]?)([bhwg]?)([xdu]?))?\s+(.+)$/i.exec(command.trim());
  if (!m) throw new ExpressionError(`usage: x/NFU ADDR, e.g. x/8gx rsp (got '${command.trim()}')`);
  const count = m[1] ? Number(m[1]) : 8;
  if (count < 1 || count > 4096) throw new ExpressionError(`x: count must be 1–4096 (got ${count})`);
  const format = (m[2] || m[4] || 'x').toLowerCase();
  const unit = UNITS[(m[3] || 'g').toLowerCase()];
  const address = evaluate(m[5]);
  const r = machine.tryReadMemory(address, count * unit);
  const bytes = r.ok ? r.bytes : undefined;
  if (!bytes) throw new ExpressionError(`x: ${(r as { message: string }).message}`);
  const perLine = Math.max(1, 16 / unit);
  const lines: string[] = [];
  for (let k = 0; k < count; k += perLine) {
    const cells: string[] = [];
    for (let j = k; j < Math.min(count, k + perLine); j++) {
      let v = 0n;
      for (let b = unit - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[j * unit + b]);
      cells.push(format === 'x' ? `0x${v.toString(16).padStart(unit * 2, '0')}` : v.toString());
    }
    lines.push(`${hex(address + BigInt(k * unit))}: ${cells.join(' ')}`);
  }
  return lines.join('\n');
}

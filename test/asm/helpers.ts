// Small helpers for assembler tests.
import { assemble, type AssemblyResult } from '../../src/asm/index';

export function bytesOf(source: string, org?: bigint): string {
  const r = assemble(source, { org });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n'));
  return r.image.sections.map((s) => Buffer.from(s.bytes).toString('hex')).join('|');
}

export function errorsOf(source: string, options: Parameters<typeof assemble>[1] = {}): string[] {
  return assemble(source, options).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.column}: ${d.message}`);
}

export function asm(source: string, options: Parameters<typeof assemble>[1] = {}): AssemblyResult {
  return assemble(source, options);
}

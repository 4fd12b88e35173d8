// docs/arch.md documents the constant naming scheme with examples; every example must be real.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemblerConstants } from '../../src/arch/index';

const doc = readFileSync(path.resolve(__dirname, '../../docs/arch.md'), 'utf8');
const scheme = doc.slice(doc.indexOf('## Assembler constant naming scheme'), doc.indexOf('Guest code then reads'));

/** `0x1D4`, `12`, `1 << 32` → bigint. */
function value(text: string): bigint {
  const shift = /^(\w+) << (\d+)$/.exec(text);
  return shift ? BigInt(shift[1]!) << BigInt(shift[2]!) : BigInt(text);
}

describe('docs/arch.md naming-scheme examples', () => {
  const names = [...scheme.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)
    .filter((n) => !n.includes('<') && n !== 'IA32_');
  const pairs = [...scheme.matchAll(/`([A-Z][A-Z0-9_]+)` = ((?:0x[0-9A-F]+|\d+)(?: << \d+)?)/g)].map((m) => [m[1]!, m[2]!] as const);

  it('found the examples', () => {
    expect(names.length).toBeGreaterThan(40);
    expect(pairs.length).toBeGreaterThan(25);
  });
  it.each(names.map((n) => [n]))('%s exists', (n) => expect(assemblerConstants.has(n)).toBe(true));
  it.each(pairs)('%s = %s', (n, v) => expect(assemblerConstants.get(n)).toBe(value(v)));
});

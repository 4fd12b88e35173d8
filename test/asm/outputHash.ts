// Not a test: a script that hashes everything the assembler outputs — image bytes, sections, entry,
// symbol table, source map, listing and diagnostics — over the bench program (several seeds and origins),
// examples/, test fixtures, the corpus, random shape lines and fuzz inputs. Run it before and after a
// change that must not change any output, and compare:
//   npx esbuild test/asm/outputHash.ts --bundle --platform=node --outfile=/tmp/outputHash.js && node /tmp/outputHash.js
// (iced-x86 loads iced_x86_bg.wasm from the bundle's directory: copy it there from node_modules/iced-x86/.)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, type AssemblyResult } from '../../src/asm/index';
import { generateAssemblerBenchSource } from '../../src/cli/bench/assemblerBench';
import { generateCorpus } from './corpus';
import { fuzzSource, mixedShapeLines, rng } from './shapes';

function serialise(r: AssemblyResult): string {
  const parts: string[] = [];
  parts.push(JSON.stringify(r.diagnostics), String(r.ok), String(r.image.entry));
  for (const s of r.image.sections) parts.push(`${s.name} ${s.address} ${s.size} ${s.user} ${s.writable} ${s.executable} ${Buffer.from(s.bytes).toString('hex')}`);
  for (const [name, value] of r.image.symbols) parts.push(`${name}=${value}`);
  for (const e of r.sourceMap.entries) parts.push(`${e.file}:${e.line}:${e.column} ${e.address} ${e.size}`);
  parts.push(r.listing);
  return parts.join('\n');
}

function readFile(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : 'db 1';
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (name.endsWith('.fred') || name.endsWith('.asm') || name.endsWith('.inc')) out.push(path);
  }
  return out;
}

const groups = new Map<string, string[]>();
const add = (group: string, name: string, source: string): void => {
  const hash = createHash('sha256').update(serialise(assemble(source, { fileName: name, readFile }))).digest('hex');
  const list = groups.get(group) ?? [];
  list.push(`${name} ${hash}`);
  groups.set(group, list);
};

for (const seed of [1, 2, 3, 4]) add('bench', `bench-${seed}`, generateAssemblerBenchSource(50_000, seed));
// Addresses past 32 bits and near the top of the address space (labels, branches, rip-relative, dq).
for (const org of ['0xffffffff80000000', '0x7ffffffffff00000', '0xfffffffffff00000', '0x100000000']) {
  add('bench-high', `org-${org}`, generateAssemblerBenchSource(5_000, 9).replace('org 0x100000', `org ${org}`));
}
add('bench-high', 'start', `section .a start=0xfffffffffffffff0\nx: jmp x\njmp y\ny: dq x, y\nsection .b start=0x80000000\nz: lea rax, [rel x]\njmp z\ndd z - $$`);
for (const dir of ['examples', 'workshop', 'test/debug/fixtures', 'test/fixtures', 'test/examples']) {
  for (const path of filesUnder(dir)) add('files', path, readFileSync(path, 'utf8'));
}
add('corpus', 'corpus', generateCorpus().map((l) => l.text).join('\n'));
for (const seed of [1, 2, 3]) add('shapes', `shapes-${seed}`, mixedShapeLines(3000, seed).join('\n'));
const next = rng(0x5eed);
const valid = generateAssemblerBenchSource(3000, 7).split('\n');
const fuzz: string[] = [];
for (let i = 0; i < 3000; i++) fuzz.push(fuzzSource(next, valid, 4));
for (let i = 0; i < fuzz.length; i += 100) add('fuzz', `fuzz-${i}`, fuzz.slice(i, i + 100).join('\n'));
for (let i = 0; i < 300; i++) add('fuzz-alone', `fuzz-alone-${i}`, fuzz[i]);

let total = createHash('sha256');
for (const [group, list] of groups) {
  const h = createHash('sha256').update(list.join('\n')).digest('hex');
  total = total.update(h);
  console.log(`${group.padEnd(12)} ${String(list.length).padStart(4)} inputs  ${h.slice(0, 16)}`);
  if (process.argv.includes('--verbose')) for (const line of list) console.log(`  ${line}`);
}
console.log(`total        ${total.digest('hex')}`);


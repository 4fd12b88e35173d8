import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asmCommand } from '../../src/cli/asmCommand';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'fred-asm-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('fred-lab asm', () => {
  it('prints every error as file:line:col: error: message and exits 1', async () => {
    const path = file('bad.fred', 'nop\nmov rax, nowhere\ndb 300\n');
    const io = capture();
    expect(await asmCommand([path], io)).toBe(1);
    expect(io.stderr.split('\n').filter(Boolean)).toEqual([
      `${path}:2:10: error: undefined symbol 'nowhere'`,
      `${path}:3:4: error: value 0x12c does not fit in 8 bits`,
    ]);
    expect(io.stdout).toBe('');
  });

  it('writes the flat binary with -o: lowest section to last initialised byte, gaps zero', async () => {
    const path = file('two.fred', 'org 0x1000\nnop\nsection .data\ndb 1, 2\nresb 8\nsection .bss\nresq 4\n');
    const out = join(dir, 'two.bin');
    const io = capture();
    expect(await asmCommand([path, '-o', out], io)).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(0x1002);
    expect(bytes[0]).toBe(0x90);
    expect(bytes.subarray(1, 0x1000).every((b) => b === 0)).toBe(true);
    expect([...bytes.subarray(0x1000)]).toEqual([1, 2]);
    expect(io.stdout).toBe('');
  });

  it('prints the listing with --listing, and a one-line summary by default', async () => {
    const path = file('ok.fred', '_start:\n  mov eax, 1\n  hlt\n');
    const io = capture();
    expect(await asmCommand([path, '--listing'], io)).toBe(0);
    expect(io.stdout).toMatch(/^\s+2 0000000000100000 B801000000\s+ mov eax, 1$/m);
    const plain = capture();
    expect(await asmCommand([path], plain)).toBe(0);
    expect(plain.stdout).toBe(`${path}: 6 bytes in 1 section (.text@0x100000+6), entry 0x100000\n`);
  });

  it('assembles %include files relative to the source file', async () => {
    file('defs.inc', 'VALUE equ 7\n');
    const path = file('inc.fred', '%include "defs.inc"\ndb VALUE\n');
    const out = join(dir, 'inc.bin');
    expect(await asmCommand([path, '-o', out], capture())).toBe(0);
    expect([...readFileSync(out)]).toEqual([7]);
  });

  it('reports usage mistakes and unreadable files through the dispatcher', async () => {
    const io = capture();
    expect(await main(['asm'], io)).toBe(2);
    expect(io.stderr).toMatch(/fred-lab asm: asm needs a FILE/);
    const missing = capture();
    expect(await main(['asm', join(dir, 'missing.fred')], missing)).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*missing\.fred.*ENOENT/);
  });

  it('assembles examples/hello.fred', async () => {
    const io = capture();
    expect(await asmCommand(['examples/hello.fred'], io)).toBe(0);
    expect(io.stderr).toBe('');
  });
});

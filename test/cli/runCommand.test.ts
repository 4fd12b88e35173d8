// `fred-lab run` (ARCHITECTURE §6, README "fred-lab run"): the JSON document, trace lines, exit statuses,
// assembler errors, flat binaries with --org, --load, --map, --dump-mem, --interrupt and usage errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(['run', ...argv], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'fred-run-'));
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const HEX64 = /^0x[0-9a-f]+$/;

describe('fred-lab run', () => {
  test('--json on examples/hello.fred: stop, registers, segments, CRs, MSRs, trace, output', async () => {
    const { code, out } = await run(['examples/hello.fred', '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.vmx).toBe(false);
    expect(doc.stop).toMatchObject({ reason: 'debugExit', exitCode: 0 });
    expect(doc.stop.message).toMatch(/debug exit/);
    expect(doc.output).toContain('Hello from FRED Lab');
    expect(doc.output).toContain('#BP handled');
    for (const v of Object.values(doc.registers)) expect(v).toMatch(HEX64);
    expect(Object.keys(doc.registers)).toEqual(expect.arrayContaining(['rax', 'r15', 'rip', 'rflags']));
    expect(doc.segments.cs).toMatchObject({ selector: '0x10' });
    expect(doc.controlRegisters.cr0).toBe('0x80050033');
    expect(doc.msrs.IA32_STAR).toBe('0x23001000000000');
    expect(doc.msrs.IA32_EFER).toBe('0xd01');
    expect(doc.msrs).toHaveProperty('IA32_FRED_CONFIG');
    expect(doc.msrs).toHaveProperty('IA32_KERNEL_GS_BASE');
    const delivery = doc.trace.find((r: { kind: string }) => r.kind === 'delivery');
    expect(delivery).toMatchObject({ mechanism: 'idt', type: 6, vector: 3 });
    expect(delivery.fromRip).toMatch(HEX64);
    expect(doc.trace.map((r: { kind: string }) => r.kind)).toEqual(expect.arrayContaining(['output', 'delivery', 'return', 'debugExit']));
  });

  test('--trace prints one line per record and the stop', async () => {
    const { code, out } = await run(['examples/hello.fred', '--trace', '--no-vmx']);
    expect(code).toBe(0);
    expect(out).toMatch(/delivery idt type 6 vector 3/);
    expect(out).toMatch(/return iretq/);
    expect(out).toMatch(/stop: debugExit/);
  });

  test('assembler errors print file:line:col and exit 1', async () => {
    const path = file('bad.fred', 'bits 64\n  mov rax, \n');
    const { code, err } = await run([path]);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: error: `));
  });

  test('a flat binary at --org, --load, --map and --dump-mem', async () => {
    // mov rax, [0x200000]; mov [0x7f0000000000], rax; hlt
    const code = new Uint8Array([0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x48, 0xa3, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0xf4]);
    const bin = file('prog.bin', code);
    const data = file('data.bin', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const { code: status, out } = await run([bin, '--org', '0x400000', '--load', `${data}@0x200000`, '--map', '0x7f0000000000:4096', '--dump-mem', '0x7f0000000000:8', '--dump-mem', '0x400000:2', '--json']);
    const doc = JSON.parse(out);
    expect(status).toBe(0);
    expect(doc.stop.reason).toBe('halted');
    expect(doc.registers.rax).toBe('0x807060504030201');
    expect(doc.memory).toEqual([
      { address: '0x7f0000000000', length: 8, hex: '0102030405060708' },
      { address: '0x400000', length: 2, hex: '488b' },
    ]);
  });

  test('--max-instructions stops a loop with exit status 1; --interrupt drives an external interrupt', async () => {
    const loop = file('loop.fred', 'bits 64\norg 0x100000\n_start: jmp _start\n');
    const limited = await run([loop, '--max-instructions', '1000', '--json']);
    expect(limited.code).toBe(1);
    expect(JSON.parse(limited.out).stop).toMatchObject({ reason: 'instructionLimit', icount: 1000 });
    const bad = await run([loop, '--interrupt', '3@10']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--interrupt/);
  });

  test('usage errors: missing file, bad numbers, unreadable file', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['x.fred', '--max-instructions', 'lots'])).err).toMatch(/not a number/);
    const missing = await run([join(dir, 'missing.fred')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read/);
  });

  test('a triple fault reports shutdown with the exception chain', async () => {
    const path = file('ud.fred', 'bits 64\norg 0x100000\n_start: ud2\n');
    const { code, out } = await run([path, '--json']);
    expect(code).toBe(1);
    const doc = JSON.parse(out);
    expect(doc.stop.reason).toBe('shutdown');
    expect(doc.stop.message).toMatch(/#UD/);
    expect(doc.trace.at(-1)).toMatchObject({ kind: 'shutdown' });
  });

  test('--interrupt with the APIC software-disabled: the dropped requests are explained on stderr and in the JSON', async () => {
    const program = file('irq-disabled.fred', [
      'bits 64', 'org 0x100000', '_start:', '    sti', '.spin:', '    hlt', '    jmp .spin',
    ].join('\n'));
    const plain = await run([program, '--interrupt', '0x20@100', '--max-instructions', '1000']);
    expect(plain.err).toMatch(/note: \d+ external interrupt request\(s\) from --interrupt were dropped .*software-disabled/);
    const json = JSON.parse((await run([program, '--json', '--interrupt', '0x20@100', '--max-instructions', '1000'])).out);
    expect(json.notes).toHaveLength(1);
    expect(json.trace.filter((r: { kind: string }) => r.kind === 'delivery')).toEqual([]);
    // Without a schedule there is nothing to explain.
    expect((await run([program, '--max-instructions', '1000'])).err).toBe('');
  });
});

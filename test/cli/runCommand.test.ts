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
    expect(doc.mode).toBe('VMX non-root operation under the monitor');
    expect(doc.vmx).toMatchObject({ policy: { ept: 'lazy', kvmV9Quirks: false } });
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

describe('fred-lab run and the VMX monitor', () => {
  const hello = 'examples/hello.fred';

  test('--json: the monitor by default (policy, exit count, VMCS by SDM group), vmx: null with --no-vmx', async () => {
    const vmx = JSON.parse((await run([hello, '--json'])).out);
    expect(vmx.vmx.policy).toMatchObject({ exceptionBitmap: ['#DB', '#UD', '#AC', '#MC'], ept: 'lazy', cpuid: { fred: true, lkgs: true, wrmsrns: true }, interrupts: [], nmis: [], kvmV9Quirks: false });
    expect(vmx.vmx.exitCount).toBe(vmx.trace.filter((r: { kind: string }) => r.kind === 'vmexit').length);
    expect(vmx.vmx.exitCount).toBeGreaterThan(0); // every OUT to COM1 is an I/O exit
    expect(Object.keys(vmx.vmx.vmcs)).toEqual(['guestRegisterState', 'guestNonRegisterState', 'hostState', 'executionControl', 'exitControl', 'entryControl', 'exitInformation']);
    for (const group of Object.values(vmx.vmx.vmcs) as Record<string, string>[]) for (const v of Object.values(group)) expect(v).toMatch(HEX64);
    // The final VMCS holds the guest state the run ended with, and the last exit (the OUT to 0xF4).
    expect(vmx.vmx.vmcs.guestRegisterState.GUEST_RIP).toBe(vmx.registers.rip);
    expect(vmx.vmx.vmcs.guestRegisterState.GUEST_RSP).toBe(vmx.registers.rsp);
    expect(vmx.vmx.vmcs.exitInformation.VM_EXIT_REASON).toBe('0x1e');
    expect(vmx.vmx.vmcs.exitInformation).toHaveProperty('ORIGINAL_EVENT_DATA');
    const bare = JSON.parse((await run([hello, '--json', '--no-vmx'])).out);
    expect(bare.vmx).toBeNull();
    expect(bare.mode).toBe('bare metal');
    expect(bare.trace.some((r: { kind: string }) => r.kind === 'vmexit')).toBe(false);
    // The guest cannot tell the difference.
    expect(vmx.output).toBe(bare.output);
    expect(vmx.registers).toEqual(bare.registers);
  });

  test('--trace prints the monitor records in words', async () => {
    const { code, out } = await run([hello, '--trace']);
    expect(code).toBe(0);
    expect(out).toMatch(/vmexit I\/O instruction \(30\) at rip 0x[0-9a-f]+: OUT port 0x3f8, 1 byte\(s\)/);
    expect(out).toMatch(/\] vmentry$/m);
    // KVM does not intercept #BP: hello.fred's INT3 is delivered by the guest CPU, not injected.
    expect(out).toMatch(/delivery idt type 6 vector 3 /);
    const seed = await run(['examples/vmx/pf-reinjection.fred', '--trace']);
    expect(seed.out).toMatch(/vmexit EPT violation \(48\) at rip 0x103000: write, linearValid, finalTranslation; during delivery of hardware exception #PF \(vector 14\) error 0x4, original-event data 0x40000000\n.*vmentry injecting hardware exception #PF \(vector 14\) error 0x4, injected-event data 0x40000000\n.*delivery fred type 3 vector 14 .* \(injected by VM entry\)\n/);
  });

  test('--vmx-config: a policy file is used; its errors name the file and the property path, one per line, status 2', async () => {
    const eager = file('eager.json', '{ "ept": "eager", "kvmV9Quirks": true }');
    const doc = JSON.parse((await run([hello, '--json', '--vmx-config', eager])).out);
    expect(doc.vmx.policy).toMatchObject({ ept: 'eager', kvmV9Quirks: true });
    const bare = file('bare.json', 'false');
    expect(JSON.parse((await run([hello, '--json', '--vmx-config', bare])).out).vmx).toBeNull();

    const bad = file('bad.json', '{ "ept": "fast", "interrupts": [{ "vector": 300, "every": 10 }], "color": 1 }');
    const r = await run([hello, '--vmx-config', bad]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toEqual([
      `fred-lab run: ${bad}.color: unknown property (allowed: exceptionBitmap, msrIntercepts, ept, cpuid, interrupts, nmis, kvmV9Quirks)`,
      `fred-lab run: ${bad}.ept: expected "eager" or "lazy", got "fast"`,
      `fred-lab run: ${bad}.interrupts[0].vector: expected a vector 0–255, got 300`,
    ]);
    const syntax = await run([hello, '--vmx-config', file('syntax.json', '{ "ept": ')]);
    expect(syntax.code).toBe(2);
    expect(syntax.err).toMatch(/syntax\.json: invalid JSON/);
    const missing = await run([hello, '--vmx-config', join(dir, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--vmx-config: cannot read '.*none\.json': ENOENT/);
    expect((await run([hello, '--no-vmx', '--vmx-config', eager])).code).toBe(2);
  });

  test('--vmx-config labels are checked against the program symbols', async () => {
    const labels = file('labels.json', '{ "interrupts": [{ "vector": 48, "at": "_start" }, { "vector": 49, "at": "nowhere" }], "nmis": [{ "at": "also_missing" }] }');
    const r = await run([hello, '--vmx-config', labels]);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toEqual([
      `fred-lab run: ${labels}.interrupts[1].at: unknown label "nowhere"`,
      `fred-lab run: ${labels}.nmis[0].at: unknown label "also_missing"`,
    ]);
    const bin = file('flat.bin', new Uint8Array([0xf4]));
    const flat = await run([bin, '--vmx-config', file('at.json', '{ "nmis": [{ "at": "_start" }] }')]);
    expect(flat.code).toBe(2);
    expect(flat.err).toMatch(/a flat binary has no labels/);
  });

  test('--interrupt under the monitor: the virtualized APIC delivers by injection, as on bare metal', async () => {
    const program = file('irq.fred', [
      'bits 64', 'org 0x100000', '_start:',
      '    lea rax, [rel handler]', '    mov [rel idt + 0x30 * 16], ax', '    shr rax, 16', '    mov [rel idt + 0x30 * 16 + 6], ax',
      '    mov word [rel idt + 0x30 * 16 + 2], 0x10', '    mov byte [rel idt + 0x30 * 16 + 5], 0x8e', '    lidt [rel idtr]',
      '    mov ecx, 0x80f', '    mov eax, 0x1ff', '    xor edx, edx', '    wrmsr',
      '    xor r12d, r12d', '    sti', '.spin:', '    hlt', '    cmp r12d, 3', '    jb .spin', '    mov al, r12b', '    out 0xf4, al',
      'handler:', '    inc r12d', '    mov ecx, 0x80b', '    xor eax, eax', '    wrmsr', '    iretq',
      'align 16', 'idtr: dw 256 * 16 - 1', '    dq idt', 'align 16', 'idt: times 256 * 16 db 0',
    ].join('\n'));
    const results = [];
    for (const mode of [[], ['--no-vmx']]) {
      const { code, out } = await run([program, '--json', '--interrupt', '0x30@500', ...mode]);
      const doc = JSON.parse(out);
      expect(code).toBe(3);
      results.push(doc.trace.filter((r: { kind: string }) => r.kind === 'delivery').map((d: { vector: number; fromRip: string }) => [d.vector, d.fromRip]));
      if (!mode.length) {
        expect(doc.trace.filter((r: { kind: string; injected?: boolean }) => r.kind === 'delivery' && r.injected)).toHaveLength(3);
        // The guest waits in HLT: a HLT exit, and the monitor enters it again with the interrupt.
        expect(doc.trace.some((r: { kind: string; basicReason?: number }) => r.kind === 'vmexit' && r.basicReason === 12)).toBe(true);
      }
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toHaveLength(3);
  });
});

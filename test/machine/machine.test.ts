// The machine API (src/machine/machine.ts): option validation, host errors as stops, step(),
// extra mappings and loads, CR8 as the APIC task priority.
import { describe, expect, test } from 'vitest';
import { createMachine } from '../../src/machine/machine';
import { assembleImage, machineFor } from './helpers';

const flat = (bytes: number[], address = 0x100000n) => ({ sections: [{ address, bytes: Uint8Array.from(bytes), size: bytes.length, user: false, writable: true, executable: true }], entry: address });

describe('createMachine', () => {
  test('rejects a section outside RAM or over the boot structures, and a bad memory size, with words', () => {
    expect(() => createMachine(flat([0xf4], 0x30000n))).toThrow(/outside usable RAM.*boot structures/);
    expect(() => createMachine(flat([0xf4], 0x8000000n))).toThrow(/outside usable RAM/);
    expect(() => createMachine(flat([0xf4]), { memoryMiB: 1000 })).toThrow(/memoryMiB/);
  });
  test('extra mappings and loads: a high-half page backed by RAM, bytes loaded into it', () => {
    const m = createMachine(flat([0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0xff, 0xff, 0x48, 0x8b, 0x18, 0xf4]), {
      extraMappings: [{ address: 0xffff800000000000n, size: 4096 }],
      loads: [{ address: 0xffff800000000000n, bytes: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }],
    });
    expect(m.run(10).reason).toBe('halted');
    expect(m.getGpr(3)).toBe(0x0807060504030201n);
  });
});

describe('running', () => {
  test('a host-side exception inside an instruction becomes a hostError stop', () => {
    const m = createMachine(flat([0xe6, 0x80, 0xf4])); // out 0x80, al
    m.devices.ports.write = () => {
      throw new Error('device exploded');
    };
    const stop = m.run(10);
    expect(stop.reason).toBe('hostError');
    expect(stop.message).toMatch(/device exploded/);
    expect(stop.message).toMatch(/0x100000/);
  });
  test('step() executes exactly one instruction and reports stops', () => {
    const m = machineFor('_start:\n mov eax, 1\n mov ebx, 2\n hlt');
    expect(m.step()).toBeUndefined();
    expect([m.getGpr(0), m.getGpr(3), m.icount]).toEqual([1n, 0n, 1]);
    expect(m.step()).toBeUndefined();
    expect(m.step()).toBeUndefined();
    expect(m.step()?.reason).toBe('halted');
  });
  test('MOV CR8 writes and reads the APIC task-priority class', () => {
    const image = assembleImage(`
_start:
        mov     eax, 3
        mov     cr8, rax
        mov     ecx, 0x808
        rdmsr
        mov     rbx, rax
        mov     rdx, cr8
        hlt`);
    const m = createMachine(image);
    m.run(100);
    expect(m.getGpr(3)).toBe(0x30n);
    expect(m.getGpr(2)).toBe(3n);
  });
});

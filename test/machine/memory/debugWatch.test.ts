// The debugger's data-breakpoint hook (Machine.setDataWatches): a write that overlaps a watched range
// stops the run after the writing instruction with a 'watchpoint' stop naming the write; reads,
// writes elsewhere and single steps do not stop; the guest sees no #DB and no DR6 change.
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../../src/machine/machine';
import { assembleImage, machineFor } from '../helpers';

const PROGRAM = `
_start:
        lea     rbx, [rel cell]
        mov     rax, [rbx]          ; a read of the watched qword
        mov     byte [rbx + 16], 1  ; a write next to it
        mov     dword [rbx + 4], 7  ; a 4-byte write overlapping the watched range
after_write:
        mov     qword [rbx], rax    ; an 8-byte write at the range
after_second:
        hlt
align 8
cell:   dq 0, 0, 0
`;

describe('Machine.setDataWatches', () => {
  it('stops after the instruction that writes the watched range, naming the write', () => {
    const image = assembleImage(PROGRAM);
    const m = createMachine(image);
    m.step(); // lea rbx, [rel cell]
    const address = m.getGpr(3);
    m.setDataWatches([{ address: address + 4n, length: 8 }]);
    const first = m.run(1000);
    expect(first.reason).toBe('watchpoint');
    const afterWrite = image.symbols.get('after_write')!;
    expect(first.rip).toBe(afterWrite);
    expect(first.write).toEqual({ address: address + 4n, size: 4, rip: afterWrite - 7n }); // mov dword [rbx + 4], 7 is 7 bytes
    expect(first.message).toBe(`data breakpoint: write of 4 bytes at 0x${(address + 4n).toString(16)} by 0x${(first.rip - 7n).toString(16)}`);
    expect(m.readMemory(address + 4n, 4)).toEqual(Uint8Array.of(7, 0, 0, 0)); // the write happened
    expect(m.icount).toBe(4);

    const second = m.run(1000);
    expect(second.reason).toBe('watchpoint');
    expect(second.write).toEqual({ address, size: 8, rip: afterWrite });
    expect(second.rip).toBe(image.symbols.get('after_second'));
    expect(m.icount).toBe(5);
    expect(m.cpu.dr[6] & 0xfn).toBe(0n); // not architectural: no DR6 B0–B3

    expect(m.run(1000).reason).toBe('halted');
  });

  it('does not stop while single-stepping, and stops nowhere once cleared', () => {
    const m = machineFor(PROGRAM);
    m.step();
    const address = m.getGpr(3);
    m.setDataWatches([{ address, length: 8 }]);
    for (let k = 0; k < 4; k++) expect(m.step()).toBeUndefined();
    expect(m.icount).toBe(5);
    m.setDataWatches([]);
    expect(m.run(1000).reason).toBe('halted');
  });

  it('sees writes made by compiled blocks that ran before the watch was set', () => {
    const m = machineFor(`
_start:
        lea     rbx, [rel cell]
        mov     ecx, 100
again:  mov     [rbx], rcx
        dec     ecx
        jnz     again
        hlt
align 8
cell:   dq 0
`, { optimizeAfter: 0 });
    expect(m.run(50).reason).toBe('instructionLimit'); // the loop block is compiled and hot
    m.setDataWatches([{ address: m.getGpr(3), length: 1 }]);
    const stop = m.run(1000);
    expect(stop.reason).toBe('watchpoint');
    expect(stop.write?.size).toBe(8);
    expect(m.readMemory(m.getGpr(3), 8)[0]).toBe(Number(m.getGpr(1)));
  });
});

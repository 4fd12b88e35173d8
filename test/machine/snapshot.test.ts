// Snapshots (src/machine/snapshot.ts): restore puts back registers, memory (copy-on-write epochs),
// devices and the trace; replay from a snapshot reproduces the same trace (determinism).
import { describe, expect, test } from 'vitest';
import { KERNEL_LIB, assembleImage, machineFor, setGates } from './helpers';
import { createMachine } from '../../src/machine/machine';

const PROGRAM = `
_start:
${setGates([[0x20, 'irq']])}
        call    load_idt
        mov     ecx, 0x80F
        mov     eax, 0x1FF
        xor     edx, edx
        wrmsr
        sti
        lea     rdi, [rel buffer]
        xor     ebx, ebx
.loop:  mov     [rdi + rbx*8], rbx
        inc     rbx
        and     rbx, 1023
        mov     al, bl
        and     al, 0x3f
        add     al, 0x30
        cmp     bl, 0
        jne     .loop
        inc     r12
        cmp     r12, 20
        jne     .loop
        cli
        hlt
irq:    inc     r13
        mov     ecx, 0x80B
        xor     eax, eax
        xor     edx, edx
        wrmsr
        mov     dx, 0x3f8
        mov     al, '.'
        out     dx, al
        iretq
${KERNEL_LIB}
align 4096
buffer: times 8192 db 0
`;

describe('snapshots', () => {
  test('restore brings back registers, memory, output and trace; replay is identical', () => {
    const m = machineFor(PROGRAM, { interrupts: [{ vector: 0x20, every: 3000 }] });
    m.run(20_000);
    const snap = m.snapshot();
    const at = { icount: m.icount, rip: m.getRip(), rbx: m.getGpr(3), mem: m.readMemory(0x101000n, 64), out: m.output, trace: m.trace.records.length };
    const first = m.run(2_000_000);
    expect(first.reason).toBe('halted');
    const traceA = JSON.stringify(m.trace.records, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    const outputA = m.output;
    const finalRegs = Array.from({ length: 16 }, (_, i) => m.getGpr(i));

    m.restore(snap);
    expect(m.icount).toBe(at.icount);
    expect(m.getRip()).toBe(at.rip);
    expect(m.getGpr(3)).toBe(at.rbx);
    expect(m.output).toBe(at.out);
    expect(m.trace.records.length).toBe(at.trace);
    expect(m.readMemory(0x101000n, 64)).toEqual(at.mem);

    const second = m.run(2_000_000);
    expect(second).toEqual(first);
    expect(JSON.stringify(m.trace.records, (_, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(traceA);
    expect(m.output).toBe(outputA);
    expect(Array.from({ length: 16 }, (_, i) => m.getGpr(i))).toEqual(finalRegs);
  });

  test('two machines on the same program and inputs produce the same trace', () => {
    const run = () => {
      const m = machineFor(PROGRAM, { interrupts: [{ vector: 0x20, every: 2500 }] });
      m.run(2_000_000);
      return JSON.stringify(m.trace.records, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    };
    expect(run()).toBe(run());
  });

  test('restoring an older snapshot discards newer ones', () => {
    const m = machineFor(PROGRAM);
    m.run(1000);
    const a = m.snapshot();
    m.run(1000);
    const b = m.snapshot();
    m.run(1000);
    m.restore(a);
    expect(() => m.restore(b)).toThrow(/discarded/);
    m.restore(a);
    expect(m.icount).toBe(a.icount);
  });
});

describe('code caches', () => {
  test('self-modifying code: a store into the running block takes effect', () => {
    const m = machineFor(`
_start:
        lea     rdi, [rel patch]
        mov     byte [rdi + 1], 42       ; mov al, imm8 → imm8 = 42
patch:  mov     al, 1
        hlt`);
    m.run(100);
    expect(m.getGpr(0) & 0xffn).toBe(42n);
  });
  test('a PUSH onto a stack that shares a page with the running code completes before the block ends', () => {
    const m = machineFor(`
_start:
        lea     rsp, [rel stack_top]
        mov     rax, 0x1234
        push    rax
        pop     rbx
        mov     rcx, rsp
        hlt
        times 64 db 0
stack_top:`);
    m.run(100);
    expect(m.getGpr(3)).toBe(0x1234n);
    expect(m.getGpr(1)).toBe(m.getGpr(4));
  });
  test('breakpoints stop before the instruction, also inside a hot loop, and resume', () => {
    const image = assembleImage(`
_start:
        mov     rcx, 100
again:  inc     rax
target: dec     rcx
        jnz     again
        hlt`);
    const m = createMachine(image);
    m.run(50); // compiled and looping
    const target = image.symbols.get('target')!;
    m.addBreakpoint(target);
    const stop = m.run(10_000);
    expect(stop.reason).toBe('breakpoint');
    expect(m.getRip()).toBe(target);
    const before = m.getGpr(1);
    m.resumeOverBreakpoint();
    expect(m.run(10_000).reason).toBe('breakpoint');
    expect(m.getGpr(1)).toBe(before - 1n);
    m.removeBreakpoint(target);
    m.resumeOverBreakpoint();
    expect(m.run(10_000).reason).toBe('halted');
    expect(m.getGpr(1)).toBe(0n);
  });
  test('debugger memory access: unmapped addresses are an error result, writes patch code', () => {
    const m = machineFor('_start:\n mov eax, 1\n hlt');
    expect(m.tryReadMemory(0x7000000000n, 4)).toMatchObject({ ok: false });
    expect(() => m.readMemory(0x7000000000n, 4)).toThrow(/not mapped/);
    m.run(1);
    m.setRip(0x100000n);
    m.writeMemory(0x100001n, new Uint8Array([7]));
    m.run(10);
    expect(m.getGpr(0)).toBe(7n);
  });
  test('an unimplemented instruction stops the run naming the instruction and address', () => {
    const m = machineFor('_start:\n nop\n fld1\n hlt');
    const stop = m.run(100);
    expect(stop.reason).toBe('unimplemented');
    expect(stop.message).toMatch(/fld1/);
    expect(stop.message).toMatch(/0x100001/);
  });
  test('the instruction limit is exact, also inside a compiled loop', () => {
    const m = machineFor('_start:\n.l: inc rax\n jmp .l');
    const stop = m.run(12345);
    expect(stop.reason).toBe('instructionLimit');
    expect(m.icount).toBe(12345);
    expect(m.getGpr(0)).toBe(6173n);
  });
});

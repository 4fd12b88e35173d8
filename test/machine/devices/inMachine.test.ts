// The devices as a guest program sees them inside the machine: ports through IN/OUT, the x2APIC
// through RDMSR/WRMSR, the timer on the instruction-count time base with HLT skipped exactly.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/asm/index';
import { createMachine, type Machine, type MachineOptions } from '../../../src/machine/machine';

function load(source: string, options: MachineOptions = {}): { machine: Machine; symbols: ReadonlyMap<string, bigint> } {
  const result = assemble(`bits 64\norg 0x100000\n${source}`);
  if (!result.ok) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return { machine: createMachine(result.image, options), symbols: result.image.symbols };
}

/** IDT gate for `vector` → `handler`, then LIDT (SDM Vol. 3A §6.14.1). */
const installGate = (vector: string, handler: string) => `
        lea     rdi, [rel idt + ${vector}*16]
        lea     rax, [rel ${handler}]
        mov     [rdi], ax
        mov     word [rdi + 2], 0x10
        mov     word [rdi + 4], 0x8E00
        shr     rax, 16
        mov     [rdi + 6], ax
        shr     rax, 16
        mov     [rdi + 8], eax
        lidt    [rel idtr]`;

const idt = `
align 16
idtr:   dw 256*16 - 1
        dq idt
align 16
idt:    times 256*16 db 0`;

describe('devices inside the machine', () => {
  it('prints through COM1, ignores the PIC ports, reads all ones there and exits through 0xF4', () => {
    const { machine } = load(`
_start: mov     al, 0xFF
        out     0x21, al
        out     0xA1, al
        mov     dx, 0x3F8
.wait:  add     dx, 5
        in      al, dx              ; LSR
        sub     dx, 5
        test    al, 0x20
        jz      .wait
        mov     al, 'O'
        out     dx, al
        mov     al, 'K'
        out     dx, al
        in      al, 0x21            ; unclaimed: 0xFF
        mov     bl, al
        in      ax, 0xA0            ; unclaimed: 0xFFFF
        mov     cx, ax
        mov     al, 42
        out     0xF4, al
        hlt`);
    const stop = machine.run(1000);
    expect(stop.reason).toBe('debugExit');
    expect(stop.exitCode).toBe(42);
    expect(machine.output).toBe('OK');
    expect(machine.getGpr(3) & 0xffn).toBe(0xffn);
    expect(machine.getGpr(1) & 0xffffn).toBe(0xffffn);
  });

  it('delivers a one-shot APIC timer interrupt exactly initial × divide instructions after the write, across HLT', () => {
    const { machine, symbols } = load(`
_start: ${installGate('0x40', 'timer')}
        mov     ecx, 0x80F          ; SVR: software enable, spurious vector 0xFF
        mov     eax, 0x1FF
        xor     edx, edx
        wrmsr
        mov     ecx, 0x83E          ; divide by 4
        mov     eax, 1
        wrmsr
        mov     ecx, 0x832          ; LVT timer: one-shot, vector 0x40
        mov     eax, 0x40
        wrmsr
        mov     ecx, 0x838          ; initial count 1000
        mov     eax, 1000
arm:    wrmsr
        sti
        hlt
        jmp     $
timer:  mov     ecx, 0x80A          ; PPR while 0x40 is in service
        rdmsr
        mov     r14, rax
        mov     ecx, 0x80B          ; EOI
        xor     eax, eax
        wrmsr
        mov     ecx, 0x80A
        rdmsr
        mov     r15, rax
        hlt                         ; IF = 0 in the handler: the run ends here
${idt}`);
    machine.addBreakpoint(symbols.get('arm')!);
    const atArm = machine.run(1000);
    expect(atArm.reason).toBe('breakpoint');
    const armedAt = machine.icount; // instructions retired before the initial-count WRMSR
    machine.resumeOverBreakpoint();
    const stop = machine.run(100_000);
    expect(stop.reason).toBe('halted');
    const delivery = machine.trace.records.find((r) => r.kind === 'delivery' && r.vector === 0x40);
    expect(delivery, 'timer interrupt delivered').toBeDefined();
    expect(delivery!.icount).toBe(armedAt + 1000 * 4);
    expect(machine.getGpr(14)).toBe(0x40n); // PPR = in-service class
    expect(machine.getGpr(15)).toBe(0n);    // after EOI
  });

  it('raises #GP for a write to a read-only x2APIC register', () => {
    const { machine } = load(`
_start: ${installGate('13', 'gp')}
        mov     ecx, 0x802          ; APIC ID is read-only
        xor     eax, eax
        xor     edx, edx
        wrmsr
        hlt
gp:     mov     r15, 0x600D
        hlt
${idt}`);
    const stop = machine.run(1000);
    expect(stop.reason).toBe('halted');
    expect(machine.getGpr(15)).toBe(0x600dn);
    const delivery = machine.trace.records.find((r) => r.kind === 'delivery');
    expect(delivery).toMatchObject({ vector: 13, errorCode: 0 });
  });

  it('--interrupt VECTOR@EVERY: requests arrive at every multiple of EVERY and wake HLT exactly then', () => {
    const { machine } = load(`
_start: ${installGate('0x30', 'tick')}
        mov     ecx, 0x80F
        mov     eax, 0x1FF
        xor     edx, edx
        wrmsr
        xor     r15d, r15d
        sti
.idle:  hlt
        cmp     r15, 3
        jb      .idle
        mov     al, 0
        out     0xF4, al
tick:   inc     r15
        mov     ecx, 0x80B
        xor     eax, eax
        xor     edx, edx
        wrmsr
        iretq
${idt}`, { interrupts: [{ vector: 0x30, every: 500 }] });
    const stop = machine.run(100_000);
    expect(stop.reason).toBe('debugExit');
    const ticks = machine.trace.records.filter((r) => r.kind === 'delivery' && r.vector === 0x30).map((r) => r.icount);
    expect(ticks).toEqual([500, 1000, 1500]);
  });
});

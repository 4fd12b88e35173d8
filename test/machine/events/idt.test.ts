// Legacy IDT delivery in IA-32e mode and IRETQ (SDM Vol. 3A §6.14): gates, DPL checks for INT n, the
// RSP0 switch and IST stacks through the TSS, the frame, IF through interrupt gates, the #DF classes
// and shutdown.
import { describe, expect, test } from 'vitest';
import { KERNEL_LIB, machineFor, setGates } from '../helpers';
import type { DeliveryRecord, ReturnRecord } from '../../../src/machine/trace';
import { deliverEvent } from '../../../src/machine/events/deliver';
import { interruptEvent } from '../../../src/machine/events/event';

const RAX = 0, RBX = 3, RCX = 1, RDX = 2, R8 = 8, R9 = 9, R10 = 10;

function deliveries(m: ReturnType<typeof machineFor>): DeliveryRecord[] {
  return m.trace.records.filter((r): r is DeliveryRecord => r.kind === 'delivery');
}

describe('without an IDT', () => {
  test('an exception ends in a triple fault whose reason names the first exception', () => {
    const m = machineFor('_start:\n ud2\n hlt');
    const stop = m.run(100);
    expect(stop.reason).toBe('shutdown');
    expect(stop.message).toMatch(/^shutdown: triple fault: #UD/);
    expect(stop.message).toMatch(/#DF/);
    expect(m.trace.records.at(-1)?.kind).toBe('shutdown');
  });
});

describe('IDT delivery', () => {
  test('#GP with error code: the frame holds RIP of the faulting instruction, CS, RFLAGS, RSP, SS', () => {
    const m = machineFor(`
_start:
${setGates([[13, 'gp_handler']])}
        call    load_idt
        mov     r10, rsp
fault:  mov     ecx, 0x12345678         ; an MSR that does not exist
        rdmsr
        hlt
gp_handler:
        mov     r8, [rsp]               ; error code
        mov     r9, [rsp + 8]           ; RIP
        mov     rax, [rsp + 16]         ; CS
        mov     rbx, [rsp + 32]         ; RSP
        mov     rdx, [rsp + 40]         ; SS
        mov     rcx, rsp
        hlt
${KERNEL_LIB}`);
    const stop = m.run(1000);
    expect(stop.reason).toBe('halted');
    expect(m.getGpr(R8)).toBe(0n);
    expect(m.getGpr(RAX)).toBe(0x10n);
    expect(m.getGpr(RBX)).toBe(m.getGpr(R10));
    expect(m.getGpr(RDX)).toBe(0x18n);
    // 16-byte aligned frame of six quadwords below the old RSP
    expect(m.getGpr(RCX)).toBe((m.getGpr(R10) & ~0xfn) - 48n);
    const d = deliveries(m)[0];
    expect(d).toMatchObject({ mechanism: 'idt', type: 3, vector: 13, errorCode: 0, fromCpl: 0, stackSwitched: false });
    expect(d.fromRip).toBe(m.getGpr(R9));
  });

  test('a PUSH with a non-canonical RSP raises #SS(0)', () => {
    const m = machineFor(`
_start:
        ; vector 12: IST1: the faulting RSP is unusable
${setGates([[12, 'ss_handler', 0x8E01]])}
        lea     rax, [rel ist_top]
        mov     [0x2000 + 36], rax
        call    load_idt
        mov     rsp, 0x0000800000000010
        push    rax
        hlt
ss_handler:
        mov     r8, 12
        mov     r9, [rsp]
        hlt
${KERNEL_LIB}
align 16
        times 128 db 0
ist_top:
`);
    m.run(1000);
    expect([m.getGpr(R8), m.getGpr(R9)]).toEqual([12n, 0n]);
  });

  test('INT3 is a trap (next RIP) and IRETQ returns; an interrupt gate clears IF', () => {
    const m = machineFor(`
_start:
${setGates([[3, 'bp_handler']])}
        call    load_idt
        sti
        int3
after:  lea     r9, [rel after]
        pushfq
        pop     rbx
        hlt
bp_handler: pushfq
        pop     rax
        mov     r8, [rsp]
        iretq
${KERNEL_LIB}`);
    m.run(1000);
    expect(m.getGpr(R8)).toBe(m.getGpr(R9));
    expect(m.getGpr(RAX) & 0x200n).toBe(0n);
    expect(m.getGpr(RBX) & 0x200n).toBe(0x200n);
    expect(m.trace.records.some((r) => r.kind === 'return' && (r as ReturnRecord).instruction === 'iretq')).toBe(true);
  });

  test('INT n from ring 3: DPL 3 gate, RSP0 from the TSS, IRETQ back to ring 3; DPL 0 gate → #GP', () => {
    const m = machineFor(`
_start:
        ; vector 0x80: DPL 3 interrupt gate
        ; vector 0x81: DPL 0: INT 0x81 from ring 3 faults
${setGates([[0x80, 'syscall_handler', 0xEE00], [0x81, 'syscall_handler'], [13, 'gp_handler']])}
        call    load_idt
        lea     rsi, [rel user_code]
        lea     rdx, [rel user_stack_top]
        jmp     to_user
syscall_handler:
        mov     r8, rsp
        mov     r9, [rsp + 8]           ; CS pushed = 0x33
        iretq
gp_handler:
        mov     r10, [rsp]              ; error code: vector 0x81 * 8 + 2 (IDT)
        hlt
${KERNEL_LIB}
section .user
user_code:
        int     0x80
        mov     rbx, rsp
        int     0x81
        jmp     $
align 16
        times 256 db 0
user_stack_top:
`);
    const stop = m.run(10_000);
    expect(stop.reason).toBe('halted');
    expect(m.getGpr(R8)).toBe(0x20000n - 40n); // RSP0 (boot stack top) minus the 5-quadword frame
    expect(m.getGpr(R9)).toBe(0x33n);
    expect(m.getGpr(R10)).toBe(0x81n * 8n + 2n);
    const [first] = deliveries(m);
    expect(first).toMatchObject({ type: 4, vector: 0x80, fromCpl: 3, stackSwitched: true });
    const ret = m.trace.records.find((r) => r.kind === 'return') as ReturnRecord;
    expect(ret.toCpl).toBe(3);
  });

  test('an IST entry switches stacks even without a privilege change', () => {
    const m = machineFor(`
_start:
        lea     rax, [rel ist_top]
        mov     [0x2000 + 36 + 8], rax  ; TSS.IST2
        ; vector 3: IST 2
${setGates([[3, 'bp_handler', 0x8E02]])}
        call    load_idt
        int3
        hlt
bp_handler: mov     r8, rsp
        iretq
${KERNEL_LIB}
align 16
        times 128 db 0
ist_top:
`);
    m.run(1000);
    const top = m.trace.records.find((r) => r.kind === 'delivery') as DeliveryRecord;
    expect(top.stackSwitched).toBe(true);
    expect(m.getGpr(R8)).toBe(top.frameAddress);
    expect(top.frameAddress % 16n).toBe(8n); // 5 quadwords below a 16-byte aligned top
  });

  test('#PF while delivering #GP (stack not mapped) becomes #DF; a #DF handler runs', () => {
    const m = machineFor(`
_start:
        ; vector 8: #DF on IST1
${setGates([[8, 'df', 0x8E01]])}
        lea     rax, [rel ist_top]
        mov     [0x2000 + 36], rax
${setGates([[13, 'df']])}
        call    load_idt
        mov     rsp, 0x7000000000           ; unmapped stack
        mov     ecx, 0x12345678
        rdmsr                               ; #GP → frame push → #PF → #DF
        hlt
df:     mov     r8, [rsp]
        hlt
${KERNEL_LIB}
align 16
        times 128 db 0
ist_top:
`);
    const stop = m.run(1000);
    expect(stop.reason).toBe('halted');
    const ds = deliveries(m);
    expect(ds.map((d) => d.vector)).toEqual([8]);
    expect(m.getGpr(R8)).toBe(0n);
  });
});

describe('faults raised during IDT delivery and deliverEvent options', () => {
  const SOURCE = `
_start:
${setGates([[13, 'gp_handler'], [0x30, 'irq_handler']])}
        call    load_idt
ready:  hlt
soft:   int     0x40                    ; no gate 0x40: #GP(0x40 * 8 + 2) while delivering INT 0x40
        hlt
gp_handler:
        mov     r8, [rsp]               ; error code
        mov     r9, [rsp + 8]           ; RIP
        mov     r10, [rsp + 24]         ; RFLAGS
        hlt
irq_handler:
        hlt
${KERNEL_LIB}`;

  test('a #GP while delivering INT n is a fault: RF = 1 in its frame, RIP of the INT instruction (SDM Vol. 3B §18.3.1.1)', () => {
    const m = machineFor(SOURCE);
    m.run(1000); // to `ready`
    const soft = m.getRip(); // HLT retired: RIP is past it, at `soft`
    m.setRip(soft); // leave the HLT state
    expect(m.run(1000).reason).toBe('halted');
    expect(m.getGpr(R8)).toBe(0x40n * 8n + 2n);
    expect(m.getGpr(R9)).toBe(soft);
    expect(m.getGpr(R10) & 0x10000n).toBe(0x10000n);
    expect(deliveries(m).at(-1)).toMatchObject({ vector: 13, nested: true, injected: false });
  });

  test('nested and injected reach the record of an IDT delivery', () => {
    const m = machineFor(SOURCE);
    m.run(1000);
    deliverEvent(m.cpu, interruptEvent(0x30, m.cpu.rip), { nested: true, injected: true });
    expect(deliveries(m).at(-1)).toMatchObject({ mechanism: 'idt', vector: 0x30, nested: true, injected: true });
    deliverEvent(m.cpu, interruptEvent(0x30, m.cpu.rip));
    expect(deliveries(m).at(-1)).toMatchObject({ nested: false, injected: false });
  });
});

// Conformance: switching from IDT delivery to FRED while running (Xen's plan: early exceptions through
// the IDT, then the switch). Both mechanisms appear in one run and one trace.
import { describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../../src/machine/trace';
import { boot, ENABLE_FRED, expectStop, frameAt, program, rsp, STACKS, wrmsr } from './harness';

const SOURCE = `
bits 64
org 0x100000
_start:
        ; IDT gate for vector 3: 64-bit interrupt gate, CS 0x10, DPL 0, present
        lea     rax, [rel idt_int3]
        mov     word [rel idt + 3 * 16], ax
        mov     word [rel idt + 3 * 16 + 2], 0x10
        mov     word [rel idt + 3 * 16 + 4], 0x8e00
        shr     rax, 16
        mov     word [rel idt + 3 * 16 + 6], ax
        shr     rax, 16
        mov     dword [rel idt + 3 * 16 + 8], eax
        lidt    [rel idtr]
idt_break:
        int3                            ; early exception: through the IDT
idt_back:
        inc     r12                     ; counts returns through IRETQ
${wrmsr('IA32_FRED_CONFIG', 'fred_entry')}
${wrmsr('IA32_FRED_RSP0', String(STACKS.rsp0))}
${wrmsr('IA32_FRED_STKLVLS', '0')}
${ENABLE_FRED}
fred_break:
        int3                            ; now through FRED
fred_back:
        inc     r13
        hlt

idt_int3:
        iretq

align 4096
fred_entry:
        hlt
align 256
fred_entry_kernel:
        erets

section .data
align 16
idtr:   dw 256 * 16 - 1
        dq idt
align 16
idt:    times 256 * 16 db 0
`;

describe('IDT → FRED switch', () => {
  it('delivers the first INT3 through the IDT and the second through FRED, each returning', () => {
    const p = program(SOURCE);
    const m = boot(p);
    expectStop(m.run(), 'halted');
    expect(m.getRip()).toBe(p.symbol('fred_back') + 4n);
    expect([m.getGpr(12), m.getGpr(13)]).toEqual([1n, 1n]);
    const deliveries = m.trace.records.filter((r) => r.kind === 'delivery') as DeliveryRecord[];
    expect(deliveries.map((d) => [d.mechanism, d.type, d.vector])).toEqual([['idt', 6, 3], ['fred', 6, 3]]);
    expect(deliveries[0].fromRip).toBe(p.symbol('idt_back'));
    expect(deliveries[1]).toMatchObject({ fromRip: p.symbol('fred_back'), entryRip: p.symbol('fred_entry') + 256n, frameAddress: 0x20000n - 64n });
    const returns = m.trace.records.filter((r) => r.kind === 'return').map((r) => (r as { instruction: string }).instruction);
    expect(returns).toEqual(['iretq', 'erets']);
    // The FRED frame left below the stack: the legacy IDT frame above it was popped by IRETQ.
    expect(frameAt(m, 0x20000n - 64n).ss).toMatchObject({ type: 6, vector: 3, insnLen: 1 });
    expect(rsp(m)).toBe(0x20000n);
  });
});

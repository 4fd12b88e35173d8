// 4-level paging (SDM Vol. 3A §4.5–§4.7, §4.10): #PF error codes and CR2, WP, NX, SMEP/SMAP with AC,
// reserved bits, accessed/dirty bits, 2 MiB and 1 GiB pages, and a TLB that keeps a stale translation
// until INVLPG.
import { describe, expect, test } from 'vitest';
import { KERNEL_LIB, machineFor, setGates } from '../helpers';
import { pteAddress } from '../../../src/machine/boot';

const RAX = 0, RBX = 3, R8 = 8, R9 = 9, R10 = 10;
const MEMORY = 64 * 1024 * 1024;
const PAGE = 0x300000;
const PTE = pteAddress(MEMORY, PAGE);

/** A #PF handler that stores the error code in R8 and CR2 in R9, then halts. */
function withPfHandler(body: string, user = ''): ReturnType<typeof machineFor> {
  const m = machineFor(`
_start:
${setGates([[14, 'pf_handler']])}
        call    load_idt
${body}
        hlt
pf_handler:
        mov     r8, [rsp]
        mov     r9, cr2
        hlt
${KERNEL_LIB}
${user}`);
  m.run(10_000);
  return m;
}

describe('#PF error codes and CR2', () => {
  test('supervisor write to a read-only page with CR0.WP = 1 → P|W', () => {
    const m = withPfHandler(`
        and     qword [${PTE}], ~2
        invlpg  [${PAGE}]
        mov     qword [${PAGE} + 8], 1`);
    expect(m.getGpr(R8)).toBe(0x3n);
    expect(m.getGpr(R9)).toBe(BigInt(PAGE + 8));
    expect(m.cpu.cr2).toBe(BigInt(PAGE + 8));
  });
  test('with CR0.WP = 0 the supervisor write succeeds', () => {
    const m = withPfHandler(`
        and     qword [${PTE}], ~2
        invlpg  [${PAGE}]
        mov     rax, cr0
        and     eax, ~0x10000
        mov     cr0, rax
        mov     qword [${PAGE} + 8], 5
        mov     r10, [${PAGE} + 8]`);
    expect(m.getGpr(R10)).toBe(5n);
    expect(m.getGpr(R8)).toBe(0n);
  });
  test('not-present page: read → 0, write → W', () => {
    const read = withPfHandler(`
        and     qword [${PTE}], ~1
        invlpg  [${PAGE}]
        mov     rax, [${PAGE}]`);
    expect(read.getGpr(R8)).toBe(0x0n);
    const write = withPfHandler(`
        and     qword [${PTE}], ~1
        invlpg  [${PAGE}]
        mov     [${PAGE} + 0x10], eax`);
    expect(write.getGpr(R8)).toBe(0x2n);
    expect(write.getGpr(R9)).toBe(BigInt(PAGE + 0x10));
  });
  test('reserved bit above MAXPHYADDR → P|RSVD', () => {
    const m = withPfHandler(`
        bts     qword [${PTE}], 45
        invlpg  [${PAGE}]
        mov     rax, [${PAGE}]`);
    expect(m.getGpr(R8)).toBe(0x9n);
  });
  test('instruction fetch from an NX page → P|I', () => {
    const m = withPfHandler(`
        mov     byte [${PAGE}], 0xc3        ; ret
        bts     qword [${PTE}], 63
        invlpg  [${PAGE}]
        mov     rax, ${PAGE}
        call    rax`);
    expect(m.getGpr(R8)).toBe(0x11n);
    expect(m.getGpr(R9)).toBe(BigInt(PAGE));
  });
  test('user read of a supervisor page → P|U', () => {
    const m = withPfHandler(`
        lea     rsi, [rel user_code]
        lea     rdx, [rel user_code + 0x800]
        jmp     to_user`, `
section .user
user_code:
        mov     rax, [${PAGE}]
        jmp     $
        times 0x1000 db 0`);
    expect(m.getGpr(R8)).toBe(0x5n);
  });
  test('SMEP: supervisor fetch from a user page → P|I; SMAP: read → P unless RFLAGS.AC', () => {
    const smep = withPfHandler(`
        mov     rax, cr4
        bts     rax, 20
        mov     cr4, rax
        lea     rax, [rel user_code]
        call    rax`, `
section .user
user_code:
        ret`);
    expect(smep.getGpr(R8)).toBe(0x11n);
    const smap = withPfHandler(`
        mov     rax, cr4
        bts     rax, 21
        mov     cr4, rax
        stac
        mov     r10, [rel user_data]
        clac
        mov     rbx, [rel user_data]`, `
section .user
user_data:
        dq 0x1234`);
    expect(smap.getGpr(R10)).toBe(0x1234n);
    expect(smap.getGpr(R8)).toBe(0x1n);
    expect(smap.getGpr(RBX)).toBe(0n);
  });
});

describe('translation', () => {
  test('accessed and dirty bits are set in the page-table entry', () => {
    const m = withPfHandler(`
        and     qword [${PTE}], ~0x60
        invlpg  [${PAGE}]
        mov     rax, [${PAGE}]
        mov     r10, [${PTE}]
        mov     [${PAGE}], rax
        mov     rbx, [${PTE}]`);
    expect(m.getGpr(R10) & 0x60n).toBe(0x20n);
    expect(m.getGpr(RBX) & 0x60n).toBe(0x60n);
  });
  test('the TLB keeps the old translation until INVLPG', () => {
    const m = withPfHandler(`
        mov     qword [${PAGE}], 111
        mov     qword [${PAGE + 0x1000}], 222
        mov     rax, [${PAGE}]              ; fills the TLB
        add     qword [${PTE}], 0x1000      ; now points at the next frame
        mov     r10, [${PAGE}]              ; stale: still 111
        invlpg  [${PAGE}]
        mov     rbx, [${PAGE}]              ; 222`);
    expect(m.getGpr(R10)).toBe(111n);
    expect(m.getGpr(RBX)).toBe(222n);
  });
  test('2 MiB and 1 GiB pages', () => {
    const m = withPfHandler(`
        mov     qword [0x3ff000], 0x200000 | 0x83   ; a PD at 0x3ff000 whose entry 0 is a 2 MiB page
        mov     qword [0x21000 + 8], 0x3ff000 | 3   ; PDPT[1] (linear 1 GiB) → that PD
        mov     qword [0x21000 + 16], 0x83          ; PDPT[2] (linear 2 GiB): 1 GiB page at 0
        mov     rax, cr3
        mov     cr3, rax
        mov     qword [0x200010], 77
        mov     r10, [0x40000010]
        mov     rax, 0x80200010
        mov     rbx, [rax]`);
    expect(m.getGpr(R10)).toBe(77n);
    expect(m.getGpr(RBX)).toBe(77n);
  });
  test('a non-canonical address raises #GP(0), not #PF', () => {
    const m = machineFor(`
_start:
${setGates([[13, 'gp']])}
        call    load_idt
        mov     rax, 0x0000800000000000
        mov     rbx, [rax]
        hlt
gp:     mov     r8, [rsp]
        mov     r9, 1
        hlt
${KERNEL_LIB}`);
    m.run(1000);
    expect([m.getGpr(R8), m.getGpr(R9)]).toEqual([0n, 1n]);
    void RAX;
  });
});

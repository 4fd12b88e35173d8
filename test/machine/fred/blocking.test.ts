// Blocking by STI and blocking by MOV SS are two states (SDM Vol. 3C §25.4.2 interruptibility state
// bits 0 and 1): the FRED frame's STI bit records only blocking by STI and ERETS re-establishes only
// that (fred-architecture.md §3.5, §4.2); MOV SS holds interrupts, debug exceptions and single-step
// traps until the boundary after the next instruction (SDM Vol. 3A §6.8.3), and a FRED delivery
// discards the traps it held (§3.6: delivery discards pending debug traps).
import { describe, expect, it } from 'vitest';
import { boot, expectStop, fredSource, frameAt, program, rsp } from './harness';

function run(body: string) {
  const p = program(fredSource({ body }));
  const m = boot(p);
  expectStop(m.run(), 'halted');
  return { m, p, f: frameAt(m, rsp(m)) };
}

/** TF = 1 from the instruction after the POPFQ on (SDM POPF: the trap follows the next instruction). */
const SET_TF = `
        pushfq
        or      qword [rsp], 0x100
        popfq`;

describe('the FRED frame STI bit', () => {
  it('is 1 for an event in the shadow of STI (IF was 0)', () => {
    const { f } = run('sti\nint3');
    expect(f.ss).toMatchObject({ type: 6, vector: 3, sti: true });
  });

  it('is 0 for an event in the shadow of MOV SS: that is blocking by MOV SS, not by STI', () => {
    const { m, f } = run('mov ax, ss\nmov ss, ax\nint3');
    expect(f.ss).toMatchObject({ type: 6, vector: 3, sti: false });
    expect(m.cpu.blockingByMovSs).toBe(false); // delivery ends the shadow
  });
});

describe('MOV SS blocks debug exceptions for one instruction (SDM Vol. 3A §6.8.3)', () => {
  it('the single-step trap of MOV SS comes after the next instruction, with the trap of that one', () => {
    const { f, p } = run(`
        mov     ax, ss${SET_TF}
        mov     ss, ax                  ; the first instruction with TF = 1: its trap is held
        nop                             ; … until this one completes
after:  hlt`);
    expect(f.ss).toMatchObject({ type: 3, vector: 1 });
    expect(f.rip).toBe(p.symbol('after'));
    expect(f.eventData).toBe(0x4000n); // DR6.BS
  });

  it('without MOV SS the trap comes right after the instruction', () => {
    const { f, p } = run(`
        mov     ax, ss${SET_TF}
        mov     bx, ax
after:  nop
        hlt`);
    expect(f.ss).toMatchObject({ type: 3, vector: 1 });
    expect(f.rip).toBe(p.symbol('after'));
  });

  it('a FRED delivery right after MOV SS discards the held trap (no #DB after SYSCALL)', () => {
    const { m, f, p } = run(`
        mov     ax, ss${SET_TF}
        mov     ss, ax
        syscall
after:  hlt`);
    expect(f.ss).toMatchObject({ type: 7, vector: 1 });
    expect(f.rip).toBe(p.symbol('after'));
    expect(m.trace.records.filter((r) => r.kind === 'delivery')).toHaveLength(1);
  });
});

describe('ERETS restores only blocking by STI', () => {
  it('the STI bit with IF = 1 in the frame gives blocking by STI, never blocking by MOV SS', () => {
    const p = program(fredSource({
      body: `
        push    0x18
        lea     rax, [rsp + 8]
        push    rax
        push    0x202                   ; IF = 1
        push    0x10
        lea     rax, [rel target]
        push    rax
        push    0
        mov     rax, 0x18 | (1 << 16)   ; SS word with the STI bit
        mov     [rsp + 40], rax
        erets
target: hlt`,
    }));
    const m = boot(p);
    m.addBreakpoint(p.symbol('target'));
    expectStop(m.run(), 'breakpoint');
    expect([m.cpu.blockingBySti, m.cpu.blockingByMovSs]).toEqual([true, false]);
  });
});

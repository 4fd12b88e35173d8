// RF in the saved RFLAGS (SDM Vol. 3B §18.3.1.1; fred-architecture.md §3.2): RF is cleared as an
// instruction starts, after the instruction-breakpoint check, so a software interrupt or trap of the
// instruction an ERETS returned to with RF = 1 saves RF = 0; a fault saves RF = 1 (events/fred.test.ts
// covers faults raised during delivery).
import { describe, expect, it } from 'vitest';
import { boot, expectStop, fredSource, frameAt, program, rsp } from './harness';

function eretsTo(target: string, rflags: string) {
  const p = program(fredSource({
    body: `
        mov     rax, rsp
        push    0x18
        push    rax
        push    ${rflags}
        push    0x10
        lea     rax, [rel target]
        push    rax
        push    0
        erets
target: ${target}
after:  hlt`,
  }));
  const m = boot(p);
  expectStop(m.run(), 'halted');
  return { m, p, f: frameAt(m, rsp(m)) };
}

describe('RF after ERETS loaded it', () => {
  it('INT3 at the returned-to instruction saves RF = 0 (cleared as it started)', () => {
    const { f, p } = eretsTo('int3', '0x10002');
    expect(f.ss).toMatchObject({ type: 6, vector: 3 });
    expect(f.rip).toBe(p.symbol('after'));
    expect(f.rflags).toBe(0x2n);
  });

  it('a fault at the returned-to instruction saves RF = 1', () => {
    const { f, p } = eretsTo('ud2', '0x10002');
    expect(f.ss).toMatchObject({ type: 3, vector: 6 });
    expect(f.rip).toBe(p.symbol('target'));
    expect(f.rflags).toBe(0x10002n);
  });

  it('RF is gone from RFLAGS once that instruction completed', () => {
    const { m } = eretsTo('nop', '0x10002');
    expect(m.getRflags() & 0x10000n).toBe(0n);
  });
});

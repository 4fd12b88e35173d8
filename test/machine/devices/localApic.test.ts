import { describe, expect, it } from 'vitest';
import { APIC_VERSION, LocalApic } from '../../../src/machine/devices/localApic';
import type { MsrReadResult, MsrWriteResult } from '../../../src/machine/devices/types';

const TPR = 0x808, PPR = 0x80a, EOI = 0x80b, SVR = 0x80f, ESR = 0x828, ICR = 0x830;
const LVT_TIMER = 0x832, LVT_ERROR = 0x837, TMICT = 0x838, TMCCT = 0x839, TDCR = 0x83e, SELF_IPI = 0x83f;

function read(apic: LocalApic, index: number, icount?: number): bigint {
  const r = apic.readMsr(index, icount) as MsrReadResult;
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

function write(apic: LocalApic, index: number, value: number | bigint, icount = 0): void {
  const r = apic.writeMsr(index, BigInt(value), icount) as MsrWriteResult;
  if (!r.ok) throw new Error(r.reason);
}

function gpReason(result: MsrReadResult | MsrWriteResult | undefined): string {
  if (result === undefined || result.ok) throw new Error('expected #GP');
  return result.reason;
}

/** An APIC software-enabled with spurious vector 0xFF. */
function enabledApic(): LocalApic {
  const apic = new LocalApic();
  write(apic, SVR, 0x1ff);
  return apic;
}

describe('LocalApic: identification and IA32_APIC_BASE', () => {
  it('reports BSP, x2APIC and global enable at base 0xFEE00000', () => {
    const apic = new LocalApic();
    expect(read(apic, 0x1b)).toBe(0xfee0_0d00n);
    expect(apic.writeMsr(0x1b, 0xfee0_0d00n, 0)).toEqual({ ok: true });
  });

  it('rejects leaving x2APIC mode, reserved bits and relocation with #GP', () => {
    const apic = new LocalApic();
    expect(gpReason(apic.writeMsr(0x1b, 0xfee0_0900n, 0))).toMatch(/leaving x2APIC mode/);
    expect(gpReason(apic.writeMsr(0x1b, 0n, 0))).toMatch(/leaving x2APIC mode/);
    expect(gpReason(apic.writeMsr(0x1b, 0xfee0_0d01n, 0))).toMatch(/only 0xfee00d00/);
    expect(gpReason(apic.writeMsr(0x1b, 0xfed0_0d00n, 0))).toMatch(/only 0xfee00d00/);
  });

  it('has ID, version and the x2APIC logical ID derived from the ID', () => {
    const apic = new LocalApic();
    expect(read(apic, 0x802)).toBe(0n);
    expect(read(apic, 0x803)).toBe(BigInt(APIC_VERSION));
    expect((APIC_VERSION >>> 16) & 0xff).toBe(5); // six LVTs, no CMCI
    expect(read(apic, 0x80d)).toBe(1n);
    expect(read(new LocalApic({ apicId: 0x13 }), 0x80d)).toBe(0x1_0008n);
    expect(read(new LocalApic({ apicId: 0x13 }), 0x1b)).toBe(0xfee0_0c00n); // not the BSP
  });

  it('leaves MSRs outside 0x1B and 0x800–0x8FF to the CPU', () => {
    const apic = new LocalApic();
    expect(apic.readMsr(0xc000_0080)).toBeUndefined();
    expect(apic.writeMsr(0x7ff, 0n, 0)).toBeUndefined();
    expect(apic.readMsr(0x900)).toBeUndefined();
  });
});

describe('LocalApic: x2APIC access rules (#GP)', () => {
  it('faults on non-existent registers', () => {
    const apic = new LocalApic();
    for (const index of [0x800, 0x801, 0x804, 0x809, 0x80c, 0x80e, 0x829, 0x82f, 0x831, 0x83a, 0x840, 0x8ff]) {
      expect(gpReason(apic.readMsr(index))).toMatch(/no such x2APIC register/);
      expect(gpReason(apic.writeMsr(index, 0n, 0))).toMatch(/no such x2APIC register/);
    }
  });

  it('faults on writes to read-only registers', () => {
    const apic = new LocalApic();
    for (const index of [0x802, 0x803, PPR, 0x80d, 0x810, 0x817, 0x818, 0x820, 0x827, TMCCT]) {
      expect(gpReason(apic.writeMsr(index, 0n, 0))).toMatch(/read-only/);
    }
  });

  it('faults on reads of write-only registers', () => {
    const apic = new LocalApic();
    expect(gpReason(apic.readMsr(EOI))).toMatch(/EOI is write-only/);
    expect(gpReason(apic.readMsr(SELF_IPI))).toMatch(/SELF_IPI is write-only/);
  });

  it('faults on reserved bits, including bits 63:32 of 32-bit registers and nonzero EOI/ESR writes', () => {
    const apic = new LocalApic();
    expect(gpReason(apic.writeMsr(TPR, 0x100n, 0))).toMatch(/TPR reserved bits must be 0 .*set: 0x100/);
    expect(gpReason(apic.writeMsr(TPR, 1n << 32n, 0))).toMatch(/reserved/);
    expect(gpReason(apic.writeMsr(EOI, 1n, 0))).toMatch(/EOI reserved bits must be 0/);
    expect(gpReason(apic.writeMsr(ESR, 1n, 0))).toMatch(/ESR reserved bits must be 0/);
    expect(gpReason(apic.writeMsr(SVR, 0x2000n, 0))).toMatch(/SIVR reserved/);
    expect(gpReason(apic.writeMsr(SELF_IPI, 0x100n, 0))).toMatch(/SELF_IPI reserved/);
    expect(gpReason(apic.writeMsr(ICR, 1n << 12n, 0))).toMatch(/ICR reserved bits must be 0 .*set: 0x1000\)/);
    expect(gpReason(apic.writeMsr(SVR, 0x11ffn, 0))).toMatch(/EOI-broadcast suppression/);
    expect(gpReason(apic.writeMsr(LVT_TIMER, 2n << 17n, 0))).toMatch(/timer mode 2 is not supported/); // TSC-deadline
    expect(gpReason(apic.writeMsr(LVT_TIMER, 3n << 17n, 0))).toMatch(/timer mode 3/);
    expect(gpReason(apic.writeMsr(TDCR, 4n, 0))).toMatch(/DIV_CONF reserved/);
    expect(apic.writeMsr(ICR, 0xffff_ffff_000c_cf00n, 0)).toEqual({ ok: true }); // all ICR fields
  });

  it('ignores the read-only delivery-status and remote-IRR bits of LVT writes', () => {
    const apic = enabledApic();
    write(apic, 0x835, 0x1_5030);
    expect(read(apic, 0x835)).toBe(0x1_0030n);
  });
});

describe('LocalApic: software enable (SVR)', () => {
  it('starts software-disabled with every LVT masked', () => {
    const apic = new LocalApic();
    expect(read(apic, SVR)).toBe(0xffn);
    for (const index of [0x832, 0x833, 0x834, 0x835, 0x836, 0x837]) expect(read(apic, index)).toBe(0x1_0000n);
  });

  it('keeps LVT mask bits set while disabled and sets them all on disable', () => {
    const apic = new LocalApic();
    write(apic, LVT_TIMER, 0x40);
    expect(read(apic, LVT_TIMER)).toBe(0x1_0040n);
    write(apic, SVR, 0x1ff);
    write(apic, LVT_TIMER, 0x40);
    expect(read(apic, LVT_TIMER)).toBe(0x40n);
    write(apic, SVR, 0xff);
    expect(read(apic, LVT_TIMER)).toBe(0x1_0040n);
  });

  it('accepts fixed interrupts only while software-enabled; NMIs always', () => {
    const apic = new LocalApic();
    apic.requestInterrupt(0x40);
    write(apic, SELF_IPI, 0x41);
    expect(read(apic, 0x822)).toBe(0n);
    expect(apic.pendingVector()).toBe(-1);
    write(apic, ICR, (4 << 8) | (1 << 18)); // NMI to self
    expect(apic.takeNmi()).toBe(true);
    write(apic, SVR, 0x1ff);
    apic.requestInterrupt(0x40);
    expect(apic.pendingVector()).toBe(0x40);
    write(apic, SVR, 0xff);
    expect(apic.pendingVector()).toBe(-1); // held in IRR, not deliverable
    expect(read(apic, 0x822)).toBe(1n);
  });
});

describe('LocalApic: priorities, acknowledge, EOI (SDM Vol. 3 §11.8)', () => {
  it('delivers the highest IRR vector and shows IRR/ISR in their MSRs', () => {
    const apic = enabledApic();
    apic.requestInterrupt(0x31);
    apic.requestInterrupt(0x85);
    apic.requestInterrupt(0x42);
    expect(read(apic, 0x821)).toBe(1n << 17n);
    expect(read(apic, 0x824)).toBe(1n << 5n);
    expect(apic.pendingVector()).toBe(0x85);
    apic.acknowledge(0x85);
    expect(read(apic, 0x814)).toBe(1n << 5n);
    expect(read(apic, 0x824)).toBe(0n);
  });

  it('computes PPR from TPR and the highest in-service class (§11.8.3.1)', () => {
    const apic = enabledApic();
    write(apic, TPR, 0x35);
    expect(read(apic, PPR)).toBe(0x35n);
    apic.requestInterrupt(0x52);
    apic.acknowledge(0x52);
    expect(read(apic, PPR)).toBe(0x50n);
    write(apic, TPR, 0x5f);
    expect(read(apic, PPR)).toBe(0x5fn);
    write(apic, TPR, 0x65);
    expect(read(apic, PPR)).toBe(0x65n);
  });

  it('blocks vectors whose class is not above the PPR class, including the in-service class', () => {
    const apic = enabledApic();
    apic.requestInterrupt(0x52);
    apic.acknowledge(0x52);
    apic.requestInterrupt(0x5f); // same class as in service: held
    expect(apic.pendingVector()).toBe(-1);
    apic.requestInterrupt(0x60);
    expect(apic.pendingVector()).toBe(0x60);
    apic.acknowledge(0x60);
    write(apic, EOI, 0); // ends 0x60
    write(apic, EOI, 0); // ends 0x52
    expect(apic.pendingVector()).toBe(0x5f);
  });

  it('masks by TPR class', () => {
    const apic = enabledApic();
    apic.requestInterrupt(0x45);
    write(apic, TPR, 0x40);
    expect(apic.pendingVector()).toBe(-1);
    write(apic, TPR, 0x3f);
    expect(apic.pendingVector()).toBe(0x45);
  });

  it('EOI clears the highest ISR bit only; EOI with nothing in service is harmless', () => {
    const apic = enabledApic();
    for (const v of [0x30, 0x70]) { apic.requestInterrupt(v); apic.acknowledge(v); }
    write(apic, EOI, 0);
    expect(read(apic, 0x813)).toBe(0n);
    expect(read(apic, 0x811)).toBe(1n << 16n);
    write(apic, EOI, 0);
    write(apic, EOI, 0);
    expect(read(apic, 0x811)).toBe(0n);
  });

  it('coalesces a repeated request while the IRR bit is set', () => {
    const apic = enabledApic();
    apic.requestInterrupt(0x40);
    apic.requestInterrupt(0x40);
    apic.acknowledge(0x40);
    expect(apic.pendingVector()).toBe(-1);
    write(apic, EOI, 0);
    expect(apic.pendingVector()).toBe(-1);
  });
});

describe('LocalApic: IPIs to self', () => {
  it('SELF IPI sets the IRR bit for its vector', () => {
    const apic = enabledApic();
    write(apic, SELF_IPI, 0xa0);
    expect(apic.pendingVector()).toBe(0xa0);
  });

  it('ICR fixed delivery reaches us by physical ID, broadcast, self and all-including-self shorthands', () => {
    for (const icr of [0x50n, 0xffff_ffff_0000_0050n, 0x4_0050n, 0x8_0050n, (1n << 32n) | 0x850n]) {
      const apic = enabledApic();
      write(apic, ICR, icr);
      expect(apic.pendingVector()).toBe(0x50);
      expect(read(apic, ICR)).toBe(icr);
    }
  });

  it('ICR to another processor or all-excluding-self delivers nothing', () => {
    for (const icr of [(1n << 32n) | 0x50n, 0xc_0050n, (2n << 32n) | 0x850n]) {
      const apic = enabledApic();
      write(apic, ICR, icr);
      expect(apic.pendingVector()).toBe(-1);
    }
  });

  it('NMI delivery mode raises an NMI once (vector ignored), on its own or via requestNmi', () => {
    const apic = enabledApic();
    write(apic, ICR, 0x4_0400n);
    expect(apic.pendingVector()).toBe(-1);
    expect(apic.takeNmi()).toBe(true);
    expect(apic.takeNmi()).toBe(false);
    apic.requestNmi();
    expect(apic.takeNmi()).toBe(true);
  });

  it('INIT, SMI and start-up to self deliver nothing', () => {
    const apic = enabledApic();
    for (const mode of [2, 5, 6]) write(apic, ICR, 0x4_0000n | BigInt(mode << 8) | 0x40n);
    expect(apic.pendingVector()).toBe(-1);
    expect(apic.takeNmi()).toBe(false);
  });
});

describe('LocalApic: ESR and the error LVT', () => {
  it('latches send-illegal-vector on the next ESR write and raises the error LVT', () => {
    const apic = enabledApic();
    write(apic, LVT_ERROR, 0xe0);
    write(apic, SELF_IPI, 0x05);
    expect(read(apic, ESR)).toBe(0n); // not latched yet
    expect(apic.pendingVector()).toBe(0xe0);
    write(apic, ESR, 0);
    expect(read(apic, ESR)).toBe(0x20n);
    write(apic, ESR, 0);
    expect(read(apic, ESR)).toBe(0n);
  });

  it('records receive-illegal-vector for an external request with a vector below 16', () => {
    const apic = enabledApic();
    apic.requestInterrupt(3);
    write(apic, ESR, 0);
    expect(read(apic, ESR)).toBe(0x40n);
    expect(apic.pendingVector()).toBe(-1);
  });
});

describe('LocalApic: timer on the instruction-count time base', () => {
  it('one-shot: expires initial × divide instructions after the write, once', () => {
    const apic = enabledApic();
    write(apic, TDCR, 0b0001, 0); // ÷4
    write(apic, LVT_TIMER, 0x40, 0);
    write(apic, TMICT, 10, 100);
    expect(apic.nextEventAt()).toBe(140);
    expect(read(apic, TMCCT, 103)).toBe(10n);
    expect(read(apic, TMCCT, 104)).toBe(9n);
    apic.advanceTo(139);
    expect(apic.pendingVector()).toBe(-1);
    apic.advanceTo(140);
    expect(apic.pendingVector()).toBe(0x40);
    expect(apic.nextEventAt()).toBe(Infinity);
    expect(read(apic, TMCCT)).toBe(0n);
    expect(read(apic, TMICT)).toBe(10n);
  });

  it('periodic: reloads and expires every period, coalescing across a long skip', () => {
    const apic = enabledApic();
    write(apic, TDCR, 0b1011, 0); // ÷1
    write(apic, LVT_TIMER, (1 << 17) | 0x41, 0);
    write(apic, TMICT, 5, 0);
    apic.advanceTo(5);
    expect(apic.pendingVector()).toBe(0x41);
    apic.acknowledge(0x41);
    write(apic, EOI, 0, 6);
    expect(apic.nextEventAt()).toBe(10);
    apic.advanceTo(1_000_003);
    expect(apic.pendingVector()).toBe(0x41);
    expect(apic.nextEventAt()).toBe(1_000_005);
    expect(read(apic, TMCCT)).toBe(2n);
  });

  it('decodes every divide configuration (SDM Figure 11-10)', () => {
    const expected: Array<[number, number]> = [[0, 2], [1, 4], [2, 8], [3, 16], [8, 32], [9, 64], [10, 128], [11, 1]];
    for (const [dcr, divide] of expected) {
      const apic = enabledApic();
      write(apic, TDCR, dcr);
      write(apic, LVT_TIMER, 0x40);
      write(apic, TMICT, 3, 7);
      expect(apic.nextEventAt()).toBe(7 + 3 * divide);
      expect(read(apic, TDCR)).toBe(BigInt(dcr));
    }
  });

  it('a masked timer keeps counting but raises nothing; writing 0 stops it', () => {
    const apic = enabledApic();
    write(apic, LVT_TIMER, 0x1_0040, 0);
    write(apic, TMICT, 4, 0);
    expect(apic.nextEventAt()).toBe(Infinity);
    expect(read(apic, TMCCT, 4)).toBe(2n);
    apic.advanceTo(8);
    expect(apic.pendingVector()).toBe(-1);
    write(apic, LVT_TIMER, 0x40, 8);
    write(apic, TMICT, 4, 8);
    write(apic, TMICT, 0, 9);
    expect(apic.nextEventAt()).toBe(Infinity);
    apic.advanceTo(100);
    expect(apic.pendingVector()).toBe(-1);
  });

  it('changing the divide mid-count runs the remaining count at the new rate', () => {
    const apic = enabledApic();
    write(apic, LVT_TIMER, 0x40, 0);
    write(apic, TMICT, 10, 0); // ÷2: expires at 20
    write(apic, TDCR, 0b1011, 6); // 7 left at 6, now ÷1
    expect(apic.nextEventAt()).toBe(13);
  });
});

describe('LocalApic: save/restore', () => {
  it('restores every register, vector set, NMI latch and the timer exactly', () => {
    const apic = enabledApic();
    write(apic, TPR, 0x20);
    write(apic, LVT_TIMER, (1 << 17) | 0x90, 0);
    write(apic, TDCR, 1, 0);
    write(apic, TMICT, 7, 3);
    apic.requestInterrupt(0x70);
    apic.acknowledge(0x70);
    apic.requestInterrupt(0x60);
    apic.requestNmi();
    write(apic, ICR, 0x4_0033n, 4);
    const saved = apic.save();
    const json = JSON.parse(JSON.stringify(saved));
    expect(json).toEqual(saved); // plain data

    const copy = new LocalApic();
    copy.restore(json);
    expect(copy.save()).toEqual(saved);
    apic.advanceTo(500);
    copy.advanceTo(500);
    expect(copy.save()).toEqual(apic.save());
    expect(copy.pendingVector()).toBe(apic.pendingVector());
    expect(copy.takeNmi()).toBe(true);

    // Restoring rewinds: the live APIC goes back to the saved state too.
    apic.restore(saved);
    expect(apic.save()).toEqual(saved);
    expect(apic.nextEventAt()).toBe(3 + 28);
  });
});

// The monitor's EPT (SDM Vol. 3C §29.3): 4-level structures in host memory outside guest RAM,
// identity mappings with permissions, the violation qualification, snapshots.
import { describe, expect, it } from 'vitest';
import { Ept } from '../../../src/machine/vmx/ept';
import { VmExit } from '../../../src/machine/vmx/exitSignal';
import { MONITOR_MEMORY } from '../../../src/machine/vmx/controls';

const MiB = 1024 * 1024;

function violation(f: () => unknown): VmExit {
  try {
    f();
  } catch (e) {
    if (e instanceof VmExit) return e;
    throw e;
  }
  throw new Error('expected an EPT violation');
}

describe('Ept', () => {
  it('lives in host memory above guest RAM; the EPT pointer names its PML4, WB, 4 levels, A/D', () => {
    const ept = new Ept(4 * MiB);
    expect(ept.pointer).toBe(MONITOR_MEMORY.eptPml4 | 6n | (3n << 3n) | (1n << 6n));
    expect(Number(MONITOR_MEMORY.eptPml4)).toBeGreaterThan(256 * MiB);
  });

  it('map: identity 4 KiB pages with R/W/X; the walk goes through the PML4, PDPT, PD and PT in host memory', () => {
    const ept = new Ept(4 * MiB);
    expect(ept.map(0x123456, 1 | 4)).toBe(true);
    expect(ept.permissions(0x123000)).toBe(5);
    expect(ept.permissions(0x124000)).toBe(0);
    expect(ept.translate(0x123456, 0, 0x7000, true)).toBe(0x123456);
    const pml4e = ept.readEntry(Number(MONITOR_MEMORY.eptPml4));
    expect(pml4e & 7n).toBe(7n);
    const pdpt = Number(pml4e & 0xf_ffff_ffff_f000n);
    expect(pdpt).toBeGreaterThan(Number(MONITOR_MEMORY.eptPml4));
    const pde = ept.readEntry(Number(ept.readEntry(pdpt) & 0xf_ffff_ffff_f000n));
    const pte = ept.readEntry(Number(pde & 0xf_ffff_ffff_f000n) + 0x123 * 8);
    expect(pte).toBe(0x123000n | 5n | (6n << 3n) | (1n << 6n)); // R, X, WB, ignore PAT
    expect(ept.map(4 * MiB)).toBe(false); // not guest RAM
  });

  it('a violation carries the SDM qualification and the addresses', () => {
    const ept = new Ept(4 * MiB);
    ept.map(0x200000, 1);
    const write = violation(() => ept.translate(0x200010, 1, 0x7fff_f010, true));
    expect(write.basicReason).toBe(48);
    expect(write.qualification).toBe(2n | (1n << 3n) | (1n << 7n) | (1n << 8n)); // write; readable; linear valid; final
    expect(write.guestPhysicalAddress).toBe(0x200010n);
    expect(write.guestLinearAddress).toBe(0x7fff_f010n);
    const walk = violation(() => ept.translate(0x300008, 0, -0x1000, false));
    expect(walk.qualification).toBe(1n | (1n << 7n)); // read of a paging-structure entry, nothing mapped
    expect(walk.guestLinearAddress).toBe(0xffff_ffff_ffff_f000n);
    const noLinear = violation(() => ept.translate(0x300000, 2, undefined, true));
    expect(noLinear.qualification).toBe(4n);
  });

  it('mapAll maps every page of guest RAM (eager EPT)', () => {
    const ept = new Ept(2 * MiB);
    ept.mapAll();
    expect(ept.mappedPages).toBe(512);
    expect(ept.permissions(2 * MiB - 1)).toBe(7);
  });

  it('save/restore: unchanged tables share one copy; restore brings back exactly the mappings of the snapshot', () => {
    const ept = new Ept(4 * MiB);
    ept.map(0x1000);
    const a = ept.save();
    expect(ept.save()).toBe(a);
    ept.map(0x300000);
    const b = ept.save();
    expect(b).not.toBe(a);
    ept.restore(a);
    expect(ept.permissions(0x1000)).toBe(7);
    expect(ept.permissions(0x300000)).toBe(0);
    expect(ept.mappedPages).toBe(1);
    ept.restore(b);
    expect(ept.permissions(0x300000)).toBe(7);
  });
});

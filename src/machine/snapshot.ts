// Snapshots for time travel (ARCHITECTURE §1 "snapshot.ts"): CPU state by value, memory by
// copy-on-write epochs, devices through their save/restore. Taking a snapshot starts a new epoch:
// the first write to each page afterwards saves the page's old contents into the epoch. Restoring
// snapshot S puts back, newest epoch first, every page saved since S, so memory equals S again; the
// snapshots taken after S are discarded (replay recreates them).
import type { Machine } from './machine';
import { PAGE_CAPTURED, PAGE_SIZE } from './memory/physical';
import type { Segment } from './cpu/state';

interface Epoch {
  saved: Map<number, Uint8Array>;
  valid: boolean;
}

export interface MachineSnapshot {
  readonly icount: number;
  /** Opaque: belongs to the machine that took it. */
  readonly epoch: unknown;
  readonly cpu: CpuSnapshot;
  readonly devices: unknown;
  readonly traceLength: number;
  readonly extra: SnapshotExtra;
}

export interface SnapshotExtra {
  output: string;
  nmiPending: boolean;
  extra: unknown[];
  /** The VMX monitor's state (VmxMonitor.save: fresh copies, never mutated afterwards). */
  vmx?: unknown;
}

interface CpuSnapshot {
  r: Int32Array;
  F: Int32Array;
  rip: number;
  flags: number;
  cpl: number;
  seg: Segment[];
  ldtr: Segment;
  tr: Segment;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  cr: bigint[];
  dr: bigint[];
  efer: bigint;
  msr: [number, bigint][];
  blockingBySti: boolean;
  blockingByMovSs: boolean;
  heldDebugTraps: number;
  nmiBlocked: boolean;
  halted: boolean;
  tscOffset: bigint;
}

export class SnapshotStore {
  readonly epochs: Epoch[] = [];
}

export function takeSnapshot(machine: Machine, store: SnapshotStore, extra: SnapshotExtra): MachineSnapshot {
  const c = machine.cpu;
  const mem = machine.mem;
  const epoch: Epoch = { saved: new Map(), valid: true };
  store.epochs.push(epoch);
  mem.capture = epoch.saved;
  const flags = mem.pageFlags;
  for (let p = 0; p < flags.length; p++) flags[p] &= ~PAGE_CAPTURED;
  machine.mmu.dropWritePermissions();
  return {
    icount: c.icount,
    epoch,
    cpu: {
      r: c.r.slice(), F: c.F.slice(), rip: c.rip, flags: c.flags, cpl: c.cpl,
      seg: c.seg.map((s) => ({ ...s })), ldtr: { ...c.ldtr }, tr: { ...c.tr }, gdtr: { ...c.gdtr }, idtr: { ...c.idtr },
      cr: [c.cr0, c.cr2, c.cr3, c.cr4, c.cr8], dr: [...c.dr], efer: c.efer, msr: [...c.msr],
      blockingBySti: c.blockingBySti, blockingByMovSs: c.blockingByMovSs, heldDebugTraps: c.heldDebugTraps, nmiBlocked: c.nmiBlocked, halted: c.halted, tscOffset: c.tscOffset,
    },
    devices: machine.devices.save(),
    traceLength: machine.trace.length,
    extra: { ...extra, extra: structuredClone(extra.extra), vmx: extra.vmx },
  };
}

export function restoreSnapshot(machine: Machine, store: SnapshotStore, snap: MachineSnapshot): SnapshotExtra {
  const target = snap.epoch as Epoch;
  const at = store.epochs.indexOf(target);
  if (at < 0 || !target.valid) throw new Error('restore: this snapshot was discarded by an earlier restore to an older snapshot');
  const mem = machine.mem;
  for (let k = store.epochs.length - 1; k >= at; k--) {
    for (const [page, data] of store.epochs[k].saved) {
      mem.bytes.set(data, page * PAGE_SIZE);
      machine.translator.invalidatePage(page);
    }
  }
  for (const dropped of store.epochs.splice(at + 1)) dropped.valid = false;
  mem.capture = target.saved;
  const flags = mem.pageFlags;
  for (let p = 0; p < flags.length; p++) flags[p] &= ~PAGE_CAPTURED;
  for (const page of target.saved.keys()) flags[page] |= PAGE_CAPTURED;

  const c = machine.cpu;
  const s = snap.cpu;
  // Translations depend on the paging controls; keep them when those are unchanged (time travel
  // restores often), otherwise drop them all.
  const pagingChanged = c.cr0 !== s.cr[0] || c.cr3 !== s.cr[2] || c.cr4 !== s.cr[3] || c.efer !== s.efer;
  c.r.set(s.r);
  c.F.set(s.F);
  c.rip = s.rip;
  c.flags = s.flags;
  c.cpl = s.cpl;
  s.seg.forEach((seg, i) => (c.seg[i] = { ...seg }));
  c.ldtr = { ...s.ldtr };
  c.tr = { ...s.tr };
  c.gdtr = { ...s.gdtr };
  c.idtr = { ...s.idtr };
  [c.cr0, c.cr2, c.cr3, c.cr4, c.cr8] = s.cr;
  s.dr.forEach((v, i) => (c.dr[i] = v));
  c.efer = s.efer;
  c.msr.clear();
  for (const [k, v] of s.msr) c.msr.set(k, v);
  c.blockingBySti = s.blockingBySti;
  c.blockingByMovSs = s.blockingByMovSs;
  c.heldDebugTraps = s.heldDebugTraps;
  c.nmiBlocked = s.nmiBlocked;
  c.halted = s.halted;
  c.tscOffset = s.tscOffset;
  c.icount = snap.icount;
  c.syncPaging();
  c.onDebugRegistersChange();
  if (pagingChanged) machine.translator.flush();
  machine.devices.restore(snap.devices as ReturnType<Machine['devices']['save']>);
  machine.trace.truncateAfter(snap.icount);
  machine.trace.truncate(snap.traceLength);
  return { ...snap.extra, extra: structuredClone(snap.extra.extra), vmx: snap.extra.vmx };
}

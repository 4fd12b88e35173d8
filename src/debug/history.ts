// Time travel (ARCHITECTURE §1 "snapshot.ts"): the machine's snapshots taken every `interval`
// instructions while the debugger runs it; a past instruction count is reached by restoring the
// newest snapshot at or before it and replaying deterministically (the caller replays). When the
// list grows past MAX_SNAPSHOTS, every other snapshot is forgotten and the interval doubles, so a
// long run keeps a bounded list while replay work stays proportional to the interval.
import type { Machine } from '../machine/machine';
import type { MachineSnapshot } from '../machine/snapshot';

export const DEFAULT_SNAPSHOT_INTERVAL = 100_000;
const MAX_SNAPSHOTS = 512;

export class History {
  private snaps: MachineSnapshot[] = [];
  private interval: number;
  /** The earliest reachable instruction count (history starts again when the user edits state). */
  origin = 0;

  constructor(private readonly machine: Machine, private readonly baseInterval = DEFAULT_SNAPSHOT_INTERVAL) {
    this.interval = baseInterval;
    this.reset();
  }

  private furthest = 0;

  /** Forget the past: the current state is the new beginning (after setVariable, writeMemory, goto). */
  reset(): void {
    this.snaps = [this.machine.snapshot()];
    this.origin = this.machine.icount;
    this.furthest = this.origin;
    this.interval = this.baseInterval;
  }

  /** The furthest instruction count reached since the origin (the present, for time travel). */
  get frontier(): number {
    this.furthest = Math.max(this.furthest, this.machine.icount);
    return this.furthest;
  }

  /** Instruction count at which the next snapshot is due. */
  get nextAt(): number {
    return this.snaps[this.snaps.length - 1].icount + this.interval;
  }

  maybeSnapshot(): void {
    this.furthest = Math.max(this.furthest, this.machine.icount);
    if (this.machine.icount < this.nextAt) return;
    this.snaps.push(this.machine.snapshot());
    if (this.snaps.length > MAX_SNAPSHOTS) {
      this.snaps = this.snaps.filter((_, k) => k % 2 === 0 || k === this.snaps.length - 1);
      this.interval *= 2;
    }
  }

  /** Take a snapshot now (time travel leaves one just before where it lands, so the next step back is short). */
  checkpoint(): void {
    if (this.machine.icount > this.snaps[this.snaps.length - 1].icount) this.snaps.push(this.machine.snapshot());
  }

  /** Instruction counts of the snapshots strictly before `icount`, oldest first. */
  checkpointsBefore(icount: number): number[] {
    return this.snaps.filter((s) => s.icount < icount).map((s) => s.icount);
  }

  /** Restore the snapshot taken at checkpoint `k` of `checkpointsBefore` (later snapshots are discarded). */
  restoreCheckpoint(k: number): void {
    this.machine.restore(this.snaps[k]);
    this.snaps.length = k + 1;
  }

  /** Restore the newest snapshot at or before `icount` (≥ origin). */
  restoreAtOrBefore(icount: number): void {
    let k = this.snaps.length - 1;
    while (k > 0 && this.snaps[k].icount > icount) k--;
    this.restoreCheckpoint(k);
  }

  get snapshotCount(): number {
    return this.snaps.length;
  }

  get snapshotInterval(): number {
    return this.interval;
  }
}

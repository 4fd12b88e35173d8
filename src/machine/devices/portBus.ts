// The I/O port bus (ARCHITECTURE §3 "Devices"). A port nobody decodes behaves as on a PC's ISA bus:
// writes vanish and reads float to all ones, so programs written for real machines (which mask the
// 8259 PICs with `out 0x21`/`out 0xA1`) run unchanged.
import type { PortDevice, PortSize } from './types';

/** All ones for an access of `size` bytes (what an undriven bus reads as). */
export function allOnes(size: PortSize): number {
  return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
}

/** A device whose state belongs in machine snapshots. */
export interface SnapshotDevice {
  save(): unknown;
  restore(state: unknown): void;
}

function isSnapshotDevice(device: PortDevice): device is PortDevice & SnapshotDevice {
  const candidate = device as Partial<SnapshotDevice>;
  return typeof candidate.save === 'function' && typeof candidate.restore === 'function';
}

export class PortBus {
  private readonly devices: PortDevice[] = [];

  /** Attach a device; an earlier device wins when two claim the same port. */
  attach(device: PortDevice): void {
    this.devices.push(device);
  }

  /** The device decoding `port`, if any. */
  deviceAt(port: number): PortDevice | undefined {
    for (const device of this.devices) if (device.claims(port)) return device;
    return undefined;
  }

  /** IN: the device's value truncated to `size` bytes, or all ones for an unclaimed port. */
  read(port: number, size: PortSize): number {
    const device = this.deviceAt(port & 0xffff);
    if (device === undefined) return allOnes(size);
    return (device.read(port & 0xffff, size) & allOnes(size)) >>> 0;
  }

  /** OUT: `value` truncated to `size` bytes; ignored for an unclaimed port. */
  write(port: number, size: PortSize, value: number): void {
    this.deviceAt(port & 0xffff)?.write(port & 0xffff, size, (value & allOnes(size)) >>> 0);
  }

  /** Plain data: the state of every attached device that has state, in attach order. */
  save(): unknown[] {
    return this.devices.map((device) => (isSnapshotDevice(device) ? device.save() : null));
  }

  restore(state: unknown): void {
    if (!Array.isArray(state) || state.length !== this.devices.length) {
      throw new Error(`PortBus.restore: expected ${this.devices.length} device states`);
    }
    this.devices.forEach((device, i) => {
      if (isSnapshotDevice(device)) device.restore(state[i]);
    });
  }
}

import { describe, expect, it } from 'vitest';
import { PortBus, allOnes } from '../../../src/machine/devices/portBus';
import type { PortDevice, PortSize } from '../../../src/machine/devices/types';

class Recorder implements PortDevice {
  writes: Array<[number, PortSize, number]> = [];
  constructor(private readonly port: number, private readonly value: number) {}
  claims(port: number): boolean { return port === this.port; }
  read(): number { return this.value; }
  write(port: number, size: PortSize, value: number): void { this.writes.push([port, size, value]); }
}

describe('PortBus', () => {
  it('reads all ones for the access size on an unclaimed port (PIC mask ports included)', () => {
    const bus = new PortBus();
    expect(bus.read(0x21, 1)).toBe(0xff);
    expect(bus.read(0xa1, 2)).toBe(0xffff);
    expect(bus.read(0x80, 4)).toBe(0xffff_ffff);
    expect(allOnes(2)).toBe(0xffff);
  });

  it('ignores writes to unclaimed ports', () => {
    const bus = new PortBus();
    const device = new Recorder(0x60, 0);
    bus.attach(device);
    bus.write(0x21, 1, 0xff);
    bus.write(0xa1, 1, 0xff);
    expect(device.writes).toEqual([]);
  });

  it('routes to the claiming device and truncates values to the access size', () => {
    const bus = new PortBus();
    const device = new Recorder(0x60, 0x1234_5678);
    bus.attach(device);
    expect(bus.read(0x60, 1)).toBe(0x78);
    expect(bus.read(0x60, 2)).toBe(0x5678);
    expect(bus.read(0x60, 4)).toBe(0x1234_5678);
    bus.write(0x60, 1, 0x1ff);
    expect(device.writes).toEqual([[0x60, 1, 0xff]]);
  });

  it('uses the first attached device when two claim a port', () => {
    const bus = new PortBus();
    bus.attach(new Recorder(0x70, 1));
    bus.attach(new Recorder(0x70, 2));
    expect(bus.read(0x70, 1)).toBe(1);
  });

  it('saves and restores the state of stateful devices', () => {
    const bus = new PortBus();
    let state = 5;
    const device = {
      claims: (p: number) => p === 0x70, read: () => state, write: () => {},
      save: () => state, restore: (s: unknown) => { state = s as number; },
    };
    bus.attach(device);
    bus.attach(new Recorder(0x71, 0));
    const saved = bus.save();
    state = 9;
    bus.restore(saved);
    expect(bus.read(0x70, 1)).toBe(5);
    expect(() => bus.restore([])).toThrow(/expected 2 device states/);
  });
});

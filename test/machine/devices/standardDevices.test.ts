import { describe, expect, it } from 'vitest';
import { StandardDevices } from '../../../src/machine/devices/standardDevices';

describe('StandardDevices', () => {
  it('wires COM1 output and the debug exit on the port bus', () => {
    const out: number[] = [];
    const exits: number[] = [];
    const devices = new StandardDevices({ onOutput: (b) => out.push(b), onExit: (c) => exits.push(c) });
    devices.ports.write(0x3f8, 1, 0x41);
    devices.ports.write(0xf4, 1, 3);
    devices.ports.write(0x21, 1, 0xff); // PIC mask: ignored
    expect(out).toEqual([0x41]);
    expect(exits).toEqual([3]);
    expect(devices.ports.read(0xa1, 1)).toBe(0xff);
  });

  it('merges the timer and the interrupt schedule into one next event and one advance', () => {
    const devices = new StandardDevices({ interrupt: { vector: 0x30, every: 100 } });
    const apic = devices.apic;
    apic.writeMsr(0x80f, 0x1ffn, 0);
    expect(devices.nextEventAt()).toBe(100);
    apic.writeMsr(0x832, 0x50n, 0);
    apic.writeMsr(0x83e, 0xbn, 0);
    apic.writeMsr(0x838, 40n, 0);
    expect(devices.nextEventAt()).toBe(40);
    devices.advanceTo(100);
    expect(apic.pendingVector()).toBe(0x50);
    apic.acknowledge(0x50);
    apic.writeMsr(0x80b, 0n, 100);
    expect(apic.pendingVector()).toBe(0x30);
  });

  it('saves and restores all device state as plain data', () => {
    const devices = new StandardDevices({ interrupt: { vector: 0x30, every: 10 } });
    devices.apic.writeMsr(0x80f, 0x1ffn, 0);
    devices.ports.write(0x3ff, 1, 0x5a);
    devices.advanceTo(15);
    const saved = JSON.parse(JSON.stringify(devices.save()));
    devices.ports.write(0x3ff, 1, 0);
    devices.advanceTo(1000);
    devices.restore(saved);
    expect(devices.save()).toEqual(saved);
    expect(devices.ports.read(0x3ff, 1)).toBe(0x5a);
    expect(devices.nextEventAt()).toBe(20);
  });
});

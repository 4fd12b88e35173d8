import { describe, expect, it } from 'vitest';
import { DEBUG_EXIT_PORT, DebugExitDevice } from '../../../src/machine/devices/debugExit';
import { PortBus } from '../../../src/machine/devices/portBus';

describe('DebugExitDevice', () => {
  it('ends the run with the low byte of the value for every access size', () => {
    const codes: number[] = [];
    const bus = new PortBus();
    bus.attach(new DebugExitDevice({ onExit: (c) => codes.push(c) }));
    bus.write(DEBUG_EXIT_PORT, 1, 0x2a);
    bus.write(0xf4, 2, 0x1203);
    bus.write(0xf4, 4, 0xdead_be07);
    expect(codes).toEqual([0x2a, 0x03, 0x07]);
  });

  it('decodes only port 0xF4 and reads as an unclaimed port', () => {
    const device = new DebugExitDevice();
    expect(device.claims(0xf4)).toBe(true);
    expect(device.claims(0xf5)).toBe(false);
    expect(device.read(0xf4, 2)).toBe(0xffff);
  });
});

import { describe, expect, it } from 'vitest';
import { PortBus } from '../../../src/machine/devices/portBus';
import { COM1_BASE, LSR_TEMT, LSR_THRE, Serial16550 } from '../../../src/machine/devices/serial16550';

function com1() {
  const out: number[] = [];
  const serial = new Serial16550({ onOutput: (b) => out.push(b) });
  const bus = new PortBus();
  bus.attach(serial);
  return { serial, bus, out };
}

describe('Serial16550 (COM1)', () => {
  it('decodes 0x3F8–0x3FF only', () => {
    const { serial } = com1();
    expect(COM1_BASE).toBe(0x3f8);
    expect(serial.claims(0x3f7)).toBe(false);
    expect(serial.claims(0x3f8)).toBe(true);
    expect(serial.claims(0x3ff)).toBe(true);
    expect(serial.claims(0x400)).toBe(false);
  });

  it('turns THR writes into program output', () => {
    const { bus, out } = com1();
    for (const ch of 'Hi\n') bus.write(0x3f8, 1, ch.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('Hi\n');
  });

  it('reports the transmitter empty and ready in LSR, no received data', () => {
    const { bus } = com1();
    const lsr = bus.read(0x3fd, 1);
    expect(lsr & LSR_THRE).toBe(0x20);
    expect(lsr & LSR_TEMT).toBe(0x40);
    expect(lsr & 1).toBe(0);
    expect(bus.read(0x3f8, 1)).toBe(0);
  });

  it('reads back IER, LCR, MCR and SCR', () => {
    const { bus } = com1();
    bus.write(0x3f9, 1, 0x0f);
    bus.write(0x3fb, 1, 0x03);
    bus.write(0x3fc, 1, 0x0b);
    bus.write(0x3ff, 1, 0xa5);
    expect([bus.read(0x3f9, 1), bus.read(0x3fb, 1), bus.read(0x3fc, 1), bus.read(0x3ff, 1)]).toEqual([0x0f, 0x03, 0x0b, 0xa5]);
  });

  it('maps the divisor latch over RBR/THR and IER while LCR.DLAB = 1', () => {
    const { bus, out } = com1();
    bus.write(0x3f9, 1, 0x05); // IER
    bus.write(0x3fb, 1, 0x83); // DLAB = 1
    bus.write(0x3f8, 1, 0x01); // DLL: not output
    bus.write(0x3f9, 1, 0x00); // DLM
    expect(out).toEqual([]);
    expect(bus.read(0x3f8, 1)).toBe(0x01);
    expect(bus.read(0x3f9, 1)).toBe(0x00);
    bus.write(0x3fb, 1, 0x03); // DLAB = 0
    expect(bus.read(0x3f9, 1)).toBe(0x05);
    bus.write(0x3f8, 1, 0x41);
    expect(out).toEqual([0x41]);
  });

  it('splits wide accesses into byte accesses at consecutive ports', () => {
    const { bus } = com1();
    bus.write(0x3fe, 2, 0x7700); // MSR (read-only) then SCR = 0x77
    expect(bus.read(0x3ff, 1)).toBe(0x77);
    expect(bus.read(0x3fd, 2)).toBe(0x0060);
    expect(bus.read(0x3ff, 2)).toBe(0xff77); // byte at 0x400 is unclaimed
  });

  it('saves and restores its registers exactly', () => {
    const { serial, bus } = com1();
    bus.write(0x3fb, 1, 0x83);
    bus.write(0x3f8, 1, 0x0c);
    const saved = serial.save();
    bus.write(0x3fb, 1, 0x00);
    bus.write(0x3ff, 1, 0x99);
    serial.restore(saved);
    expect(serial.save()).toEqual(saved);
    expect(bus.read(0x3f8, 1)).toBe(0x0c);
  });
});

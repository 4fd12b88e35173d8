// COM1 as a 16550 UART subset (docs/devices.md). The transmitter is infinitely fast: every THR write
// is program output at once and LSR always reports THRE and TEMT. Nothing is ever received.
// Register map: PC16550D data sheet, table "UART register addresses" (DLAB = LCR bit 7).
import type { PortDevice, PortSize } from './types';

export const COM1_BASE = 0x3f8;

/** LSR bit 5 THRE (transmitter holding register empty) and bit 6 TEMT (transmitter empty). */
export const LSR_THRE = 1 << 5;
export const LSR_TEMT = 1 << 6;
const LCR_DLAB = 1 << 7;
/** IIR with FIFOs disabled and no interrupt pending (bit 0 = 1 means "none"). */
const IIR_NONE = 0x01;

export interface SerialOptions {
  /** Base port (default COM1, 0x3F8); the UART decodes base..base+7. */
  base?: number;
  /** Called with every byte the program writes to the transmitter holding register. */
  onOutput?: (byte: number) => void;
}

export interface SerialState {
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  fcr: number;
}

export class Serial16550 implements PortDevice {
  readonly base: number;
  private readonly onOutput: (byte: number) => void;
  private state: SerialState = { ier: 0, lcr: 0, mcr: 0, scr: 0, dll: 0, dlm: 0, fcr: 0 };

  constructor(options: SerialOptions = {}) {
    this.base = options.base ?? COM1_BASE;
    this.onOutput = options.onOutput ?? (() => {});
  }

  claims(port: number): boolean {
    return port >= this.base && port < this.base + 8;
  }

  // A 16/32-bit access to an 8-bit device is split into byte accesses at consecutive ports, as the
  // PC's bus does; bytes beyond the UART's eight ports read as all ones.
  read(port: number, size: PortSize): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) {
      value = value * 256 + (this.claims(port + i) ? this.readByte(port + i - this.base) : 0xff);
    }
    return value >>> 0;
  }

  write(port: number, size: PortSize, value: number): void {
    for (let i = 0; i < size; i++) {
      if (this.claims(port + i)) this.writeByte(port + i - this.base, (value >>> (8 * i)) & 0xff);
    }
  }

  private get dlab(): boolean {
    return (this.state.lcr & LCR_DLAB) !== 0;
  }

  private readByte(offset: number): number {
    const s = this.state;
    switch (offset) {
      case 0: return this.dlab ? s.dll : 0; // RBR: nothing received
      case 1: return this.dlab ? s.dlm : s.ier;
      case 2: return IIR_NONE;
      case 3: return s.lcr;
      case 4: return s.mcr;
      case 5: return LSR_THRE | LSR_TEMT; // data ready (bit 0) stays 0
      case 6: return 0; // MSR: no modem lines
      default: return s.scr;
    }
  }

  private writeByte(offset: number, byte: number): void {
    const s = this.state;
    switch (offset) {
      case 0:
        if (this.dlab) s.dll = byte;
        else this.onOutput(byte);
        return;
      case 1:
        if (this.dlab) s.dlm = byte;
        else s.ier = byte & 0x0f; // IER bits 7:4 are always 0 on a 16550
        return;
      case 2: s.fcr = byte; return; // FCR is write-only; IIR reads are unaffected (no FIFOs)
      case 3: s.lcr = byte; return;
      case 4: s.mcr = byte & 0x1f; // MCR bits 7:5 are always 0
        return;
      case 5: case 6: return; // LSR and MSR are read-only (factory test writes are ignored)
      default: s.scr = byte;
    }
  }

  save(): SerialState {
    return { ...this.state };
  }

  restore(state: unknown): void {
    this.state = { ...(state as SerialState) };
  }
}

// The debug-exit port (QEMU's isa-debug-exit idea): `out 0xf4, al` ends the run. The exit code is the
// low byte of the value written, whatever the access size, so `out 0xf4, al`, `out dx, ax` and
// `out dx, eax` with the same AL end the same way. Reads decode as an unclaimed port (all ones).
import { allOnes } from './portBus';
import type { PortDevice, PortSize } from './types';

export const DEBUG_EXIT_PORT = 0xf4;

export interface DebugExitOptions {
  port?: number;
  /** Called with the exit code (0–255); the machine stops with reason 'debugExit'. */
  onExit?: (code: number) => void;
}

export class DebugExitDevice implements PortDevice {
  readonly port: number;
  private readonly onExit: (code: number) => void;

  constructor(options: DebugExitOptions = {}) {
    this.port = options.port ?? DEBUG_EXIT_PORT;
    this.onExit = options.onExit ?? (() => {});
  }

  claims(port: number): boolean {
    return port === this.port;
  }

  read(_port: number, size: PortSize): number {
    return allOnes(size);
  }

  write(_port: number, _size: PortSize, value: number): void {
    this.onExit(value & 0xff);
  }
}

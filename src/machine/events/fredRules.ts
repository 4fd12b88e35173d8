// Far-transfer restrictions while CR4.FRED = 1 (fred-architecture.md §1.3; SDM IRET and RET "Operation",
// Bochs iret.cc/ret_far.cc/call_far.cc/jmp_far.cc): IRET and far RET cannot change privilege, nothing
// may enter compatibility mode at CPL 0, and call gates are gone. The executors of those instructions
// call these checks; each is a no-op when FRED is off.
import type { Cpu } from '../cpu/cpu';
import { CpuFault, GP } from './fault';

const CR4_FRED = 1n << 32n;

/** IRET / far RET to `csSel` (target CS.L = `targetLong`): #GP(selector) under FRED when forbidden. */
export function checkFredFarReturn(c: Cpu, what: 'IRET' | 'RET far', csSel: number, targetLong: boolean): void {
  if ((c.cr4 & CR4_FRED) === 0n) return;
  if ((csSel & 3) > c.cpl) throw new CpuFault(GP, csSel & 0xfffc, undefined, `${what} to RPL ${csSel & 3} from CPL ${c.cpl}: no privilege change under FRED`);
  if (c.cpl === 0 && !targetLong) throw new CpuFault(GP, csSel & 0xfffc, undefined, `${what} to a CS with L = 0 at CPL 0: no compatibility mode at CPL 0 under FRED`);
}

/** Far CALL / JMP through a call gate: #GP(gate selector) under FRED. */
export function checkFredCallGate(c: Cpu, gateSel: number): void {
  if ((c.cr4 & CR4_FRED) !== 0n) throw new CpuFault(GP, gateSel & 0xfffc, undefined, 'call gates do not exist under FRED');
}

/** Any load of a DPL-0 code segment with L = 0 in IA-32e mode under FRED: #GP(selector). */
export function checkFredCodeLoad(c: Cpu, csSel: number, dpl: number, long: boolean): void {
  if ((c.cr4 & CR4_FRED) !== 0n && dpl === 0 && !long) throw new CpuFault(GP, csSel & 0xfffc, undefined, 'cannot enter compatibility mode with CPL 0 under FRED');
}

// Register names (NASM spelling, case-insensitive) → iced-x86 Register and its class.
import { Register } from './iced';

export type RegisterClass = 'gpr8' | 'gpr16' | 'gpr32' | 'gpr64' | 'seg' | 'cr' | 'dr' | 'rip';

export interface RegisterInfo {
  readonly reg: Register;
  readonly cls: RegisterClass;
  /** Width in bytes (GPRs), 0 otherwise. */
  readonly size: number;
}

const table = new Map<string, RegisterInfo>();

function add(name: string, reg: Register, cls: RegisterClass, size: number): void {
  table.set(name.toLowerCase(), { reg, cls, size });
}

const legacy8 = ['AL', 'CL', 'DL', 'BL', 'AH', 'CH', 'DH', 'BH', 'SPL', 'BPL', 'SIL', 'DIL'];
const base16 = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI'];
for (const n of legacy8) add(n, Register[n as keyof typeof Register] as Register, 'gpr8', 1);
for (const n of base16) {
  add(n, Register[n as keyof typeof Register] as Register, 'gpr16', 2);
  add(`E${n}`, Register[`E${n}` as keyof typeof Register] as Register, 'gpr32', 4);
  add(`R${n}`, Register[`R${n}` as keyof typeof Register] as Register, 'gpr64', 8);
}
for (let i = 8; i < 16; i++) {
  // NASM spells the low byte r8b (and accepts r8l); iced calls it R8L.
  add(`r${i}b`, Register[`R${i}L` as keyof typeof Register] as Register, 'gpr8', 1);
  add(`r${i}l`, Register[`R${i}L` as keyof typeof Register] as Register, 'gpr8', 1);
  add(`r${i}w`, Register[`R${i}W` as keyof typeof Register] as Register, 'gpr16', 2);
  add(`r${i}d`, Register[`R${i}D` as keyof typeof Register] as Register, 'gpr32', 4);
  add(`r${i}`, Register[`R${i}` as keyof typeof Register] as Register, 'gpr64', 8);
}
for (const n of ['ES', 'CS', 'SS', 'DS', 'FS', 'GS']) add(n, Register[n as keyof typeof Register] as Register, 'seg', 0);
for (let i = 0; i < 16; i++) {
  add(`cr${i}`, Register[`CR${i}` as keyof typeof Register] as Register, 'cr', 0);
  add(`dr${i}`, Register[`DR${i}` as keyof typeof Register] as Register, 'dr', 0);
}
add('rip', Register.RIP, 'rip', 8);

/** Registers by number (names of one register, such as r8b and r8l, have the same information). */
const byRegister = new Map<Register, RegisterInfo>();
for (const info of table.values()) byRegister.set(info.reg, info);

/** The information of a register by its number, or undefined (not a register of this table). */
export function registerInfo(reg: Register): RegisterInfo | undefined {
  return byRegister.get(reg);
}

/** Registers by their lower-cased name packed into a number (names have at most 4 characters). */
const byKey = new Map<number, RegisterInfo>();
for (const [name, info] of table) byKey.set(nameKey(name, 0, name.length), info);

function nameKey(text: string, start: number, end: number): number {
  let key = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    key = key * 128 + (c >= 65 && c <= 90 ? c + 32 : c);
  }
  return key;
}

/** The register named by `text[start..end)` (any case), or undefined: no slice of the line needed. */
export function registerAt(text: string, start: number, end: number): RegisterInfo | undefined {
  return end - start >= 2 && end - start <= 4 ? byKey.get(nameKey(text, start, end)) : undefined;
}

/** The register named `lowerName` (already lower-case), or undefined. */
export function lookupRegister(lowerName: string): RegisterInfo | undefined {
  return table.get(lowerName);
}

export function isRegisterName(name: string): boolean {
  return table.has(name.toLowerCase());
}

/** AH, CH, DH, BH cannot be encoded in an instruction that has a REX prefix. */
export function isHighByte(reg: Register): boolean {
  return reg === Register.AH || reg === Register.CH || reg === Register.DH || reg === Register.BH;
}

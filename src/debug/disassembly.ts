// Disassembly for the `disassemble` request and for stepping decisions (is this a CALL? a RET?):
// iced-x86 decodes guest memory as the machine sees it; the NASM formatter prints it; the assembler's
// source map gives each instruction its file:line.
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Mnemonic } from 'iced-x86';
import type { Machine } from '../machine/machine';
import type { SourceMap } from '../asm/index';

export interface DecodedAt {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  /** NASM syntax, or `(bad)` / `(unmapped)`. */
  text: string;
  mnemonic: Mnemonic | undefined;
}

const MAX_INSN = 15;

let formatter: Formatter | undefined;
function nasm(): Formatter {
  if (!formatter) {
    formatter = new Formatter(FormatterSyntax.Nasm);
    formatter.firstOperandCharIndex = 8;
  }
  return formatter;
}

/** Readable prefix of [address, address + length): stops at the first unmapped byte. */
export function readPrefix(machine: Machine, address: bigint, length: number): Uint8Array {
  const r = machine.tryReadMemory(address, length);
  if (r.ok) return r.bytes;
  const readable = Number(r.address - address);
  if (readable <= 0) return new Uint8Array(0);
  const again = machine.tryReadMemory(address, readable);
  return again.ok ? again.bytes : new Uint8Array(0);
}

/** Decode `count` instructions starting at `address` (an unmapped or undecodable byte is a 1-byte entry). */
export function decodeRange(machine: Machine, address: bigint, count: number): DecodedAt[] {
  const out: DecodedAt[] = [];
  let at = BigInt.asUintN(64, address);
  while (out.length < count) {
    const requested = MAX_INSN * Math.min(count - out.length, 64);
    const bytes = readPrefix(machine, at, requested);
    if (bytes.length === 0) {
      out.push({ address: at, length: 1, bytes, text: '(unmapped)', mnemonic: undefined });
      at = BigInt.asUintN(64, at + 1n);
      continue;
    }
    const decoder = new Decoder(64, bytes, DecoderOptions.None);
    decoder.ip = at;
    try {
      while (out.length < count && decoder.canDecode) {
        const offset = Number(decoder.position);
        const insn = decoder.decode();
        try {
          // An instruction cut off by the end of the readable bytes is decoded again from a fresh read.
          if (insn.isInvalid && offset > 0 && offset + MAX_INSN > bytes.length && bytes.length === requested) break;
          const length = insn.isInvalid ? 1 : insn.length;
          const own = bytes.slice(offset, offset + length);
          out.push({
            address: at, length, bytes: own,
            text: insn.isInvalid ? `(bad) db 0x${own[0].toString(16).padStart(2, '0')}` : nasm().format(insn),
            mnemonic: insn.isInvalid ? undefined : insn.mnemonic,
          });
          at = BigInt.asUintN(64, at + BigInt(length));
          if (insn.isInvalid) {
            decoder.position = offset + 1;
            decoder.ip = at;
          }
        } finally {
          insn.free();
        }
      }
    } finally {
      decoder.free();
    }
  }
  return out;
}

export function decodeAt(machine: Machine, address: bigint): DecodedAt {
  return decodeRange(machine, address, 1)[0];
}

/** CALL and the instructions that raise an event and come back after it (`next` steps over them). */
export function stepsOver(d: DecodedAt): boolean {
  switch (d.mnemonic) {
    case Mnemonic.Call: case Mnemonic.Int: case Mnemonic.Int3: case Mnemonic.Int1: case Mnemonic.Into:
    case Mnemonic.Syscall: case Mnemonic.Sysenter:
      return true;
    default:
      return false;
  }
}

export function isNearReturn(d: DecodedAt): boolean {
  return d.mnemonic === Mnemonic.Ret;
}

/**
 * Instructions around `reference` + `offset` instructions: going backwards, decoding restarts from the
 * nearest source-map statement boundary so instructions line up with what the assembler emitted.
 */
export function disassembleAround(machine: Machine, sourceMap: SourceMap, reference: bigint, offset: number, count: number): DecodedAt[] {
  let start = reference;
  if (offset < 0) {
    const back = BigInt(-offset * MAX_INSN);
    const from = reference > back ? reference - back : 0n;
    const sync = sourceMap.addressToLocation(from)?.address ?? from;
    const starts = decodeRange(machine, sync, -offset * MAX_INSN + 1).filter((d) => d.address < reference);
    const aligned = starts.length > 0 && starts[starts.length - 1].address + BigInt(starts[starts.length - 1].length) === reference;
    const before = aligned ? starts.slice(Math.max(0, starts.length + offset)) : [];
    const missing = -offset - before.length;
    const padding: DecodedAt[] = Array.from({ length: missing }, (_, k) => ({
      address: BigInt.asUintN(64, reference - BigInt(missing - k)), length: 1, bytes: new Uint8Array(0), text: '(unknown)', mnemonic: undefined,
    }));
    const rest = decodeRange(machine, reference, Math.max(0, count + offset));
    return [...padding, ...before, ...rest].slice(0, count);
  }
  if (offset > 0) {
    const skip = decodeRange(machine, reference, offset);
    const last = skip[skip.length - 1];
    start = BigInt.asUintN(64, last.address + BigInt(last.length));
  }
  return decodeRange(machine, start, count);
}

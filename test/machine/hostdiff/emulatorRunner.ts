// Runs the differential cases on the emulator: every distinct instruction of a chunk gets one slot in
// one image (the instruction, then HLT), and one machine runs the cases one after another, each with
// its own registers and flags; cases sharing an encoding share the slot and so its translation.
// HLT with IF = 0 ends a case ('halted').
import { createMachine, type Machine } from '../../../src/machine/machine';
import type { CaseResult, HostStatus, MachineCase } from './hostHarness';
import { ARITHMETIC_FLAGS } from './hostHarness';

const ORG = 0x100000n;
const SLOT = 32;
const HLT = 0xf4;
/** Distinct encodings per machine. */
const CHUNK = 8192;

export interface EmulatorResult extends CaseResult {
  /** The stop reason and message when the case did not end at its HLT. */
  detail?: string;
}

function loadImage(codes: readonly Uint8Array[]): Machine {
  const bytes = new Uint8Array(codes.length * SLOT).fill(HLT);
  codes.forEach((code, i) => bytes.set(code, i * SLOT));
  return createMachine({ sections: [{ address: ORG, bytes, size: bytes.length, user: false, writable: false, executable: true }], entry: ORG });
}

export function runOnEmulator(cases: readonly MachineCase[]): EmulatorResult[] {
  const results: EmulatorResult[] = [];
  let start = 0;
  while (start < cases.length) {
    // Take cases until CHUNK distinct encodings are collected.
    const slots = new Map<string, number>();
    const codes: Uint8Array[] = [];
    let end = start;
    for (; end < cases.length; end++) {
      const key = Buffer.from(cases[end]!.code).toString('hex');
      if (!slots.has(key)) {
        if (codes.length === CHUNK) break;
        slots.set(key, codes.length);
        codes.push(cases[end]!.code);
      }
    }
    const machine = loadImage(codes);
    const boot = machine.snapshot();
    const rsp = machine.getGpr(4);
    let clean = true;
    for (let i = start; i < end; i++) {
      const c = cases[i]!;
      if (!clean) machine.restore(boot);
      for (let r = 0; r < 16; r++) machine.setGpr(r, r === 4 ? rsp : BigInt.asUintN(64, c.regs[r] ?? 0n));
      machine.setRflags(0x2n | (c.rflags & ARITHMETIC_FLAGS));
      const slot = ORG + BigInt(slots.get(Buffer.from(c.code).toString('hex'))! * SLOT);
      machine.setRip(slot);
      // The instruction and the HLT retire; a third instruction of budget lets the run loop see HLT.
      const stop = machine.run(3);
      const regs = Array.from({ length: 16 }, (_, r) => (r === 4 ? c.regs[4] ?? 0n : BigInt.asUintN(64, machine.getGpr(r))));
      const rflags = machine.getRflags() & ARITHMETIC_FLAGS;
      clean = stop.reason === 'halted' && machine.getRip() === slot + BigInt(c.code.length) + 1n;
      let status: HostStatus = 'ok';
      if (!clean) status = stop.reason === 'shutdown' && /#DE\b/.test(stop.message) ? 'DE' : 'fault';
      results.push({ regs, rflags, status, detail: clean ? undefined : `${stop.reason}: ${stop.message}` });
    }
    start = end;
  }
  return results;
}

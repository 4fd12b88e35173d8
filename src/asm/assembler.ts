// The assembler proper: layout passes to a fixpoint (branch sizes only grow, so it terminates), then one
// emitting pass that evaluates every expression, encodes every instruction and records the source map
// and listing. Errors are reported per statement and the run goes on.
import { Register } from './iced';
import { assemblerConstants } from '../arch/index';
import { encode, selectForm, type Resolved } from './encoder';
import { AsmError } from './errors';
import { evaluate, type EvalContext, type Expr, type Value } from './expression';
import type { Form } from './forms';
import { nasmMovImmediate, nasmRegisterSize, nasmXchg } from './nasmChoices';
import type { MemOperand, Operand } from './operands';
import { hasSymbol, parseProgram, type ListingRow, type SectionDeclaration } from './parser';
import type { SourceMapEntry } from './sourceMap';
import type { InstructionStatement, Loc, Statement } from './statements';
import type { Diagnostic, ImageSection } from './types';

const PAGE = 4096n;
/** Size of a relative branch form without prefixes (it does not depend on the target). */
const BRANCH_SIZES = new Map<Form, number>();
const MAX_PASSES = 40;
const MAX_TIMES = 1 << 24;
const MAX_SECTION_BYTES = 1 << 28;

interface SymbolEntry {
  readonly kind: 'label' | 'equ';
  readonly loc: Loc;
  value: Value | undefined;
  /** Labels: section and offset (the value follows the section when layout moves it). */
  section?: SectionState;
  offset?: number;
  /** The layout pass that last defined the label. */
  pass?: number;
  /** Being evaluated (catches `a equ a + 1`). */
  busy: boolean;
}

interface SectionState {
  readonly decl: SectionDeclaration;
  base: bigint;
  /** Current offset (during a pass) and final size. */
  offset: number;
  size: number;
  initEnd: number;
  bytes: Uint8Array;
  readonly nobits: boolean;
  readonly executable: boolean;
  readonly writable: boolean;
  readonly user: boolean;
}

/** One emitted statement: its source-map entry, listing row and bytes (undefined for reserved space). */
export interface Emitted extends SourceMapEntry {
  readonly row: number;
  readonly bytes: Uint8Array | undefined;
}

export interface AssemblerOutput {
  readonly diagnostics: Diagnostic[];
  readonly sections: ImageSection[];
  readonly symbols: Map<string, bigint>;
  readonly entry: bigint;
  readonly rows: readonly ListingRow[];
  readonly emitted: Emitted[];
}

export class Assembler implements EvalContext {
  final = false;
  private readonly diagnostics: Diagnostic[];
  private readonly statements: Statement[];
  private readonly rows: ListingRow[];
  private readonly symbols = new Map<string, SymbolEntry>();
  private readonly sections: SectionState[];
  private origin: bigint;
  /** Offset of the current statement in its section; `here` is its address (computed only when used). */
  private hereOffset = 0;
  private hereSection: SectionState | undefined;
  private get here(): bigint {
    const sec = this.hereSection;
    return sec ? sec.base + BigInt(this.hereOffset) : this.origin;
  }
  private section: SectionState | undefined;
  private changed = false;
  private pass = 0;
  /** Offset of each statement in the previous pass, and how far the current statement moved since. */
  private previousOffsets: Int32Array = new Int32Array(0);
  private shift = 0;
  private readonly emitted: Emitted[] = [];

  constructor(source: string, file: string, options: { readFile?: (path: string) => string | undefined; org?: bigint }) {
    const parsed = parseProgram(source, file, options);
    this.diagnostics = parsed.diagnostics;
    this.statements = parsed.statements;
    this.rows = parsed.rows;
    this.origin = options.org ?? 0x100000n;
    this.sections = parsed.sections.map((decl) => sectionState(decl));
    this.defineSymbols();
  }

  run(): AssemblerOutput {
    this.precomputeFixed();
    this.placeSections();
    let pass = 0;
    do {
      this.changed = false;
      this.walk(false);
      this.placeSections();
    } while (this.changed && ++pass < MAX_PASSES);
    if (this.changed) {
      const first = this.statements[0]?.loc ?? { file: '', line: 1, start: 0, end: 0, row: 0 };
      this.report('error', `layout did not settle after ${MAX_PASSES} passes (an expression depends on its own size?)`, first);
    }
    this.final = true;
    for (const s of this.sections) s.bytes = new Uint8Array(0);
    this.walk(true);
    this.checkOverlaps();
    return {
      diagnostics: this.diagnostics,
      sections: this.sections.map((s) => ({
        name: s.decl.name, address: s.base, bytes: s.bytes.slice(0, s.initEnd), size: s.size,
        user: s.user, writable: s.writable, executable: s.executable,
      })),
      symbols: this.symbolTable(),
      entry: this.entry(),
      rows: this.rows,
      emitted: this.emitted,
    };
  }

  // --- symbols ------------------------------------------------------------------------------------

  private defineSymbols(): void {
    for (const s of this.statements) {
      if (s.k !== 'label' && s.k !== 'equ') continue;
      if (assemblerConstants.has(s.name)) {
        this.report('error', `'${s.name}' is a built-in constant (${hex(assemblerConstants.get(s.name)!)}) and cannot be redefined`, s.loc);
        continue;
      }
      const previous = this.symbols.get(s.name);
      if (previous) {
        this.report('error', `'${s.name}' is already defined at ${previous.loc.file}:${previous.loc.line}`, s.loc);
        continue;
      }
      this.symbols.set(s.name, { kind: s.k, loc: s.loc, value: undefined, busy: false });
    }
  }

  lookup(name: string, node: Expr): Value | undefined {
    if (name === '$') return { value: this.here, reloc: 1, unknown: false };
    if (name === '$$') return { value: this.section?.base ?? this.origin, reloc: 1, unknown: false };
    const sym = this.symbols.get(name);
    if (sym) {
      if (sym.busy) throw new AsmError(`'${name}' is defined in terms of itself`, node.start, node.end);
      if (this.final && sym.value?.unknown) throw new AsmError(`'${name}' cannot be resolved (circular definition?)`, node.start, node.end);
      if (sym.section && sym.value) {
        // A label not reached yet in this pass moves by at least as much as the current statement has
        // (sizes only grow): estimating it so makes layout settle in a few passes instead of dozens.
        const shift = sym.pass !== this.pass && sym.section === this.section ? this.shift : 0;
        return { value: sym.section.base + BigInt(sym.offset! + shift), reloc: 1, unknown: false };
      }
      return sym.value;
    }
    const builtin = assemblerConstants.get(name);
    if (builtin !== undefined) return { value: BigInt.asIntN(64, builtin), reloc: 0, unknown: false };
    return undefined;
  }

  /**
   * A label that moves does not by itself need another pass: it moves because a size changed (which
   * already asks for one). Once a pass changes no size, every value it used was final.
   */
  private setSymbol(name: string, value: Value, label: boolean): void {
    const sym = this.symbols.get(name);
    if (!sym) return;
    const old = sym.value;
    if (!label && (!old || old.value !== value.value || old.unknown !== value.unknown || old.reloc !== value.reloc)) this.changed = true;
    sym.value = value;
  }

  private symbolTable(): Map<string, bigint> {
    const table = new Map<string, bigint>();
    for (const [name, sym] of this.symbols) {
      if (!sym.value || sym.value.unknown) continue;
      table.set(name, sym.kind === 'label' ? labelAddress(sym) : sym.value.value);
    }
    return table;
  }

  private entry(): bigint {
    const start = this.symbols.get('_start');
    if (start?.kind === 'label' && start.value) return labelAddress(start);
    return this.sections[0]?.base ?? this.origin;
  }

  // --- diagnostics --------------------------------------------------------------------------------

  private report(severity: 'error' | 'warning', message: string, loc: Loc, start = loc.start, end = loc.end): void {
    this.diagnostics.push({ severity, message, file: loc.file, line: loc.line, column: start + 1, endLine: loc.line, endColumn: Math.max(end, start + 1) + 1 });
  }

  private eval(e: Expr): Value {
    return evaluate(e, this);
  }

  // --- passes -------------------------------------------------------------------------------------

  /** Instructions without symbols or relative operands are encoded once, before layout. */
  private precomputeFixed(): void {
    const memos = new Map<number, Map<string, Uint8Array>>();
    for (const s of this.statements) {
      if (s.k !== 'instr' || s.times || !isFixed(s)) continue;
      let memo = memos.get(s.generation);
      if (!memo) memos.set(s.generation, (memo = new Map()));
      const known = memo.get(s.text);
      if (known) {
        s.fixed = known;
        continue;
      }
      try {
        const values = s.ops.map((op) => this.operandValue(op));
        const { form, ops } = choose(s, values);
        s.fixed = encode(form, ops, { values, ripRelative: NOT_RIP_RELATIVE }, s.prefixes, 0n, s.loc.start, s.loc.end);
        memo.set(s.text, s.fixed);
      } catch {
        // Reported (with its position) by the emitting pass.
      }
    }
  }

  private walk(emit: boolean): void {
    for (const s of this.sections) (s.offset = 0), (s.size = 0);
    this.section = undefined;
    this.pass++;
    let originSeen = false;
    const statements = this.statements;
    if (this.previousOffsets.length !== statements.length) this.previousOffsets = new Int32Array(statements.length);
    const previous = this.previousOffsets;
    for (let i = 0; i < statements.length; i++) {
      const s = statements[i];
      if (s.k === 'section') {
        this.section = this.sections[s.index];
        continue;
      }
      const sec = this.section;
      const offset = sec ? sec.offset : 0;
      this.shift = Math.max(0, offset - previous[i]);
      previous[i] = offset;
      // Fast path for layout: statements whose size is known without evaluating anything.
      if (!emit && sec && (s.k === 'instr' || s.k === 'data') && !s.times) {
        const size = s.k === 'data' ? (s.one ??= dataSize(s.items, s.unit)) : s.fixed ? s.fixed.length : s.layoutSize;
        if (size >= 0) {
          if (s.size !== size) (s.size = size), (this.changed = true);
          sec.offset += size;
          if (sec.offset > sec.size) sec.size = sec.offset;
          continue;
        }
      }
      this.hereSection = sec;
      this.hereOffset = offset;
      try {
        switch (s.k) {
          case 'label': {
            const sym = this.symbols.get(s.name);
            if (sym?.loc !== s.loc) break; // a duplicate definition (reported once)
            this.setSymbol(s.name, LABEL_VALUE, true);
            (sym.section = sec), (sym.offset = sec?.offset ?? 0), (sym.pass = this.pass);
            break;
          }
          case 'equ':
            if (this.symbols.get(s.name)?.loc === s.loc) this.equ(s.name, s.expr);
            break;
          case 'org':
            if (originSeen && emit) throw new AsmError('org may be given only once', s.loc.start, s.loc.end);
            originSeen = true;
            this.org(s.expr);
            break;
          default:
            this.sized(s, sec!, emit);
        }
      } catch (error) {
        if (!(error instanceof AsmError)) throw error;
        if (emit) this.report('error', error.message, s.loc, error.start, error.end);
      }
    }
  }

  private equ(name: string, expr: Expr): void {
    const sym = this.symbols.get(name);
    if (!sym || sym.kind !== 'equ') return;
    sym.busy = true;
    try {
      this.setSymbol(name, this.eval(expr), false);
    } finally {
      sym.busy = false;
    }
  }

  private org(expr: Expr): void {
    const v = this.eval(expr);
    if (v.reloc) throw new AsmError('org needs a constant address', expr.start, expr.end);
    if (v.unknown) return;
    // Like NASM's bin format, `org` sets the origin of the whole image wherever it appears.
    const origin = BigInt.asUintN(64, v.value);
    if (origin !== this.origin) this.changed = true;
    this.origin = origin;
  }

  private sized(s: Exclude<Statement, { k: 'label' | 'equ' | 'org' | 'section' }>, sec: SectionState, emit: boolean): void {
    const start = sec.offset;
    let size = 0;
    let bytes: Uint8Array | undefined;
    switch (s.k) {
      case 'instr': {
        const times = this.times(s.times);
        if (emit) {
          bytes = this.emitInstruction(s, times);
          size = bytes.length;
        } else size = this.instructionSize(s) * times;
        break;
      }
      case 'data': {
        const times = this.times(s.times);
        const one = (s.one ??= dataSize(s.items, s.unit));
        size = one * times;
        if (emit) bytes = this.emitData(s.items, s.unit, one, times);
        break;
      }
      case 'res': {
        const times = this.times(s.times);
        const count = this.eval(s.count);
        if (count.unknown) break;
        if (count.value < 0n || count.value > BigInt(MAX_SECTION_BYTES)) throw new AsmError(`invalid reserve count ${count.value}`, s.count.start, s.count.end);
        size = Number(count.value) * s.unit * times;
        break;
      }
      case 'align': {
        const b = this.eval(s.boundary);
        if (b.unknown) break;
        const n = b.value;
        if (n <= 0n || (n & (n - 1n)) !== 0n) throw new AsmError(`align needs a power of two, not ${n}`, s.boundary.start, s.boundary.end);
        size = Number((n - (this.here % n)) % n);
        if (emit && !s.reserve && !sec.nobits) bytes = new Uint8Array(size).fill(sec.executable ? 0x90 : 0);
        break;
      }
    }
    if (!emit && 'size' in s && s.size !== size) {
      s.size = size;
      this.changed = true;
    }
    if (sec.offset + size > MAX_SECTION_BYTES) throw new AsmError(`section '${sec.decl.name}' grows past ${MAX_SECTION_BYTES} bytes`, s.loc.start, s.loc.end);
    sec.offset += size;
    if (sec.offset > sec.size) sec.size = sec.offset;
    if (!emit) return;
    if (bytes && bytes.length) {
      if (sec.nobits) {
        this.report('warning', `initialised data in nobits section '${sec.decl.name}' is ignored`, s.loc);
        bytes = undefined;
      } else {
        if (start + bytes.length > sec.bytes.length) {
          // Grow on demand: reserved space that is never written costs no memory.
          const grown = new Uint8Array(Math.max(start + bytes.length, sec.bytes.length * 2, 256));
          grown.set(sec.bytes);
          sec.bytes = grown;
        }
        sec.bytes.set(bytes, start);
        if (start + bytes.length > sec.initEnd) sec.initEnd = start + bytes.length;
      }
    }
    if (size > 0) {
      this.emitted.push({ address: this.here, size, file: s.loc.file, line: s.loc.line, column: s.loc.start + 1, row: s.loc.row, bytes });
    }
  }

  private times(e: Expr | undefined): number {
    if (!e) return 1;
    const v = this.eval(e);
    if (v.unknown) return 0;
    if (v.value < 0n) throw new AsmError(`times count is negative (${v.value})`, e.start, e.end);
    if (v.value > BigInt(MAX_TIMES)) throw new AsmError(`times count ${v.value} is too large`, e.start, e.end);
    return Number(v.value);
  }

  // --- instructions -------------------------------------------------------------------------------

  private operandValue(op: Operand): Value | undefined {
    if (op.t === 'imm') return this.eval(op.expr);
    if (op.t === 'mem' && op.disp) return this.eval(op.disp);
    return undefined;
  }

  private isRipRelative(op: Operand): boolean {
    if (op.t !== 'mem') return false;
    if (op.base === Register.RIP) return true;
    if (op.rel && (op.base !== Register.None || op.index !== Register.None)) throw new AsmError("'rel' needs an address without registers", op.start, op.end);
    return op.rel === true;
  }

  /** Layout: the size of one repetition, with placeholder values where only the value (not the size) is unknown. */
  private instructionSize(s: InstructionStatement): number {
    if (s.fixed) return s.fixed.length;
    const branch = s.ops.length === 1 ? this.branchForm(s, [this.operandValue(s.ops[0])]) : undefined;
    if (branch) {
      if (branch.final) s.layoutSize = branch.size;
      return branch.size;
    }
    const values: (Value | undefined)[] = [];
    const rip: boolean[] = [];
    // Final when every operand value is known and address-dependent (then only its kind, not its value,
    // decides the size, and the kind of an expression does not change between passes).
    let final = true;
    for (const op of s.ops) {
      let v = this.operandValue(op);
      const r = this.isRipRelative(op);
      // The size of an address-dependent operand does not depend on its value: keep cache keys stable.
      if (r) v = { value: this.here, reloc: 1, unknown: false };
      else if (v?.reloc) v = { value: 0n, reloc: v.reloc, unknown: v.unknown };
      if (v && (v.unknown || !v.reloc)) final = false;
      values.push(v);
      rip.push(r);
    }
    // The size only changes when a value (or its kind) changes: skip selection and encoding otherwise.
    if (s.sizedWith && sameValues(s.sizedWith.values, values)) return s.sizedWith.size;
    const { form, ops } = choose(s, values);
    const size = encode(form, ops, { values, ripRelative: rip }, s.prefixes, this.here, s.loc.start, s.loc.end).length;
    s.sizedWith = { values, size };
    if (final) s.layoutSize = size;
    return size;
  }

  /** Jumps, calls and loops: the short form while the target is in range, else (sticky) the near form. */
  private branchForm(s: InstructionStatement, values: (Value | undefined)[]): { form: Form; size: number; final: boolean } | undefined {
    if (s.ops.length !== 1 || s.ops[0].t !== 'imm' || !values[0]) return undefined;
    const op = s.ops[0];
    const short = s.forms.find((f) => f.branch === 1);
    const near = s.forms.find((f) => f.branch === 4);
    if (!short && !near) return undefined;
    const target = values[0]!;
    const sizeOf = (form: Form): number => {
      const plain = !s.prefixes.lock && !s.prefixes.rep;
      const known = plain ? BRANCH_SIZES.get(form) : undefined;
      if (known !== undefined) return known;
      const n = encode(form, s.ops, { values: [{ value: this.here, reloc: 1, unknown: false }], ripRelative: [false] }, s.prefixes, this.here, s.loc.start, s.loc.end).length;
      if (plain) BRANCH_SIZES.set(form, n);
      return n;
    };
    if (op.distance === 'short' && !short) throw new AsmError(`'${s.mnemonic}' has no short form`, op.start, op.end);
    if (op.distance === 'near' && !near) throw new AsmError(`'${s.mnemonic}' has no near form (rel8 only)`, op.start, op.end);
    // The near form is final (sticky); the short one only when written `short`.
    if (near && (op.distance === 'near' || s.near || !short)) return { form: near, size: sizeOf(near), final: true };
    const size = sizeOf(short!);
    const distance = target.value - (this.here + BigInt(size));
    if (!target.unknown && (distance < -128n || distance > 127n) && near && op.distance !== 'short') {
      if (!this.final) {
        s.near = true;
        this.changed = true;
      }
      return { form: near, size: sizeOf(near), final: !this.final };
    }
    return { form: short!, size, final: op.distance === 'short' };
  }

  private emitInstruction(s: InstructionStatement, times: number): Uint8Array {
    if (s.fixed) return times === 1 ? s.fixed : repeat(s.fixed, times);
    const out: Uint8Array[] = [];
    const start = this.hereOffset;
    for (let i = 0; i < times; i++) {
      out.push(this.encodeOnce(s, i === 0 ? s.size / times : out[0].length));
      this.hereOffset += out[i].length;
    }
    this.hereOffset = start;
    return times === 1 ? out[0] : concat(out);
  }

  private encodeOnce(s: InstructionStatement, size: number): Uint8Array {
    const values: (Value | undefined)[] = [];
    const rip: boolean[] = [];
    for (const op of s.ops) {
      let v = this.operandValue(op);
      const r = this.isRipRelative(op);
      if (r && op.t === 'mem' && op.base === Register.RIP) {
        // `[rip + d]` is relative to the next instruction; iced wants the absolute target.
        v = { value: this.here + BigInt(size) + (v?.value ?? 0n), reloc: 1, unknown: false };
      }
      if (op.t === 'mem' && !r) checkDisplacement(op, v);
      values.push(v);
      rip.push(r);
    }
    const branch = this.branchForm(s, values);
    if (branch) {
      const target = values[0]!.value;
      const bytes = this.tryEncode(s, branch.form, s.ops, { values, ripRelative: rip });
      if (!bytes) throw new AsmError(`branch target ${hex(target)} is out of range of '${s.mnemonic}' (rel8 only: -128..+127 bytes)`, s.ops[0].start, s.ops[0].end);
      return bytes;
    }
    const { form, ops } = choose(s, values);
    return encode(form, ops, { values, ripRelative: rip }, s.prefixes, this.here, s.loc.start, s.loc.end);
  }

  private tryEncode(s: InstructionStatement, form: Form, ops: readonly Operand[], r: Resolved): Uint8Array | undefined {
    try {
      return encode(form, ops, r, s.prefixes, this.here, s.loc.start, s.loc.end);
    } catch (error) {
      if (error instanceof AsmError && error.message.includes('out of range')) return undefined;
      throw error;
    }
  }

  // --- data ---------------------------------------------------------------------------------------

  private emitData(items: readonly (Expr | Uint8Array)[], unit: number, one: number, times: number): Uint8Array {
    const bytes = new Uint8Array(one * times);
    let p = 0;
    for (const item of items) {
      if (item instanceof Uint8Array) {
        bytes.set(item, p);
        p += Math.ceil(item.length / unit) * unit;
        continue;
      }
      const v = this.eval(item);
      const bits = BigInt(unit * 8);
      if (unit < 8 && (v.value < -(1n << (bits - 1n)) || v.value >= 1n << bits)) {
        throw new AsmError(`value ${hex(v.value)} does not fit in ${unit * 8} bits`, item.start, item.end);
      }
      let x = BigInt.asUintN(unit * 8, v.value);
      for (let i = 0; i < unit; i++, x >>= 8n) bytes[p++] = Number(x & 0xffn);
    }
    for (let t = 1; t < times; t++) bytes.copyWithin(t * one, 0, one);
    return bytes;
  }

  // --- sections -----------------------------------------------------------------------------------

  /** Sections follow each other page-aligned after `org`, in order of first appearance, unless `start=`. */
  private placeSections(): void {
    let next = this.origin;
    for (const s of this.sections) {
      let base = next;
      if (s.decl.attributes.start) {
        try {
          const v = this.eval(s.decl.attributes.start);
          if (!v.unknown) base = BigInt.asUintN(64, v.value);
        } catch {
          // reported below
        }
      } else if (s.decl.attributes.align && s !== this.sections[0]) {
        const a = BigInt(s.decl.attributes.align);
        base = ((next + a - 1n) / a) * a;
      }
      if (base !== s.base) {
        s.base = base;
        this.changed = true;
      }
      next = alignUp(base + BigInt(s.size), PAGE);
    }
  }

  private checkOverlaps(): void {
    for (const s of this.sections) {
      if (!s.decl.attributes.start) continue;
      try {
        const v = this.eval(s.decl.attributes.start);
        if (v.reloc) this.report('error', `start= of section '${s.decl.name}' must be a constant`, s.decl.loc);
      } catch (error) {
        if (error instanceof AsmError) this.report('error', error.message, s.decl.loc, error.start, error.end);
      }
    }
    const sorted = [...this.sections].filter((s) => s.size > 0).sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      if (prev.base + BigInt(prev.size) > sorted[i].base) {
        this.report('error', `section '${sorted[i].decl.name}' at ${hex(sorted[i].base)} overlaps section '${prev.decl.name}' (${hex(prev.base)}..${hex(prev.base + BigInt(prev.size))})`, sorted[i].decl.loc);
      }
    }
  }
}

/** No operand of a fixed instruction is rip-relative (indexed by operand). */
const NOT_RIP_RELATIVE: boolean[] = [false, false, false, false];

/** Labels carry this value; their address comes from their section and offset (see lookup). */
const LABEL_VALUE: Value = Object.freeze({ value: 0n, reloc: 1, unknown: false });

function labelAddress(sym: SymbolEntry): bigint {
  return BigInt.asUintN(64, (sym.section?.base ?? 0n) + BigInt(sym.offset ?? 0));
}

/** NASM's rules (mov immediate, xchg order, register size), else the generic selection. */
function choose(s: InstructionStatement, values: readonly (Value | undefined)[]): { form: Form; ops: readonly Operand[] } {
  const mov = nasmMovImmediate(s.mnemonic, s.forms, s.ops, values);
  if (mov) return mov;
  const ops = nasmXchg(s.mnemonic, s.ops) ?? nasmRegisterSize(s.mnemonic, s.ops) ?? s.ops;
  return { form: selectForm(s.mnemonic, s.forms, ops, values, s.loc.start, s.loc.end), ops };
}

function sameValues(a: readonly (Value | undefined)[], b: readonly (Value | undefined)[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!x || !y || x.value !== y.value || x.reloc !== y.reloc || x.unknown !== y.unknown) return false;
  }
  return true;
}

function dataSize(items: readonly (Expr | Uint8Array)[], unit: number): number {
  let one = 0;
  for (const item of items) one += item instanceof Uint8Array ? Math.ceil(item.length / unit) * unit : unit;
  return one;
}

function isFixed(s: InstructionStatement): boolean {
  for (const op of s.ops) {
    if (op.t === 'imm' && (s.forms.some((f) => f.branch) || hasSymbol(op.expr))) return false;
    if (op.t === 'mem' && (op.base === Register.RIP || op.rel || (op.disp && hasSymbol(op.disp)))) return false;
  }
  return true;
}


function checkDisplacement(op: MemOperand, v: Value | undefined): void {
  if (!v || !op.disp) return;
  const limit = op.addressSize === 8 ? 1n << 31n : 1n << 32n;
  const ok = op.addressSize === 8 ? v.value >= -limit && v.value < limit : v.value >= -(limit >> 1n) && v.value < limit;
  if (!ok) throw new AsmError(`displacement ${hex(v.value)} does not fit in 32 bits (use a register, or [rel label])`, op.disp.start, op.disp.end);
}

function sectionState(decl: SectionDeclaration): SectionState {
  const name = decl.name.toLowerCase();
  const a = decl.attributes;
  const isBss = name.includes('bss');
  const isText = name.includes('text');
  const isRodata = name.includes('rodata');
  const isData = !isText && name.includes('data');
  return {
    decl, base: 0n, offset: 0, size: 0, initEnd: 0, bytes: new Uint8Array(0),
    nobits: a.nobits ?? isBss,
    executable: a.executable ?? (isText || (!isBss && !isData && !isRodata)),
    writable: a.writable ?? (!isText && !isRodata),
    user: a.user ?? (name.startsWith('.user') || name.startsWith('user')),
  };
}

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

function repeat(bytes: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) (out.set(part, p), (p += part.length));
  return out;
}

export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

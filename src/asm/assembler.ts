// The assembler proper: symbols, sections and the passes over the statements — layout passes to a
// fixpoint (branch sizes only grow, so it terminates), then one emitting pass that evaluates every
// expression, places the bytes and records the source map and listing. Instruction sizes and encodings
// are instructions.ts's. Errors are reported per statement and the run goes on.
import { assemblerConstants } from '../arch/index';
import { EmittedRecords } from './emitted';
import { writeLittleEndian, type FixedBytes } from './fixedEncoding';
import { AsmError } from './errors';
import { evaluate, type EvalContext, type Expr, type Value } from './expression';
import { FixedInstructions, encodeInstruction, hex, instructionSize, type InstructionContext } from './instructions';
import { parseProgram, type ListingRows, type SectionDeclaration } from './parser';
import type { InstructionStatement, Loc, Statement } from './statements';
import type { Diagnostic, ImageSection } from './types';

const PAGE = 4096n;
const MAX_PASSES = 40;
const MAX_TIMES = 1 << 24;
const MAX_SECTION_BYTES = 1 << 28;
/** Data statements up to this size are built in one reused buffer. */
const DATA_SCRATCH_BYTES = 4096;

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
  /** Position in the image's section list. */
  readonly index: number;
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

export interface AssemblerOutput {
  readonly diagnostics: Diagnostic[];
  readonly sections: ImageSection[];
  readonly symbols: Map<string, bigint>;
  readonly entry: bigint;
  readonly rows: ListingRows;
  readonly emitted: EmittedRecords;
}

export class Assembler implements EvalContext, InstructionContext {
  final = false;
  private readonly diagnostics: Diagnostic[];
  private readonly statements: Statement[];
  private readonly rows: ListingRows;
  private readonly symbols = new Map<string, SymbolEntry>();
  /** By statement index: the symbol a label statement defines (none for a duplicate), so that layout
   *  passes need no name lookup per label. */
  private labelEntries: (SymbolEntry | undefined)[] = [];
  /** The symbol a `sym` node names (null: none), for labelDistance. */
  private readonly targets = new Map<Expr, SymbolEntry | null>();
  private readonly sections: SectionState[];
  private origin: bigint;
  /** Offset of the current statement in its section; `here` is its address (computed only when used). */
  private hereOffset = 0;
  private hereSection: SectionState | undefined;
  get here(): bigint {
    const sec = this.hereSection;
    return sec ? sec.base + BigInt(this.hereOffset) : this.origin;
  }
  private section: SectionState | undefined;
  private changed = false;
  private pass = 0;
  /** Offset of each statement in the previous pass, and how far the current statement moved since. */
  private previousOffsets: Int32Array = new Int32Array(0);
  /** Per statement: its size once a layout pass found it final (-1 until then). Later layout passes
   *  read only this array for it, without touching the statement object. */
  private finalSizes: Int32Array = new Int32Array(0);
  private shift = 0;
  private readonly emitted = new EmittedRecords();
  private readonly dataScratch = new Uint8Array(DATA_SCRATCH_BYTES);
  /** Encodes fixed instructions as the parser makes them (their bytes: `fixedBytes`). */
  private readonly fixed = new FixedInstructions(this);
  private readonly fixedBytes: FixedBytes = this.fixed.pool;

  constructor(source: string, file: string, options: { readFile?: (path: string) => string | undefined; org?: bigint }) {
    const parsed = parseProgram(source, file, { readFile: options.readFile, instructions: this.fixed });
    this.diagnostics = parsed.diagnostics;
    this.statements = parsed.statements;
    this.rows = parsed.rows;
    this.origin = options.org ?? 0x100000n;
    this.sections = parsed.sections.map((decl, index) => sectionState(decl, index));
    this.defineSymbols();
  }

  run(): AssemblerOutput {
    const n = this.statements.length;
    this.previousOffsets = new Int32Array(n);
    // Fixed instructions have their final sizes already.
    const fixed = this.fixedBytes;
    fixed.cover(n);
    const finalSizes = (this.finalSizes = new Int32Array(n).fill(-1));
    for (let i = 0; i < n; i++) if (fixed.at[i] >= 0) finalSizes[i] = fixed.size[i];
    this.placeSections();
    let pass = 0;
    do {
      // Fixed instructions have their sizes (from 0): the first pass changes them, as it would
      // had it sized them itself.
      this.changed = pass === 0 && this.finalSizes.some((size) => size >= 0);
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
    const statements = this.statements;
    this.labelEntries = new Array<SymbolEntry | undefined>(statements.length).fill(undefined);
    for (let i = 0; i < statements.length; i++) {
      const s = statements[i];
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
      const entry: SymbolEntry = { kind: s.k, loc: s.loc, value: undefined, busy: false };
      this.symbols.set(s.name, entry);
      if (s.k === 'label') this.labelEntries[i] = entry;
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

  /** See InstructionContext.labelDistance: lookup(e) − here for a label of the current section, as a number. */
  labelDistance(e: Expr): number {
    if (e.k !== 'sym') return NaN;
    // By node (an identity hash) rather than by name: qualified names are concatenated strings, which
    // a name lookup hashes and compares by their characters, per branch per pass.
    let sym = this.targets.get(e);
    if (sym === undefined) {
      sym = this.symbols.get(e.name) ?? null;
      this.targets.set(e, sym);
    }
    if (!sym || !sym.value || !sym.section || sym.section !== this.hereSection || sym.section !== this.section) return NaN;
    // lookup's estimate for a label not reached yet in this pass.
    const shift = sym.pass !== this.pass ? this.shift : 0;
    return sym.offset! + shift - this.hereOffset;
  }

  /**
   * An equ whose value changes needs another pass. (A label that moves does not by itself: it moves
   * because a size changed, which already asks for one. Once a pass changes no size, every value it
   * used was final.)
   */
  private setSymbol(name: string, value: Value): void {
    const sym = this.symbols.get(name);
    if (!sym) return;
    const old = sym.value;
    if (!old || old.value !== value.value || old.unknown !== value.unknown || old.reloc !== value.reloc) this.changed = true;
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

  evaluate(e: Expr): Value {
    return evaluate(e, this);
  }

  requestPass(): void {
    this.changed = true;
  }

  // --- passes -------------------------------------------------------------------------------------

  private walk(emit: boolean): void {
    for (const s of this.sections) (s.offset = 0), (s.size = 0);
    this.section = undefined;
    this.pass++;
    let originSeen = false;
    const statements = this.statements;
    if (this.previousOffsets.length !== statements.length) this.previousOffsets = new Int32Array(statements.length);
    const previous = this.previousOffsets;
    if (this.finalSizes.length !== statements.length) this.finalSizes = new Int32Array(statements.length).fill(-1);
    const finalSizes = this.finalSizes;
    const fixed = this.fixedBytes;
    const labels = this.labelEntries;
    for (let i = 0; i < statements.length; i++) {
      const label = labels[i];
      if (label) {
        // A label (not a duplicate), found by index without its statement: its value follows its section
        // and offset (see lookup); moving needs no pass of its own (see setSymbol).
        const sec = this.section;
        const offset = sec ? sec.offset : 0;
        this.shift = Math.max(0, offset - previous[i]);
        previous[i] = offset;
        (this.hereSection = sec), (this.hereOffset = offset);
        (label.value = LABEL_VALUE), (label.section = sec), (label.offset = offset), (label.pass = this.pass);
        continue;
      }
      if (!emit) {
        const known = finalSizes[i];
        if (known >= 0) {
          // Only statements inside a section get here, and statement i is in the same section every pass.
          const sec = this.section!;
          previous[i] = sec.offset;
          sec.offset += known;
          if (sec.offset > sec.size) sec.size = sec.offset;
          continue;
        }
      } else if (fixed.at[i] >= 0) {
        // Fast path for emitting: a fixed instruction's bytes need no address, no evaluation and not
        // even its statement (FixedBytes locates them). In a nobits section or past the size limit it
        // takes the general path, which reports those.
        const sec = this.section!;
        const size = finalSizes[i];
        if (!sec.nobits && sec.offset + size <= MAX_SECTION_BYTES) {
          this.write(sec, sec.offset, size, fixed.bytes, fixed.at[i], fixed.row[i], fixed.column[i]);
          continue;
        }
      }
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
          finalSizes[i] = size;
          sec.offset += size;
          if (sec.offset > sec.size) sec.size = sec.offset;
          continue;
        }
      }
      this.hereSection = sec;
      this.hereOffset = offset;
      try {
        switch (s.k) {
          case 'label':
            break; // a duplicate definition (reported once); the others are handled above
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
      this.setSymbol(name, this.evaluate(expr));
    } finally {
      sym.busy = false;
    }
  }

  private org(expr: Expr): void {
    const v = this.evaluate(expr);
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
    /** ≥ 0: `size` bytes of `bytes` from there (see place). */
    let from = -1;
    switch (s.k) {
      case 'instr': {
        const times = this.times(s.times);
        if (emit) {
          bytes = this.emitInstruction(s, times);
          size = bytes.length;
        } else size = instructionSize(this, s) * times;
        break;
      }
      case 'again':
        // A fixed instruction's repetition (parser.ts); here in a nobits section or when its section overflows.
        size = s.original.size;
        if (emit) bytes = this.emitInstruction(s.original, 1);
        break;
      case 'data': {
        const times = this.times(s.times);
        const one = (s.one ??= dataSize(s.items, s.unit));
        size = one * times;
        if (emit) (bytes = this.emitData(s.items, s.unit, one, times)), (from = 0);
        break;
      }
      case 'res': {
        const times = this.times(s.times);
        const count = this.evaluate(s.count);
        if (count.unknown) break;
        if (count.value < 0n || count.value > BigInt(MAX_SECTION_BYTES)) throw new AsmError(`invalid reserve count ${count.value}`, s.count.start, s.count.end);
        size = Number(count.value) * s.unit * times;
        break;
      }
      case 'align': {
        const b = this.evaluate(s.boundary);
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
    if (emit) this.place(s.loc, sec, start, size, bytes, from);
    else {
      sec.offset += size;
      if (sec.offset > sec.size) sec.size = sec.offset;
    }
  }

  /**
   * Emitting pass: advances the section past a statement of `size` bytes at `start` and records them:
   * `bytes`, or with `from` ≥ 0 the `size` bytes of `bytes` from there (the FixedBytes pool).
   */
  private place(loc: Loc, sec: SectionState, start: number, size: number, bytes: Uint8Array | undefined, from = -1): void {
    const count = !bytes ? 0 : from >= 0 ? size : bytes.length;
    if (count && sec.nobits) {
      this.report('warning', `initialised data in nobits section '${sec.decl.name}' is ignored`, loc);
      this.write(sec, start, size, undefined, -1, loc.row, loc.start + 1);
    } else this.write(sec, start, size, bytes, from, loc.row, loc.start + 1);
  }

  /** place() without the nobits check: `bytes` (none in a nobits section) at `start`, listed at `row`, 1-based `column`. */
  private write(sec: SectionState, start: number, size: number, bytes: Uint8Array | undefined, from: number, row: number, column: number): void {
    sec.offset += size;
    if (sec.offset > sec.size) sec.size = sec.offset;
    const count = !bytes ? 0 : from >= 0 ? size : bytes.length;
    if (count) {
      if (start + count > sec.bytes.length) {
        // Grow on demand: reserved space that is never written costs no memory.
        const grown = new Uint8Array(Math.max(start + count, sec.bytes.length * 2, 256));
        grown.set(sec.bytes);
        sec.bytes = grown;
      }
      const source = bytes!;
      if (count <= 16) {
        // A loop beats set() for an instruction's few bytes.
        const target = sec.bytes;
        const first = from >= 0 ? from : 0;
        for (let k = 0; k < count; k++) target[start + k] = source[first + k];
      } else sec.bytes.set(from >= 0 ? source.subarray(from, from + count) : source, start);
      if (start + count > sec.initEnd) sec.initEnd = start + count;
    }
    if (size > 0) this.emitted.add(sec.index, start, size, row, column, count > 0);
  }

  private times(e: Expr | undefined): number {
    if (!e) return 1;
    const v = this.evaluate(e);
    if (v.unknown) return 0;
    if (v.value < 0n) throw new AsmError(`times count is negative (${v.value})`, e.start, e.end);
    if (v.value > BigInt(MAX_TIMES)) throw new AsmError(`times count ${v.value} is too large`, e.start, e.end);
    return Number(v.value);
  }

  // --- instructions -------------------------------------------------------------------------------

  private emitInstruction(s: InstructionStatement, times: number): Uint8Array {
    if (s.fixed) {
      const one = s.fixedAt >= 0 ? this.fixedBytes.bytes.slice(s.fixedAt, s.fixedAt + s.fixed.length) : s.fixed;
      return times === 1 ? one : repeat(one, times);
    }
    if (times === 1) return encodeInstruction(this, s, s.size);
    const out: Uint8Array[] = [];
    const start = this.hereOffset;
    for (let i = 0; i < times; i++) {
      out.push(encodeInstruction(this, s, i === 0 ? s.size / times : out[0].length));
      this.hereOffset += out[i].length;
    }
    this.hereOffset = start;
    return times === 1 ? out[0] : concat(out);
  }

  // --- data ---------------------------------------------------------------------------------------

  /** The bytes of a data statement, in the `dataScratch` buffer when they fit (place() copies them). */
  private emitData(items: readonly (Expr | Uint8Array)[], unit: number, one: number, times: number): Uint8Array {
    const size = one * times;
    // A typed array per data line costs more than filling a reused one (string padding needs zeros).
    const bytes = size <= DATA_SCRATCH_BYTES ? this.dataScratch.fill(0, 0, size) : new Uint8Array(size);
    let p = 0;
    for (const item of items) {
      if (item instanceof Uint8Array) {
        bytes.set(item, p);
        p += Math.ceil(item.length / unit) * unit;
        continue;
      }
      const v = this.evaluate(item);
      // Number() keeps the order, and the bounds (at most 2^32) are exact: no bigint arithmetic.
      const n = Number(v.value);
      if (unit < 8 && (n < -(2 ** (unit * 8 - 1)) || n >= 2 ** (unit * 8))) {
        throw new AsmError(`value ${hex(v.value)} does not fit in ${unit * 8} bits`, item.start, item.end);
      }
      writeLittleEndian(bytes, p, unit, v.value);
      p += unit;
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
          const v = this.evaluate(s.decl.attributes.start);
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
        const v = this.evaluate(s.decl.attributes.start);
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

/** Labels carry this value; their address comes from their section and offset (see lookup). */
const LABEL_VALUE: Value = Object.freeze({ value: 0n, reloc: 1, unknown: false });

function labelAddress(sym: SymbolEntry): bigint {
  return BigInt.asUintN(64, (sym.section?.base ?? 0n) + BigInt(sym.offset ?? 0));
}

function dataSize(items: readonly (Expr | Uint8Array)[], unit: number): number {
  let one = 0;
  for (const item of items) one += item instanceof Uint8Array ? Math.ceil(item.length / unit) * unit : unit;
  return one;
}

function sectionState(decl: SectionDeclaration, index: number): SectionState {
  const name = decl.name.toLowerCase();
  const a = decl.attributes;
  const isBss = name.includes('bss');
  const isText = name.includes('text');
  const isRodata = name.includes('rodata');
  const isData = !isText && name.includes('data');
  return {
    decl, index, base: 0n, offset: 0, size: 0, initEnd: 0, bytes: new Uint8Array(0),
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


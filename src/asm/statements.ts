// Parsed statements: what one source line asks for. The assembler lays them out and emits them.
import type { Expr, Value } from './expression';
import type { Form } from './forms';
import type { Prefixes } from './encoder';
import type { Operand } from './operands';

/** Where a statement comes from: file, 1-based line, 0-based column range, and its listing row. */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly row: number;
}

export interface SectionAttributes {
  user?: boolean;
  nobits?: boolean;
  writable?: boolean;
  executable?: boolean;
  start?: Expr;
  align?: number;
}

/** Its own Loc (`loc` is the statement itself): one object fewer per instruction. */
export interface InstructionStatement extends Loc {
  readonly k: 'instr';
  readonly loc: Loc;
  readonly mnemonic: string;
  readonly forms: readonly Form[];
  readonly ops: readonly Operand[];
  readonly prefixes: Prefixes;
  /** `o16`/`o32`/`o64` operand-size prefix: only forms of that operand size. */
  readonly operandSize: number;
  readonly times: Expr | undefined;
  /** Bytes known when parsed (no symbols, no relative operands): its template or encoding; its own
   *  bytes are at `fixedAt` of the run's FixedBytes pool. */
  fixed: Uint8Array | undefined;
  fixedAt: number;
  /** Size of one repetition once layout knows it cannot change (-1 until then): later layout passes
   *  skip the statement. */
  layoutSize: number;
  /** Sticky: the short branch form was out of range once, so the near form is used from now on. */
  near: boolean;
  size: number;
  /** Size of one repetition and the operand values it was computed with (layout passes). */
  sizedWith: { readonly values: readonly (Value | undefined)[]; readonly size: number } | undefined;
}

/**
 * A line whose text repeats an earlier fixed instruction line in the same context (parser.ts,
 * RepeatedLines): its own position and the first statement of that text (`original`), whose bytes are
 * its bytes — 88 bytes instead of a 176-byte instruction statement per repeated line. A repetition of
 * any other instruction is an instruction statement of its own (branches and rip-relative operands
 * depend on the address).
 */
export interface RepeatedStatement extends Loc {
  readonly k: 'again';
  readonly loc: Loc;
  readonly original: InstructionStatement;
}

/** Labels and data are their own Loc too (`loc` is the statement itself), as instructions. */
export interface LabelStatement extends Loc {
  readonly k: 'label';
  readonly loc: Loc;
  readonly name: string;
}

export interface DataStatement extends Loc {
  readonly k: 'data';
  readonly loc: Loc;
  readonly unit: number;
  readonly items: readonly (Expr | Uint8Array)[];
  readonly times: Expr | undefined;
  size: number;
  one: number | undefined;
}

export type Statement =
  | LabelStatement
  | { readonly k: 'equ'; readonly loc: Loc; readonly name: string; readonly expr: Expr }
  | InstructionStatement
  | RepeatedStatement
  | DataStatement
  | { readonly k: 'res'; readonly loc: Loc; readonly unit: number; readonly count: Expr; readonly times: Expr | undefined; size: number }
  | { readonly k: 'align'; readonly loc: Loc; readonly boundary: Expr; readonly reserve: boolean; size: number }
  | { readonly k: 'section'; readonly loc: Loc; readonly index: number }
  | { readonly k: 'org'; readonly loc: Loc; readonly expr: Expr };

/** Where a statement's line is (the parser's current line): the statement takes its fields, not the object. */
export interface LinePosition {
  readonly file: string;
  readonly line: number;
  readonly row: number;
}

/**
 * One object shape for every instruction statement (the layout loop stays monomorphic). The statement
 * is its own Loc: one object fewer per instruction, the commonest statement.
 */
export function instructionStatement(
  line: LinePosition, start: number, end: number,
  mnemonic: string, forms: readonly Form[], ops: readonly Operand[], prefixes: Prefixes, operandSize: number, times: Expr | undefined,
): InstructionStatement {
  const s = {
    k: 'instr' as const, loc: undefined as unknown as Loc, file: line.file, line: line.line, start, end, row: line.row,
    mnemonic, forms, ops, prefixes, operandSize, times, fixed: undefined, fixedAt: -1, layoutSize: -1, near: false, size: 0, sizedWith: undefined,
  };
  s.loc = s;
  return s;
}

/** A repeated line (its own Loc, as the other statements). */
export function repeatedStatement(line: LinePosition, original: InstructionStatement): RepeatedStatement {
  const s = { k: 'again' as const, loc: undefined as unknown as Loc, file: line.file, line: line.line, start: original.start, end: original.end, row: line.row, original };
  s.loc = s;
  return s;
}

/**
 * Takes instruction statements as the parser makes them (instructions.ts FixedInstructions, which
 * encodes the fixed ones while their operands are at hand).
 */
export interface InstructionSink {
  /** A newly parsed instruction statement (or a repetition that got its own), at statement `index`. */
  parsed(s: InstructionStatement, index: number): void;
  /** A repetition of `original` at `index` (listing row, 0-based column): true when it shares the
   *  original's bytes (then it is a RepeatedStatement). */
  repeated(original: InstructionStatement, index: number, row: number, start: number): boolean;
}

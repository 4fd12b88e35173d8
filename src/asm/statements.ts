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
  /** Bytes known before layout (no symbols, no relative operands). When `fixedAt` ≥ 0 they are the
   *  template of the instruction, whose own bytes are at that offset of the run's FixedBytes pool. */
  fixed: Uint8Array | undefined;
  fixedAt: number;
  /** The first statement of the same line text in the same context (parser.ts), whose operands and
   *  fixed bytes this one shares; undefined for that first one. */
  readonly original: InstructionStatement | undefined;
  /** Size of one repetition once layout knows it cannot change (-1 until then): later layout passes
   *  skip the statement. */
  layoutSize: number;
  /** Sticky: the short branch form was out of range once, so the near form is used from now on. */
  near: boolean;
  size: number;
  /** Size of one repetition and the operand values it was computed with (layout passes). */
  sizedWith: { readonly values: readonly (Value | undefined)[]; readonly size: number } | undefined;
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
  | DataStatement
  | { readonly k: 'res'; readonly loc: Loc; readonly unit: number; readonly count: Expr; readonly times: Expr | undefined; size: number }
  | { readonly k: 'align'; readonly loc: Loc; readonly boundary: Expr; readonly reserve: boolean; size: number }
  | { readonly k: 'section'; readonly loc: Loc; readonly index: number }
  | { readonly k: 'org'; readonly loc: Loc; readonly expr: Expr };

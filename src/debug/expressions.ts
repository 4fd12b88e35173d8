// Expressions of the watch, hover, REPL and breakpoint conditions: numbers, registers, labels, MSR
// names, `+ - * / % & | ^ << >> ~`, comparisons and memory (`[rsp+8]`, `dword [addr]`). Values are
// unsigned 64-bit. An error is an ExpressionError with a message that says what and where.
import { msrByName, vmcsFieldByName } from '../arch/index';
import { GPR_NAMES } from '../machine/cpu/state';
import type { Machine } from '../machine/machine';

export class ExpressionError extends Error {}

export interface EvalContext {
  /** Register by lower-case name, or undefined when there is no such register. */
  register(name: string): bigint | undefined;
  symbol(name: string): bigint | undefined;
  /** MSR value by index; throws ExpressionError when it cannot be read. */
  msr(name: string): bigint | undefined;
  /** Little-endian load; throws ExpressionError when unmapped. */
  load(address: bigint, size: number): bigint;
  /** A VMCS field by name (`vmcs.GUEST_RIP`); throws ExpressionError without a monitor or for an unknown field. */
  vmcs?(field: string): bigint;
}

const MASK64 = (1n << 64n) - 1n;
const SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8 };

type Token = { kind: 'num'; value: bigint; at: number } | { kind: 'id'; text: string; at: number } | { kind: 'op'; text: string; at: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(0x[0-9a-f_]+|0b[01_]+|[0-9][0-9_]*)|([A-Za-z_.$@][\w.$@:]*)|(<<|>>|==|!=|<=|>=|&&|\|\||[-+*/%&|^~()[\]<>!]))/iy;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new ExpressionError(`unexpected '${text.slice(pos).trim()[0]}' at column ${pos + 1 + (text.slice(pos).length - text.slice(pos).trimStart().length)}`);
    const at = m.index + m[0].length - (m[1] ?? m[2] ?? m[3]).length;
    if (m[1]) out.push({ kind: 'num', value: BigInt(m[1].replaceAll('_', '')), at });
    else if (m[2]) out.push({ kind: 'id', text: m[2], at });
    else out.push({ kind: 'op', text: m[3], at });
    pos = re.lastIndex;
  }
  return out;
}

/** Binary operators, loosest first (C precedence). */
const BINARY: readonly (readonly string[])[] = [['||'], ['&&'], ['==', '!=', '<', '>', '<=', '>='], ['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

function apply(op: string, a: bigint, b: bigint, at: number): bigint {
  switch (op) {
    case '||': return a || b ? 1n : 0n;
    case '&&': return a && b ? 1n : 0n;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
    case '<': return a < b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '|': return a | b;
    case '^': return a ^ b;
    case '&': return a & b;
    case '<<': return (a << (b & 63n)) & MASK64;
    case '>>': return a >> (b & 63n);
    case '+': return (a + b) & MASK64;
    case '-': return (a - b) & MASK64;
    case '*': return (a * b) & MASK64;
    case '/': case '%':
      if (b === 0n) throw new ExpressionError(`division by zero at column ${at + 1}`);
      return op === '/' ? a / b : a % b;
  }
  throw new ExpressionError(`unknown operator ${op}`);
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly ctx: EvalContext, private readonly text: string) {}

  parse(): bigint {
    if (this.tokens.length === 0) throw new ExpressionError('empty expression');
    const v = this.binary(0);
    const t = this.tokens[this.i];
    if (t) throw new ExpressionError(`unexpected '${t.kind === 'num' ? t.value : t.kind === 'id' ? t.text : t.text}' at column ${t.at + 1}`);
    return v;
  }

  private peekOp(): string | undefined {
    const t = this.tokens[this.i];
    return t?.kind === 'op' ? t.text : undefined;
  }

  private binary(level: number): bigint {
    if (level === BINARY.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const op = this.peekOp();
      if (!op || !BINARY[level].includes(op)) return left;
      const at = this.tokens[this.i].at;
      this.i++;
      left = apply(op, left, this.binary(level + 1), at);
    }
  }

  private unary(): bigint {
    const op = this.peekOp();
    if (op === '-' || op === '~' || op === '!' || op === '+') {
      this.i++;
      const v = this.unary();
      return op === '-' ? (-v) & MASK64 : op === '~' ? ~v & MASK64 : op === '!' ? (v === 0n ? 1n : 0n) : v;
    }
    return this.primary();
  }

  private expect(text: string): void {
    const t = this.tokens[this.i];
    if (t?.kind !== 'op' || t.text !== text) throw new ExpressionError(`expected '${text}' ${t ? `at column ${t.at + 1}` : 'at the end'} in '${this.text}'`);
    this.i++;
  }

  private memory(size: number): bigint {
    this.expect('[');
    const address = this.binary(0);
    this.expect(']');
    return this.ctx.load(address, size);
  }

  private primary(): bigint {
    const t = this.tokens[this.i];
    if (!t) throw new ExpressionError(`'${this.text}' ends too early`);
    if (t.kind === 'num') {
      this.i++;
      return t.value & MASK64;
    }
    if (t.kind === 'op') {
      if (t.text === '(') {
        this.i++;
        const v = this.binary(0);
        this.expect(')');
        return v;
      }
      if (t.text === '[') return this.memory(8);
      throw new ExpressionError(`unexpected '${t.text}' at column ${t.at + 1}`);
    }
    this.i++;
    const name = t.text;
    const lower = name.toLowerCase();
    if (SIZES[lower] !== undefined) {
      if (this.tokens[this.i]?.kind === 'id' && (this.tokens[this.i] as { text: string }).text.toLowerCase() === 'ptr') this.i++;
      return this.memory(SIZES[lower]);
    }
    if (lower.startsWith('vmcs.')) {
      if (!this.ctx.vmcs) throw new ExpressionError(`'${name}': no VMCS here`);
      return this.ctx.vmcs(name.slice(5));
    }
    const reg = this.ctx.register(lower);
    if (reg !== undefined) return reg;
    const sym = this.ctx.symbol(name);
    if (sym !== undefined) return sym;
    const msr = this.ctx.msr(name);
    if (msr !== undefined) return msr;
    throw new ExpressionError(`unknown name '${name}' at column ${t.at + 1} (not a register, label or MSR)`);
  }
}

export function evaluateExpression(text: string, ctx: EvalContext): bigint {
  return new Parser(tokenize(text), ctx, text.trim()).parse();
}

/** Sub-registers: name → [GPR index, size in bytes, shift]. */
const SUB_REGISTERS = new Map<string, [number, number, number]>();
const LEGACY = ['a', 'c', 'd', 'b'];
GPR_NAMES.forEach((name, i) => {
  SUB_REGISTERS.set(name, [i, 8, 0]);
  if (i < 4) {
    SUB_REGISTERS.set(`e${LEGACY[i]}x`, [i, 4, 0]);
    SUB_REGISTERS.set(`${LEGACY[i]}x`, [i, 2, 0]);
    SUB_REGISTERS.set(`${LEGACY[i]}l`, [i, 1, 0]);
    SUB_REGISTERS.set(`${LEGACY[i]}h`, [i, 1, 8]);
  } else if (i < 8) {
    const base = name.slice(1); // sp, bp, si, di
    SUB_REGISTERS.set(`e${base}`, [i, 4, 0]);
    SUB_REGISTERS.set(base, [i, 2, 0]);
    SUB_REGISTERS.set(`${base}l`, [i, 1, 0]);
  } else {
    SUB_REGISTERS.set(`${name}d`, [i, 4, 0]);
    SUB_REGISTERS.set(`${name}w`, [i, 2, 0]);
    SUB_REGISTERS.set(`${name}b`, [i, 1, 0]);
  }
});

/** Every register name the evaluator knows (completions). */
export const REGISTER_NAMES: readonly string[] = [...SUB_REGISTERS.keys(), 'rip', 'rflags', 'eflags', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'cpl'];

export function readRegister(machine: Machine, name: string): bigint | undefined {
  const sub = SUB_REGISTERS.get(name);
  if (sub) {
    const [i, size, shift] = sub;
    return (machine.getGpr(i) >> BigInt(shift)) & ((1n << BigInt(8 * size)) - 1n);
  }
  const c = machine.cpu;
  switch (name) {
    case 'rip': return machine.getRip();
    case 'rflags': case 'eflags': return machine.getRflags();
    case 'cr0': return c.cr0;
    case 'cr2': return c.cr2;
    case 'cr3': return c.cr3;
    case 'cr4': return c.cr4;
    case 'cr8': return c.cr8;
    case 'cpl': return BigInt(c.cpl);
  }
  return undefined;
}

export function loadLittleEndian(machine: Machine, address: bigint, size: number): bigint {
  const r = machine.tryReadMemory(BigInt.asUintN(64, address), size);
  if (!r.ok) throw new ExpressionError(`cannot read ${size} byte(s) at 0x${BigInt.asUintN(64, address).toString(16)}: ${r.message}`);
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(r.bytes[k]);
  return v;
}

/** The evaluation context of a stopped machine and the program's labels. */
export function machineContext(machine: Machine, symbols: ReadonlyMap<string, bigint>): EvalContext {
  return {
    register: (name) => readRegister(machine, name),
    symbol: (name) => symbols.get(name),
    msr: (name) => {
      const def = msrByName(name);
      if (!def) return undefined;
      const v = machine.readMsr(def.index);
      if (v === undefined) throw new ExpressionError(`${def.name} cannot be read on this machine`);
      return v;
    },
    load: (address, size) => loadLittleEndian(machine, address, size),
    vmcs: (field) => {
      const vmx = machine.vmx;
      if (!vmx) throw new ExpressionError(`vmcs.${field}: the guest runs on bare metal ("vmx": false), there is no VMCS`);
      const ref = vmcsFieldByName(field);
      if (!ref) throw new ExpressionError(`vmcs.${field}: no VMCS field '${field}' (names as in the VMCS scope, e.g. vmcs.GUEST_RIP)`);
      if (!vmx.vmcs.supports(ref.field)) throw new ExpressionError(`vmcs.${field}: ${ref.field.name} exists only when FRED is exposed`);
      return vmx.vmcs.get(field);
    },
  };
}

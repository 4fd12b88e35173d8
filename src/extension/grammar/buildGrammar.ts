// Builds the TextMate grammar of the `.fred` language (syntaxes/fred-asm.tmLanguage.json) from the
// sources of truth: the assembler's mnemonic and register tables (src/asm, themselves built from
// iced-x86), iced-x86's CPUID features and CPL rules to pick out the system instructions, and src/arch
// (through src/extension/archCatalog.ts) for the built-in constants (MSRs, VMCS fields, bits). The directive set, numbers, strings and comments are the language's own.
// Run by scripts/generate-grammar.mjs; test/extension/grammar/buildGrammar.test.ts checks the committed JSON is
// what this produces, so the grammar cannot drift from the tables.
//
// Every pattern is a single-line `match` (assembly has no multi-line tokens) and uses only regex
// syntax that Oniguruma and JavaScript agree on; a case-insensitive pattern starts with `(?i)`.
import { Code, CodeExt, CpuidFeature, EncodingKind, Instruction, Mnemonic, Register, RegisterExt } from 'iced-x86';
import { lookupForms } from '../../asm/forms';
import { allMnemonics } from '../../asm/index';
import { isRegisterName } from '../../asm/registers';
import { archConstantNames } from '../archCatalog';

export const GRAMMAR_PATH = 'syntaxes/fred-asm.tmLanguage.json';
const SCOPE = 'fred-asm';

/** Features whose instructions are "system" for this lab: event delivery, FRED, VMX (SDM Vol. 3). */
const SYSTEM_FEATURES = new Set<string>(['FRED', 'LKGS', 'WRMSRNS', 'MSRLIST', 'VMX', 'INVEPT', 'INVVPID',
  'SYSCALL', 'SEP', 'UINTR']);
/** Software events, their returns and interrupt masking: system here although CPL 3 may run them. */
const EVENT_MNEMONICS = new Set(['int', 'int1', 'int3', 'into', 'iret', 'iretd', 'iretq', 'cli', 'sti']);

const PREFIXES = ['lock', 'rep', 'repe', 'repz', 'repne', 'repnz'];

export interface InstructionSet {
  readonly general: readonly string[];
  readonly system: readonly string[];
}

/**
 * Exactly the mnemonics the assembler accepts (src/asm's allMnemonics, aliases included), so a
 * highlighted mnemonic is one that assembles. "System" are those of SYSTEM_FEATURES or
 * EVENT_MNEMONICS and those whose every iced-x86 form requires CPL 0; an alias (`icebp`, `jz`)
 * is classified by the instruction it stands for.
 */
export function instructionSet(): InstructionSet {
  const systemByIced = icedSystemMnemonics();
  const general: string[] = [];
  const system: string[] = [];
  for (const mnemonic of allMnemonics()) {
    const canonical = lookupForms(mnemonic)?.name ?? mnemonic;
    (systemByIced.has(canonical) || EVENT_MNEMONICS.has(canonical) ? system : general).push(mnemonic);
  }
  return { general: general.sort(), system: system.sort() };
}

function icedSystemMnemonics(): Set<string> {
  const system = new Set<string>();
  const allCpl0 = new Map<string, boolean>();
  for (const key of Object.keys(Code)) {
    const code = Number(key);
    if (!Number.isInteger(code)) continue;
    const op = CodeExt.opCode(code);
    try {
      if (op.encoding !== EncodingKind.Legacy || !op.isInstruction || !op.mode64) continue;
      const mnemonic = Mnemonic[op.mnemonic].toLowerCase();
      const instruction = Instruction.create(code);
      const features = Array.from(instruction.cpuidFeatures(), (f) => CpuidFeature[f]);
      instruction.free();
      if (features.some((f) => SYSTEM_FEATURES.has(f))) system.add(mnemonic);
      allCpl0.set(mnemonic, (allCpl0.get(mnemonic) ?? true) && op.mustBeCpl0);
    } finally {
      op.free();
    }
  }
  for (const [mnemonic, cpl0] of allCpl0) if (cpl0) system.add(mnemonic);
  return system;
}

export interface RegisterSet {
  readonly general: readonly string[];
  readonly segment: readonly string[];
  readonly control: readonly string[];
  readonly debug: readonly string[];
  readonly ip: readonly string[];
}

/** Register names (lower case) by class: iced's Register enum, as far as the assembler accepts them. */
export function registerSet(): RegisterSet {
  const out = { general: new Set<string>(), segment: new Set<string>(), control: new Set<string>(),
    debug: new Set<string>(), ip: new Set<string>() };
  for (const key of Object.keys(Register)) {
    const reg = Number(key);
    if (!Number.isInteger(reg) || reg === Register.None) continue;
    const name = Register[reg].toLowerCase();
    if (!isRegisterName(name)) continue;
    if (RegisterExt.isGPR(reg)) {
      out.general.add(name);
      // NASM spells the low byte of r8–r15 both `r8l` (iced) and `r8b`.
      if (/^r\d+l$/.test(name)) out.general.add(name.replace(/l$/, 'b'));
    } else if (RegisterExt.isSegmentRegister(reg)) out.segment.add(name);
    else if (RegisterExt.isCR(reg)) out.control.add(name);
    else if (RegisterExt.isDR(reg)) out.debug.add(name);
    else if (RegisterExt.isIP(reg)) out.ip.add(name);
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { general: sorted(out.general), segment: sorted(out.segment), control: sorted(out.control),
    debug: sorted(out.debug), ip: sorted(out.ip) };
}

/** Assembler directives (statement keywords that are not instructions). */
export const DIRECTIVES = ['org', 'section', 'segment', 'bits', 'align', 'alignb', 'times', 'equ', 'default',
  'global', 'extern'];
export const DATA_DIRECTIVES = ['db', 'dw', 'dd', 'dq', 'resb', 'resw', 'resd', 'resq'];
export const PREPROCESSOR_DIRECTIVES = ['define', 'undef', 'include', 'assign', 'if', 'ifdef', 'ifndef',
  'elif', 'else', 'endif', 'macro', 'endmacro', 'rep', 'endrep', 'error', 'warning'];
export const SIZE_KEYWORDS = ['byte', 'word', 'dword', 'qword', 'tword', 'oword', 'ptr', 'rel', 'abs',
  'near', 'far', 'short', 'strict'];

/** Identifier characters, as src/asm/lexer.ts reads them (NASM: `$` and `#` only after the first). */
const ID_START = '[A-Za-z_.?@]';
const ID_CHAR = '[\\w.?@$#]';
/** A whole word: not preceded or followed by identifier characters (so `.loop` is not LOOP). */
function word(names: readonly string[], caseInsensitive: boolean): string {
  const sorted = [...names].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const escaped = sorted.map((n) => n.replace(/[.?$#@]/g, (c) => '\\' + c));
  return `${caseInsensitive ? '(?i)' : ''}(?<!${ID_CHAR}|%)(?:${escaped.join('|')})(?!${ID_CHAR})`;
}

interface Rule {
  readonly name?: string;
  readonly match: string;
  readonly captures?: Readonly<Record<string, { readonly name: string }>>;
}

function rule(name: string, match: string): Rule {
  return { name: `${name}.${SCOPE}`, match };
}

function captures(...names: string[]): Record<string, { name: string }> {
  return Object.fromEntries(names.map((n, i) => [String(i + 1), { name: `${n}.${SCOPE}` }]));
}

/** The grammar as a JSON-ready object. Rule order matters where two rules match at one position. */
export function buildGrammar(): object {
  const instructions = instructionSet();
  const registers = registerSet();
  const arch = archConstantNames();
  const repository: Record<string, { patterns: Rule[] }> = {
    comment: { patterns: [{ name: `comment.line.semicolon.${SCOPE}`, match: '(;).*$',
      captures: captures('punctuation.definition.comment') }] },
    string: { patterns: [
      rule('constant.character.literal', "'[^']'"),
      rule('string.quoted.double', '"[^"]*(?:"|$)'),
      rule('string.quoted.single', "'[^']*(?:'|$)"),
      rule('string.quoted.other.backtick', '`(?:[^`\\\\]|\\\\.)*(?:`|$)'),
    ] },
    label: { patterns: [
      { match: `^\\s*(\\.${ID_CHAR}*)\\s*(:)`, captures: captures('entity.name.function.label.local',
        'punctuation.separator.label') },
      { match: `^\\s*(${ID_START}${ID_CHAR}*)\\s*(:)`, captures: captures('entity.name.function.label',
        'punctuation.separator.label') },
      { match: `(?i)^\\s*(${ID_START}${ID_CHAR}*)\\s+(equ)(?!${ID_CHAR})`, captures: captures(
        'variable.other.constant.definition', 'keyword.control.directive') },
    ] },
    preprocessor: { patterns: [
      { match: `(?i)^\\s*(%(?:define|undef|assign|macro))\\s+(${ID_START}${ID_CHAR}*)`, captures: captures(
        'keyword.control.directive.preprocessor', 'entity.name.function.preprocessor') },
      rule('keyword.control.directive.preprocessor', `(?i)%(?:${PREPROCESSOR_DIRECTIVES.join('|')})(?!${ID_CHAR})`),
    ] },
    directive: { patterns: [
      { match: `(?i)^\\s*(section|segment)\\s+(${ID_CHAR}+)`, captures: captures('keyword.control.directive',
        'entity.name.namespace.section') },
      rule('keyword.control.directive', word(DIRECTIVES, true)),
      rule('storage.type.data', word(DATA_DIRECTIVES, true)),
      rule('storage.modifier.size', word(SIZE_KEYWORDS, true)),
    ] },
    instruction: { patterns: [
      rule('keyword.other.prefix', word(PREFIXES, true)),
      rule('keyword.control.instruction.system', word(instructions.system, true)),
      rule('keyword.other.instruction', word(instructions.general, true)),
    ] },
    register: { patterns: [
      rule('variable.other.register.general', word(registers.general, true)),
      rule('variable.other.register.segment', word(registers.segment, true)),
      rule('variable.other.register.control', word(registers.control, true)),
      rule('variable.other.register.debug', word(registers.debug, true)),
      rule('variable.other.register.ip', word(registers.ip, true)),
    ] },
    constant: { patterns: [
      ...(arch.msr.length ? [rule('variable.other.constant.msr', word(arch.msr, false))] : []),
      ...(arch.vmcs.length ? [rule('variable.other.constant.vmcs', word(arch.vmcs, false))] : []),
      ...(arch.other.length ? [rule('variable.other.constant.arch', word(arch.other, false))] : []),
      rule('variable.language.location', `(?<!${ID_CHAR})\\$\\$?(?!${ID_CHAR})`),
    ] },
    number: { patterns: [
      // 0x1F, 0h1F, 1Fh; 0b101, 101b, 0y101; 0o17, 17o, 17q; 0d99, 99d, 99. Underscores separate digits.
      rule('constant.numeric.hex', `(?i)(?<!${ID_CHAR})(?:0[xh][0-9a-f_]+|[0-9][0-9a-f_]*h)(?!${ID_CHAR})`),
      rule('constant.numeric.binary', `(?i)(?<!${ID_CHAR})(?:0[by][01_]+|[01][01_]*[by])(?!${ID_CHAR})`),
      rule('constant.numeric.octal', `(?i)(?<!${ID_CHAR})(?:0[oq][0-7_]+|[0-7][0-7_]*[oq])(?!${ID_CHAR})`),
      rule('constant.numeric.decimal', `(?i)(?<!${ID_CHAR})(?:0d[0-9_]+|[0-9][0-9_]*d?)(?!${ID_CHAR})`),
    ] },
    operator: { patterns: [
      rule('keyword.operator', '<<|>>|\\/\\/|%%|[-+*\\/%&|^~!]'),
      rule('punctuation.separator.comma', ','),
      rule('punctuation.definition.memory.begin', '\\['),
      rule('punctuation.definition.memory.end', '\\]'),
    ] },
  };
  const order = ['comment', 'string', 'label', 'preprocessor', 'directive', 'instruction', 'register',
    'constant', 'number', 'operator'];
  return {
    $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
    name: 'FRED Assembly',
    scopeName: `source.${SCOPE}`,
    comment: 'GENERATED by scripts/generate-grammar.mjs from iced-x86 and src/arch; do not edit by hand.',
    fileTypes: ['fred'],
    patterns: order.map((name) => ({ include: `#${name}` })),
    repository,
  };
}

/** The file text: stable key order and a trailing newline, so regeneration is byte-identical. */
export function grammarText(): string {
  return JSON.stringify(buildGrammar(), null, 2) + '\n';
}

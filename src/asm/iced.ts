// The iced-x86 names the assembler uses, bound once. (A bundler turns each `Register.X` on an imported
// CommonJS module into a getter call; in the encoder's hot loops that cost ~6% of the run time.)
import * as iced from 'iced-x86';

export const Code = iced.Code;
export type Code = iced.Code;
export const Register = iced.Register;
export type Register = iced.Register;
export const OpKind = iced.OpKind;
export type OpKind = iced.OpKind;
export const OpCodeOperandKind = iced.OpCodeOperandKind;
export type OpCodeOperandKind = iced.OpCodeOperandKind;
export const RepPrefixKind = iced.RepPrefixKind;
export type RepPrefixKind = iced.RepPrefixKind;
export const MemorySize = iced.MemorySize;
export type MemorySize = iced.MemorySize;
export const Instruction = iced.Instruction;
export type Instruction = iced.Instruction;
export const Encoder = iced.Encoder;
export const RegisterExt = iced.RegisterExt;
export const CodeExt = iced.CodeExt;
export const MemorySizeExt = iced.MemorySizeExt;
export const EncodingKind = iced.EncodingKind;
export const Mnemonic = iced.Mnemonic;
export const OpCodeTableKind = iced.OpCodeTableKind;

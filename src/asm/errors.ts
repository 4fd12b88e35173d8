// An error at a column range of the current line; the assembler turns it into a Diagnostic and goes on
// with the next line (one run reports every error). Deliberately not an `Error`: it is always caught by
// the assembler, and capturing a stack trace for every bad line made error-heavy input 20% slower.
export class AsmError {
  constructor(readonly message: string, readonly start: number, readonly end: number) {}
}

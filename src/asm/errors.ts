// An error at a column range of the current line; the assembler turns it into a Diagnostic and goes on
// with the next line (one run reports every error).
export class AsmError extends Error {
  constructor(message: string, readonly start: number, readonly end: number) {
    super(message);
  }
}

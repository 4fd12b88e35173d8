// A TextMate scanner for grammars made only of `match` rules (what scripts/generate-grammar.ts
// emits): at each position the rule whose match starts first wins, ties go to the earlier rule,
// captures name sub-ranges — the rules of the TextMate manual §12. Patterns are compiled as
// JavaScript regexes (a leading `(?i)` becomes the `i` flag); the grammar test checks that every
// pattern is in that common subset, and the e2e test checks the real tokenizer in VS Code.

interface Rule {
  readonly name?: string;
  readonly match?: string;
  readonly include?: string;
  readonly captures?: Record<string, { name: string }>;
  readonly patterns?: Rule[];
}

export interface Grammar {
  readonly scopeName: string;
  readonly patterns: Rule[];
  readonly repository: Record<string, { patterns: Rule[] }>;
}

export interface Token {
  readonly text: string;
  /** The token's scope below the grammar's root scope, or undefined for unscoped text. */
  readonly scope: string | undefined;
}

interface CompiledRule {
  readonly regex: RegExp;
  readonly rule: Rule;
}

export function compilePattern(pattern: string): RegExp {
  const caseInsensitive = pattern.startsWith('(?i)');
  return new RegExp(caseInsensitive ? pattern.slice(4) : pattern, caseInsensitive ? 'gdi' : 'gd');
}

function flatten(grammar: Grammar, rules: readonly Rule[], out: CompiledRule[]): CompiledRule[] {
  for (const rule of rules) {
    if (rule.include) {
      const entry = grammar.repository[rule.include.replace(/^#/, '')];
      if (!entry) throw new Error(`include ${rule.include} not in the repository`);
      flatten(grammar, entry.patterns, out);
    } else if (rule.match !== undefined) {
      out.push({ regex: compilePattern(rule.match), rule });
    } else {
      throw new Error(`rule without match: ${JSON.stringify(rule)}`);
    }
  }
  return out;
}

export class MatchScanner {
  private readonly rules: CompiledRule[];

  constructor(grammar: Grammar) {
    this.rules = flatten(grammar, grammar.patterns, []);
  }

  /** Tokens of one line; unscoped stretches are returned too, so the texts join up to the line. */
  tokenize(line: string): Token[] {
    const tokens: Token[] = [];
    const plain = (from: number, to: number) => {
      if (to > from) tokens.push({ text: line.slice(from, to), scope: undefined });
    };
    let pos = 0;
    while (pos < line.length) {
      let best: { m: RegExpExecArray; rule: Rule } | undefined;
      for (const { regex, rule } of this.rules) {
        regex.lastIndex = pos;
        const m = regex.exec(line);
        if (m && (!best || m.index < best.m.index)) best = { m, rule };
      }
      if (!best || best.m[0].length === 0) {
        plain(pos, line.length);
        break;
      }
      const { m, rule } = best;
      const end = m.index + m[0].length;
      plain(pos, m.index);
      if (rule.captures) {
        let at = m.index;
        const indices = m.indices!;
        for (let group = 1; group < indices.length; group++) {
          const range = indices[group];
          const scope = rule.captures[String(group)]?.name;
          if (!range || !scope) continue;
          plain(at, range[0]);
          tokens.push({ text: line.slice(range[0], range[1]), scope: rule.name ? `${rule.name} ${scope}` : scope });
          at = range[1];
        }
        if (at < end) tokens.push({ text: line.slice(at, end), scope: rule.name });
      } else {
        tokens.push({ text: m[0], scope: rule.name });
      }
      pos = end;
    }
    return tokens.filter((t) => t.text.length > 0);
  }

  /** The scope of the first token whose text is `text` (trimmed), for compact assertions. */
  scopeOf(line: string, text: string): string | undefined {
    const token = this.tokenize(line).find((t) => t.text.trim() === text);
    if (!token) throw new Error(`no token '${text}' in '${line}': ${JSON.stringify(this.tokenize(line))}`);
    return token.scope;
  }
}

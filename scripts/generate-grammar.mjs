// Regenerates syntaxes/fred-asm.tmLanguage.json: bundles src/extension/grammar/buildGrammar.ts (which reads
// iced-x86 and src/arch) with esbuild, runs it and writes the grammar. `--check` only compares and
// exits 1 when the committed file is stale.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const outDir = join('node_modules', '.cache', 'fred-lab');
const outfile = join(outDir, 'generate-grammar.cjs');
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: ['src/extension/grammar/buildGrammar.ts'], outfile, bundle: true, platform: 'node', target: 'node20',
  format: 'cjs', external: ['iced-x86'], logLevel: 'warning',
});
const { grammarText, GRAMMAR_PATH } = createRequire(import.meta.url)(join(process.cwd(), outfile));
const text = grammarText();
let current = '';
try { current = readFileSync(GRAMMAR_PATH, 'utf8'); } catch { /* first generation */ }
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error(`${GRAMMAR_PATH} is stale: run node scripts/generate-grammar.mjs`);
    process.exit(1);
  }
} else if (current !== text) {
  writeFileSync(GRAMMAR_PATH, text);
  console.log(`wrote ${GRAMMAR_PATH} (${text.length} bytes)`);
}

// Bundles the three entry points with esbuild and copies iced-x86's WebAssembly next to them
// (iced-x86 loads `iced_x86_bg.wasm` from its own __dirname, which is dist/ once bundled).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
mkdirSync('dist', { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/debug/debugAdapter.ts'], outfile: 'dist/debugAdapter.js' }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
]);
chmodSync('dist/cli.js', 0o755);
copyFileSync(join(dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm'), 'dist/iced_x86_bg.wasm');

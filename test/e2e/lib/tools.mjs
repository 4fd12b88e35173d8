// Where test/e2e/setup.sh put the tools (outside the repository) and how to load them.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CACHE = process.env.FRED_LAB_E2E_CACHE || join(homedir(), '.cache', 'fred-lab-e2e');

export function tools() {
  const t = {
    node24: join(CACHE, 'node_modules', 'node', 'bin', 'node'),
    codeServer: join(CACHE, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    playwrightCore: join(CACHE, 'pw', 'node_modules', 'playwright-core'),
    chromium: process.env.FRED_LAB_E2E_CHROMIUM || '/usr/bin/chromium',
  };
  const missing = Object.entries(t).filter(([, p]) => !existsSync(p)).map(([k, p]) => `${k} (${p})`);
  if (missing.length) {
    throw new Error(`e2e tools missing: ${missing.join(', ')}. Run: bash test/e2e/setup.sh`);
  }
  return t;
}

/** playwright-core from the cache, so it is not a project dependency. */
export function loadPlaywright(t) {
  return createRequire(join(t.playwrightCore, 'package.json'))('playwright-core');
}

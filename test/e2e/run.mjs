#!/usr/bin/env node
// End-to-end tests in a real VS Code: builds the extension, packages it (vsce) and installs it into a
// fresh code-server, opens a scratch workspace in headless Chromium (playwright-core) and runs the
// scenarios. Exits non-zero on any failure; screenshots and logs go to test/.tmp/e2e/.
// Tools come from test/e2e/setup.sh (run it once). See docs/extension.md.
// Then runs test/e2e/exthost/*.test.js (mocha, full `vscode` API) in code-server's extension host.
//   node test/e2e/run.mjs [--no-build] [--folder] [--headed] [--ui | --exthost] [scenario…]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeServerCli, prepareRunDir, startCodeServer } from './lib/codeServer.mjs';
import { runExtensionHostTests } from './lib/extHost.mjs';
import { loadPlaywright, tools } from './lib/tools.mjs';
import { SCENARIOS } from './scenarios/index.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const wanted = args.filter((a) => !a.startsWith('--'));
const out = join(repo, 'test', '.tmp', 'e2e');
const started = Date.now();
const timings = [];
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);

async function timed(name, fn) {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([name, (Date.now() - t0) / 1000]);
  }
}

function run(cmd, cmdArgs) {
  execFileSync(cmd, cmdArgs, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
}

async function main() {
  const t = tools();
  const scenarios = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  if (!scenarios.length) throw new Error(`no scenario named ${wanted.join(', ')}; have ${SCENARIOS.map((s) => s.name).join(', ')}`);

  rmSync(out, { recursive: true, force: true });
  const runDir = join(out, 'run');
  const extensionsDir = join(out, 'extensions');
  const workspace = join(out, 'workspace');
  mkdirSync(extensionsDir, { recursive: true });
  prepareRunDir(runDir);

  if (!flag('--no-build')) await timed('build', () => run('npm', ['run', 'build']));
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  if (flag('--exthost')) {
    // The extension-host phase loads the repository itself as the extension under development.
  } else if (flag('--folder')) {
    // A folder extension named publisher.name-version is picked up without installing (README §1).
    await timed('install (folder)', () => {
      const dir = join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
      for (const p of ['package.json', 'dist', 'syntaxes', 'snippets', 'media', 'language-configuration.json', 'LICENSE', 'README.md']) {
        cpSync(join(repo, p), join(dir, p), { recursive: true });
      }
    });
  } else {
    const vsix = join(out, `${pkg.name}.vsix`);
    await timed('vsce package', () => run('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix]));
    await timed('install vsix', () => codeServerCli(t, runDir, ['--user-data-dir', join(runDir, 'user-data'),
      '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force']));
  }

  // Scratch workspace: the examples plus whatever files the scenarios write.
  cpSync(join(repo, 'examples'), workspace, { recursive: true });
  for (const s of scenarios) for (const [name, text] of Object.entries(s.files ?? {})) writeFileSync(join(workspace, name), text);

  const { chromium } = loadPlaywright(t);
  const launchOptions = {
    executablePath: t.chromium, headless: !flag('--headed'), viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  };
  const failures = [];
  let passed = 0;
  if (!flag('--exthost')) passed += await runUiScenarios({ t, chromium, launchOptions, scenarios, runDir, extensionsDir, workspace, failures });
  if (!flag('--ui') && !wanted.length) {
    const r = await timed('extension-host tests', () => runExtensionHostTests({ t, chromium, repo, out, workspace, launchOptions }));
    for (const test of r.results) {
      console.log(`[e2e ${elapsed()}s] ${test.state === 'passed' ? 'PASS' : 'FAIL'} exthost: ${test.title}${test.error ? `\n${test.error}` : ''}`);
      if (test.state === 'passed') passed++;
      else failures.push(`exthost: ${test.title}`);
    }
    if (!r.results.length) failures.push(`exthost: no tests ran (exit ${r.code}); see test/.tmp/e2e/exthost-console.log`);
  }
  console.log('\ntimings (s):');
  for (const [name, s] of timings) console.log(`  ${s.toFixed(2).padStart(7)}  ${name}`);
  console.log(`  ${elapsed().padStart(7)}  total`);
  console.log(`\nscreenshots and logs: ${out}`);
  console.log(`e2e: ${passed} passed, ${failures.length} failed`);
  return failures.length ? 1 : 0;
}

/** The UI scenarios against the installed extension; returns how many passed, pushes failures. */
async function runUiScenarios({ t, chromium, launchOptions, scenarios, runDir, extensionsDir, workspace, failures }) {
  let passed = 0;
  const server = await timed('code-server start', () => startCodeServer(t, { runDir, extensionsDir, workspace }));
  let context;
  try {
    context = await timed('chromium launch', () => chromium.launchPersistentContext(join(runDir, 'chromium-profile'), launchOptions));
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLog = [];
    page.on('console', (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
    await timed('workbench load', async () => {
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'hello.fred' }).waitFor({ timeout: 60_000 });
    });
    for (const scenario of scenarios) {
      let shots = 0;
      const ctx = {
        page, workspace,
        step: (name, fn) => timed(`${scenario.name}: ${name}`, async () => {
          console.log(`[e2e ${elapsed()}s] ${scenario.name}: ${name}`);
          return fn();
        }),
        shot: (name) => page.screenshot({ path: join(out, `${scenario.name}-${String(++shots).padStart(2, '0')}-${name}.png`) }),
      };
      try {
        await scenario.run(ctx);
        passed++;
        console.log(`[e2e ${elapsed()}s] PASS ${scenario.name}`);
      } catch (e) {
        failures.push(scenario.name);
        console.error(`[e2e ${elapsed()}s] FAIL ${scenario.name}: ${e instanceof Error ? e.message : e}`);
        await page.screenshot({ path: join(out, `${scenario.name}-FAILED.png`) }).catch(() => {});
      }
    }
    writeFileSync(join(out, 'browser-console.log'), consoleLog.join('\n'));
  } finally {
    await context?.close().catch(() => {});
    server.stop();
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  return passed;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`e2e: ${e instanceof Error ? e.message : e}`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});

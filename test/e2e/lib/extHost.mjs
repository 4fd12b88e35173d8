// Runs test/e2e/exthost/*.test.js with mocha inside code-server's extension host (README §3): the
// workbench is opened with a `payload` naming the extension under development (the repository) and
// the test entry; code-server needs `--vscode-option enable-smoke-test-driver` for that, and the page
// must expose `codeAutomationExit` before it loads.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCodeServer } from './codeServer.mjs';

export async function runExtensionHostTests({ t, chromium, repo, out, workspace, launchOptions }) {
  const runDir = join(out, 'run');
  const emptyExtensions = join(out, 'exthost-extensions');
  mkdirSync(emptyExtensions, { recursive: true });
  const resultsFile = join(out, 'exthost-results.json');
  writeFileSync(resultsFile, '');
  const server = await startCodeServer(t, {
    runDir, extensionsDir: emptyExtensions, workspace,
    extraArgs: ['--vscode-option', 'enable-smoke-test-driver'],
    env: { FRED_LAB_MOCHA: join(t.playwrightCore, '..', 'mocha'), FRED_LAB_EXTHOST_RESULTS: resultsFile },
  });
  const context = await chromium.launchPersistentContext(join(runDir, 'chromium-profile-exthost'), launchOptions);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLog = [];
    page.on('console', (m) => consoleLog.push(m.text()));
    const done = new Promise((r) => page.exposeFunction('codeAutomationExit', (code) => r(code)));
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${resolve(p)}`;
    const payload = [['extensionDevelopmentPath', remote(repo)], ['extensionTestsPath', remote(join(repo, 'test', 'e2e', 'exthost', 'index.js'))]];
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const code = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), 180_000))]);
    writeFileSync(join(out, 'exthost-console.log'), consoleLog.join('\n'));
    let summary = { failures: 1, results: [] };
    try {
      summary = JSON.parse(readFileSync(resultsFile, 'utf8'));
    } catch { /* the tests never ran: the console log says why */ }
    if (code === 'timeout') summary.results.push({ title: 'extension-host run', state: 'failed', error: 'no result within 180 s' });
    return { code, ...summary };
  } finally {
    await context.close().catch(() => {});
    server.stop();
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 5000))]);
  }
}

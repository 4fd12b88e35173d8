// Starts code-server (VS Code 1.139 server) in its own process group and stops the whole group
// (server, extension host, pty host, watchers) — /work/shared/e2e/README.md §2, pitfalls 11 and 15.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const USER_SETTINGS = {
  'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'telemetry.telemetryLevel': 'off',
  'update.mode': 'none', 'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false,
  'security.workspace.trust.enabled': false, 'workbench.colorTheme': 'Default Dark Modern',
  'editor.minimap.enabled': false, 'window.restoreWindows': 'none', 'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true, 'debug.openDebug': 'openOnSessionStart', 'debug.toolBarLocation': 'floating',
  'files.hotExit': 'off', 'git.enabled': false, 'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs code-server's CLI once (e.g. --install-extension) and resolves with its output. */
export function codeServerCli(t, runDir, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(t.node24, [t.codeServer, '--config', join(runDir, 'config.yaml'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`code-server ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

export function prepareRunDir(runDir) {
  mkdirSync(join(runDir, 'user-data', 'User'), { recursive: true });
  writeFileSync(join(runDir, 'config.yaml'), 'auth: none\ncert: false\n');
  writeFileSync(join(runDir, 'user-data', 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
}

export async function startCodeServer(t, { runDir, extensionsDir, workspace, extraArgs = [], env = {} }) {
  const port = await freePort();
  const log = createWriteStream(join(runDir, 'code-server.log'), { flags: 'a' });
  const child = spawn(t.node24, [t.codeServer, '--config', join(runDir, 'config.yaml'), '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', join(runDir, 'user-data'), '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--ignore-last-opened', ...extraArgs, workspace], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch { /* already gone */ }
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${join(runDir, 'code-server.log')}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return { url, port, pid: child.pid, stop, exited: new Promise((r2) => child.once('exit', r2)) };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error(`code-server did not answer /healthz within 30 s; see ${join(runDir, 'code-server.log')}`);
}

// Language features through the real VS Code API in code-server's extension host: activation,
// diagnostics (and their clearing), hovers, and the debug wiring up to the adapter.
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

const folder = () => vscode.workspace.workspaceFolders[0];
const file = (name) => path.join(folder().uri.fsPath, 'exthost', name);

/** Resolves when `check()` returns a truthy value (re-checked on every diagnostics change). */
function whenDiagnostics(check, what) {
  return new Promise((resolve, reject) => {
    const done = (value) => { clearTimeout(timer); sub.dispose(); resolve(value); };
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for ${what}`)); }, 30_000);
    const sub = vscode.languages.onDidChangeDiagnostics(() => { const v = check(); if (v) done(v); });
    const v = check();
    if (v) done(v);
  });
}

async function open(name) {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file(name)));
  await vscode.window.showTextDocument(doc);
  return doc;
}

suite('fred-asm language', () => {
  suiteSetup(() => {
    fs.mkdirSync(path.dirname(file('x')), { recursive: true });
    fs.writeFileSync(file('broken.fred'), ['bits 64', '_start:', '        nop', '        frobnicate rax, 1', '        hlt', ''].join('\n'));
    fs.writeFileSync(file('msr.fred'), ['bits 64', '_start:', '        mov     ecx, IA32_FRED_CONFIG', '        hlt', ''].join('\n'));
  });

  test('a .fred file activates the extension with language fred-asm', async () => {
    const doc = await open('msr.fred');
    assert.strictEqual(doc.languageId, 'fred-asm');
    const ext = vscode.extensions.getExtension('fred-lab.fred-lab');
    assert.ok(ext, 'extension fred-lab.fred-lab is loaded');
    await ext.activate();
    assert.ok(ext.isActive);
  });

  test('the hover on an MSR name gives its index and fields', async () => {
    const doc = await open('msr.fred');
    const column = doc.lineAt(2).text.indexOf('IA32_FRED_CONFIG') + 3;
    const hovers = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(2, column));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /MSR 0x1D4/);
    assert.match(text, /ENTRYPOINT/);
  });

  test('an assembler error is a diagnostic on its line, and fixing it clears it', async () => {
    const doc = await open('broken.fred');
    const [d] = await whenDiagnostics(() => {
      const list = vscode.languages.getDiagnostics(doc.uri);
      return list.length ? list : undefined;
    }, 'the frobnicate error');
    assert.strictEqual(d.range.start.line, 3);
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(d.source, 'fred-asm');
    assert.match(d.message, /frobnicate/);

    const edit = new vscode.WorkspaceEdit();
    const line = doc.lineAt(3);
    edit.replace(doc.uri, line.range, '        mov     rax, 1');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await whenDiagnostics(() => vscode.languages.getDiagnostics(doc.uri).length === 0, 'the diagnostic to clear');
  });

  for (const mode of ['inline', 'process']) {
    test(`a fred launch stops on entry with the ${mode} adapter`, async () => {
      await vscode.workspace.getConfiguration('fredLab').update('debugAdapter', mode, vscode.ConfigurationTarget.Global);
      const seen = [];
      let onStopped;
      const stopped = new Promise((resolve) => { onStopped = resolve; });
      const tracker = vscode.debug.registerDebugAdapterTrackerFactory('fred', {
        createDebugAdapterTracker: () => ({
          onDidSendMessage: (m) => {
            if (m.type === 'response') seen.push(`${m.command}:${m.success}`);
            if (m.type === 'event' && m.event === 'stopped') {
              seen.push(`stopped:${m.body.reason}`);
              onStopped();
            }
          },
          onError: (e) => seen.push(`error: ${e && e.message}`),
          onExit: (code, signal) => seen.push(`adapter exited (code ${code}, signal ${signal})`),
        }),
      });
      try {
        const ended = new Promise((resolve) => {
          const sub = vscode.debug.onDidTerminateDebugSession(() => { sub.dispose(); resolve(); });
        });
        // A launch error makes VS Code show a dialog, which the test driver refuses and turns into a
        // rejection carrying the adapter's message.
        let started = false;
        try {
          started = await vscode.debug.startDebugging(folder(), {
            type: 'fred', request: 'launch', name: `exthost ${mode}`, program: file('msr.fred'), stopOnEntry: true,
          });
        } catch (e) {
          assert.fail(`launch failed: ${e && e.message}; adapter messages: ${seen.join(', ') || 'none'}`);
        }
        assert.ok(started, `startDebugging returned false; adapter messages: ${seen.join(', ') || 'none'}`);
        await Promise.race([stopped, new Promise((r) => setTimeout(r, 30_000))]);
        assert.ok(seen.includes('initialize:true') && seen.includes('launch:true'), `adapter messages: ${seen.join(', ')}`);
        assert.ok(seen.includes('stopped:entry'), `adapter messages: ${seen.join(', ')}`);
        // Under the VMX monitor (no "vmx" attribute: KVM's defaults) the views' requests answer.
        const vmcs = await vscode.debug.activeDebugSession.customRequest('fredLab/vmcs');
        assert.strictEqual(vmcs.active, true);
        assert.deepStrictEqual(vmcs.groups.map((g) => g.group), ['guestRegisterState', 'guestNonRegisterState', 'hostState', 'executionControl', 'exitControl', 'entryControl', 'exitInformation']);
        const injected = await vscode.debug.activeDebugSession.customRequest('fredLab/inject', { kind: 'nmi' });
        assert.match(injected.description, /^NMI queued/);
        if (vscode.debug.activeDebugSession) await vscode.debug.stopDebugging(vscode.debug.activeDebugSession);
        await Promise.race([ended, new Promise((r) => setTimeout(r, 10_000))]);
      } finally {
        tracker.dispose();
        await vscode.workspace.getConfiguration('fredLab').update('debugAdapter', undefined, vscode.ConfigurationTarget.Global);
      }
    });
  }
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Smoke: what only a real editor shows. examples/hello.fred opens as "FRED Assembly", its tokens are
// coloured by the grammar, a file without extension is recognised by its `; fred-lab` first line, a
// hover explains an MSR, and a broken file shows the assembler's diagnostic in the Problems panel on
// the right line (also for an %include'd file), F9 sets a breakpoint, F5 without launch.json starts a
// session paused on entry (under the VMX monitor, the default) with the FRED and VMCS scopes in the
// Variables view, and continue stops at the breakpoint.

const BROKEN = [
  '; fred-lab',
  'bits 64',
  '_start:',
  '        frobnicate rax, 1',
  '        hlt',
  '',
].join('\n');
const BROKEN_LINE = 4;

// An error in an %include'd file is reported on that file, at its own line.
const MAIN = ['; fred-lab', 'bits 64', '%include "lib.fred"', '_start:', '        call    helper', '        hlt', ''].join('\n');
const LIB = ['helper:', '        bogusop rax', '        ret', ''].join('\n');
const LIB_LINE = 2;

const HOVER = [
  '; fred-lab',
  'bits 64',
  '_start:',
  '        mov     ecx, IA32_FRED_CONFIG',
  '        rdmsr',
  '        hlt',
  '',
].join('\n');

/** The mtk* colour classes of the spans holding `words` on the editor line containing `lineText`. */
async function tokenClasses(page, lineText, words) {
  return page.evaluate(({ lineText, words }) => {
    const norm = (s) => s.replace(/\u00a0/g, ' ');
    const line = [...document.querySelectorAll('.editor-instance .view-line')].find((l) => norm(l.textContent).includes(lineText));
    if (!line) return null;
    const spans = [...line.querySelectorAll('span[class*="mtk"]')];
    return Object.fromEntries(words.map((w) => [w, spans.find((s) => norm(s.textContent).trim() === w)?.className ?? null]));
  }, { lineText, words });
}

async function openFile(page, name, lineText) {
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('Control+P');
  await input.fill(name);
  // Click the row: Enter takes the highlighted row, which may still be a recently opened file.
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: 20_000 });
  await row.click();
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 20_000 });
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.locator('.view-line', { hasText: lineText }).first().waitFor({ timeout: 30_000 });
  return editor;
}

async function languageIs(page, expected) {
  const mode = page.locator('.statusbar-item[id="status.editor.mode"]');
  await mode.filter({ hasText: expected }).waitFor({ timeout: 20_000 });
  return (await mode.innerText()).trim();
}

export const smoke = {
  name: 'smoke',
  files: { 'broken.fred': BROKEN, 'hover.fred': HOVER, 'main.fred': MAIN, 'lib.fred': LIB,
    'noextension': '; fred-lab\nbits 64\n        nop\n' },
  async run({ page, workspace, step, shot }) {
    // examples/hello.fred changes as the project grows: find its first `mnemonic register, number` line.
    const hello = readFileSync(join(workspace, 'hello.fred'), 'utf8').split('\n');
    const matches = hello.map((l) => /^\s+([a-z]+)\s+([a-z][a-z0-9]*),\s*(0x[0-9a-f]+|[0-9]+)\s*(;.*)?$/i.exec(l));
    const sample = matches.find(Boolean);
    const sampleLine = matches.findIndex(Boolean) + 1;
    if (!sample) throw new Error('examples/hello.fred has no `mnemonic register, number` line to check the colours on');
    const [, mnemonic, register, number] = sample;
    const lineText = `${mnemonic}${sample[0].slice(sample[0].indexOf(mnemonic) + mnemonic.length).split(';')[0]}`.trimEnd();

    await step('open hello.fred', () => openFile(page, 'hello.fred', lineText));

    await step('status bar language is FRED Assembly', () => languageIs(page, 'FRED Assembly'));

    await step(`grammar colours mnemonic, register and number differently ("${lineText}")`, async () => {
      const words = [mnemonic, register, number];
      await page.waitForFunction(({ lineText, words }) => {
        const norm = (s) => s.replace(/\u00a0/g, ' ');
        const line = [...document.querySelectorAll('.editor-instance .view-line')].find((l) => norm(l.textContent).includes(lineText));
        if (!line) return false;
        const spans = [...line.querySelectorAll('span[class*="mtk"]')];
        const classes = words.map((w) => spans.find((s) => norm(s.textContent).trim() === w)?.className);
        return classes.every(Boolean) && new Set(classes).size === 3;
      }, { lineText, words }, { timeout: 20_000 });
      console.log(`    token classes: ${JSON.stringify(await tokenClasses(page, lineText, words))}`);
    });

    await step('FRED Lab status bar item', () =>
      page.locator('.statusbar-item', { hasText: 'FRED Lab' }).first().waitFor({ timeout: 20_000 }));
    await shot('hello');

    await step('first line "; fred-lab" selects the language', async () => {
      await openFile(page, 'noextension', 'nop');
      await languageIs(page, 'FRED Assembly');
    });

    await step('hover explains an MSR', async () => {
      const editor = await openFile(page, 'hover.fred', 'IA32_FRED_CONFIG');
      // Put the cursor in the word and ask for the hover from the keyboard (Ctrl+K Ctrl+I): a
      // synthetic mouse hover depends on the pointer path and the hover delay.
      await editor.locator('.view-line span[class*="mtk"]', { hasText: /^IA32_FRED_CONFIG$/ }).first().click();
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      const hover = page.locator('.monaco-hover').filter({ hasText: 'MSR 0x1D4' }).first();
      await hover.waitFor({ timeout: 20_000 });
      await shot('hover');
      await page.keyboard.press('Escape');
    });

    await step('broken file: diagnostic in the Problems panel on the right line', async () => {
      await openFile(page, 'broken.fred', 'frobnicate');
      await page.keyboard.press('Control+Shift+M');
      const text = await problemOnLine(page, 'frobnicate', BROKEN_LINE);
      console.log(`    problem: ${text}`);
      await page.locator('.editor-instance .monaco-editor .squiggly-error').first().waitFor({ timeout: 10_000 });
      await shot('problems');
    });

    await step('error in an %include\'d file is reported on that file', async () => {
      await openFile(page, 'main.fred', '%include "lib.fred"');
      const file = page.locator('.markers-panel .monaco-list-row', { hasText: 'lib.fred' }).first();
      await file.waitFor({ timeout: 30_000 });
      const text = await problemOnLine(page, 'bogusop', LIB_LINE);
      console.log(`    problem: ${text}`);
      await shot('include-problem');
    });

    await step('F9 sets a breakpoint in a .fred file (contributes.breakpoints)', async () => {
      const editor = await openFile(page, 'hello.fred', lineText);
      await editor.locator('.view-line', { hasText: lineText }).first().click();
      await page.keyboard.press('F9');
      await editor.locator('.codicon-debug-breakpoint').first().waitFor({ timeout: 20_000 });
    });

    await step('F5 without launch.json debugs the file: paused on entry', async () => {
      await page.keyboard.press('F5');
      const toolbar = page.locator('.debug-toolbar');
      try {
        await toolbar.waitFor({ timeout: 30_000 });
      } catch {
        const dialog = await page.locator('.monaco-dialog-box').allInnerTexts();
        const toasts = await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
        throw new Error(`F5 started no debug session within 30 s; dialogs: ${JSON.stringify(dialog)}; notifications: ${JSON.stringify(toasts)}`);
      }
      if (await page.locator('.quick-input-widget').isVisible()) throw new Error('F5 opened a picker instead of starting the fred debugger');
      const callStack = page.locator('.debug-call-stack');
      if (!(await callStack.isVisible())) await page.keyboard.press('Control+Shift+D');
      await callStack.locator('.monaco-list-row', { hasText: '_start' }).first().waitFor({ timeout: 30_000 });
      await page.locator('.editor-instance .debug-top-stack-frame-line').first().waitFor({ timeout: 10_000 });
      await shot('paused-on-entry');
    });

    await step('Variables view shows the FRED scope with its variables while paused', async () => {
      const rows = await scopeVariables(page, 'FRED', 'IA32_FRED_CONFIG');
      console.log(`    FRED scope: ${rows.slice(0, 3).join(' | ')}`);
      await shot('variables-fred');
    });

    await step('under the VMX monitor (the default) the Variables view shows the VMCS scope by SDM group', async () => {
      const groups = await scopeVariables(page, 'VMCS', 'Guest-state area: guest register state');
      console.log(`    VMCS scope: ${groups.slice(0, 3).join(' | ')}`);
      const view = page.locator('.debug-variables');
      const controls = view.locator('.monaco-list-row[aria-label^="VM-execution control fields"]').first();
      await controls.waitFor({ timeout: 10_000 });
      if ((await controls.getAttribute('aria-expanded')) !== 'true') await controls.click();
      // The list is virtualized: wheel down until the group's first field is rendered.
      const field = view.locator('.monaco-list-row[aria-label^="VIRTUAL_PROCESSOR_ID, value 0x"]').first();
      for (let k = 0; k < 6 && (await field.count()) === 0; k++) {
        await view.hover();
        await page.mouse.wheel(0, 120);
        await page.waitForTimeout(200);
      }
      await field.waitFor({ timeout: 10_000 });
      console.log(`    ${await field.getAttribute('aria-label')}`);
      await shot('variables-vmcs');
    });

    await step(`continue stops at the breakpoint on line ${sampleLine}`, async () => {
      await page.locator('.debug-toolbar .action-label.codicon-debug-continue').click();
      const callStack = page.locator('.debug-call-stack');
      await callStack.locator('.monaco-list-row', { hasText: `${sampleLine}:` }).first().waitFor({ timeout: 30_000 });
      await shot('breakpoint');
      await page.keyboard.press('Shift+F5');
      await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
    });
  },
};

/** The Problems row containing `text`; checks it is on `line`, returns its text. */
async function problemOnLine(page, text, line) {
  const row = page.locator('.markers-panel .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 30_000 });
  const rowText = (await row.innerText()).replace(/\s+/g, ' ');
  const aria = (await row.getAttribute('aria-label')) ?? '';
  if (!new RegExp(`\\b(Ln|line) ${line}\\b`, 'i').test(`${rowText} ${aria}`)) {
    throw new Error(`Problems row for '${text}' is not on line ${line}: "${rowText}" / aria-label "${aria}"`);
  }
  return rowText;
}

/**
 * Expand the Variables pane and the scope `scope` in it, wait for a variable named `first…`, and
 * return the scope's variable rows as their aria-labels ("name, value …"). VS Code expands the first
 * scope (Registers) by itself, and the list is virtualized: its rows push the other scopes out of
 * the DOM, so every other expanded scope is collapsed first.
 */
async function scopeVariables(page, scope, first) {
  const header = page.locator('.pane-header', { hasText: 'Variables' }).first();
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  const view = page.locator('.debug-variables');
  const scopes = view.locator('.monaco-list-row[aria-level="1"]');
  try {
    await scopes.first().waitFor({ timeout: 20_000 });
  } catch {
    throw new Error(`the Variables view is empty while paused; rows: ${JSON.stringify(await view.locator('.monaco-list-row').allInnerTexts())}`);
  }
  for (let k = 0; k < 10; k++) {
    const open = view.locator('.monaco-list-row[aria-level="1"][aria-expanded="true"]').filter({ hasNotText: new RegExp(`^\\s*${scope}\\s*$`) });
    if ((await open.count()) === 0) break;
    await open.first().click();
  }
  const scopeRow = scopes.filter({ hasText: new RegExp(`^\\s*${scope}\\s*$`) }).first();
  try {
    await scopeRow.waitFor({ timeout: 10_000 });
  } catch {
    throw new Error(`the Variables view shows no scope '${scope}' while paused; scopes: ${JSON.stringify(await scopes.allInnerTexts())}`);
  }
  if ((await scopeRow.getAttribute('aria-expanded')) !== 'true') await scopeRow.click();
  const variable = view.locator(`.monaco-list-row[aria-label^="${first}"]`).first();
  await variable.waitFor({ timeout: 20_000 });
  const labels = await view.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  const at = labels.findIndex((l) => l.startsWith(first));
  return labels.slice(at);
}

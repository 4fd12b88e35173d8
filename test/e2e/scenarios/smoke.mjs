// Smoke: what only a real editor shows. examples/hello.fred opens as "FRED Assembly", its tokens are
// coloured by the grammar, a file without extension is recognised by its `; fred-lab` first line, a
// hover explains an MSR, and a broken file shows the assembler's diagnostic in the Problems panel on
// the right line.

const BROKEN = [
  '; fred-lab',
  'bits 64',
  '_start:',
  '        frobnicate rax, 1',
  '        hlt',
  '',
].join('\n');
const BROKEN_LINE = 4;

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
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 20_000 });
  await page.keyboard.press('Enter');
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
  files: { 'broken.fred': BROKEN, 'hover.fred': HOVER, 'noextension': '; fred-lab\nbits 64\n        nop\n' },
  async run({ page, step, shot }) {
    await step('open hello.fred', () => openFile(page, 'hello.fred', 'lea     rsi, [rel message]'));

    await step('status bar language is FRED Assembly', () => languageIs(page, 'FRED Assembly'));

    await step('grammar colours mnemonic, register and number differently', async () => {
      const words = ['out', '0xF4', 'al'];
      await page.waitForFunction(async ({ words }) => {
        const norm = (s) => s.replace(/\u00a0/g, ' ');
        const line = [...document.querySelectorAll('.editor-instance .view-line')].find((l) => norm(l.textContent).includes('out     0xF4, al'));
        if (!line) return false;
        const spans = [...line.querySelectorAll('span[class*="mtk"]')];
        const classes = words.map((w) => spans.find((s) => norm(s.textContent).trim() === w)?.className);
        return classes.every(Boolean) && new Set(classes).size === 3;
      }, { words }, { timeout: 20_000 });
      const classes = await tokenClasses(page, 'out     0xF4, al', words);
      const comment = await tokenClasses(page, 'out     0xF4, al', ['; debug exit with code 0']);
      if (Object.values(comment)[0] === classes.out) throw new Error(`comment coloured like a mnemonic: ${JSON.stringify({ classes, comment })}`);
      console.log(`    token classes: ${JSON.stringify({ ...classes, ...comment })}`);
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
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'frobnicate' }).first();
      await row.waitFor({ timeout: 30_000 });
      const text = (await row.innerText()).replace(/\s+/g, ' ');
      const aria = (await row.getAttribute('aria-label')) ?? '';
      if (!new RegExp(`\\b(Ln|line) ${BROKEN_LINE}\\b`, 'i').test(`${text} ${aria}`)) {
        throw new Error(`Problems row is not on line ${BROKEN_LINE}: "${text}" / aria-label "${aria}"`);
      }
      console.log(`    problem: ${text}`);
      const squiggle = page.locator('.editor-instance .monaco-editor .squiggly-error').first();
      await squiggle.waitFor({ timeout: 10_000 });
      await shot('problems');
    });
  },
};

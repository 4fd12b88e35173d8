// Extension-host test entry (the @vscode/test-electron `run()` contract): test/e2e/run.mjs opens the
// workbench with a payload naming this file, and code-server's extension host calls run(). Mocha comes
// from the e2e tool cache (FRED_LAB_MOCHA), so it is not a project dependency; a JSON summary goes to
// FRED_LAB_EXTHOST_RESULTS because mocha's own output only reaches the browser console.
const fs = require('node:fs');
const path = require('node:path');

exports.run = function run() {
  const Mocha = require(process.env.FRED_LAB_MOCHA);
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false });
  const only = process.env.FRED_LAB_EXTHOST_GREP;
  if (only) mocha.grep(only);
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  const results = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      if (process.env.FRED_LAB_EXTHOST_RESULTS) {
        fs.writeFileSync(process.env.FRED_LAB_EXTHOST_RESULTS, JSON.stringify({ failures, results }, null, 2));
      }
      if (failures) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
    runner.on('fail', (t, err) => results.push({ title: t.fullTitle(), state: 'failed', error: String((err && err.stack) || err) }));
  });
};

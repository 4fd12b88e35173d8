// Stand-alone debug adapter entry: `node dist/debugAdapter.js` speaks DAP on stdin/stdout
// (scripts/build.mjs bundles it). The extension runs the same session inline.
import { DebugSession } from '@vscode/debugadapter';
import { FredDebugSession } from './session';

DebugSession.run(FredDebugSession);

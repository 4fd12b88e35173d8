// The e2e scenarios, in run order. Each: { name, files?: {name: text} written into the workspace, run(ctx) }.
import { smoke } from './smoke.mjs';

export const SCENARIOS = [smoke];

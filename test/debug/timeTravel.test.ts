// Time travel from snapshots and deterministic replay: step back N and forward N gives the same
// machine state; reverse continue stops at the previous breakpoint hit; goto, restart and the
// fredLab/* custom requests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { StackLevelsResponseBody, TimelineResponseBody, TravelToResponseBody } from '../../src/debug/customRequests';
import { failure, fixture, inProcess, launchStopped, resume, scopeVariables, topFrame, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

/** Everything the Registers, Segments, Control registers and FRED scopes show, plus the counter. */
async function state(dc: DebugClient): Promise<string> {
  const parts: string[] = [];
  for (const scope of ['Registers', 'Segments', 'Control registers', 'FRED']) {
    parts.push(...(await scopeVariables(dc, scope)).map((v) => `${v.name}=${v.value}`));
  }
  parts.push(`counter=${await value(dc, 'qword [counter]')}`);
  return parts.join('\n');
}

/** count.fred stopped after its loop (line 14), 1 200 002 instructions in. */
async function runLoopToTheEnd(): Promise<void> {
  const count = fixture('count.fred');
  await launchStopped(h.dc, count, {}, () => h.dc.setBreakpointsRequest({ source: { path: count }, breakpoints: [{ line: 14 }] }));
  await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
  expect(await value(h.dc, 'qword [counter]')).toBe(300000n);
}

async function travelTo(icount: number): Promise<TravelToResponseBody> {
  const stopped = h.dc.waitForEvent('stopped');
  const r = (await h.dc.customRequest('fredLab/travelTo', { icount })).body as TravelToResponseBody;
  await stopped;
  return r;
}

describe('time travel', () => {
  it('stepping back N instructions and forward N again gives identical machine state (across snapshots)', async () => {
    await runLoopToTheEnd();
    // The middle of the loop, between two snapshots: rbx = 60000 after 2 + 4 × 60000 instructions.
    await travelTo(2 + 4 * 60000);
    expect(await value(h.dc, 'rbx')).toBe(60000n);
    const before = await state(h.dc);
    const icount = (await h.dc.customRequest('fredLab/timeline', { count: 0 })).body as TimelineResponseBody;
    const N = 25;
    for (let k = 0; k < N; k++) await resume(h.dc, () => h.dc.stepBackRequest({ threadId: 1 }));
    const back = (await h.dc.customRequest('fredLab/timeline', { count: 0 })).body as TimelineResponseBody;
    expect(back.icount).toBe(icount.icount - N);
    expect(await state(h.dc)).not.toBe(before);
    for (let k = 0; k < N; k++) await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect(await state(h.dc)).toBe(before);
  });

  it('travelTo far into the past restores memory too, and back to the present', async () => {
    await runLoopToTheEnd();
    const now = ((await h.dc.customRequest('fredLab/timeline', { count: 0 })).body as TimelineResponseBody).icount;
    const present = await state(h.dc);
    const r = await travelTo(2 + 4 * 1000);
    expect(r.icount).toBe(4002);
    expect(await value(h.dc, 'qword [counter]')).toBe(1000n);
    await travelTo(now + 1000); // the future is clamped to the furthest point reached
    expect(((await h.dc.customRequest('fredLab/timeline', { count: 0 })).body as TimelineResponseBody).icount).toBe(now);
    expect(await state(h.dc)).toBe(present);
    expect(await failure(h.dc.customRequest('fredLab/travelTo', { icount: -1 }))).toMatch(/non-negative integer 'icount'/);
  });

  it('reverse continue stops at the previous hit of a breakpoint', async () => {
    const loop = fixture('loop.fred');
    await launchStopped(h.dc, loop, {}, () => h.dc.setBreakpointsRequest({ source: { path: loop }, breakpoints: [{ line: 22 }] }));
    for (let k = 0; k < 3; k++) await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect(await value(h.dc, 'rax')).toBe(2n);
    const stop = await resume(h.dc, () => h.dc.reverseContinueRequest({ threadId: 1 }));
    expect(stop.body.reason).toBe('breakpoint');
    expect((await topFrame(h.dc)).line).toBe(22);
    expect(await value(h.dc, 'rax')).toBe(1n);
    await resume(h.dc, () => h.dc.reverseContinueRequest({ threadId: 1 }));
    expect(await value(h.dc, 'rax')).toBe(0n);
    const start = await resume(h.dc, () => h.dc.reverseContinueRequest({ threadId: 1 }));
    expect(start.body.description).toBe('At the beginning of the recorded history');
    expect((await topFrame(h.dc)).name).toBe('_start');
  });

  it('reverse continue onto an event breakpoint position restores the event frames', async () => {
    const events = fixture('events.fred');
    await launchStopped(h.dc, events, {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fred_entry_kernel' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    let frames = (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames[1].name).toMatch(/^#PF/);
    await resume(h.dc, () => h.dc.reverseContinueRequest({ threadId: 1 }));
    frames = (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames.map((f) => f.name)).toEqual(['fred_entry_kernel', '#BP (software exception 3) · SL0 · from CPL 0 ← after_int3']);
  });
});

describe('goto and restart', () => {
  it('gotoTargets resolves a line; goto sets RIP', async () => {
    const loop = fixture('loop.fred');
    await launchStopped(h.dc, loop);
    const targets = (await h.dc.gotoTargetsRequest({ source: { path: loop }, line: 14 })).body.targets;
    expect(targets).toHaveLength(1);
    const stopped = h.dc.waitForEvent('stopped');
    await h.dc.gotoRequest({ threadId: 1, targetId: targets[0].id });
    expect((await stopped).body.reason).toBe('goto');
    expect((await topFrame(h.dc)).line).toBe(14);
    expect(await failure(h.dc.gotoRequest({ threadId: 1, targetId: 0x100001 }))).toMatch(/not the start of an instruction/);
  });

  it('restart boots the program again with the same breakpoints', async () => {
    const loop = fixture('loop.fred');
    await launchStopped(h.dc, loop, {}, () => h.dc.setBreakpointsRequest({ source: { path: loop }, breakpoints: [{ line: 22 }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect(await value(h.dc, 'rax')).toBe(1n);
    const entry = await resume(h.dc, () => h.dc.restartRequest({}));
    expect(entry.body.reason).toBe('entry');
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).line).toBe(22);
    expect(await value(h.dc, 'rax')).toBe(0n);
  });
});

describe('custom requests', () => {
  it('fredLab/stackLevels: CSL, RSPn, STKLVLS and the active events', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '#PF' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    const body = (await h.dc.customRequest('fredLab/stackLevels')).body as StackLevelsResponseBody;
    expect(body).toMatchObject({ fredEnabled: true, cpl: 0, csl: 1, redZoneBytes: 0 });
    expect(body.levels[1]).toMatchObject({ level: 1, rsp: '0x310000', current: true });
    expect(body.vectorLevels[14]).toEqual({ vector: 14, mnemonic: '#PF', level: 1 });
    expect(body.activeEvents).toHaveLength(1);
    expect(body.activeEvents[0]).toMatchObject({ label: '#PF (hardware exception 14) · SL1 · from CPL 0', frameAddress: '0x30ffc0', newCsl: 1 });
  });

  it('fredLab/timeline: records with summaries, filtered by kind and paged', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'user_code' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    const body = (await h.dc.customRequest('fredLab/timeline', { kinds: ['delivery', 'return'] })).body as TimelineResponseBody;
    expect(body.records.map((r) => r.kind)).toEqual(['delivery', 'return', 'delivery', 'return', 'return']);
    expect(body.records[2].summary).toMatch(/^#PF \(hardware exception 14\) · SL1 · from CPL 0: FRED delivery/);
    expect(body.records[2].record).toMatchObject({ vector: 14, eventData: '0x40000000' });
    const page = (await h.dc.customRequest('fredLab/timeline', { kinds: ['delivery'], start: 1, count: 1 })).body as TimelineResponseBody;
    expect(page.total).toBe(2);
    expect(page.records).toHaveLength(1);
    expect(page.records[0].record.vector).toBe(14);
    expect(await failure(h.dc.customRequest('fredLab/nothing'))).toMatch(/unknown request 'fredLab\/nothing'/);
  });
});

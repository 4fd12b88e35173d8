// Breakpoints of every kind: source lines (conditions, hit counts, log points, lines without code),
// labels, fred:user / fred:kernel followed through IA32_FRED_CONFIG, events, instruction addresses,
// and exception filters.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { failure, fixture, inProcess, launchStopped, outputContaining, resume, topFrame, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

const loop = fixture('loop.fred');
const events = fixture('events.fred');
const cont = () => resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));

describe('source breakpoints', () => {
  it('a line with code is verified and hit; a line without code is not, with a message', async () => {
    let result: DebugProtocol.SetBreakpointsResponse | undefined;
    await launchStopped(h.dc, loop, {}, async () => {
      result = await h.dc.setBreakpointsRequest({ source: { path: loop }, breakpoints: [{ line: 22 }, { line: 2 }] });
    });
    expect(result!.body.breakpoints[0]).toMatchObject({ verified: true, line: 22 });
    expect(result!.body.breakpoints[1]).toMatchObject({ verified: false, message: 'line 2 has no code' });
    const stop = await cont();
    expect(stop.body.reason).toBe('breakpoint');
    expect(stop.body.hitBreakpointIds).toEqual([result!.body.breakpoints[0].id]);
    expect((await topFrame(h.dc)).line).toBe(22);
  });

  it('condition and hit count decide; log points print and do not stop', async () => {
    await launchStopped(h.dc, loop, {}, () => h.dc.setBreakpointsRequest({
      source: { path: loop },
      breakpoints: [{ line: 22, condition: 'rax == 2' }, { line: 13, hitCondition: '>= 4' }, { line: 12, logMessage: 'calling with rax={rax}' }],
    }));
    const logged = outputContaining(h.dc, 'console', 'calling with rax=0x0');
    await cont();
    await logged;
    expect((await topFrame(h.dc)).line).toBe(22);
    expect(await value(h.dc, 'rax')).toBe(2n);
    await cont();
    expect((await topFrame(h.dc)).line).toBe(13);
    expect(await value(h.dc, 'rax')).toBe(4n);
  });

  it('a breakpoint on a loop head is hit on every iteration (hit count 3 = third pass)', async () => {
    const count = fixture('count.fred');
    await launchStopped(h.dc, count, {}, () => h.dc.setBreakpointsRequest({ source: { path: count }, breakpoints: [{ line: 10, hitCondition: '3' }] }));
    await cont();
    expect(await value(h.dc, 'rbx')).toBe(2n);
    await h.dc.setBreakpointsRequest({ source: { path: count }, breakpoints: [{ line: 10 }] });
    await cont();
    expect(await value(h.dc, 'rbx')).toBe(3n);
  });

  it('a bad hit condition is unverified with a message', async () => {
    let result: DebugProtocol.SetBreakpointsResponse | undefined;
    await launchStopped(h.dc, loop, {}, async () => {
      result = await h.dc.setBreakpointsRequest({ source: { path: loop }, breakpoints: [{ line: 13, hitCondition: 'sometimes' }] });
    });
    expect(result!.body.breakpoints[0]).toMatchObject({ verified: false, message: "hit condition 'sometimes' is not N, >= N, > N, == N or % N" });
  });

  it('breakpointLocations lists the lines with code', async () => {
    await launchStopped(h.dc, loop);
    const r = await h.dc.customRequest('breakpointLocations', { source: { path: loop }, line: 1, endLine: 12 });
    expect((r.body as DebugProtocol.BreakpointLocationsResponse['body']).breakpoints.map((b) => b.line)).toEqual([9, 10, 12]);
  });
});

describe('function breakpoints', () => {
  it('labels, and unknown names unverified with a message', async () => {
    let result: DebugProtocol.SetFunctionBreakpointsResponse | undefined;
    await launchStopped(h.dc, loop, {}, async () => {
      result = await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'print' }, { name: 'nowhere' }] });
    });
    expect(result!.body.breakpoints[0].verified).toBe(true);
    expect(result!.body.breakpoints[1]).toMatchObject({ verified: false });
    expect(result!.body.breakpoints[1].message).toMatch(/'nowhere' is not a label/);
    const stop = await cont();
    expect(stop.body.reason).toBe('function breakpoint');
    expect((await topFrame(h.dc)).name).toBe('print');
  });

  it('fred:kernel follows IA32_FRED_CONFIG: unverified at entry, resolved when the program writes it', async () => {
    let result: DebugProtocol.SetFunctionBreakpointsResponse | undefined;
    const changed = h.dc.waitForEvent('breakpoint');
    await launchStopped(h.dc, events, {}, async () => {
      result = await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fred:kernel' }] });
    });
    expect(result!.body.breakpoints[0]).toMatchObject({ verified: false });
    await cont();
    const event = (await changed) as DebugProtocol.BreakpointEvent;
    expect(event.body.breakpoint).toMatchObject({ verified: true, instructionReference: `0x${(await value(h.dc, 'fred_entry_kernel')).toString(16)}` });
    expect((await topFrame(h.dc)).name).toBe('fred_entry_kernel');
  });

  it('fred:user stops at the ring-3 entry point', async () => {
    await launchStopped(h.dc, events, {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fred:user' }] }));
    await cont();
    expect((await topFrame(h.dc)).name).toBe('fred_entry');
    expect(await value(h.dc, 'cpl')).toBe(0n);
  });

  it('event breakpoints stop at the handler\'s first instruction when the trace shows the delivery', async () => {
    await launchStopped(h.dc, events, {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'vector:14' }, { name: 'syscall' }] }));
    let stop = await cont();
    expect(stop.body.reason).toBe('function breakpoint');
    expect(stop.body.description).toBe('Event breakpoint: #PF (hardware exception 14) · SL1 · from CPL 0');
    expect((await topFrame(h.dc)).name).toBe('fred_entry_kernel');
    stop = await cont();
    expect(stop.body.description).toMatch(/^Event breakpoint: SYSCALL/);
    expect((await topFrame(h.dc)).name).toBe('fred_entry');
  });
});

describe('instruction and exception breakpoints', () => {
  it('an instruction breakpoint at an address', async () => {
    await launchStopped(h.dc, loop);
    const address = await value(h.dc, 'add_one');
    const r = await h.dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: `0x${address.toString(16)}` }, { instructionReference: 'here' }] });
    const bps = (r.body as DebugProtocol.SetInstructionBreakpointsResponse['body']).breakpoints;
    expect(bps[0].verified).toBe(true);
    expect(bps[1]).toMatchObject({ verified: false, message: "'here' is not an address" });
    const stop = await cont();
    expect(stop.body.reason).toBe('instruction breakpoint');
    expect((await topFrame(h.dc)).name).toBe('add_one');
  });

  it('hardwareException filter stops on #GP from ring 3; eret filter stops where ERETS returns', async () => {
    await launchStopped(h.dc, events, {}, () => h.dc.setExceptionBreakpointsRequest({ filters: ['eret'] }));
    let stop = await cont();
    expect(stop.body.reason).toBe('exception');
    expect(stop.body.description).toMatch(/^ERETS returned to CPL 0/);
    expect((await topFrame(h.dc)).name).toBe('after_int3');
    await h.dc.setExceptionBreakpointsRequest({ filters: ['hardwareException'] });
    stop = await cont();
    expect(stop.body.description).toBe('Exception: #PF (hardware exception 14) · SL1 · from CPL 0');
    stop = await cont();
    expect(stop.body.description).toBe('Exception: #GP (hardware exception 13) · SL0 · from CPL 3');
    const info = await h.dc.exceptionInfoRequest({ threadId: 1 });
    expect(info.body.description).toContain('#GP');
  });

  it('filter conditions: events for the delivery filters, instructions for eret; bad items are errors', async () => {
    const init = await h.dc.initializeRequest();
    const filters = init.body?.exceptionBreakpointFilters ?? [];
    expect(filters.filter((f) => f.supportsCondition).map((f) => f.filter))
      .toEqual(['hardwareException', 'softwareEvent', 'externalInterrupt', 'syscall', 'nested', 'eret', 'vmExit', 'vmEntryInjection']);
    await launchStopped(h.dc, events, {}, () => h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [
      { filterId: 'hardwareException', condition: '#GP, #UD' }, { filterId: 'eret', condition: 'eretu' },
    ] }));
    let stop = await cont();
    expect(stop.body.description).toBe('ERETU returned to CPL 3 at 0x' + (await value(h.dc, 'user_code')).toString(16)); // the ERETS after INT3 and #PF did not stop
    stop = await cont(); // SYSCALL's handler returns with ERETU too
    expect(stop.body.description).toMatch(/^ERETU returned to CPL 3/);
    stop = await cont();
    expect(stop.body.description).toBe('Exception: #GP (hardware exception 13) · SL0 · from CPL 3');
    expect(await failure(h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'hardwareException', condition: '#PF, #XX' }] })))
      .toBe("Hardware exceptions (#PF, #GP, #UD, …) filter condition: '#XX' is not an event (#PF, vector:0x20, int:0x80, syscall, sysenter, nmi)");
    expect(await failure(h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'eret', condition: 'sysret' }] })))
      .toBe("ERETS / ERETU / IRETQ filter condition: 'sysret' is not erets, eretu or iretq");
    expect(await failure(h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'doubleFault', condition: '#DF' }] })))
      .toBe('exception filter(s) doubleFault take no condition');
  });

  it('unknown exception filters are an error', async () => {
    await launchStopped(h.dc, events);
    expect(await failure(h.dc.setExceptionBreakpointsRequest({ filters: ['everything'] }))).toMatch(/unknown exception filter\(s\): everything/);
  });
});

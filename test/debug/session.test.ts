// Session basics over DAP: initialize, launch attributes and their errors, assembler errors,
// threads, stepping (in, over, out), continue to the end, pause, output, terminate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure, fixture, inProcess, launchStopped, outputContaining, resume, scopeVariables, topFrame, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

describe('initialize and launch', () => {
  it('reports the capabilities it implements', async () => {
    const r = await h.dc.initializeRequest();
    expect(r.body).toMatchObject({
      supportsConfigurationDoneRequest: true, supportsStepBack: true, supportsFunctionBreakpoints: true, supportsInstructionBreakpoints: true,
      supportsDisassembleRequest: true, supportsReadMemoryRequest: true, supportsWriteMemoryRequest: true, supportsSetVariable: true,
      supportsGotoTargetsRequest: true, supportsLogPoints: true, supportsConditionalBreakpoints: true, supportsHitConditionalBreakpoints: true,
    });
    expect(r.body?.exceptionBreakpointFilters?.map((f) => f.filter)).toContain('doubleFault');
  });

  it('stops on entry at _start with one thread "vCPU 0"', async () => {
    const stop = await launchStopped(h.dc, fixture('loop.fred'));
    expect(stop.body.reason).toBe('entry');
    const frame = await topFrame(h.dc);
    expect(frame.name).toBe('_start');
    expect(frame.line).toBe(9);
    expect(frame.source?.path).toBe(fixture('loop.fred'));
    const threads = await h.dc.threadsRequest();
    expect(threads.body.threads).toEqual([{ id: 1, name: 'vCPU 0' }]);
  });

  it('runs to the end: COM1 output as stdout, exited with the debug-exit code, terminated', async () => {
    await h.dc.initializeRequest();
    const output = outputContaining(h.dc, 'stdout', 'done\n');
    const exited = h.dc.waitForEvent('exited');
    const terminated = h.dc.waitForEvent('terminated');
    const ended = outputContaining(h.dc, 'console', 'debug exit with code 7');
    await h.dc.launch({ program: fixture('loop.fred'), memoryMiB: 8 });
    await h.dc.configurationDoneRequest();
    await output;
    expect((await exited).body.exitCode).toBe(7);
    await terminated;
    await ended;
  });

  it('refuses to start on assembler errors and lists every one as file:line:col: message', async () => {
    await h.dc.initializeRequest();
    const program = fixture('bad.fred');
    const message = await failure(h.dc.launch({ program }));
    expect(message).toContain(`${program}:6:9: error: 'mov' takes 2 operands, not 3`);
    expect(message).toContain(`${program}:7:9: error: unknown instruction 'frobnicate'`);
  });

  it('rejects bad launch attributes with a message naming each one', async () => {
    await h.dc.initializeRequest();
    const message = await failure(h.dc.launch({ program: fixture('loop.fred'), memoryMiB: 100000, interrupts: [{ vector: 300, every: 0 }], vmx: 'yes', colour: 1 }));
    expect(message).toMatch(/'memoryMiB' must be an integer from 2 to 256/);
    expect(message).toMatch(/'interrupts\[0\]\.vector' must be an integer from 0 to 255/);
    expect(message).toMatch(/'interrupts\[0\]\.every' must be a positive integer/);
    expect(message).toMatch(/'vmx' must be false/);
    expect(message).toMatch(/unknown launch attribute 'colour'/);
  });

  it('a missing program file is a clear error', async () => {
    await h.dc.initializeRequest();
    expect(await failure(h.dc.launch({ program: fixture('nope.fred') }))).toMatch(/nope\.fred: cannot read the program \(ENOENT\)/);
  });

  it('a bad vmx policy or an unknown label in it fails the launch, naming the path', async () => {
    await h.dc.initializeRequest();
    expect(await failure(h.dc.launch({ program: fixture('loop.fred'), vmx: { ept: 'fast' } }))).toMatch(/'vmx\.ept': expected "eager" or "lazy", got "fast"/);
    const said = outputContaining(h.dc, 'stderr', "launch: 'vmx.nmis[0].at': unknown label \"nowhere\"");
    expect(await failure(h.dc.launch({ program: fixture('loop.fred'), vmx: { nmis: [{ at: 'nowhere' }] } }))).toMatch(/'vmx\.nmis\[0\]\.at': unknown label "nowhere"/);
    await said;
  });

  it('runs under the VMX monitor by default (the VMCS scope is there)', async () => {
    await launchStopped(h.dc, fixture('loop.fred'), { vmx: undefined });
    expect(await scopeVariables(h.dc, 'VMCS')).toHaveLength(7);
  });

  it('maxInstructions ends the run with the limit in words', async () => {
    await h.dc.initializeRequest();
    const said = outputContaining(h.dc, 'console', 'instruction limit reached (maxInstructions = 1000)');
    const terminated = h.dc.waitForEvent('terminated');
    await h.dc.launch({ program: fixture('spin.fred'), maxInstructions: 1000, memoryMiB: 8 });
    await h.dc.configurationDoneRequest();
    await said;
    await terminated;
  });

  it('interrupts: the platform raises the vector periodically; a vector breakpoint stops in the handler', async () => {
    await launchStopped(h.dc, fixture('timer.fred'), { interrupts: [{ vector: 32, every: 500 }] }, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'vector:0x20' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    const frames = (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames[0].name).toBe('fred_entry_kernel');
    expect(frames[1].name).toMatch(/^vector 0x20 \(external interrupt 32\) · SL0 · from CPL 0 ← spin/);
    expect(await value(h.dc, 'r14')).toBe(1n);
  });

  it('next steps over asynchronous interrupts; stepIn goes into them', async () => {
    await launchStopped(h.dc, fixture('timer.fred'), { interrupts: [{ vector: 32, every: 7 }] }, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'spin' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    await h.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const names = new Set<string>();
    for (let k = 0; k < 12; k++) {
      await resume(h.dc, () => h.dc.nextRequest({ threadId: 1 }));
      names.add((await topFrame(h.dc)).name);
    }
    expect([...names].sort()).toEqual(['spin', 'spin+0x3']);
    expect(await value(h.dc, 'r14')).toBeGreaterThan(1n);
    for (let k = 0; k < 12 && !names.has('fred_entry_kernel'); k++) {
      await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
      names.add((await topFrame(h.dc)).name);
    }
    expect(names.has('fred_entry_kernel')).toBe(true);
  });

  it('a shutdown stops as an exception first (doubleFault filter), then the session ends', async () => {
    await launchStopped(h.dc, fixture('triple.fred'));
    const stop = await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect(stop.body.reason).toBe('exception');
    expect(stop.body.description).toBe('Shutdown (triple fault)');
    expect(stop.body.text).toMatch(/^shutdown: .*#UD/);
    const said = outputContaining(h.dc, 'console', 'Program ended after 0 instructions: shutdown');
    const exited = h.dc.waitForEvent('exited');
    await h.dc.continueRequest({ threadId: 1 });
    expect((await exited).body.exitCode).toBe(1);
    await said;
  });

  it('trace: true prints the event records to the Debug Console', async () => {
    const said = outputContaining(h.dc, 'console', '#BP (software exception 3) · SL0 · from CPL 0: FRED delivery');
    await h.dc.initializeRequest();
    await h.dc.launch({ program: fixture('events.fred'), trace: true, memoryMiB: 8 });
    await h.dc.configurationDoneRequest();
    await said;
  });
});

describe('stepping', () => {
  it('stepIn goes one instruction, into a CALL', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).name).toBe('again');
    const stop = await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect(stop.body.reason).toBe('step');
    expect((await topFrame(h.dc)).name).toBe('add_one');
  });

  it('next steps over a CALL; stepOut returns from one', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.nextRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).line).toBe(13);
    expect(await value(h.dc, 'rax')).toBe(1n);
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 })); // dec
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 })); // jnz
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 })); // call → add_one
    expect((await topFrame(h.dc)).name).toBe('add_one');
    await resume(h.dc, () => h.dc.stepOutRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).line).toBe(13);
    expect(await value(h.dc, 'rax')).toBe(2n);
  });

  it('stepIn on INT3 stops on the handler\'s first instruction; stepOut runs to the ERETS', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ring0_int3' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).name).toBe('ring0_int3');
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).name).toBe('fred_entry_kernel');
    await resume(h.dc, () => h.dc.stepOutRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).name).toBe('after_int3');
  });

  it('stepIn into a fault stops on the handler\'s first instruction (not one later)', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fault_here' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).name).toBe('fred_entry_kernel');
  });

  it('next over SYSCALL runs the handler and stops after the ERETU', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'user_code' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    await resume(h.dc, () => h.dc.nextRequest({ threadId: 1 }));
    expect((await topFrame(h.dc)).name).toBe('after_syscall');
    expect(await value(h.dc, 'r15')).toBe(1n);
    expect(await value(h.dc, 'cpl')).toBe(3n);
  });

  it('pause stops a program that spins forever', async () => {
    await launchStopped(h.dc, fixture('spin.fred'));
    await h.dc.continueRequest({ threadId: 1 });
    await new Promise((r) => setTimeout(r, 50));
    const stop = await resume(h.dc, () => h.dc.pauseRequest({ threadId: 1 }));
    expect(stop.body.reason).toBe('pause');
    expect(await value(h.dc, 'rax')).toBeGreaterThan(0n);
  });

  it('a second run request while running is refused', async () => {
    await launchStopped(h.dc, fixture('spin.fred'));
    await h.dc.continueRequest({ threadId: 1 });
    expect(await failure(h.dc.nextRequest({ threadId: 1 }))).toMatch(/running: pause it first/);
    await resume(h.dc, () => h.dc.pauseRequest({ threadId: 1 }));
  });

  it('terminate ends the session', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const terminated = h.dc.waitForEvent('terminated');
    await h.dc.terminateRequest();
    await terminated;
  });
});

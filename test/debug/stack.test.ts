// Stack trace: the current instruction plus one frame per active event delivery (from the trace's
// delivery/return records), labelled with the event, the stack level and the CPL it came from.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, inProcess, launchStopped, resume, scopeVariables, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

const frames = async () => (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;

describe('stack trace', () => {
  it('a #PF handler shows the event frame with the interrupted instruction\'s source location', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '#PF' }] }));
    const stop = await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect(stop.body.reason).toBe('function breakpoint');
    const list = await frames();
    expect(list).toHaveLength(2);
    expect(list[0].name).toBe('fred_entry_kernel');
    expect(list[1].name).toBe('#PF (hardware exception 14) · SL1 · from CPL 0 ← fault_here');
    expect(list[1].line).toBe(31);
    expect(list[1].source?.path).toBe(fixture('events.fred'));
    const faultAddress = BigInt(list[1].instructionPointerReference!);
    const evaluated = await h.dc.evaluateRequest({ expression: 'fault_here', context: 'watch' });
    expect(BigInt(evaluated.body.result.split(' ')[0])).toBe(faultAddress);
  });

  it('the frame disappears when ERETS pops it', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '#BP' }, { name: 'after_int3' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    expect(await frames()).toHaveLength(2);
    expect((await frames())[1].name).toMatch(/^#BP \(software exception 3\) · SL0 · from CPL 0/);
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    const list = await frames();
    expect(list.map((f) => f.name)).toEqual(['after_int3']);
  });

  it('SYSCALL from ring 3 is labelled with its CPL; the frame scope shows that event', async () => {
    await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'syscall' }] }));
    await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
    const list = await frames();
    expect(list[1].name).toBe('SYSCALL (other 1) · SL0 · from CPL 3 ← after_syscall');
    const event = await scopeVariables(h.dc, 'Event frame', list[1].id);
    expect(event.find((v) => v.name === '+0x28 ssWord')?.value).toMatch(/SYSCALL$/);
  });

  it('an address without source shows the address', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const ref = (await h.dc.scopesRequest({ frameId: 1 })).body.scopes[0].variablesReference;
    await h.dc.setVariableRequest({ variablesReference: ref, name: 'rip', value: '0x200000' });
    const top = (await frames())[0];
    expect(top.name).toBe('0x200000 (no source)');
    expect(top.source).toBeUndefined();
    expect(top.instructionPointerReference).toBe('0x200000');
  });
});

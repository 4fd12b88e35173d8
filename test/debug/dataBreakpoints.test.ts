// Data breakpoints: dataBreakpointInfo for watch expressions, addresses and variables (MSRs, FRED
// frame slots), setDataBreakpoints on memory writes (stop after the writing instruction) and MSR
// writes (stop after the WRMSR), conditions and hit counts, error paths, time travel with a watch.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, inProcess, launchStopped, resume, rip, scopeVariables, topFrame, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

const count = fixture('count.fred');
const events = fixture('events.fred');
const cont = () => resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
const info = (name: string, extra: Record<string, unknown> = {}) => h.dc.customRequest('dataBreakpointInfo', { name, ...extra }).then((r) => r.body);

describe('dataBreakpointInfo', () => {
  it('offers writes to memory named by a label, a memory operand or an address', async () => {
    const init = await h.dc.initializeRequest();
    expect(init.body?.supportsDataBreakpoints).toBe(true);
    expect(init.body?.supportsDataBreakpointBytes).toBe(true);
    await h.dc.launch({ program: count, stopOnEntry: true, memoryMiB: 8, vmx: false });
    const counter = await value(h.dc, 'counter');
    const hexCounter = `0x${counter.toString(16)}`;
    expect(await info('counter')).toEqual({ dataId: `mem:${hexCounter}:8`, description: `8 bytes at ${hexCounter}`, accessTypes: ['write'], canPersist: true });
    expect((await info('dword [counter + 4]')).dataId).toBe(`mem:0x${(counter + 4n).toString(16)}:4`);
    expect((await info('[counter]', { bytes: 2 })).dataId).toBe(`mem:${hexCounter}:2`);
    expect((await info(hexCounter, { asAddress: true, bytes: 1 })).dataId).toBe(`mem:${hexCounter}:1`);
  });

  it('says why an expression or variable cannot be watched', async () => {
    await launchStopped(h.dc, count);
    expect(await info('rax + 1')).toEqual({ dataId: null, description: "'rax + 1' is not memory: watch [address], dword [address] or a label" });
    expect((await info('[nowhere]')).description).toMatch(/unknown name 'nowhere'/);
    expect((await info('[counter]', { bytes: 0 })).description).toBe('a data breakpoint covers 1 to 4096 bytes (got 0)');
    expect((await info('IA32_EFER')).description).toMatch(/writes to IA32_EFER are not on the trace/);
    const registers = (await h.dc.scopesRequest({ frameId: (await topFrame(h.dc)).id })).body.scopes.find((s) => s.name === 'Registers')!;
    const r = await info('rax', { variablesReference: registers.variablesReference });
    expect(r.dataId).toBeNull();
    expect(r.description).toMatch(/rax is not memory or a traced MSR/);
  });

  it('offers MSR writes for FRED MSRs by name and from the FRED scope', async () => {
    await launchStopped(h.dc, events);
    expect(await info('IA32_FRED_RSP1')).toMatchObject({ dataId: 'msr:IA32_FRED_RSP1', description: 'writes to IA32_FRED_RSP1', accessTypes: ['write'] });
    const fred = (await h.dc.scopesRequest({ frameId: (await topFrame(h.dc)).id })).body.scopes.find((s) => s.name === 'FRED')!;
    expect((await info('IA32_FRED_STKLVLS', { variablesReference: fred.variablesReference })).dataId).toBe('msr:IA32_FRED_STKLVLS');
  });
});

describe('setDataBreakpoints', () => {
  it('stops after the instruction that writes the memory, with the write in the description', async () => {
    await launchStopped(h.dc, count);
    const counter = await value(h.dc, 'counter');
    const set = await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: `mem:0x${counter.toString(16)}:8`, accessType: 'write' }] });
    expect(set.body.breakpoints[0]).toMatchObject({ verified: true });
    const stop = await cont();
    expect(stop.body.reason).toBe('data breakpoint');
    expect(stop.body.hitBreakpointIds).toEqual([set.body.breakpoints[0].id]);
    const store = (await value(h.dc, 'tick')) + 3n; // inc rbx (3 bytes), then the store
    expect(stop.body.description).toBe(`Paused on data breakpoint: write of 8 bytes at 0x${counter.toString(16)} by 0x${store.toString(16)}`);
    expect(await rip(h.dc)).toBe(store + 7n); // after `mov [rel counter], rbx`
    expect(await value(h.dc, 'qword [counter]')).toBe(1n);
    await cont();
    expect(await value(h.dc, 'rbx')).toBe(2n);
  });

  it('conditions and hit counts decide; a read or an unknown dataId is refused', async () => {
    await launchStopped(h.dc, count);
    const counter = `mem:0x${(await value(h.dc, 'counter')).toString(16)}:8`;
    const set = await h.dc.setDataBreakpointsRequest({ breakpoints: [
      { dataId: counter, condition: 'rbx == 5' }, { dataId: counter, hitCondition: '% 7' },
      { dataId: counter, accessType: 'read' }, { dataId: 'mem:nowhere' }, { dataId: counter, hitCondition: 'often' },
    ] });
    expect(set.body.breakpoints.map((b) => b.verified)).toEqual([true, true, false, false, false]);
    expect(set.body.breakpoints[2].message).toBe("only writes can be watched (got 'read')");
    expect(set.body.breakpoints[3].message).toBe("'mem:nowhere' is not a data breakpoint of this debugger");
    const first = await cont();
    expect(await value(h.dc, 'rbx')).toBe(5n);
    expect(first.body.hitBreakpointIds).toEqual([set.body.breakpoints[0].id]);
    await cont();
    expect(await value(h.dc, 'rbx')).toBe(7n);
    await h.dc.setDataBreakpointsRequest({ breakpoints: [] });
    const end = h.dc.waitForEvent('terminated');
    await h.dc.continueRequest({ threadId: 1 });
    await end;
  });

  it('stops after the WRMSR that writes a watched MSR', async () => {
    await launchStopped(h.dc, events);
    await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'msr:IA32_FRED_RSP1' }] });
    const stop = await cont();
    expect(stop.body.reason).toBe('data breakpoint');
    expect(stop.body.description).toMatch(/^Data breakpoint: IA32_FRED_RSP1 ← 0x310000 by 0x[0-9a-f]+$/);
    expect(await value(h.dc, 'IA32_FRED_RSP1')).toBe(0x310000n);
    const frame = await topFrame(h.dc);
    expect(frame.line).toBe(19); // the instruction after the third WRMSR
    expect((await scopeVariables(h.dc, 'FRED')).find((v) => v.name === 'IA32_FRED_RSP1')?.value).toBe('0x0000000000310000');
  });

  it('works the same in VMX non-root operation (EPT on the way to memory)', async () => {
    await launchStopped(h.dc, count, { vmx: { ept: 'lazy' } });
    const counter = await value(h.dc, 'counter');
    await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: `mem:0x${counter.toString(16)}:8`, condition: 'rbx == 2' }] });
    const stop = await cont();
    expect(stop.body.reason).toBe('data breakpoint');
    expect(await value(h.dc, 'qword [counter]')).toBe(2n);
    expect(await value(h.dc, 'rbx')).toBe(2n);
  });

  it('time travel replays across a watched write without stopping', async () => {
    await launchStopped(h.dc, count);
    const counter = `mem:0x${(await value(h.dc, 'counter')).toString(16)}:8`;
    await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: counter, condition: 'rbx == 3' }] });
    await cont();
    const here = await rip(h.dc);
    for (let k = 0; k < 6; k++) await resume(h.dc, () => h.dc.stepBackRequest({ threadId: 1 }));
    expect(await value(h.dc, 'qword [counter]')).toBe(1n); // back before the write of 2 (4 instructions per iteration)
    const again = await cont();
    expect(again.body.reason).toBe('data breakpoint');
    expect(await rip(h.dc)).toBe(here);
    expect(await value(h.dc, 'rbx')).toBe(3n);
  });
});

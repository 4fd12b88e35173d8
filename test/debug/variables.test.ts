// Scopes and variables decoded with src/arch's tables; setVariable with the architectural checks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { children, failure, fixture, inProcess, launchStopped, resume, scopeVariables, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

async function atPageFault() {
  await launchStopped(h.dc, fixture('events.fred'), {}, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '#PF' }] }));
  await resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
}

describe('scopes and variables', () => {
  it('offers Registers, Segments, Control registers, FRED, Event frame and MSRs', async () => {
    await atPageFault();
    const scopes = (await h.dc.scopesRequest({ frameId: 1 })).body.scopes.map((s) => s.name);
    expect(scopes).toEqual(['Registers', 'Segments', 'Control registers', 'FRED', 'Event frame', 'MSRs']);
  });

  it('Registers: GPRs with memory references, RFLAGS decoded flag by flag', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const regs = await scopeVariables(h.dc, 'Registers');
    const rsp = regs.find((v) => v.name === 'rsp')!;
    expect(rsp.value).toBe('0x0000000000020000');
    expect(rsp.memoryReference).toBe('0x20000');
    const rflags = regs.find((v) => v.name === 'rflags')!;
    expect(rflags.value).toBe('0x2 []');
    const flags = await children(h.dc, rflags);
    expect(flags.find((f) => f.name.startsWith('IF '))?.value).toBe('0');
    expect(regs.find((v) => v.name === 'rip')?.value).toBe('0x0000000000100000');
  });

  it('Segments: selector and hidden parts; CS is the boot contract\'s 64-bit code segment', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const segs = await scopeVariables(h.dc, 'Segments');
    const cs = segs.find((v) => v.name === 'cs')!;
    expect(cs.value).toMatch(/^0x10 base 0x0/);
    const parts = await children(h.dc, cs);
    const attributes = await children(h.dc, parts.find((p) => p.name === 'attributes')!);
    expect(attributes.find((a) => a.name.startsWith('L '))?.value).toBe('1');
  });

  it('Control registers: CR4.FRED and EFER bits decoded from the arch tables', async () => {
    await atPageFault();
    const crs = await scopeVariables(h.dc, 'Control registers');
    const cr4 = crs.find((v) => v.name === 'cr4')!;
    expect(cr4.value).toContain('FRED');
    const bits = await children(h.dc, cr4);
    expect(bits.find((b) => b.name === 'FRED [32]')?.value).toBe('1');
    expect(crs.find((v) => v.name === 'cr2')?.value).toBe('0x0000000040000000');
    const efer = await children(h.dc, crs.find((v) => v.name === 'IA32_EFER')!);
    expect(efer.find((b) => b.name.startsWith('LMA'))?.value).toBe('1');
  });

  it('FRED: IA32_FRED_CONFIG decoded (entry point, CSL), RSPn, STKLVLS per vector', async () => {
    await atPageFault();
    const fred = await scopeVariables(h.dc, 'FRED');
    const entry = await value(h.dc, 'fred_entry');
    const config = fred.find((v) => v.name === 'IA32_FRED_CONFIG')!;
    expect(config.memoryReference).toBe(`0x${entry.toString(16)}`);
    const fields = await children(h.dc, config);
    expect(fields.find((f) => f.name === 'ENTRYPOINT [63:12]')?.value).toContain(`entry point 0x${entry.toString(16)}`);
    expect(fields.find((f) => f.name === 'CSL [1:0]')?.value).toBe('0x1 (SL1)');
    expect(fred.find((v) => v.name === 'IA32_FRED_RSP1')?.value).toBe('0x0000000000310000');
    const levels = await children(h.dc, fred.find((v) => v.name === 'IA32_FRED_STKLVLS')!);
    expect(levels.find((l) => l.name === '14 #PF')?.value).toBe('SL1');
    expect(levels.find((l) => l.name === '13 #GP')?.value).toBe('SL0');
  });

  it('Event frame: the innermost FRED frame decoded field by field with the raw qwords', async () => {
    await atPageFault();
    const frame = await scopeVariables(h.dc, 'Event frame');
    expect(frame[0]).toMatchObject({ name: 'frame address', value: '0x30ffc0' });
    expect(frame.find((v) => v.name === '+0x30 eventData')?.value).toBe('0x0000000040000000');
    expect(frame.find((v) => v.name === '+0x8 rip')?.value).toBe(`0x${(await value(h.dc, 'fault_here')).toString(16).padStart(16, '0')}`);
    const ss = frame.find((v) => v.name === '+0x28 ssWord')!;
    expect(ss.value).toMatch(/#PF$/);
    const fields = await children(h.dc, ss);
    expect(fields.find((f) => f.name === 'vector [39:32]')?.value).toBe('0xe (#PF)');
    expect(fields.find((f) => f.name === 'type [51:48]')?.value).toBe('0x3 (Hardware exception)');
    expect(fields.find((f) => f.name === 'l [57]')?.value).toBe('1');
  });

  it('MSRs: the readable MSRs of the arch table', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const msrs = await scopeVariables(h.dc, 'MSRs');
    expect(msrs.find((v) => v.name === 'IA32_STAR')?.value).toBe('0x0023001000000000');
  });
});

describe('setVariable', () => {
  it('writes a GPR (expressions allowed) and the new value reads back', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const ref = (await h.dc.scopesRequest({ frameId: 1 })).body.scopes[0].variablesReference;
    const r = await h.dc.setVariableRequest({ variablesReference: ref, name: 'rbx', value: '0x1000 + 5' });
    expect(r.body.value).toBe('0x0000000000001005');
    expect(await value(h.dc, 'rbx')).toBe(0x1005n);
  });

  it('refuses a value that is not an expression, and RFLAGS reserved bits', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const ref = (await h.dc.scopesRequest({ frameId: 1 })).body.scopes[0].variablesReference;
    expect(await failure(h.dc.setVariableRequest({ variablesReference: ref, name: 'rbx', value: 'banana' }))).toMatch(/Cannot set rbx: unknown name 'banana'/);
    expect(await failure(h.dc.setVariableRequest({ variablesReference: ref, name: 'rflags', value: '0x8000' }))).toMatch(/RFLAGS: reserved bits must be 0 \(set: 0x8000\)/);
    expect(await failure(h.dc.setVariableRequest({ variablesReference: ref, name: 'cpl', value: '3' }))).toMatch(/cpl is read-only/);
  });

  it('writes an MSR through WRMSR: a rule that fails is an error and nothing changes', async () => {
    await launchStopped(h.dc, fixture('loop.fred'));
    const scopes = (await h.dc.scopesRequest({ frameId: 1 })).body.scopes;
    const fred = scopes.find((s) => s.name === 'FRED')!.variablesReference;
    const message = await failure(h.dc.setVariableRequest({ variablesReference: fred, name: 'IA32_FRED_CONFIG', value: '0x8000000000000000' }));
    expect(message).toMatch(/WRMSR IA32_FRED_CONFIG ← 0x8000000000000000 would raise #GP: .*canonical/);
    expect(await value(h.dc, 'IA32_FRED_CONFIG')).toBe(0n);
    const ok = await h.dc.setVariableRequest({ variablesReference: fred, name: 'IA32_FRED_RSP1', value: '0x40000' });
    expect(ok.body.value).toBe('0x0000000000040000');
    expect(await value(h.dc, 'IA32_FRED_RSP1')).toBe(0x40000n);
  });
});

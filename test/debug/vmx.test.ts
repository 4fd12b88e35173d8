// The debugger under the VMX monitor: the VMCS scope (SDM groups, decoded bit fields, setVariable
// through VMWRITE's rules), the "VM exit" top frame, vmexit:/vmentry breakpoints, the VM exits /
// VM-entry injection / VM-entry failure filters, `info vmcs`, `inject`, `vmcs.FIELD`, the
// fredLab/vmcs and fredLab/inject requests, bare-metal refusals, and time travel with the VMCS.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { VMCS_GROUP_TITLES } from '../../src/arch/index';
import type { InjectResponseBody, TimelineResponseBody, VmcsResponseBody } from '../../src/debug/customRequests';
import { children, failure, fixture, inProcess, launchStopped, outputContaining, resume, rip, scopeVariables, topFrame, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
});
afterEach(async () => {
  await h.close();
});

const program = fixture('vmx.fred');
const monitor = { vmx: {} };
const cont = () => resume(h.dc, () => h.dc.continueRequest({ threadId: 1 }));
const repl = (expression: string) => h.dc.evaluateRequest({ expression, context: 'repl' }).then((r) => r.body.result);
const functionBreakpoints = (...names: string[]) => h.dc.setFunctionBreakpointsRequest({ breakpoints: names.map((name) => ({ name })) });
const vmcs = () => h.dc.customRequest('fredLab/vmcs').then((r) => r.body as VmcsResponseBody);

/** What the Registers, Control registers and FRED scopes show, and the whole VMCS. */
async function state(dc: DebugClient): Promise<string> {
  const parts: string[] = [];
  for (const scope of ['Registers', 'Control registers', 'FRED']) parts.push(...(await scopeVariables(dc, scope)).map((v) => `${v.name}=${v.value}`));
  parts.push(JSON.stringify(((await dc.customRequest('fredLab/vmcs')).body as VmcsResponseBody)));
  return parts.join('\n');
}

async function vmcsField(name: string): Promise<DebugProtocol.Variable & { group: DebugProtocol.Variable }> {
  for (const group of await scopeVariables(h.dc, 'VMCS')) {
    const field = (await children(h.dc, group)).find((v) => v.name === name);
    if (field) return { ...field, group };
  }
  throw new Error(`no VMCS field ${name}`);
}

describe('VMCS scope', () => {
  it('groups every field as the SDM does, with bit fields of the controls decoded', async () => {
    await launchStopped(h.dc, program, monitor);
    const groups = await scopeVariables(h.dc, 'VMCS');
    expect(groups.map((g) => g.name)).toEqual(Object.values(VMCS_GROUP_TITLES));
    const bitmap = await vmcsField('EXCEPTION_BITMAP');
    expect(bitmap.value).toBe('0x00060042'); // KVM v9's default: #DB, #UD, #AC, #MC
    expect(bitmap.evaluateName).toBe('vmcs.EXCEPTION_BITMAP');
    const pin = await vmcsField('PIN_BASED_VM_EXEC_CONTROL');
    const bits = await children(h.dc, pin);
    expect(bits.find((b) => b.name.startsWith('PIN_BASED_EXT_INTR_MASK'))).toMatchObject({ name: 'PIN_BASED_EXT_INTR_MASK [0]', value: '1' });
    expect(bits.find((b) => b.name.startsWith('PIN_BASED_NMI_EXITING'))?.value).toBe('1');
    expect((await vmcsField('GUEST_RIP')).value).toBe(`0x${(await rip(h.dc)).toString(16).padStart(16, '0')}`);
  });

  it('setVariable writes a control field; an exit-information field is refused with VMWRITE error 13', async () => {
    await launchStopped(h.dc, program, monitor);
    const bitmap = await vmcsField('EXCEPTION_BITMAP');
    const r = await h.dc.setVariableRequest({ variablesReference: bitmap.group.variablesReference, name: 'EXCEPTION_BITMAP', value: '0x60042 | (1 << 14)' });
    expect(r.body.value).toBe('0x00064042');
    expect(await value(h.dc, 'vmcs.EXCEPTION_BITMAP')).toBe(0x64042n);
    const reason = await vmcsField('VM_EXIT_REASON');
    expect(reason.presentationHint?.attributes).toContain('readOnly');
    const message = await failure(h.dc.setVariableRequest({ variablesReference: reason.group.variablesReference, name: 'VM_EXIT_REASON', value: '1' }));
    expect(message).toBe('Cannot set VM_EXIT_REASON: VMWRITE VM_EXIT_REASON failed with VM-instruction error 13: VMWRITE to read-only field VM_EXIT_REASON (0x4402)');
    expect(await failure(h.dc.setVariableRequest({ variablesReference: bitmap.group.variablesReference, name: 'EXCEPTION_BITMAP', value: 'nonsense' })))
      .toMatch(/^Cannot set EXCEPTION_BITMAP: unknown name 'nonsense'/);
  });

  it('shows a register written at this stop in the guest-state area (GUEST_RIP follows rip)', async () => {
    await launchStopped(h.dc, program, monitor);
    const target = await value(h.dc, 'spin');
    expect((await vmcsField('GUEST_RIP')).value).not.toBe(`0x${target.toString(16).padStart(16, '0')}`);
    const registers = (await h.dc.scopesRequest({ frameId: (await topFrame(h.dc)).id })).body.scopes.find((x) => x.name === 'Registers')!;
    await h.dc.setVariableRequest({ variablesReference: registers.variablesReference, name: 'rip', value: 'spin' });
    expect((await vmcsField('GUEST_RIP')).value).toBe(`0x${target.toString(16).padStart(16, '0')}`);
  });

  it('is absent on bare metal, where VMCS requests and commands say why', async () => {
    await launchStopped(h.dc, program, { vmx: false });
    const scopes = (await h.dc.scopesRequest({ frameId: (await topFrame(h.dc)).id })).body.scopes.map((s) => s.name);
    expect(scopes).not.toContain('VMCS');
    expect(await failure(repl('info vmcs'))).toBe('info vmcs: the guest runs on bare metal ("vmx": false), there is no VMCS');
    expect(await failure(repl('inject nmi'))).toMatch(/^inject: the guest runs on bare metal \("vmx": false\), so there is no monitor/);
    expect(await failure(value(h.dc, 'vmcs.GUEST_RIP'))).toBe('vmcs.GUEST_RIP: the guest runs on bare metal ("vmx": false), there is no VMCS');
    expect(await vmcs()).toEqual({ active: false, exitCount: 0, stoppedAtExit: null, groups: [] });
    expect(await failure(h.dc.customRequest('fredLab/inject', { kind: 'nmi' }))).toMatch(/^fredLab\/inject: inject: the guest runs on bare metal/);
  });
});

describe('VM exits and entries', () => {
  it('vmexit:CPUID stops at each CPUID exit before it is handled, with a "VM exit" top frame', async () => {
    let set: DebugProtocol.SetFunctionBreakpointsResponse | undefined;
    await launchStopped(h.dc, program, monitor, async () => { set = await functionBreakpoints('vmexit:CPUID', 'vmexit:cpuid', 'vmexit:10', 'vmexit:NOPE', 'vmexit:'); });
    expect(set!.body.breakpoints.map((b) => b.verified)).toEqual([true, true, true, false, false]);
    expect((await functionBreakpoints('vmexit:*', 'vmexit:0x30', 'vmexit:EXIT_REASON_HLT,IO_INSTRUCTION')).body.breakpoints.every((b) => b.verified)).toBe(true);
    set = await functionBreakpoints('vmexit:CPUID', 'vmexit:cpuid', 'vmexit:10', 'vmexit:NOPE', 'vmexit:');
    expect(set!.body.breakpoints[3].message).toMatch(/^vmexit:NOPE: 'NOPE' is not a VM-exit reason/);
    const stop = await cont();
    expect(stop.body.reason).toBe('function breakpoint');
    expect(stop.body.hitBreakpointIds).toEqual(set!.body.breakpoints.slice(0, 3).map((b) => b.id));
    const cpuid = (await value(h.dc, 'cpuids')) + 2n; // after xor eax, eax
    expect(stop.body.description).toBe(`VM exit: CPUID (10) at guest RIP 0x${cpuid.toString(16)}`);
    const frames = (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames[0].name).toBe('VM exit: CPUID (10) ← cpuids+0x2');
    expect(frames[0].line).toBe(23);
    expect(frames[1].name).toBe('cpuids+0x2');
    expect((await h.dc.scopesRequest({ frameId: frames[0].id })).body.scopes.map((s) => s.name)).toContain('VMCS');
    expect(await value(h.dc, 'vmcs.VM_EXIT_REASON')).toBe(10n);
    expect(await value(h.dc, 'vmcs.GUEST_RIP')).toBe(cpuid);
    expect((await vmcsField('VM_EXIT_REASON')).value).toBe('0x0000000a CPUID (10)');
    const body = await vmcs();
    expect(body.stoppedAtExit).toMatchObject({ reason: 10, name: 'CPUID', guestRip: `0x${cpuid.toString(16)}` });
    expect(body.exitCount).toBeGreaterThan(1); // EPT violations and the CR4 write came first
    await cont();
    expect(await value(h.dc, 'r12')).toBe(2n); // the second CPUID: the first was handled
    expect((await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name).toMatch(/^VM exit: CPUID \(10\)/);
    await functionBreakpoints();
    const stepped = await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect(stepped.body.reason).toBe('step');
    expect((await topFrame(h.dc)).name).toBe('after_cpuid');
  });

  it('the VM exits filter stops at the reasons of its condition; a bad condition is an error', async () => {
    await launchStopped(h.dc, program, monitor, () => h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmExit', condition: 'CR_ACCESS, 10' }] }));
    const stop = await cont();
    expect(stop.body.reason).toBe('exception');
    expect(stop.body.description).toMatch(/^VM exit: CR access \(28\) at guest RIP/);
    expect((await h.dc.exceptionInfoRequest({ threadId: 1 })).body.description).toMatch(/^VM exit: CR access \(28\)/);
    expect((await vmcsField('EXIT_QUALIFICATION')).value).toMatch(/^0x0000000000000004/); // MOV to CR4
    await cont();
    expect(await value(h.dc, 'vmcs.VM_EXIT_REASON')).toBe(10n);
    expect(await failure(h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmExit', condition: 'CPUID, teapot' }] })))
      .toMatch(/VM exits filter condition: 'teapot' is not a VM-exit reason/);
    expect(await failure(h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'nmi', condition: 'x' }] }))).toMatch(/nmi take no condition/);
  });

  it('vmentry stops where a VM entry goes: the guest RIP it loaded', async () => {
    await launchStopped(h.dc, program, monitor, () => h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmExit', condition: 'CPUID' }] }));
    await cont();
    const cpuid = await rip(h.dc);
    await h.dc.setExceptionBreakpointsRequest({ filters: [] });
    const set = await functionBreakpoints('vmentry');
    const stop = await cont();
    expect(stop.body).toMatchObject({ reason: 'function breakpoint', description: 'VM entry', hitBreakpointIds: [set.body.breakpoints[0].id] });
    expect(await rip(h.dc)).toBe(cpuid + 2n); // the handler emulated CPUID and entered after it
  });

  it('info vmcs lists the non-zero fields by group', async () => {
    await launchStopped(h.dc, program, monitor);
    const text = await repl('info vmcs');
    expect(text).toMatch(/^VMCS after \d+ VM exits?\n/);
    for (const title of Object.values(VMCS_GROUP_TITLES)) expect(text).toContain(`${title} (`);
    expect(text).toContain('  EXCEPTION_BITMAP = 0x00060042');
    expect(await failure(repl('info registers'))).toBe("'info registers': the info commands are 'info fred' and 'info vmcs'");
  });

  it('fredLab/vmcs gives every field by group with values and decoded bits', async () => {
    await launchStopped(h.dc, program, monitor);
    const body = await vmcs();
    expect(body.active).toBe(true);
    expect(body.groups.map((g) => g.title)).toEqual(Object.values(VMCS_GROUP_TITLES));
    const controls = body.groups.find((g) => g.group === 'executionControl')!;
    const bitmap = controls.fields.find((f) => f.name === 'EXCEPTION_BITMAP')!;
    expect(bitmap).toEqual({ name: 'EXCEPTION_BITMAP', encoding: '0x4004', title: 'Exception bitmap', width: 32, value: '0x60042', readOnly: false });
    const pin = controls.fields.find((f) => f.name === 'PIN_BASED_VM_EXEC_CONTROL')!;
    expect(pin.bits?.find((b) => b.name === 'PIN_BASED_NMI_EXITING')).toEqual({ name: 'PIN_BASED_NMI_EXITING', bits: '3', value: '0x1' });
    const info = body.groups.find((g) => g.group === 'exitInformation')!;
    expect(info.fields.every((f) => f.readOnly)).toBe(true);
  });
});

describe('injection', () => {
  async function pausedInSpin(filters: string[] = []): Promise<void> {
    const vmxFixture = program;
    await launchStopped(h.dc, vmxFixture, monitor, async () => {
      await h.dc.setBreakpointsRequest({ source: { path: vmxFixture }, breakpoints: [{ line: 28 }] }); // spin: inc r14
      await h.dc.setExceptionBreakpointsRequest({ filters });
    });
    await cont();
    await h.dc.setBreakpointsRequest({ source: { path: vmxFixture }, breakpoints: [] });
  }

  it('inject nmi: the monitor injects it at the next VM entry; the injection filter stops at the handler', async () => {
    await pausedInSpin(['vmEntryInjection']);
    expect(await repl('inject nmi')).toBe('NMI queued: the monitor injects it at the next VM entry');
    const stop = await cont();
    expect(stop.body).toMatchObject({ reason: 'exception', description: 'VM entry injecting 0x80000202' });
    expect((await topFrame(h.dc)).name).toBe('fred_entry_kernel');
    const frames = (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    expect(frames[1].name).toMatch(/^NMI \(nmi 2\) · SL0 · from CPL 0 ← spin/);
    const timeline = (await h.dc.customRequest('fredLab/timeline', { kinds: ['vmexit', 'vmentry'] })).body as TimelineResponseBody;
    // The kick (an external-interrupt exit) made the monitor enter again, injecting the NMI (type 2, vector 2, valid).
    const kick = timeline.records.findIndex((r) => /^VM exit: external interrupt/.test(r.summary));
    expect(kick).toBeGreaterThanOrEqual(0);
    expect(timeline.records.slice(kick).some((r) => r.kind === 'vmentry' && r.record.injectedInterruptionInfo === 0x80000202)).toBe(true);
  });

  it('the injection filter\'s condition names the events it stops for', async () => {
    await launchStopped(h.dc, program, monitor, async () => {
      await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 28 }] });
      await h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmEntryInjection', condition: '#PF' }] });
    });
    await cont();
    await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [] });
    await repl('inject nmi');
    const ended = h.dc.waitForEvent('terminated');
    await h.dc.continueRequest({ threadId: 1 }); // no stop for the NMI: the program runs to its end
    await ended;
    expect(await value(h.dc, 'r15')).toBe(1n); // the handler ran once
  });

  it('inject exc with an error code and event data (console and fredLab/inject)', async () => {
    await pausedInSpin();
    expect(await repl('inject exc #PF err=2 data=0x400000')).toBe('#PF (hardware exception 14), error code 0x2, event data 0x400000 queued: the monitor injects it at the next VM entry');
    await functionBreakpoints('#PF');
    await cont();
    expect((await topFrame(h.dc)).name).toBe('fred_entry_kernel');
    const frame = await scopeVariables(h.dc, 'Event frame');
    expect(frame.find((v) => v.name.endsWith('eventData'))?.value).toBe('0x0000000000400000');
    expect(frame.find((v) => v.name.endsWith('errorCode'))?.value).toBe('0x0000000000000002');
    const r = (await h.dc.customRequest('fredLab/inject', { kind: 'interrupt', vector: 0x30 })).body as InjectResponseBody;
    expect(r.description).toBe('external interrupt, vector 0x30 queued: the monitor injects it at the next VM entry');
  });

  it('bad inject commands and requests are clear errors', async () => {
    await launchStopped(h.dc, program, monitor);
    const usage = 'usage: inject nmi | inject intr VECTOR | inject exc VECTOR [err=ERROR_CODE] [data=EVENT_DATA]';
    expect(await failure(repl('inject'))).toBe(usage);
    expect(await failure(repl('inject foo'))).toBe(`inject: 'foo' is not nmi, intr or exc; ${usage}`);
    expect(await failure(repl('inject intr'))).toBe(`inject intr takes one vector, e.g. inject intr 0x20; ${usage}`);
    expect(await failure(repl('inject intr 300'))).toBe('inject intr: the vector must be a number from 0 to 0xff (got 0x12c)');
    expect(await failure(repl('inject exc 2'))).toBe('inject exc: vector 2 is not an exception (use inject nmi)');
    expect(await failure(repl('inject exc #GP err=zz'))).toMatch(/^inject: err 'zz': unknown name 'zz'/);
    expect(await failure(repl('inject exc #GP code=1'))).toBe(`inject exc: 'code=1' is not err=ERROR_CODE or data=EVENT_DATA; ${usage}`);
    expect(await failure(repl('inject nmi now'))).toBe(`inject nmi takes nothing more (got 'now'); ${usage}`);
    expect(await failure(h.dc.customRequest('fredLab/inject', { kind: 'reset' }))).toBe('fredLab/inject: fredLab/inject: \'kind\' must be "nmi", "interrupt" or "exception" (got "reset")');
    expect(await failure(h.dc.customRequest('fredLab/inject', { kind: 'exception', vector: 40 }))).toBe('fredLab/inject: inject exc: the vector must be a number from 0 to 0x1f (got 40)');
  });
});

describe('VM-entry failure', () => {
  it('stops (filter on by default) naming the check; fixing the VMCS lets the entry go through', async () => {
    await launchStopped(h.dc, program, monitor, () => functionBreakpoints('vmexit:CPUID'));
    await cont();
    const rflags = await vmcsField('GUEST_RFLAGS');
    await h.dc.setVariableRequest({ variablesReference: rflags.group.variablesReference, name: 'GUEST_RFLAGS', value: '0' }); // bit 1 must be 1
    await functionBreakpoints();
    const stop = await cont();
    expect(stop.body).toMatchObject({ reason: 'exception', description: 'VM-entry failure' });
    expect((await h.dc.exceptionInfoRequest({ threadId: 1 })).body.description).toMatch(/^VM-entry failure: .*RFLAGS/);
    await h.dc.setVariableRequest({ variablesReference: (await vmcsField('GUEST_RFLAGS')).group.variablesReference, name: 'GUEST_RFLAGS', value: '2' });
    await functionBreakpoints('vmexit:CPUID');
    await cont();
    expect(await value(h.dc, 'r12')).toBe(2n);
  });
});

describe('VM-entry failure with the filter off', () => {
  it('ends the session with the failed check in words', async () => {
    await launchStopped(h.dc, program, monitor, async () => {
      await functionBreakpoints('vmexit:CPUID');
      await h.dc.setExceptionBreakpointsRequest({ filters: ['nested', 'doubleFault'] });
    });
    await cont();
    const rflags = await vmcsField('GUEST_RFLAGS');
    await h.dc.setVariableRequest({ variablesReference: rflags.group.variablesReference, name: 'GUEST_RFLAGS', value: '0' });
    await functionBreakpoints();
    const said = outputContaining(h.dc, 'console', 'Program ended after');
    const terminated = h.dc.waitForEvent('terminated');
    await h.dc.continueRequest({ threadId: 1 });
    expect((await said).body.output).toMatch(/RFLAGS/);
    await terminated;
  });
});

describe('reverse continue under the monitor', () => {
  it('goes back to the previous VM exit a breakpoint matches, stopped before the monitor handles it', async () => {
    await launchStopped(h.dc, program, monitor, () => functionBreakpoints('vmexit:CPUID'));
    for (let k = 0; k < 3; k++) await cont();
    expect(await value(h.dc, 'r12')).toBe(1n); // the third CPUID exit
    const third = await state(h.dc);
    await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 28 }] }); // spin
    await cont();
    expect((await topFrame(h.dc)).name).toBe('spin');
    const back = await resume(h.dc, () => h.dc.reverseContinueRequest({ threadId: 1 }));
    expect(back.body.description).toMatch(/^VM exit: CPUID \(10\) at guest RIP 0x[0-9a-f]+ \(reverse\)$/);
    expect((await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name).toBe('VM exit: CPUID (10) ← cpuids+0x2');
    expect(await state(h.dc)).toBe(third);
    await resume(h.dc, () => h.dc.reverseContinueRequest({ threadId: 1 }));
    expect(await value(h.dc, 'r12')).toBe(2n);
    expect((await vmcs()).stoppedAtExit?.reason).toBe(10);
    await cont(); // the monitor handles the second exit; the third stops again
    expect(await value(h.dc, 'r12')).toBe(1n);
    expect(await state(h.dc)).toBe(third);
  });
});

describe('restart under the monitor', () => {
  it('boots a new monitor and keeps the VM-exit breakpoints and filters', async () => {
    await launchStopped(h.dc, program, monitor, async () => {
      await functionBreakpoints('vmexit:CPUID');
      await h.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmExit', condition: 'CR_ACCESS' }] });
    });
    expect((await cont()).body.description).toMatch(/^VM exit: CR access \(28\)/);
    const restarted = h.dc.waitForEvent('stopped');
    await h.dc.customRequest('restart', { arguments: { program, stopOnEntry: true, memoryMiB: 8, vmx: {} } });
    await restarted;
    expect((await vmcs()).stoppedAtExit).toBeNull();
    expect((await cont()).body.description).toMatch(/^VM exit: CR access \(28\)/);
    expect((await cont()).body.description).toMatch(/^VM exit: CPUID \(10\)/);
  });
});

describe('completions', () => {
  it('offer VMCS fields as vmcs.NAME under the monitor, and the new console commands', async () => {
    await launchStopped(h.dc, program, monitor);
    const targets = (await h.dc.completionsRequest({ text: 'vmcs.GUEST_R', column: 13 })).body.targets.map((t) => t.label);
    expect(targets).toEqual(expect.arrayContaining(['vmcs.GUEST_RIP', 'vmcs.GUEST_RSP', 'vmcs.GUEST_RFLAGS']));
    const commands = (await h.dc.completionsRequest({ text: 'in', column: 3 })).body.targets.map((t) => t.label);
    expect(commands).toEqual(expect.arrayContaining(['info fred', 'info vmcs', 'inject']));
  });
});

describe('time travel under the monitor', () => {

  it('stepping back N and forward N gives identical state, the VMCS included, across VM exits', async () => {
    const vmxFixture = program;
    await launchStopped(h.dc, vmxFixture, monitor, () => h.dc.setBreakpointsRequest({ source: { path: vmxFixture }, breakpoints: [{ line: 28 }] }));
    await cont(); // the first pass of the spin loop: FRED set up, CR4 written, three CPUID exits handled
    await h.dc.setBreakpointsRequest({ source: { path: vmxFixture }, breakpoints: [] });
    const exits = (await vmcs()).exitCount;
    const before = await state(h.dc);
    const N = 12; // back across the CPUID exits
    for (let k = 0; k < N; k++) await resume(h.dc, () => h.dc.stepBackRequest({ threadId: 1 }));
    expect((await vmcs()).exitCount).toBeLessThan(exits);
    expect(await state(h.dc)).not.toBe(before);
    for (let k = 0; k < N; k++) await resume(h.dc, () => h.dc.stepInRequest({ threadId: 1 }));
    expect(await state(h.dc)).toBe(before);
    expect((await vmcs()).exitCount).toBe(exits);
  });
});

// The FRED Lab debug session (ARCHITECTURE §1, §6): translates DAP requests to machine calls and
// renders what the machine, its trace and src/arch say. Runs inline in the extension host
// (`new vscode.DebugAdapterInlineImplementation(new FredDebugSession())`) and stand-alone
// (`node dist/debugAdapter.js`). The concerns live in their own modules: launch attributes,
// program loading, execution and time travel, breakpoints, variables, expressions, disassembly.
import { basename } from 'node:path';
import {
  Breakpoint, BreakpointEvent, ExitedEvent, InitializedEvent, InvalidatedEvent, LoggingDebugSession, OutputEvent, Source, StoppedEvent,
  TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MSRS, VMCS_FIELDS, msrByName } from '../arch/index';
import { createMachine, type Machine } from '../machine/machine';
import { Breakpoints, EXCEPTION_FILTERS } from './breakpoints';
import { CONSOLE_COMMANDS, CONSOLE_HELP, examine, infoFred } from './console';
import type { InjectArguments, InjectResponseBody, TimelineArguments, TravelToArguments, TravelToResponseBody } from './customRequests';
import { stackLevels, timeline, vmcsBody } from './fredViews';
import { InjectError, inject, parseInjectCommand } from './inject';
import { monitorOf } from './monitor';
import { infoVmcs } from './vmcsView';
import { disassembleAround, readPrefix } from './disassembly';
import { deliveryLabel } from './eventStack';
import { Execution, type Outcome } from './execution';
import { dataId, describeTarget, memoryTarget, msrTarget, type DataTarget } from './dataBreakpoints';
import { ExpressionError, REGISTER_NAMES, evaluateExpression, machineContext } from './expressions';
import { checkLaunchArguments, type LaunchConfig } from './launchConfig';
import { checkPolicyLabels } from '../machine/vmx/policy';
import { loadProgram, symbolize, type LoadedProgram } from './program';
import { summarizeRecord } from './traceText';
import { SetVariableError, Variables, hex } from './variables';

const THREAD_ID = 1;
/** The id of the "VM exit: …" frame shown while stopped at an unhandled VM exit (its scopes are the current ones). */
const EXIT_FRAME_ID = 1_000_000;

/** Error ids of the error responses (stable for clients and tests). */
export const ErrorIds = {
  badLaunch: 1001, assembler: 1002, machine: 1003, notRunning: 1004, busy: 1005, evaluate: 1006, setVariable: 1007, memory: 1008,
  custom: 1009, goto: 1010,
} as const;

interface Session {
  config: LaunchConfig;
  program: LoadedProgram;
  machine: Machine;
  execution: Execution;
  breakpoints: Breakpoints;
  variables: Variables;
}

/** Breakpoint requests kept across `restart` (a new machine gets the same breakpoints). */
interface BreakpointRequests {
  source: Map<string, DebugProtocol.SourceBreakpoint[]>;
  functions: DebugProtocol.FunctionBreakpoint[];
  instructions: DebugProtocol.InstructionBreakpoint[];
  data: DebugProtocol.DataBreakpoint[];
  filters: { filters: string[]; conditions: Map<string, string> } | undefined;
}

export class FredDebugSession extends LoggingDebugSession {
  private s: Session | undefined;
  private running = false;
  private configured = false;
  private lastStop: Outcome | undefined;
  private requests: BreakpointRequests = { source: new Map(), functions: [], instructions: [], data: [], filters: undefined };
  /** Ends every pending run (disconnect, terminate, restart). */
  private generation = 0;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---- lifecycle ----

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsStepBack: true,
      supportsSetVariable: true,
      supportsRestartRequest: true,
      supportsGotoTargetsRequest: true,
      supportsCompletionsRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsInstructionBreakpoints: true,
      supportsSteppingGranularity: true,
      supportsBreakpointLocationsRequest: true,
      supportsExceptionInfoRequest: true,
      supportsTerminateRequest: true,
      supportsDataBreakpoints: true,
      supportsExceptionFilterOptions: true,
      supportsDataBreakpointBytes: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): void {
    const check = checkLaunchArguments(args as unknown as Record<string, unknown>);
    if (!check.ok) {
      for (const e of check.errors) this.console(`launch: ${e}\n`, 'stderr');
      return this.fail(response, ErrorIds.badLaunch, `Bad launch configuration:\n${check.errors.join('\n')}`);
    }
    const started = this.boot(check.config);
    if (!started.ok) return this.fail(response, started.id, started.message);
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  /** Assemble and boot; the session does not start on an assembler error. */
  private boot(config: LaunchConfig): { ok: true } | { ok: false; id: number; message: string } {
    const loaded = loadProgram(config.program);
    if (!loaded.ok) {
      for (const e of loaded.errors) this.console(`${e}\n`, 'stderr');
      return { ok: false, id: ErrorIds.assembler, message: `The program did not assemble (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'}):\n${loaded.errors.join('\n')}` };
    }
    for (const w of loaded.warnings) this.console(`${w}\n`, 'console');
    const program = loaded.program;
    if (config.vmx) {
      const labels = checkPolicyLabels(config.vmx, (label) => program.result.image.symbols.get(label));
      if (labels.length) {
        const lines = labels.map((e) => `'${e.path}': ${e.message}`);
        for (const line of lines) this.console(`launch: ${line}\n`, 'stderr');
        return { ok: false, id: ErrorIds.badLaunch, message: `Bad launch configuration:\n${lines.join('\n')}` };
      }
    }
    let machine: Machine;
    try {
      machine = createMachine(program.result.image, { memoryMiB: config.memoryMiB, interrupts: config.interrupts, vmx: config.vmx });
    } catch (error) {
      const message = `The machine could not boot the program: ${error instanceof Error ? error.message : String(error)}`;
      this.console(`${message}\n`, 'stderr');
      return { ok: false, id: ErrorIds.machine, message };
    }
    const breakpoints = new Breakpoints(machine, program.result.sourceMap, program.result.image.symbols);
    const context = machineContext(machine, program.result.image.symbols);
    const evaluate = (text: string) => evaluateExpression(text, context);
    const interpolate = (message: string) => message.replace(/\{([^}]+)\}/g, (_, expr: string) => {
      try {
        return hex(evaluate(expr));
      } catch (error) {
        return `<${(error as Error).message}>`;
      }
    });
    const execution = new Execution(machine, breakpoints, evaluate, interpolate, {
      output: (text) => this.console(text, 'stdout'),
      record: config.trace ? (r) => this.console(`[${r.icount}] ${summarizeRecord(r)}\n`, 'console') : undefined,
      log: (text) => this.console(`${text}\n`, 'console'),
      breakpointsChanged: (list) => list.forEach((bp) => this.sendEvent(new BreakpointEvent('changed', bp as Breakpoint))),
    }, config.maxInstructions);
    this.s = { config, program, machine, execution, breakpoints, variables: new Variables(machine) };
    this.running = false;
    this.lastStop = undefined;
    return { ok: true };
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.configured = true;
    this.begin();
  }

  private begin(): void {
    const s = this.s;
    if (!s) return;
    if (s.config.stopOnEntry) this.report({ kind: 'stopped', reason: 'entry', description: 'Paused on entry' });
    else void this.resume(() => s.execution.continue_());
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    const previous = this.s?.config;
    const raw = (args?.arguments as Record<string, unknown> | undefined) ?? previous;
    if (!raw) return this.fail(response, ErrorIds.notRunning, 'Nothing to restart: no program was launched.');
    const check = checkLaunchArguments(raw as Record<string, unknown>);
    if (!check.ok) return this.fail(response, ErrorIds.badLaunch, `Bad launch configuration:\n${check.errors.join('\n')}`);
    this.stopRunning();
    const started = this.boot(check.config);
    if (!started.ok) return this.fail(response, started.id, started.message);
    this.reapplyBreakpoints();
    this.sendResponse(response);
    if (this.configured) this.begin();
  }

  private reapplyBreakpoints(): void {
    const s = this.s;
    if (!s) return;
    for (const [path, list] of this.requests.source) s.breakpoints.setSource(path, list);
    s.breakpoints.setFunction(this.requests.functions);
    s.breakpoints.setInstruction(this.requests.instructions);
    s.execution.data.set(this.requests.data);
    if (this.requests.filters) s.breakpoints.setExceptionFilters(this.requests.filters.filters, this.requests.filters.conditions);
  }

  private stopRunning(): void {
    this.generation++;
    if (this.s) this.s.execution.pauseRequested = true;
    this.running = false;
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.stopRunning();
    this.s = undefined;
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.stopRunning();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  // ---- running ----

  private session(response: DebugProtocol.Response): Session | undefined {
    if (!this.s) this.fail(response, ErrorIds.notRunning, 'No program is running (launch first).');
    return this.s;
  }

  /** Start an execution command unless one is running; the outcome is reported as events. */
  private execute(response: DebugProtocol.Response, run: (s: Session) => Outcome | Promise<Outcome>, body?: unknown): void {
    const s = this.session(response);
    if (!s) return;
    if (this.running) return this.fail(response, ErrorIds.busy, 'The machine is running: pause it first.');
    if (body !== undefined) response.body = body;
    this.sendResponse(response);
    void this.resume(() => run(s));
  }

  private async resume(run: () => Outcome | Promise<Outcome>): Promise<void> {
    const generation = this.generation;
    this.running = true;
    let outcome: Outcome;
    try {
      outcome = await run();
    } catch (error) {
      outcome = { kind: 'stopped', reason: 'exception', description: 'Debugger error', text: error instanceof Error ? error.message : String(error) };
    }
    if (generation !== this.generation) return;
    this.running = false;
    this.report(outcome);
  }

  private report(outcome: Outcome): void {
    const s = this.s;
    if (!s) return;
    this.lastStop = outcome;
    if (outcome.kind === 'ended') {
      const stop = outcome.stop;
      this.console(`Program ended after ${stop.icount} instructions: ${stop.message}\n`, 'console');
      this.sendEvent(new ExitedEvent(stop.reason === 'debugExit' ? stop.exitCode ?? 0 : stop.reason === 'halted' ? 0 : 1));
      this.sendEvent(new TerminatedEvent());
      return;
    }
    s.variables.reset();
    const event = new StoppedEvent(outcome.reason, THREAD_ID, outcome.text) as DebugProtocol.StoppedEvent;
    event.body.description = outcome.description;
    event.body.allThreadsStopped = true;
    if (outcome.ids?.length) event.body.hitBreakpointIds = outcome.ids;
    this.sendEvent(event);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'vCPU 0')] };
    this.sendResponse(response);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.execute(response, (s) => s.execution.continue_(), { allThreadsContinued: true });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.execute(response, (s) => s.execution.next());
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.execute(response, (s) => s.execution.stepIn());
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.execute(response, (s) => s.execution.stepOut());
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.execute(response, (s) => s.execution.stepBack());
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.execute(response, (s) => s.execution.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    const s = this.session(response);
    if (!s) return;
    this.sendResponse(response);
    if (this.running) s.execution.pauseRequested = true;
    else this.report({ kind: 'stopped', reason: 'pause', description: 'Paused' });
  }

  // ---- stack ----

  /** Frame 1 is the current instruction; frame k + 1 is the code the k-th innermost event interrupted. */
  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const s = this.session(response);
    if (!s) return;
    const active = s.execution.activeEvents();
    const frames: DebugProtocol.StackFrame[] = [];
    // Stopped at a VM exit the monitor has not handled yet: the exit is the top frame, at the guest RIP.
    const exit = monitorOf(s.machine)?.stoppedAtExit;
    if (exit) {
      const frame = this.codeFrame(s, EXIT_FRAME_ID, exit.guestRip);
      frame.name = `VM exit: ${exit.reasonName} (${exit.basicReason}) ← ${frame.name}`;
      frames.push(frame);
    }
    frames.push(this.codeFrame(s, 1, s.machine.getRip()));
    for (let k = active.length - 1; k >= 0; k--) {
      const d = active[k];
      const frame = this.codeFrame(s, active.length - k + 1, d.fromRip);
      frame.name = `${deliveryLabel(d)} ← ${frame.name}`;
      frames.push(frame);
    }
    const start = args.startFrame ?? 0;
    const levels = args.levels || frames.length;
    response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private source(path: string): Source {
    return new Source(basename(path), this.convertDebuggerPathToClient(path));
  }

  private codeFrame(s: Session, id: number, address: bigint): DebugProtocol.StackFrame {
    const where = s.program.result.sourceMap.addressToLocation(address);
    const name = symbolize(s.program, address) ?? hex(address);
    const frame: DebugProtocol.StackFrame = { id, name, line: 0, column: 0, instructionPointerReference: hex(address) };
    if (where) {
      frame.source = this.source(where.file);
      frame.line = this.convertDebuggerLineToClient(where.line);
      frame.column = this.convertDebuggerColumnToClient(where.column);
    } else {
      frame.name = `${name} (no source)`;
      frame.presentationHint = 'subtle';
    }
    return frame;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const s = this.session(response);
    if (!s) return;
    const active = s.execution.activeEvents();
    const index = args.frameId <= 1 || args.frameId === EXIT_FRAME_ID ? active.length - 1 : active.length - (args.frameId - 1);
    response.body = { scopes: s.variables.scopes(active[index]) };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const s = this.session(response);
    if (!s) return;
    response.body = { variables: s.variables.variables(args.variablesReference) };
    this.sendResponse(response);
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    const s = this.session(response);
    if (!s) return;
    if (this.running) return this.fail(response, ErrorIds.busy, 'The machine is running: pause it first.');
    try {
      const value = evaluateExpression(args.value, machineContext(s.machine, s.program.result.image.symbols));
      response.body = s.variables.set(args.variablesReference, args.name, value);
    } catch (error) {
      if (error instanceof ExpressionError || error instanceof SetVariableError) return this.fail(response, ErrorIds.setVariable, `Cannot set ${args.name}: ${error.message}`);
      throw error;
    }
    s.execution.stateModified();
    this.sendResponse(response);
    if (args.name === 'rip') this.sendEvent(new InvalidatedEvent(['stacks']));
  }

  // ---- breakpoints ----

  private clientPath(source: DebugProtocol.Source): string | undefined {
    return source.path ? this.convertClientPathToDebugger(source.path) : undefined;
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const s = this.session(response);
    if (!s) return;
    const path = this.clientPath(args.source);
    const requested = (args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }))).map((b) => ({ ...b, line: this.convertClientLineToDebugger(b.line) }));
    if (!path) {
      response.body = { breakpoints: requested.map(() => ({ verified: false, message: 'the source has no path' })) };
      return this.sendResponse(response);
    }
    this.requests.source.set(path, requested);
    const result = s.breakpoints.setSource(path, requested);
    response.body = { breakpoints: result.map((bp) => ({ ...bp, source: args.source, line: bp.line !== undefined ? this.convertDebuggerLineToClient(bp.line) : undefined })) };
    this.sendResponse(response);
  }

  protected override breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    const s = this.session(response);
    if (!s) return;
    const path = this.clientPath(args.source);
    const first = this.convertClientLineToDebugger(args.line);
    const last = args.endLine !== undefined ? this.convertClientLineToDebugger(args.endLine) : first;
    const lines = new Set<number>();
    for (const e of s.program.result.sourceMap.entries) if (e.file === path && e.line >= first && e.line <= last) lines.add(e.line);
    response.body = { breakpoints: [...lines].sort((a, b) => a - b).map((line) => ({ line: this.convertDebuggerLineToClient(line) })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const s = this.session(response);
    if (!s) return;
    this.requests.functions = args.breakpoints;
    response.body = { breakpoints: s.breakpoints.setFunction(args.breakpoints) };
    this.sendResponse(response);
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    const s = this.session(response);
    if (!s) return;
    this.requests.instructions = args.breakpoints;
    response.body = { breakpoints: s.breakpoints.setInstruction(args.breakpoints) };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    const s = this.session(response);
    if (!s) return;
    let target: DataTarget | string;
    if (args.variablesReference) target = s.variables.dataTarget(args.variablesReference, args.name);
    else if (!args.asAddress && msrByName(args.name.trim())) target = msrTarget(args.name.trim());
    else {
      try {
        const ctx = machineContext(s.machine, s.program.result.image.symbols);
        target = memoryTarget(args.name, (text) => evaluateExpression(text, ctx), s.program.result.image.symbols, args.bytes, args.asAddress);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        target = error.message;
      }
    }
    response.body = typeof target === 'string'
      ? { dataId: null, description: target }
      : { dataId: dataId(target), description: describeTarget(target), accessTypes: ['write'], canPersist: true };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    const s = this.session(response);
    if (!s) return;
    this.requests.data = args.breakpoints;
    response.body = { breakpoints: s.execution.data.set(args.breakpoints) };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    const s = this.session(response);
    if (!s) return;
    const filters = [...args.filters, ...(args.filterOptions ?? []).map((o) => o.filterId)];
    const conditions = new Map((args.filterOptions ?? []).filter((o) => o.condition?.trim()).map((o) => [o.filterId, o.condition!]));
    const error = s.breakpoints.setExceptionFilters(filters, conditions);
    if (error) return this.fail(response, ErrorIds.badLaunch, error);
    this.requests.filters = { filters, conditions };
    response.body = { breakpoints: filters.map(() => ({ verified: true })) };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const stop = this.lastStop;
    const description = stop?.kind === 'stopped' ? stop.description : 'No exception';
    response.body = { exceptionId: stop?.kind === 'stopped' ? stop.reason : 'none', description: stop?.kind === 'stopped' && stop.text ? `${description}: ${stop.text}` : description, breakMode: 'always' };
    this.sendResponse(response);
  }

  // ---- goto ----

  protected override gotoTargetsRequest(response: DebugProtocol.GotoTargetsResponse, args: DebugProtocol.GotoTargetsArguments): void {
    const s = this.session(response);
    if (!s) return;
    const path = this.clientPath(args.source) ?? '';
    const line = this.convertClientLineToDebugger(args.line);
    const addresses = s.program.result.sourceMap.locationToAddresses(path, line);
    response.body = {
      targets: addresses.map((address) => ({ id: Number(address), label: `${symbolize(s.program, address) ?? hex(address)} (${hex(address)})`, line: args.line, instructionPointerReference: hex(address) })),
    };
    this.sendResponse(response);
  }

  protected override gotoRequest(response: DebugProtocol.GotoResponse, args: DebugProtocol.GotoArguments): void {
    const s = this.session(response);
    if (!s) return;
    if (this.running) return this.fail(response, ErrorIds.busy, 'The machine is running: pause it first.');
    const address = BigInt(args.targetId);
    const where = s.program.result.sourceMap.addressToLocation(address);
    if (!where || where.address !== address) return this.fail(response, ErrorIds.goto, `goto: ${hex(address)} is not the start of an instruction of the program`);
    s.machine.setRip(address);
    s.execution.stateModified();
    this.sendResponse(response);
    this.report({ kind: 'stopped', reason: 'goto', description: `Jumped to ${hex(address)}` });
  }

  // ---- evaluate ----

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const s = this.session(response);
    if (!s) return;
    const text = args.expression.trim();
    const ctx = machineContext(s.machine, s.program.result.image.symbols);
    const evaluate = (e: string) => evaluateExpression(e, ctx);
    try {
      if (args.context === 'repl' && /^(help|info\b|inject\b|x(\/\S*)?\s)/i.test(text)) {
        response.body = { result: this.consoleCommand(s, text, evaluate), variablesReference: 0 };
      } else {
        const value = evaluate(text);
        const signed = BigInt.asIntN(64, value);
        response.body = { result: `${hex(value)} (${signed < 0n ? `${value} / ${signed}` : value})`, variablesReference: 0, memoryReference: hex(value), type: 'u64' };
      }
    } catch (error) {
      if (error instanceof ExpressionError || error instanceof InjectError) return this.fail(response, ErrorIds.evaluate, error.message);
      throw error;
    }
    this.sendResponse(response);
  }

  /** Debug Console commands (docs/debugger.md): help, info fred, info vmcs, inject, x/NFU. */
  private consoleCommand(s: Session, text: string, evaluate: (e: string) => bigint): string {
    if (/^help$/i.test(text)) return CONSOLE_HELP;
    if (/^info\s+fred$/i.test(text)) return infoFred(s.machine, s.execution.activeEvents());
    if (/^info\s+vmcs$/i.test(text)) {
      const vmx = monitorOf(s.machine);
      if (!vmx) throw new ExpressionError('info vmcs: the guest runs on bare metal ("vmx": false), there is no VMCS');
      const stopped = vmx.stoppedAtExit;
      return infoVmcs(vmx.vmcs, `VMCS after ${vmx.exitCount} VM exit${vmx.exitCount === 1 ? '' : 's'}${stopped ? `; stopped at VM exit ${stopped.reasonName} (${stopped.basicReason}), not handled yet` : ''}`);
    }
    if (/^info\b/i.test(text)) throw new ExpressionError(`'${text}': the info commands are 'info fred' and 'info vmcs'`);
    if (/^inject\b/i.test(text)) {
      const result = inject(s.machine, parseInjectCommand(text, evaluate));
      s.execution.stateModified();
      return result;
    }
    return examine(text, s.machine, evaluate);
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    const s = this.session(response);
    if (!s) return;
    const before = args.text.slice(0, Math.max(0, args.column - 1));
    const word = /[\w.$@:]*$/.exec(before)?.[0] ?? '';
    const start = before.length - word.length;
    const names = [
      ...(start === 0 ? CONSOLE_COMMANDS.map((c) => ({ label: c.trim(), type: 'keyword' as const })) : []),
      ...REGISTER_NAMES.map((r) => ({ label: r, type: 'variable' as const })),
      ...[...s.program.result.image.symbols.keys()].map((l) => ({ label: l, type: 'reference' as const })),
      ...MSRS.filter((m) => m.readable).map((m) => ({ label: m.name, type: 'property' as const })),
      ...(monitorOf(s.machine) ? VMCS_FIELDS.filter((f) => monitorOf(s.machine)!.vmcs.supports(f)).map((f) => ({ label: `vmcs.${f.name}`, type: 'field' as const })) : []),
    ];
    const lower = word.toLowerCase();
    response.body = { targets: names.filter((n) => n.label.toLowerCase().startsWith(lower)).slice(0, 200).map((n) => ({ ...n, start, length: word.length })) };
    this.sendResponse(response);
  }

  // ---- memory and disassembly ----

  private address(text: string, offset = 0): bigint {
    const base = /^0x[0-9a-f]+$/i.test(text) || /^\d+$/.test(text) ? BigInt(text) : (() => { throw new ExpressionError(`'${text}' is not an address`); })();
    return BigInt.asUintN(64, base + BigInt(offset));
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const s = this.session(response);
    if (!s) return;
    let address: bigint;
    try {
      address = this.address(args.memoryReference, args.offset);
    } catch (error) {
      return this.fail(response, ErrorIds.memory, (error as Error).message);
    }
    const count = Math.min(args.count, 1 << 20);
    const data = readPrefix(s.machine, address, count);
    response.body = { address: hex(address), data: Buffer.from(data).toString('base64'), unreadableBytes: count - data.length };
    this.sendResponse(response);
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    const s = this.session(response);
    if (!s) return;
    if (this.running) return this.fail(response, ErrorIds.busy, 'The machine is running: pause it first.');
    let address: bigint;
    try {
      address = this.address(args.memoryReference, args.offset);
    } catch (error) {
      return this.fail(response, ErrorIds.memory, (error as Error).message);
    }
    const bytes = new Uint8Array(Buffer.from(args.data, 'base64'));
    const r = s.machine.tryWriteMemory(address, bytes);
    if (!r.ok) return this.fail(response, ErrorIds.memory, `writeMemory: ${r.message}; nothing was written`);
    s.execution.stateModified();
    response.body = { bytesWritten: bytes.length };
    this.sendResponse(response);
    this.sendEvent(new InvalidatedEvent(['variables']));
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    const s = this.session(response);
    if (!s) return;
    let reference: bigint;
    try {
      reference = this.address(args.memoryReference, args.offset);
    } catch (error) {
      return this.fail(response, ErrorIds.memory, (error as Error).message);
    }
    const count = Math.min(args.instructionCount, 4096);
    const list = disassembleAround(s.machine, s.program.result.sourceMap, reference, args.instructionOffset ?? 0, count);
    let lastFile: string | undefined;
    response.body = {
      instructions: list.map((d) => {
        const where = s.program.result.sourceMap.addressToLocation(d.address);
        const insn: DebugProtocol.DisassembledInstruction = {
          address: hex(d.address),
          instructionBytes: [...d.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '),
          instruction: d.text,
        };
        const label = s.program.labels.find((l) => l.address === d.address);
        if (args.resolveSymbols !== false && label) insn.symbol = label.name;
        if (where) {
          if (where.file !== lastFile) insn.location = this.source(where.file);
          lastFile = where.file;
          insn.line = this.convertDebuggerLineToClient(where.line);
        }
        return insn;
      }),
    };
    this.sendResponse(response);
  }

  // ---- custom requests (docs/debugger.md) ----

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    const s = this.session(response);
    if (!s) return;
    try {
      switch (command) {
        case 'fredLab/stackLevels':
          response.body = stackLevels(s.machine, s.execution.activeEvents());
          break;
        case 'fredLab/timeline':
          response.body = timeline(s.machine, s.execution.history.origin, (args ?? {}) as TimelineArguments);
          break;
        case 'fredLab/travelTo': {
          if (this.running) return this.fail(response, ErrorIds.busy, 'The machine is running: pause it first.');
          const icount = (args as TravelToArguments | undefined)?.icount;
          if (typeof icount !== 'number' || !Number.isInteger(icount) || icount < 0) return this.fail(response, ErrorIds.custom, `fredLab/travelTo needs a non-negative integer 'icount' (got ${JSON.stringify(icount)})`);
          s.execution.travelTo(icount);
          const body: TravelToResponseBody = { icount: s.machine.icount, rip: hex(s.machine.getRip()) };
          response.body = body;
          this.sendResponse(response);
          this.report({ kind: 'stopped', reason: 'goto', description: `Travelled to instruction ${s.machine.icount}` });
          return;
        }
        case 'fredLab/vmcs':
          response.body = vmcsBody(s.machine);
          break;
        case 'fredLab/inject': {
          if (this.running) return this.fail(response, ErrorIds.busy, 'The machine is running: pause it first.');
          const body: InjectResponseBody = { description: inject(s.machine, (args ?? {}) as InjectArguments) };
          s.execution.stateModified();
          response.body = body;
          break;
        }
        default:
          return this.fail(response, ErrorIds.custom, `unknown request '${command}'`);
      }
    } catch (error) {
      return this.fail(response, ErrorIds.custom, `${command}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.sendResponse(response);
  }

  // ---- helpers ----

  private console(text: string, category: 'stdout' | 'stderr' | 'console'): void {
    this.sendEvent(new OutputEvent(text, category));
  }

  private fail(response: DebugProtocol.Response, id: number, message: string): void {
    // No {placeholders}: the library leaves unknown ones as they are, so braces in the text are safe.
    this.sendErrorResponse(response, { id, format: message, variables: {}, showUser: true });
  }
}


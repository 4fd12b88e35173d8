// The monitor's VM-exit handlers, as KVM handles each basic exit reason (vmx.c kvm_vmx_exit_handlers;
// vmx-fred.md §1.9–§1.14): exceptions are reflected to the guest, CPUID answered with the policy's
// FRED/LKGS/WRMSRNS bits, HLT blocks the vCPU until an event, RDMSR/WRMSR and MOV CR emulated with
// KVM's extra FRED rules, port I/O emulated on the same port bus, EPT violations fault pages in
// (lazy EPT), VMCALL runs the hypercall ABI, a triple fault ends the run as a shutdown. Before the
// handler runs, an event whose delivery the exit interrupted is queued again (KVM
// __vmx_complete_interrupts, called right after every exit).
import { CpuFault, GP } from '../events/fault';
import { cpuidLeaf } from '../cpu/exec/cpuid';
import { writeControlRegister } from '../cpu/exec/controlRegisters';
import { emulateRdmsr, emulateWrmsr } from '../cpu/exec/msr';
import { writeGprSized } from '../cpu/exec/operands';
import { TF } from '../cpu/flags';
import { fromLinear } from '../cpu/state';
import { ACCESS_READ, walk } from '../memory/paging';
import { PAGE_SIZE } from '../memory/physical';
import { EXIT, type VmExit } from './exitSignal';
import { exceptionEventData } from './injection';
import type { VmxMonitor } from './monitor';
import { completeInterrupts, eventFromInfo, NO_VECTORING } from './reinjection';

export type HandlerOutcome = 'enter' | 'stop' | 'block';

const CR4_FRED = 1n << 32n;
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, R8 = 8;
/** KVM hypercall errors (include/uapi/linux/kvm_para.h). */
const KVM_ENOSYS = 1000n, KVM_EPERM = 1n, KVM_EFAULT = 14n;
const MAX_HYPERCALL_STRING = 4096;
const FRED_MSRS_FIRST = 0x1cc, FRED_MSRS_LAST = 0x1d4;

/** Guest-state values a handler may change, to copy into a VMCS that holds the guest state (written from outside). */
function captureVcpu(m: VmxMonitor): bigint[] {
  const c = m.cpu;
  return [fromLinear(c.rip), BigInt(c.rflags), c.cr0, c.cr4, c.efer];
}

const CAPTURED_FIELDS = ['GUEST_RIP', 'GUEST_RFLAGS', 'GUEST_CR0', 'GUEST_CR4', 'GUEST_IA32_EFER'] as const;

function propagate(m: VmxMonitor, before: bigint[]): void {
  const after = captureVcpu(m);
  after.forEach((v, i) => {
    if (v === before[i]) return;
    m.monitorSet(CAPTURED_FIELDS[i]!, CAPTURED_FIELDS[i] === 'GUEST_CR4' ? v | (1n << 13n) /* VMXE */ : v);
  });
}

/** KVM __vmx_complete_interrupts: the interrupted delivery goes back into the queue. */
function completeDelivery(m: VmxMonitor): void {
  if (m.vectoring.idtVectoringInfo === 0 && (m.exitInterruptionInfo & 0x1000) === 0) return; // nothing interrupted, no NMI unblocking
  const c = m.cpu;
  const r = completeInterrupts(m.vectoring, m.exitInterruptionInfo, { guestFred: c.fredEnabled, kvmV9Quirks: m.policy.kvmV9Quirks });
  m.vectoring = NO_VECTORING;
  if (r.clearNmiBlocking) c.nmiBlocked = false;
  if (r.setNmiBlocking) c.nmiBlocked = true;
  if (r.ripAdvance) {
    m.retireOnDelivery = false; // v9: the ICEBP was skipped (retired) here
    skipInstruction(m, r.ripAdvance);
  }
  if (r.event === undefined) return;
  m.queue.requeue(r.event);
}

/**
 * KVM kvm_skip_emulated_instruction: the emulated instruction retires (RIP past it, one more
 * instruction counted, interrupt shadow and RF cleared) and a single-step trap follows with TF = 1.
 */
export function skipInstruction(m: VmxMonitor, length: number): void {
  const c = m.cpu;
  c.rip += length;
  c.icount += 1;
  c.blockingBySti = c.blockingByMovSs = false;
  // RF needs nothing here: the run loop cleared it as the instruction started (SDM Vol. 3B §18.3.1.1).
  // (`flags` holds TF exactly; `rflags` would materialize the lazy status flags.)
  if (c.flags & TF) {
    c.dr[6] = (c.dr[6]! & ~0x400fn) | 0x4000n | 0xffff0ff0n;
    m.queue.queueException({ vector: 1, payload: 0x4000n });
  }
}

function injectGp(m: VmxMonitor): void {
  m.queue.queueException({ vector: GP, errorCode: 0 });
}

function handleException(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  const ev = e.event!;
  if (ev.type === 2) {
    m.nmiPending = true;
    return 'enter';
  }
  const payload = e.qualification;
  if (ev.type === 3 && ev.vector === 14) c.cr2 = payload; // the #PF exit left CR2 alone; reflecting it writes CR2 (KVM kvm_inject_page_fault)
  const { event, ripAdvance } = eventFromInfo(m.exitInterruptionInfo, ev.errorCode ?? 0, e.instructionLength,
    exceptionEventData(ev.vector, payload), { guestFred: c.fredEnabled, kvmV9Quirks: m.policy.kvmV9Quirks });
  if (ripAdvance) {
    m.retireOnDelivery = false; // v9: the ICEBP was skipped (retired) here
    skipInstruction(m, ripAdvance);
  }
  if (event === undefined) return 'enter';
  const q = m.queue;
  if (e.delivering !== undefined) {
    // The exception replaced the event being delivered (hardware: a fault during delivery is
    // delivered instead; with an exception, the #DF table decides below).
    q.interrupt = undefined;
    q.nmiInjected = false;
  }
  if (q.exception !== undefined && event.type === 3) {
    if (q.queueException({ vector: event.vector, errorCode: event.errorCode, payload }) === 'tripleFault') {
      return shutdown(m, `triple fault: ${ev.vector} while delivering exception ${q.exception?.vector ?? ''} (reflected by the monitor)`);
    }
    return 'enter';
  }
  q.requeue(event);
  return 'enter';
}

function shutdown(m: VmxMonitor, reason: string): HandlerOutcome {
  m.cpu.trace.emit({ kind: 'shutdown', icount: m.cpu.icount, reason });
  m.host.requestStop('shutdown', `shutdown: ${reason}`);
  m.blocked = true;
  m.cpu.halted = true;
  return 'stop';
}

function handleCpuid(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  const leaf = c.r[2 * RAX]! >>> 0, subleaf = c.r[2 * RCX]! >>> 0; // EAX, ECX (low halves of the register file)
  const [a, b, cx, dx] = cpuidLeaf(leaf, subleaf);
  let eax = a;
  if (leaf === 7 && subleaf === 1) {
    const p = m.policy.cpuid;
    eax &= ~((p.fred ? 0 : 1 << 17) | (p.lkgs ? 0 : 1 << 18) | (p.wrmsrns ? 0 : 1 << 19));
  }
  c.setGprNumber(RAX, eax >>> 0); // 32-bit results, zero-extended
  c.setGprNumber(RBX, b >>> 0);
  c.setGprNumber(RCX, cx >>> 0);
  c.setGprNumber(RDX, dx >>> 0);
  skipInstruction(m, e.instructionLength);
  return 'enter';
}

function handleHlt(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  c.trace.emit({ kind: 'halt', icount: c.icount + 1, rip: fromLinear(c.rip) });
  skipInstruction(m, e.instructionLength);
  if (m.queue.next() !== undefined) return 'enter'; // the single-step #DB of HLT
  c.halted = true;
  m.blocked = true;
  return 'block';
}

function handleMsr(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  const index = Number(c.gpr(RCX) & 0xffffffffn);
  const write = e.basicReason === EXIT.MSR_WRITE;
  try {
    // KVM v9: the FRED MSRs exist only when guest CPUID enumerates FRED (vmx-fred.md §1.1).
    if (index >= FRED_MSRS_FIRST && index <= FRED_MSRS_LAST && !m.policy.cpuid.fred) throw new CpuFault(GP, 0);
    if (write) emulateWrmsr(c, index, ((c.gpr(RDX) & 0xffffffffn) << 32n) | (c.gpr(RAX) & 0xffffffffn));
    else emulateRdmsr(c, index);
  } catch (error) {
    if (!(error instanceof CpuFault)) throw error;
    injectGp(m);
    return 'enter';
  }
  skipInstruction(m, e.instructionLength);
  return 'enter';
}

function handleCrAccess(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  const q = Number(e.qualification);
  const cr = q & 0xf, access = (q >> 4) & 3, gpr = (q >> 8) & 0xf;
  try {
    if (access === 0) {
      const value = c.gpr(gpr);
      if (cr === 4 && (value & CR4_FRED) !== 0n && !m.policy.cpuid.fred) {
        const why = 'CR4.FRED is reserved: guest CPUID does not enumerate FRED (KVM v9 patch 15)';
        c.trace.emit({ kind: 'crWrite', icount: c.icount, cr: 4, value, fault: why });
        throw new CpuFault(GP, 0, undefined, why);
      }
      writeControlRegister(c, cr, value);
    } else if (access === 1) {
      c.setGpr(gpr, cr === 3 ? c.cr3 : c.cr8);
    } else if (access === 2) {
      c.cr0 &= ~8n;
    }
  } catch (error) {
    if (!(error instanceof CpuFault)) throw error;
    injectGp(m);
    return 'enter';
  }
  if (cr === 0 || access === 2) m.monitorSet('CR0_READ_SHADOW', c.cr0);
  if (cr === 4) m.monitorSet('CR4_READ_SHADOW', c.cr4);
  skipInstruction(m, e.instructionLength);
  return 'enter';
}

function handleIo(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  const q = Number(e.qualification);
  const size = (q & 7) + 1, input = (q & 8) !== 0, port = (q >>> 16) & 0xffff;
  if (input) writeGprSized(c, RAX, size, false, BigInt(c.bus.portRead(port, size as 1 | 2 | 4) >>> 0));
  else c.bus.portWrite(port, size as 1 | 2 | 4, Number(c.gpr(RAX) & 0xffffffffn));
  skipInstruction(m, e.instructionLength);
  return 'enter';
}

function handleEptViolation(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const gpa = Number(e.guestPhysicalAddress ?? 0n);
  if (m.policy.ept === 'lazy' && m.ept.map(gpa)) return 'enter';
  return m.reportExit(e, `guest-physical address 0x${gpa.toString(16)} is not guest RAM (RAM ends at 0x${m.host.memoryBytes.toString(16)}); the monitor cannot map it`);
}

/** Read a zero-terminated string at a guest-linear address (the monitor reads guest memory through the guest's page tables, not through EPT). */
function readGuestString(m: VmxMonitor, address: bigint): string | undefined {
  const c = m.cpu;
  let text = '';
  let lin = Number(BigInt.asIntN(64, address));
  for (let k = 0; k < MAX_HYPERCALL_STRING; k++, lin++) {
    let byte: number;
    try {
      const t = walk(c.m.mem, c.m.ctl, { lin, kind: ACCESS_READ, user: false }, true, false);
      byte = c.m.mem.read8(t.frame + (((lin % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE));
    } catch (error) {
      if (error instanceof CpuFault) return undefined;
      throw error;
    }
    if (byte === 0) return text;
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * The hypercall ABI (docs/vmx.md): RAX = number, result in RAX, RIP past the VMCALL. 0 = print the
 * string at RBX; 1 = end the run with exit code RBX; 2 = inject at the next VM entry RBX = entry
 * interruption information, RCX = error code, RDX = injected-event data, R8 = instruction length.
 */
function handleVmcall(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const c = m.cpu;
  const nr = c.gpr(RAX);
  skipInstruction(m, e.instructionLength);
  if (c.cpl !== 0) {
    c.setGpr(RAX, BigInt.asUintN(64, -KVM_EPERM));
    return 'enter';
  }
  let result = 0n;
  switch (nr) {
    case 0n: {
      const text = readGuestString(m, c.gpr(RBX));
      if (text === undefined) result = -KVM_EFAULT;
      else m.host.hypercallOutput(text);
      break;
    }
    case 1n: {
      const code = Number(BigInt.asIntN(32, c.gpr(RBX)));
      c.trace.emit({ kind: 'debugExit', icount: c.icount, code });
      m.host.requestStop('debugExit', `hypercall 1 (exit) with code ${code}`, code);
      break;
    }
    case 2n:
      m.requested = {
        interruptionInfo: Number(c.gpr(RBX) & 0xffffffffn),
        errorCode: Number(c.gpr(RCX) & 0xffffffffn),
        eventData: c.gpr(RDX),
        instructionLength: Number(c.gpr(R8) & 0xffffffffn),
      };
      break;
    default:
      result = -KVM_ENOSYS;
  }
  c.setGpr(RAX, BigInt.asUintN(64, result));
  return 'enter';
}

/** Handle a recorded exit: complete the interrupted delivery, then the handler of its basic reason. */
export function handleExit(m: VmxMonitor, e: VmExit): HandlerOutcome {
  const before = m.vmcsDirty ? captureVcpu(m) : undefined;
  // The guest instruction whose software event this exit interrupted retires when it is delivered.
  if (e.softwareInstruction) m.retireOnDelivery = true;
  completeDelivery(m);
  const outcome = dispatch(m, e);
  if (before !== undefined) propagate(m, before);
  return outcome;
}

function dispatch(m: VmxMonitor, e: VmExit): HandlerOutcome {
  switch (e.basicReason) {
    case EXIT.EXCEPTION_NMI: return handleException(m, e);
    case EXIT.EXTERNAL_INTERRUPT: return 'enter'; // the host took its interrupt; the virtual APIC's is injected at entry
    case EXIT.TRIPLE_FAULT: return shutdown(m, e.detail ?? 'triple fault');
    case EXIT.INTERRUPT_WINDOW: case EXIT.NMI_WINDOW: return 'enter'; // entry injects and re-arms what still waits
    case EXIT.CPUID: return handleCpuid(m, e);
    case EXIT.HLT: return handleHlt(m, e);
    case EXIT.VMCALL: return handleVmcall(m, e);
    case EXIT.CR_ACCESS: return handleCrAccess(m, e);
    case EXIT.IO_INSTRUCTION: return handleIo(m, e);
    case EXIT.MSR_READ: case EXIT.MSR_WRITE: return handleMsr(m, e);
    case EXIT.EPT_VIOLATION: return handleEptViolation(m, e);
    default: return m.reportExit(e, 'the monitor has no handler for this exit');
  }
}

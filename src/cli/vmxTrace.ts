// `fred-lab run --trace` lines for the monitor's records (ARCHITECTURE §4: vmexit, vmentry,
// vmentryFailure): exit reasons by name, exit qualifications decoded with src/arch's layouts,
// interruption-information values (exit, IDT-vectoring, VM-entry) in words, e.g.
//   vmexit EPT violation (48) at rip 0x100040: write, readable, linearValid, finalTranslation;
//     during delivery of hardware exception #PF (vector 14) error 0x6, original-event data 0x7ff000
import {
  OTHER_EVENT_VECTORS, VM_INSTRUCTION_ERRORS, decodeFields, decodeInterruptionInfo, eventTypeInfo, exceptionByVector,
  exitQualificationLayout,
} from '../arch/index';
import { GPR_NAMES } from '../machine/cpu/state';
import type { VmEntryFailureRecord, VmEntryRecord, VmExitRecord } from '../machine/trace';

const hex = (v: number | bigint): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

/** "#PF (vector 14)", "SYSCALL (vector 1)", "vector 0x20" — the event an interruption type and vector name. */
function eventName(type: number, vector: number): string {
  if (type === 2 || type === 3 || type === 5 || type === 6) return `${exceptionByVector(vector)?.mnemonic ?? 'vector'} (vector ${vector})`;
  if (type === 7) return `${OTHER_EVENT_VECTORS.find((o) => o.vector === vector)?.short ?? 'vector'} (vector ${vector})`;
  return `vector ${hex(vector)}`;
}

/**
 * An interruption-information value in words (SDM §25.8.3, §25.9.2–3; bit 13 vmx-fred.md §1.5):
 * "hardware exception #PF (vector 14) error 0x6 nested"; undefined when the valid bit is clear.
 */
export function describeInterruption(info: number, errorCode?: number): string | undefined {
  const d = decodeInterruptionInfo(info);
  if (!d.valid) return undefined;
  const type = d.type === 2 ? '' : `${eventTypeInfo(d.type)?.name.toLowerCase() ?? `type ${d.type}`} `;
  return `${type}${eventName(d.type, d.vector)}${d.errorCode && errorCode !== undefined ? ` error ${hex(errorCode)}` : ''}` +
    `${d.nested ? ' nested' : ''}${d.bit12 ? ' (NMI unblocking due to IRET)' : ''}`;
}

const CR_ACCESS = ['MOV to', 'MOV from', 'CLTS', 'LMSW'];

/** The exit qualification in words where the SDM gives it a layout; the bare value otherwise. */
export function describeQualification(basicReason: number, qualification: bigint, exitInterruptionInfo: number): string {
  const layout = exitQualificationLayout(basicReason);
  if (basicReason === 28) {
    const f = decodeFields(layout!, qualification);
    const access = Number(f.accessType);
    if (access >= 2) return CR_ACCESS[access];
    return `${CR_ACCESS[access]} CR${f.cr} ${access === 0 ? 'from' : 'into'} ${GPR_NAMES[Number(f.gpr)].toUpperCase()}`;
  }
  if (basicReason === 30) {
    const f = decodeFields(layout!, qualification);
    return `${f.direction ? 'IN' : 'OUT'}${f.string ? 'S' : ''} port ${hex(f.port)}, ${Number(f.size) + 1} byte(s)${f.rep ? ', REP' : ''}`;
  }
  if (layout) {
    return layout.filter((field) => decodeFields([field], qualification)[field.name] !== 0n)
      .map((field) => field.width === 1 ? field.name : `${field.name} ${hex(decodeFields([field], qualification)[field.name])}`)
      .join(', ') || 'no access bits';
  }
  const exit = decodeInterruptionInfo(exitInterruptionInfo);
  if (basicReason === 0 && exit.valid && exit.vector === 14) return `page-fault address ${hex(qualification)}`;
  if (basicReason === 0 && exit.valid && exit.vector === 1 && qualification !== 0n) return `pending debug exceptions ${hex(qualification)}`;
  return qualification === 0n ? '' : `qualification ${hex(qualification)}`;
}

export function formatVmExit(r: VmExitRecord): string {
  const qualification = describeQualification(r.basicReason, r.qualification, r.exitInterruptionInfo);
  const exitEvent = describeInterruption(r.exitInterruptionInfo, r.exitInterruptionErrorCode);
  const vectoring = describeInterruption(r.idtVectoringInfo, r.idtVectoringErrorCode);
  let line = `vmexit ${r.reasonName} (${r.basicReason}) at rip ${hex(r.guestRip)}${qualification ? `: ${qualification}` : ''}`;
  if (exitEvent) line += `; exiting event ${exitEvent}`;
  if (vectoring) line += `; during delivery of ${vectoring}, original-event data ${hex(r.originalEventData)}`;
  return line;
}

export function formatVmEntry(r: VmEntryRecord): string {
  const injected = describeInterruption(r.injectedInterruptionInfo, r.injectedErrorCode);
  if (!injected) return 'vmentry';
  return `vmentry injecting ${injected}, injected-event data ${hex(r.injectedEventData)}` +
    `${r.instructionLength ? `, instruction length ${r.instructionLength}` : ''}`;
}

export function formatVmEntryFailure(r: VmEntryFailureRecord): string {
  const outcome = r.failure === 'vmfail'
    ? `VMfailValid, VM-instruction error ${r.errorNumber} (${VM_INSTRUCTION_ERRORS.find((e) => e.value === r.errorNumber)?.name ?? 'unknown'})`
    : `VM-entry failure exit, reason ${r.errorNumber}`;
  return `VM entry failed: ${r.check}; ${r.field} = ${hex(r.value)} (${outcome})`;
}

// The device layer's public surface (docs/devices.md).
export type { PortDevice, PortSize, InterruptController, MsrReadResult, MsrWriteResult } from './types';
export { PortBus, allOnes, type SnapshotDevice } from './portBus';
export { Serial16550, COM1_BASE, LSR_THRE, LSR_TEMT, type SerialOptions } from './serial16550';
export { DebugExitDevice, DEBUG_EXIT_PORT, type DebugExitOptions } from './debugExit';
export { LocalApic, APIC_VERSION, type LocalApicOptions, type LocalApicState } from './localApic';
export { InterruptSchedule, parseInterruptSpec, type InterruptSink, type InterruptSpec } from './interruptSchedule';
export { StandardDevices, type StandardDevicesOptions } from './standardDevices';
export { x2ApicRegister, IA32_APIC_BASE } from './x2apicRegisters';

// src/arch: architectural facts as data (see docs/arch.md). Everything is re-exported here.
export * from './bitField';
export * from './controlRegisters';
export * from './msr';
export * from './vmcsEncoding';
export * from './vmcs';
export * from './vmcsLayouts';
export * from './vmxControls';
export * from './interruptionInfo';
export * from './segments';
export * from './exceptions';
export * from './eventTypes';
export * from './vmExitReasons';
export * from './fredFrame';
export * from './cpuid';
export * from './paging';
export * from './ept';
export * from './constants';

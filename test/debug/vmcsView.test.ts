// The VMCS model behind the VMCS scope, `info vmcs` and fredLab/vmcs, on a Vmcs of its own: groups
// in the SDM's order with only the supported fields, notes in words, the exit qualification decoded
// by the exit reason, and VMWRITE's rules for writes.
import { describe, expect, it } from 'vitest';
import { VMCS_FIELDS, VMCS_GROUP_TITLES } from '../../src/arch/index';
import { Vmcs } from '../../src/machine/vmx/vmcs';
import { VmcsWriteError, infoVmcs, interruptionText, vmcsGroups, vmcsJson, writeField } from '../../src/debug/vmcsView';

describe('vmcsGroups', () => {
  it('lists every field once, by group in the SDM order; FRED fields only when FRED is exposed', () => {
    const withFred = vmcsGroups(new Vmcs({ fred: true }));
    expect(withFred.map((g) => g.title)).toEqual(Object.values(VMCS_GROUP_TITLES));
    expect(withFred.flatMap((g) => g.fields).length).toBe(VMCS_FIELDS.length);
    const without = vmcsGroups(new Vmcs({ fred: false })).flatMap((g) => g.fields.map((f) => f.def.name));
    expect(without).not.toContain('INJECTED_EVENT_DATA');
    expect(without.length).toBe(VMCS_FIELDS.filter((f) => !f.fred).length);
  });

  it('says the exit reason, interruption information and qualification in words', () => {
    const vmcs = new Vmcs({ fred: true });
    vmcs.set('VM_EXIT_REASON', 48n);
    vmcs.set('EXIT_QUALIFICATION', 0x182n); // write, linear address valid, final translation
    vmcs.set('IDT_VECTORING_INFO_FIELD', 0x80002b0en);
    const fields = new Map(vmcsGroups(vmcs).flatMap((g) => g.fields).map((f) => [f.def.name, f]));
    expect(fields.get('VM_EXIT_REASON')?.note).toBe('EPT_VIOLATION (48)');
    expect(fields.get('IDT_VECTORING_INFO_FIELD')?.note).toBe('#PF (hardware exception 14), error code, nested');
    expect(fields.get('EXIT_QUALIFICATION')?.layout?.map((b) => b.name)).toContain('finalTranslation');
    expect(fields.get('VM_ENTRY_INTR_INFO_FIELD')?.note).toBe('not valid');
    const json = vmcsJson(vmcs).find((g) => g.group === 'exitInformation')!.fields.find((f) => f.name === 'EXIT_QUALIFICATION')!;
    expect(json.bits?.filter((b) => b.value === '0x1').map((b) => b.name)).toEqual(['write', 'linearValid', 'finalTranslation']);
    vmcs.set('VM_EXIT_REASON', 10n);
    expect(vmcsGroups(vmcs).flatMap((g) => g.fields).find((f) => f.def.name === 'EXIT_QUALIFICATION')?.layout).toBeUndefined();
  });

  it('interruptionText names other events (type 7) and software interrupts', () => {
    expect(interruptionText(0x80000701n)).toBe('SYSCALL (other 1)') // as the call stack labels FRED deliveries;
    expect(interruptionText(0x80000480n)).toBe('INT 0x80 (software interrupt 128)');
  });
});

describe('writeField', () => {
  it('writes through VMWRITE: truncated to the width; read-only, unknown, _HIGH and hidden FRED fields refused', () => {
    const vmcs = new Vmcs({ fred: false });
    expect(writeField(vmcs, 'exception_bitmap', 0x1_0000_4000n).value).toBe(0x4000n);
    expect(() => writeField(vmcs, 'VM_EXIT_REASON', 1n)).toThrow(new VmcsWriteError('VMWRITE VM_EXIT_REASON failed with VM-instruction error 13: VMWRITE to read-only field VM_EXIT_REASON (0x4402)'));
    expect(() => writeField(vmcs, 'GUEST_NOPE', 1n)).toThrow("'GUEST_NOPE' is not a VMCS field");
    expect(() => writeField(vmcs, 'TSC_OFFSET_HIGH', 1n)).toThrow("'TSC_OFFSET_HIGH' is not a VMCS field");
    expect(() => writeField(vmcs, 'INJECTED_EVENT_DATA', 1n)).toThrow(/error 12: INJECTED_EVENT_DATA \(0x2052\) exists only when FRED is exposed/);
  });
});

describe('infoVmcs', () => {
  it('prints the non-zero fields of each group, padded to their width, with notes or set flags', () => {
    const vmcs = new Vmcs({ fred: true });
    vmcs.set('PIN_BASED_VM_EXEC_CONTROL', 0x29n);
    vmcs.set('VM_EXIT_REASON', 12n);
    const text = infoVmcs(vmcs, 'VMCS');
    expect(text.split('\n')[0]).toBe('VMCS');
    expect(text).toContain('VM-execution control fields (1 of ');
    expect(text).toContain('  PIN_BASED_VM_EXEC_CONTROL = 0x00000029 [PIN_BASED_EXT_INTR_MASK PIN_BASED_NMI_EXITING PIN_BASED_VIRTUAL_NMIS]');
    expect(text).toContain('  VM_EXIT_REASON = 0x0000000c HLT (12)');
    expect(text).toContain('Host-state area (0 of ');
  });
});

import { describe, expect, it } from 'vitest';
import { CONTROL_FIELD_LAYOUTS, ENTRY_CONTROLS, SECONDARY_EXIT_CONTROLS, decodeControls, vmcsFieldByName } from '../../src/arch/index';

describe('VMX control layouts', () => {
  it('each names an existing control field', () => {
    for (const c of CONTROL_FIELD_LAYOUTS) expect(vmcsFieldByName(c.field)?.field.group, c.field).toMatch(/Control$/);
  });

  it('control names are unique across all fields', () => {
    const names = CONTROL_FIELD_LAYOUTS.flatMap((c) => c.bits.map((b) => b.name));
    expect(new Set(names).size).toBe(names.length);
  });

  it('decodes control values', () => {
    expect(decodeControls(ENTRY_CONTROLS, 0x0080_0200n)).toEqual(['VM_ENTRY_IA32E_MODE', 'VM_ENTRY_LOAD_IA32_FRED']);
    expect(decodeControls(SECONDARY_EXIT_CONTROLS, 0x13n)).toEqual([
      'SECONDARY_VM_EXIT_SAVE_IA32_FRED', 'SECONDARY_VM_EXIT_LOAD_IA32_FRED', 'bit4',
    ]);
    expect(decodeControls(ENTRY_CONTROLS, 0n)).toEqual([]);
  });
});

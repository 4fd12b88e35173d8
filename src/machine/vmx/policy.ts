// The monitor's policy: which exceptions and MSR accesses exit, how EPT is built, which CPUID
// features the guest sees, which interrupts/NMIs the monitor raises, and whether KVM v9's known
// deviations are reproduced (ARCHITECTURE §5; schema in docs/vmx.md). The launch configuration
// embeds it as `vmx`; the CLI reads it from `--vmx-config FILE`. Every omitted setting takes KVM's
// behaviour with the FRED series v9 (vmx-fred.md §1.9, §1.13, §1.14).
import { MSRS, exceptionByMnemonic, exceptionByVector, msrByName } from '../../arch/index';

export type EptMode = 'eager' | 'lazy';

export interface CpuidExposure {
  /** CPUID.(EAX=7,ECX=1):EAX[17]. */
  readonly fred: boolean;
  /** CPUID.(EAX=7,ECX=1):EAX[18]. */
  readonly lkgs: boolean;
  /** CPUID.(EAX=7,ECX=1):EAX[19]. */
  readonly wrmsrns: boolean;
}

/** An interrupt/NMI source: every N guest instructions, or once when the guest reaches a label. */
export type EventTrigger = { readonly every: number } | { readonly at: string };
export type InterruptSource = EventTrigger & { readonly vector: number };

export interface VmxPolicy {
  /** EXCEPTION_BITMAP: bit n = exception vector n exits. */
  readonly exceptionBitmap: number;
  /** MSR indices whose RDMSR/WRMSR exit (the MSR bitmap), ascending. */
  readonly msrIntercepts: readonly number[];
  readonly ept: EptMode;
  readonly cpuid: CpuidExposure;
  readonly interrupts: readonly InterruptSource[];
  readonly nmis: readonly EventTrigger[];
  /** Reproduce KVM v9 where it differs from the architecture (ICEBP re-injected as type 3, §1.14). */
  readonly kvmV9Quirks: boolean;
}

/** One validation error: where (a JSON path such as `vmx.interrupts[1].every`) and what is wrong. */
export interface PolicyError {
  readonly path: string;
  readonly message: string;
}

export type PolicyResult =
  | { readonly ok: true; readonly policy: VmxPolicy | false }
  | { readonly ok: false; readonly errors: readonly PolicyError[] };

/**
 * KVM's exception bitmap with EPT (vmx_update_exception_bitmap): #DB (CVE-2015-8104, vmx-fred.md
 * §1.14), #UD, #AC, #MC; #PF is not intercepted because EPT handles guest paging.
 */
const KVM_EXCEPTION_INTERCEPTS = ['#DB', '#UD', '#AC', '#MC'];

/**
 * MSRs KVM passes through to a 64-bit guest (vmx_vcpu_create / vmx_recalc_msr_intercepts), plus the
 * FRED MSRs v9 passes through for a FRED guest (vmx-fred.md §1.9: RSP0–3, STKLVLS, SSP1–3, CONFIG;
 * IA32_PL0_SSP stays intercepted without CET shadow stacks). Every other MSR of src/arch's table exits.
 */
const KVM_PASSTHROUGH_MSRS = [
  'IA32_TSC', 'IA32_FS_BASE', 'IA32_GS_BASE', 'IA32_KERNEL_GS_BASE', 'IA32_SYSENTER_CS', 'IA32_SYSENTER_ESP', 'IA32_SYSENTER_EIP',
  'IA32_FRED_RSP0', 'IA32_FRED_RSP1', 'IA32_FRED_RSP2', 'IA32_FRED_RSP3', 'IA32_FRED_STKLVLS', 'IA32_FRED_SSP1',
  'IA32_FRED_SSP2', 'IA32_FRED_SSP3', 'IA32_FRED_CONFIG',
];

function exceptionMask(names: readonly string[]): number {
  return names.reduce((m, n) => m | (1 << exceptionByMnemonic(n)!.vector), 0) >>> 0;
}

export const DEFAULT_VMX_POLICY: VmxPolicy = Object.freeze({
  exceptionBitmap: exceptionMask(KVM_EXCEPTION_INTERCEPTS),
  msrIntercepts: Object.freeze(MSRS.filter((m) => !KVM_PASSTHROUGH_MSRS.includes(m.name)).map((m) => m.index).sort((a, b) => a - b)),
  ept: 'lazy',
  cpuid: Object.freeze({ fred: true, lkgs: true, wrmsrns: true }),
  interrupts: Object.freeze([]),
  nmis: Object.freeze([]),
  kvmV9Quirks: false,
});

const KEYS = ['exceptionBitmap', 'msrIntercepts', 'ept', 'cpuid', 'interrupts', 'nmis', 'kvmV9Quirks'] as const;
const CPUID_KEYS = ['fred', 'lkgs', 'wrmsrns'] as const;

/** `"fast"`, `42`, `an array`, `null` — how a bad value is shown in a message. */
function shown(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Is the MSR covered by the MSR bitmap (SDM §25.6.9: 0–1FFFH and C0000000H–C0001FFFH)? */
function inMsrBitmap(index: number): boolean {
  return index <= 0x1fff || (index >= 0xc000_0000 && index <= 0xc000_1fff);
}

class Validator {
  readonly errors: PolicyError[] = [];

  fail(path: string, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }

  unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.fail(`${path}.${k}`, `unknown property (allowed: ${allowed.join(', ')})`);
    }
  }

  bool(v: unknown, path: string): boolean | undefined {
    return typeof v === 'boolean' ? v : this.fail(path, `expected true or false, got ${shown(v)}`);
  }

  exceptionBitmap(v: unknown, path: string): number | undefined {
    if (typeof v === 'number') {
      return isInt(v, 0, 0xffff_ffff) ? v : this.fail(path, `expected an integer 0–0xFFFFFFFF or a list of exceptions, got ${shown(v)}`);
    }
    if (!Array.isArray(v)) return this.fail(path, `expected an integer 0–0xFFFFFFFF or a list of exceptions such as ["#PF", "#GP"], got ${shown(v)}`);
    let mask = 0;
    v.forEach((item, i) => {
      const ex = typeof item === 'string' ? exceptionByMnemonic(item) : isInt(item, 0, 31) ? exceptionByVector(item) : undefined;
      if (!ex) this.fail(`${path}[${i}]`, `expected an exception mnemonic such as "#PF" or a vector 0–31, got ${shown(item)}`);
      else mask |= 1 << ex.vector;
    });
    return mask >>> 0;
  }

  msrIntercepts(v: unknown, path: string): number[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `expected a list of MSR names (such as "IA32_FRED_CONFIG") or indices, got ${shown(v)}`);
    const out = new Set<number>();
    v.forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (typeof item === 'string') {
        const m = msrByName(item);
        if (!m) this.fail(at, `unknown MSR name ${shown(item)}`);
        else out.add(m.index);
      } else if (isInt(item, 0, 0xffff_ffff)) {
        if (!inMsrBitmap(item)) {
          this.fail(at, `MSR 0x${item.toString(16)} is outside the MSR-bitmap ranges 0–0x1FFF and 0xC0000000–0xC0001FFF (its accesses always exit)`);
        } else out.add(item);
      } else this.fail(at, `expected an MSR name or an index 0–0xFFFFFFFF, got ${shown(item)}`);
    });
    return [...out].sort((a, b) => a - b);
  }

  ept(v: unknown, path: string): EptMode | undefined {
    return v === 'eager' || v === 'lazy' ? v : this.fail(path, `expected "eager" or "lazy", got ${shown(v)}`);
  }

  cpuid(v: unknown, path: string): CpuidExposure | undefined {
    if (!isObject(v)) return this.fail(path, `expected an object with fred, lkgs, wrmsrns, got ${shown(v)}`);
    this.unknownKeys(v, CPUID_KEYS, path);
    const out = { ...DEFAULT_VMX_POLICY.cpuid };
    for (const k of CPUID_KEYS) {
      if (v[k] === undefined) continue;
      const b = this.bool(v[k], `${path}.${k}`);
      if (b !== undefined) out[k] = b;
    }
    return out;
  }

  trigger(v: Record<string, unknown>, path: string): EventTrigger | undefined {
    const hasEvery = v['every'] !== undefined;
    const hasAt = v['at'] !== undefined;
    if (hasEvery === hasAt) return this.fail(path, `expected exactly one of "every" (instructions) or "at" (a label), got ${hasEvery ? 'both' : 'neither'}`);
    if (hasEvery) {
      return isInt(v['every'], 1, Number.MAX_SAFE_INTEGER) ? { every: v['every'] }
        : this.fail(`${path}.every`, `expected a whole number of instructions ≥ 1, got ${shown(v['every'])}`);
    }
    return typeof v['at'] === 'string' && v['at'].trim() !== '' ? { at: v['at'] }
      : this.fail(`${path}.at`, `expected a label name, got ${shown(v['at'])}`);
  }

  list<T>(v: unknown, path: string, what: string, item: (x: Record<string, unknown>, p: string) => T | undefined): T[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `expected a list of ${what}, got ${shown(v)}`);
    const out: T[] = [];
    v.forEach((x, i) => {
      const p = `${path}[${i}]`;
      if (!isObject(x)) { this.fail(p, `expected ${what.replace(/s$/, '')}, got ${shown(x)}`); return; }
      const r = item(x, p);
      if (r !== undefined) out.push(r);
    });
    return out;
  }

  interrupt(x: Record<string, unknown>, p: string): InterruptSource | undefined {
    this.unknownKeys(x, ['vector', 'every', 'at'], p);
    const vector = isInt(x['vector'], 0, 255) ? x['vector'] : this.fail(`${p}.vector`, `expected a vector 0–255, got ${shown(x['vector'])}`);
    const t = this.trigger(x, p);
    return vector !== undefined && t ? { vector, ...t } : undefined;
  }

  nmi(x: Record<string, unknown>, p: string): EventTrigger | undefined {
    this.unknownKeys(x, ['every', 'at'], p);
    return this.trigger(x, p);
  }
}

/**
 * Validate a policy value (the launch configuration's `vmx`): `false` = run bare, `undefined`/`true`/`{}`
 * = KVM's defaults, an object overrides them. Every error is reported with its path.
 */
export function parseVmxPolicy(raw: unknown, path = 'vmx'): PolicyResult {
  if (raw === false) return { ok: true, policy: false };
  if (raw === undefined || raw === true) return { ok: true, policy: DEFAULT_VMX_POLICY };
  const v = new Validator();
  if (!isObject(raw)) {
    v.fail(path, `expected an object (the monitor policy) or false (run bare), got ${shown(raw)}`);
    return { ok: false, errors: v.errors };
  }
  v.unknownKeys(raw, KEYS, path);
  const d = DEFAULT_VMX_POLICY;
  const pick = <T>(key: (typeof KEYS)[number], parse: (x: unknown, p: string) => T | undefined, fallback: T): T =>
    raw[key] === undefined ? fallback : parse(raw[key], `${path}.${key}`) ?? fallback;
  const policy: VmxPolicy = {
    exceptionBitmap: pick('exceptionBitmap', (x, p) => v.exceptionBitmap(x, p), d.exceptionBitmap),
    msrIntercepts: pick('msrIntercepts', (x, p) => v.msrIntercepts(x, p), d.msrIntercepts),
    ept: pick('ept', (x, p) => v.ept(x, p), d.ept),
    cpuid: pick('cpuid', (x, p) => v.cpuid(x, p), d.cpuid),
    interrupts: pick('interrupts', (x, p) => v.list(x, p, 'interrupts ({vector, every} or {vector, at})', (o, q) => v.interrupt(o, q)), d.interrupts),
    nmis: pick('nmis', (x, p) => v.list(x, p, 'NMIs ({every} or {at})', (o, q) => v.nmi(o, q)), d.nmis),
    kvmV9Quirks: pick('kvmV9Quirks', (x, p) => v.bool(x, p), d.kvmV9Quirks),
  };
  return v.errors.length > 0 ? { ok: false, errors: v.errors } : { ok: true, policy };
}

/** Parse the text of a `--vmx-config FILE` (a JSON policy object, or `false`); `source` names the file in errors. */
export function parseVmxPolicyJson(text: string, source: string): PolicyResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [{ path: source, message: `invalid JSON: ${(e as Error).message}` }] };
  }
  return parseVmxPolicy(raw, source);
}

/** Check that every `at` label of the policy exists (`lookup` returns its address or undefined). */
export function checkPolicyLabels(policy: VmxPolicy, lookup: (label: string) => number | bigint | undefined, path = 'vmx'): PolicyError[] {
  const errors: PolicyError[] = [];
  const check = (list: readonly EventTrigger[], key: string): void => list.forEach((t, i) => {
    if ('at' in t && lookup(t.at) === undefined) errors.push({ path: `${path}.${key}[${i}].at`, message: `unknown label ${shown(t.at)}` });
  });
  check(policy.interrupts, 'interrupts');
  check(policy.nmis, 'nmis');
  return errors;
}

/** `vmx.ept: expected "eager" or "lazy", got "fast"` — one line per error. */
export function formatPolicyErrors(errors: readonly PolicyError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}

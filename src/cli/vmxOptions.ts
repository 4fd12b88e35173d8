// `fred-lab run`'s choice of machine (ARCHITECTURE §5, §6): under the VMX monitor with KVM v9's policy
// by default, bare metal with `--no-vmx`, or the policy of `--vmx-config FILE` (schema in docs/vmx.md;
// validated by src/machine/vmx/policy.ts). A bad policy is a usage error: one line per problem, each
// naming the file and the property path.
import { readFileSync } from 'node:fs';
import { DEFAULT_VMX_POLICY, checkPolicyLabels, formatPolicyErrors, parseVmxPolicyJson, type VmxPolicy } from '../machine/vmx/policy';
import { UsageError } from './io';

/** The policy in effect (false: bare metal) from `--no-vmx` and `--vmx-config FILE`. */
export function vmxPolicyOption(noVmx: boolean, configFile: string | undefined): VmxPolicy | false {
  if (configFile === undefined) return noVmx ? false : DEFAULT_VMX_POLICY;
  if (noVmx) throw new UsageError('--no-vmx and --vmx-config exclude each other (a config file may say `false` to run bare)');
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (error) {
    throw new UsageError(`--vmx-config: cannot read '${configFile}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const result = parseVmxPolicyJson(text, configFile);
  if (!result.ok) throw new UsageError(formatPolicyErrors(result.errors));
  return result.policy;
}

/**
 * The `at` labels of the policy checked against the program's symbols (a flat binary has none).
 * `source` names the policy in errors: the config file, or `vmx` for the built-in default.
 */
export function checkVmxLabels(policy: VmxPolicy | false, symbols: ReadonlyMap<string, bigint> | undefined, source: string): void {
  if (policy === false) return;
  const errors = checkPolicyLabels(policy, (label) => symbols?.get(label), source);
  if (errors.length) throw new UsageError(formatPolicyErrors(errors) + (symbols ? '' : '\n(a flat binary has no labels: use "every")'));
}

// The `fred` launch configuration the extension provides when there is no launch.json (F5 on a
// .fred file) and the checks it makes before a session starts. No `vscode` import: unit-tested.

export const FRED_DEBUG_TYPE = 'fred';
export const FRED_LANGUAGE_ID = 'fred-asm';

/** The launch attributes of package.json's `configurationAttributes.launch`. */
export interface FredLaunchConfig {
  type: string;
  request: string;
  name: string;
  program?: string;
  stopOnEntry?: boolean;
  vmx?: false | Record<string, unknown>;
  memoryMiB?: number;
  interrupts?: { vector: number; every: number }[];
  maxInstructions?: number;
  trace?: boolean;
  [key: string]: unknown;
}

export function defaultLaunchConfig(): FredLaunchConfig {
  return { type: FRED_DEBUG_TYPE, request: 'launch', name: 'Debug FRED program', program: '${file}', stopOnEntry: true };
}

/** What to do with a configuration VS Code hands to resolveDebugConfiguration. */
export type LaunchResolution =
  | { readonly action: 'start'; readonly config: FredLaunchConfig }
  | { readonly action: 'abort'; readonly message: string };

/**
 * `config` is `{}` when F5 is pressed without a launch.json. Then the active file is debugged if it
 * is a .fred file; otherwise the user is told what to open.
 */
export function resolveLaunchConfig(config: Partial<FredLaunchConfig>, activeLanguageId: string | undefined,
  workspaceTrusted: boolean): LaunchResolution {
  if (!workspaceTrusted) {
    return { action: 'abort', message: 'FRED Lab: running a program needs a trusted workspace (Workspaces: Manage Workspace Trust).' };
  }
  if (!config.type && !config.request && !config.name) {
    if (activeLanguageId !== FRED_LANGUAGE_ID) {
      return { action: 'abort', message: 'FRED Lab: open a .fred file to debug it, or add a "fred" configuration to launch.json.' };
    }
    return { action: 'start', config: defaultLaunchConfig() };
  }
  if (typeof config.program !== 'string' || config.program.trim() === '') {
    return { action: 'abort', message: `FRED Lab: launch configuration "${config.name ?? 'unnamed'}" needs a "program" (the .fred file to run).` };
  }
  return { action: 'start', config: { ...defaultLaunchConfig(), ...config } as FredLaunchConfig };
}

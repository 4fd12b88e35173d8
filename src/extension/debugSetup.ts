// Debug wiring: the configuration provider (F5 on a .fred file works without launch.json) and the
// adapter descriptor factory. By default the adapter runs inline in the extension host (no process,
// no stdio framing); the setting `fredLab.debugAdapter` = "process" runs the stand-alone
// `dist/debugAdapter.js` instead, which is the same session speaking DAP over stdio.
import * as vscode from 'vscode';
import { FredDebugSession } from '../debug/session';
import { FRED_DEBUG_TYPE, resolveLaunchConfig, defaultLaunchConfig } from './launchConfig';

export function registerDebugging(context: vscode.ExtensionContext): void {
  const provider: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations: () => [defaultLaunchConfig()],
    resolveDebugConfiguration(_folder, config) {
      const resolution = resolveLaunchConfig(config, vscode.window.activeTextEditor?.document.languageId,
        vscode.workspace.isTrusted);
      if (resolution.action === 'abort') {
        void vscode.window.showErrorMessage(resolution.message);
        return undefined;
      }
      return resolution.config;
    },
  };
  const factory: vscode.DebugAdapterDescriptorFactory = {
    createDebugAdapterDescriptor() {
      if (vscode.workspace.getConfiguration('fredLab').get<string>('debugAdapter') === 'process') {
        // The extension host's own Node runs the adapter; under Electron it must behave as plain Node.
        return new vscode.DebugAdapterExecutable(process.execPath, [context.asAbsolutePath('dist/debugAdapter.js')],
          { env: { ELECTRON_RUN_AS_NODE: '1' } });
      }
      return new vscode.DebugAdapterInlineImplementation(new FredDebugSession());
    },
  };
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(FRED_DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(FRED_DEBUG_TYPE, { provideDebugConfigurations: () => [defaultLaunchConfig()] },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(FRED_DEBUG_TYPE, factory),
    vscode.commands.registerCommand('fredLab.debugFile', async () => {
      await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], defaultLaunchConfig());
    }),
  );
}

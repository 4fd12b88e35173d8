// Stand-alone debug adapter entry (`node dist/debugAdapter.js` speaks DAP on stdin/stdout).
// The full adapter is the debugger issue's; until then the session answers `initialize` and refuses
// to launch with a clear message, so a client never hangs on it.
import { DebugSession, InitializedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';

class FredDebugSession extends DebugSession {
  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = { supportsConfigurationDoneRequest: true };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse): void {
    this.sendErrorResponse(response, 1, 'FRED Lab: the debugger is not available in this build yet.');
  }
}

DebugSession.run(FredDebugSession);

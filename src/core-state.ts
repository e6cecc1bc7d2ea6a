import { ServerState as DaemonState } from './server/state.js';
import { ServerStateConfig } from './server/config.js';
import { coreMethods } from './methods/index.js';
import { startOwnA2a } from './methods/a2a-runtime.js';
import type { A2aStartRequest } from './a2a/index.js';

/**
 * The package's `ServerState`: the daemon state with the built-in methods installed. This module
 * is where `server/` and `methods/` meet; neither imports the other.
 */
export class ServerState extends DaemonState {
  /** The binary's constructor. */
  static standalone(config: ServerStateConfig): ServerState {
    return new ServerState(config, 'standalone', coreMethods());
  }

  /** For embedders that serve connections of their own. */
  static embedded(config: ServerStateConfig = new ServerStateConfig()): ServerState {
    return new ServerState(config, 'embedded', coreMethods());
  }

  /** Serve A2A with no session behind it, as `a2a.start` without `share_session_runtime` does. */
  async startA2a(req: A2aStartRequest): Promise<{ bound: string }> {
    return startOwnA2a(this, req);
  }
}

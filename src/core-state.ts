import { ServerState as DaemonState } from './server/state.js';
import { ServerStateConfig } from './server/config.js';
import { coreMethods } from './methods/index.js';

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
}

import { probeUnixSocket } from '../transport/listen.js';
import { PidLock } from '../util/pid-lock.js';

/** The daemon's primacy lock: `$CAR_HOME/run/daemon.lock`. */
export { PidLock as DaemonLock } from '../util/pid-lock.js';

export type Primacy =
  | { primary: true; lock: PidLock }
  | { primary: false; reason: 'lock-held'; holderPid: number }
  | { primary: false; reason: 'socket-live'; socketPath: string };

/** Primary = holds the lock and finds no live daemon on the shared socket. */
export async function establishPrimacy(lockPath: string, sharedSocket: string | null): Promise<Primacy> {
  const lock = PidLock.acquire(lockPath);
  if (!(lock instanceof PidLock)) return { primary: false, reason: 'lock-held', holderPid: lock.heldBy };
  if (sharedSocket !== null && (await probeUnixSocket(sharedSocket))) {
    lock.release();
    return { primary: false, reason: 'socket-live', socketPath: sharedSocket };
  }
  return { primary: true, lock };
}

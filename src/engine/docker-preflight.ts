import { request } from 'node:http';

/** Where the Docker engine listens on Linux and macOS unless told otherwise. */
export const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * Ask the Docker engine on `socketPath` for `/_ping`. Resolves with null when it answers OK,
 * otherwise with the reason it cannot be used (nothing listening, refused, or a bad answer).
 */
export function pingDocker(socketPath: string = DOCKER_SOCKET, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `the Docker engine on ${socketPath} answered HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(`the Docker engine on ${socketPath} did not answer within ${timeoutMs} ms`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? `no Docker engine is running (nothing listens on ${socketPath})`
          : `the Docker engine on ${socketPath} cannot be reached: ${err.code ?? err.message}`,
      );
    });
    req.end();
  });
}

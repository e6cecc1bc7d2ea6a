import { isIP } from 'node:net';
import { CarError } from '../util/errors.js';

export interface BindAddress {
  host: string;
  port: number;
}

const WILDCARDS = new Set(['', '*', '0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost' || h === '::1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Read `host:port` (`[v6]:port` for IPv6). A wildcard address is always refused: the listener
 * serves tools with no authentication, so it binds one interface the operator named. An address
 * off the loopback needs `allowNonLoopback`.
 */
export function parseBind(bind: string, allowNonLoopback: boolean): BindAddress {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(bind.trim());
  if (m === null) throw new CarError('invalid', `bind must be host:port (got '${bind}')`, { field: 'bind' });
  const host = (m[1] ?? m[2] ?? '').toLowerCase();
  const port = Number(m[3]);
  if (port > 65535) throw new CarError('invalid', `bind port must be 0..65535 (got ${port})`, { field: 'bind' });
  if (WILDCARDS.has(host)) {
    throw new CarError('invalid', `bind '${bind}' is a wildcard address; name one interface`, { field: 'bind' });
  }
  if (host !== 'localhost' && isIP(host) === 0) {
    throw new CarError('invalid', `bind host must be an IP address or localhost (got '${host}')`, { field: 'bind' });
  }
  if (!isLoopbackHost(host) && !allowNonLoopback) {
    throw new CarError('invalid', `bind '${bind}' is not a loopback address; pass allow_non_loopback_bind to serve it`, {
      field: 'allow_non_loopback_bind',
    });
  }
  return { host, port };
}

/** `host:port` as a URL authority. */
export function formatAuthority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

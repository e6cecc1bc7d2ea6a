import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { isAllowedOrigin, isLoopbackHost } from '../transport/origin.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './page.js';

export interface DashboardOptions {
  /**
   * The daemon token handed to the page, read on every request (so rotation is picked up);
   * `null` means auth is off and `/auth-token` answers 404. Never pass the host token here.
   */
  authToken: string | null | (() => string | null);
}

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The dashboard as a plain `node:http` request handler: `GET /` (the page) and `GET /auth-token`.
 * Anything not coming from, and addressed to, loopback is refused, which also defeats DNS
 * rebinding (a rebound name arrives with a non-loopback Host header).
 */
export function createDashboardHandler(opts: DashboardOptions): DashboardHandler {
  const tokenOf = typeof opts.authToken === 'function' ? opts.authToken : () => opts.authToken as string | null;
  return (req, res) => {
    if (!isLoopbackRequest(req)) {
      send(res, 403, 'text/plain; charset=utf-8', 'forbidden: the dashboard is served to loopback only\n');
      return;
    }
    const path = pathOf(req.url);
    if (path !== '/' && path !== '/auth-token') {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (path === '/') {
      res.setHeader('content-security-policy', DASHBOARD_CSP);
      res.setHeader('cache-control', 'no-cache');
      send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
      return;
    }
    const token = tokenOf();
    res.setHeader('cache-control', 'no-store');
    if (token === null) send(res, 404, 'text/plain; charset=utf-8', 'auth is disabled on this daemon\n');
    else send(res, 200, 'text/plain; charset=utf-8', token);
  };
}

/** Peer address, Host and (when sent) Origin must all be loopback. */
export function isLoopbackRequest(req: IncomingMessage): boolean {
  if (!isLoopbackAddress(req.socket.remoteAddress)) return false;
  const host = req.headers.host;
  if (host === undefined || !isLoopbackHost(hostnameOf(host))) return false;
  return isAllowedOrigin(req.headers.origin);
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

/** The name part of a Host header (`127.0.0.1:9101`, `[::1]:9101`, `localhost`). */
function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return '';
  }
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

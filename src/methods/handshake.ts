import { z } from 'zod';
import { ErrorCode, RpcError } from '../rpc/errors.js';
import { PROTOCOL_VERSION } from '../contract/index.js';
import { defineMethod } from '../contract/index.js';
import { isObject } from '../util/values.js';

const CLIENT_VERSION_MAX = 64;

export const serverHandshake = defineMethod({
  name: 'server.handshake',
  summary: 'Negotiate the wire protocol version (exact match on 2).',
  // Checked by hand: any malformed version is a -32006, not a -32602.
  params: z.unknown(),
  result: z.object({
    protocol_version: z.number(),
    server_version: z.string(),
    client_protocol_version: z.number(),
  }),
  handler(params, { state, session }) {
    const p = isObject(params) ? params : {};
    const version = p.protocol_version;
    if (version !== PROTOCOL_VERSION) {
      const sent = version === undefined ? 'no protocol_version' : `protocol_version ${JSON.stringify(version)}`;
      throw new RpcError(
        ErrorCode.ProtocolVersionMismatch,
        `protocol version mismatch: this server speaks protocol_version ${PROTOCOL_VERSION}, the client sent ${sent}`,
      );
    }
    session.negotiatedProtocolVersion = PROTOCOL_VERSION;
    if (typeof p.client_version === 'string') session.clientVersion = p.client_version.slice(0, CLIENT_VERSION_MAX);
    return {
      protocol_version: PROTOCOL_VERSION,
      server_version: state.config.serverVersion,
      client_protocol_version: PROTOCOL_VERSION,
    };
  },
});

import { AgentCard } from '@a2a-js/sdk';
import { sign } from 'node:crypto';
import { A2UI_EXTENSION_URI, A2UI_MEDIA_TYPE, SUPPORTED_CATALOG_IDS } from '../a2ui/catalog.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { A2aTool } from './runtime.js';
import type { SigningKey } from './signing-key.js';

export { A2UI_EXTENSION_URI };

/** Who the card says the agent is (the host's `AgentCardSource`). */
export interface CardIdentity {
  name: string;
  description: string;
  organization: string;
  organizationUrl: string;
  version: string;
}

export const DEFAULT_IDENTITY: Omit<CardIdentity, 'version'> = {
  name: 'Common Agent Runtime',
  description: "The CAR daemon's tools, served over A2A.",
  organization: 'Parslee',
  organizationUrl: 'https://parslee.ai',
};

const MODES = ['text/plain', 'application/json', A2UI_MEDIA_TYPE];

/** The card as JSON (the v1.0 shape, plus `protocolVersion`/`url` for pre-1.0 readers), unsigned. */
export function buildCard(identity: CardIdentity, publicUrl: string, tools: readonly A2aTool[]): Record<string, unknown> {
  const url = publicUrl.replace(/\/+$/, '');
  return {
    name: identity.name,
    description: identity.description,
    version: identity.version,
    protocolVersion: '1.0',
    url: `${url}/`,
    provider: { organization: identity.organization, url: identity.organizationUrl },
    supportedInterfaces: [
      { url: `${url}/`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: `${url}/`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ],
    capabilities: {
      streaming: true,
      pushNotifications: true,
      extendedAgentCard: true,
      extensions: [
        {
          uri: A2UI_EXTENSION_URI,
          description: 'A2UI surfaces in data parts',
          required: false,
          params: { supportedCatalogIds: [...SUPPORTED_CATALOG_IDS], acceptsInlineCatalogs: false },
        },
      ],
    },
    defaultInputModes: MODES,
    defaultOutputModes: MODES,
    skills: tools.map((t) => ({
      id: t.name,
      name: t.name,
      description: t.description || `Run the '${t.name}' tool: send a data part {"tool": "${t.name}", "parameters": {…}}.`,
      tags: ['tool'],
      inputModes: ['application/json'],
      outputModes: ['application/json'],
    })),
  };
}

/**
 * The bytes a card signature covers: the card read as the v1.0 schema (unknown fields and empty
 * values dropped, `signatures` left out), in RFC 8785 canonical JSON.
 */
export function cardSigningPayload(card: Record<string, unknown>): string {
  const normalized = AgentCard.toJSON(AgentCard.fromJSON(card)) as Record<string, unknown>;
  delete normalized.signatures;
  return canonicalJson(dropEmpty(normalized) ?? {});
}

/** Attach a detached JWS (EdDSA over the canonical payload) to the card. */
export function signCard(card: Record<string, unknown>, key: SigningKey): Record<string, unknown> {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JOSE', kid: key.kid })).toString('base64url');
  const payload = Buffer.from(cardSigningPayload(card)).toString('base64url');
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key.privateKey).toString('base64url');
  return { ...card, signatures: [{ protected: header, signature }] };
}

function dropEmpty(v: unknown): unknown {
  if (v === '' || v === null || v === undefined) return null;
  if (Array.isArray(v)) {
    const items = v.map(dropEmpty).filter((x) => x !== null);
    return items.length > 0 ? items : null;
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const c = dropEmpty(x);
      if (c !== null) out[k] = c;
    }
    return Object.keys(out).length > 0 ? out : null;
  }
  return v;
}

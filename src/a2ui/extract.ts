import { isObject } from '../util/values.js';
import { A2UI_MEDIA_TYPE } from './catalog.js';

const SERVER_KINDS = ['createSurface', 'updateComponents', 'updateDataModel', 'deleteSurface'];
/** Client-to-server messages (user actions, client errors) ride the same media type; they are not surface updates. */
const CLIENT_KINDS = ['action', 'error'];
/** How deep payload wrappers are searched (task → artifact → part → wrapper → list). */
const MAX_DEPTH = 8;

function looksLikeMessage(v: Record<string, unknown>): boolean {
  return SERVER_KINDS.some((k) => k in v);
}

function isClientMessage(v: unknown): boolean {
  return isObject(v) && CLIENT_KINDS.some((k) => k in v) && !looksLikeMessage(v);
}

function asList(v: unknown): unknown[] {
  return (Array.isArray(v) ? v : [v]).filter((m) => !isClientMessage(m));
}

function mediaTypeOf(part: Record<string, unknown>): unknown {
  if (typeof part.mediaType === 'string') return part.mediaType;
  const meta = part.metadata;
  return isObject(meta) ? (meta.mimeType ?? meta.mediaType) : undefined;
}

/**
 * The A2UI server-to-client messages an A2A payload carries, in order: a message itself or a list
 * of them, `{a2ui: …}`, a data part marked `application/a2ui+json` (v1.0 `mediaType` or v0.3
 * `metadata.mimeType`), an A2A message's parts, or a task's status message and artifacts. Anything
 * else (text, tool data, client actions) is not A2UI and is left out. Messages are not checked
 * here: a malformed one is returned as it is, for the store to refuse with its reason.
 */
export function extractA2ui(payload: unknown, depth = 0): unknown[] {
  if (depth > MAX_DEPTH) return [];
  if (Array.isArray(payload)) return payload.flatMap((p) => extractA2ui(p, depth + 1));
  if (!isObject(payload)) return [];
  if (looksLikeMessage(payload)) return [payload];
  if ('a2ui' in payload) return asList(payload.a2ui);
  if ('data' in payload && (payload.kind === 'data' || 'mediaType' in payload || 'metadata' in payload || Object.keys(payload).length === 1)) {
    if (mediaTypeOf(payload) === A2UI_MEDIA_TYPE) return asList(payload.data);
    return isObject(payload.data) && 'a2ui' in payload.data ? asList(payload.data.a2ui) : [];
  }
  const out: unknown[] = [];
  if (Array.isArray(payload.parts)) out.push(...extractA2ui(payload.parts, depth + 1));
  if (isObject(payload.status) && isObject(payload.status.message)) out.push(...extractA2ui(payload.status.message, depth + 1));
  if (Array.isArray(payload.artifacts)) out.push(...extractA2ui(payload.artifacts, depth + 1));
  for (const key of ['task', 'message', 'result']) {
    if (isObject(payload[key])) out.push(...extractA2ui(payload[key], depth + 1));
  }
  return out;
}


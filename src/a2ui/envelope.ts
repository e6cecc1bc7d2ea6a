import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { A2UI_VERSIONS } from './catalog.js';

/** Longest surface or component id accepted. */
export const MAX_ID_LENGTH = 256;

export type A2uiComponent = Record<string, unknown> & { id: string; component: string };

export type A2uiMessage =
  | { kind: 'createSurface'; surfaceId: string; catalogId: string; theme?: Record<string, unknown>; sendDataModel?: boolean }
  | { kind: 'updateComponents'; surfaceId: string; components: A2uiComponent[] }
  /** `value` absent (`hasValue` false) removes what is at `path`. */
  | { kind: 'updateDataModel'; surfaceId: string; path: string; hasValue: boolean; value?: unknown }
  | { kind: 'deleteSurface'; surfaceId: string };

export type A2uiMessageKind = A2uiMessage['kind'];

const KINDS: readonly A2uiMessageKind[] = ['createSurface', 'updateComponents', 'updateDataModel', 'deleteSurface'];
const ALLOWED: Readonly<Record<A2uiMessageKind, readonly string[]>> = {
  createSurface: ['surfaceId', 'catalogId', 'theme', 'sendDataModel'],
  updateComponents: ['surfaceId', 'components'],
  updateDataModel: ['surfaceId', 'path', 'value'],
  deleteSurface: ['surfaceId'],
};

/** `at` as the start of a dotted field path (nothing when the message is the params themselves). */
export function dot(at: string): string {
  return at === '' ? '' : `${at}.`;
}

function invalid(field: string, message: string): CarError {
  return new CarError('invalid', `${field}: ${message}`, { field });
}

export function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
  if (value.length > MAX_ID_LENGTH) throw invalid(field, `must be at most ${MAX_ID_LENGTH} characters`);
  return value;
}

/**
 * One server-to-client A2UI message, checked for shape: exactly one of the four message keys, a
 * known `version` (absent is taken as v0.9), no unknown properties. Components are checked
 * against the surface's catalog when they are applied. Errors name the field at fault under `at`.
 */
export function parseMessage(raw: unknown, at: string): A2uiMessage {
  if (!isObject(raw)) throw invalid(at === '' ? 'params' : at, 'an A2UI message must be an object');
  const present = KINDS.filter((k) => k in raw);
  if (present.length !== 1) {
    throw invalid(at === '' ? 'params' : at, `an A2UI message must hold exactly one of ${KINDS.join(', ')}${present.length > 1 ? `, got ${present.join(' and ')}` : ''}`);
  }
  const kind = present[0]!;
  for (const key of Object.keys(raw)) {
    if (key !== kind && key !== 'version') throw invalid(`${dot(at)}${key}`, 'is not a property of an A2UI message');
  }
  if (raw.version !== undefined && !(A2UI_VERSIONS as readonly unknown[]).includes(raw.version)) {
    throw invalid(`${dot(at)}version`, `unsupported A2UI version ${JSON.stringify(raw.version)}; supported: ${A2UI_VERSIONS.join(', ')}`);
  }
  const body = raw[kind];
  const where = `${dot(at)}${kind}`;
  if (!isObject(body)) throw invalid(where, 'must be an object');
  for (const key of Object.keys(body)) {
    if (!ALLOWED[kind].includes(key)) throw invalid(`${where}.${key}`, `is not a property of ${kind}`);
  }
  const surfaceId = checkId(body.surfaceId, `${where}.surfaceId`);
  switch (kind) {
    case 'createSurface': {
      const catalogId = body.catalogId;
      if (typeof catalogId !== 'string' || catalogId.length === 0) throw invalid(`${where}.catalogId`, 'must be a non-empty string');
      const out: A2uiMessage = { kind, surfaceId, catalogId };
      if (body.theme !== undefined) {
        if (!isObject(body.theme)) throw invalid(`${where}.theme`, 'must be an object');
        out.theme = body.theme;
      }
      if (body.sendDataModel !== undefined) {
        if (typeof body.sendDataModel !== 'boolean') throw invalid(`${where}.sendDataModel`, 'must be a boolean');
        out.sendDataModel = body.sendDataModel;
      }
      return out;
    }
    case 'updateComponents': {
      const list = body.components;
      if (!Array.isArray(list) || list.length === 0) throw invalid(`${where}.components`, 'must be a non-empty array');
      const seen = new Set<string>();
      const components = list.map((c, i) => {
        const component = normalizeComponent(c, `${where}.components[${i}]`);
        if (seen.has(component.id)) throw invalid(`${where}.components[${i}].id`, `component '${component.id}' appears twice in one message`);
        seen.add(component.id);
        return component;
      });
      return { kind, surfaceId, components };
    }
    case 'updateDataModel': {
      const path = body.path ?? '/';
      if (typeof path !== 'string') throw invalid(`${where}.path`, 'must be a JSON Pointer string');
      if (path !== '' && !path.startsWith('/')) throw invalid(`${where}.path`, `'${path}' is not a JSON Pointer (it must start with '/')`);
      return 'value' in body ? { kind, surfaceId, path, hasValue: true, value: body.value } : { kind, surfaceId, path, hasValue: false };
    }
    case 'deleteSurface':
      return { kind, surfaceId };
  }
}

/**
 * A component in the v0.9 flat form `{id, component: "Text", …}`. The older wrapped form
 * `{"Text": {id, …}}`, still seen in some agents' output, is accepted and flattened.
 */
function normalizeComponent(raw: unknown, at: string): A2uiComponent {
  if (!isObject(raw)) throw invalid(at, 'a component must be an object');
  let flat = raw;
  const keys = Object.keys(raw);
  if (raw.component === undefined && keys.length === 1 && isObject(raw[keys[0]!])) {
    flat = { ...(raw[keys[0]!] as Record<string, unknown>), component: keys[0] };
  }
  checkId(flat.id, `${dot(at)}id`);
  if (typeof flat.component !== 'string' || flat.component.length === 0) throw invalid(`${dot(at)}component`, 'must name the component type');
  return flat as A2uiComponent;
}

/** The wire form of a message, as renderers take it. */
export function toEnvelope(message: A2uiMessage, version: string = A2UI_VERSIONS[0]): Record<string, unknown> {
  switch (message.kind) {
    case 'createSurface': {
      const body: Record<string, unknown> = { surfaceId: message.surfaceId, catalogId: message.catalogId };
      if (message.theme !== undefined) body.theme = message.theme;
      if (message.sendDataModel !== undefined) body.sendDataModel = message.sendDataModel;
      return { version, createSurface: body };
    }
    case 'updateComponents':
      return { version, updateComponents: { surfaceId: message.surfaceId, components: message.components } };
    case 'updateDataModel': {
      const body: Record<string, unknown> = { surfaceId: message.surfaceId, path: message.path };
      if (message.hasValue) body.value = message.value;
      return { version, updateDataModel: body };
    }
    case 'deleteSurface':
      return { version, deleteSurface: { surfaceId: message.surfaceId } };
  }
}

import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { findCatalog, SUPPORTED_CATALOG_IDS, type Catalog, type RefKind } from './catalog.js';
import { checkId, dot, type A2uiComponent, type A2uiMessage } from './envelope.js';
import { pointerTokens, writeAt } from './pointer.js';

/** Who a surface belongs to. The endpoint and its credentials stay in the daemon; renderers see `publicOwner`. */
export interface SurfaceOwner {
  /** `a2a`: an A2A agent's payload (`a2ui.ingest`, `a2a.send`, the A2A listener); `local`: `a2ui.apply`. */
  source: 'a2a' | 'local';
  taskId?: string;
  contextId?: string;
  /** The A2A agent a user action goes back to. */
  endpoint?: string;
  /** The connection that applied it (`local`). */
  clientId?: string;
}

export interface PublicOwner {
  source: 'a2a' | 'local';
  taskId?: string;
  contextId?: string;
}

export function publicOwner(owner: SurfaceOwner): PublicOwner {
  const out: PublicOwner = { source: owner.source };
  if (owner.taskId !== undefined) out.taskId = owner.taskId;
  if (owner.contextId !== undefined) out.contextId = owner.contextId;
  return out;
}

/** The key the per-owner surface bound counts under: one A2A conversation, or one connection. */
export function ownerKey(owner: SurfaceOwner): string {
  if (owner.source === 'local') return `local:${owner.clientId ?? ''}`;
  return `a2a:${owner.endpoint ?? 'inbound'}:${owner.contextId ?? owner.taskId ?? ''}`;
}

/** The bounds every surface is held to. */
export interface SurfaceLimits {
  maxComponentsPerSurface: number;
  /** JSON bytes of one surface's components together. */
  maxComponentsBytes: number;
  /** JSON bytes of one surface's data model. */
  maxDataModelBytes: number;
}

export interface Surface {
  readonly surfaceId: string;
  readonly catalogId: string;
  readonly catalog: Catalog;
  readonly theme: Record<string, unknown> | undefined;
  readonly sendDataModel: boolean;
  readonly components: ReadonlyMap<string, A2uiComponent>;
  readonly componentBytes: ReadonlyMap<string, number>;
  readonly componentsBytes: number;
  readonly dataModel: unknown;
  readonly dataModelBytes: number;
  readonly owner: SurfaceOwner;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Messages applied to it since it was created. */
  readonly revision: number;
}

function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function invalid(field: string, message: string): CarError {
  return new CarError('invalid', `${field}: ${message}`, { field });
}

/** A new surface for `createSurface`; its catalog must be one the daemon supports. */
export function createSurface(message: Extract<A2uiMessage, { kind: 'createSurface' }>, owner: SurfaceOwner, at: string, now: number): Surface {
  const catalog = findCatalog(message.catalogId);
  if (catalog === undefined) {
    throw invalid(`${dot(at)}createSurface.catalogId`, `unsupported catalog '${message.catalogId}'; supported: ${SUPPORTED_CATALOG_IDS.join(', ')}`);
  }
  return {
    surfaceId: message.surfaceId,
    catalogId: message.catalogId,
    catalog,
    theme: message.theme === undefined ? undefined : structuredClone(message.theme),
    sendDataModel: message.sendDataModel === true,
    components: new Map(),
    componentBytes: new Map(),
    componentsBytes: 0,
    dataModel: {},
    dataModelBytes: 2,
    owner,
    createdAt: now,
    updatedAt: now,
    revision: 1,
  };
}

/** `surface` after one `updateComponents` or `updateDataModel`; `surface` itself is left as it was. */
export function updateSurface(surface: Surface, message: A2uiMessage, limits: SurfaceLimits, at: string, now: number): Surface {
  if (message.kind === 'updateComponents') {
    const where = `${dot(at)}updateComponents.components`;
    const components = new Map(surface.components);
    const bytes = new Map(surface.componentBytes);
    let total = surface.componentsBytes;
    for (const [i, raw] of message.components.entries()) {
      checkComponent(raw, surface.catalog, `${where}[${i}]`);
      const component = structuredClone(raw);
      const size = jsonBytes(component);
      total += size - (bytes.get(component.id) ?? 0);
      components.set(component.id, component);
      bytes.set(component.id, size);
    }
    if (components.size > limits.maxComponentsPerSurface) {
      throw new CarError('limit', `${where}: surface '${surface.surfaceId}' would hold ${components.size} components (limit ${limits.maxComponentsPerSurface})`, {
        field: where,
        limit: limits.maxComponentsPerSurface,
      });
    }
    if (total > limits.maxComponentsBytes) {
      throw new CarError('limit', `${where}: surface '${surface.surfaceId}' components would take ${total} bytes (limit ${limits.maxComponentsBytes})`, {
        field: where,
        limit: limits.maxComponentsBytes,
      });
    }
    return { ...surface, components, componentBytes: bytes, componentsBytes: total, updatedAt: now, revision: surface.revision + 1 };
  }
  if (message.kind === 'updateDataModel') {
    const field = `${dot(at)}updateDataModel.path`;
    const tokens = pointerTokens(message.path, field);
    const value = message.hasValue ? structuredClone(message.value) : undefined;
    const dataModel = writeAt(surface.dataModel, tokens, value, !message.hasValue, field);
    const size = jsonBytes(dataModel);
    if (size > limits.maxDataModelBytes) {
      throw new CarError('limit', `${dot(at)}updateDataModel: surface '${surface.surfaceId}' data model would take ${size} bytes (limit ${limits.maxDataModelBytes})`, {
        field: `${dot(at)}updateDataModel.value`,
        limit: limits.maxDataModelBytes,
      });
    }
    return { ...surface, dataModel, dataModelBytes: size, updatedAt: now, revision: surface.revision + 1 };
  }
  throw new Error(`updateSurface cannot apply ${message.kind}`);
}

/** A component's type is in the surface's catalog, with its required properties and well-formed references. */
function checkComponent(component: A2uiComponent, catalog: Catalog, at: string): void {
  const spec = catalog.components[component.component];
  if (spec === undefined) {
    throw invalid(`${dot(at)}component`, `'${component.component}' is not in catalog '${catalog.id}' (${Object.keys(catalog.components).join(', ')})`);
  }
  for (const prop of spec.required) {
    if (component[prop] === undefined) throw invalid(`${dot(at)}${prop}`, `${component.component} requires '${prop}'`);
  }
  for (const [prop, kind] of Object.entries(spec.refs)) {
    if (component[prop] !== undefined) checkRef(component[prop], kind, `${dot(at)}${prop}`);
  }
}

function checkRef(value: unknown, kind: RefKind, at: string): void {
  if (kind === 'id') {
    checkId(value, at);
    return;
  }
  if (kind === 'children') {
    if (Array.isArray(value)) {
      value.forEach((id, i) => checkId(id, `${at}[${i}]`));
      return;
    }
    if (isObject(value) && typeof value.path === 'string') {
      checkId(value.componentId, `${dot(at)}componentId`);
      return;
    }
    throw invalid(at, 'must be a list of component ids or a template {componentId, path}');
  }
  if (!Array.isArray(value) || value.length === 0) throw invalid(at, 'must be a non-empty list of {title, child}');
  value.forEach((tab, i) => {
    if (!isObject(tab)) throw invalid(`${at}[${i}]`, 'must be an object {title, child}');
    if (tab.title === undefined) throw invalid(`${at}[${i}].title`, 'is required');
    checkId(tab.child, `${at}[${i}].child`);
  });
}

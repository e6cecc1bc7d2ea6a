import { ErrorCode, type JsonRpcErrorObject } from './errors.js';
import { isObject as isPlainObject } from '../util/values.js';

export type JsonRpcId = string | number | null;
export type JsonRpcParams = Record<string, unknown> | unknown[];

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonRpcParams;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonRpcParams;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** What one parsed JSON value turned out to be. */
export type Classified =
  | { kind: 'request'; id: JsonRpcId; method: string; params: JsonRpcParams | undefined }
  | { kind: 'notification'; method: string; params: JsonRpcParams | undefined }
  | { kind: 'response'; id: JsonRpcId; result: unknown }
  | { kind: 'error'; id: JsonRpcId; error: JsonRpcErrorObject }
  | { kind: 'invalid'; id: JsonRpcId; message: string };

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

function isErrorObject(value: unknown): value is JsonRpcErrorObject {
  return isPlainObject(value) && Number.isInteger(value.code) && typeof value.message === 'string';
}

/**
 * Classify one JSON value as a JSON-RPC 2.0 message.
 * Requests must carry `jsonrpc: "2.0"`; responses are accepted without it, since some clients omit
 * the field when answering server-initiated calls.
 */
export function classify(value: unknown): Classified {
  if (!isPlainObject(value)) {
    return { kind: 'invalid', id: null, message: 'invalid request: a JSON-RPC message must be an object' };
  }
  const hasId = Object.hasOwn(value, 'id');
  const id = value.id;
  const echoId: JsonRpcId = hasId && isValidId(id) ? id : null;

  if (Object.hasOwn(value, 'method')) {
    if (value.jsonrpc !== '2.0') {
      return { kind: 'invalid', id: echoId, message: 'invalid request: "jsonrpc" must be "2.0"' };
    }
    if (typeof value.method !== 'string' || value.method.length === 0) {
      return { kind: 'invalid', id: echoId, message: 'invalid request: "method" must be a non-empty string' };
    }
    if (hasId && !isValidId(id)) {
      return { kind: 'invalid', id: null, message: 'invalid request: "id" must be a string, a number or null' };
    }
    // `"params": null` is read as no params, as serde-based peers send it for parameterless methods.
    const params = value.params === null ? undefined : value.params;
    if (params !== undefined && typeof params !== 'object') {
      return { kind: 'invalid', id: echoId, message: 'invalid request: "params" must be an object or an array' };
    }
    const p = params as JsonRpcParams | undefined;
    return hasId
      ? { kind: 'request', id: id as JsonRpcId, method: value.method, params: p }
      : { kind: 'notification', method: value.method, params: p };
  }

  if (value.jsonrpc !== undefined && value.jsonrpc !== '2.0') {
    return { kind: 'invalid', id: echoId, message: 'invalid request: "jsonrpc" must be "2.0"' };
  }
  const hasResult = Object.hasOwn(value, 'result');
  const hasError = Object.hasOwn(value, 'error');
  if (!hasId || !isValidId(id) || hasResult === hasError) {
    return { kind: 'invalid', id: echoId, message: 'invalid request: no "method", and not a valid response' };
  }
  if (hasError) {
    if (!isErrorObject(value.error)) {
      return { kind: 'invalid', id: echoId, message: 'invalid request: "error" must be {code, message}' };
    }
    return { kind: 'error', id, error: value.error };
  }
  return { kind: 'response', id, result: value.result };
}

export function successResponse(id: JsonRpcId, result: unknown): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result };
}

export function errorResponse(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error };
}

export function invalidRequest(id: JsonRpcId, message: string): JsonRpcFailure {
  return errorResponse(id, { code: ErrorCode.InvalidRequest, message });
}

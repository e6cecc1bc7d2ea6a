import { CarError, type CarErrorKind } from '../util/errors.js';

/**
 * An A2A protocol error (-32001 task not found, -32002 not cancelable, …) answered to a WS caller
 * of the in-core dispatcher with the code and data the A2A specification gives it.
 */
export class A2aProtocolError extends CarError {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(kindOf(code), message, { verbatim: true });
    this.name = 'A2aProtocolError';
  }
}

function kindOf(code: number): CarErrorKind {
  if (code === -32001) return 'not_found';
  if (code === -32602 || code === -32600) return 'invalid';
  return 'conflict';
}

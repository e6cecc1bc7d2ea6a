import { buildOpenRpcDocument, defineMethod, mayCall } from '../contract/index.js';
import { noParams } from './schemas.js';


export const capabilitiesList = defineMethod({
  name: 'capabilities.list',
  summary: 'Methods this connection may call, sorted, each with the least role it needs.',
  params: noParams,
  handler(_p, { state, session }) {
    const methods = state.methods
      .list()
      .filter((spec) => mayCall(spec, session, state))
      .map((spec) => ({ method: spec.name, role: spec.role ?? 'agent' }));
    return { caller_role: session.role, count: methods.length, methods };
  },
});

const documents = new WeakMap<object, { version: number; doc: object }>();

export const rpcDiscover = defineMethod({
  name: 'rpc.discover',
  summary: 'The OpenRPC document describing every method this daemon serves, with the gates each passes (x-car-gates).',
  params: noParams,
  handler(_p, { state }) {
    const cached = documents.get(state.methods);
    if (cached && cached.version === state.methods.version) return cached.doc;
    const doc = buildOpenRpcDocument(state.methods.routeList(), {
      title: 'car-server-core',
      version: state.config.serverVersion,
    });
    documents.set(state.methods, { version: state.methods.version, doc });
    return doc;
  },
});

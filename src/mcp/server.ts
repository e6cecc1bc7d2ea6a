import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { buildContext } from '../memory/context.js';
import type { MemoryScope } from '../memory/scope.js';
import { isCarError } from '../util/errors.js';
import type { McpHost } from './host.js';
import { completeUri, listResources, readResource } from './resources.js';
import type { McpSessionState, McpTool } from './tool.js';

const CONTEXT_MODES = ['full', 'fast'] as const;
const MAX_COMPLETIONS = 100;
const TEMPLATES = [
  { uriTemplate: 'car://memory/facts/{id}', name: 'fact', description: 'One fact of the memory graph', mimeType: 'application/json' },
  { uriTemplate: 'car://skills/{name}', name: 'skill', description: 'One skill', mimeType: 'application/json' },
];

/** One MCP session: the SDK server with the CAR tools, and what it subscribed to. */
export class McpSession implements McpSessionState {
  readonly server: McpServer;
  readonly status = new Map<string, { id: string; body: string; tenant_id?: string }>();
  private readonly subscriptions = new Map<string, string | undefined>();
  private unwatch: (() => void) | null = null;
  private notifyScheduled = false;
  private shape = '';
  private closed = false;

  constructor(
    readonly host: McpHost,
    tools: readonly McpTool[],
    readonly id: string = randomUUID(),
  ) {
    this.server = new McpServer(
      { name: 'car-server', title: 'CAR', version: host.version },
      {
        capabilities: { tools: {}, prompts: {}, logging: {}, completions: {} },
        instructions:
          "CAR's shared memory graph, proposal checks (verify, simulate, equivalent, optimize), file policies and skills. Facts added here are shared with every other client of this memory.",
      },
    );
    for (const tool of tools) this.addTool(tool);
    this.addContextPrompt();
    this.addResources();
    this.addCompletion();
  }

  /** Stop watching the graph. The transport is closed by whoever owns it. */
  close(): void {
    this.closed = true;
    this.unwatch?.();
    this.unwatch = null;
  }

  private addTool(tool: McpTool): void {
    this.server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: { title: tool.title, ...tool.hints },
      },
      async (args: Record<string, unknown>, extra: { signal: AbortSignal }) => {
        const result = await tool.run(args as never, { host: this.host, session: this, signal: extra.signal });
        return { content: [{ type: 'text' as const, text: JSON.stringify(result) }], structuredContent: result };
      },
    );
  }

  private addContextPrompt(): void {
    this.server.registerPrompt(
      'car_context',
      {
        title: 'Memory context',
        description: 'The memory context block for a query (Identity … Known Unknowns); mode fast skips the graph walk.',
        argsSchema: { query: z.string().describe('What the context is for'), mode: z.enum(CONTEXT_MODES).optional().describe('full (default) or fast') },
      },
      async ({ query, mode }) => {
        const scope = await this.host.memory();
        const fast = mode === 'fast';
        const text = buildContext(scope.engine, {
          query,
          identity: { scope: scope.kind === 'shared' ? 'shared daemon graph' : scope.label },
          status: this.status.get('proactive-status:global')?.body ?? null,
          fast,
          vector: fast ? undefined : await scope.queryVector(query),
        });
        return { description: `memory context (${fast ? 'fast' : 'full'})`, messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }] };
      },
    );
  }

  private addResources(): void {
    const server = this.server.server;
    server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
    server.setRequestHandler(ListResourcesRequestSchema, async (req) => {
      const scope = await this.watched();
      const page = wrap(() => listResources(scope, req.params?.cursor, this.host.limits.resourcePageSize));
      return { ...page };
    });
    server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: TEMPLATES }));
    server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
      const scope = await this.watched();
      const text = readResource(scope, req.params.uri);
      if (text === undefined) throw new McpError(-32002, `resource not found: ${req.params.uri}`, { uri: req.params.uri });
      return { contents: [{ uri: req.params.uri, mimeType: 'application/json', text }] };
    });
    server.setRequestHandler(SubscribeRequestSchema, async (req) => {
      const scope = await this.watched();
      this.subscriptions.set(req.params.uri, readResource(scope, req.params.uri));
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, (req) => {
      this.subscriptions.delete(req.params.uri);
      return {};
    });
  }

  private addCompletion(): void {
    this.server.server.setRequestHandler(CompleteRequestSchema, async (req) => {
      const { ref, argument } = req.params;
      if (ref.type === 'ref/prompt') {
        if (ref.name !== 'car_context') throw new McpError(ErrorCode.InvalidParams, `unknown prompt: ${ref.name}`);
        const values = argument.name === 'mode' ? CONTEXT_MODES.filter((m) => m.startsWith(argument.value)) : [];
        return { completion: { values, total: values.length, hasMore: false } };
      }
      const scope = await this.watched();
      const template = TEMPLATES.find((t) => t.uriTemplate === ref.uri);
      const prefix = template ? template.uriTemplate.replace(/\{[^}]+\}$/, '') + encodeURIComponent(argument.value) : argument.value;
      const { values, total } = completeUri(scope, prefix, MAX_COMPLETIONS);
      const out = template ? values.map((u) => decodeURIComponent(u.slice(template.uriTemplate.indexOf('{')))) : values;
      return { completion: { values: out, total, hasMore: total > out.length } };
    });
  }

  /** The graph, watched for changes from the first time this session touches resources. */
  private async watched(): Promise<MemoryScope> {
    const scope = await this.host.memory();
    if (this.unwatch === null && !this.closed) {
      this.shape = shapeOf(scope);
      this.unwatch = scope.watch(() => this.scheduleNotify(scope));
    }
    return scope;
  }

  /** Changes arrive per op; notifications go out once per turn, for what actually changed. */
  private scheduleNotify(scope: MemoryScope): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      if (!this.closed) this.notify(scope);
    });
  }

  private notify(scope: MemoryScope): void {
    const server = this.server.server;
    const shape = shapeOf(scope);
    if (shape !== this.shape) {
      this.shape = shape;
      server.sendResourceListChanged().catch(() => {});
    }
    for (const [uri, last] of this.subscriptions) {
      const now = readResource(scope, uri);
      if (now === last) continue;
      this.subscriptions.set(uri, now);
      server.sendResourceUpdated({ uri }).catch(() => {});
    }
  }
}

function shapeOf(scope: MemoryScope): string {
  return `${scope.engine.graph.capacity}/${scope.engine.factCount}/${scope.engine.skills.list(undefined).length}`;
}

/** Engine refusals (a bad cursor) become -32602; anything else is the SDK's internal error. */
function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isCarError(err) && err.kind === 'invalid') throw new McpError(ErrorCode.InvalidParams, err.message);
    throw err;
  }
}

import { Role, TaskState, type Artifact, type Message, type Part } from '@a2a-js/sdk';
import { randomUUID } from 'node:crypto';
import { A2UI_MEDIA_TYPE } from '../a2ui/catalog.js';
import { isObject } from '../util/values.js';

export { A2UI_MEDIA_TYPE };

const TERMINAL = new Set<number>([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

export function isTerminal(state: TaskState | undefined): boolean {
  return state !== undefined && TERMINAL.has(state);
}

export function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined };
}

export function dataPart(value: unknown, mediaType = 'application/json'): Part {
  return { content: { $case: 'data', value }, mediaType, filename: '', metadata: undefined };
}

/** A message from the agent's side of a task. */
export function agentMessage(taskId: string, contextId: string, parts: Part[]): Message {
  return {
    messageId: randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export function artifact(artifactId: string, name: string, parts: Part[]): Artifact {
  return { artifactId, name, description: '', parts, metadata: undefined, extensions: [] };
}

/** A tool call a message asks for: a `data` part `{tool, parameters}`. */
export interface ToolRequest {
  tool: string;
  parameters: Record<string, unknown>;
}

/** What one inbound message carries, by the CAR mapping: tool calls, free text, A2UI payloads. */
export interface MessageContent {
  tools: ToolRequest[];
  text: string;
  a2ui: unknown[];
}

export function readMessage(message: Message): MessageContent {
  const out: MessageContent = { tools: [], text: '', a2ui: [] };
  const texts: string[] = [];
  for (const part of message.parts) {
    const c = part.content;
    if (c === undefined) continue;
    if (c.$case === 'text') texts.push(c.value);
    else if (c.$case === 'data') {
      const v: unknown = c.value;
      // v0.3 senders mark the media type in the part's metadata (`mimeType`).
      const media = part.mediaType !== '' ? part.mediaType : isObject(part.metadata) ? part.metadata.mimeType : undefined;
      if (media === A2UI_MEDIA_TYPE || (isObject(v) && 'a2ui' in v)) out.a2ui.push(v);
      else if (isObject(v) && typeof v.tool === 'string') {
        out.tools.push({ tool: v.tool, parameters: isObject(v.parameters) ? v.parameters : {} });
      }
    }
  }
  out.text = texts.join('\n');
  return out;
}

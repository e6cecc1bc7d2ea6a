import { Task, type StreamResponse, type TaskPushNotificationConfig } from '@a2a-js/sdk';
import { InMemoryPushNotificationStore, type PushNotificationSender, type ServerCallContext } from '@a2a-js/sdk/server';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { Logger } from '../util/logger.js';
import { isLoopbackHost } from './bind.js';

/**
 * Where a push notification may go: an http(s) URL on the loopback, or one whose origin (or host)
 * the operator allow-listed. Anything else could point the daemon at a private service (SSRF).
 */
export function pushTargetRefusal(url: string, allowList: readonly string[]): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `push notification url '${url}' is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `push notification url must be http(s), got '${u.protocol}'`;
  if (u.username !== '' || u.password !== '') return 'push notification url must not carry credentials';
  if (isLoopbackHost(u.hostname)) return null;
  if (allowList.includes(u.origin) || allowList.includes(u.hostname)) return null;
  return `push notification url '${u.origin}' is neither loopback nor allow-listed`;
}

/** The SDK's in-memory config store, refusing targets off the loopback / allow-list and past the per-task bound. */
export class GuardedPushStore extends InMemoryPushNotificationStore {
  constructor(
    private readonly allowList: readonly string[],
    private readonly maxPerTask: number,
  ) {
    super(() => 'a2a');
  }

  override async save(taskId: string, context: ServerCallContext, config: TaskPushNotificationConfig): Promise<void> {
    const refusal = pushTargetRefusal(config.url, this.allowList);
    if (refusal !== null) throw new RequestMalformedError(refusal);
    const existing = await this.load(taskId, context);
    if (existing.length >= this.maxPerTask && !existing.some((c) => c.id === config.id && config.id !== '')) {
      throw new RequestMalformedError(`task ${taskId} already has ${this.maxPerTask} push notification configs`);
    }
    return super.save(taskId, context, config);
  }
}

/**
 * Pushes the current task, as A2A JSON, to each of its configs on every state transition:
 * fire-and-forget, one attempt, bounded by `timeoutMs`. The config's token travels in
 * `X-A2A-Notification-Token`.
 */
export class TaskPushSender implements PushNotificationSender {
  constructor(
    private readonly store: GuardedPushStore,
    private readonly loadTask: (taskId: string) => Task | undefined,
    private readonly options: { timeoutMs: number; allowList: readonly string[]; logger: Logger },
  ) {}

  async send(response: StreamResponse, context: ServerCallContext, task?: Task): Promise<void> {
    const p = response.payload;
    if (p === undefined || p.$case === 'message' || p.$case === 'artifactUpdate') return;
    const taskId = p.$case === 'task' ? p.value.id : p.value.taskId;
    const configs = await this.store.load(taskId, context);
    if (configs.length === 0) return;
    const current = this.loadTask(taskId) ?? task;
    if (current === undefined) return;
    const body = JSON.stringify(Task.toJSON(current));
    for (const config of configs) void this.post(config, body);
  }

  private async post(config: TaskPushNotificationConfig, body: string): Promise<void> {
    // Checked again at delivery: the allow-list may have been narrowed since the config was saved.
    if (pushTargetRefusal(config.url, this.options.allowList) !== null) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.token !== '') headers['x-a2a-notification-token'] = config.token;
    const auth = config.authentication;
    if (auth !== undefined && auth.credentials !== '') headers.authorization = `${auth.scheme || 'Bearer'} ${auth.credentials}`;
    try {
      const res = await fetch(config.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs) });
      await res.body?.cancel();
    } catch (err) {
      this.options.logger.debug({ err, url: config.url }, 'A2A push notification failed');
    }
  }
}

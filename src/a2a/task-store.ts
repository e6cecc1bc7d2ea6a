import type { ListTasksRequest, ListTasksResponse, Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { CarError } from '../util/errors.js';
import { isTerminal } from './parts.js';

const DEFAULT_PAGE_SIZE = 50;

/**
 * The tasks of one A2A listener, shared by every caller (one runtime per listener), at most
 * `maxTasks` of them: a new task pushes out the oldest finished one, and is refused when every
 * stored task is still running.
 */
export class BoundedTaskStore implements TaskStore {
  /** Insertion order is age order. */
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly maxTasks: number) {}

  get size(): number {
    return this.tasks.size;
  }

  async load(taskId: string, _context?: ServerCallContext): Promise<Task | undefined> {
    const task = this.tasks.get(taskId);
    return task === undefined ? undefined : structuredClone(task);
  }

  /** The stored task itself (read only), for the in-process readers that need no copy. */
  peek(taskId: string): Task | undefined {
    return this.tasks.get(taskId);
  }

  async save(task: Task, _context?: ServerCallContext): Promise<void> {
    if (!this.tasks.has(task.id) && this.tasks.size >= this.maxTasks) this.evictOne();
    this.tasks.set(task.id, structuredClone(task));
  }

  private evictOne(): void {
    for (const [id, t] of this.tasks) {
      if (isTerminal(t.status?.state)) {
        this.tasks.delete(id);
        return;
      }
    }
    throw new CarError('limit', `the A2A task store holds ${this.maxTasks} unfinished tasks; try again when one finishes`, {
      limit: this.maxTasks,
    });
  }

  async list(params: ListTasksRequest, _context?: ServerCallContext): Promise<ListTasksResponse> {
    const pageSize = params.pageSize ?? DEFAULT_PAGE_SIZE;
    let tasks = [...this.tasks.values()];
    if (params.contextId) tasks = tasks.filter((t) => t.contextId === params.contextId);
    if (params.status !== undefined && params.status !== 0) tasks = tasks.filter((t) => t.status?.state === params.status);
    if (params.statusTimestampAfter) {
      const after = Date.parse(params.statusTimestampAfter);
      tasks = tasks.filter((t) => t.status?.timestamp !== undefined && Date.parse(t.status.timestamp) > after);
    }
    // Newest first; the page token is the offset into this order.
    tasks.reverse();
    const totalSize = tasks.length;
    const offset = params.pageToken ? Number.parseInt(params.pageToken, 10) || 0 : 0;
    const page = tasks.slice(offset, offset + pageSize).map((t) => {
      const copy = structuredClone(t);
      if (params.includeArtifacts !== true) copy.artifacts = [];
      return copy;
    });
    const next = offset + page.length;
    return { tasks: page, nextPageToken: next < totalSize ? String(next) : '', pageSize, totalSize };
  }
}

import type { Action } from '../../ir.js';
import type { ToolDefinition } from '../../tool-registry.js';
import { outputRef } from '../model.js';
import { schemaViolations } from '../schema.js';
import { issue, type CheckRun } from './check.js';

/** Checks of each action on its own: its tool, its parameters and the outputs it refers to. */

function describeTool(action: Action): string {
  return `tool '${action.tool ?? ''}'`;
}

/** Tool calls (and tool compensations) naming a tool this session has not registered. */
export function unknownTools(actions: readonly Action[], tools?: (name: string) => ToolDefinition | undefined): CheckRun {
  if (!tools) return { name: 'unknown_tools', ran: false, issues: [], note: 'no tool registry was given' };
  const issues = [];
  for (const a of actions) {
    if (a.type === 'tool_call' && a.tool !== undefined && tools(a.tool) === undefined) {
      issues.push(issue(a.id, 'error', `${describeTool(a)} is not registered`));
    }
    if (a.compensation?.type === 'tool' && tools(a.compensation.tool) === undefined) {
      issues.push(issue(a.id, 'warning', `compensation tool '${a.compensation.tool}' is not registered`));
    }
  }
  return { name: 'unknown_tools', ran: true, issues };
}

/** Tool call parameters against the registered tool's parameter schema. */
export function parameterSchemas(actions: readonly Action[], tools?: (name: string) => ToolDefinition | undefined): CheckRun {
  if (!tools) return { name: 'parameter_schemas', ran: false, issues: [], note: 'no tool registry was given' };
  const issues = [];
  for (const a of actions) {
    if (a.type !== 'tool_call' || a.tool === undefined) continue;
    const def = tools(a.tool);
    if (!def) continue;
    for (const v of schemaViolations(a.parameters, def.parameters)) {
      issues.push(issue(a.id, 'error', `${v.path} ${v.message} (schema of ${describeTool(a)})`));
    }
  }
  return { name: 'parameter_schemas', ran: true, issues };
}

function collectRefs(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 64) return;
  const ref = outputRef(value);
  if (ref !== undefined) out.add(ref);
  else if (Array.isArray(value)) for (const v of value) collectRefs(v, out, depth + 1);
  else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) collectRefs(v, out, depth + 1);
  }
}

/**
 * `$<id>.output` references: the id must be another action of the proposal, and that action must
 * be able to finish first. Only a level at or after the referring action's own level is flagged:
 * an earlier level is necessary but not sufficient for ordering, so this check never cries wolf.
 */
export function outputReferences(actions: readonly Action[], levelOf: ReadonlyMap<string, number>): CheckRun {
  const ids = new Set(actions.map((a) => a.id));
  const issues = [];
  for (const a of actions) {
    const refs = new Set<string>();
    collectRefs(a.parameters, refs);
    for (const k of Object.keys(a.expected_effects)) collectRefs(a.expected_effects[k], refs);
    for (const ref of refs) {
      if (!ids.has(ref)) {
        issues.push(issue(a.id, 'warning', `refers to '$${ref}.output' but the proposal has no action '${ref}'`));
      } else if (ref === a.id) {
        issues.push(issue(a.id, 'warning', `refers to its own output '$${ref}.output'`));
      } else {
        const mine = levelOf.get(a.id);
        const theirs = levelOf.get(ref);
        if (mine !== undefined && theirs !== undefined && theirs >= mine) {
          issues.push(
            issue(a.id, 'warning', `refers to '$${ref}.output' but is not ordered after '${ref}' (add it to dependencies)`),
          );
        }
      }
    }
  }
  return { name: 'output_references', ran: true, issues };
}

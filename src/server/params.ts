import type { z } from 'zod';

/** The dotted path of the first bad field, or undefined when the params as a whole are wrong. */
export function paramsErrorField(error: z.ZodError): string | undefined {
  const issue = error.issues[0];
  return issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
}

/** One line naming the first bad field, e.g. `key is required` or `tenant_id: expected string`. */
export function formatParamsError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'params are invalid';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : 'params';
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `${path} is required`;
  const message = issue.message.replace(/^Invalid input: /, '');
  return `${path}: ${message}`;
}

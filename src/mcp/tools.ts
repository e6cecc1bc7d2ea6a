import { memoryTools } from './tools-memory.js';
import { skillTools } from './tools-skills.js';
import { policyCheckTool } from './tools-policy.js';
import type { McpTool } from './tool.js';
import { verifyTools } from './tools-verify.js';

/** The tools both transports serve (the daemon adds its own on top). */
export function sharedTools(): McpTool[] {
  return [...memoryTools, ...skillTools, ...verifyTools, policyCheckTool];
}

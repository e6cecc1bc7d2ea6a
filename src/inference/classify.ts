import type { GenerateRequest } from './types.js';

export interface Classification {
  label: string;
  score: number;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Sharpness of the softmax over cosine similarities. */
const TEMPERATURE = 10;

/** `vectors[0]` is the text, the rest the labels in order: a softmax over cosine similarity, best first. */
export function classifyByEmbedding(labels: string[], vectors: number[][]): Classification[] {
  const text = vectors[0] ?? [];
  const sims = labels.map((_, i) => cosine(text, vectors[i + 1] ?? []));
  const max = Math.max(...sims);
  const exps = sims.map((s) => Math.exp((s - max) * TEMPERATURE));
  const sum = exps.reduce((a, b) => a + b, 0);
  return labels.map((label, i) => ({ label, score: exps[i]! / sum })).sort((a, b) => b.score - a.score);
}

export function classifyPrompt(text: string, labels: string[]): GenerateRequest {
  return {
    system: 'You are a text classifier. Answer with exactly one label from the list and nothing else.',
    messages: [{ role: 'user', content: `Labels: ${labels.map((l) => JSON.stringify(l)).join(', ')}\n\nText:\n${text}` }],
    max_tokens: 32,
    temperature: 0,
  };
}

/** The label the model answered gets 1, the others 0; an answer naming none spreads the score evenly. */
export function pickLabel(labels: string[], answer: string): Classification[] {
  const a = answer.trim().toLowerCase().replace(/^["'`]|["'`.]$/g, '');
  const exact = labels.find((l) => l.toLowerCase() === a);
  const found = exact ?? labels.find((l) => a.includes(l.toLowerCase()));
  if (found === undefined) return labels.map((label) => ({ label, score: 1 / labels.length }));
  return [{ label: found, score: 1 }, ...labels.filter((l) => l !== found).map((label) => ({ label, score: 0 }))];
}

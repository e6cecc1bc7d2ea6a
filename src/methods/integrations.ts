import { z } from 'zod';
import { OcrService } from '../vision/ocr.js';
import { defineMethod, type MethodSpec } from '../contract/index.js';

/** The macOS/Windows integrations answered with their reference result shape (the approval gate still applies). */

export const messagesSend = defineMethod({
  name: 'messages.send',
  summary: 'Send a message through the host Messages app; this daemon has none, so the answer is {available: false, sent: false} with the reason.',
  params: z.object({ recipient: z.string().max(1024).optional(), body: z.string().max(1024 * 1024).optional(), service_id: z.string().max(1024).optional() }).loose(),
  handler: () => ({
    available: false,
    backend: null,
    reason: `no Messages backend on this platform (${process.platform}): messages.send is a macOS integration`,
    sent: false,
  }),
});

export const visionOcr = defineMethod({
  name: 'vision.ocr',
  summary:
    'Recognise text in an image with Tesseract: line observations {text, confidence, x, y, w, h}, boxes in [0, 1] from the bottom left. {available: false, observations: []} when no backend is installed.',
  params: z.object({
    image_path: z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'must not contain NUL'),
    fast_path: z.boolean().optional(),
    languages: z.array(z.string().min(1).max(32)).max(16).optional(),
    language_correction: z.boolean().optional(),
    minimum_text_height: z.number().optional(),
  }),
  handler: (p, ctx) =>
    new OcrService({
      program: ctx.state.config.ocrProgram,
      timeoutMs: ctx.state.config.ocrTimeoutMs,
      maxOutputBytes: ctx.state.config.ocrMaxOutputBytes,
    }).recognize({ image_path: p.image_path, languages: p.languages, signal: ctx.signal }),
});

export const integrationMethods: MethodSpec[] = [messagesSend, visionOcr];

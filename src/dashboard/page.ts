import { createHash } from 'node:crypto';
import { DASHBOARD_SCRIPT } from './script.js';

const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: #888; --accent: #2563eb; --ok: #15803d; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 16px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 16px; margin: 0; }
#status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #8882; }
#status.live { background: #15803d33; }
#status.down { background: #b91c1c33; }
#identity { color: var(--muted); font-size: 12px; margin-left: auto; }
#error { display: none; margin: 8px 16px; padding: 8px; border: 1px solid var(--bad); border-radius: 4px; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; padding: 12px 16px; }
section { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; min-width: 0; }
section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; margin: 0 0 6px; color: var(--muted); }
section h2 .count { font-weight: normal; }
#approvals-section { grid-column: 1 / -1; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 3px 6px; border-top: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; font-size: 12px; border-top: none; }
td.details { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; max-width: 480px; }
.empty { color: var(--muted); font-style: italic; }
td.actions { white-space: nowrap; }
button { font: inherit; padding: 2px 10px; border-radius: 4px; border: 1px solid var(--line); cursor: pointer; margin-right: 4px; }
button.approve { background: var(--ok); color: #fff; border-color: var(--ok); }
button.deny { background: var(--bad); color: #fff; border-color: var(--bad); }
button:disabled { opacity: .5; cursor: default; }
#events { max-height: 420px; overflow: auto; }
.kind { font-family: ui-monospace, monospace; font-size: 12px; }
.muted { color: var(--muted); }
#surfaces-section { grid-column: 1 / -1; }
.surface { border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; margin-bottom: 8px; }
.surface-head { font-size: 12px; margin-bottom: 4px; }
.a2ui-row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.a2ui-column, .a2ui-list { display: flex; flex-direction: column; gap: 4px; }
.a2ui-card, .a2ui-tab { border: 1px solid var(--line); border-radius: 4px; padding: 4px 6px; }
.a2ui-missing { color: var(--bad); font-size: 12px; }
`;

const BODY = `
<header>
  <h1>CAR daemon</h1>
  <span id="status">connecting…</span>
  <span id="identity"></span>
</header>
<div id="error" role="alert"></div>
<main>
  <section id="approvals-section"><h2>Pending approvals <span class="count" id="approvals-count"></span></h2><div id="approvals"></div></section>
  <section><h2>Agents <span class="count" id="agents-count"></span></h2><div id="agents"></div></section>
  <section><h2>Supervised agents <span class="count" id="supervised-count"></span></h2><div id="supervised"></div></section>
  <section><h2>Chat sessions <span class="count" id="chats-count"></span></h2><div id="chats"></div></section>
  <section><h2>Devices <span class="count" id="devices-count"></span></h2><div id="devices"></div></section>
  <section><h2>Sessions <span class="count" id="sessions-count"></span></h2><div id="sessions"></div></section>
  <section><h2>Events <span class="count" id="events-count"></span></h2><div id="events"></div></section>
  <section id="surfaces-section"><h2>A2UI surfaces (read-only) <span class="count" id="surfaces-count"></span></h2><div id="surfaces"></div></section>
</main>
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The whole page: no external assets, no build step. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>CAR dashboard</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

/**
 * Only the page's own inline script and style run, and it may only open sockets to 127.0.0.1 or
 * localhost (CSP cannot name IPv6 literals): a `?ws=` override pointing elsewhere cannot carry the
 * token off the machine.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hash(DASHBOARD_SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

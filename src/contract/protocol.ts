/** The wire protocol version this daemon speaks; `server.handshake` requires an exact match. */
export const PROTOCOL_VERSION = 2;

/** The macOS/Windows integrations the approval gate covers by default. */
export const DEFAULT_GATED_METHODS: readonly string[] = [
  'automation.run_applescript',
  'automation.run_powershell',
  'automation.shortcuts.run',
  'messages.send',
  'mail.send',
  'vision.ocr',
];

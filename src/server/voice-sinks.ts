import type { VoiceEvent, VoiceEventSink } from '../voice/types.js';
import type { ServerChannel } from './channel.js';

/**
 * A voice stream's events as `voice.event {session_id, event}` notifications, and its audio as
 * binary frames, to the one connection that started the stream.
 */
export class WsVoiceEventSink implements VoiceEventSink {
  constructor(readonly channel: ServerChannel) {}

  send(sessionId: string, event: VoiceEvent): void {
    this.channel.notify('voice.event', { session_id: sessionId, event });
  }

  sendFrame(frame: Uint8Array): boolean {
    return this.channel.sendBinary(frame);
  }
}

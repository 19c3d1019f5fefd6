// After a reconnection: events sent while the WebSocket was away are lost, so every live
// call is checked against Asterisk. A channel that is gone ends its flow; a playback whose
// PlaybackFinished was lost is finished; channels that entered the application during the
// gap (their StasisStart was lost too) are reported for adoption.
import type { Logger } from '../flow/ports.js';
import type { AriCall } from './ari-call.js';
import { channelsInApplication } from './app-channels.js';
import type { AriRest } from './rest.js';

export interface ReconcileResult {
  readonly checked: number;
  readonly ended: number;
  readonly playbacksFinished: number;
  /** Channels in the application that no call runs. */
  readonly unknown: readonly string[];
}

export async function reconcile(app: string, rest: AriRest, calls: readonly AriCall[], log: Logger): Promise<ReconcileResult> {
  // Calls that start after the listing are not in it: only the calls known before are checked.
  const known = new Set(calls.map((call) => call.channelId));
  let present: Set<string> | undefined;
  try {
    present = new Set(await channelsInApplication(app, rest, log));
  } catch (error) {
    log.warn({ err: error }, 'cannot list the application channels; checking each call');
  }
  let ended = 0;
  let playbacksFinished = 0;
  await Promise.all(
    calls.map(async (call) => {
      if (call.ended.aborted) return;
      if (!(await isPresent(call.channelId, present, rest))) {
        ended += 1;
        call.end('the channel went away while ARI was disconnected');
        return;
      }
      for (const playbackId of call.pendingPlaybacks) {
        // An error leaves the playback waiting: its event or the call's end settles it.
        const exists = await rest.playbackExists(playbackId).catch(() => true);
        if (!exists) {
          playbacksFinished += 1;
          call.finishPlayback(playbackId, 'done');
        }
      }
    }),
  );
  const unknown = present === undefined ? [] : [...present].filter((id) => !known.has(id));
  return { checked: calls.length, ended, playbacksFinished, unknown };
}

async function isPresent(channelId: string, present: Set<string> | undefined, rest: AriRest): Promise<boolean> {
  if (present !== undefined) return present.has(channelId);
  try {
    return (await rest.getChannel(channelId)) !== undefined;
  } catch {
    return true; // cannot tell: keep the call; its own requests will find out
  }
}

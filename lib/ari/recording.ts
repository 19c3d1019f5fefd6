// `<Record>` on one ARI channel: a beep, `POST /channels/{id}/record` (WAV) under a name
// unique to the call, then RecordingStarted … RecordingFinished; the recording counts
// once Asterisk lists it under /recordings/stored. What Asterisk 22 does (measured, see
// test/support/fake-ari/README.md): `duration` is the seconds of audio the channel sent
// (0, with a header-only WAV, when it sent none); a hang-up ends the recording with
// RecordingFinished and keeps the file; `beep=true` needs the `beep` sound file, and
// without it the recording ends at once with nothing stored — so the engine plays its own
// beep (a tone) instead.
import { CallEndedError, VerbFailure } from '../flow/failure.js';
import type { Logger, Recording, RecordOptions } from '../flow/ports.js';
import { AriNotFoundError, AriRequestError } from './errors.js';
import type { AriEvent, RecordingSnapshot } from './events.js';
import type { AriRest, RecordRequest } from './rest.js';
import { ariVerbFailure } from './verb-failure.js';

/** The media ARI plays for a stored recording. */
export function recordingUri(name: string): string {
  return `recording:${name}`;
}

/**
 * A recording's name: the call's UUID and the tag, every character of the tag outside
 * `[A-Za-z0-9-]` written `_<hex>_` (so different tags never share a file, and no tag
 * reaches outside Asterisk's recording directory). An untagged recording is
 * `<call>_<n>`: `_` never follows the UUID of a tagged one.
 */
export function recordingName(call: string, tag: string | undefined, sequence: number): string {
  if (tag === undefined) return `${call}_${sequence}`;
  const encoded = [...tag].map((c) => (/^[A-Za-z0-9-]$/.test(c) ? c : `_${(c.codePointAt(0) ?? 0).toString(16)}_`)).join('');
  return `${call}-${encoded}`;
}

/** Names the recordings of the http role accepts: those recordingName makes. */
export const RECORDING_NAME = /^[A-Za-z0-9_-]{1,240}$/;

/** What the recorder needs of its call. */
export interface RecorderHost {
  readonly channelId: string;
  /** The call's UUID. */
  readonly call: string;
  readonly ended: AbortSignal;
  readonly rest: AriRest;
  readonly log: Logger;
  /** Plays the beep and resolves when it is over. */
  beep(): Promise<void>;
  /** Makes `listener` the one that hears the caller's keys; returns its release. */
  listen(listener: (digit: string) => void): () => void;
  /** The channel is gone (a 404 on it): end the call. */
  channelGone(): void;
}

/** Extra time, past the recording's own limit, before a recording whose end was never reported is given up. */
const FINISH_GRACE_MS = 10_000;

interface Watch {
  started(): void;
  ended(event: AriEvent): void;
}

type Finish = { readonly kind: 'event'; readonly type: string; readonly recording: RecordingSnapshot } | { readonly kind: 'lost' } | { readonly kind: 'call-ended' };

export class ChannelRecorder {
  private readonly watches = new Map<string, Watch>();
  private untagged = 0;

  constructor(private readonly host: RecorderHost) {}

  /** A Recording* event of this channel. */
  handle(event: AriEvent): void {
    const name = event.recording?.name;
    const watch = name === undefined ? undefined : this.watches.get(name);
    if (watch === undefined) return;
    if (event.type === 'RecordingStarted') watch.started();
    else if (event.type === 'RecordingFinished' || event.type === 'RecordingFailed') watch.ended(event);
  }

  async record(opts: RecordOptions): Promise<Recording> {
    const { host } = this;
    if (host.ended.aborted) throw new CallEndedError();
    if (opts.tag === undefined) this.untagged += 1;
    const name = recordingName(host.call, opts.tag, this.untagged);
    if (opts.beep) await host.beep();
    const maxDurationSeconds = Math.max(1, Math.ceil(opts.maxMs / 1000));
    const terminateOn = opts.stopOnDigits === '#' || opts.stopOnDigits === '*' ? opts.stopOnDigits : 'none';
    const request: RecordRequest = { name, format: 'wav', maxDurationSeconds, terminateOn, ifExists: 'overwrite', beep: false };

    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    let finish: (value: Finish) => void = () => undefined;
    const finished = new Promise<Finish>((resolve) => (finish = resolve));
    this.watches.set(name, {
      started: markStarted,
      ended: (event) => {
        markStarted();
        if (event.recording) finish({ kind: 'event', type: event.type, recording: event.recording });
      },
    });
    const onEnded = (): void => finish({ kind: 'call-ended' });
    host.ended.addEventListener('abort', onEnded, { once: true });
    const deadline = setTimeout(() => finish({ kind: 'lost' }), opts.maxMs + FINISH_GRACE_MS);
    // Keys other than what ARI's terminateOn takes: the engine stops the recording itself.
    const ownKeys = terminateOn === 'none' ? opts.stopOnDigits : '';
    const release = ownKeys === '' ? () => undefined : host.listen((digit) => {
      if (ownKeys.includes(digit)) void this.stop(name);
    });
    let during: Promise<void> | undefined;
    try {
      try {
        await host.rest.record(host.channelId, request);
      } catch (error) {
        throw this.requestFailure(error, name);
      }
      host.log.debug({ channel: host.channelId, recording: name, maxDurationSeconds, terminateOn }, 'recording requested');
      if (opts.during) {
        const first = await Promise.race([started.then(() => 'started' as const), finished]);
        if (first === 'started') {
          during = opts.during().catch((error: unknown) => host.log.error({ err: error, recording: name }, 'the children of <Record> failed'));
          const end = await Promise.race([during.then(() => undefined), finished]);
          // The children ended first: stop recording (what was recorded is kept).
          if (end === undefined) await this.stop(name);
        }
      }
      const end = await finished;
      if (during) await during;
      return await this.outcome(name, end);
    } finally {
      release();
      clearTimeout(deadline);
      host.ended.removeEventListener('abort', onEnded);
      this.watches.delete(name);
    }
  }

  /** Stops a live recording; a failure is logged (the recording's own limit still ends it). */
  private async stop(name: string): Promise<void> {
    try {
      await this.host.rest.stopRecording(name);
    } catch (error) {
      this.host.log.warn({ err: error, recording: name }, 'could not stop a recording');
    }
  }

  private async outcome(name: string, end: Finish): Promise<Recording> {
    const { host } = this;
    if (end.kind === 'call-ended') {
      // Asterisk ends a recording when its channel hangs up; if the channel only left the
      // application, stop it here so that nothing stays live.
      void this.stop(name);
      throw new CallEndedError();
    }
    if (end.kind === 'lost') {
      host.log.warn({ recording: name }, 'the end of a recording was never reported; stopping it');
      await this.stop(name);
    } else if (end.type === 'RecordingFailed') {
      host.log.warn({ recording: name, cause: end.recording.cause }, 'Asterisk could not record the call');
      throw new VerbFailure('recording', 'the call could not be recorded');
    } else if (end.recording.state === 'canceled') {
      throw new VerbFailure('recording', 'the recording was cancelled');
    }
    let stored: boolean;
    try {
      stored = await host.rest.storedRecordingExists(name);
    } catch (error) {
      throw this.requestFailure(error, name);
    }
    if (host.ended.aborted && !stored) throw new CallEndedError();
    if (!stored) {
      host.log.warn({ recording: name }, 'the recording ended with nothing stored');
      throw new VerbFailure('recording', 'nothing was recorded');
    }
    const durationSeconds = end.kind === 'event' ? (end.recording.duration ?? 0) : 0;
    return { name, durationSeconds, media: { kind: 'sound', uri: recordingUri(name), description: `recording ${name}` } };
  }

  private requestFailure(error: unknown, name: string): unknown {
    if (error instanceof AriNotFoundError && error.channelGone) {
      this.host.channelGone();
      return new CallEndedError();
    }
    if (!(error instanceof AriRequestError)) return error;
    this.host.log.warn({ channel: this.host.channelId, recording: name, err: error }, 'recording request failed');
    return ariVerbFailure(error);
  }
}

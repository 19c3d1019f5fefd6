// Stored recordings' files, streamed from ARI (`GET /ari/recordings/stored/{name}/file`)
// with plain HTTP: ari-client would buffer and decode the body.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AriRequestError, AriTimeoutError } from './errors.js';

export interface RecordingFile {
  readonly contentType: string;
  readonly length?: number;
  readonly body: Readable;
}

/** Where the http role gets a recording's file. */
export interface RecordingFileSource {
  /** The file, or undefined when Asterisk has no recording of that name. @throws AriRequestError */
  open(name: string, signal: AbortSignal): Promise<RecordingFile | undefined>;
}

export interface AriRecordingFilesOptions {
  /** `http(s)://host:port` (ARI under /ari). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Limit for Asterisk to start answering (the body then streams as fast as the client reads). */
  readonly timeoutMs: number;
}

export class AriRecordingFiles implements RecordingFileSource {
  constructor(private readonly options: AriRecordingFilesOptions) {}

  async open(name: string, signal: AbortSignal): Promise<RecordingFile | undefined> {
    const { url, username, password, timeoutMs } = this.options;
    const operation = `get the file of stored recording ${name}`;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${url}/ari/recordings/stored/${encodeURIComponent(name)}/file`, {
        headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
        signal: controller.signal,
      });
    } catch (error) {
      signal.removeEventListener('abort', abort);
      if (timedOut) throw new AriTimeoutError(operation, timeoutMs);
      throw new AriRequestError(operation, error instanceof Error ? error.message : String(error), undefined, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const done = (): void => signal.removeEventListener('abort', abort);
    if (response.status === 404) {
      done();
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok || response.body === null) {
      done();
      await response.body?.cancel();
      throw new AriRequestError(operation, `Asterisk answered ${response.status}`, response.status);
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    body.once('close', done);
    return { contentType: response.headers.get('content-type') ?? 'audio/wav', ...(Number.isFinite(length) ? { length } : {}), body };
  }
}

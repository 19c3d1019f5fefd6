// The ARI connection: loads the API with ari-client, opens the application's event
// WebSocket, and keeps it open: when Asterisk restarts or the socket drops it reconnects
// forever, with capped, jittered exponential backoff. Each state change is logged once.
// The events are read from that socket as they come (JSON, parseEvent) and the REST
// requests go through our own HTTP client: ari-client's per-event and per-request model
// building was most of the engine's work under a burst of calls.
import client, { type Client } from 'ari-client';
import type { Logger } from '../flow/ports.js';
import type { Metrics } from '../metrics/metrics.js';
import { backoffDelay, RECONNECT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { disownReconnect, socketOf, takeMessages, type ClientSocket } from './client-internals.js';
import { AriRequestError } from './errors.js';
import { parseEvent, type AriEvent } from './events.js';
import { AriHttp } from './http-client.js';
import { ClientRest, type AriRest } from './rest.js';
import { withoutSwaggerNotice } from './swagger-notice.js';
import { timed } from './timed.js';

export type ConnectionState = 'connecting' | 'connected' | 'stopped';

/**
 * REST connections to Asterisk's HTTP server at once (kept open between requests).
 * Asterisk serves at most `sessionlimit` (http.conf, default 100) and refuses the rest;
 * past this many, requests wait for a free connection. Raise it (ARI_MAX_CONNECTIONS)
 * together with `sessionlimit`.
 */
export const ARI_MAX_SOCKETS = 50;

export interface AriConnectionOptions {
  /** `http(s)://host:port` */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly app: string;
  readonly requestTimeoutMs: number;
  /** HTTP connections to Asterisk at once (default ARI_MAX_SOCKETS). */
  readonly maxSockets?: number;
  readonly backoff?: BackoffPolicy;
  /** A socket that has not answered a ping within this interval is dropped. Default 10 s. */
  readonly pingIntervalMs?: number;
  /** Counts reconnections and ARI requests, and shows whether the socket is open. */
  readonly metrics?: Metrics;
}

export interface ConnectionListener {
  event(event: AriEvent): void;
  /** The socket is open; `reconnected` is false the first time only. */
  connected(reconnected: boolean): void;
}

class SocketClosed extends Error {
  readonly code = 'ari_socket_closed';
}

export class AriConnection {
  readonly rest: AriRest;
  private readonly clientRest: ClientRest;
  private client: Client | undefined;
  /** Made when the API first loads: requests before that fail as not connected. */
  private http: AriHttp | undefined;
  private socket: ClientSocket | undefined;
  private current: ConnectionState = 'connecting';
  private stopped = false;
  private everConnected = false;
  private cancelWait: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private listener: ConnectionListener = { event: () => undefined, connected: () => undefined };
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();

  constructor(
    private readonly options: AriConnectionOptions,
    private readonly log: Logger,
  ) {
    this.clientRest = new ClientRest(() => this.http, options.metrics);
    this.rest = this.clientRest;
  }

  /** ARI REST requests sent or waiting for a connection, not yet answered nor timed out. */
  get requestsInFlight(): number {
    return this.clientRest.inFlight;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Calls `listener` on each state change; returns its removal. */
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Resolves when the connection is in `state` (at once if it is). */
  whenState(state: ConnectionState): Promise<void> {
    if (this.current === state) return Promise.resolve();
    return new Promise((resolve) => {
      const remove = this.onStateChange((now) => {
        if (now !== state) return;
        remove();
        resolve();
      });
    });
  }

  private setState(state: ConnectionState): void {
    if (this.current === state) return;
    this.current = state;
    this.options.metrics?.ariConnected.set(state === 'connected' ? 1 : 0);
    for (const listener of [...this.stateListeners]) listener(state);
  }

  /** Starts connecting and delivering events to `listener`; failures are retried and logged. */
  start(listener: ConnectionListener): void {
    if (this.running) return;
    this.listener = listener;
    this.log.info({ url: this.options.url, app: this.options.app }, 'connecting to ARI');
    this.running = this.loop();
  }

  /** Closes the socket and stops reconnecting. */
  async stop(): Promise<void> {
    if (this.stopped) return this.running;
    this.stopped = true;
    this.setState('stopped');
    this.cancelWait?.();
    if (this.client && this.socket) this.client.stop();
    await this.running;
    this.http?.close();
    this.log.info({}, 'ARI connection closed');
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    let failing = false;
    while (!this.stopped) {
      let closed: Promise<string>;
      try {
        ({ closed } = await this.open());
      } catch (error) {
        if (this.stopped) break;
        const delayMs = backoffDelay(attempt, this.options.backoff ?? RECONNECT_BACKOFF);
        attempt += 1;
        // Once per outage at warn; each further try at debug.
        this.log[failing ? 'debug' : 'warn']({ err: error, delayMs }, 'cannot connect to ARI; retrying');
        failing = true;
        await this.wait(delayMs);
        continue;
      }
      attempt = 0;
      failing = false;
      this.setState('connected');
      this.log.info({ url: this.options.url, app: this.options.app }, this.everConnected ? 'ARI reconnected' : 'ARI connected');
      const reconnected = this.everConnected;
      this.everConnected = true;
      if (reconnected) this.options.metrics?.ariReconnects.inc();
      this.listener.connected(reconnected);
      const reason = await closed;
      if (this.stopped) break;
      this.setState('connecting');
      this.log.warn({ reason }, 'ARI WebSocket closed; reconnecting');
      await this.wait(backoffDelay(0, this.options.backoff ?? RECONNECT_BACKOFF));
    }
  }

  /** Loads the API (first time only) and opens the socket; resolves with its close. */
  private async open(): Promise<{ closed: Promise<string> }> {
    const { url, username, password, requestTimeoutMs, maxSockets = ARI_MAX_SOCKETS } = this.options;
    if (this.client === undefined) {
      // Loading the API is a dozen requests (resources.json and each listing). The notice
      // swagger-client prints on stdout is silenced until the load settles, even a late one.
      const loaded = await timed('load the ARI API', requestTimeoutMs * 3, () =>
        withoutSwaggerNotice(() => client.connect(url, username, password)),
      );
      if (this.stopped) throw new SocketClosed('stopped');
      this.client = loaded;
      this.http = new AriHttp({ url, username, password, timeoutMs: requestTimeoutMs, maxSockets });
    }
    return this.openSocket(this.client);
  }

  private openSocket(ari: Client): Promise<{ closed: Promise<string> }> {
    return new Promise((resolve, reject) => {
      const started = ari.start(this.options.app);
      const socket = socketOf(ari);
      if (socket === undefined) {
        reject(new AriRequestError('open the ARI WebSocket', 'ari-client opened no socket'));
        return;
      }
      disownReconnect(ari, socket);
      takeMessages(socket, (data) => this.receive(data));
      this.socket = socket;
      let opened = false;
      let lastError: unknown;
      let onClosed: (reason: string) => void = () => undefined;
      const closed = new Promise<string>((resolveClosed) => {
        onClosed = resolveClosed;
      });
      const openTimer = setTimeout(() => {
        lastError = new AriRequestError('open the ARI WebSocket', `no answer within ${this.options.requestTimeoutMs} ms`);
        socket.terminate();
      }, this.options.requestTimeoutMs);
      const heartbeat = this.heartbeat(socket);
      socket.on('error', (error: unknown) => {
        lastError = error;
      });
      socket.on('close', (code: number) => {
        clearTimeout(openTimer);
        clearInterval(heartbeat);
        if (this.socket === socket) this.socket = undefined;
        if (opened) onClosed(lastError instanceof Error ? lastError.message : `closed with code ${code}`);
        else reject(lastError ?? new SocketClosed(`the ARI WebSocket closed with code ${code} before it opened`));
      });
      // Bluebird: settles when the socket opens; it never rejects here (see disownReconnect).
      started.then(
        () => {
          clearTimeout(openTimer);
          opened = true;
          resolve({ closed });
        },
        () => undefined,
      );
    });
  }

  /** Pings every interval; a socket that did not answer the previous ping is dropped. */
  private heartbeat(socket: ClientSocket): NodeJS.Timeout {
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
    return setInterval(() => {
      if (!answered) {
        this.log.warn({}, 'ARI WebSocket did not answer a ping; dropping it');
        socket.terminate();
        return;
      }
      answered = false;
      if (socket.readyState === 1) socket.ping();
    }, this.options.pingIntervalMs ?? 10_000);
  }

  private receive(data: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      this.log.warn({ bytes: data.length }, 'ARI sent an event that is not JSON; ignored');
      return;
    }
    const event = parseEvent(raw);
    if (event === undefined) return;
    try {
      this.listener.event(event);
    } catch (error) {
      this.log.error({ err: error, type: event.type }, 'ARI event handler failed');
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.cancelWait = done;
    });
  }
}

// The saved state of this process's live calls, in Redis, for resuming them after a
// crash or a deploy (README: "Restart without losing a call").
//
//   <prefix>:call:<channel id>   hash: `owner` (the process's instance id), `state` (SavedCall
//                                JSON), `playback` (the last playback started), `dial` (a
//                                bridged <Dial>); for a dialled leg, `legOf` (its caller's channel)
//   <prefix>:document:<sha-256>  the text of a document a call runs (shared by the calls running it)
//   <prefix>:engine:<instance>   set while the process lives (renewed every second, expires in 3)
//
// Writing never waits: like the call trail, the commands go through a RedisBacklog. A
// process takes a call (claim) only when nobody owns it or its owner is no longer alive,
// in one script, so two processes never resume the same call.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../flow/ports.js';
import type { FlowPosition } from '../flow/progress.js';
import { pipelineWrite, RedisBacklog, type RedisCommand } from '../queue/redis-backlog.js';
import { once } from 'node:events';
import { messageOf, settledWithin, type RedisTarget } from '../queue/redis.js';
import type { FlowDocument } from '../xml/index.js';
import { decodeSavedCall, decodeSavedDial, encodeSavedCall, SavedCallError, type SavedCall, type SavedDial } from './saved-call.js';

/** How long a process is taken for alive after its last heartbeat. */
export const ALIVE_MS = 3000;
const HEARTBEAT_MS = 1000;
/** Commands waiting for Redis, at most. */
const MAX_BACKLOG = 50_000;
const BATCH = 1000;

export interface CallStatesOptions {
  readonly connection: RedisTarget;
  /** QUEUE_PREFIX. */
  readonly prefix: string;
  /** CALL_STATE_TTL, in seconds: how long a call's state outlives its last save. */
  readonly ttlSeconds: number;
  readonly log: Logger;
}

/** Who a call is, as its state names it. */
export type CallIdentity = Pick<SavedCall, 'call' | 'app' | 'channel' | 'did' | 'from'>;

/** What a process finds for a channel of its application that it does not run. */
export type Claim =
  /** Saved by a process that is gone (or by this one): now this process's to resume. */
  | { readonly kind: 'resume'; readonly saved: SavedCall; readonly document: string; readonly playback?: string; readonly dial?: SavedDial }
  /** A leg a `<Dial>` of the call on channel `caller` bridged: that call's to go on with. */
  | { readonly kind: 'leg'; readonly caller: string }
  /** Nothing saved: not a call any process ran, or its state expired or was lost. */
  | { readonly kind: 'none' }
  /** Saved, but not usable (damaged, or its document is missing). */
  | { readonly kind: 'unusable'; readonly reason: string }
  /** Another live process runs it. */
  | { readonly kind: 'busy'; readonly owner: string };

// KEYS[1] the call's hash. ARGV: this instance, the alive-key prefix, the document-key
// prefix, ALIVE_MS, an owner known to be dead (or ''). The alive and document keys are derived here: under a hash-tagged
// QUEUE_PREFIX they share the call's slot, as every key of the engine does. The claimer is
// marked alive first, so that a second claimer sees the call as taken.
const CLAIM = `
redis.call('SET', ARGV[2] .. ARGV[1], '1', 'PX', ARGV[4])
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  local caller = redis.call('HGET', KEYS[1], 'legOf')
  if caller then return {'leg', caller} end
  return {'none'}
end
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] and owner ~= ARGV[5] and redis.call('EXISTS', ARGV[2] .. owner) == 1 then return {'busy', owner} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
local ok, decoded = pcall(cjson.decode, state)
local document = false
if ok and type(decoded) == 'table' and type(decoded.document) == 'string' then
  document = redis.call('GET', ARGV[3] .. decoded.document)
end
return {'claimed', state, document, redis.call('HGET', KEYS[1], 'playback'), redis.call('HGET', KEYS[1], 'dial')}
`;

/** How long a look at Redis's client list is reused. */
const CONNECTED_CACHE_MS = 500;

/** The name of a process's call-state connection, by which others see it alive. */
function connectionNameOf(prefix: string, instance: string): string {
  return `${prefix}:engine:${instance}`;
}

const documentHashes = new WeakMap<FlowDocument, string>();

function hashOf(document: FlowDocument): string {
  let hash = documentHashes.get(document);
  if (hash === undefined) {
    hash = createHash('sha256').update(document.source).digest('hex');
    documentHashes.set(document, hash);
  }
  return hash;
}

export class CallStates {
  /** This process, as the owner of its calls. */
  readonly instance = randomUUID();
  private readonly backlog: RedisBacklog<RedisCommand>;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  /** Documents written lately: hash → when (epoch ms); written again after half the TTL. */
  private readonly documents = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly connectedCache = new Map<string, { readonly at: number; readonly connected: boolean }>();

  constructor(options: CallStatesOptions) {
    this.prefix = options.prefix;
    this.ttlSeconds = options.ttlSeconds;
    const { log } = options;
    this.backlog = new RedisBacklog<RedisCommand>({
      connection: options.connection,
      connectionName: connectionNameOf(options.prefix, this.instance),
      maxItems: MAX_BACKLOG,
      batchSize: BATCH,
      log,
      messages: {
        full: 'call state: backlog full while Redis is away; calls started now cannot be resumed after a restart',
        unreachable: 'call state: Redis is unreachable; keeping the calls’ state in memory until it is back',
        back: 'call state: writing to Redis again',
        lostAtClose: 'call state: Redis did not take the last saved states before shutdown',
      },
      write: pipelineWrite(log, 'call state: Redis refused a write (logged once)'),
    });
    this.client.on('ready', () => this.beat());
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private get client(): Redis {
    return this.backlog.client;
  }

  private callKey(channel: string): string {
    return `${this.prefix}:call:${channel}`;
  }

  private aliveKey(instance: string): string {
    return `${this.prefix}:engine:${instance}`;
  }

  private documentKey(hash: string): string {
    return `${this.prefix}:document:${hash}`;
  }

  /** Saves a call's state; never waits, never throws. */
  save(identity: CallIdentity, position: FlowPosition, extra: { readonly sequence: number; readonly answered: boolean }): void {
    const hash = hashOf(position.document);
    const now = Date.now();
    const commands: RedisCommand[] = [];
    const written = this.documents.get(hash);
    if (written === undefined || now - written > (this.ttlSeconds * 1000) / 2) {
      this.documents.set(hash, now);
      commands.push(['set', this.documentKey(hash), position.document.source, 'EX', this.ttlSeconds]);
      if (this.documents.size > 10_000) this.forgetOldDocuments(now);
    }
    const saved: SavedCall = {
      ...identity,
      document: hash,
      documents: position.documents,
      verb: position.verb,
      fetchSteps: position.fetchSteps,
      recordings: position.recordings,
      answered: extra.answered,
      sequence: extra.sequence,
      savedAt: now,
    };
    const key = this.callKey(identity.channel);
    commands.push(['hset', key, 'owner', this.instance, 'state', encodeSavedCall(saved)], ['expire', key, this.ttlSeconds]);
    this.backlog.push(commands);
  }

  /**
   * A playback started on the channel: whoever resumes the call stops it before playing
   * the cut-off verb again. Never waits, never throws.
   */
  playing(channel: string, playbackId: string): void {
    this.backlog.push([['hset', this.callKey(channel), 'playback', playbackId]]);
  }

  /**
   * A `<Dial>` of the call bridged a leg: whoever resumes the call at that Dial goes on
   * with the bridge, and knows the leg for the call's. Never waits, never throws.
   */
  dialled(channel: string, dial: SavedDial): void {
    const legKey = this.callKey(dial.leg);
    this.backlog.push([
      ['hset', this.callKey(channel), 'dial', JSON.stringify(dial)],
      ['hset', legKey, 'legOf', channel],
      ['expire', legKey, this.ttlSeconds],
    ]);
  }

  /** The call is handed over: another process may take it at once. Never waits, never throws. */
  release(channel: string): void {
    this.backlog.push([['hdel', this.callKey(channel), 'owner']]);
  }

  /** The call is over: its state goes. Never waits, never throws. */
  forget(channel: string): void {
    this.backlog.push([['del', this.callKey(channel)]]);
  }

  /**
   * Takes the channel's saved call for this process, unless a live process owns it.
   * @throws when Redis does not answer within `timeoutMs`.
   */
  async claim(channel: string, timeoutMs: number): Promise<Claim> {
    const signal = AbortSignal.timeout(timeoutMs);
    let reply: unknown[];
    try {
      // The connection queues nothing itself: right after start-up, wait for it.
      if (this.client.status !== 'ready') await once(this.client, 'ready', { signal });
      reply = await this.runClaim(channel, '', signal);
      // A killed process's alive key outlives it by up to ALIVE_MS, but its connection
      // to Redis closed with it: then its calls are taken at once.
      if (reply[0] === 'busy' && !(await this.connected(String(reply[1]), signal))) reply = await this.runClaim(channel, String(reply[1]), signal);
    } catch (error) {
      const why = signal.aborted ? `Redis did not answer within ${timeoutMs} ms` : messageOf(error);
      throw new CallStateUnavailableError(`cannot read the call's saved state: ${why}`, { cause: error });
    }
    const [kind, first, second, playback, dial] = reply;
    if (kind === 'none') return { kind: 'none' };
    if (kind === 'leg') return { kind: 'leg', caller: String(first) };
    if (kind === 'busy') return { kind: 'busy', owner: String(first) };
    let saved: SavedCall;
    try {
      saved = decodeSavedCall(String(first));
    } catch (error) {
      if (error instanceof SavedCallError) return { kind: 'unusable', reason: error.message };
      throw error;
    }
    if (typeof second !== 'string') return { kind: 'unusable', reason: 'the document it was running is no longer kept' };
    const bridged = typeof dial === 'string' ? decodeSavedDial(dial) : undefined;
    return { kind: 'resume', saved, document: second, ...(typeof playback === 'string' ? { playback } : {}), ...(bridged === undefined ? {} : { dial: bridged }) };
  }

  /** The claim script; `dead` names an owner known to be gone, whose alive key is ignored. */
  private async runClaim(channel: string, dead: string, signal: AbortSignal): Promise<unknown[]> {
    const running = this.client.eval(CLAIM, 1, this.callKey(channel), this.instance, this.aliveKey(''), this.documentKey(''), ALIVE_MS, dead);
    const reply = await Promise.race([running, once(signal, 'abort').then(() => Promise.reject(signal.reason))]);
    if (!Array.isArray(reply)) throw new CallStateUnavailableError('unexpected answer from Redis');
    return reply as unknown[];
  }

  /**
   * Whether the process `instance` still has its connection to Redis (named after it).
   * When Redis does not say (CLIENT refused by an ACL), it is taken for connected: its
   * alive key then decides.
   */
  private async connected(instance: string, signal: AbortSignal): Promise<boolean> {
    const name = connectionNameOf(this.prefix, instance);
    const cached = this.connectedCache.get(name);
    if (cached !== undefined && Date.now() - cached.at < CONNECTED_CACHE_MS) return cached.connected;
    let connected = true;
    try {
      const list = await Promise.race([this.client.client('LIST'), once(signal, 'abort').then(() => Promise.reject(signal.reason))]);
      connected = typeof list !== 'string' || list.includes(` name=${name} `);
    } catch (error) {
      if (signal.aborted) throw error;
    }
    this.connectedCache.set(name, { at: Date.now(), connected });
    return connected;
  }

  /** Resolves once the saves so far are in Redis (false if not within `withinMs`). */
  whenWritten(withinMs = 1000): Promise<boolean> {
    return this.backlog.whenWritten(withinMs);
  }

  /**
   * Writes what is pending, then stops the heartbeat and says this process is gone, so
   * that another takes its calls at once rather than after ALIVE_MS.
   */
  async close(withinMs = 1000): Promise<void> {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.backlog.close(withinMs, async () => {
      await settledWithin(this.client.del(this.aliveKey(this.instance)), withinMs).catch(() => false);
    });
  }

  private beat(): void {
    if (this.heartbeat === undefined) return;
    this.client.set(this.aliveKey(this.instance), '1', 'PX', ALIVE_MS).catch((error: unknown) => this.backlog.outage(error));
  }

  private forgetOldDocuments(now: number): void {
    const halfTtl = (this.ttlSeconds * 1000) / 2;
    for (const [hash, at] of this.documents) if (now - at > halfTtl) this.documents.delete(hash);
  }
}

export class CallStateUnavailableError extends Error {
  readonly code = 'call_state_unavailable';
}


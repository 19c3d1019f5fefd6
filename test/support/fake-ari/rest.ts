// The ARI REST routes: URL → Stasis operation → status, reason and JSON body, as
// res/res_ari.c and the res/ari/resource_*.c handlers answer them. Errors are
// `{"message": "..."}` with the handler's status and reason phrase; void operations
// answer 204 without a body; play and record answer 201 Created with a Location.
import { asteriskTime, hangupReasonToCause } from './asterisk-values.js';
import { AriError } from './model/ari-error.js';
import type { Stasis } from './stasis.js';

export interface RestResponse {
  status: number;
  reason: string;
  body?: unknown;
  /** A body that is not JSON (a recording's file). */
  raw?: { readonly contentType: string; readonly data: Buffer };
  headers?: Record<string, string>;
}

export interface RestRequest {
  method: string;
  /** Path below /ari, e.g. `/channels/123/answer`. */
  path: string;
  /** Query parameters merged with the fields of a JSON object body (body wins, as parse_body does). */
  params: Record<string, string>;
  /** A JSON object body's `variables` member, when there is one. */
  variables: Record<string, string> | undefined;
}

type Handler = (stasis: Stasis, params: Record<string, string>, req: RestRequest) => RestResponse | Promise<RestResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const ok = (body: unknown): RestResponse => ({ status: 200, reason: 'OK', body });
const noContent = (): RestResponse => ({ status: 204, reason: 'No Content' });
const created = (location: string, body: unknown): RestResponse => ({ status: 201, reason: 'Created', body, headers: { Location: `/ari${location}` } });

/** Integer parameters are read with atoi() by the generated code: junk reads as 0. */
function int(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number.parseInt(value, 10);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** allowMultiple parameters arrive comma separated. */
function multi(value: string | undefined): string[] {
  if (value === undefined) return [];
  if (value === '') return [''];
  return value.split(',');
}

function route(method: string, path: string, handler: Handler): Route {
  const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, (_m, name: string) => `(?<${name}>[^/]+)`)}$`);
  return { method, pattern, handler };
}

const ROUTES: Route[] = [
  // asterisk
  route('GET', '/asterisk/info', (s) =>
    ok({
      build: { os: 'Linux', kernel: '6.1.0', options: '', machine: 'x86_64', date: '2026-01-01 00:00:00 UTC', user: 'asterisk' },
      system: { version: '22.5.0', entity_id: s.config.asteriskId },
      config: { name: '', default_language: s.config.language, setid: { user: 'asterisk', group: 'asterisk' } },
      status: { startup_time: asteriskTime(s.startedAt), last_reload_time: asteriskTime(s.startedAt) },
    }),
  ),
  route('GET', '/asterisk/ping', (s) => ok({ asterisk_id: s.config.asteriskId, ping: 'pong', timestamp: asteriskTime(new Date()) })),

  // applications
  route('GET', '/applications', (s) => ok(s.applications.applicationsJson())),
  route('GET', '/applications/{applicationName}', (s, p) => {
    const app = s.applications.applicationJson(p.applicationName ?? '');
    if (!app) throw new AriError(404, 'Not Found', 'Application not found');
    return ok(app);
  }),

  // channels
  route('GET', '/channels', (s) => ok(s.channels.listChannels())),
  route('POST', '/channels', (s, _p, r) => ok(s.outbound.originate(originateArgs(r)))),
  route('POST', '/channels/create', (s, _p, r) =>
    ok(
      s.outbound.create({
        endpoint: r.params.endpoint,
        app: r.params.app,
        appArgs: r.params.appArgs,
        channelId: r.params.channelId,
        otherChannelId: r.params.otherChannelId,
        originator: r.params.originator,
        formats: r.params.formats,
        ...(r.variables ? { variables: r.variables } : {}),
      }),
    ),
  ),
  route('GET', '/channels/{channelId}', (s, p) => ok(s.channels.getChannel(p.channelId ?? ''))),
  route('POST', '/channels/{channelId}', (s, p, r) => ok(s.outbound.originate({ ...originateArgs(r), channelId: p.channelId ?? '' }))),
  route('DELETE', '/channels/{channelId}', (s, p, r) => {
    s.channels.deleteChannel(p.channelId ?? '', r.params.reason_code, r.params.reason, hangupReasonToCause);
    return noContent();
  }),
  route('POST', '/channels/{channelId}/continue', (s, p, r) => {
    s.channels.continueInDialplan(p.channelId ?? '', {
      ...(r.params.context ? { context: r.params.context } : {}),
      ...(r.params.extension ? { extension: r.params.extension } : {}),
      ...(r.params.priority ? { priority: int(r.params.priority) ?? 0 } : {}),
    });
    return noContent();
  }),
  route('POST', '/channels/{channelId}/answer', async (s, p) => {
    await s.channels.answer(p.channelId ?? '');
    return noContent();
  }),
  route('POST', '/channels/{channelId}/ring', (s, p) => {
    s.channels.ring(p.channelId ?? '', true);
    return noContent();
  }),
  route('DELETE', '/channels/{channelId}/ring', (s, p) => {
    s.channels.ring(p.channelId ?? '', false);
    return noContent();
  }),
  route('POST', '/channels/{channelId}/dtmf', (s, p, r) => {
    s.channels.sendDtmf(p.channelId ?? '', r.params.dtmf);
    return noContent();
  }),
  route('POST', '/channels/{channelId}/play', (s, p, r) => playResponse(s, p.channelId ?? '', r.params.playbackId, r)),
  route('POST', '/channels/{channelId}/play/{playbackId}', (s, p, r) => playResponse(s, p.channelId ?? '', p.playbackId, r)),
  route('POST', '/channels/{channelId}/record', (s, p, r) => {
    const rec = s.recordings.record(p.channelId ?? '', {
      ...(r.params.name !== undefined ? { name: r.params.name } : {}),
      ...(r.params.format !== undefined ? { format: r.params.format } : {}),
      ...(r.params.maxDurationSeconds !== undefined ? { maxDurationSeconds: int(r.params.maxDurationSeconds) ?? 0 } : {}),
      ...(r.params.maxSilenceSeconds !== undefined ? { maxSilenceSeconds: int(r.params.maxSilenceSeconds) ?? 0 } : {}),
      ...(r.params.ifExists !== undefined ? { ifExists: r.params.ifExists } : {}),
      ...(r.params.beep !== undefined ? { beep: r.params.beep === 'true' } : {}),
      ...(r.params.terminateOn !== undefined ? { terminateOn: r.params.terminateOn } : {}),
    });
    return created(`/recordings/live/${encodeURIComponent(rec.name)}`, rec);
  }),
  route('GET', '/channels/{channelId}/variable', (s, p, r) => ok({ value: s.channels.getVariable(p.channelId ?? '', r.params.variable) })),
  route('POST', '/channels/{channelId}/variable', async (s, p, r) => {
    await s.channels.setVariable(p.channelId ?? '', r.params.variable, r.params.value);
    return noContent();
  }),
  route('POST', '/channels/{channelId}/dial', (s, p, r) => {
    s.outbound.dial(p.channelId ?? '', {
      ...(r.params.caller ? { caller: r.params.caller } : {}),
      ...(r.params.timeout !== undefined ? { timeout: int(r.params.timeout) ?? 0 } : {}),
    });
    return noContent();
  }),

  // playbacks
  route('GET', '/playbacks/{playbackId}', (s, p) => ok(s.playbacks.getPlayback(p.playbackId ?? ''))),
  route('DELETE', '/playbacks/{playbackId}', (s, p) => {
    s.playbacks.stopPlayback(p.playbackId ?? '');
    return noContent();
  }),
  route('POST', '/playbacks/{playbackId}/control', (s, p, r) => {
    s.playbacks.controlPlayback(p.playbackId ?? '', r.params.operation);
    return noContent();
  }),

  // bridges
  route('GET', '/bridges', (s) => ok(s.bridges.listBridges())),
  route('POST', '/bridges', (s, _p, r) =>
    ok(s.bridges.createBridge({ type: r.params.type ?? '', bridgeId: r.params.bridgeId ?? '', name: r.params.name ?? '' })),
  ),
  route('POST', '/bridges/{bridgeId}', (s, p, r) =>
    ok(s.bridges.createBridge({ type: r.params.type ?? '', bridgeId: p.bridgeId ?? '', name: r.params.name ?? '' })),
  ),
  route('GET', '/bridges/{bridgeId}', (s, p) => ok(s.bridges.getBridge(p.bridgeId ?? ''))),
  route('DELETE', '/bridges/{bridgeId}', (s, p) => {
    s.bridges.destroyBridge(p.bridgeId ?? '');
    return noContent();
  }),
  route('POST', '/bridges/{bridgeId}/addChannel', async (s, p, r) => {
    await s.bridges.addToBridge(p.bridgeId ?? '', multi(r.params.channel));
    return noContent();
  }),
  route('POST', '/bridges/{bridgeId}/removeChannel', async (s, p, r) => {
    await s.bridges.removeFromBridge(p.bridgeId ?? '', multi(r.params.channel));
    return noContent();
  }),

  // recordings
  route('GET', '/recordings/stored', (s) => ok([...s.recordings.stored.values()])),
  route('GET', '/recordings/stored/{recordingName}', (s, p) => ok(s.recordings.getStoredRecording(p.recordingName ?? ''))),
  route('GET', '/recordings/stored/{recordingName}/file', (s, p) => ({
    status: 200,
    reason: 'OK',
    raw: { contentType: 'audio/wav', data: s.recordings.storedRecordingFile(p.recordingName ?? '') },
  })),
  route('DELETE', '/recordings/stored/{recordingName}', (s, p) => {
    s.recordings.deleteStoredRecording(p.recordingName ?? '');
    return noContent();
  }),
  route('GET', '/recordings/live/{recordingName}', (s, p) => ok(s.recordings.getLiveRecording(p.recordingName ?? ''))),
  route('DELETE', '/recordings/live/{recordingName}', (s, p) => {
    s.recordings.controlRecording(p.recordingName ?? '', 'cancel');
    return noContent();
  }),
  route('POST', '/recordings/live/{recordingName}/stop', (s, p) => {
    s.recordings.controlRecording(p.recordingName ?? '', 'stop');
    return noContent();
  }),
];

function originateArgs(r: RestRequest): Parameters<Stasis['outbound']['originate']>[0] {
  const p = r.params;
  return {
    ...(p.endpoint !== undefined ? { endpoint: p.endpoint } : {}),
    ...(p.app !== undefined ? { app: p.app } : {}),
    ...(p.appArgs !== undefined ? { appArgs: p.appArgs } : {}),
    ...(p.extension !== undefined ? { extension: p.extension } : {}),
    ...(p.callerId !== undefined ? { callerId: p.callerId } : {}),
    ...(p.timeout !== undefined ? { timeout: int(p.timeout) ?? 30 } : {}),
    ...(p.channelId !== undefined ? { channelId: p.channelId } : {}),
    ...(p.otherChannelId !== undefined ? { otherChannelId: p.otherChannelId } : {}),
    ...(p.originator !== undefined ? { originator: p.originator } : {}),
    ...(p.formats !== undefined ? { formats: p.formats } : {}),
    ...(r.variables ? { variables: r.variables } : {}),
  };
}

function playResponse(s: Stasis, channelId: string, playbackId: string | undefined, r: RestRequest): RestResponse {
  const pb = s.playbacks.play(channelId, multi(r.params.media), {
    ...(r.params.lang ? { lang: r.params.lang } : {}),
    ...(r.params.offsetms !== undefined ? { offsetms: int(r.params.offsetms) ?? 0 } : {}),
    ...(r.params.skipms !== undefined ? { skipms: int(r.params.skipms) ?? 0 } : {}),
    ...(playbackId ? { playbackId } : {}),
  });
  return created(`/playbacks/${pb.id}`, pb);
}

/** Runs one REST request (path below /ari) against the Stasis model. */
export async function handleRest(stasis: Stasis, req: RestRequest): Promise<RestResponse> {
  const matching = ROUTES.filter((r) => r.pattern.test(req.path));
  if (matching.length === 0) return { status: 404, reason: 'Not Found', body: { message: 'Resource not found' } };
  const chosen = matching.find((r) => r.method === req.method);
  if (!chosen) {
    return {
      status: 405,
      reason: 'Method Not Allowed',
      body: { message: 'Invalid method' },
      headers: { Allow: [...new Set(matching.map((r) => r.method))].join(',') },
    };
  }
  const match = chosen.pattern.exec(req.path);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(match?.groups ?? {})) params[k] = decodeURIComponent(v);
  try {
    return await chosen.handler(stasis, params, req);
  } catch (error) {
    if (error instanceof AriError) return { status: error.status, reason: error.reason, body: { message: error.message } };
    throw error;
  }
}

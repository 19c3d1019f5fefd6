// The call flows the load tool runs, and the apps file that gives one to the engine.
import { readFile } from 'node:fs/promises';
import type { FlowChoice } from './options.js';

/** The one Call Control App of a load run. */
export const LOAD_APP_UUID = '0b5e7a2c-10ad-4c0d-9e57-000000000013';

/** Where the flows find the callback server: its routes (see callback-server.ts). */
export function serverRoutes(origin: string): { readonly prompt: string; readonly next: string; readonly nextPlay: string } {
  return { prompt: `${origin}/prompt.wav`, next: `${origin}/next`, nextPlay: `${origin}/next-play` };
}

export function builtinFlow(name: 'play' | 'callback', origin: string, callbackTimeoutMs: number): string {
  const routes = serverRoutes(origin);
  if (name === 'play') return `<Response><Play>${routes.prompt}</Play><Hangup/></Response>`;
  return `<Response><Play>${routes.prompt}</Play><Callback url="${routes.next}" timeout="${callbackTimeoutMs}"/></Response>`;
}

/** The flow's name for people: `play`, `callback`, the file, or the running engine's own for the DID. */
export function flowName(flow: FlowChoice, engineRunning: boolean, did: string): string {
  if (engineRunning) return `the running engine's app for ${did}`;
  return flow.kind === 'builtin' ? flow.name : flow.path;
}

/** The flow's XML, with `{server}` in a FILE replaced by the callback server's origin. */
export async function flowDocument(flow: FlowChoice, origin: string, callbackTimeoutMs: number): Promise<string> {
  if (flow.kind === 'builtin') return builtinFlow(flow.name, origin, callbackTimeoutMs);
  const text = await readFile(flow.path, 'utf8');
  return text.replaceAll('{server}', origin);
}

/** The apps file (JSON, which the engine's YAML reader takes) with one app for `did`. */
export function appsFile(did: string, xml: string): string {
  return `${JSON.stringify({ apps: [{ uuid: LOAD_APP_UUID, name: 'Load test', numbers: [did.replace(/^\+/, '')], auto_answer: true, xml }] }, null, 2)}\n`;
}

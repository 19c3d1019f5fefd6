// What is kept in Redis of a live call so that another process can resume it: who the
// call is, where its flow stands (see lib/flow/progress.ts) and what Asterisk holds for it.
// Read back through a schema: a record written by another version, or damaged, is refused
// with the field that is wrong, never half-used.
import { z } from 'zod';
import type { Recording } from '../flow/ports.js';

export interface SavedCall {
  /** The call's UUID, its Call Control App's UUID, its channel, DID and caller. */
  readonly call: string;
  readonly app: string;
  readonly channel: string;
  readonly did: string;
  readonly from: string;
  /** The SHA-256 of the document being run; its text is kept beside (CallStates). */
  readonly document: string;
  /** Documents run so far, this one included. */
  readonly documents: number;
  /** The top-level verb running (index in the document's verbs). */
  readonly verb: number;
  /** Fetch steps used before that verb. */
  readonly fetchSteps: number;
  readonly recordings: readonly (readonly [string, Recording])[];
  /** Whether the call was answered (for the operator: Asterisk's channel state is what a resumption trusts). */
  readonly answered: boolean;
  /** The last call event's sequence number, when the app has an `events_url`. */
  readonly sequence: number;
  /** Epoch ms. */
  readonly savedAt: number;
}

const recording = z.object({
  name: z.string().min(1),
  durationSeconds: z.number().nonnegative(),
  media: z.object({ kind: z.literal('sound'), uri: z.string().min(1), description: z.string().optional() }),
});

const count = z.number().int().nonnegative();

const schema = z.object({
  version: z.literal(1),
  call: z.string().min(1),
  app: z.string().min(1),
  channel: z.string().min(1),
  did: z.string(),
  from: z.string(),
  document: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex'),
  documents: count.min(1),
  verb: count,
  fetchSteps: count,
  recordings: z.array(z.tuple([z.string(), recording])),
  answered: z.boolean(),
  sequence: count,
  savedAt: count,
});

export class SavedCallError extends Error {
  readonly code = 'saved_call_invalid';
}

export function encodeSavedCall(saved: SavedCall): string {
  return JSON.stringify({ version: 1, ...saved });
}

/** @throws {SavedCallError} naming the first field that is wrong. */
export function decodeSavedCall(text: string): SavedCall {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SavedCallError('the saved state is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SavedCallError(`the saved state is not usable: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const { version: _version, ...saved } = parsed.data;
  return saved;
}

/** A `<Dial>` bridged at a position of the flow (BridgedDial, and where it was). */
export interface SavedDial {
  readonly bridge: string;
  readonly leg: string;
  readonly target: { readonly type: 'number' | 'sip'; readonly value: string };
  readonly bridgedAt: number;
  /** The position of the Dial: it goes on only when the call resumes there. */
  readonly documents: number;
  readonly verb: number;
}

const dialSchema = z.object({
  bridge: z.string().min(1),
  leg: z.string().min(1),
  target: z.object({ type: z.enum(['number', 'sip']), value: z.string().min(1) }),
  bridgedAt: count,
  documents: count.min(1),
  verb: count,
});

/** Undefined when it is not a usable saved dial (the Dial then runs again). */
export function decodeSavedDial(text: string): SavedDial | undefined {
  try {
    const parsed = dialSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

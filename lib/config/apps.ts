// A Call Control App (spec §5), as the engine uses it once the apps file is validated.
import type { JsonValue } from '../callback/types.js';
import type { FlowDocument, HttpMethod } from '../xml/index.js';
import type { DialEndpoints } from './dial-endpoints.js';

/** Where a call's first document comes from. */
export type FirstDocumentSource =
  | { readonly kind: 'static'; readonly document: FlowDocument }
  | {
      readonly kind: 'webhook';
      readonly url: string;
      readonly method: HttpMethod;
      /** The whole budget of the webhook fetch, in ms. */
      readonly timeoutMs: number;
      /** Runs when the webhook fails; absent: the call is hung up. */
      readonly fallback?: FlowDocument;
    };

export interface CallControlApp {
  readonly uuid: string;
  readonly name: string;
  /** DIDs routed to the app, without a leading `+`. */
  readonly numbers: readonly string[];
  readonly data: { readonly [key: string]: JsonValue };
  /** The signing secret, resolved from the environment; also in the SecretStore. */
  readonly secret?: string;
  readonly autoAnswer: boolean;
  readonly source: FirstDocumentSource;
  readonly eventsUrl?: string;
  /** `<Dial>` endpoint templates of this app (`dial_number_endpoint`, `dial_sip_endpoint`), over the global ones. */
  readonly dial?: Partial<DialEndpoints>;
}

/** Numbers are matched exactly after dropping one leading `+`. */
export function normaliseNumber(number: string): string {
  return number.startsWith('+') ? number.slice(1) : number;
}

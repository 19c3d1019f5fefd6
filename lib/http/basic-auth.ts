// HTTP Basic authentication for the operator's routes (recordings; the queue dashboard
// of the operations issue joins them): one user and password from the environment
// (ADMIN_USERNAME / ADMIN_PASSWORD), compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

export const ADMIN_REALM = 'opentact-ari';

/** Equal strings, in a time that depends on neither (both are hashed to 32 bytes first). */
function sameSecret(a: string, b: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Whether an `Authorization` header carries these credentials. */
export function authorizes(header: string | undefined, expected: BasicCredentials): boolean {
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon < 0 ? '' : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  // Both compared every time: how long it takes says nothing about which one was wrong.
  const userOk = sameSecret(username, expected.username);
  const passwordOk = sameSecret(password, expected.password);
  return colon >= 0 && userOk && passwordOk;
}

/** A Fastify `onRequest` hook: 401 with a Basic challenge unless the request carries `credentials`. */
export function basicAuth(credentials: BasicCredentials, realm = ADMIN_REALM) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (authorizes(request.headers.authorization, credentials)) return;
    await reply
      .code(401)
      .header('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .send({ error: 'authentication required' });
  };
}

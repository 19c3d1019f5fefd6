// GET/HEAD /media/<sha256>.wav: the stored files Asterisk fetches (sound:http://…).
// Two headers matter to Asterisk 22 (res_http_media_cache, measured): it picks the file
// format from Content-Type (audio/wav), and without a Cache-Control max-age it holds the
// file stale at once, fetches it again and the playback fails. The name is the content's
// hash, so the file never changes under its URL: it may be cached for a year.
import { open, type FileHandle } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { MediaStore } from './store.js';

export interface MediaRoutesOptions {
  readonly store: MediaStore;
}

export const MEDIA_CONTENT_TYPE = 'audio/wav';
export const MEDIA_CACHE_CONTROL = 'public, max-age=31536000, immutable';

const FILE_NAME = /^([0-9a-f]{64})\.wav$/;

/** Whether an If-None-Match header names this entity tag (weak comparison, RFC 9110 §13.1.2). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

async function openFile(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (error) {
    // Evicted or removed between the index lookup and now.
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Register with `app.register(mediaRoutes, { store })`. */
export const mediaRoutes: FastifyPluginAsync<MediaRoutesOptions> = async (app, { store }) => {
  app.route<{ Params: { name: string } }>({
    method: ['GET', 'HEAD'],
    url: '/media/:name',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const id = FILE_NAME.exec(request.params.name)?.[1];
      const media = id === undefined ? undefined : store.get(id);
      if (!media) return notFound(reply);
      const etag = `"${media.id}"`;
      reply.header('etag', etag).header('cache-control', MEDIA_CACHE_CONTROL);
      if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();

      // Open before answering: once open, the file stays readable even if evicted now.
      const handle = await openFile(media.path);
      if (!handle) return notFound(reply);
      let size: number;
      try {
        size = (await handle.stat()).size;
      } catch (error) {
        await handle.close();
        throw error;
      }
      reply.header('content-type', MEDIA_CONTENT_TYPE).header('content-length', size);
      if (request.method === 'HEAD') {
        await handle.close();
        return reply.send();
      }
      return reply.send(handle.createReadStream());
    },
  });
};

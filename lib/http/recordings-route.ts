// GET /admin/recordings/<name>.wav: a stored recording (`<Record>`), streamed from
// Asterisk, for the operator or the customer, behind HTTP Basic authentication.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../flow/ports.js';
import { basicAuth, type BasicCredentials } from './basic-auth.js';

/** What the route needs of the ARI side (lib/ari/recording-files.ts). */
export interface RecordingFiles {
  open(name: string, signal: AbortSignal): Promise<{ readonly contentType: string; readonly length?: number; readonly body: NodeJS.ReadableStream } | undefined>;
}

export interface RecordingsRouteOptions {
  readonly files: RecordingFiles;
  readonly credentials: BasicCredentials;
  readonly log: Logger;
}

export const RECORDINGS_PATH = '/admin/recordings';

/** The names `<Record>` gives (the call's UUID, `-` and the encoded tag, or `_<n>`). */
const FILE_NAME = /^([A-Za-z0-9_-]{1,240})\.wav$/;

/** Register with `app.register(recordingsRoute, { files, credentials, log })`. */
export const recordingsRoute: FastifyPluginAsync<RecordingsRouteOptions> = async (app, { files, credentials, log }) => {
  app.route<{ Params: { file: string } }>({
    method: 'GET',
    url: `${RECORDINGS_PATH}/:file`,
    onRequest: basicAuth(credentials),
    handler: async (request, reply) => {
      const name = FILE_NAME.exec(request.params.file)?.[1];
      if (name === undefined) return reply.code(404).send({ error: 'no such recording' });
      const controller = new AbortController();
      request.raw.once('close', () => controller.abort());
      let file;
      try {
        file = await files.open(name, controller.signal);
      } catch (error) {
        log.warn({ err: error, recording: name }, 'could not get a recording from Asterisk');
        return reply.code(502).send({ error: 'Asterisk did not give the recording' });
      }
      if (file === undefined) return reply.code(404).send({ error: 'no such recording' });
      reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${name}.wav"`).header('cache-control', 'private, no-store');
      if (file.length !== undefined) reply.header('content-length', file.length);
      return reply.send(file.body);
    },
  });
};

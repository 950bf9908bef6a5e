import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Serves the built React app; unknown non-API paths get index.html so client routes work on reload. */
export const webAppRoutes: FastifyPluginAsync<{ webDir: string }> = async (app, { webDir }) => {
  if (!existsSync(join(webDir, 'index.html'))) {
    app.log.warn({ webDir }, 'web app not built: run `npm run build -w web`');
    app.get('/', async (_request, reply) =>
      reply.type('text/plain; charset=utf-8').send('Nattevakt: the web app is not built yet (npm run build -w web).'),
    );
    return;
  }
  // wildcard: files are looked up per request, so a rebuilt web app is served without a restart.
  await app.register(fastifyStatic, { root: webDir, wildcard: true });
  app.setNotFoundHandler((request, reply) => {
    if (request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/socket.io'))
      return reply.sendFile('index.html');
    return reply.code(404).send({ error: 'not found' });
  });
};

// The fields routes add to a request, declared in one place and decorated on the app, so
// every request object has the same shape from the start (fastify's decorateRequest).
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the API token (or signing secret) the request was authenticated with. */
    tokenName: string | undefined;
    /** The webhook-id of a verified Standard Webhooks delivery. */
    webhookId: string | undefined;
  }
}

export function decorateRequestFields(app: FastifyInstance): void {
  app.decorateRequest('tokenName', undefined);
  app.decorateRequest('webhookId', undefined);
}

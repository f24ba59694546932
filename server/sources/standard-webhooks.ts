// Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) as an alternative
// to a bearer token on /v1/events, for senders that sign instead. The bearer path stays
// as it was: a signed delivery is recognised in onRequest by its headers (no
// Authorization, a webhook-signature), verified in the JSON parser over the raw text, and
// published under ids derived from webhook-id, which is also the dedup key.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toEnvelope, type EventInput } from '../../shared/envelope.js';
import type { SourcesConfig } from '../../shared/config/schema.js';
import { HttpError } from '../errors.js';
import type { SourceContext } from './context.js';
import { standardWebhookKey, verifyStandardWebhook } from './signatures.js';
import { header } from './context.js';

export type StandardWebhooksConfig = SourcesConfig['standardWebhooks'];

export interface SignedEvents {
  /** Replaces the route group's JSON parser with one that verifies signed deliveries first. */
  install(app: FastifyInstance): void;
  /** True when the request is a signed delivery, to be verified once its body is read. */
  defers(request: FastifyRequest): boolean;
  /** Publishes a verified delivery once per webhook-id, answering like the bearer path. */
  deliver(request: FastifyRequest, reply: FastifyReply, inputs: EventInput[], source: string): Promise<FastifyReply>;
}

export function signedEvents(ctx: SourceContext, config: StandardWebhooksConfig): SignedEvents {
  const keys = config.secrets.map((s) => standardWebhookKey(s.secret));
  const names = config.secrets.map((s) => s.name);

  const verify = (request: FastifyRequest, body: string): void => {
    const headers = { id: header(request, 'webhook-id'), timestamp: header(request, 'webhook-timestamp'), signature: header(request, 'webhook-signature') };
    const verdict = verifyStandardWebhook(headers, body, keys, Math.floor(ctx.clock.now() / 1000), config.toleranceSeconds);
    if (!verdict.ok) throw new HttpError('unauthorized', verdict.reason);
    request.tokenName = names[verdict.keyIndex];
    request.webhookId = headers.id;
  };

  return {
    install(app) {
      const json = app.getDefaultJsonParser('error', 'error');
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        // Bearer requests were authenticated in onRequest; only signed ones arrive here without a name.
        if (request.tokenName === undefined) {
          try {
            verify(request, body as string);
          } catch (err) {
            done(err as Error, undefined);
            return;
          }
        }
        json(request, body as string, done);
      });
    },

    defers(request) {
      return request.headers.authorization === undefined && request.headers['webhook-signature'] !== undefined;
    },

    async deliver(request, reply, inputs, source) {
      const webhookId = request.webhookId!;
      // Ids derived from webhook-id make a redelivery carry the same ids, so downstream dedup works too.
      const derive = webhookId.length <= 180;
      const envelopes = inputs.map((input, i) =>
        toEnvelope(input, {
          source,
          now: () => new Date(ctx.clock.now()),
          ...(derive ? { newId: () => (inputs.length === 1 ? webhookId : `${webhookId}-${i}`) } : {}),
        }),
      );
      const outcome = await ctx.deliveries.once(`${source}:${webhookId}`, async () => {
        await ctx.publisher.publishMany(envelopes);
        return envelopes.map((e) => e.id);
      });
      if (outcome.duplicate) {
        request.log.debug({ source, deliveryId: webhookId }, 'redelivery not published again');
        return reply.code(200).send({ ids: outcome.ids, status: 'duplicate' });
      }
      for (const e of envelopes) request.log.debug({ eventId: e.id, type: e.type }, 'event accepted');
      return reply.code(202).send({ ids: outcome.ids });
    },
  };
}


// The status endpoints that change something (a ding, a mute), kept apart from the ones
// that only read so a token's right to act is checked in this one place:
//   POST   /v1/devices/:id/ring   a bell.test ding to one bell
//   POST   /v1/devices/:id/mute   {minutes} keep one bell, or every bell (id "all"), silent
//   DELETE /v1/devices/:id/mute   let it ring again ("all": every bell, each one's own mute too)
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { BROADCAST_DEVICE } from '../../shared/topics.js';
import { authenticateBearer, type ApiToken } from '../auth.js';
import { ErrorReply, HttpError } from '../errors.js';
import type { StatusPart } from './part.js';
import { MUTE_MINUTES, MuteBody, MuteReply, RingReply } from './schemas.js';

export interface StatusActionOptions {
  status: StatusPart;
  tokens: readonly ApiToken[];
}

const DEVICE_ID = '^[a-z0-9][a-z0-9_-]*$';
const DeviceParams = Type.Object({ id: Type.String({ pattern: DEVICE_ID, maxLength: 100 }) });
type DeviceRequest = FastifyRequest<{ Params: { id: string } }>;

const errors = { 400: ErrorReply, 404: ErrorReply, 503: ErrorReply, 504: ErrorReply };

export const statusActions: FastifyPluginAsync<StatusActionOptions> = async (app, opts) => {
  const { status } = opts;
  app.addHook('onRequest', async (request) => {
    request.tokenName = authenticateBearer(request, opts.tokens, 'write');
  });
  app.setSchemaErrorFormatter((errs, dataVar) => {
    const first = errs[0];
    const detail = `${dataVar}${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`;
    if (dataVar !== 'body') return new HttpError('bad_request', detail);
    return new HttpError('bad_request', `send {"minutes": N}, N a whole number from ${MUTE_MINUTES.minimum} to ${MUTE_MINUTES.maximum} (${detail})`);
  });

  /** "all" is every bell, known or not; any other id must have reported, as for a ring. */
  function knownBell(id: string, allowAll: boolean): void {
    if (allowAll && id === BROADCAST_DEVICE) return;
    if (!status.knowsDevice(id)) throw new HttpError('unknown_device', `no bell "${id}" has reported to this server`);
  }
  const by = (request: FastifyRequest) => request.tokenName ?? 'anonymous';

  app.post(
    '/v1/devices/:id/ring',
    { schema: { params: DeviceParams, response: { 202: RingReply, ...errors } } },
    async (request: DeviceRequest, reply) => {
      knownBell(request.params.id, false);
      return reply.code(202).send(await status.ring(request.params.id, by(request)));
    },
  );

  app.post(
    '/v1/devices/:id/mute',
    { schema: { params: DeviceParams, body: MuteBody, response: { 200: MuteReply, ...errors } } },
    async (request: FastifyRequest<{ Params: { id: string }; Body: MuteBody }>) => {
      knownBell(request.params.id, true);
      return status.mute(request.params.id, request.body.minutes, by(request));
    },
  );

  app.delete(
    '/v1/devices/:id/mute',
    { schema: { params: DeviceParams, response: { 200: MuteReply, ...errors } } },
    async (request: DeviceRequest) => {
      knownBell(request.params.id, true);
      return status.unmute(request.params.id, by(request));
    },
  );
};

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenVerifier } from '../auth/jwt';
import type { RecordInput } from '../domain/activity';
import { parseRestEvent } from '../domain/rest-input';
import { badUserInput, ClientError, HTTP_STATUS } from '../errors';
import type { InputProblem } from '../domain/input-problem';
import type { ActivityRecorder } from '../recording/recorder';
import type { RouteContext, RouteHandler } from './gateway-options';
import { sendJson } from './http-io';

function sendError(res: ServerResponse, err: ClientError): void {
  const { code, ...rest } = err.extensions as { code: keyof typeof HTTP_STATUS } & Record<string, unknown>;
  delete rest.http;
  const headers: Record<string, string> = {};
  if (typeof rest.retryAfterSeconds === 'number') headers['retry-after'] = String(rest.retryAfterSeconds);
  sendJson(res, HTTP_STATUS[code], { error: { code, message: err.message, ...rest } }, headers);
}

/**
 * `POST /v1/events`: one event, or `{ "batch": [...] }`, with the same validation, auth and
 * pipeline as the mutations; 202 with `{ receipts }`. Bodies may be `application/json` or
 * `text/plain` (what `navigator.sendBeacon` sends). A beacon cannot set headers, so a
 * `text/plain` body may carry the bearer token as `"token"`.
 */
export function restIngestHandler(verifier: TokenVerifier, recorder: ActivityRecorder, maxBatch: number): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'text/plain') {
      sendJson(res, 415, { error: { code: 'BAD_USER_INPUT', message: 'Send application/json or text/plain JSON.' } });
      return;
    }
    const raw = await ctx.readBody();
    try {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badUserInput([{ path: '', message: 'body is not valid JSON' }]);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw badUserInput([{ path: '', message: 'must be an event object or { "batch": [...] }' }]);
      }
      const obj = body as Record<string, unknown>;
      let header = req.headers.authorization;
      if (header === undefined && type === 'text/plain' && typeof obj.token === 'string') header = `Bearer ${obj.token}`;
      const principal = verifier.verifyHeader(header);
      delete obj.token;

      const isBatch = 'batch' in obj;
      const items: unknown[] = isBatch ? (Array.isArray(obj.batch) ? obj.batch : []) : [obj];
      if (isBatch && (!Array.isArray(obj.batch) || Object.keys(obj).length !== 1)) {
        throw badUserInput([{ path: 'batch', message: 'must be the only field, an array of events' }]);
      }
      if (items.length > maxBatch) {
        throw badUserInput([{ path: 'batch', message: `must hold 1 to ${maxBatch} events` }]);
      }
      const pathOf = (i: number) => (isBatch ? `batch.${i}.` : '');
      const inputs: RecordInput[] = [];
      const indexOf: number[] = [];
      const problems: InputProblem[] = [];
      items.forEach((item, i) => {
        const parsed = parseRestEvent(item, pathOf(i));
        if ('problems' in parsed) {
          problems.push(...parsed.problems);
        } else {
          inputs.push(parsed.input);
          indexOf.push(i);
        }
      });
      // Inputs that parsed are checked too, so one answer lists every problem of the batch.
      const receipts = await recorder.record(principal, ctx.client, inputs, (i) => pathOf(indexOf[i]!), problems);
      sendJson(res, 202, {
        receipts: receipts.map((r) => ({ ...r, receivedAt: r.receivedAt.toISOString() })),
      });
    } catch (err) {
      if (err instanceof ClientError) sendError(res, err);
      else throw err;
    }
  };
}

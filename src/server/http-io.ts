import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type { ClientInfo } from '../domain/client-address';

export class PayloadTooLargeError extends Error {}

/** Reads a body up to `limit` bytes. @throws PayloadTooLargeError past the limit. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') {
      // Drained, not paused, so the 413 that follows reaches a client still sending.
      req.resume();
      throw new PayloadTooLargeError((err as Error).message);
    }
    throw err;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The client as the socket shows it (no proxy trusted). */
export function socketClientInfo(req: IncomingMessage): ClientInfo {
  return { ip: req.socket.remoteAddress ?? null, userAgent: req.headers['user-agent'] ?? null };
}

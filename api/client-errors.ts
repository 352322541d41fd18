import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from './errors';

/** Node's HTTP parser's refusals, by its error code, as the status and error code the API answers with. */
const REFUSALS: Record<string, { status: number; error: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, error: 'headers_too_large', message: 'the request line and headers together exceed 16 KB' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, error: 'request_timeout', message: 'the request did not arrive in time' },
};
const MALFORMED = { status: 400, error: 'bad_request', message: 'the request is not well-formed HTTP/1.1' };

/**
 * Requests Node refuses before Express sees them (a request line or headers over its 16 KB limit, say a cursor
 * of 20,000 characters, or bytes that are not HTTP) get the API's JSON error with an X-Request-Id, like every
 * other refusal, instead of Node's bare status line. api/route.ts declares the 431 on every operation.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A reset or an already-answered socket has nobody to answer.
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const refusal = REFUSALS[err.code ?? ''] ?? MALFORMED;
    const requestId = randomUUID();
    const body: ErrorBody = { error: refusal.error, message: refusal.message, request_id: requestId };
    const json = JSON.stringify(body);
    socket.end(
      [
        `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(json)}`,
        `X-Request-Id: ${requestId}`,
        'Connection: close',
        '',
        json,
      ].join('\r\n'),
    );
  });
}

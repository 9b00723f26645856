import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { HubCaller } from './access-control.js';
import type { BodyFaults, FaultInjector, RequestFacts } from './fault-injection.js';
import { HubHttpError, badRequest } from './hub-server-error.js';
import type { MatchedRoute } from './route-table.js';

/** One entry of the server's request log. */
export interface HubRequestRecord {
  method: string;
  /** Path and query as received. */
  path: string;
  route: MatchedRoute['name'];
  /** The `Range` header, if any. */
  range?: string;
  /** The user whose token came with the request. */
  user?: string;
  /** Set once the answer's head is written. */
  status?: number;
  /** Which injected faults hit the request. */
  faults: ('error' | 'slow' | 'truncate')[];
}

/** A request in flight and the tools to answer it. */
export class Exchange {
  readonly url: URL;
  caller: HubCaller | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: MatchedRoute,
    readonly record: HubRequestRecord,
    readonly requestId: string,
    private readonly faults: FaultInjector,
    /** This server's origin as the client reached it (a Host the server accepted), for absolute URLs in answers. */
    readonly origin: string,
  ) {
    this.url = new URL(req.url ?? '/', 'http://localhost');
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  private get facts(): RequestFacts {
    return { route: this.route.name, method: this.method, path: this.record.path };
  }

  /**
   * Reads the whole request body, refusing more than `limit` bytes with a 413 (at
   * once when `Content-Length` says so). Handlers call it only after the caller's
   * rights are checked, so an anonymous client cannot make the server read a big body.
   */
  async readBody(limit: number): Promise<Buffer> {
    const tooLarge = () =>
      new HubHttpError(413, `Request body is larger than ${limit} bytes; send big files through the LFS upload instead.`, 'PayloadTooLarge', { Connection: 'close' });
    const declared = Number(this.req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /** Reads a JSON body, or a form body (`a=1&a=2`, as Python sends paths-info), as an object. Default limit 1 MiB. */
  async readJson<T>(limit = 1024 * 1024): Promise<T> {
    const body = (await this.readBody(limit)).toString('utf8');
    const type = this.req.headers['content-type'] ?? '';
    if (type.startsWith('application/x-www-form-urlencoded')) {
      const out: Record<string, string | string[]> = {};
      for (const [key, value] of new URLSearchParams(body)) {
        const previous = out[key];
        out[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
      }
      return out as T;
    }
    if (body.trim() === '') return {} as T;
    try {
      return JSON.parse(body) as T;
    } catch {
      throw badRequest('The request body is not valid JSON.');
    }
  }

  /** Runs an injected `error` fault if one matches; true when it answered. */
  async injectedError(): Promise<boolean> {
    const fault = this.faults.takeError(this.facts);
    if (!fault) return false;
    this.record.faults.push('error');
    await this.error(new HubHttpError(fault.status, fault.message, 'InjectedFault'));
    return true;
  }

  json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): Promise<void> {
    const body = Buffer.from(JSON.stringify(value));
    return this.send(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body);
  }

  error(error: HubHttpError): Promise<void> {
    const headers: OutgoingHttpHeaders = { ...error.headers, 'X-Error-Message': encodeURIComponent(error.message).slice(0, 2000) };
    if (error.errorCode) headers['X-Error-Code'] = error.errorCode;
    // A HEAD answer has no body: announcing JSON would make @huggingface/hub's error
    // reader parse an empty body and throw a SyntaxError instead of a HubApiError.
    if (this.method === 'HEAD') return this.send(error.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    return this.json(error.status, { ...error.body, error: error.message }, headers);
  }

  /**
   * Writes the head and a body (bytes, or a stream of `length` bytes), applying any
   * injected slow or truncate fault. HEAD requests get the head only; pass `length`
   * without a body to declare the size a GET would send.
   */
  async send(status: number, headers: OutgoingHttpHeaders, body?: Buffer | Readable, length?: number): Promise<void> {
    const size = length ?? (body !== undefined && Buffer.isBuffer(body) ? body.byteLength : 0);
    this.record.status = status;
    this.res.writeHead(status, { 'Content-Length': size, 'X-Request-Id': this.requestId, ...headers });
    if (this.method === 'HEAD' || body === undefined) {
      if (body !== undefined && !Buffer.isBuffer(body)) body.destroy();
      this.res.end();
      return;
    }
    const faults = this.faults.takeBodyFaults(this.facts, size);
    if (faults.slow) this.record.faults.push('slow');
    if (faults.truncateAfter !== undefined) this.record.faults.push('truncate');
    const source: Iterable<Buffer> | AsyncIterable<Buffer> = Buffer.isBuffer(body) ? [body] : (body as AsyncIterable<Buffer>);
    try {
      await this.writeChunks(source, faults);
    } finally {
      if (!Buffer.isBuffer(body)) body.destroy();
    }
  }

  private async writeChunks(source: Iterable<Buffer> | AsyncIterable<Buffer>, faults: BodyFaults): Promise<void> {
    let sent = 0;
    for await (const chunk of source) {
      const pieces: Buffer[] = [];
      const step = faults.slow?.chunkBytes ?? chunk.byteLength;
      for (let offset = 0; offset < chunk.byteLength; offset += step) pieces.push(chunk.subarray(offset, offset + step));
      for (const piece of pieces) {
        if (this.res.destroyed) return;
        if (faults.slow) await delay(faults.slow.delayMs);
        if (faults.truncateAfter !== undefined && sent + piece.byteLength > faults.truncateAfter) {
          const last = piece.subarray(0, faults.truncateAfter - sent);
          if (last.byteLength > 0) this.res.write(last);
          else this.res.flushHeaders();
          // A graceful end of the socket (FIN after the kept bytes) before the declared
          // length: the client sees exactly `afterBytes` bytes, then a closed connection.
          this.res.socket?.end();
          return;
        }
        sent += piece.byteLength;
        if (!this.res.write(piece)) await this.drainedOrClosed();
      }
    }
    this.res.end();
  }

  /** Waits for backpressure to clear, removing both listeners after (racing two `once`s leaks the loser). */
  private drainedOrClosed(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}

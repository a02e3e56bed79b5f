import type { FastifyReply } from 'fastify';

/**
 * Server-sent events over a hijacked Fastify reply, shared by the REST job events and the
 * console's live fragments. The stream's signal aborts when the client goes away or the server
 * closes (EventStreams.closeAll from an onClose hook), so a loop waiting on it ends promptly.
 */
export interface EventStream {
  readonly signal: AbortSignal;
  /** One event; `data` may span lines (each becomes a `data:` line). Ignored once ended. */
  send(event: string, data: string, id?: string): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  heartbeat(): void;
  end(): void;
}

/** The open streams of one route plugin, so closing the server ends them. */
export class EventStreams {
  private readonly open = new Set<AbortController>();

  /** Take over the reply and start an event stream (status 200, `retry: 2000`). */
  start(reply: FastifyReply): EventStream {
    const ac = new AbortController();
    this.open.add(ac);
    reply.hijack();
    const raw = reply.raw;
    // The response's 'close' (not the request's, which fires once the request is read) tells that the client left.
    raw.on('close', () => ac.abort());
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 2000\n\n');
    const write = (text: string): void => {
      if (!raw.writableEnded) raw.write(text);
    };
    return {
      signal: ac.signal,
      send: (event, data, id) =>
        write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\n${data.split('\n').map(l => `data: ${l}`).join('\n')}\n\n`),
      heartbeat: () => write(': heartbeat\n\n'),
      end: () => {
        this.open.delete(ac);
        if (!raw.writableEnded) raw.end();
      },
    };
  }

  closeAll(): void {
    for (const ac of this.open) ac.abort();
  }
}

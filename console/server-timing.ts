import type { FastifyReply } from 'fastify';

/**
 * Phases of one request, sent as a Server-Timing header (seen in the browser's devtools and in
 * Resource Timing's `serverTiming`), so a slow interaction shows where its time went.
 */
export class ServerTiming {
  private readonly phases: string[] = [];
  private last = performance.now();

  /** Close the phase that started at the previous mark (or at construction). */
  mark(name: string): void {
    const now = performance.now();
    this.phases.push(`${name};dur=${(now - this.last).toFixed(1)}`);
    this.last = now;
  }

  /** Add the phases to the reply's Server-Timing header. */
  send(reply: FastifyReply): void {
    appendServerTiming(reply, this.phases.join(', '));
  }
}

export function appendServerTiming(reply: FastifyReply, entry: string): void {
  const prev = reply.getHeader('server-timing');
  reply.header('server-timing', prev ? `${String(prev)}, ${entry}` : entry);
}

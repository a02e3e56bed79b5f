/** One dependency's answer to a ping, as /health/ready reports it. */
export interface DependencyPing {
  /** redis, influxdb (farm backend) or sqlite (embedded) */
  name: string;
  status: 'up' | 'down';
  latency_ms: number | null;
  message?: string;
}

/** Runs one check with a deadline and times it; the message is ours, never the driver's (hosts, credentials). */
export async function timedPing(name: string, check: () => Promise<boolean>, timeoutMs: number): Promise<DependencyPing> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const ok = await Promise.race([
      check(),
      new Promise<boolean>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const latency = Math.round((performance.now() - started) * 10) / 10;
    return ok ? { name, status: 'up', latency_ms: latency } : { name, status: 'down', latency_ms: latency, message: 'unexpected answer' };
  } catch (err) {
    return {
      name,
      status: 'down',
      latency_ms: null,
      message: /within/.test((err as Error).message) ? (err as Error).message : 'not reachable',
    };
  } finally {
    clearTimeout(timer);
  }
}

import type { Redis } from 'ioredis';
import type { InventoryChangeHandlers, PubSubPort, Subscription } from '../ports/pubsub.ts';
import type { RedisKeys } from './redis-keys.ts';

/** Redis PUB/SUB on keys.inventoryChannel(); a subscriber holds its own connection (a duplicate). */
export class RedisPubSub implements PubSubPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  async publishInventoryChange(message: object): Promise<void> {
    await this.redis.publish(this.keys.inventoryChannel(), JSON.stringify(message));
  }

  async subscribeInventoryChanges(h: InventoryChangeHandlers, opts: { waitMs?: number } = {}): Promise<Subscription> {
    const sub = this.redis.duplicate();
    const channel = this.keys.inventoryChannel();
    // Reconnects by itself; the owner of the main connection reports Redis outages.
    sub.on('error', () => undefined);
    sub.on('message', (ch: string, msg: string) => {
      if (ch === channel) h.onMessage(msg);
    });
    // The offline queue is off, so a subscribe sent while connecting fails: subscribe whenever the
    // connection becomes ready (first connect and every reconnect), then let the owner read the state.
    const listen = async (): Promise<void> => {
      await sub.subscribe(channel);
      await h.onListening?.();
    };
    const first = new Promise<void>(resolve => sub.on('ready', () => void listen().catch((err: unknown) => h.onError?.(err as Error)).finally(resolve)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([first, new Promise<void>(resolve => (timer = setTimeout(resolve, opts.waitMs ?? 2_000)))]);
    clearTimeout(timer);
    return {
      async close() {
        await sub.quit().catch(() => sub.disconnect());
      },
    };
  }
}

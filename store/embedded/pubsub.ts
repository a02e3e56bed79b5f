import { EventEmitter } from 'node:events';
import type { InventoryChangeHandlers, PubSubPort, Subscription } from '../ports/pubsub.ts';

/** One process: an EventEmitter. Delivery is asynchronous, as over Redis, so a publisher never runs its subscribers' work. */
export class InProcessPubSub implements PubSubPort {
  private readonly emitter = new EventEmitter();

  constructor() {
    // API, MCP and collector subscribers of one process.
    this.emitter.setMaxListeners(0);
  }

  async publishInventoryChange(message: object): Promise<void> {
    const text = JSON.stringify(message);
    setImmediate(() => this.emitter.emit('inventory', text));
  }

  async subscribeInventoryChanges(h: InventoryChangeHandlers): Promise<Subscription> {
    const listener = (text: string): void => h.onMessage(text);
    this.emitter.on('inventory', listener);
    try {
      await h.onListening?.();
    } catch (err) {
      h.onError?.(err as Error);
    }
    return {
      close: async () => {
        this.emitter.off('inventory', listener);
      },
    };
  }
}

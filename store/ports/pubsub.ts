/**
 * Change notifications of the inventory: the API announces an added, changed or removed entry,
 * new credentials or a scan request; collectors re-read the inventory port. Delivery is at most
 * once and only while subscribed, so a subscriber reads the state in `onListening`.
 */
export interface InventoryChangeHandlers {
  /** the text of one message (JSON as published; a bare text means "inventory changed") */
  onMessage(text: string): void;
  /** runs each time the subscription is (re-)established, before messages published after it arrive */
  onListening?(): Promise<void>;
  /** subscribing or onListening failed; retried when the backend reconnects */
  onError?(err: Error): void;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface PubSubPort {
  /** Announces one change to every subscriber (JSON). */
  publishInventoryChange(message: object): Promise<void>;
  /**
   * Subscribes; resolves once the first `onListening` finished, or after `waitMs` (default 2000)
   * when the backend is not reachable yet (it then subscribes when it is).
   */
  subscribeInventoryChanges(handlers: InventoryChangeHandlers, opts?: { waitMs?: number }): Promise<Subscription>;
}

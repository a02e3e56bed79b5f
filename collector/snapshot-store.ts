// Moved behind the state port: store/influx-redis/snapshot-store.ts (Redis), core/fleet-aggregates.ts (pure).
export * from '../store/influx-redis/snapshot-store.ts';

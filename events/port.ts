// The event bus as the platform sees it (docs/usage.md "Topics"): keyed JSON
// messages on named topics. `maas serve` without Kafka has no bus (usage
// records then go straight from the outbox to the roll-up, lifecycle events
// only to the log); with --kafka-brokers the kafkajs adapter (events/kafka.ts).
export interface BusMessage {
  key: string;
  value: string; // JSON
}

export interface EventPublisher {
  // Resolves once the broker acknowledged every message (all in-sync
  // replicas); rejects when it could not, and then nothing is known to be
  // delivered (the caller retries; consumers dedupe by the messages' ids).
  send(topic: string, messages: readonly BusMessage[]): Promise<void>;
  close(): Promise<void>;
}

export const USAGE_TOPIC = 'maas.usage.v1';
export const EVENTS_TOPIC = 'maas.events.v1';

// A model lifecycle event on maas.events.v1, keyed by tenant ('' for the
// filesystem repository's models).
export type LifecycleEvent =
  | { type: 'version.ready'; tenant: string; model: string; version: string }
  | { type: 'version.failed'; tenant: string; model: string; version: string; reason: string }
  | { type: 'alias.moved'; tenant: string; model: string; alias: string; version: string }
  | { type: 'model.loaded'; tenant: string; model: string; version: string }
  | { type: 'model.unloaded'; tenant: string; model: string; reason: string };

// Where the registry and the serving layer report lifecycle changes; emit()
// never blocks or throws.
export interface LifecycleSink {
  emit(event: LifecycleEvent): void;
}

export const noLifecycleEvents: LifecycleSink = { emit: () => undefined };

// A served model's name as events carry it: registry models are served as
// '<tenant>/<name>' (registry/catalog.ts modelKey); the filesystem
// repository's have no tenant ('').
export function tenantModel(served: string): { tenant: string; model: string } {
  const slash = served.indexOf('/');
  return slash < 0 ? { tenant: '', model: served } : { tenant: served.slice(0, slash), model: served.slice(slash + 1) };
}

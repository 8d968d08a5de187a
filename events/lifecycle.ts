// Model lifecycle events on maas.events.v1 (docs/usage.md "Topics"): the
// registry (version ready/failed, alias moved) and the serving layer (model
// loaded/unloaded on this node) emit them; this sends them in small batches
// in the background. Best effort, unlike usage: events wait in memory (not in
// an outbox) while Kafka is down, up to MAX_PENDING, and are lost with the
// process. Each carries an id for consumers to dedupe.
//
// Owner: the BusLifecycleEvents owns its pending list and retry timer; close()
// sends what it can. The publisher belongs to whoever opened it.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../common/logger';
import { EVENTS_TOPIC, type BusMessage, type EventPublisher, type LifecycleEvent, type LifecycleSink } from './port';

const MAX_PENDING = 10_000;
const RETRY_MS = 1000;

export class BusLifecycleEvents implements LifecycleSink {
  private pending: BusMessage[] = [];
  private sending: Promise<void> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private failing = false;
  private readonly node = `${hostname()}:${process.pid}`;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
  ) {}

  emit(event: LifecycleEvent): void {
    const value = JSON.stringify({ id: randomUUID(), ...event, node: this.node, at: new Date().toISOString() });
    this.pending.push({ key: event.tenant, value });
    if (this.pending.length > MAX_PENDING) this.pending.shift();
    if (!this.sending && !this.retry) setImmediate(() => void this.flush());
  }

  flush(): Promise<void> {
    this.sending ??= this.sendPending().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  private async sendPending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.publisher.send(EVENTS_TOPIC, batch);
        if (this.failing) this.logger.info('lifecycle events: Kafka reachable again');
        this.failing = false;
      } catch (err) {
        this.pending = batch.concat(this.pending).slice(-MAX_PENDING);
        if (!this.failing) this.logger.warn({ err }, 'lifecycle events: Kafka unreachable; events wait in memory');
        this.failing = true;
        this.retry ??= setTimeout(() => {
          this.retry = null;
          void this.flush();
        }, RETRY_MS);
        this.retry.unref();
        return;
      }
    }
  }

  async close(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.sending;
    if (this.pending.length > 0 && !this.failing) await this.flush();
  }
}

// The kafkajs adapter of the event bus (events/port.ts), and the one place
// that makes Kafka clients and topics, so every user of Kafka (usage, events,
// jobs) connects and creates its topics the same way.
//
// Owner: a KafkaPublisher owns its producer and admin client; close() ends
// them. It connects lazily and, after a failed send, throws its producer away
// so the next send starts from a fresh connection (a restarted broker).
import { Kafka, logLevel, type Producer } from 'kafkajs';

export interface KafkaSettings {
  brokers: string[]; // host:port
  clientId?: string; // default 'maas'
  partitions?: number; // for topics we create; default DEFAULT_KAFKA_PARTITIONS
}

export const DEFAULT_KAFKA_PARTITIONS = 3;

// "host:port,host:port" (--kafka-brokers, KAFKA_BROKERS) → a list; throws on an empty entry.
export function parseBrokers(list: string): string[] {
  const brokers = list.split(',').map((b) => b.trim());
  if (brokers.length === 0 || brokers.some((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b)))
    throw new Error(`Kafka brokers must be host:port[,host:port...], got '${list}'`);
  return brokers;
}

// Short timeouts and few retries: a caller that fails (broker down) retries
// on its own schedule, and must not hold its database transaction for long.
export function createKafka(settings: KafkaSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId ?? 'maas',
    brokers: settings.brokers,
    logLevel: logLevel.NOTHING, // our callers log outages once, not per retry
    connectionTimeout: 2000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

// Creates the topics that do not exist yet (replication: the broker's default).
export async function ensureTopics(kafka: Kafka, topics: readonly string[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
      });
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export class KafkaPublisher {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private readonly ready = new Set<string>(); // topics known to exist

  constructor(private readonly settings: KafkaSettings) {
    this.kafka = createKafka(settings);
  }

  async send(topic: string, messages: ReadonlyArray<{ key: string; value: string }>): Promise<void> {
    if (messages.length === 0) return;
    try {
      if (!this.ready.has(topic)) {
        await ensureTopics(this.kafka, [topic], this.settings.partitions ?? DEFAULT_KAFKA_PARTITIONS);
        this.ready.add(topic);
      }
      const producer = await this.connect();
      // acks -1: every in-sync replica has them; idempotent: the producer's
      // own retries of this request are not written twice.
      await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
    } catch (err) {
      await this.reset();
      throw err;
    }
  }

  private connect(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      try {
        await producer.connect();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      } finally {
        this.connecting = null;
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }

  private async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    this.ready.clear();
    await producer?.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    await this.reset();
  }
}

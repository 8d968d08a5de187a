// Job dispatch over Kafka (kafkajs): the topic maas.jobs.v1 (created if
// missing), one message per job, keyed and valued by its id; every gateway
// is a member of one consumer group, so each job id goes to one of them.
// The worker that gets it claims the row (queue.ts says why a duplicate or a
// lost message does no harm). docs/jobs.md "Dispatch".
//
// Owner: this adapter owns its producer, consumer and admin connections and
// its reconnect timer. Topics are made by events/kafka.ts, like every topic.
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from '../../common/logger';
import { DEFAULT_KAFKA_PARTITIONS, createKafka, ensureTopics } from '../../events/kafka';
import type { JobQueue } from './queue';

export const JOBS_TOPIC = 'maas.jobs.v1';
export const JOBS_GROUP = 'maas-jobs';
// A dead gateway's membership lapses after this; the broker's minimum is 6 s.
const SESSION_TIMEOUT_MS = 10_000;
const RECONNECT_MS = 5000;

export interface KafkaQueueOptions {
  brokers: string[];
  topic?: string; // default maas.jobs.v1
  groupId?: string; // default maas-jobs
  partitions?: number; // when the topic is created; default 3
  logger: Logger;
}

export class KafkaJobQueue implements JobQueue {
  readonly kind = 'kafka';
  private readonly kafka: Kafka;
  private readonly topic: string;
  private producer: Producer | null = null;
  private consumer: Consumer | null = null;
  private markJoined: () => void = () => undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  // Settles when this gateway's consumer first joins the group.
  readonly joined = new Promise<void>((resolve) => {
    this.markJoined = resolve;
  });

  constructor(private readonly options: KafkaQueueOptions) {
    this.topic = options.topic ?? JOBS_TOPIC;
    const logger = options.logger;
    this.kafka = new Kafka({
      clientId: 'maas-jobs',
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }) => {
          const { message, ...extra } = log;
          if (level <= logLevel.ERROR) logger.warn(extra, `kafka: ${message}`);
          else logger.debug(extra, `kafka: ${message}`);
        },
    });
  }

  // Kafka down at start does not stop the server: the queue connects in the
  // background (every RECONNECT_MS) and meanwhile the workers' sweep runs the
  // jobs nobody was told about (publish fails; the API ignores that).
  async start(onJob: (jobId: string) => void): Promise<void> {
    try {
      await this.connect(onJob);
    } catch (err) {
      await this.disconnect();
      this.options.logger.warn({ err }, 'Kafka is unreachable: jobs are found by the sweep until it is back');
      this.reconnectLater(onJob);
    }
  }

  private reconnectLater(onJob: (jobId: string) => void): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect(onJob).then(
        () => this.options.logger.info('Kafka is reachable again: jobs are dispatched on it'),
        async () => {
          await this.disconnect();
          this.reconnectLater(onJob);
        },
      );
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }

  private async connect(onJob: (jobId: string) => void): Promise<void> {
    // A client with short retries: a broker that is down fails this first step in about 2 s.
    const quick = createKafka({ brokers: this.options.brokers, clientId: 'maas-jobs' });
    await ensureTopics(quick, [this.topic], this.options.partitions ?? DEFAULT_KAFKA_PARTITIONS);
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    this.consumer = this.kafka.consumer({
      groupId: this.options.groupId ?? JOBS_GROUP,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: 1000,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    // Messages sent before the group has a member with partitions are seen
    // by nobody (a new group starts at the end); the workers' sweep runs
    // those jobs. Joining may wait for a dead member's session to expire,
    // so start() does not wait for it; `joined` says when it happened.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.markJoined());
    // eachMessage returns at once: the job runs beside the consumer (its
    // progress is in PostgreSQL, not in Kafka offsets). run() itself is not
    // awaited: it resolves only once the group is joined.
    this.consumer
      .run({
        eachMessage: ({ message }) => {
          const id = message.value?.toString('utf8');
          if (id) onJob(id);
          return Promise.resolve();
        },
      })
      .catch((err: unknown) => this.options.logger.error({ err }, 'the Kafka job consumer stopped'));
    if (this.closed) await this.disconnect(); // closed while connecting
  }

  async publish(jobId: string): Promise<void> {
    if (!this.producer) throw new Error('the Kafka job queue is not started');
    await this.producer.send({ topic: this.topic, messages: [{ key: jobId, value: jobId }] });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    await this.disconnect();
  }

  private async disconnect(): Promise<void> {
    const { consumer, producer } = this;
    this.consumer = this.producer = null;
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }
}

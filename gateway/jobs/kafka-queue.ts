// Job dispatch over Kafka (kafkajs): the topic maas.jobs.v1 (created if
// missing), one message per job, keyed and valued by its id; every gateway
// is a member of one consumer group, so each job id goes to one of them.
// The worker that gets it claims the row (queue.ts says why a duplicate or a
// lost message does no harm). docs/jobs.md "Dispatch".
//
// Owner: this adapter owns its producer, consumer and admin connections.
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from '../../common/logger';
import type { JobQueue } from './queue';

export const JOBS_TOPIC = 'maas.jobs.v1';
export const JOBS_GROUP = 'maas-jobs';
const GROUP_JOIN_WAIT_MS = 15_000;

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

  async start(onJob: (jobId: string) => void): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = await admin.listTopics();
      if (!existing.includes(this.topic)) {
        await admin.createTopics({
          topics: [{ topic: this.topic, numPartitions: this.options.partitions ?? 3 }],
          waitForLeaders: true,
        });
      }
    } finally {
      await admin.disconnect();
    }
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    this.consumer = this.kafka.consumer({ groupId: this.options.groupId ?? JOBS_GROUP });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    // Messages sent before this member is assigned its partitions are not
    // seen by it (the group starts at the end): wait for the join, bounded,
    // so that a gateway reports ready once it takes jobs.
    const joined = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GROUP_JOIN_WAIT_MS);
      this.consumer?.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // eachMessage returns at once: the job runs beside the consumer (its
    // progress is in PostgreSQL, not in Kafka offsets).
    await this.consumer.run({
      eachMessage: ({ message }) => {
        const id = message.value?.toString('utf8');
        if (id) onJob(id);
        return Promise.resolve();
      },
    });
    await joined;
  }

  async publish(jobId: string): Promise<void> {
    if (!this.producer) throw new Error('the Kafka job queue is not started');
    await this.producer.send({ topic: this.topic, messages: [{ key: jobId, value: jobId }] });
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    this.consumer = this.producer = null;
  }
}

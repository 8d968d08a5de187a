// Reads a Kafka topic from its beginning in a fresh consumer group until a
// condition holds, for the tests of what the platform publishes. A new group
// may first meet "The coordinator is loading" (a broker just started): the
// whole read is retried.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { uniqueName } from './services';

export interface TopicMessage {
  key: string;
  value: Record<string, unknown>;
}

export async function readTopicUntil(
  brokers: string[],
  topic: string,
  done: (messages: readonly TopicMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<TopicMessage[]> {
  const kafka = new Kafka({ clientId: 'maas-test-reader', brokers, logLevel: logLevel.NOTHING });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    const messages: TopicMessage[] = [];
    const consumer: Consumer = kafka.consumer({ groupId: uniqueName('reader'), retry: { retries: 10 } });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          messages.push({
            key: message.key?.toString() ?? '',
            value: JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>,
          });
        },
      });
      while (Date.now() < deadline) {
        if (done(messages)) return messages;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`topic ${topic}: condition not met in ${timeoutMs} ms; read ${messages.length} messages`);
    } catch (err) {
      lastError = err;
      if (err instanceof Error && err.message.startsWith(`topic ${topic}:`)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }
  throw new Error(`topic ${topic}: not read within ${timeoutMs} ms: ${String(lastError)}`);
}

// kafkajs 2.2 against the real Kafka 4 broker (KRaft) the test runner starts
// (docs/testing.md): what usage events and jobs will rely on (issue 10) —
// topics created by the client, an idempotent producer with acks=all, and a
// consumer in a new group that reads every record once and commits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, Partitioners, logLevel, type Admin } from 'kafkajs';
import { testServices, uniqueName } from '../support/services';

let kafka: Kafka;
let admin: Admin;

before(async () => {
  kafka = new Kafka({ clientId: 'maas-kafka-smoke', brokers: testServices().kafkaBrokers, logLevel: logLevel.ERROR });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
});

test('a created topic takes idempotent writes that a new consumer group reads once, in order per key', async () => {
  const topic = uniqueName('usage-smoke');
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), true);
  assert.ok((await admin.listTopics()).includes(topic));

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const sent = Array.from({ length: 20 }, (_, i) => ({
    key: `tenant-${i % 3}`,
    value: JSON.stringify({ id: `r${i}`, seq: i }),
  }));
  try {
    const acks = await producer.send({ topic, acks: -1, messages: sent });
    assert.ok(acks.length > 0);
    assert.ok(acks.every((r) => r.errorCode === 0));
  } finally {
    await producer.disconnect();
  }

  const groupId = uniqueName('smoke-group');
  const consumer = kafka.consumer({ groupId });
  const received: Array<{ key: string; id: string; seq: number; partition: number }> = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const body = JSON.parse(String(message.value)) as { id: string; seq: number };
            received.push({ key: String(message.key), id: body.id, seq: body.seq, partition });
            if (received.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect(); // commits what was consumed
  }

  assert.deepEqual(received.map((r) => r.id).sort(), sent.map((m) => JSON.parse(m.value).id).sort());
  for (const key of new Set(received.map((r) => r.key))) {
    const ofKey = received.filter((r) => r.key === key);
    assert.equal(new Set(ofKey.map((r) => r.partition)).size, 1, `one partition per key (${key})`);
    assert.deepEqual(
      ofKey.map((r) => r.seq),
      [...ofKey.map((r) => r.seq)].sort((a, b) => a - b),
      `in order for ${key}`,
    );
  }
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const total = committed.partitions.reduce((n, p) => n + Number(p.offset), 0);
  assert.equal(total, sent.length);
  await admin.deleteTopics({ topics: [topic] });
});

// Asynchronous jobs dispatched over the real Kafka broker (topic created if
// missing, a consumer group of workers), and a job surviving the SIGKILL of
// the `maas serve` child running it: another gateway takes it over when the
// lease lapses and resumes at the first chunk not checkpointed; the results
// hold every request exactly once, in order (docs/jobs.md).
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { startChildServer, type ChildServer } from '../bench/child-server';
import type { KafkaJobQueue } from '../gateway/jobs/kafka-queue';
import { createDatabase, testServices, uniqueName } from './support/services';
import { startRegistryServer, tempDir, waitFor } from './registry-support';
import { assertInOrder, jsonl, results, uploadJob, waitForJob, writeBatchedModel } from './jobs-support';

const services = testServices();
const CLI = path.join(__dirname, '..', 'bin', 'maas.js');
const children: ChildServer[] = [];

after(async () => {
  for (const child of children) await child.stop().catch(() => undefined);
});

test('with Kafka, a job is dispatched on its topic (created if missing) to the worker group', async () => {
  const topic = uniqueName('maas-jobs-test');
  const dir = await tempDir('maas-jobs-kafka-');
  await writeBatchedModel(path.join(dir, 'repo'));
  const h = await startRegistryServer(await createDatabase(services.databaseUrl, 'jobs_kafka'), {}, dir, {
    // No sweep during the test: the job can only arrive through Kafka.
    jobs: { kafkaBrokers: services.kafkaBrokers, kafkaTopic: topic, kafkaGroup: topic, sweepIntervalMs: 600_000 },
  });
  try {
    const admin = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    assert.ok((await admin.listTopics()).includes(topic));
    await admin.disconnect();
    await (h.server.jobs?.queue as KafkaJobQueue).joined;
    const id = await uploadJob(h.url, h.adminKey, 'batched', jsonl(600));
    const state = await waitForJob(h.url, h.adminKey, id);
    assert.equal(state.status, 'succeeded');
    assertInOrder(await results(h.url, h.adminKey, id), 600);
    const worker = h.server.jobs?.worker;
    assert.deepEqual([worker?.stats.viaQueue, worker?.stats.viaSweep], [1, 0]);
  } finally {
    await h.server.close();
  }
});

test('Kafka unreachable at start: the server still starts, the sweep runs the job, the queue retries in the background', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const dir = await tempDir('maas-jobs-nokafka-');
  await writeBatchedModel(path.join(dir, 'repo'));
  const h = await startRegistryServer(await createDatabase(services.databaseUrl, 'jobs_nokafka'), {}, dir, {
    jobs: { kafkaBrokers: [`127.0.0.1:${closedPort}`], sweepIntervalMs: 300 },
  });
  try {
    const id = await uploadJob(h.url, h.adminKey, 'batched', jsonl(50));
    const state = await waitForJob(h.url, h.adminKey, id);
    assert.equal(state.status, 'succeeded');
    assertInOrder(await results(h.url, h.adminKey, id), 50);
    const worker = h.server.jobs?.worker;
    assert.deepEqual([worker?.stats.viaQueue, worker?.stats.viaSweep], [0, 1]);
  } finally {
    await h.server.close(); // also stops the background reconnects
  }
});

test('a job survives the SIGKILL of its worker: another gateway resumes it, no result lost or repeated', async () => {
  const dir = await tempDir('maas-jobs-restart-');
  const repo = path.join(dir, 'repo');
  await writeBatchedModel(repo);
  const databaseUrl = await createDatabase(services.databaseUrl, 'jobs_restart');
  const serve = (name: string) =>
    startChildServer(
      name,
      [
        CLI,
        'serve',
        ...['--model-repository', repo, '--data-dir', dir, '--database-url', databaseUrl],
        ...['--auth', 'none', '--host', '127.0.0.1', '--http-port', '0', '--grpc-port=-1'],
        ...['--kafka-brokers', services.kafkaBrokers.join(','), '--log-level', 'info'],
      ],
      { MAAS_JOB_LEASE_SECS: '2' },
    ).then((child) => {
      children.push(child);
      return child;
    });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const first = await serve('worker-1');
    const total = 10_000; // 20 chunks of 500
    const id = await uploadJob(first.url, null, 'batched', jsonl(total));
    const checkpoint = async () =>
      (await db.query('SELECT chunks_done, status, attempts FROM jobs WHERE id = $1', [id])).rows[0] as {
        chunks_done: number;
        status: string;
        attempts: number;
      };
    await waitFor(
      'two chunks checkpointed',
      async () => ((await checkpoint()).chunks_done >= 2 ? true : undefined),
      30_000,
    );
    process.kill(first.pid, 'SIGKILL');
    await first.stop(); // waits for the exit
    const killedAt = await checkpoint();
    assert.equal(killedAt.status, 'running');
    assert.ok(killedAt.chunks_done < total / 500, `the job had not finished (${killedAt.chunks_done} chunks)`);
    const t0 = Date.now();
    const second = await serve('worker-2');
    const state = await waitForJob(second.url, null, id, 60_000);
    assert.deepEqual([state.status, state.progress], ['succeeded', { total, done: total, failed: 0 }]);
    console.log(`jobs: the second worker finished the job ${((Date.now() - t0) / 1000).toFixed(1)} s after its start`);
    assertInOrder(await results(second.url, null, id), total);
    assert.equal((await checkpoint()).attempts, 2);
    await second.stop();
  } finally {
    await db.end();
  }
});

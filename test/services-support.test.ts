// The test support's own promises (docs/testing.md): a private server can be
// killed and restarted on the same port with its data, closing leaves nothing
// behind, a dead test process leaves no server behind, and testServices()
// fails loudly outside the runner.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import Redis from 'ioredis';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import {
  ENV,
  ServiceStartError,
  cleanStaleServers,
  startKafka,
  startPostgres,
  startRedis,
  testServices,
  type KafkaInfo,
  type PostgresInfo,
  type RedisInfo,
  type TestServer,
} from './support/services';
import { STATE_DIR, makeServerDir, serverProcesses } from './support/services/process';

// The private servers start together, overlapping their start-up with the
// tests that come first (a Kafka broker takes seconds); each test awaits its own.
let redisStarting: Promise<TestServer<RedisInfo>>;
let postgresStarting: Promise<TestServer<PostgresInfo>>;
let kafkaStarting: Promise<TestServer<KafkaInfo>>;

before(() => {
  redisStarting = startRedis({ appendOnly: true, settings: { appendfsync: 'always' } });
  postgresStarting = startPostgres();
  kafkaStarting = startKafka();
  // Each is awaited by its test; a failure is reported there, not as unhandled.
  for (const starting of [redisStarting, postgresStarting, kafkaStarting]) starting.catch(() => undefined);
});

after(async () => {
  // Normally each test has closed its server already; close() twice is harmless.
  await Promise.all(
    [redisStarting, postgresStarting, kafkaStarting].map((starting) =>
      starting.then(
        (s) => s.close(),
        () => undefined,
      ),
    ),
  );
});

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('testServices() throws, naming the runner, when a server was not started', () => {
  const saved = process.env[ENV.redisUrl];
  delete process.env[ENV.redisUrl];
  try {
    assert.throws(
      () => testServices().redisUrl,
      (err: Error) =>
        err.message.includes(ENV.redisUrl) && err.message.includes('node dist/test/run.js dist/path/to/file.test.js'),
    );
  } finally {
    if (saved !== undefined) process.env[ENV.redisUrl] = saved;
  }
});

test('a server that exits during start-up is reported with the tail of its log', async () => {
  await assert.rejects(startRedis({ settings: { 'no-such-directive': 'x' } }), (err: Error) => {
    assert.ok(err instanceof ServiceStartError, String(err));
    assert.match(err.message, /redis: exited with code 1 during start-up/);
    assert.match(err.logTail, /no-such-directive/); // redis-server's own complaint
    return true;
  });
});

test('a server that never answers fails after startTimeoutMs, and is killed', async () => {
  // Listening on another loopback address than the probe's 127.0.0.1.
  let pid: number | undefined;
  const t0 = Date.now();
  await assert.rejects(startRedis({ settings: { bind: '127.0.0.2' }, startTimeoutMs: 1000 }), (err: Error) => {
    assert.ok(err instanceof ServiceStartError, String(err));
    assert.match(err.message, /redis not ready after 1000 ms; last probe error: .*ECONNREFUSED/);
    pid = Number(/pid=(\d+)/.exec(err.logTail)?.[1]); // redis-server logs its pid

    return true;
  });
  assert.ok(Date.now() - t0 < 10_000);
  assert.ok(pid && pid > 0, 'the log names the pid');
  assert.deepEqual(serverProcesses(pid), []);
});

test('a test process that dies by SIGKILL leaves no server behind (the watchdog)', async () => {
  const support = join(__dirname, 'support', 'services', 'redis.js'); // not index.js: no S3 and Kafka clients to load
  const script = `require(${JSON.stringify(support)}).startRedis().then((s) => { console.log(JSON.stringify({ pid: s.pid, dir: s.dir })); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before starting Redis`)));
  });
  const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
  assert.ok(serverProcesses(pid).length > 0 && existsSync(dir));
  child.kill('SIGKILL');
  await waitFor('the orphaned redis-server to be killed', () => serverProcesses(pid).length === 0);
  await waitFor('its folder to be removed', () => !existsSync(dir));
});

test('cleanStaleServers() kills the servers of an owner that is gone and removes their folders', async () => {
  const dir = makeServerDir('stale');
  const orphan = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  orphan.unref();
  const pid = orphan.pid!;
  // An owner PID that cannot be alive (above the kernel's pid_max).
  const deadOwner = 4_194_305;
  mkdirSync(STATE_DIR, { recursive: true });
  const record = join(STATE_DIR, `${deadOwner}.${pid}.svc`);
  writeFileSync(record, `${pid}\n${dir}\n`);
  try {
    cleanStaleServers();
    await waitFor('the stale server to be killed', () => serverProcesses(pid).length === 0, 5000);
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(record), false);
  } finally {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // killed by the code under test
    }
  }
});

test('Redis: kill() drops connections; restart() serves the same port with the data; close() removes everything', async () => {
  const server = await redisStarting;
  const { port } = server.info;
  const firstPid = server.pid;
  const client = new Redis(server.info.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.set('survives', 'yes');
    await server.kill();
    assert.equal(server.running, false);
    assert.deepEqual(serverProcesses(firstPid!), []);
    await assert.rejects(client.ping());

    await server.restart();
    assert.equal(server.info.port, port);
    assert.notEqual(server.pid, firstPid);
    const again = new Redis(server.info.url);
    try {
      assert.equal(await again.get('survives'), 'yes');
    } finally {
      again.disconnect();
    }
  } finally {
    client.disconnect();
    await server.close();
  }
  assert.equal(existsSync(server.dir), false);
  assert.equal(server.running, false);
});

test('PostgreSQL: a committed row survives kill() and restart(); no backend outlives the postmaster', async () => {
  const server = await postgresStarting;
  try {
    const client = new Client({ connectionString: server.info.url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('CREATE TABLE t (v text)');
    await client.query("INSERT INTO t VALUES ('kept')");
    const pid = server.pid!;
    assert.ok(serverProcesses(pid).length > 1, 'a postmaster with its helper processes');
    await server.kill();
    assert.deepEqual(serverProcesses(pid), []);
    await client.end().catch(() => undefined);

    await server.restart();
    const after = new Client({ connectionString: server.info.url });
    await after.connect();
    try {
      assert.deepEqual((await after.query('SELECT v FROM t')).rows, [{ v: 'kept' }]);
    } finally {
      await after.end();
    }
  } finally {
    await server.close();
  }
});

test('Kafka: records written before kill() are read after restart() on the same port', async () => {
  const server = await kafkaStarting;
  try {
    const kafka = new Kafka({ clientId: 'support-test', brokers: server.info.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kept' }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    await producer.send({ topic: 'kept', acks: -1, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await producer.disconnect();

    await server.kill();
    await server.restart();

    const consumer = kafka.consumer({ groupId: 'after-restart' });
    const values: string[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: ['kept'], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              values.push(String(message.value));
              if (values.length === 3) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(values, ['a', 'b', 'c']);
  } finally {
    await server.close();
  }
});

// `npm run bench` part: the usage step's own cost (issue 10, docs/usage.md
// "Cost"), in this process, without HTTP or the engine around it, so that it
// is not lost in the noise of a whole request:
//   off  N pipeline calls (begin, admit, finish) with usage off
//   on   the same N calls with the PostgreSQL outbox, then until the relay
//        has rolled every record up: record(), the batched INSERTs and the
//        relay's statements, all on this process's CPU
// The figure is (on − off) CPU µs per call, median of ROUNDS alternating
// rounds. PostgreSQL's own CPU (another process) is not in it.
// The end-to-end pair (maas serve with and without --usage) is in bench/run.ts.
//   BENCH_USAGE_CALLS (default 100000) calls per round
//   BENCH_USAGE_FLUSH_MS (default 50) the outbox flush interval
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../common/logger';
import { Pipeline } from '../gateway/pipeline/pipeline';
import { startRegistry } from '../registry';
import { startUsage } from '../usage';

const ROUNDS = 5;
// Paced like a busy server (at most CHUNK calls per PACE_MS, ~40,000 calls/s
// here), not as fast as a loop can call: a batch then holds what a real
// flush interval would, not a backlog built by an impossible request rate.
const CHUNK = 200;
const PACE_MS = 5;

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function run(pipeline: Pipeline, calls: number): Promise<void> {
  for (let done = 0; done < calls; done += CHUNK) {
    for (let i = 0; i < CHUNK; i++) {
      const call = pipeline.begin({ protocol: 'http', operation: 'infer', model: 'identity', version: '1' });
      void pipeline.admit(call, null);
      call.inputBytes = 64;
      call.outputBytes = 64;
      call.queueUs = 10;
      call.computeUs = 20;
      pipeline.finish(call, { error: null, clientGone: false, inferences: 1 });
    }
    await new Promise((resolve) => setTimeout(resolve, PACE_MS));
  }
}

async function main(): Promise<void> {
  const calls = Number(process.env.BENCH_USAGE_CALLS ?? 100_000);
  const logger = createLogger('silent');
  const dataDir = await mkdtemp(join(tmpdir(), 'maas-bench-usage-'));
  await chmod(dataDir, 0o755); // the embedded PostgreSQL runs as `postgres` under root
  const registry = await startRegistry({ dataDir, auth: 'none', logger });
  const usage = startUsage({
    pool: registry.store.pool,
    publisher: null,
    logger,
    flushIntervalMs: Number(process.env.BENCH_USAGE_FLUSH_MS ?? 50),
  });
  const off = new Pipeline({ logger, accessLogSampleEvery: 0 });
  const on = new Pipeline({ logger, accessLogSampleEvery: 0, usage: usage.outbox });
  try {
    await run(off, 10_000); // warm-up
    await run(on, 10_000);
    const perCall: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let t0 = cpuUs();
      await run(off, calls);
      const offUs = cpuUs() - t0;
      const target = usage.relay.relayed + calls;
      t0 = cpuUs();
      await run(on, calls);
      await usage.outbox.flush();
      while (usage.relay.relayed < target) await new Promise((resolve) => setTimeout(resolve, 20));
      const onUs = cpuUs() - t0;
      perCall.push((onUs - offUs) / calls);
      console.log(
        `usage round ${round + 1}: off ${(offUs / calls).toFixed(2)} µs/call, on ${(onUs / calls).toFixed(2)} µs/call`,
      );
    }
    perCall.sort((a, b) => a - b);
    const median = perCall[Math.floor(perCall.length / 2)];
    console.log(
      `usage metering: ${median.toFixed(2)} CPU µs per call in the gateway process (median of ${ROUNDS}; target ≤ 5 µs): ${median <= 5 ? 'met' : 'MISSED'}`,
    );
  } finally {
    await usage.close();
    await registry.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench usage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});

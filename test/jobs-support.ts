// Shared helpers of the asynchronous jobs tests (docs/jobs.md): request
// bodies, a JSONL upload, waiting for a job to end, reading its results,
// and the latency sampler the load test and bench:jobs print.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { addModelBytes, writeModel } from './support/models';
import { api, waitFor } from './registry-support';

// y = x + 100 on [batch, 4], with dynamic batching: the cheapest model that
// still goes through a real batcher.
export async function writeBatchedModel(repo: string, name = 'batched'): Promise<void> {
  await writeModel(
    repo,
    name,
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 200 } },
    { '1': addModelBytes(100) },
  );
}

// Request i: x = [i, i+1, i+2, i+3], id `r<i>` (echoed in its answer).
export function requestBody(i: number): Record<string, unknown> {
  return {
    id: `r${i}`,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [i, i + 1, i + 2, i + 3] }],
  };
}

export function jsonl(count: number, from = 0): string {
  let text = '';
  for (let i = from; i < from + count; i++) text += `${JSON.stringify(requestBody(i))}\n`;
  return text;
}

export async function uploadJob(url: string, key: string | null, model: string, body: string): Promise<string> {
  const created = await api(url, 'POST', `/api/v1/jobs?model=${model}`, key, Buffer.from(body), {
    'content-type': 'application/x-ndjson',
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  return created.body.id as string;
}

export interface JobState {
  status: string;
  reason: string | null;
  progress: { total: number; done: number; failed: number };
}

export async function waitForJob(url: string, key: string | null, id: string, timeoutMs = 60_000): Promise<JobState> {
  return waitFor(
    `job ${id} to end`,
    async () => {
      const got = await api(url, 'GET', `/api/v1/jobs/${id}`, key);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      return ['succeeded', 'failed', 'cancelled'].includes(got.body.status) ? (got.body as JobState) : undefined;
    },
    timeoutMs,
  );
}

export async function results(url: string, key: string | null, id: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${url}/api/v1/jobs/${id}/results`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const text = await response.text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Every line answers its request, in input order, exactly once.
export function assertInOrder(lines: Record<string, unknown>[], count: number): void {
  assert.equal(lines.length, count);
  for (let i = 0; i < count; i++) {
    assert.equal(lines[i].id, `r${i}`, `line ${i}`);
    const out = (lines[i].outputs as Array<{ data: number[] }>)[0].data;
    assert.deepEqual(out, [i + 100, i + 101, i + 102, i + 103]);
  }
}

// Sequential online requests until stop() says so (at least minSamples);
// returns each one's latency in ms and the number that failed.
export async function sampleOnline(
  url: string,
  key: string | null,
  model: string,
  stop: () => boolean,
  minSamples: number,
): Promise<{ latenciesMs: number[]; failures: number }> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const body = JSON.stringify(requestBody(7));
  while (latenciesMs.length < minSamples || !stop()) {
    const t0 = performance.now();
    const response = await fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers, body });
    await response.arrayBuffer();
    latenciesMs.push(performance.now() - t0);
    if (response.status !== 200) failures++;
  }
  return { latenciesMs, failures };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// The CUDA runtime's behaviour that needs no GPU, so it runs everywhere
// (docs/cuda.md): the CUDA-built addon loads and serves on the CPU without a
// driver; KIND_GPU placement (Triton's meaning, memory fit) and its refusal
// on a machine without a GPU; GPU metrics; a device fault marking the
// version unavailable. What needs a GPU is in parity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { MaasError } from '../../common/errors';
import { createLogger } from '../../common/logger';
import { InferenceMetrics } from '../../common/metrics';
import { findPackageRoot } from '../../common/package-root';
import { deviceMemory, devices, loadModel } from '../../native';
import type { DeviceInfo, DeviceMemoryStats, Session } from '../../native/types';
import { buildIdentityModel, DEMO_CONFIGS, writeDemoRepository } from '../../models/demo';
import { parseModelConfig } from '../../gateway/catalog/model-config';
import { FilesystemCatalog } from '../../gateway/catalog/filesystem';
import { GpuMetrics } from '../../gateway/gpu-metrics';
import { ModelServing } from '../../gateway/serving/model-service';
import { placeInstances, type GpuView } from '../../gateway/serving/placement';
import { loadRuntime, ThreadBudget } from '../../gateway/serving/runtime-loader';
import type { InferRequest } from '../../gateway/inference/types';
import { writeModel } from '../support/models';

const ROOT = findPackageRoot(__dirname) as string;
const CUDA_ADDON = path.join(ROOT, 'build-cuda', 'Release', 'maas_addon.node');
const GiB = 2 ** 30;

// Two GPUs of a hypothetical machine: plain data for the pure placement rule.
const TWO_GPUS: GpuView[] = [
  { id: 0, freeMemoryBytes: 10 * GiB, totalMemoryBytes: 16 * GiB },
  { id: 1, freeMemoryBytes: 2 * GiB, totalMemoryBytes: 16 * GiB },
];

test('the CUDA-built addon loads without a driver, lists no devices and runs a model on the CPU', (t) => {
  if (!existsSync(CUDA_ADDON)) return t.skip(`no CUDA build here (${CUDA_ADDON}); .ci/run builds it with nvcc`);
  if (devices().length > 0) return t.skip('this machine has a GPU: the no-driver behaviour cannot be shown here');
  // A child process, so that this process keeps its own (CPU) addon.
  const script = `
    const n = require(${JSON.stringify(path.join(ROOT, 'dist', 'native'))});
    const { buildMlpModel } = require(${JSON.stringify(path.join(ROOT, 'dist', 'models', 'demo'))});
    (async () => {
      const bytes = buildMlpModel();
      const feeds = { input: { type: 'float32', dims: [2, 784], data: Float32Array.from({ length: 1568 }, (_, i) => (i % 7) / 7) } };
      const s = await n.loadModel(bytes, { precision: 'fp16' });
      const out = await s.run(feeds);
      s.release();
      let refused = '';
      await n.loadModel(bytes, { device: 'cuda:0' }).catch((e) => { refused = e.code + ' ' + e.message; });
      console.log(JSON.stringify({ devices: n.devices(), memory: n.deviceMemory(), probabilities: Array.from(out.probabilities.data), refused }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, MAAS_ADDON_PATH: CUDA_ADDON },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout) as {
    devices: unknown[];
    memory: unknown[];
    probabilities: number[];
    refused: string;
  };
  assert.deepEqual(result.devices, []);
  assert.deepEqual(result.memory, []);
  assert.match(result.refused, /^ENGINE_UNSUPPORTED device 'cuda:0' is not available: /);
  assert.equal(result.probabilities.length, 20);
  // Two softmax rows: the CUDA build computes on the CPU like the CPU build.
  for (const row of [result.probabilities.slice(0, 10), result.probabilities.slice(10)])
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `softmax row sums to 1: ${row.join(',')}`);
});

test('placement follows Triton: count per listed GPU, every GPU when none is listed, GPUs interleaved', () => {
  const groups = [
    { kind: 'KIND_GPU' as const, count: 2, gpus: [0, 1] },
    { kind: 'KIND_CPU' as const, count: 1, gpus: [] },
  ];
  assert.deepEqual(placeInstances(groups, TWO_GPUS, 100), ['cuda:0', 'cuda:1', 'cuda:0', 'cuda:1', 'cpu']);
  assert.deepEqual(placeInstances([{ kind: 'KIND_GPU', count: 1 }], TWO_GPUS, 100), ['cuda:0', 'cuda:1']);
  assert.deepEqual(placeInstances([{ kind: 'KIND_GPU', count: 3, gpus: [1] }], TWO_GPUS, 100), [
    'cuda:1',
    'cuda:1',
    'cuda:1',
  ]);
  assert.deepEqual(placeInstances([{ kind: 'KIND_AUTO', count: 2 }], TWO_GPUS, 100), ['cpu', 'cpu']);
});

test('placement refuses a missing GPU, no GPU at all, and a model that does not fit, with the numbers', () => {
  assert.throws(() => placeInstances([{ kind: 'KIND_GPU', count: 1, gpus: [2] }], TWO_GPUS, 100), {
    code: 'ENGINE_UNSUPPORTED',
    message: /lists gpu 2, but this server has 2 GPU\(s\): 0, 1/,
  });
  assert.throws(() => placeInstances([{ kind: 'KIND_GPU', count: 1 }], [], 100), {
    code: 'ENGINE_UNSUPPORTED',
    message: /KIND_GPU but this server sees no GPU/,
  });
  // 2 instances x 1.5 GiB fit GPU 0 (10 GiB free) but not GPU 1 (2 GiB free).
  const weights = 1.5 * GiB;
  assert.equal(placeInstances([{ kind: 'KIND_GPU', count: 2, gpus: [0] }], TWO_GPUS, weights).length, 2);
  assert.throws(() => placeInstances([{ kind: 'KIND_GPU', count: 2, gpus: [1] }], TWO_GPUS, weights), {
    code: 'ENGINE_OUT_OF_MEMORY',
    message: new RegExp(
      `does not fit cuda:1: 2 instance\\(s\\) x ${weights} bytes .* has ${2 * GiB} bytes free of ${16 * GiB}`,
    ),
  });
});

test('a KIND_GPU model fails to load on this machine with the reason; the others serve', async (t) => {
  if (devices().length > 0) return t.skip('this machine has a GPU: KIND_GPU loads here');
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-gpu-'));
  try {
    await writeDemoRepository(repo);
    await writeModel(
      repo,
      'on-gpu',
      { ...DEMO_CONFIGS.identity, name: 'on-gpu', instance_group: [{ kind: 'KIND_GPU', count: 1 }] },
      { 1: buildIdentityModel() },
    );
    const serving = new ModelServing({
      catalog: new FilesystemCatalog(repo),
      logger: createLogger('silent'),
      loadModel,
      metrics: new InferenceMetrics(),
      gpus: devices,
    });
    await serving.start();
    try {
      const byName = new Map((await serving.index(false)).map((e) => [e.name, e]));
      assert.equal(byName.get('on-gpu')?.state, 'UNAVAILABLE');
      assert.match(byName.get('on-gpu')?.reason ?? '', /KIND_GPU but this server sees no GPU/);
      assert.equal(byName.get('identity')?.state, 'READY');
      assert.equal(serving.isModelReady('on-gpu'), false);
    } finally {
      await serving.close(1000);
    }
  } finally {
    await fs.rm(repo, { recursive: true, force: true });
  }
});

test('GPU metrics: Triton names labelled by gpu_uuid when there are GPUs, nothing registered when none', async () => {
  const none = new Registry();
  assert.equal(GpuMetrics.start(none, { devices: () => [], deviceMemory: () => [] }), null);
  assert.doesNotMatch(await none.metrics(), /nv_gpu/);
  // FAKE: a GPU this machine does not have, to show the exposition format.
  const fakeGpu: DeviceInfo = {
    id: 0,
    name: 'fake GPU (test stand-in)',
    uuid: 'GPU-00000000-0000-0000-0000-000000000001',
    totalMemoryBytes: 16 * GiB,
    freeMemoryBytes: 12 * GiB,
    computeCapability: '9.0',
    driverVersion: 13000,
    runtimeVersion: 13000,
    utilizationPercent: 25,
    memoryUsedBytes: 4 * GiB,
  };
  const fakeAllocator: DeviceMemoryStats = {
    device: 0,
    inUseBytes: 1000,
    reservedBytes: 4096,
    peakInUseBytes: 2000,
    pinnedHostBytes: 1 << 20,
    allocations: 5,
    driverAllocations: 2,
  };
  const registry = new Registry();
  const metrics = GpuMetrics.start(registry, { devices: () => [fakeGpu], deviceMemory: () => [fakeAllocator] }, 60_000);
  try {
    const text = await registry.metrics();
    const label = `gpu_uuid="${fakeGpu.uuid}"`;
    assert.match(text, new RegExp(`nv_gpu_memory_total_bytes\\{${label}\\} ${16 * GiB}`));
    assert.match(text, new RegExp(`nv_gpu_memory_used_bytes\\{${label}\\} ${4 * GiB}`));
    assert.match(text, new RegExp(`nv_gpu_utilization\\{${label}\\} 0.25`));
    assert.match(text, new RegExp(`maas_gpu_allocator_bytes\\{${label},kind="reserved"\\} 4096`));
    assert.match(text, new RegExp(`maas_gpu_allocator_bytes\\{${label},kind="peak"\\} 2000`));
  } finally {
    metrics?.stop();
  }
  // This machine's real engine: no GPU, so no GPU series.
  if (devices().length === 0) assert.equal(GpuMetrics.start(new Registry(), { devices, deviceMemory }), null);
});

test('a device fault marks the model version unavailable; other errors do not', async () => {
  // FAKE: a session whose runs fail as a faulted GPU's would (no GPU here);
  // the first run of `faulty` fails with an ordinary engine error.
  let runs = 0;
  const faulting = (session: Session): Session => ({
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    device: 'cuda:0',
    run: () => {
      runs++;
      return Promise.reject(
        runs === 1
          ? new MaasError('ENGINE_INVALID_ARGUMENT', 'an ordinary failure')
          : new MaasError('ENGINE_DEVICE_FAULT', 'CUDA device fault: cudaErrorIllegalAddress'),
      );
    },
    memory: () => session.memory(),
    planMemory: (dims) => session.planMemory(dims),
    release: () => session.release(),
  });
  const bytes = buildIdentityModel();
  const runtime = await loadRuntime(
    {
      loadModel: async (b, options) => faulting(await loadModel(b, options)),
      metrics: new InferenceMetrics(),
      threads: new ThreadBudget(),
    },
    parseModelConfig('identity', DEMO_CONFIGS.identity),
    { version: '1', fingerprint: 'f', sizeBytes: bytes.byteLength, read: () => Promise.resolve(bytes) },
    '{}',
  );
  const request: InferRequest = {
    modelName: 'identity',
    parameters: {},
    priority: 0,
    timeoutUs: 0,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: new Float32Array(16) }],
  };
  try {
    await assert.rejects(runtime.infer(request), { code: 'ENGINE_INVALID_ARGUMENT' });
    assert.equal(runtime.state, 'READY');
    await assert.rejects(runtime.infer(request), { code: 'ENGINE_DEVICE_FAULT' });
    assert.equal(runtime.state, 'UNAVAILABLE');
    assert.match(runtime.reason, /device fault: .*cudaErrorIllegalAddress/);
  } finally {
    await runtime.retire(1000, 'test over');
  }
});

// Per-run overhead of the native engine on tiny models, next to
// onnxruntime-node in the same process: a sequential `await run()` loop, so
// the number is one full round trip (JS → pool thread → JS) per run.
//   npx tsx bench/engine-overhead.ts [runsPerCase]
import { createRequire } from 'node:module';
import { loadModel, type Tensor } from '../native/index';
import { buildIdentityModel, buildMlpModel, DEMO_MODELS, seededRandom } from '../models/demo';

interface OrtTensorLike {
  dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
}
interface OrtModule {
  InferenceSession: { create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}

const requireHere = createRequire(__filename);
const ort = requireHere('onnxruntime-node') as OrtModule;

const runsPerCase = Number(process.argv[2] ?? 20000);
const warmupRuns = Math.min(2000, runsPerCase);

async function microsecondsPerRun(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmupRuns; i++) await run();
  // Best of 3 rounds: this machine is shared, the minimum is the least noisy.
  let bestUs = Infinity;
  for (let round = 0; round < 3; round++) {
    const startNs = process.hrtime.bigint();
    for (let i = 0; i < runsPerCase; i++) await run();
    const elapsedUs = Number(process.hrtime.bigint() - startNs) / 1000;
    bestUs = Math.min(bestUs, elapsedUs / runsPerCase);
  }
  return bestUs;
}

async function main(): Promise<void> {
  const cases = [
    { model: DEMO_MODELS.identity, bytes: buildIdentityModel() },
    { model: DEMO_MODELS.mlp, bytes: buildMlpModel() },
  ];
  console.log(`runs per case: ${runsPerCase} (best of 3 rounds)`);
  console.log('model     batch   maas µs/run   ort µs/run   maas/ort');
  for (const { model, bytes } of cases) {
    // One intra-op thread each: these models are far too small to split.
    const maas = await loadModel(bytes, { intraOpThreads: 1 });
    const ortSession = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    for (const batch of [1, 32]) {
      const width = model.input.dims[1];
      const random = seededRandom(batch);
      const data = Float32Array.from({ length: batch * width }, () => random());
      const dims = [batch, width];
      const feeds: Record<string, Tensor> = { [model.input.name]: { type: 'float32', dims, data } };
      const ortFeeds = { [model.input.name]: new ort.Tensor('float32', data, dims) };
      const maasUs = await microsecondsPerRun(() => maas.run(feeds));
      const ortUs = await microsecondsPerRun(() => ortSession.run(ortFeeds));
      console.log(
        `${model.name.padEnd(9)} ${String(batch).padStart(5)}   ${maasUs.toFixed(1).padStart(11)}   ` +
          `${ortUs.toFixed(1).padStart(10)}   ${(maasUs / ortUs).toFixed(2).padStart(8)}`,
      );
    }
    maas.release();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

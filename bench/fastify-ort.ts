// The peer baseline: fastify + onnxruntime-node serving the same model
// files with the same KServe v2 JSON bodies, the way a small Node service
// would (fastify's JSON parser, one ONNX Runtime session per model, one
// request per run, no batching). Run as its own process:
//   node dist/bench/fastify-ort.js REPOSITORY MODEL... [--port N]
// ONNX Runtime gets one intra-op thread: these models are far too small to
// split, and more threads only cost it CPU here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface OrtTensor {
  data: Float32Array;
  dims: readonly number[];
  type: string;
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
}
interface Ort {
  InferenceSession: { create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}
interface KServeInput {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

const requireHere = createRequire(__filename);
const ort = requireHere('onnxruntime-node') as Ort;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- fastify is a bench-only devDependency, typed here by the few calls we make
const fastify = require('fastify') as (options: object) => {
  post(
    path: string,
    handler: (
      req: { params: { model: string }; body: { inputs: KServeInput[] } },
      reply: { code(n: number): { send(v: unknown): void } },
    ) => Promise<unknown>,
  ): void;
  listen(options: { host: string; port: number }): Promise<string>;
  close(): Promise<void>;
};

const HOST = '127.0.0.1';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 0;
  const [repository, ...models] = args;
  const sessions = new Map<string, OrtSession>();
  for (const model of models) {
    const bytes = readFileSync(join(repository, model, '1', 'model.onnx'));
    sessions.set(model, await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }));
  }
  const app = fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  app.post('/v2/models/:model/infer', async (req, reply) => {
    const session = sessions.get(req.params.model);
    if (!session) return reply.code(404).send({ error: 'unknown model' });
    const feeds: Record<string, unknown> = {};
    for (const input of req.body.inputs)
      feeds[input.name] = new ort.Tensor('float32', Float32Array.from(input.data), input.shape);
    const results = await session.run(feeds);
    return {
      model_name: req.params.model,
      model_version: '1',
      outputs: session.outputNames.map((name) => ({
        name,
        datatype: 'FP32',
        shape: results[name].dims,
        data: Array.from(results[name].data),
      })),
    };
  });
  const address = await app.listen({ host: HOST, port });
  // Same ready line shape as `maas serve`, so one launcher serves all.
  process.stdout.write(`${JSON.stringify({ msg: `fastify-ort listening on ${address}` })}\n`);
  const stop = () => {
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`fastify-ort: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

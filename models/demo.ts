// The demo models shipped with the platform: a small MNIST-shaped MLP (for
// end-to-end and batching work), an Identity model (for measuring the
// platform's own overhead), `counter` (a decoupled model with several answers
// per request, for the streaming front ends), bert-mini (a transformer encoder
// as exporters write one, models/bert-mini.ts) and cnn-small (a small image
// classifier, models/cnn-small.ts). Weights are generated, not trained: a seeded PRNG
// keeps every build byte-identical, so tests and benchmarks are reproducible.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BERT_MINI, buildBertMiniModel } from './bert-mini';
import { buildCnnSmallModel, CNN_SMALL, CNN_SMALL_CONFIG } from './cnn-small';
import { encodeModel, type OnnxNodeInit, type OnnxTensorInit } from './onnx-writer';
import { seededRandom } from './seeded-random';

export { seededRandom } from './seeded-random';

// The demo models' names, tensor names and shapes (-1: the batch dimension),
// shared by tests, benchmarks and the repository writer.
export const DEMO_MODELS = {
  mlp: {
    name: 'mlp',
    input: { name: 'input', type: 'float32', dims: [-1, 784] },
    output: { name: 'probabilities', type: 'float32', dims: [-1, 10] },
    maxBatchSize: 32,
  },
  identity: {
    name: 'identity',
    input: { name: 'input', type: 'float32', dims: [-1, 16] },
    output: { name: 'output', type: 'float32', dims: [-1, 16] },
    maxBatchSize: 64,
  },
  // Decoupled: one request with n answers 1, 2, …, n (docs/protocol.md
  // "Decoupled models"); the graph itself is an Identity on one INT32.
  counter: {
    name: 'counter',
    input: { name: 'n', type: 'int32', dims: [1] },
    output: { name: 'count', type: 'int32', dims: [1] },
    maxBatchSize: 0,
  },
  'bert-mini': {
    name: 'bert-mini',
    inputs: [
      { name: 'input_ids', type: 'int64', dims: [-1, BERT_MINI.sequenceLength] },
      { name: 'attention_mask', type: 'int64', dims: [-1, BERT_MINI.sequenceLength] },
    ],
    output: { name: 'last_hidden_state', type: 'float32', dims: [-1, BERT_MINI.sequenceLength, BERT_MINI.hidden] },
    maxBatchSize: 8,
  },
  'cnn-small': CNN_SMALL,
} as const;

export type DemoModelName = keyof typeof DEMO_MODELS;

// Symbolic name of the batch dimension in the ONNX graphs.
const BATCH_DIM = 'batch';

// MLP layer widths: 784 → 128 → 64 → 10.
const MLP_WIDTHS = [784, 128, 64, 10] as const;
const MLP_SEED = 0x4d4c50; // "MLP"

// Uniform weights in [-bound, bound], stored as Gemm's B with transB=1,
// i.e. [out, in] row-major.
function uniformMatrix(next: () => number, rows: number, cols: number, bound: number): Float32Array {
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = (next() * 2 - 1) * bound;
  return values;
}

// Layers followed by Relu use Kaiming-uniform (sqrt(6/fan_in)) so activations
// keep their scale; the last layer uses Xavier-uniform so logits stay moderate
// and the softmax is neither one-hot nor flat.
function mlpLayerInitializers(next: () => number): OnnxTensorInit[] {
  const tensors: OnnxTensorInit[] = [];
  for (let layer = 0; layer < MLP_WIDTHS.length - 1; layer++) {
    const fanIn = MLP_WIDTHS[layer];
    const fanOut = MLP_WIDTHS[layer + 1];
    const isLast = layer === MLP_WIDTHS.length - 2;
    const bound = isLast ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
    tensors.push({
      name: `fc${layer + 1}.weight`,
      dataType: 'FLOAT',
      dims: [fanOut, fanIn],
      values: uniformMatrix(next, fanOut, fanIn, bound),
    });
    // Small nonzero biases, so a wrong bias broadcast shows in the output.
    tensors.push({
      name: `fc${layer + 1}.bias`,
      dataType: 'FLOAT',
      dims: [fanOut],
      values: uniformMatrix(next, 1, fanOut, 0.1),
    });
  }
  return tensors;
}

function mlpNodes(): OnnxNodeInit[] {
  const nodes: OnnxNodeInit[] = [];
  let current: string = DEMO_MODELS.mlp.input.name;
  const layerCount = MLP_WIDTHS.length - 1;
  for (let layer = 1; layer <= layerCount; layer++) {
    const gemmOut = `fc${layer}`;
    nodes.push({
      opType: 'Gemm',
      name: `fc${layer}`,
      inputs: [current, `fc${layer}.weight`, `fc${layer}.bias`],
      outputs: [gemmOut],
      attributes: { transB: { int: 1 } },
    });
    current = gemmOut;
    if (layer < layerCount) {
      nodes.push({ opType: 'Relu', name: `relu${layer}`, inputs: [current], outputs: [`relu${layer}`] });
      current = `relu${layer}`;
    }
  }
  nodes.push({
    opType: 'Softmax',
    name: 'softmax',
    inputs: [current],
    outputs: [DEMO_MODELS.mlp.output.name],
    attributes: { axis: { int: 1 } },
  });
  return nodes;
}

export function buildMlpModel(): Uint8Array {
  const { input, output } = DEMO_MODELS.mlp;
  return encodeModel({
    opset: 13,
    graphName: 'mlp',
    nodes: mlpNodes(),
    initializers: mlpLayerInitializers(seededRandom(MLP_SEED)),
    inputs: [{ name: input.name, dataType: 'FLOAT', shape: [BATCH_DIM, input.dims[1]] }],
    outputs: [{ name: output.name, dataType: 'FLOAT', shape: [BATCH_DIM, output.dims[1]] }],
  });
}

export function buildIdentityModel(): Uint8Array {
  const { input, output } = DEMO_MODELS.identity;
  return encodeModel({
    opset: 13,
    graphName: 'identity',
    nodes: [{ opType: 'Identity', name: 'identity', inputs: [input.name], outputs: [output.name] }],
    inputs: [{ name: input.name, dataType: 'FLOAT', shape: [BATCH_DIM, input.dims[1]] }],
    outputs: [{ name: output.name, dataType: 'FLOAT', shape: [BATCH_DIM, output.dims[1]] }],
  });
}

// The gateway runs a decoupled model once per answer, feeding k = 1..n
// (gateway/serving/decoupled.ts): an Identity answers the count itself.
export function buildCounterModel(): Uint8Array {
  const { input, output } = DEMO_MODELS.counter;
  return encodeModel({
    opset: 13,
    graphName: 'counter',
    nodes: [{ opType: 'Identity', name: 'count', inputs: [input.name], outputs: [output.name] }],
    inputs: [{ name: input.name, dataType: 'INT32', shape: [...input.dims] }],
    outputs: [{ name: output.name, dataType: 'INT32', shape: [...output.dims] }],
  });
}

// config.json in Triton's field names. Tensor metadata is deliberately absent:
// the platform reads it from the ONNX graph.
export const DEMO_CONFIGS: Record<DemoModelName, Record<string, unknown>> = {
  mlp: {
    name: 'mlp',
    backend: 'maas',
    max_batch_size: DEMO_MODELS.mlp.maxBatchSize,
    dynamic_batching: { preferred_batch_size: [8, 16, 32], max_queue_delay_microseconds: 500 },
    instance_group: [{ kind: 'KIND_CPU', count: 1 }],
  },
  // No dynamic_batching: identity exists to measure per-request overhead.
  identity: {
    name: 'identity',
    backend: 'maas',
    max_batch_size: DEMO_MODELS.identity.maxBatchSize,
    instance_group: [{ kind: 'KIND_CPU', count: 1 }],
  },
  counter: {
    name: 'counter',
    backend: 'maas',
    max_batch_size: 0,
    model_transaction_policy: { decoupled: true },
    instance_group: [{ kind: 'KIND_CPU', count: 1 }],
  },
  'bert-mini': {
    name: 'bert-mini',
    backend: 'maas',
    max_batch_size: DEMO_MODELS['bert-mini'].maxBatchSize,
    dynamic_batching: { preferred_batch_size: [8], max_queue_delay_microseconds: 2000 },
    instance_group: [{ kind: 'KIND_CPU', count: 1 }],
  },
  'cnn-small': CNN_SMALL_CONFIG,
};

export const DEMO_BUILDERS: Record<DemoModelName, () => Uint8Array> = {
  mlp: buildMlpModel,
  identity: buildIdentityModel,
  counter: buildCounterModel,
  'bert-mini': buildBertMiniModel,
  'cnn-small': buildCnnSmallModel,
};

// Writes <dir>/<model>/config.json and <dir>/<model>/1/model.onnx per demo model.
export async function writeDemoRepository(dir: string): Promise<void> {
  for (const model of Object.keys(DEMO_MODELS) as DemoModelName[]) {
    const versionDir = join(dir, model, '1');
    await mkdir(versionDir, { recursive: true });
    await writeFile(join(dir, model, 'config.json'), `${JSON.stringify(DEMO_CONFIGS[model], null, 2)}\n`);
    await writeFile(join(versionDir, 'model.onnx'), DEMO_BUILDERS[model]());
  }
}

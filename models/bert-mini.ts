// The bert-mini demo model: a BERT encoder (4 layers, hidden 256, 4 heads,
// intermediate 1024, 128 tokens) written the way exporters write one
// (torch.onnx at opset 14 on a Hugging Face BertModel): LayerNorm and GELU as
// primitive ops, the extended attention mask as arithmetic, and every
// reshape's target computed by a Shape → Gather/Slice → Unsqueeze → Concat
// subgraph. Weights come from a seeded PRNG (not trained), so every build is
// byte-identical.
//   input_ids       int64 [batch, 128]   token ids in [0, 1024)
//   attention_mask  int64 [batch, 128]   1 = attend, 0 = padding
//   last_hidden_state float32 [batch, 128, 256]
import { encodeModel, type OnnxAttribute, type OnnxNodeInit, type OnnxTensorInit } from './onnx-writer';
import { seededRandom } from './seeded-random';

export const BERT_MINI = {
  vocabSize: 1024,
  maxPositions: 512,
  sequenceLength: 128,
  hidden: 256,
  heads: 4,
  layers: 4,
  intermediate: 1024,
  layerNormEpsilon: 1e-12,
  seed: 0x42455254, // "BERT"
} as const;

// Builds the node list and initializers, naming values as exporters do.
class GraphBuilder {
  readonly nodes: OnnxNodeInit[] = [];
  readonly initializers: OnnxTensorInit[] = [];
  private counter = 0;
  constructor(private readonly next: () => number) {}

  op(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, outputName?: string): string {
    const output = outputName ?? `/${opType}_${++this.counter}_output_0`;
    this.nodes.push({ opType, name: `/${opType}_${this.counter}`, inputs, outputs: [output], attributes });
    return output;
  }

  // A Constant node holding int64 values (1-D, or a scalar when `scalar`).
  ints(values: number[], scalar = false): string {
    return this.op('Constant', [], {
      value: {
        tensor: {
          name: 'value',
          dataType: 'INT64',
          dims: scalar ? [] : [values.length],
          values: BigInt64Array.from(values, (v) => BigInt(v)),
        },
      },
    });
  }

  float(value: number): string {
    return this.op('Constant', [], {
      value: { tensor: { name: 'value', dataType: 'FLOAT', dims: [], values: Float32Array.from([value]) } },
    });
  }

  // A float32 initializer: uniform in [center - spread, center + spread].
  weight(name: string, dims: number[], spread: number, center = 0): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = center + (this.next() * 2 - 1) * spread;
    this.initializers.push({ name, dataType: 'FLOAT', dims, values });
    return name;
  }

  int64Buffer(name: string, dims: number[], value: (i: number) => number): string {
    const count = dims.reduce((a, b) => a * b, 1);
    this.initializers.push({
      name,
      dataType: 'INT64',
      dims,
      values: BigInt64Array.from({ length: count }, (_, i) => BigInt(value(i))),
    });
    return name;
  }

  // nn.LayerNorm as torch.onnx writes it before opset 17.
  layerNorm(x: string, prefix: string): string {
    const { hidden, layerNormEpsilon } = BERT_MINI;
    const mean = this.op('ReduceMean', [x], { axes: { ints: [-1] } });
    const centered = this.op('Sub', [x, mean]);
    const squared = this.op('Pow', [centered, this.float(2)]);
    const variance = this.op('ReduceMean', [squared], { axes: { ints: [-1] } });
    const shifted = this.op('Add', [variance, this.float(layerNormEpsilon)]);
    const deviation = this.op('Sqrt', [shifted]);
    const normalized = this.op('Div', [centered, deviation]);
    const scaled = this.op('Mul', [normalized, this.weight(`${prefix}.weight`, [hidden], 0.1, 1)]);
    return this.op('Add', [scaled, this.weight(`${prefix}.bias`, [hidden], 0.1)]);
  }

  // x @ W + b, W stored [in, out] as torch.onnx transposes Linear weights.
  linear(x: string, prefix: string, inputs: number, outputs: number): string {
    const bound = 1 / Math.sqrt(inputs);
    const product = this.op('MatMul', [x, this.weight(`${prefix}.weight`, [inputs, outputs], bound)]);
    return this.op('Add', [this.weight(`${prefix}.bias`, [outputs], 0.05), product]);
  }

  // GELU(x) = x · 0.5 · (1 + erf(x / √2)), as torch.onnx writes F.gelu.
  gelu(x: string): string {
    const scaled = this.op('Div', [x, this.float(1.4142135381698608)]);
    const erf = this.op('Erf', [scaled]);
    const onePlus = this.op('Add', [erf, this.float(1)]);
    const product = this.op('Mul', [x, onePlus]);
    return this.op('Mul', [product, this.float(0.5)]);
  }

  // x.view(x.size()[:-keep] + tail): the target shape from x's own shape.
  reshapeKeeping(x: string, dropLast: number, tail: number[]): string {
    const shape = this.op('Shape', [x]);
    const head = this.op('Slice', [shape, this.ints([0]), this.ints([-dropLast]), this.ints([0])]);
    const target = this.op('Concat', [head, this.ints(tail)], { axis: { int: 0 } });
    return this.op('Reshape', [x, target]);
  }
}

function embeddings(g: GraphBuilder): string {
  const { vocabSize, maxPositions, hidden } = BERT_MINI;
  const shape = g.op('Shape', ['input_ids']);
  const seqLen = g.op('Gather', [shape, g.ints([1], true)], { axis: { int: 0 } });
  const seqEnd = g.op('Unsqueeze', [seqLen, g.ints([0])]);
  const positions = g.int64Buffer('embeddings.position_ids', [1, maxPositions], (i) => i);
  const positionIds = g.op('Slice', [positions, g.ints([0]), seqEnd, g.ints([1])]);
  const tokenTypes = g.int64Buffer('embeddings.token_type_ids', [1, maxPositions], () => 0);
  const tokenTypeIds = g.op('Expand', [g.op('Slice', [tokenTypes, g.ints([0]), seqEnd, g.ints([1])]), shape]);
  const words = g.op('Gather', [g.weight('embeddings.word_embeddings.weight', [vocabSize, hidden], 0.1), 'input_ids']);
  const types = g.op('Gather', [g.weight('embeddings.token_type_embeddings.weight', [2, hidden], 0.1), tokenTypeIds]);
  const sum = g.op('Add', [words, types]);
  const placed = g.op('Add', [
    sum,
    g.op('Gather', [g.weight('embeddings.position_embeddings.weight', [maxPositions, hidden], 0.1), positionIds]),
  ]);
  return g.layerNorm(placed, 'embeddings.LayerNorm');
}

// (1 − mask) · float32 min, shaped [batch, 1, 1, seq] to add to the scores.
function extendedMask(g: GraphBuilder): string {
  const m = g.op('Unsqueeze', [g.op('Unsqueeze', ['attention_mask', g.ints([1])]), g.ints([2])]);
  const asFloat = g.op('Cast', [m], { to: { int: 1 } });
  const inverted = g.op('Sub', [g.float(1), asFloat]);
  return g.op('Mul', [inverted, g.float(-3.4028234663852886e38)]);
}

function encoderLayer(g: GraphBuilder, h: string, mask: string, index: number): string {
  const { hidden, heads, intermediate } = BERT_MINI;
  const headSize = hidden / heads;
  const p = `encoder.layer.${index}`;
  const split = (x: string) =>
    g.op('Transpose', [g.reshapeKeeping(x, 1, [heads, headSize])], { perm: { ints: [0, 2, 1, 3] } });
  const q = split(g.linear(h, `${p}.attention.self.query`, hidden, hidden));
  const k = split(g.linear(h, `${p}.attention.self.key`, hidden, hidden));
  const v = split(g.linear(h, `${p}.attention.self.value`, hidden, hidden));
  const kT = g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } });
  const scores = g.op('Div', [g.op('MatMul', [q, kT]), g.float(Math.sqrt(headSize))]);
  const probs = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: { int: -1 } });
  const context = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: { ints: [0, 2, 1, 3] } });
  const merged = g.reshapeKeeping(context, 2, [hidden]);
  const attention = g.linear(merged, `${p}.attention.output.dense`, hidden, hidden);
  const h1 = g.layerNorm(g.op('Add', [attention, h]), `${p}.attention.output.LayerNorm`);
  const inner = g.gelu(g.linear(h1, `${p}.intermediate.dense`, hidden, intermediate));
  const output = g.linear(inner, `${p}.output.dense`, intermediate, hidden);
  return g.layerNorm(g.op('Add', [output, h1]), `${p}.output.LayerNorm`);
}

export function buildBertMiniModel(): Uint8Array {
  const { sequenceLength, hidden, layers } = BERT_MINI;
  const g = new GraphBuilder(seededRandom(BERT_MINI.seed));
  let h = embeddings(g);
  const mask = extendedMask(g);
  for (let layer = 0; layer < layers; layer++) h = encoderLayer(g, h, mask, layer);
  g.op('Identity', [h], undefined, 'last_hidden_state');
  return encodeModel({
    opset: 14,
    producerName: 'maas (exporter-style)',
    graphName: 'bert-mini',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      { name: 'input_ids', dataType: 'INT64', shape: ['batch', sequenceLength] },
      { name: 'attention_mask', dataType: 'INT64', shape: ['batch', sequenceLength] },
    ],
    outputs: [{ name: 'last_hidden_state', dataType: 'FLOAT', shape: ['batch', sequenceLength, hidden] }],
  });
}

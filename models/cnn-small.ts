// cnn-small: a small image classifier written the way exporters write
// ResNet/MobileNet-style networks (Conv without bias followed by
// BatchNormalization, Relu), FP32 [-1, 3, 64, 64] → [-1, 100]:
//   stem     Conv 3→16 3x3 stride 2 + BN + Relu          [16, 32, 32]
//            Conv 16→32 3x3 + BN + Relu                  [32, 32, 32]
//            MaxPool 2x2 stride 2                        [32, 16, 16]
//   dw-sep   depthwise Conv 3x3 (group 32) + BN + Relu,
//            pointwise Conv 32→64 1x1 + BN + Relu        [64, 16, 16]
//   residual Conv 64→64 3x3 + BN + Relu, Conv 64→64 3x3 + BN,
//            Add the block's input, Relu                 [64, 16, 16]
//   head     Conv 64→128 3x3 stride 2 + BN + Relu        [128, 8, 8]
//            GlobalAveragePool, Flatten, Gemm 128→100    [100]
// About 29 M multiply-adds per image. Weights are generated from a seeded
// PRNG (Kaiming-uniform), BatchNorm statistics near identity, so activations
// keep their scale and every build is byte-identical.
import { encodeModel, type OnnxNodeInit, type OnnxTensorInit } from './onnx-writer';
import { seededRandom } from './seeded-random';

export const CNN_SMALL = {
  name: 'cnn-small',
  input: { name: 'image', type: 'float32', dims: [-1, 3, 64, 64] },
  output: { name: 'logits', type: 'float32', dims: [-1, 100] },
  maxBatchSize: 32,
} as const;

// config.json in Triton's field names (tensor metadata comes from the graph).
export const CNN_SMALL_CONFIG: Record<string, unknown> = {
  name: CNN_SMALL.name,
  backend: 'maas',
  max_batch_size: CNN_SMALL.maxBatchSize,
  dynamic_batching: { preferred_batch_size: [8, 16, 32], max_queue_delay_microseconds: 1000 },
  instance_group: [{ kind: 'KIND_CPU', count: 1 }],
};

const SEED = 0x434e4e; // "CNN"
const CLASSES = 100;

class Builder {
  readonly nodes: OnnxNodeInit[] = [];
  readonly initializers: OnnxTensorInit[] = [];
  private readonly next = seededRandom(SEED);

  private uniform(count: number, low: number, high: number): Float32Array {
    const values = new Float32Array(count);
    for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * this.next();
    return values;
  }

  private weight(name: string, dims: number[], low: number, high: number): string {
    const count = dims.reduce((a, b) => a * b, 1);
    this.initializers.push({ name, dataType: 'FLOAT', dims, values: this.uniform(count, low, high) });
    return name;
  }

  // Conv (no bias) + BatchNormalization, optionally + Relu; returns the output name.
  convBn(
    name: string,
    input: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    options: { stride?: number; group?: number; relu?: boolean } = {},
  ): string {
    const { stride = 1, group = 1, relu = true } = options;
    const fanIn = (inChannels / group) * kernel * kernel;
    const bound = Math.sqrt(6 / fanIn); // Kaiming-uniform for Relu
    const w = this.weight(`${name}.weight`, [outChannels, inChannels / group, kernel, kernel], -bound, bound);
    const pad = (kernel - 1) / 2;
    this.nodes.push({
      opType: 'Conv',
      name,
      inputs: [input, w],
      outputs: [`${name}.out`],
      attributes: {
        kernel_shape: { ints: [kernel, kernel] },
        strides: { ints: [stride, stride] },
        pads: { ints: [pad, pad, pad, pad] },
        group: { int: group },
        dilations: { ints: [1, 1] },
      },
    });
    const bn = `${name}.bn`;
    this.nodes.push({
      opType: 'BatchNormalization',
      name: bn,
      inputs: [
        `${name}.out`,
        this.weight(`${bn}.scale`, [outChannels], 0.8, 1.2),
        this.weight(`${bn}.bias`, [outChannels], -0.1, 0.1),
        this.weight(`${bn}.mean`, [outChannels], -0.1, 0.1),
        this.weight(`${bn}.var`, [outChannels], 0.6, 1.4),
      ],
      outputs: [`${bn}.out`],
      attributes: { epsilon: { float: 1e-5 } },
    });
    return relu ? this.relu(`${name}.relu`, `${bn}.out`) : `${bn}.out`;
  }

  relu(name: string, input: string): string {
    this.nodes.push({ opType: 'Relu', name, inputs: [input], outputs: [`${name}.out`] });
    return `${name}.out`;
  }

  node(opType: string, name: string, inputs: string[], attributes: OnnxNodeInit['attributes'] = {}): string {
    this.nodes.push({ opType, name, inputs, outputs: [`${name}.out`], attributes });
    return `${name}.out`;
  }

  gemm(name: string, input: string, inFeatures: number, outFeatures: number, output: string): void {
    const bound = Math.sqrt(6 / (inFeatures + outFeatures)); // Xavier-uniform: moderate logits
    const w = this.weight(`${name}.weight`, [outFeatures, inFeatures], -bound, bound);
    const b = this.weight(`${name}.bias`, [outFeatures], -0.1, 0.1);
    this.nodes.push({
      opType: 'Gemm',
      name,
      inputs: [input, w, b],
      outputs: [output],
      attributes: { transB: { int: 1 } },
    });
  }
}

export function buildCnnSmallModel(): Uint8Array {
  const b = new Builder();
  let x: string = CNN_SMALL.input.name;
  x = b.convBn('stem1', x, 3, 16, 3, { stride: 2 });
  x = b.convBn('stem2', x, 16, 32, 3);
  x = b.node('MaxPool', 'pool', [x], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  x = b.convBn('dw', x, 32, 32, 3, { group: 32 });
  x = b.convBn('pw', x, 32, 64, 1);
  const skip = x;
  x = b.convBn('res1', x, 64, 64, 3);
  x = b.convBn('res2', x, 64, 64, 3, { relu: false });
  x = b.node('Add', 'res.add', [x, skip]);
  x = b.relu('res.relu', x);
  x = b.convBn('head', x, 64, 128, 3, { stride: 2 });
  x = b.node('GlobalAveragePool', 'gap', [x]);
  x = b.node('Flatten', 'flatten', [x], { axis: { int: 1 } });
  b.gemm('fc', x, 128, CLASSES, CNN_SMALL.output.name);
  const { input, output } = CNN_SMALL;
  return encodeModel({
    opset: 13,
    graphName: 'cnn_small',
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: input.name, dataType: 'FLOAT', shape: ['batch', ...input.dims.slice(1)] }],
    outputs: [{ name: output.name, dataType: 'FLOAT', shape: ['batch', output.dims[1]] }],
  });
}

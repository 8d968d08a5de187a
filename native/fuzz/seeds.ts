// Writes the fuzzers' seed corpus: the demo models (models/demo.ts, what
// `maas models demo` serves) and one small model per kernel family, so that
// mutations start from graphs the engine loads and runs. Run by .ci/fuzz.sh:
//   node dist/native/fuzz/seeds.js DIR
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildIdentityModel, buildMlpModel } from '../../models/demo';
import { encodeModel, type OnnxModelInit, type OnnxTensorInit } from '../../models/onnx-writer';

const floats = (name: string, dims: number[], values: number[]): OnnxTensorInit => ({
  name,
  dataType: 'FLOAT',
  dims,
  values: new Float32Array(values),
});
const int64s = (name: string, values: number[]): OnnxTensorInit => ({
  name,
  dataType: 'INT64',
  dims: [values.length],
  values: BigInt64Array.from(values, BigInt),
});

// x: float32 [n, 3] in, y out; every model below reads x and writes y.
function unary(nodes: OnnxModelInit['nodes'], initializers: OnnxTensorInit[] = [], yShape = ['n', 3]): Uint8Array {
  return encodeModel({
    nodes,
    inputs: [{ name: 'x', dataType: 'FLOAT', shape: ['n', 3] }],
    outputs: [{ name: 'y', dataType: 'FLOAT', shape: yShape }],
    initializers,
  });
}

const SMALL_MODELS: Record<string, () => Uint8Array> = {
  add_relu: () =>
    unary(
      [
        { opType: 'Add', inputs: ['x', 'b'], outputs: ['s'] },
        { opType: 'Relu', inputs: ['s'], outputs: ['y'] },
      ],
      [floats('b', [3], [1, -2, 0.5])],
    ),
  arithmetic: () =>
    unary(
      [
        { opType: 'Mul', inputs: ['x', 'k'], outputs: ['m'] },
        { opType: 'Sub', inputs: ['m', 'x'], outputs: ['d'] },
        { opType: 'Div', inputs: ['d', 'k'], outputs: ['t'] },
        { opType: 'Sigmoid', inputs: ['t'], outputs: ['u'] },
        { opType: 'Tanh', inputs: ['u'], outputs: ['y'] },
      ],
      [floats('k', [1, 3], [2, 3, 4])],
    ),
  matmul: () =>
    unary(
      [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      [floats('w', [3, 2], [1, 2, 3, 4, 5, 6])],
      ['n', 2],
    ),
  gemm: () =>
    unary(
      [
        {
          opType: 'Gemm',
          inputs: ['x', 'w', 'c'],
          outputs: ['y'],
          attributes: { transB: { int: 1 }, alpha: { float: 0.5 }, beta: { float: 2 } },
        },
      ],
      [floats('w', [2, 3], [1, 0, -1, 2, 1, 0]), floats('c', [2], [0.25, -0.25])],
      ['n', 2],
    ),
  softmax: () => unary([{ opType: 'Softmax', inputs: ['x'], outputs: ['y'], attributes: { axis: { int: -1 } } }]),
  transpose_concat: () =>
    unary(
      [
        { opType: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: { ints: [1, 0] } } },
        { opType: 'Transpose', inputs: ['t'], outputs: ['u'] },
        { opType: 'Concat', inputs: ['u', 'x'], outputs: ['y'], attributes: { axis: { int: 1 } } },
      ],
      [],
      ['n', 6],
    ),
  reshape_flatten: () =>
    unary(
      [
        { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { opType: 'Flatten', inputs: ['r'], outputs: ['f'], attributes: { axis: { int: 1 } } },
        { opType: 'Identity', inputs: ['f'], outputs: ['y'] },
      ],
      [int64s('shape', [-1, 3, 1])],
    ),
  cast_constant: () =>
    unary([
      {
        opType: 'Constant',
        inputs: [],
        outputs: ['k'],
        attributes: {
          value: { tensor: { name: 'v', dataType: 'INT32', dims: [3], values: new Int32Array([1, -1, 2]) } },
        },
      },
      { opType: 'Cast', inputs: ['x'], outputs: ['xi'], attributes: { to: { int: 6 } } },
      { opType: 'Add', inputs: ['xi', 'k'], outputs: ['s'] },
      { opType: 'Cast', inputs: ['s'], outputs: ['y'], attributes: { to: { int: 1 } } },
    ]),
  // Conv family: Conv + Relu (fused at load), a global pool.
  conv_pool: () =>
    unary(
      [
        { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { opType: 'Conv', inputs: ['r', 'w', 'b'], outputs: ['c'] },
        { opType: 'Relu', inputs: ['c'], outputs: ['a'] },
        { opType: 'GlobalAveragePool', inputs: ['a'], outputs: ['g'] },
        { opType: 'Flatten', inputs: ['g'], outputs: ['y'], attributes: { axis: { int: 1 } } },
      ],
      [int64s('shape', [-1, 1, 3, 1]), floats('w', [2, 1, 1, 1], [0.5, -1]), floats('b', [2], [0.1, 0.2])],
      ['n', 2],
    ),
  // LayerNorm as exporters write it (recognized and fused at load).
  layer_norm_primitive: () =>
    unary(
      [
        { opType: 'ReduceMean', inputs: ['x'], outputs: ['m'], attributes: { axes: { ints: [-1] } } },
        { opType: 'Sub', inputs: ['x', 'm'], outputs: ['d'] },
        { opType: 'Mul', inputs: ['d', 'd'], outputs: ['sq'] },
        { opType: 'ReduceMean', inputs: ['sq'], outputs: ['v'], attributes: { axes: { ints: [-1] } } },
        { opType: 'Add', inputs: ['v', 'eps'], outputs: ['ve'] },
        { opType: 'Sqrt', inputs: ['ve'], outputs: ['s'] },
        { opType: 'Div', inputs: ['d', 's'], outputs: ['y'] },
      ],
      [floats('eps', [1], [1e-5])],
    ),
  gather: () =>
    unary(
      [{ opType: 'Gather', inputs: ['x', 'idx'], outputs: ['y'], attributes: { axis: { int: 1 } } }],
      [int64s('idx', [2, 0])],
      ['n', 2],
    ),
};

async function main(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const models: Record<string, () => Uint8Array> = {
    demo_identity: buildIdentityModel,
    demo_mlp: buildMlpModel,
    ...SMALL_MODELS,
  };
  for (const [name, build] of Object.entries(models)) await writeFile(join(dir, `${name}.onnx`), build());
  console.log(`wrote ${Object.keys(models).length} seed models to ${dir}`);
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node dist/native/fuzz/seeds.js DIR');
  process.exitCode = 2;
} else {
  main(dir).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

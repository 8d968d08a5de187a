// The engine's correctness suite: every op the engine supports, run as a
// one-node (or small) ONNX model through both our engine and onnxruntime-node,
// plus the demo models. Each case is one line of a table; each is one test.
// The convolution family and cnn-small are in engine-ort-conv.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxDataType, type OnnxDataTypeName, type OnnxTensorInit } from '../models/onnx-writer';
import {
  buildIdentityModel,
  buildMlpModel,
  DEMO_BUILDERS,
  DEMO_CONFIGS,
  DEMO_MODELS,
  type DemoModelName,
  writeDemoRepository,
} from '../models/demo';
import type { TensorType } from '../native/types';
import {
  assertTensorClose,
  awayFromZero,
  bools,
  compareWithOrt,
  cycle,
  defaultSource,
  type ElementSource,
  type Feeds,
  integers,
  loadEngineSession,
  randomTensor,
  rngFor,
  runOrt,
  uniform,
} from './support/ort-compare';
import {
  engineModel,
  feedsFor,
  float,
  int,
  ints,
  type ModelCase,
  NONE,
  opCase,
  type Operand,
  out,
  w,
  wTyped,
  x,
} from './support/ort-cases';

// ---- the cases ------------------------------------------------------------

const F = 'float32';

function gemmCases(): ModelCase[] {
  const [M, K, N] = [3, 4, 5];
  const cVariants: Array<[string, Operand]> = [
    ['C [N]', x(F, [N])],
    ['C [1,N]', x(F, [1, N])],
    ['C [M,1]', x(F, [M, 1])],
    ['C [M,N]', x(F, [M, N])],
    ['C scalar', w(F, [], [0.75])],
    ['no C', NONE],
  ];
  const cases: ModelCase[] = [];
  for (const transA of [0, 1]) {
    for (const transB of [0, 1]) {
      const a = transA ? x(F, [K, M]) : x(F, [M, K]);
      const b = transB ? x(F, [N, K]) : x(F, [K, N]);
      for (const [cName, c] of cVariants) {
        const operands = c.kind === 'absent' ? [a, b] : [a, b, c];
        cases.push(
          opCase(`Gemm transA=${transA} transB=${transB} alpha=0.5 beta=2 ${cName}`, 'Gemm', operands, out(F, [M, N]), {
            alpha: float(0.5),
            beta: float(2),
            transA: int(transA),
            transB: int(transB),
          }),
        );
      }
    }
  }
  return [
    ...cases,
    opCase('Gemm default attributes, C [N]', 'Gemm', [x(F, [M, K]), x(F, [K, N]), x(F, [N])], out(F, [M, N])),
    opCase('Gemm absent C given as empty input name', 'Gemm', [x(F, [M, K]), x(F, [K, N]), NONE], out(F, [M, N])),
    opCase('Gemm weights as initializers, transB=1', 'Gemm', [x(F, [M, K]), w(F, [N, K]), w(F, [N])], out(F, [M, N]), {
      transB: int(1),
    }),
    opCase(
      'Gemm weights as typed initializers',
      'Gemm',
      [x(F, [M, K]), wTyped(F, [K, N]), wTyped(F, [N])],
      out(F, [M, N]),
    ),
    // Sizes that are not multiples of any SIMD width: exercises kernel tails.
    opCase(
      'Gemm odd sizes [13,257]x[257,33] transB=1',
      'Gemm',
      [x(F, [13, 257]), w(F, [33, 257]), w(F, [33])],
      out(F, [13, 33]),
      { transB: int(1) },
    ),
  ];
}

function matMulCases(): ModelCase[] {
  return [
    opCase('MatMul 2-D [3,4]x[4,5]', 'MatMul', [x(F, [3, 4]), x(F, [4, 5])], out(F, [3, 5])),
    opCase('MatMul 1-D x 2-D [4]x[4,5]', 'MatMul', [x(F, [4]), x(F, [4, 5])], out(F, [5])),
    opCase('MatMul 2-D x 1-D [3,4]x[4]', 'MatMul', [x(F, [3, 4]), x(F, [4])], out(F, [3])),
    opCase('MatMul batched [2,3,4]x[4,5]', 'MatMul', [x(F, [2, 3, 4]), x(F, [4, 5])], out(F, [2, 3, 5])),
    opCase(
      'MatMul batched both sides [2,3,4]x[2,4,5]',
      'MatMul',
      [x(F, [2, 3, 4]), x(F, [2, 4, 5])],
      out(F, [2, 3, 5]),
    ),
    opCase('MatMul broadcast [2,1,3,4]x[5,4,6]', 'MatMul', [x(F, [2, 1, 3, 4]), x(F, [5, 4, 6])], out(F, [2, 5, 3, 6])),
    opCase('MatMul weight initializer [3,4]x[4,5]', 'MatMul', [x(F, [3, 4]), w(F, [4, 5])], out(F, [3, 5])),
    opCase('MatMul odd sizes [37,70]x[70,19]', 'MatMul', [x(F, [37, 70]), x(F, [70, 19])], out(F, [37, 19])),
  ];
}

// Binary elementwise ops × dtypes × numpy broadcasting patterns.
function binaryCases(): ModelCase[] {
  const divisor = (type: TensorType): ElementSource =>
    type.startsWith('float') ? awayFromZero(0.5, 4) : integers(-9, 9, true);
  const cases: ModelCase[] = [];
  for (const opType of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const type of [F, 'float64', 'int32', 'int64'] as TensorType[]) {
      // Divisors avoid 0 (and for floats, the neighbourhood of 0).
      const b = opType === 'Div' ? divisor(type) : undefined;
      const shapes: Array<[string, Operand, Operand, number[]]> = [
        ['same shape [2,3]', x(type, [2, 3]), x(type, [2, 3], b), [2, 3]],
        ['[2,3,4] and [4]', x(type, [2, 3, 4]), x(type, [4], b), [2, 3, 4]],
        ['[2,1,4] and [3,1]', x(type, [2, 1, 4]), x(type, [3, 1], b), [2, 3, 4]],
        ['[1] and [2,3]', x(type, [1]), x(type, [2, 3], b), [2, 3]],
        ['[2,3] and scalar initializer', x(type, [2, 3]), w(type, [], undefined, b ?? defaultSource(type)), [2, 3]],
        ['odd length [3,5,7] same shape', x(type, [3, 5, 7]), x(type, [3, 5, 7], b), [3, 5, 7]],
      ];
      for (const [shapeName, left, right, dims] of shapes) {
        cases.push(opCase(`${opType} ${type} ${shapeName}`, opType, [left, right], out(type, dims)));
      }
    }
  }
  return [
    ...cases,
    opCase('Add int32 typed initializer [3]', 'Add', [x('int32', [2, 3]), wTyped('int32', [3])], out('int32', [2, 3])),
    opCase(
      'Add int64 typed initializer [3]',
      'Add',
      [x('int64', [2, 3]), wTyped('int64', [3], [-5, 0, 1e12])],
      out('int64', [2, 3]),
    ),
    opCase('Add float32 typed initializer [3]', 'Add', [x(F, [2, 3]), wTyped(F, [3])], out(F, [2, 3])),
    // ONNX integer Div truncates toward zero: -7/2 = -3, 7/-2 = -3.
    opCase(
      'Div int32 truncates negatives',
      'Div',
      [x('int32', [8], cycle([-7, 7, -7, 7, -1, 1, 0, -9])), x('int32', [8], cycle([2, -2, -2, 2, 2, -2, 3, 4]))],
      out('int32', [8]),
    ),
    opCase(
      'Div int64 truncates negatives',
      'Div',
      [x('int64', [8], cycle([-7, 7, -7, 7, -1, 1, 0, -9])), x('int64', [8], cycle([2, -2, -2, 2, 2, -2, 3, 4]))],
      out('int64', [8]),
    ),
  ];
}

// Edge values for the squashing functions: saturation, overflow of exp, zero.
const EXTREMES = [-1000, -100, -88.8, -30, -20, -5, -1, -0.5, 0, 0.5, 1, 5, 20, 30, 88.8, 100, 1000];

function unaryCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const opType of ['Relu', 'Sigmoid', 'Tanh']) {
    cases.push(opCase(`${opType} [2,3,4]`, opType, [x(F, [2, 3, 4], uniform(-4, 4))], out(F, [2, 3, 4])));
    cases.push(opCase(`${opType} odd length [3,5,7]`, opType, [x(F, [3, 5, 7], uniform(-4, 4))], out(F, [3, 5, 7])));
    cases.push(
      opCase(`${opType} large |x|`, opType, [x(F, [EXTREMES.length], cycle(EXTREMES))], out(F, [EXTREMES.length])),
    );
    cases.push(
      opCase(
        `${opType} float64 large |x|`,
        opType,
        [x('float64', [EXTREMES.length], cycle(EXTREMES))],
        out('float64', [EXTREMES.length]),
      ),
    );
  }
  // Integer Relu exists from opset 14. (int64 Relu is left out: onnxruntime's
  // CPU provider has no kernel for it, so there is no reference to compare.)
  cases.push(opCase('Relu int32 (opset 14)', 'Relu', [x('int32', [3, 5])], out('int32', [3, 5]), {}, 14));
  return cases;
}

// Big enough that the kernels split the work across the thread pool.
function parallelCases(): ModelCase[] {
  return [
    opCase('parallel: Add [40,1000] + [1000]', 'Add', [x(F, [40, 1000]), x(F, [1000])], out(F, [40, 1000])),
    opCase('parallel: Mul [40,1,1000] x [7,1]', 'Mul', [x(F, [40, 1, 1000]), x(F, [7, 1])], out(F, [40, 7, 1000])),
    opCase('parallel: Sigmoid [40,1000]', 'Sigmoid', [x(F, [40, 1000], uniform(-10, 10))], out(F, [40, 1000])),
    opCase(
      'parallel: Softmax axis 1 on [300,100]',
      'Softmax',
      [x(F, [300, 100], uniform(-10, 10))],
      out(F, [300, 100]),
      { axis: int(1) },
    ),
    opCase(
      'parallel: Softmax axis 0 on [100,300]',
      'Softmax',
      [x(F, [100, 300], uniform(-10, 10))],
      out(F, [100, 300]),
      { axis: int(0) },
    ),
    opCase('parallel: MatMul [64,256]x[256,128]', 'MatMul', [x(F, [64, 256]), w(F, [256, 128])], out(F, [64, 128])),
    opCase(
      'parallel: Gemm [96,784]x[128,784]^T + [128]',
      'Gemm',
      [x(F, [96, 784], uniform(0, 1)), w(F, [128, 784]), w(F, [128])],
      out(F, [96, 128]),
      { transB: int(1) },
    ),
    opCase('parallel: Transpose [0,2,1] on [50,40,30]', 'Transpose', [x(F, [50, 40, 30])], out(F, [50, 30, 40]), {
      perm: ints([0, 2, 1]),
    }),
  ];
}

function softmaxCases(): ModelCase[] {
  return [
    opCase('Softmax axis 1 on [2,3,4]', 'Softmax', [x(F, [2, 3, 4])], out(F, [2, 3, 4]), { axis: int(1) }),
    opCase('Softmax axis -1 on [2,3,4]', 'Softmax', [x(F, [2, 3, 4])], out(F, [2, 3, 4]), { axis: int(-1) }),
    opCase('Softmax axis 0 on [2,3,4]', 'Softmax', [x(F, [2, 3, 4])], out(F, [2, 3, 4]), { axis: int(0) }),
    opCase('Softmax default axis (-1) on [4,10]', 'Softmax', [x(F, [4, 10])], out(F, [4, 10])),
    // Needs the max subtracted first: exp(1000) overflows float32.
    opCase(
      'Softmax large logits',
      'Softmax',
      [x(F, [2, 5], cycle([1000, 1001, 1002, 999, 1000, -1000, 0, 50, -50, 88]))],
      out(F, [2, 5]),
      { axis: int(1) },
    ),
  ];
}

function shapeOpCases(): ModelCase[] {
  const i64 = 'int64';
  return [
    opCase('Identity float32', 'Identity', [x(F, [2, 3])], out(F, [2, 3])),
    opCase('Identity int64', 'Identity', [x(i64, [2, 3])], out(i64, [2, 3])),
    opCase('Identity bool', 'Identity', [x('bool', [2, 5])], out('bool', [2, 5])),
    opCase('Reshape [2,3,4] to [0,-1]', 'Reshape', [x(F, [2, 3, 4]), w(i64, [2], [0, -1])], out(F, [2, 12])),
    opCase('Reshape [2,3,4] to [-1,4]', 'Reshape', [x(F, [2, 3, 4]), w(i64, [2], [-1, 4])], out(F, [6, 4])),
    opCase('Reshape [2,3,4] to [4,0,-1]', 'Reshape', [x(F, [2, 3, 4]), w(i64, [3], [4, 0, -1])], out(F, [4, 3, 2])),
    opCase('Reshape [2,3,4] to [24]', 'Reshape', [x(F, [2, 3, 4]), w(i64, [1], [24])], out(F, [24])),
    opCase(
      'Reshape int64 data, typed shape [3,-1]',
      'Reshape',
      [x(i64, [2, 3, 4]), wTyped(i64, [2], [3, -1])],
      out(i64, [3, 8]),
    ),
    opCase('Flatten axis 0 on [2,3,4]', 'Flatten', [x(F, [2, 3, 4])], out(F, [1, 24]), { axis: int(0) }),
    opCase('Flatten axis 1 on [2,3,4]', 'Flatten', [x(F, [2, 3, 4])], out(F, [2, 12]), { axis: int(1) }),
    opCase('Flatten axis 2 on [2,3,4]', 'Flatten', [x(F, [2, 3, 4])], out(F, [6, 4]), { axis: int(2) }),
    opCase('Flatten default axis on [2,3,4,5]', 'Flatten', [x(F, [2, 3, 4, 5])], out(F, [2, 60])),
    opCase('Transpose default perm [3,4]', 'Transpose', [x(F, [3, 4])], out(F, [4, 3])),
    opCase('Transpose default perm [2,3,4]', 'Transpose', [x(F, [2, 3, 4])], out(F, [4, 3, 2])),
    opCase('Transpose perm [0,2,1] on [2,3,4]', 'Transpose', [x(F, [2, 3, 4])], out(F, [2, 4, 3]), {
      perm: ints([0, 2, 1]),
    }),
    opCase('Transpose perm [1,0,2] on [2,3,4]', 'Transpose', [x(F, [2, 3, 4])], out(F, [3, 2, 4]), {
      perm: ints([1, 0, 2]),
    }),
    opCase('Transpose perm [2,0,1] on [2,3,4]', 'Transpose', [x(F, [2, 3, 4])], out(F, [4, 2, 3]), {
      perm: ints([2, 0, 1]),
    }),
    opCase('Transpose perm [0,2,3,1] on [2,3,4,5]', 'Transpose', [x(F, [2, 3, 4, 5])], out(F, [2, 4, 5, 3]), {
      perm: ints([0, 2, 3, 1]),
    }),
    opCase('Transpose perm [0,3,1,2] on [2,3,4,5]', 'Transpose', [x(F, [2, 3, 4, 5])], out(F, [2, 5, 3, 4]), {
      perm: ints([0, 3, 1, 2]),
    }),
    opCase('Transpose perm [3,1,2,0] on int64 [2,3,4,5]', 'Transpose', [x(i64, [2, 3, 4, 5])], out(i64, [5, 3, 4, 2]), {
      perm: ints([3, 1, 2, 0]),
    }),
    opCase('Concat axis 0', 'Concat', [x(F, [2, 3]), x(F, [4, 3])], out(F, [6, 3]), { axis: int(0) }),
    opCase('Concat axis 1', 'Concat', [x(F, [2, 3]), x(F, [2, 5])], out(F, [2, 8]), { axis: int(1) }),
    opCase('Concat axis -1 on 3-D', 'Concat', [x(F, [2, 3, 1]), x(F, [2, 3, 4])], out(F, [2, 3, 5]), { axis: int(-1) }),
    opCase(
      'Concat three inputs axis 1',
      'Concat',
      [x(F, [2, 1, 4]), x(F, [2, 3, 4]), x(F, [2, 2, 4])],
      out(F, [2, 6, 4]),
      { axis: int(1) },
    ),
    opCase(
      'Concat input with initializer axis 0',
      'Concat',
      [x(F, [2, 3]), w(F, [1, 3]), x(F, [3, 3])],
      out(F, [6, 3]),
      { axis: int(0) },
    ),
    opCase('Concat int64 axis 0', 'Concat', [x(i64, [2]), w(i64, [3], [7, -8, 9])], out(i64, [5]), { axis: int(0) }),
  ];
}

function castCases(): ModelCase[] {
  const to = (type: OnnxDataTypeName) => ({ to: int(OnnxDataType[type]) });
  // Fractions and negatives: Cast to int truncates toward zero.
  const fractions = cycle([-2.75, -1.5, -0.5, -0.25, 0, 0.25, 0.5, 1.5, 2.75, 3.999, -3.999, 100.5]);
  return [
    opCase('Cast float32 to int64', 'Cast', [x(F, [3, 4], fractions)], out('int64', [3, 4]), to('INT64')),
    opCase('Cast int64 to float32', 'Cast', [x('int64', [3, 4], integers(-1000, 1000))], out(F, [3, 4]), to('FLOAT')),
    opCase(
      'Cast float32 to bool',
      'Cast',
      [x(F, [3, 4], cycle([0, -0, 1, -1, 0.001, -2.5, 0, 7, 0, 1e-30, 3, 0]))],
      out('bool', [3, 4]),
      to('BOOL'),
    ),
    opCase('Cast bool to float32', 'Cast', [x('bool', [3, 4], bools)], out(F, [3, 4]), to('FLOAT')),
    opCase(
      'Cast int32 to float32',
      'Cast',
      [x('int32', [3, 4], integers(-100000, 100000))],
      out(F, [3, 4]),
      to('FLOAT'),
    ),
  ];
}

// Multi-node graphs, written out by hand.
function graphCases(): ModelCase[] {
  const rng = rngFor('graph cases/initializers');
  const weight = (name: string, dims: number[], encoding: 'raw' | 'typed' = 'raw'): OnnxTensorInit => {
    const t = randomTensor(F, dims, rng, uniform(-1, 1));
    return { name, dataType: 'FLOAT', dims, values: t.data, encoding };
  };
  const constantTensor = (
    name: string,
    dataType: OnnxDataTypeName,
    dims: number[],
    values: OnnxTensorInit['values'],
    encoding: 'raw' | 'typed',
  ): OnnxTensorInit => ({ name, dataType, dims, values, encoding });
  return [
    {
      name: 'chain MatMul -> Add -> Relu -> Softmax',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [5, 16] }],
      initializers: [weight('W', [16, 8]), weight('b', [8])],
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['mm'] },
        { opType: 'Add', inputs: ['mm', 'b'], outputs: ['biased'] },
        { opType: 'Relu', inputs: ['biased'], outputs: ['act'] },
        { opType: 'Softmax', inputs: ['act'], outputs: ['y'], attributes: { axis: int(1) } },
      ],
      outputs: { y: out(F, [5, 8]) },
    },
    {
      name: 'chain Reshape -> Transpose -> Flatten -> Gemm -> Sigmoid, typed weights',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [2, 12] }],
      initializers: [
        constantTensor('shape', 'INT64', [3], BigInt64Array.from([0n, 3n, -1n]), 'typed'),
        weight('W', [12, 3], 'typed'),
        weight('b', [3], 'typed'),
      ],
      nodes: [
        { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { opType: 'Transpose', inputs: ['r'], outputs: ['t'], attributes: { perm: ints([0, 2, 1]) } },
        { opType: 'Flatten', inputs: ['t'], outputs: ['f'], attributes: { axis: int(1) } },
        { opType: 'Gemm', inputs: ['f', 'W', 'b'], outputs: ['g'] },
        { opType: 'Sigmoid', inputs: ['g'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [2, 3]) },
    },
    {
      name: 'chain with two outputs: Tanh and Concat of intermediate',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [3, 4] }],
      initializers: [],
      nodes: [
        { opType: 'Tanh', inputs: ['x'], outputs: ['t'] },
        { opType: 'Mul', inputs: ['t', 'x'], outputs: ['m'] },
        { opType: 'Concat', inputs: ['t', 'm'], outputs: ['y'], attributes: { axis: int(0) } },
      ],
      outputs: { t: out(F, [3, 4]), y: out(F, [6, 4]) },
    },
    {
      name: 'Constant (raw value) feeding Add',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [2, 3] }],
      initializers: [],
      nodes: [
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['c'],
          attributes: {
            value: { tensor: constantTensor('c', 'FLOAT', [3], Float32Array.from([0.5, -1.25, 3]), 'raw') },
          },
        },
        { opType: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [2, 3]) },
    },
    {
      name: 'Constant (typed int64 value) feeding Add',
      opset: 13,
      inputs: [{ name: 'x', type: 'int64', dims: [2, 3] }],
      initializers: [],
      nodes: [
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['c'],
          attributes: {
            value: { tensor: constantTensor('c', 'INT64', [3], BigInt64Array.from([4n, -9n, 10n]), 'typed') },
          },
        },
        { opType: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
      ],
      outputs: { y: out('int64', [2, 3]) },
    },
    {
      name: 'Constant int64 as the shape of a Reshape',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [2, 3, 4] }],
      initializers: [],
      nodes: [
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['shape'],
          attributes: {
            value: { tensor: constantTensor('shape', 'INT64', [2], BigInt64Array.from([-1n, 6n]), 'raw') },
          },
        },
        { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [4, 6]) },
    },
    {
      name: 'bool initializer (typed) cast to float32 and added',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [2, 4] }],
      initializers: [constantTensor('mask', 'BOOL', [4], Uint8Array.from([1, 0, 0, 1]), 'typed')],
      nodes: [
        { opType: 'Cast', inputs: ['mask'], outputs: ['m'], attributes: { to: int(OnnxDataType.FLOAT) } },
        { opType: 'Add', inputs: ['x', 'm'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [2, 4]) },
    },
    {
      name: 'bool round trip: Cast float32 -> bool -> float32',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [10], source: cycle([0, 1, -1, 0, 0.5, 0, -0.5, 2, 0, 0]) }],
      initializers: [],
      nodes: [
        { opType: 'Cast', inputs: ['x'], outputs: ['b'], attributes: { to: int(OnnxDataType.BOOL) } },
        { opType: 'Cast', inputs: ['b'], outputs: ['y'], attributes: { to: int(OnnxDataType.FLOAT) } },
      ],
      outputs: { b: out('bool', [10]), y: out(F, [10]) },
    },
  ];
}

const OP_CASES: ModelCase[] = [
  ...gemmCases(),
  ...matMulCases(),
  ...binaryCases(),
  ...unaryCases(),
  ...softmaxCases(),
  ...shapeOpCases(),
  ...castCases(),
  ...graphCases(),
  ...parallelCases(),
];

describe('engine vs onnxruntime: ops', () => {
  for (const c of OP_CASES) {
    test(c.name, async () => {
      await compareWithOrt(engineModel(c), feedsFor(c), c.outputs);
    });
  }
});

// ---- demo models ------------------------------------------------------------

// Pixel-like inputs in [0, 1); `salt` varies the data between equal batches.
function mlpFeeds(batch: number, salt = 0): Feeds {
  const { input } = DEMO_MODELS.mlp;
  const rng = rngFor(`mlp batch ${batch} salt ${salt}`);
  return { [input.name]: randomTensor('float32', [batch, input.dims[1]], rng, uniform(0, 1)) };
}

describe('engine vs onnxruntime: demo models', () => {
  const { mlp, identity } = DEMO_MODELS;

  for (const batch of [1, 7, mlp.maxBatchSize]) {
    test(`mlp batch ${batch}`, async () => {
      await compareWithOrt(buildMlpModel(), mlpFeeds(batch), { [mlp.output.name]: out('float32', [batch, 10]) });
    });
  }

  for (const batch of [1, 5]) {
    test(`identity batch ${batch}`, async () => {
      const feeds = { [identity.input.name]: randomTensor('float32', [batch, 16], rngFor(`identity ${batch}`)) };
      const { engine } = await compareWithOrt(buildIdentityModel(), feeds, {
        [identity.output.name]: out('float32', [batch, 16]),
      });
      assert.deepEqual(engine[identity.output.name].data, feeds[identity.input.name].data);
    });
  }

  test('one mlp session serves batch sizes 1, 7, 1 in turn', async () => {
    // Plans are cached per input shape; a second shape must not disturb the first.
    const session = await loadEngineSession(buildMlpModel());
    try {
      for (const batch of [1, 7, 1]) {
        const feeds = mlpFeeds(batch);
        const reference = await runOrt(buildMlpModel(), feeds);
        const ours = await session.run(feeds);
        assertTensorClose(ours[mlp.output.name], reference[mlp.output.name], `batch ${batch}`);
      }
    } finally {
      session.release();
    }
  });

  test('concurrent runs on one mlp session match onnxruntime', async () => {
    // run() is asynchronous; overlapping runs must not share scratch memory.
    const session = await loadEngineSession(buildMlpModel());
    try {
      const batches = [1, 7, 3, 7, 16, 1];
      const feeds = batches.map((batch, i) => mlpFeeds(batch, i));
      const ours = await Promise.all(feeds.map((f) => session.run(f)));
      for (let i = 0; i < batches.length; i++) {
        const reference = await runOrt(buildMlpModel(), feeds[i]);
        assertTensorClose(ours[i][mlp.output.name], reference[mlp.output.name], `run ${i} (batch ${batches[i]})`);
      }
    } finally {
      session.release();
    }
  });

  test("engine reports the demo models' tensor metadata from the graph", async () => {
    for (const [build, model] of [
      [buildMlpModel, mlp],
      [buildIdentityModel, identity],
    ] as const) {
      const session = await loadEngineSession(build());
      try {
        const metadata = (t: typeof model.input | typeof model.output) => [
          { name: t.name, type: t.type, dims: [...t.dims] },
        ];
        assert.deepEqual(session.inputMetadata, metadata(model.input));
        assert.deepEqual(session.outputMetadata, metadata(model.output));
      } finally {
        session.release();
      }
    }
  });
});

// These check the demo models themselves and need only onnxruntime.
describe('demo models', () => {
  test('builds are byte-identical (seeded weights)', () => {
    assert.deepEqual(buildMlpModel(), buildMlpModel());
    assert.deepEqual(buildIdentityModel(), buildIdentityModel());
  });

  test('mlp outputs are probabilities that are neither one-hot nor flat', async () => {
    const outputs = await runOrt(buildMlpModel(), mlpFeeds(7));
    const probs = outputs[DEMO_MODELS.mlp.output.name].data as Float32Array;
    for (let row = 0; row < 7; row++) {
      const p = Array.from(probs.subarray(row * 10, row * 10 + 10));
      const sum = p.reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to ${sum}`);
      assert.ok(Math.max(...p) < 0.9, `row ${row} is nearly one-hot: ${p}`);
      assert.ok(Math.max(...p) - Math.min(...p) > 0.02, `row ${row} is nearly flat: ${p}`);
    }
  });

  test('writeDemoRepository writes Triton-style configs and loadable models', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maas-demo-'));
    try {
      await writeDemoRepository(dir);
      for (const name of Object.keys(DEMO_MODELS) as DemoModelName[]) {
        const config = JSON.parse(await readFile(join(dir, name, 'config.json'), 'utf8'));
        assert.deepEqual(config, DEMO_CONFIGS[name]);
        assert.equal(config.name, name);
        assert.equal(config.input, undefined, 'tensor metadata comes from the graph, not config');
        const bytes = new Uint8Array(await readFile(join(dir, name, '1', 'model.onnx')));
        assert.deepEqual(bytes, DEMO_BUILDERS[name]());
      }
      assert.deepEqual(JSON.parse(await readFile(join(dir, 'mlp', 'config.json'), 'utf8')), {
        name: 'mlp',
        backend: 'maas',
        max_batch_size: 32,
        dynamic_batching: { preferred_batch_size: [8, 16, 32], max_queue_delay_microseconds: 500 },
        instance_group: [{ kind: 'KIND_CPU', count: 1 }],
      });
      assert.deepEqual(JSON.parse(await readFile(join(dir, 'identity', 'config.json'), 'utf8')), {
        name: 'identity',
        backend: 'maas',
        max_batch_size: 64,
        instance_group: [{ kind: 'KIND_CPU', count: 1 }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('identity model runs in onnxruntime with symbolic batch', async () => {
    const feeds = { input: randomTensor('float32', [3, 16], rngFor('identity ort')) };
    const outputs = await runOrt(buildIdentityModel(), feeds);
    assert.deepEqual(outputs.output.dims, [3, 16]);
    assert.deepEqual(outputs.output.data, feeds.input.data);
  });
});

// The engine against onnxruntime-node on the ops that select, repeat or
// describe data: Squeeze, Unsqueeze, Slice, Split, Gather, Expand, Tile,
// Shape, Size, ConstantOfShape, Range — their opset variants (attributes vs
// inputs), negative axes and indices, clamping, and a spread of dtypes (the
// kernels move bytes, so element width is what varies).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OnnxAttribute } from '../models/onnx-writer';
import type { TensorType } from '../native/types';
import { cycle, integers, loadEngineSession, uniform } from './support/ort-compare';
import {
  caseTestsRegistered,
  describeCaseGroups,
  engineModel,
  feedsFor,
  int,
  ints,
  type ModelCase,
  NONE,
  onnxType,
  opCase,
  type Operand,
  out,
  w,
  x,
} from './support/ort-cases';

const F = 'float32';
const I64 = 'int64';
// One type of each element width, plus the two needing the transport.
const WIDTHS: TensorType[] = ['float32', 'int64', 'float16', 'bfloat16', 'uint8', 'bool'];

// Reference: onnxruntime runs these data-movement ops on nearly every dtype,
// so the model runs as it is, except that bfloat16 (which it mostly lacks)
// is moved as float32, exactly. Results must match bit for bit.
function direct(c: ModelCase): ModelCase {
  const bf16 = c.inputs.some((i) => i.type === 'bfloat16');
  return { ...c, reference: bf16 ? 'widen' : 'direct', exact: true };
}

function squeezeCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of WIDTHS) {
    cases.push(
      direct(
        opCase(`Squeeze ${type} axes input [1]`, 'Squeeze', [x(type, [2, 1, 3]), w(I64, [1], [1])], out(type, [2, 3])),
      ),
    );
    cases.push(
      direct(
        opCase(
          `Unsqueeze ${type} axes input [0, 3]`,
          'Unsqueeze',
          [x(type, [2, 3]), w(I64, [2], [0, 3])],
          out(type, [1, 2, 3, 1]),
        ),
      ),
    );
  }
  cases.push(
    direct(opCase('Squeeze axes [-1]', 'Squeeze', [x(F, [2, 3, 1]), w(I64, [1], [-1])], out(F, [2, 3]))),
    direct(opCase('Squeeze axes [0, 2]', 'Squeeze', [x(F, [1, 3, 1, 2]), w(I64, [2], [0, 2])], out(F, [3, 2]))),
    direct(opCase('Squeeze without axes drops every 1', 'Squeeze', [x(F, [1, 2, 1, 3, 1])], out(F, [2, 3]))),
    direct(
      opCase('Squeeze opset 11 axes attribute', 'Squeeze', [x(F, [2, 1, 3])], out(F, [2, 3]), { axes: ints([-2]) }, 11),
    ),
    direct(
      opCase('Squeeze axes as a graph input', 'Squeeze', [x(F, [2, 1, 3]), x(I64, [1], cycle([1]))], out(F, [2, 3])),
    ),
    direct(opCase('Unsqueeze axes [-1]', 'Unsqueeze', [x(F, [2, 3]), w(I64, [1], [-1])], out(F, [2, 3, 1]))),
    direct(
      opCase('Unsqueeze unsorted axes [3, 0]', 'Unsqueeze', [x(F, [2, 3]), w(I64, [2], [3, 0])], out(F, [1, 2, 3, 1])),
    ),
    direct(opCase('Unsqueeze scalar', 'Unsqueeze', [x(F, []), w(I64, [1], [0])], out(F, [1]))),
    direct(
      opCase(
        'Unsqueeze opset 11 axes attribute',
        'Unsqueeze',
        [x(F, [2, 3])],
        out(F, [2, 1, 3]),
        { axes: ints([1]) },
        11,
      ),
    ),
    direct(
      opCase(
        'Unsqueeze axes as a graph input',
        'Unsqueeze',
        [x(F, [2, 3]), x(I64, [2], cycle([0, -1]))],
        out(F, [1, 2, 3, 1]),
      ),
    ),
  );
  return cases;
}

function sliceCases(): ModelCase[] {
  const big = 2 ** 62; // "to the end", as exporters write INT64_MAX (a double rounds it; still past the end)
  const s = (
    name: string,
    dims: number[],
    starts: number[],
    ends: number[],
    axes: number[] | null,
    steps: number[] | null,
    outDims: number[],
    type: TensorType = F,
    indexType: TensorType = I64,
  ): ModelCase => {
    const operands: Operand[] = [
      x(type, dims),
      w(indexType, [starts.length], starts),
      w(indexType, [ends.length], ends),
    ];
    if (axes || steps) operands.push(axes ? w(indexType, [axes.length], axes) : NONE);
    if (steps) operands.push(w(indexType, [steps.length], steps));
    return direct(opCase(`Slice ${name}`, 'Slice', operands, out(type, outDims)));
  };
  const cases = [
    s('basic', [4, 5], [1, 0], [3, 4], null, null, [2, 4]),
    s('negative starts and ends', [4, 5], [-3, -4], [-1, -1], [0, 1], null, [2, 3]),
    s('end past the end', [4, 5], [1], [big], [1], null, [4, 4]),
    s('clamped out-of-range start and end', [4, 5], [-100, 2], [100, 100], [0, 1], null, [4, 3]),
    s('step 2', [6, 5], [0], [6], [0], [2], [3, 5]),
    s('step 3 with a remainder', [7, 5], [1], [7], [0], [3], [2, 5]),
    s('step -1 reverses', [4, 5], [-1], [-big], [1], [-1], [4, 5]),
    s('step -2 from the end', [4, 7], [6], [0], [1], [-2], [4, 3]),
    s('negative axis', [2, 3, 4], [1], [3], [-1], null, [2, 3, 2]),
    s('axes in any order', [3, 4, 5], [1, 0], [3, 2], [2, 0], null, [2, 4, 2]),
    s('empty result', [4, 5], [3], [1], [0], null, [0, 5]),
    s('int32 starts and ends', [4, 5], [1], [3], [1], null, [4, 2], F, 'int32'),
    s('3-D inner dims', [2, 6, 4], [1, 1], [5, 3], [1, 2], [2, 1], [2, 2, 2]),
  ];
  for (const type of WIDTHS) cases.push(s(`${type} with step 2`, [4, 6], [0, 1], [4, 6], [0, 1], [1, 2], [4, 3], type));
  cases.push(
    direct(
      opCase(
        'Slice opset 1 attributes',
        'Slice',
        [x(F, [4, 5])],
        out(F, [2, 3]),
        { starts: ints([1, -4]), ends: ints([3, 4]), axes: ints([0, 1]) },
        1,
      ),
    ),
    direct(
      opCase(
        'Slice starts from a graph input',
        'Slice',
        [x(F, [4, 5]), x(I64, [1], cycle([1])), w(I64, [1], [4]), w(I64, [1], [1])],
        out(F, [4, 3]),
      ),
    ),
  );
  return cases;
}

function splitCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of WIDTHS) {
    cases.push(
      direct(
        opCase(
          `Split ${type} sizes [2,3] on axis 1`,
          'Split',
          [x(type, [3, 5]), w(I64, [2], [2, 3])],
          [out(type, [3, 2]), out(type, [3, 3])],
          { axis: int(1) },
        ),
      ),
    );
  }
  cases.push(
    direct(
      opCase('Split equal parts on axis 0', 'Split', [x(F, [6, 2])], [out(F, [2, 2]), out(F, [2, 2]), out(F, [2, 2])]),
    ),
    direct(
      opCase(
        'Split axis -1',
        'Split',
        [x(F, [2, 3, 4]), w(I64, [3], [1, 1, 2])],
        [out(F, [2, 3, 1]), out(F, [2, 3, 1]), out(F, [2, 3, 2])],
        { axis: int(-1) },
      ),
    ),
    direct(
      opCase(
        'Split with a zero-size part',
        'Split',
        [x(F, [2, 4]), w(I64, [3], [1, 0, 3])],
        [out(F, [2, 1]), out(F, [2, 0]), out(F, [2, 3])],
        { axis: int(1) },
      ),
    ),
    direct(
      opCase(
        'Split opset 11 split attribute',
        'Split',
        [x(F, [5, 2])],
        [out(F, [1, 2]), out(F, [4, 2])],
        { split: ints([1, 4]) },
        11,
      ),
    ),
    direct(
      opCase(
        'Split opset 18 num_outputs, uneven',
        'Split',
        [x(F, [5, 2])],
        [out(F, [2, 2]), out(F, [2, 2]), out(F, [1, 2])],
        { num_outputs: int(3) },
        18,
      ),
    ),
  );
  return cases;
}

function gatherCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of WIDTHS) {
    cases.push(
      direct(
        opCase(
          `Gather ${type} rows of [10,4] by [2,3]`,
          'Gather',
          [x(type, [10, 4]), x(I64, [2, 3], integers(0, 9))],
          out(type, [2, 3, 4]),
        ),
      ),
    );
  }
  cases.push(
    direct(
      opCase('Gather axis 1', 'Gather', [x(F, [3, 5, 2]), w(I64, [4], [4, 0, 2, 2])], out(F, [3, 4, 2]), {
        axis: int(1),
      }),
    ),
    direct(opCase('Gather axis -1', 'Gather', [x(F, [3, 5]), w(I64, [2], [1, 3])], out(F, [3, 2]), { axis: int(-1) })),
    direct(opCase('Gather negative indices', 'Gather', [x(F, [6, 3]), x(I64, [5], integers(-6, 5))], out(F, [5, 3]))),
    direct(opCase('Gather int32 indices', 'Gather', [x(F, [6, 3]), x('int32', [4], integers(-6, 5))], out(F, [4, 3]))),
    direct(
      opCase('Gather scalar index drops the dim', 'Gather', [x(F, [4, 3]), w(I64, [], [2])], out(F, [3]), {
        axis: int(0),
      }),
    ),
    direct(opCase('Gather from a 1-D int64 shape', 'Gather', [x(I64, [4]), w(I64, [], [1])], out(I64, []))),
    direct(
      opCase(
        'parallel: Gather embedding [1000,256] by [8,128]',
        'Gather',
        [w(F, [1000, 256], undefined, uniform(-1, 1)), x(I64, [8, 128], integers(0, 999))],
        out(F, [8, 128, 256]),
      ),
    ),
  );
  return cases;
}

function expandTileCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of WIDTHS) {
    cases.push(
      direct(
        opCase(
          `Expand ${type} [3,1] to [2,3,4]`,
          'Expand',
          [x(type, [3, 1]), w(I64, [3], [2, 3, 4])],
          out(type, [2, 3, 4]),
        ),
      ),
    );
    cases.push(
      direct(opCase(`Tile ${type} [2,3] by [2,2]`, 'Tile', [x(type, [2, 3]), w(I64, [2], [2, 2])], out(type, [4, 6]))),
    );
  }
  cases.push(
    direct(opCase('Expand [1] to [5]', 'Expand', [x(F, [1]), w(I64, [1], [5])], out(F, [5]))),
    direct(
      opCase(
        'Expand to a shorter shape broadcasts both ways',
        'Expand',
        [x(F, [2, 1, 4]), w(I64, [2], [3, 1])],
        out(F, [2, 3, 4]),
      ),
    ),
    direct(
      opCase('Expand with 1s keeps the input dims', 'Expand', [x(F, [2, 3]), w(I64, [2], [1, 1])], out(F, [2, 3])),
    ),
    direct(
      opCase('Expand shape from a graph input', 'Expand', [x(F, [3, 1]), x(I64, [2], cycle([3, 4]))], out(F, [3, 4])),
    ),
    direct(opCase('Tile [2,3,4] by [1,3,2]', 'Tile', [x(F, [2, 3, 4]), w(I64, [3], [1, 3, 2])], out(F, [2, 9, 8]))),
    direct(opCase('Tile with a zero repeat', 'Tile', [x(F, [2, 3]), w(I64, [2], [0, 2])], out(F, [0, 6]))),
  );
  return cases;
}

function shapeCases(): ModelCase[] {
  return [
    direct(opCase('Shape of [2,3,4]', 'Shape', [x(F, [2, 3, 4])], out(I64, [3]))),
    direct(opCase('Shape opset 15 start 1', 'Shape', [x(F, [2, 3, 4])], out(I64, [2]), { start: int(1) }, 15)),
    direct(
      opCase(
        'Shape opset 15 start -2 end -1',
        'Shape',
        [x(F, [2, 3, 4, 5])],
        out(I64, [1]),
        { start: int(-2), end: int(-1) },
        15,
      ),
    ),
    direct(opCase('Shape opset 15 clamped end', 'Shape', [x(F, [2, 3])], out(I64, [2]), { end: int(10) }, 15)),
    direct(opCase('Shape of a scalar', 'Shape', [x(F, [])], out(I64, [0]))),
    direct(opCase('Size of [2,3,4]', 'Size', [x('float16', [2, 3, 4])], out(I64, []))),
  ];
}

function generatorCases(): ModelCase[] {
  const cos = (name: string, operand: Operand, dims: number[], type: TensorType, value?: number) => {
    const attributes: Record<string, OnnxAttribute> =
      value === undefined
        ? {}
        : {
            value: { tensor: { name: 'v', dataType: onnxType(type), dims: [1], values: typedValue(type, value) } },
          };
    return direct(opCase(`ConstantOfShape ${name}`, 'ConstantOfShape', [operand], out(type, dims), attributes));
  };
  const range = (
    name: string,
    type: TensorType,
    start: number,
    limit: number,
    delta: number,
    n: number,
    asInputs = false,
  ) => {
    const operand = (v: number): Operand => (asInputs ? x(type, [], cycle([v])) : w(type, [], [v]));
    return direct(
      opCase(`Range ${name}`, 'Range', [operand(start), operand(limit), operand(delta)], out(type, [n]), {}, 11),
    );
  };
  return [
    cos('default float32 zeros', w(I64, [2], [2, 3]), [2, 3], F),
    cos('int64 value', w(I64, [3], [2, 1, 3]), [2, 1, 3], I64, -7),
    cos('float16 value', w(I64, [1], [4]), [4], 'float16', 1.5),
    cos('int8 value', w(I64, [2], [3, 2]), [3, 2], 'int8', -3),
    cos('bool value', w(I64, [1], [5]), [5], 'bool', 1),
    cos('empty shape gives a scalar', w(I64, [0], []), [], F, 2.5),
    cos('shape from a graph input', x(I64, [2], cycle([3, 2])), [3, 2], F, 4),
    range('float32', F, 0.5, 4, 0.75, 5),
    range('float32 negative delta', F, 3, -2, -1.5, 4),
    range('int64', I64, -5, 12, 3, 6),
    range('int32 empty', 'int32', 5, 1, 1, 0),
    range('int16', 'int16', 2, 11, 2, 5),
    range('float64', 'float64', 1, 2, 0.125, 8),
    range('int64 from graph inputs', I64, 3, 30, 4, 7, true),
    range('float32 from graph inputs', F, -1, 1, 0.25, 8, true),
  ];
}

function typedValue(type: TensorType, v: number) {
  switch (type) {
    case 'int64':
      return BigInt64Array.from([BigInt(v)]);
    case 'int8':
      return Int8Array.from([v]);
    case 'bool':
      return Uint8Array.from([v]);
    case 'float16':
      return Uint16Array.from([0x3e00]); // 1.5
    default:
      return Float32Array.from([v]);
  }
}

// Exported for the GPU parity suite (test/gpu/parity.test.ts).
export const GROUPS: Array<[string, () => ModelCase[]]> = [
  ['Squeeze Unsqueeze', squeezeCases],
  ['Slice', sliceCases],
  ['Split', splitCases],
  ['Gather', gatherCases],
  ['Expand Tile', expandTileCases],
  ['Shape Size', shapeCases],
  ['ConstantOfShape Range', generatorCases],
];

describeCaseGroups(GROUPS);

if (caseTestsRegistered())
  describe('indexing errors', () => {
    test('a Gather index out of range is refused at run time, naming it', async () => {
      const c = opCase('gather out of range', 'Gather', [x(F, [4, 3]), x(I64, [2], cycle([1, 4]))], out(F, [2, 3]));
      const session = await loadEngineSession(engineModel(c));
      try {
        await assert.rejects(
          session.run(feedsFor(c)),
          (err: Error & { code?: string }) =>
            err.code === 'ENGINE_INVALID_ARGUMENT' && err.message.includes('index 4 is out of range'),
        );
      } finally {
        session.release();
      }
    });

    test('a Range that would exceed maxTensorBytes is refused before allocating', async () => {
      const c = opCase('huge range', 'Range', [x(I64, []), x(I64, []), x(I64, [])], out(I64, [-1]), {}, 11);
      const session = await loadEngineSession(engineModel(c), { maxTensorBytes: 1 << 20 });
      try {
        const scalar = (v: bigint) => ({ type: I64 as TensorType, dims: [], data: BigInt64Array.from([v]) });
        await assert.rejects(
          session.run({ x0: scalar(0n), x1: scalar(10n ** 15n), x2: scalar(1n) }),
          (err: Error & { code?: string }) => err.code === 'OUTPUT_TOO_LARGE',
        );
        const small = await session.run({ x0: scalar(0n), x1: scalar(4n), x2: scalar(1n) });
        assert.deepEqual([...small.y0.data], [0n, 1n, 2n, 3n]);
      } finally {
        session.release();
      }
    });
  });

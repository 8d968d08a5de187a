// The engine against onnxruntime-node on reductions and the ops along an
// axis: ReduceSum/Mean/Max/Min (axes as attribute and as input, keepdims,
// noop_with_empty_axes, negative and non-adjacent axes), ArgMax/ArgMin,
// TopK, CumSum, Softmax/LogSoftmax and LayerNormalization, over their dtypes.
import type { TensorType } from '../native/types';
import { cycle, integers, uniform } from './support/ort-compare';
import {
  describeCaseGroups,
  float,
  int,
  ints,
  type ModelCase,
  NONE,
  opCase,
  type Operand,
  out,
  w,
  x,
} from './support/ort-cases';

const F = 'float32';
const I64 = 'int64';
const FLOATS: TensorType[] = ['float32', 'float64', 'float16', 'bfloat16'];

// onnxruntime runs the float32/float64/int32/int64 (and for Max/Min int8,
// uint8) variants itself; the rest are compared with the widened reference.
const ORT_NATIVE: Record<string, TensorType[]> = {
  ReduceSum: ['float32', 'float64', 'int32', 'int64'],
  ReduceMean: ['float32', 'float64', 'int32', 'int64'],
  ReduceMax: ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8'],
  ReduceMin: ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8'],
  ArgMax: ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8'],
  ArgMin: ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8'],
  TopK: ['float32', 'float64', 'int32', 'int64'],
  CumSum: ['float32', 'float64', 'int32', 'int64'],
};

function typed(c: ModelCase, op: string, type: TensorType): ModelCase {
  return { ...c, reference: (ORT_NATIVE[op] ?? ['float32', 'float64']).includes(type) ? 'direct' : 'widen' };
}

// Values for each dtype that keep sums representable (and ties likely for integers).
function sourceFor(type: TensorType) {
  if (FLOATS.includes(type)) return uniform(-3, 3);
  return integers(type.startsWith('u') ? 0 : -5, 5);
}

// ---- reductions ----------------------------------------------------------------

interface AxesVariant {
  name: string;
  axes: number[] | null; // null: none given
  keepdims: number;
  outDims: number[]; // for input [2,3,4]
  noop?: boolean;
}

const AXES: AxesVariant[] = [
  { name: 'axis 1 keepdims', axes: [1], keepdims: 1, outDims: [2, 1, 4] },
  { name: 'axis -1', axes: [-1], keepdims: 0, outDims: [2, 3] },
  { name: 'axis 0', axes: [0], keepdims: 0, outDims: [3, 4] },
  { name: 'axes [0,2] (not adjacent)', axes: [0, 2], keepdims: 1, outDims: [1, 3, 1] },
  { name: 'axes [1,2]', axes: [1, 2], keepdims: 0, outDims: [2] },
  { name: 'all axes (none given)', axes: null, keepdims: 0, outDims: [] },
];

function reduceCase(op: string, type: TensorType, v: AxesVariant, opset: number): ModelCase {
  const axesAsInput = opset >= (op === 'ReduceSum' ? 13 : 18);
  const operands: Operand[] = [x(type, [2, 3, 4], sourceFor(type))];
  const attributes: Record<string, ReturnType<typeof int>> = { keepdims: int(v.keepdims) };
  if (v.noop) attributes.noop_with_empty_axes = int(1);
  if (v.axes && axesAsInput) operands.push(w(I64, [v.axes.length], v.axes));
  if (v.axes && !axesAsInput) attributes.axes = ints(v.axes);
  return typed(
    opCase(`${op} ${type} ${v.name} (opset ${opset})`, op, operands, out(type, v.outDims), attributes, opset),
    op,
    type,
  );
}

function reduceCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  const types: TensorType[] = [...FLOATS, 'int32', 'int64', 'int8', 'uint8', 'int16', 'uint32'];
  for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin']) {
    for (const v of AXES) cases.push(reduceCase(op, F, v, 13), reduceCase(op, F, v, 18));
    for (const type of types)
      if (type !== F) cases.push(reduceCase(op, type, AXES[0], 18), reduceCase(op, type, AXES[3], 13));
    cases.push(
      typed(
        opCase(
          `${op} noop_with_empty_axes (opset 18)`,
          op,
          [x(F, [2, 3])],
          out(F, [2, 3]),
          { noop_with_empty_axes: int(1) },
          18,
        ),
        op,
        F,
      ),
    );
    cases.push(
      typed(
        opCase(
          `${op} empty axes input reduces all (opset 18)`,
          op,
          [x(F, [2, 3]), w(I64, [0], [])],
          out(F, [1, 1]),
          {},
          18,
        ),
        op,
        F,
      ),
    );
  }
  cases.push(
    typed(
      opCase('parallel: ReduceMean [64,40,100] axis -1', 'ReduceMean', [x(F, [64, 40, 100])], out(F, [64, 40, 1]), {
        axes: ints([-1]),
      }),
      'ReduceMean',
      F,
    ),
  );
  cases.push(
    typed(
      opCase(
        'parallel: ReduceSum [64,300,100] axis 1',
        'ReduceSum',
        [x(F, [64, 300, 100]), w(I64, [1], [1])],
        out(F, [64, 1, 100]),
      ),
      'ReduceSum',
      F,
    ),
  );
  return cases;
}

// ---- ArgMax / TopK / CumSum ----------------------------------------------------------

function argCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const op of ['ArgMax', 'ArgMin']) {
    for (const type of [...FLOATS, 'int32', 'int64', 'int8', 'uint8', 'uint16'] as TensorType[]) {
      cases.push(
        typed(
          opCase(`${op} ${type} axis 1`, op, [x(type, [3, 4, 5], sourceFor(type))], out(I64, [3, 1, 5]), {
            axis: int(1),
          }),
          op,
          type,
        ),
      );
    }
    // Few distinct values: ties, first or last index.
    const ties = integers(-2, 2);
    cases.push(
      typed(
        opCase(`${op} ties, first index`, op, [x(I64, [4, 6], ties)], out(I64, [4]), {
          axis: int(-1),
          keepdims: int(0),
        }),
        op,
        I64,
      ),
      typed(
        opCase(`${op} ties, select_last_index`, op, [x(I64, [4, 6], ties)], out(I64, [4, 1]), {
          axis: int(1),
          select_last_index: int(1),
        }),
        op,
        I64,
      ),
      typed(opCase(`${op} axis 0 default`, op, [x(F, [5, 3])], out(I64, [1, 3])), op, F),
    );
  }
  return cases;
}

function topKCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  const k = (n: number) => w(I64, [1], [n]);
  for (const type of [...FLOATS, 'int32', 'int64', 'int8', 'uint8'] as TensorType[]) {
    cases.push(
      typed(
        opCase(
          `TopK ${type} k=3 axis -1`,
          'TopK',
          [x(type, [3, 7], sourceFor(type)), k(3)],
          [out(type, [3, 3]), out(I64, [3, 3])],
        ),
        'TopK',
        type,
      ),
    );
  }
  cases.push(
    typed(
      opCase('TopK smallest, axis 0', 'TopK', [x(F, [6, 4]), k(2)], [out(F, [2, 4]), out(I64, [2, 4])], {
        axis: int(0),
        largest: int(0),
      }),
      'TopK',
      F,
    ),
    typed(
      opCase(
        'TopK ties keep the lower index first',
        'TopK',
        [x(I64, [2, 8], integers(0, 2)), k(5)],
        [out(I64, [2, 5]), out(I64, [2, 5])],
      ),
      'TopK',
      I64,
    ),
    typed(
      opCase(
        'TopK ties, smallest',
        'TopK',
        [x(I64, [2, 8], integers(0, 2)), k(5)],
        [out(I64, [2, 5]), out(I64, [2, 5])],
        { largest: int(0) },
      ),
      'TopK',
      I64,
    ),
    typed(
      opCase(
        'TopK k = the whole axis, middle axis',
        'TopK',
        [x(F, [2, 5, 3]), k(5)],
        [out(F, [2, 5, 3]), out(I64, [2, 5, 3])],
        { axis: int(1) },
      ),
      'TopK',
      F,
    ),
    typed(opCase('TopK k=0', 'TopK', [x(F, [2, 5]), k(0)], [out(F, [2, 0]), out(I64, [2, 0])]), 'TopK', F),
    typed(
      opCase('TopK opset 1 k attribute', 'TopK', [x(F, [3, 6])], [out(F, [3, 2]), out(I64, [3, 2])], { k: int(2) }, 1),
      'TopK',
      F,
    ),
  );
  return cases;
}

function cumSumCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of [...FLOATS, 'int32', 'int64', 'uint32', 'uint64'] as TensorType[]) {
    cases.push(
      typed(
        opCase(
          `CumSum ${type} axis 1`,
          'CumSum',
          [x(type, [3, 5, 2], sourceFor(type)), w(I64, [], [1])],
          out(type, [3, 5, 2]),
        ),
        'CumSum',
        type,
      ),
    );
  }
  for (const [exclusive, reverse] of [
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    cases.push(
      typed(
        opCase(
          `CumSum exclusive=${exclusive} reverse=${reverse}`,
          'CumSum',
          [x(F, [4, 6]), w(I64, [], [-1])],
          out(F, [4, 6]),
          { exclusive: int(exclusive), reverse: int(reverse) },
        ),
        'CumSum',
        F,
      ),
    );
  }
  cases.push(
    typed(
      opCase('CumSum axis 0, int32 axis', 'CumSum', [x(F, [5, 3]), w('int32', [], [0])], out(F, [5, 3])),
      'CumSum',
      F,
    ),
    typed(
      opCase('CumSum axis as a graph input', 'CumSum', [x(F, [3, 4]), x(I64, [], cycle([1]))], out(F, [3, 4])),
      'CumSum',
      F,
    ),
  );
  return cases;
}

// ---- Softmax, LogSoftmax, LayerNormalization ------------------------------------------

function softmaxCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of FLOATS) {
    cases.push(
      typed(
        opCase(`LogSoftmax ${type} axis -1`, 'LogSoftmax', [x(type, [3, 4, 5], uniform(-5, 5))], out(type, [3, 4, 5])),
        'LogSoftmax',
        type,
      ),
    );
  }
  for (const type of ['float16', 'bfloat16'] as TensorType[]) {
    cases.push(
      typed(
        opCase(`Softmax ${type} axis 1`, 'Softmax', [x(type, [3, 4, 5], uniform(-5, 5))], out(type, [3, 4, 5]), {
          axis: int(1),
        }),
        'Softmax',
        type,
      ),
    );
  }
  cases.push(
    typed(
      opCase('LogSoftmax axis 1 of 3', 'LogSoftmax', [x(F, [2, 3, 4])], out(F, [2, 3, 4]), { axis: int(1) }),
      'LogSoftmax',
      F,
    ),
    typed(opCase('LogSoftmax axis 0', 'LogSoftmax', [x(F, [4, 6])], out(F, [4, 6]), { axis: int(0) }), 'LogSoftmax', F),
    typed(
      opCase(
        'LogSoftmax opset 11 coerces to 2-D at axis 1',
        'LogSoftmax',
        [x(F, [2, 3, 4])],
        out(F, [2, 3, 4]),
        { axis: int(1) },
        11,
      ),
      'LogSoftmax',
      F,
    ),
    typed(
      opCase(
        'LogSoftmax large logits',
        'LogSoftmax',
        [x(F, [2, 5], cycle([1000, 1001, 1002, 999, 1000, -1000, 0, 50, -50, 88]))],
        out(F, [2, 5]),
      ),
      'LogSoftmax',
      F,
    ),
  );
  return cases;
}

function layerNormCases(): ModelCase[] {
  const ln = (
    name: string,
    type: TensorType,
    dims: number[],
    axis: number | null,
    withBias: boolean,
    statOutputs = false,
    epsilon?: number,
  ): ModelCase => {
    const normalized = dims.slice(axis === null ? -1 : axis);
    const operands: Operand[] = [
      x(type, dims),
      w(type, normalized, undefined, uniform(0.5, 1.5)),
      withBias ? w(type, normalized, undefined, uniform(-1, 1)) : NONE,
    ];
    if (!withBias) operands.pop();
    const attributes: Record<string, ReturnType<typeof int>> = {};
    if (axis !== null) attributes.axis = int(axis);
    if (epsilon !== undefined) attributes.epsilon = float(epsilon);
    const statsDims = dims.map((d, i) =>
      i >= (axis === null ? dims.length - 1 : (axis + dims.length) % dims.length) ? 1 : d,
    );
    const outputs = statOutputs ? [out(type, dims), out(F, statsDims), out(F, statsDims)] : out(type, dims);
    return typed(
      opCase(`LayerNormalization ${name}`, 'LayerNormalization', operands, outputs, attributes, 17),
      'LayerNormalization',
      type,
    );
  };
  const cases = FLOATS.filter((t) => t !== 'float64').map((type) =>
    ln(`${type} last axis`, type, [2, 3, 8], null, true),
  );
  cases.push(
    ln('axis 1 of 3 (normalizes [3,4])', F, [2, 3, 4], 1, true),
    ln('axis -2', F, [2, 3, 4], -2, true),
    ln('no bias', F, [4, 16], -1, false),
    ln('epsilon 1e-3', F, [4, 16], -1, true, false, 1e-3),
    ln('with Mean and InvStdDev outputs', F, [3, 10], -1, true, true),
    ln('parallel: [64,128,256]', F, [64, 128, 256], -1, true),
  );
  return cases;
}

// Exported for the GPU parity suite (test/gpu/parity.test.ts).
export const GROUPS: Array<[string, () => ModelCase[]]> = [
  ['reductions', reduceCases],
  ['ArgMax ArgMin', argCases],
  ['TopK', topKCases],
  ['CumSum', cumSumCases],
  ['Softmax LogSoftmax', softmaxCases],
  ['LayerNormalization', layerNormCases],
];

describeCaseGroups(GROUPS);

// The engine against onnxruntime-node on the elementwise math, comparison and
// logic ops and on the 16-bit float conversions: one generated single-op
// model per case (test/support/ort-cases.ts), every dtype each op supports.
// float16 and bfloat16 are compared with the reference computed in float32
// and rounded once (the engine's semantics); integer dtypes onnxruntime has
// no kernel for are compared with a reference computed in int64.
import type { TensorType } from '../native/types';
import { awayFromZero, bools, cycle, type ElementSource, integers, uniform } from './support/ort-compare';
import { OnnxDataType } from '../models/onnx-writer';
import {
  describeCaseGroups,
  float,
  int,
  type ModelCase,
  NONE,
  onnxType,
  opCase,
  type Operand,
  out,
  str,
  w,
  wTyped,
  x,
} from './support/ort-cases';

const FLOATS: TensorType[] = ['float32', 'float64', 'float16', 'bfloat16'];
const SIGNED: TensorType[] = ['int8', 'int16', 'int32', 'int64'];
const UNSIGNED: TensorType[] = ['uint8', 'uint16', 'uint32', 'uint64'];
const NUMERIC: TensorType[] = [...FLOATS, ...SIGNED, ...UNSIGNED];
const F = 'float32';

// Integer dtypes onnxruntime 1.30's CPU provider runs natively per op; the
// others (and every 16-bit float) get the widened reference.
const ORT_INTEGERS: Record<string, TensorType[]> = {
  Neg: SIGNED,
  Abs: [...SIGNED, ...UNSIGNED],
  Relu: ['int8', 'int32'],
  Add: [...SIGNED, ...UNSIGNED],
  Sub: [...SIGNED, ...UNSIGNED],
  Mul: [...SIGNED, ...UNSIGNED],
  Div: [...SIGNED, ...UNSIGNED],
  Min: ['int8', 'int32', 'int64', 'uint8', 'uint32', 'uint64'],
  Max: ['int8', 'int32', 'int64', 'uint8', 'uint32', 'uint64'],
  Equal: [...SIGNED, ...UNSIGNED],
  Less: [...SIGNED, ...UNSIGNED],
  Greater: [...SIGNED, ...UNSIGNED],
  LessOrEqual: [...SIGNED, ...UNSIGNED],
  GreaterOrEqual: [...SIGNED, ...UNSIGNED],
  Clip: ['int8', 'int32', 'int64', 'uint8', 'uint32', 'uint64'],
  Pow: ['int32', 'int64'],
  Where: ['int32', 'int64', 'uint8'],
};

function referenceFor(op: string, type: TensorType): ModelCase['reference'] {
  return (ORT_INTEGERS[op] ?? []).includes(type) || ['float32', 'float64', 'bool'].includes(type) ? 'direct' : 'widen';
}

// opCase with the reference chosen by op and dtype.
function typedCase(
  name: string,
  op: string,
  type: TensorType,
  operands: Operand[],
  output: ReturnType<typeof out>,
  attributes = {},
  opset = 13,
): ModelCase {
  return { ...opCase(name, op, operands, output, attributes, opset), reference: referenceFor(op, type) };
}

const isFloat = (type: TensorType) => FLOATS.includes(type);

// ---- one input ------------------------------------------------------------------

// Edge values: saturation, overflow of exp, zero, NaN-producing inputs.
const EXTREMES = [-1000, -100, -88.8, -30, -20, -5, -1, -0.5, -0, 0, 0.5, 1, 5, 20, 30, 88.8, 100, 1000];

interface UnarySpec {
  op: string;
  types: TensorType[];
  source: ElementSource;
  opset?: number;
  attributes?: Record<string, ReturnType<typeof float>>;
  edges?: number[]; // float32 edge values, a case of their own
}

const UNARY: UnarySpec[] = [
  { op: 'Sqrt', types: FLOATS, source: uniform(0, 50), edges: [0, -0, 1e-30, 4, 1e30, -1, Infinity] },
  { op: 'Exp', types: FLOATS, source: uniform(-10, 10), edges: EXTREMES },
  { op: 'Log', types: FLOATS, source: uniform(0.01, 50), edges: [0, 1e-30, 1, 2.718281828, 1e30, -1, Infinity] },
  {
    op: 'Erf',
    types: ['float32', 'float16', 'bfloat16'],
    source: uniform(-4, 4),
    edges: [...EXTREMES, 0.9999, 1, 1.0001, 3.9, 4, 4.1, 1e-6, -1e-6, 0.2, -2.5],
  },
  { op: 'Reciprocal', types: FLOATS, source: awayFromZero(0.1, 10), edges: [0, -0, 1e-30, -1e30, 3] },
  { op: 'Floor', types: FLOATS, source: uniform(-5, 5), edges: [-2.5, -0.5, -0, 0.5, 2.5, 1e20] },
  { op: 'Ceil', types: FLOATS, source: uniform(-5, 5), edges: [-2.5, -0.5, -0, 0.5, 2.5, 1e20] },
  { op: 'Neg', types: [...FLOATS, ...SIGNED], source: uniform(-5, 5) },
  { op: 'Abs', types: NUMERIC, source: uniform(-5, 5) },
  { op: 'LeakyRelu', types: FLOATS, source: uniform(-5, 5), opset: 16 },
  { op: 'LeakyRelu', types: FLOATS, source: uniform(-5, 5), opset: 16, attributes: { alpha: float(0.3) } },
  { op: 'HardSigmoid', types: ['float32', 'float16', 'bfloat16'], source: uniform(-6, 6) },
  {
    op: 'HardSigmoid',
    types: ['float32'],
    source: uniform(-6, 6),
    attributes: { alpha: float(0.3), beta: float(0.4) },
  },
  { op: 'HardSwish', types: ['float32', 'float16', 'bfloat16'], source: uniform(-6, 6), opset: 14 },
  { op: 'Gelu', types: ['float32', 'float16', 'bfloat16'], source: uniform(-6, 6), opset: 20, edges: EXTREMES },
  {
    op: 'Gelu',
    types: ['float32', 'float16'],
    source: uniform(-6, 6),
    opset: 20,
    attributes: { approximate: str('tanh') },
    edges: EXTREMES,
  },
  { op: 'Relu', types: ['float16', 'bfloat16', 'int8', 'int16'], source: uniform(-5, 5), opset: 14 },
  { op: 'Sigmoid', types: ['float16', 'bfloat16'], source: uniform(-8, 8) },
  { op: 'Tanh', types: ['float16', 'bfloat16'], source: uniform(-4, 4) },
];

function unaryCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const spec of UNARY) {
    const suffix = spec.attributes ? ` ${JSON.stringify(spec.attributes)}` : '';
    for (const type of spec.types) {
      const source = isFloat(type) ? spec.source : integers(type.startsWith('u') ? 0 : -100, 100);
      cases.push(
        typedCase(
          `${spec.op}${suffix} ${type} [3,5,7]`,
          spec.op,
          type,
          [x(type, [3, 5, 7], source)],
          out(type, [3, 5, 7]),
          spec.attributes,
          spec.opset,
        ),
      );
    }
    if (spec.edges) {
      cases.push(
        typedCase(
          `${spec.op}${suffix} float32 edge values`,
          spec.op,
          F,
          [x(F, [spec.edges.length], cycle(spec.edges))],
          out(F, [spec.edges.length]),
          spec.attributes,
          spec.opset,
        ),
      );
    }
  }
  // Integer edges: Neg and Abs of the most negative value wrap, as in two's complement.
  cases.push(
    typedCase(
      'Neg int8 wraps at -128',
      'Neg',
      'int8',
      [x('int8', [6], cycle([-128, -127, -1, 0, 1, 127]))],
      out('int8', [6]),
    ),
  );
  cases.push(
    typedCase(
      'Abs int16 edges',
      'Abs',
      'int16',
      [x('int16', [5], cycle([-32768, -32767, -1, 0, 32767]))],
      out('int16', [5]),
    ),
  );
  cases.push(typedCase('Not bool', 'Not', 'bool', [x('bool', [4, 5], bools)], out('bool', [4, 5]), {}, 1));
  // Big enough to be split across the thread pool.
  for (const op of ['Erf', 'Exp', 'Gelu']) {
    cases.push(
      typedCase(
        `parallel: ${op} float32 [40,1000]`,
        op,
        F,
        [x(F, [40, 1000], uniform(-5, 5))],
        out(F, [40, 1000]),
        {},
        op === 'Gelu' ? 20 : 13,
      ),
    );
  }
  return cases;
}

// ---- Clip ------------------------------------------------------------------------

function clipCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const type of NUMERIC) {
    const signed = !type.startsWith('u');
    const source = isFloat(type) ? uniform(-5, 5) : integers(signed ? -50 : 0, 50);
    const lo = signed ? -2 : 3;
    const hi = signed ? 3 : 20;
    const variants: Array<[string, Operand[]]> = [
      ['min and max', [x(type, [4, 6], source), w(type, [], [lo]), w(type, [], [hi])]],
      ['min only', [x(type, [4, 6], source), w(type, [], [lo])]],
      ['max only', [x(type, [4, 6], source), NONE, w(type, [], [hi])]],
      ['no bounds', [x(type, [4, 6], source)]],
    ];
    for (const [name, operands] of variants) {
      cases.push(typedCase(`Clip ${type} ${name}`, 'Clip', type, operands, out(type, [4, 6])));
    }
  }
  cases.push(
    typedCase(
      'Clip opset 6 attributes',
      'Clip',
      F,
      [x(F, [4, 6], uniform(-5, 5))],
      out(F, [4, 6]),
      { min: float(-1.5), max: float(2.25) },
      6,
    ),
  );
  cases.push(
    typedCase(
      'Clip opset 6 default max',
      'Clip',
      F,
      [x(F, [4, 6], uniform(-5, 5))],
      out(F, [4, 6]),
      { min: float(0) },
      6,
    ),
  );
  cases.push(
    typedCase(
      'Clip bounds as graph inputs',
      'Clip',
      F,
      [x(F, [4, 6], uniform(-5, 5)), x(F, [], uniform(-2, -1)), x(F, [], uniform(1, 2))],
      out(F, [4, 6]),
    ),
  );
  return cases;
}

// ---- two inputs -------------------------------------------------------------------

// Values that keep every dtype's results representable in the reference.
function sourceFor(type: TensorType, divisor = false): ElementSource {
  if (isFloat(type)) return divisor ? awayFromZero(0.5, 4) : uniform(-4, 4);
  if (type.startsWith('u')) return integers(divisor ? 1 : 0, type === 'uint8' ? 15 : 40);
  return divisor ? integers(-9, 9, true) : integers(-11, 11);
}

const BROADCASTS: Array<[string, number[], number[], number[]]> = [
  ['same shape [2,3]', [2, 3], [2, 3], [2, 3]],
  ['[2,3,4] and [4]', [2, 3, 4], [4], [2, 3, 4]],
  ['[2,1,4] and [3,1]', [2, 1, 4], [3, 1], [2, 3, 4]],
  ['[1] and [2,3]', [1], [2, 3], [2, 3]],
];

function arithmeticCases(): ModelCase[] {
  // float32/float64/int32/int64 are engine-ort.test.ts's; here the others.
  const types: TensorType[] = ['float16', 'bfloat16', 'int8', 'int16', 'uint8', 'uint16', 'uint32', 'uint64'];
  const cases: ModelCase[] = [];
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const type of types) {
      const b = sourceFor(type, op === 'Div');
      for (const [shapeName, da, db, dout] of BROADCASTS) {
        cases.push(
          typedCase(
            `${op} ${type} ${shapeName}`,
            op,
            type,
            [x(type, da, sourceFor(type)), x(type, db, b)],
            out(type, dout),
            {},
            14,
          ),
        );
      }
      cases.push(
        typedCase(
          `${op} ${type} scalar initializer`,
          op,
          type,
          [x(type, [2, 3], sourceFor(type)), w(type, [], undefined, b)],
          out(type, [2, 3]),
          {},
          14,
        ),
      );
    }
  }
  // Integer results wrap; division truncates toward zero.
  const wrap: Array<[string, string, TensorType, number[], number[]]> = [
    ['Add int8 wraps', 'Add', 'int8', [100, -100, 127, -128], [100, -100, 1, -1]],
    ['Mul int16 wraps', 'Mul', 'int16', [300, -300, 32767, 2], [300, 300, 2, -16384]],
    ['Sub uint8 wraps', 'Sub', 'uint8', [3, 0, 255, 10], [5, 1, 255, 3]],
    ['Sub uint16 wraps', 'Sub', 'uint16', [3, 0, 65535, 10], [5, 1, 65535, 3]],
    ['Div int8 truncates and wraps at -128/-1', 'Div', 'int8', [-7, 7, -128, -128], [2, -2, -1, 3]],
  ];
  for (const [name, op, type, a, b] of wrap) {
    cases.push(
      typedCase(
        name,
        op,
        type,
        [x(type, [a.length], cycle(a)), x(type, [b.length], cycle(b))],
        out(type, [a.length]),
        {},
        14,
      ),
    );
  }
  cases.push(
    typedCase(
      'parallel: Add float16 [40,1000] + [1000]',
      'Add',
      'float16',
      [x('float16', [40, 1000]), x('float16', [1000])],
      out('float16', [40, 1000]),
      {},
      14,
    ),
  );
  cases.push(
    typedCase(
      'Add int8 typed initializer',
      'Add',
      'int8',
      [x('int8', [2, 3]), wTyped('int8', [3], [-5, 0, 7])],
      out('int8', [2, 3]),
      {},
      14,
    ),
  );
  cases.push(
    typedCase(
      'Mul float16 typed initializer',
      'Mul',
      'float16',
      [x('float16', [2, 3]), wTyped('float16', [3], [0.5, -2, 1.25])],
      out('float16', [2, 3]),
      {},
      14,
    ),
  );
  return cases;
}

function powCases(): ModelCase[] {
  const pairs: Array<[TensorType, TensorType, ElementSource, ElementSource]> = [
    ['float32', 'float32', uniform(0.1, 3), uniform(-2, 3)],
    ['float32', 'int64', uniform(-3, 3), integers(-3, 4)],
    ['float32', 'int32', uniform(-3, 3), integers(0, 4)],
    ['float32', 'float64', uniform(0.1, 3), uniform(-2, 2)],
    ['float64', 'float64', uniform(0.1, 3), uniform(-2, 3)],
    ['float64', 'int64', uniform(-3, 3), integers(-3, 4)],
    ['int32', 'int32', integers(-5, 5), integers(0, 5)],
    ['int64', 'int64', integers(-5, 5), integers(0, 6)],
    ['int64', 'float32', integers(1, 5), uniform(0, 3)],
    ['float16', 'float16', uniform(0.1, 3), uniform(-2, 2)],
    ['float16', 'float32', uniform(0.1, 3), uniform(-2, 2)],
    ['bfloat16', 'bfloat16', uniform(0.1, 3), uniform(-2, 2)],
  ];
  const cases: ModelCase[] = [];
  for (const [base, exponent, bs, es] of pairs) {
    cases.push(
      typedCase(
        `Pow ${base}^${exponent} [2,3,4]^[4]`,
        'Pow',
        base,
        [x(base, [2, 3, 4], bs), x(exponent, [4], es)],
        out(base, [2, 3, 4]),
        {},
        15,
      ),
    );
  }
  for (const e of [2, 3, 0.5, -1]) {
    cases.push(
      typedCase(
        `Pow float32 scalar exponent ${e}`,
        'Pow',
        F,
        [x(F, [3, 5], uniform(0.1, 4)), w(F, [], [e])],
        out(F, [3, 5]),
        {},
        15,
      ),
    );
  }
  return cases;
}

function minMaxCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const op of ['Min', 'Max']) {
    for (const type of NUMERIC) {
      const s = sourceFor(type);
      cases.push(
        typedCase(
          `${op} ${type} two inputs [2,1,4] and [3,1]`,
          op,
          type,
          [x(type, [2, 1, 4], s), x(type, [3, 1], s)],
          out(type, [2, 3, 4]),
        ),
      );
    }
    cases.push(typedCase(`${op} one input`, op, F, [x(F, [3, 4])], out(F, [3, 4])));
    cases.push(
      typedCase(
        `${op} three inputs broadcast [4], [3,1], [2,1,1]`,
        op,
        F,
        [x(F, [4]), x(F, [3, 1]), x(F, [2, 1, 1])],
        out(F, [2, 3, 4]),
      ),
    );
    cases.push(
      typedCase(
        `${op} int64 four inputs with an initializer`,
        op,
        'int64',
        [x('int64', [2, 3]), w('int64', [3], [-1, 0, 5]), x('int64', [1]), x('int64', [2, 3])],
        out('int64', [2, 3]),
      ),
    );
  }
  return cases;
}

function comparisonCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']) {
    const types = op === 'Equal' ? [...NUMERIC, 'bool' as TensorType] : NUMERIC;
    for (const type of types) {
      // Few distinct values, so equal pairs occur.
      const s = type === 'bool' ? bools : integers(type.startsWith('u') ? 0 : -3, 3);
      cases.push(
        typedCase(
          `${op} ${type} [2,3,4] and [3,1]`,
          op,
          type,
          [x(type, [2, 3, 4], s), x(type, [3, 1], s)],
          out('bool', [2, 3, 4]),
          {},
          16,
        ),
      );
    }
  }
  return cases;
}

function logicCases(): ModelCase[] {
  const cases: ModelCase[] = [];
  for (const op of ['And', 'Or', 'Xor']) {
    for (const [shapeName, da, db, dout] of BROADCASTS) {
      cases.push(
        typedCase(
          `${op} ${shapeName}`,
          op,
          'bool',
          [x('bool', da, bools), x('bool', db, bools)],
          out('bool', dout),
          {},
          7,
        ),
      );
    }
  }
  // (bool X and Y: onnxruntime has no kernel; native/test/ops_math_test.cc covers it.)
  for (const type of ['float32', 'int64', 'float16', 'bfloat16', 'int8', 'uint8', 'uint64'] as TensorType[]) {
    cases.push(
      typedCase(
        `Where ${type} cond [3,1] x [2,1,4] y [4]`,
        'Where',
        type,
        [x('bool', [3, 1], bools), x(type, [2, 1, 4]), x(type, [4])],
        out(type, [2, 3, 4]),
        {},
        16,
      ),
    );
  }
  cases.push(
    typedCase(
      'Where float32 same shapes',
      'Where',
      F,
      [x('bool', [5, 7], bools), x(F, [5, 7]), x(F, [5, 7])],
      out(F, [5, 7]),
      {},
      16,
    ),
  );
  cases.push(
    typedCase(
      'Where float32 scalar y',
      'Where',
      F,
      [x('bool', [2, 6], bools), x(F, [2, 6]), w(F, [], [-1e9])],
      out(F, [2, 6]),
      {},
      16,
    ),
  );
  cases.push(
    typedCase(
      'parallel: Where float32 [40,1000]',
      'Where',
      F,
      [x('bool', [40, 1000], bools), x(F, [40, 1000]), x(F, [1, 1000])],
      out(F, [40, 1000]),
      {},
      16,
    ),
  );
  return cases;
}

// ---- Cast and the 16-bit floats ---------------------------------------------------

// Rounding edges of float16: largest finite, the overflow boundary, ties to
// even (1 + 2^-11 rounds down, 1 + 3·2^-11 up), subnormals and their ties,
// signed zero, NaN and the infinities.
const HALF_EDGES = [
  65504,
  65519,
  65520,
  1e6,
  -65520,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  2 ** -14,
  2 ** -24,
  2 ** -25,
  3 * 2 ** -25,
  1.5 * 2 ** -24,
  1e-8,
  -1e-8,
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  0.1,
  1 / 3,
  -2.5,
  1024.5,
  2049,
];
// bfloat16: ties between neighbours, large and tiny magnitudes.
const BF16_EDGES = [
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  1 + 2 ** -9,
  3.3895e38,
  3.4e38,
  1e-38,
  1e-40,
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  0.1,
  1 / 3,
  -2.5,
  65504,
  12345.678,
];

function castCases(): ModelCase[] {
  const cast = (name: string, from: TensorType, to: TensorType, source: ElementSource, n: number): ModelCase => ({
    ...opCase(name, 'Cast', [x(from, [n], source)], out(to, [n]), { to: int(OnnxDataType[onnxType(to)]) }),
    reference: 'direct',
    exact: true,
  });
  const cases = [
    cast('Cast float32 -> float16 rounding edges', F, 'float16', cycle(HALF_EDGES), HALF_EDGES.length),
    cast('Cast float32 -> float16 random', F, 'float16', uniform(-1000, 1000), 64),
    cast('Cast float64 -> float16', 'float64', 'float16', cycle(HALF_EDGES), HALF_EDGES.length),
    cast('Cast float16 -> float32', 'float16', F, cycle(HALF_EDGES), HALF_EDGES.length),
    cast('Cast float16 -> float64', 'float16', 'float64', uniform(-100, 100), 32),
    cast('Cast float16 -> int32', 'float16', 'int32', uniform(-1000, 1000), 32),
    cast('Cast float16 -> int8', 'float16', 'int8', uniform(-100, 100), 32),
    cast('Cast float16 -> bool', 'float16', 'bool', cycle([0, -0, 1, -2.5, 1e-7, 0]), 6),
    cast('Cast int64 -> float16', 'int64', 'float16', integers(-70000, 70000), 32),
    cast('Cast uint8 -> float16', 'uint8', 'float16', integers(0, 255), 32),
    cast('Cast bool -> float16', 'bool', 'float16', bools, 8),
    cast('Cast float32 -> bfloat16 rounding edges', F, 'bfloat16', cycle(BF16_EDGES), BF16_EDGES.length),
    cast('Cast float32 -> bfloat16 random', F, 'bfloat16', uniform(-1000, 1000), 64),
    cast('Cast bfloat16 -> float32', 'bfloat16', F, uniform(-1000, 1000), 32),
    cast('Cast float16 -> bfloat16', 'float16', 'bfloat16', cycle(HALF_EDGES), HALF_EDGES.length),
    cast('Cast bfloat16 -> float16', 'bfloat16', 'float16', cycle(BF16_EDGES), BF16_EDGES.length),
    cast('Cast bfloat16 -> int64', 'bfloat16', 'int64', uniform(-1e6, 1e6), 32),
    cast('Cast int32 -> bfloat16', 'int32', 'bfloat16', integers(-100000, 100000), 32),
    cast('Cast uint16 -> int8 (wraps)', 'uint16', 'int8', integers(0, 65535), 32),
    cast('Cast int16 -> uint32', 'int16', 'uint32', integers(-32768, 32767), 32),
  ];
  return cases;
}

// Exported for the GPU parity suite (test/gpu/parity.test.ts).
export const GROUPS: Array<[string, () => ModelCase[]]> = [
  ['one input', unaryCases],
  ['Clip', clipCases],
  ['Add Sub Mul Div', arithmeticCases],
  ['Pow', powCases],
  ['Min Max', minMaxCases],
  ['comparisons', comparisonCases],
  ['logic and Where', logicCases],
  ['Cast', castCases],
];

describeCaseGroups(GROUPS);

// Table-driven single-op (or small) test models for the engine-vs-onnxruntime
// suites: a case names its node(s), operands and expected outputs; this file
// turns it into ONNX bytes and seeded feeds, and runs the comparison.
//
// Dtypes onnxruntime cannot run or JS cannot carry are handled by rewriting
// the reference model, never the engine's:
//  - widening: onnxruntime's CPU kernels lack many ops on int8/int16/uint*,
//    and run the 16-bit floats their own way. The reference casts such
//    operands to int32/int64 (or float32), runs the op there and casts the
//    result back. For wrapping
//    integer arithmetic and for "compute in float32, round once" this is
//    exactly the engine's semantics.
//  - transport: JS has no bfloat16 typed array onnxruntime accepts, so a
//    bfloat16 operand enters both models as float32 and is cast to bfloat16
//    inside; bfloat16 outputs leave as float32 (compared with bfloat16's
//    tolerance).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeModel,
  OnnxDataType,
  type OnnxAttribute,
  type OnnxDataTypeName,
  type OnnxNodeInit,
  type OnnxTensorInit,
} from '../../models/onnx-writer';
import type { TensorType } from '../../native/types';
import {
  assertTensorClose,
  BFLOAT16_TOLERANCE,
  defaultSource,
  elementCount,
  type ElementSource,
  type ExpectedOutput,
  type Feeds,
  type Outputs,
  randomTensor,
  rngFor,
  runEngine,
  runOrt,
  typedArrayOf,
  type Rng,
} from './ort-compare';
import { fromBFloat16Bits, toBFloat16Bits } from './half';

const ONNX_TYPE: Record<TensorType, OnnxDataTypeName> = {
  float32: 'FLOAT',
  float64: 'DOUBLE',
  float16: 'FLOAT16',
  bfloat16: 'BFLOAT16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
};

export function onnxType(type: TensorType): OnnxDataTypeName {
  return ONNX_TYPE[type];
}

// ---- cases ------------------------------------------------------------------

// An operand of the node under test: a graph input fed random data, an
// initializer, or an absent optional input.
export type Operand =
  | { kind: 'input'; type: TensorType; dims: number[]; source?: ElementSource }
  | {
      kind: 'init';
      type: TensorType;
      dims: number[];
      values?: number[];
      encoding: 'raw' | 'typed';
      source?: ElementSource;
    }
  | { kind: 'absent' };

// A graph input.
export const x = (type: TensorType, dims: number[], source?: ElementSource): Operand => ({
  kind: 'input',
  type,
  dims,
  source,
});
// An initializer in raw_data; `values` fixes its contents, else random.
export const w = (type: TensorType, dims: number[], values?: number[], source?: ElementSource): Operand => ({
  kind: 'init',
  type,
  dims,
  values,
  encoding: 'raw',
  source,
});
// An initializer in the typed fields (float_data, int32_data, int64_data).
export const wTyped = (type: TensorType, dims: number[], values?: number[], source?: ElementSource): Operand => ({
  kind: 'init',
  type,
  dims,
  values,
  encoding: 'typed',
  source,
});
export const NONE: Operand = { kind: 'absent' };
export const out = (type: TensorType, dims: number[]): ExpectedOutput => ({ type, dims });

export const int = (value: number): OnnxAttribute => ({ int: value });
export const float = (value: number): OnnxAttribute => ({ float: value });
export const ints = (values: number[]): OnnxAttribute => ({ ints: values });
export const str = (value: string): OnnxAttribute => ({ string: value });

export interface GraphInput {
  name: string;
  type: TensorType;
  dims: number[];
  source?: ElementSource;
}

// A whole test model: nodes plus what feeds them and what they must produce.
export interface ModelCase {
  name: string;
  nodes: OnnxNodeInit[];
  inputs: GraphInput[];
  initializers: OnnxTensorInit[];
  outputs: Record<string, ExpectedOutput>;
  opset: number;
  // 'direct' runs the very model in onnxruntime (Cast, and ops it has
  // kernels for); 'widen' (default) rewrites the reference as above.
  reference?: 'direct' | 'widen';
  // Outputs must match bit for bit (conversions), not within a tolerance.
  exact?: boolean;
}

export function initializer(name: string, op: Extract<Operand, { kind: 'init' }>, rng: Rng): OnnxTensorInit {
  const source = op.source ?? defaultSource(op.type);
  const values = op.values ?? Array.from({ length: elementCount(op.dims) }, (_, i) => source(rng, i));
  return {
    name,
    dataType: onnxType(op.type),
    dims: op.dims,
    encoding: op.encoding,
    values: typedArrayOf(op.type, values),
  };
}

// One node of `opType` over `operands`, with outputs y0, y1, ...
export function opCase(
  name: string,
  opType: string,
  operands: Operand[],
  outputs: ExpectedOutput | ExpectedOutput[],
  attributes: Record<string, OnnxAttribute> = {},
  opset = 13,
): ModelCase {
  const rng = rngFor(`${name}/initializers`);
  const inputs: GraphInput[] = [];
  const initializers: OnnxTensorInit[] = [];
  const nodeInputs = operands.map((op, i) => {
    if (op.kind === 'absent') return '';
    const operandName = `${op.kind === 'input' ? 'x' : 'w'}${i}`;
    if (op.kind === 'input') inputs.push({ name: operandName, type: op.type, dims: op.dims, source: op.source });
    else initializers.push(initializer(operandName, op, rng));
    return operandName;
  });
  const outputList = Array.isArray(outputs) ? outputs : [outputs];
  const outputMap = Object.fromEntries(outputList.map((o, i) => [`y${i}`, o]));
  return {
    name,
    opset,
    inputs,
    initializers,
    outputs: outputMap,
    nodes: [{ opType, inputs: nodeInputs, outputs: Object.keys(outputMap), attributes }],
  };
}

// ---- models -----------------------------------------------------------------

// How a value travels in and out of the models (JS and onnxruntime).
function carriedAs(type: TensorType): TensorType {
  return type === 'bfloat16' ? 'float32' : type;
}

// What onnxruntime computes a type's op in, for the widened reference: a
// type with the common kernels (int32 holds every narrow integer's values).
const WIDE: Partial<Record<TensorType, TensorType>> = {
  int8: 'int32',
  int16: 'int32',
  uint8: 'int32',
  uint16: 'int32',
  uint32: 'int64',
  uint64: 'int64',
  float16: 'float32',
  bfloat16: 'float32',
};

const cast = (input: string, output: string, to: TensorType): OnnxNodeInit => ({
  opType: 'Cast',
  inputs: [input],
  outputs: [output],
  attributes: { to: { int: OnnxDataType[onnxType(to)] } },
});

// Graph inputs and outputs as carried; casts to and from the types the
// nodes compute in (`computeType`: the case's own types for the engine, the
// widened ones for the reference).
function buildModel(c: ModelCase, computeType: (type: TensorType) => TensorType): Uint8Array {
  const nodes: OnnxNodeInit[] = [];
  const renamed = new Map<string, string>();
  const enter = (name: string, type: TensorType, carried: TensorType) => {
    let current = name;
    if (carried !== type) {
      nodes.push(cast(current, `${name}__as_${type}`, type));
      current = `${name}__as_${type}`;
    }
    if (computeType(type) !== type) {
      nodes.push(cast(current, `${name}__wide`, computeType(type)));
      current = `${name}__wide`;
    }
    renamed.set(name, current);
  };
  for (const i of c.inputs) enter(i.name, i.type, carriedAs(i.type));
  for (const t of c.initializers) {
    const type = (Object.keys(ONNX_TYPE) as TensorType[]).find((k) => ONNX_TYPE[k] === t.dataType) as TensorType;
    enter(t.name, type, type);
  }
  const exits: OnnxNodeInit[] = [];
  const outputNames = new Map<string, string>();
  for (const [name, o] of Object.entries(c.outputs)) {
    // node output (compute type) → cast to the case's type → cast to the carried type → graph output
    const chain: OnnxNodeInit[] = [];
    let stage = name;
    if (carriedAs(o.type) !== o.type) {
      chain.unshift(cast(`${name}__as_${o.type}`, stage, carriedAs(o.type)));
      stage = `${name}__as_${o.type}`;
    }
    if (computeType(o.type) !== o.type) {
      chain.unshift(cast(`${name}__wide`, stage, o.type));
      stage = `${name}__wide`;
    }
    outputNames.set(name, stage);
    exits.push(...chain);
  }
  for (const n of c.nodes) {
    nodes.push({
      ...n,
      inputs: n.inputs.map((i) => renamed.get(i) ?? i),
      outputs: n.outputs.map((o) => outputNames.get(o) ?? o),
    });
  }
  nodes.push(...exits);
  return encodeModel({
    opset: c.opset,
    graphName: 'case',
    nodes,
    initializers: c.initializers,
    inputs: c.inputs.map((i) => ({ name: i.name, dataType: onnxType(carriedAs(i.type)), shape: i.dims })),
    outputs: Object.entries(c.outputs).map(([name, o]) => ({
      name,
      dataType: onnxType(carriedAs(o.type)),
      shape: o.dims,
    })),
  });
}

// The model the engine runs: the case's own dtypes.
export function engineModel(c: ModelCase): Uint8Array {
  return buildModel(c, (type) => type);
}

// The model onnxruntime runs as the reference.
export function referenceModel(c: ModelCase): Uint8Array {
  return buildModel(c, (type) => (c.reference === 'direct' ? type : (WIDE[type] ?? type)));
}

// Seeded feeds. A bfloat16 input travels as float32 holding values already
// rounded to bfloat16, so the cast inside both models is exact.
export function feedsFor(c: ModelCase): Feeds {
  const rng = rngFor(`${c.name}/inputs`);
  const feeds: Feeds = {};
  for (const i of c.inputs) {
    if (i.type !== 'bfloat16') {
      feeds[i.name] = randomTensor(i.type, i.dims, rng, i.source);
      continue;
    }
    const t = randomTensor('float32', i.dims, rng, i.source ?? defaultSource('bfloat16'));
    const data = t.data as Float32Array;
    for (let k = 0; k < data.length; k++) data[k] = fromBFloat16Bits(toBFloat16Bits(data[k]));
    feeds[i.name] = t;
  }
  return feeds;
}

// Runs the engine on engineModel and onnxruntime on referenceModel, checks
// onnxruntime produced what the case declares (so a wrong table entry fails
// loudly) and that every engine output matches. Returns both results.
export async function compareCase(c: ModelCase): Promise<{ engine: Outputs; ort: Outputs }> {
  const feeds = feedsFor(c);
  const reference = await runOrt(referenceModel(c), feeds);
  for (const [name, want] of Object.entries(c.outputs)) {
    assert.ok(reference[name], `ORT output ${name}`);
    assert.equal(reference[name].type, carriedAs(want.type), `ORT ${name} type (test table is wrong)`);
    assert.deepEqual(reference[name].dims, want.dims, `ORT ${name} dims (test table is wrong)`);
  }
  const actual = await runEngine(engineModel(c), feeds);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(reference).sort(), 'output names');
  for (const [name, want] of Object.entries(c.outputs)) {
    const tolerance = c.exact ? 0 : want.type === 'bfloat16' ? BFLOAT16_TOLERANCE : undefined;
    assertTensorClose(actual[name], reference[name], `output ${name}`, tolerance);
  }
  return { engine: actual, ort: reference };
}

// False once the GPU parity suite (test/gpu/parity.test.ts) imports the
// engine-ort-* files for their case tables only: their onnxruntime
// comparisons then stay registered in their own files alone.
let registerTests = true;
export function collectCaseTablesOnly(): void {
  registerTests = false;
}
export function caseTestsRegistered(): boolean {
  return registerTests;
}

// The suites' shape: one describe per group of generated cases, one test
// per case, each compared with onnxruntime.
export function describeCaseGroups(groups: Array<[string, () => ModelCase[]]>): void {
  if (!registerTests) return;
  for (const [group, make] of groups) {
    describe(`engine vs onnxruntime: ${group}`, () => {
      for (const c of make())
        test(c.name, async () => {
          await compareCase(c);
        });
    });
  }
}

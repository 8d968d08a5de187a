// The table-driven single-op models of the onnxruntime comparison suites
// (test/engine-ort*.test.ts): operands (graph inputs, initializers, absent
// inputs), one node or a hand-written graph, the outputs it must produce,
// and seeded feeds.
import {
  encodeModel,
  type OnnxAttribute,
  type OnnxDataTypeName,
  type OnnxNodeInit,
  type OnnxTensorInit,
} from '../../models/onnx-writer';
import type { TensorType } from '../../native/types';
import {
  defaultSource,
  elementCount,
  type ElementSource,
  type ExpectedOutput,
  type Feeds,
  randomTensor,
  rngFor,
  type Rng,
  typedArrayOf,
} from './ort-compare';

export const ONNX_TYPE: Partial<Record<TensorType, OnnxDataTypeName>> = {
  float32: 'FLOAT',
  float64: 'DOUBLE',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
  uint8: 'UINT8',
  int8: 'INT8',
};

export function onnxType(type: TensorType): OnnxDataTypeName {
  const name = ONNX_TYPE[type];
  if (!name) throw new Error(`no ONNX type for ${type} in this suite`);
  return name;
}

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
export const floats = (values: number[]): OnnxAttribute => ({ floats: values });
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

export function encodeCase(c: ModelCase): Uint8Array {
  return encodeModel({
    opset: c.opset,
    graphName: 'case',
    nodes: c.nodes,
    initializers: c.initializers,
    inputs: c.inputs.map((i) => ({ name: i.name, dataType: onnxType(i.type), shape: i.dims })),
    outputs: Object.entries(c.outputs).map(([name, o]) => ({ name, dataType: onnxType(o.type), shape: o.dims })),
  });
}

export function feedsFor(c: ModelCase): Feeds {
  const rng = rngFor(`${c.name}/inputs`);
  const feeds: Feeds = {};
  for (const i of c.inputs) feeds[i.name] = randomTensor(i.type, i.dims, rng, i.source);
  return feeds;
}

// The protocol datatypes (docs/protocol.md "Datatypes"): the one table of
// the gateway. Each KServe name maps to the engine's element type, whose
// size and TypedArray come from the engine's own table (native/types.ts
// TENSOR_TYPES); only the type the engine lacks (BYTES) carries its own
// facts here. Every codec, the validator and the batcher derive from it.
import { TENSOR_TYPES, type TensorType, type TypedArray } from '../../native/types';

export type EngineTensorType = TensorType;

export type KServeDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES'
  | 'BF16';

// Tensor data in the gateway: the engine's typed arrays (BOOL as Uint8Array).
export type NumericArray = TypedArray;

export type JsonKind = 'number' | 'bigint' | 'bool' | 'string' | 'none';

interface DatatypeInfo {
  sizeBytes: number; // bytes per element; 0 for BYTES (variable)
  engineType: EngineTensorType | null; // null: the engine has no such type
  // Builds a typed array view over bytes (little-endian hosts only).
  view: ((buf: ArrayBuffer, byteOffset: number, length: number) => NumericArray) | null;
  jsonKind: JsonKind;
}

// A datatype the engine runs: size and array from the engine's table.
function engine(type: EngineTensorType, jsonKind: JsonKind): DatatypeInfo {
  const { sizeBytes, array } = TENSOR_TYPES[type];
  return { sizeBytes, engineType: type, view: (b, o, n) => new array(b, o, n), jsonKind };
}

export const DATATYPES: Readonly<Record<KServeDatatype, DatatypeInfo>> = {
  BOOL: engine('bool', 'bool'),
  UINT8: engine('uint8', 'number'),
  UINT16: engine('uint16', 'number'),
  UINT32: engine('uint32', 'number'),
  UINT64: engine('uint64', 'bigint'),
  INT8: engine('int8', 'number'),
  INT16: engine('int16', 'number'),
  INT32: engine('int32', 'number'),
  INT64: engine('int64', 'bigint'),
  FP16: engine('float16', 'none'), // travels as its bits; never as JSON
  FP32: engine('float32', 'number'),
  FP64: engine('float64', 'number'),
  BYTES: { sizeBytes: 0, engineType: null, view: null, jsonKind: 'string' },
  BF16: engine('bfloat16', 'none'), // like FP16: its bits, never JSON
};

export function isKServeDatatype(value: unknown): value is KServeDatatype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DATATYPES, value);
}

const ENGINE_TO_KSERVE = new Map<EngineTensorType, KServeDatatype>(
  (Object.entries(DATATYPES) as [KServeDatatype, DatatypeInfo][])
    .filter(([, info]) => info.engineType !== null)
    .map(([name, info]) => [info.engineType as EngineTensorType, name]),
);

export function kserveFromEngineType(type: EngineTensorType): KServeDatatype {
  const name = ENGINE_TO_KSERVE.get(type);
  if (!name) throw new Error(`no KServe datatype for engine type ${type}`);
  return name;
}

// Element count of a shape; shapes here are always concrete (no -1). The
// gateway's one element-count rule (validation, codecs and assembly use it).
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

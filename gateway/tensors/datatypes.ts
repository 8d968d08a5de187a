// The KServe v2 datatype strings (PROTOCOL.md 1.7) and how each maps to the
// engine's tensor type and a JS TypedArray. One table; everything else derives.

export type EngineTensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

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

export type NumericArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

interface DatatypeInfo {
  sizeBytes: number; // bytes per element; 0 for BYTES (variable)
  engineType: EngineTensorType | null; // null: the engine has no such type
  // Builds a typed array view over bytes (little-endian hosts only).
  view: ((buf: ArrayBuffer, byteOffset: number, length: number) => NumericArray) | null;
  jsonKind: 'number' | 'bigint' | 'bool' | 'string' | 'none';
}

export const DATATYPES: Record<KServeDatatype, DatatypeInfo> = {
  BOOL: { sizeBytes: 1, engineType: 'bool', view: (b, o, n) => new Uint8Array(b, o, n), jsonKind: 'bool' },
  UINT8: { sizeBytes: 1, engineType: 'uint8', view: (b, o, n) => new Uint8Array(b, o, n), jsonKind: 'number' },
  UINT16: { sizeBytes: 2, engineType: 'uint16', view: (b, o, n) => new Uint16Array(b, o, n), jsonKind: 'number' },
  UINT32: { sizeBytes: 4, engineType: 'uint32', view: (b, o, n) => new Uint32Array(b, o, n), jsonKind: 'number' },
  UINT64: { sizeBytes: 8, engineType: 'uint64', view: (b, o, n) => new BigUint64Array(b, o, n), jsonKind: 'bigint' },
  INT8: { sizeBytes: 1, engineType: 'int8', view: (b, o, n) => new Int8Array(b, o, n), jsonKind: 'number' },
  INT16: { sizeBytes: 2, engineType: 'int16', view: (b, o, n) => new Int16Array(b, o, n), jsonKind: 'number' },
  INT32: { sizeBytes: 4, engineType: 'int32', view: (b, o, n) => new Int32Array(b, o, n), jsonKind: 'number' },
  INT64: { sizeBytes: 8, engineType: 'int64', view: (b, o, n) => new BigInt64Array(b, o, n), jsonKind: 'bigint' },
  FP16: { sizeBytes: 2, engineType: 'float16', view: (b, o, n) => new Uint16Array(b, o, n), jsonKind: 'none' },
  FP32: { sizeBytes: 4, engineType: 'float32', view: (b, o, n) => new Float32Array(b, o, n), jsonKind: 'number' },
  FP64: { sizeBytes: 8, engineType: 'float64', view: (b, o, n) => new Float64Array(b, o, n), jsonKind: 'number' },
  BYTES: { sizeBytes: 0, engineType: null, view: null, jsonKind: 'string' },
  BF16: { sizeBytes: 2, engineType: null, view: (b, o, n) => new Uint16Array(b, o, n), jsonKind: 'none' },
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

// Element count of a shape; shapes here are always concrete (no -1).
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

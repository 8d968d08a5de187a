// Runs the same ONNX bytes and feeds through onnxruntime-node (the reference)
// and through our engine, and asserts the outputs agree. Also: seeded input
// generators per dtype, so every failing case reproduces exactly.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../../models/demo';
import { elementCount, type NumericArray } from '../../gateway/inference/datatypes';
import { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './half';
import { loadModel } from '../../native';
import type { LoadOptions, Session, Tensor, TensorType } from '../../native/types';

export type Feeds = Record<string, Tensor>;
export type Outputs = Record<string, Tensor>;
export type Rng = () => number;

// Float outputs agree when |actual - expected| <= tolerance * max(1, |expected|):
// FLOAT_TOLERANCE for float32/float64; for the 16-bit floats two units in the
// last place (results computed in float32 may round to the other neighbour).
export const FLOAT_TOLERANCE = 1e-4;
export const FLOAT16_TOLERANCE = 2e-3;
export const BFLOAT16_TOLERANCE = 1.6e-2;

// ---- seeded inputs ---------------------------------------------------------

// Produces the i-th element of a tensor as a JS number (bool: 0/1).
export type ElementSource = (rng: Rng, index: number) => number;

export const uniform =
  (min: number, max: number): ElementSource =>
  (rng) =>
    min + (max - min) * rng();

// Integers in [min, max]; `nonzero` skips 0 (divisors).
export const integers =
  (min: number, max: number, nonzero = false): ElementSource =>
  (rng) => {
    for (;;) {
      const v = min + Math.floor(rng() * (max - min + 1));
      if (!nonzero || v !== 0) return v;
    }
  };

// Floats with |x| in [low, high] and a random sign: divisors far from 0.
export const awayFromZero =
  (low: number, high: number): ElementSource =>
  (rng) => {
    const magnitude = low + (high - low) * rng();
    return rng() < 0.5 ? -magnitude : magnitude;
  };

export const bools: ElementSource = (rng) => (rng() < 0.5 ? 0 : 1);

// The given values in order, repeated to fill the tensor (edge cases).
export const cycle =
  (values: readonly number[]): ElementSource =>
  (_rng, i) =>
    values[i % values.length];

export function defaultSource(type: TensorType): ElementSource {
  switch (type) {
    case 'bool':
      return bools;
    case 'float32':
    case 'float64':
    case 'float16':
    case 'bfloat16':
      return uniform(-2, 2);
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      return integers(0, 40);
    default:
      return integers(-20, 20);
  }
}

const FLOAT_TYPES: ReadonlySet<TensorType> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

// A typed array of `type` holding `values` (floats rounded to the type).
export function typedArrayOf(type: TensorType, values: readonly number[]): NumericArray {
  switch (type) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'uint16':
      return Uint16Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'uint32':
      return Uint32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(v));
    case 'uint64':
      return BigUint64Array.from(values, (v) => BigInt(v));
    case 'float16':
      return Uint16Array.from(values, toFloat16Bits);
    case 'bfloat16':
      return Uint16Array.from(values, toBFloat16Bits);
  }
}

export { elementCount } from '../../gateway/inference/datatypes';

export function randomTensor(
  type: TensorType,
  dims: readonly number[],
  rng: Rng,
  source: ElementSource = defaultSource(type),
): Tensor {
  const values = Array.from({ length: elementCount(dims) }, (_, i) => source(rng, i));
  return { type, dims: [...dims], data: typedArrayOf(type, values) };
}

// FNV-1a of a string: a stable seed per test case name.
export function seedFromName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function rngFor(name: string): Rng {
  return seededRandom(seedFromName(name));
}

// ---- running ---------------------------------------------------------------

export async function runOrt(modelBytes: Uint8Array, feeds: Feeds): Promise<Outputs> {
  // One intra-op thread: the reference needs no speed, and CI has 2 cores.
  const session = await ort.InferenceSession.create(modelBytes, { logSeverityLevel: 3, intraOpNumThreads: 1 });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (t.type === 'bfloat16') throw new Error(`input ${name}: onnxruntime-node takes no bfloat16 tensors`);
      ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    const results = await session.run(ortFeeds);
    const outputs: Outputs = {};
    for (const [name, t] of Object.entries(results)) {
      outputs[name] = { type: t.type as TensorType, dims: [...t.dims], data: t.data as NumericArray };
    }
    return outputs;
  } finally {
    await session.release();
  }
}

export function loadEngineSession(modelBytes: Uint8Array, options?: LoadOptions): Promise<Session> {
  return loadModel(modelBytes, options);
}

export async function runEngine(modelBytes: Uint8Array, feeds: Feeds, options?: LoadOptions): Promise<Outputs> {
  const session = await loadEngineSession(modelBytes, options);
  try {
    return await session.run(feeds);
  } finally {
    session.release();
  }
}

// ---- comparing -------------------------------------------------------------

const ARRAY_CLASS: Record<TensorType, new (length: number) => ArrayBufferView> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

function floatsAgree(actual: number, expected: number, tolerance: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

// An element as a number: the 16-bit floats decoded from their bits.
function elementValue(type: TensorType, raw: number | bigint): number | bigint {
  if (type === 'float16') return fromFloat16Bits(raw as number);
  if (type === 'bfloat16') return fromBFloat16Bits(raw as number);
  return raw;
}

function toleranceOf(type: TensorType): number {
  if (type === 'float16') return FLOAT16_TOLERANCE;
  if (type === 'bfloat16') return BFLOAT16_TOLERANCE;
  return FLOAT_TOLERANCE;
}

// At most this many differing elements are listed in a failure message.
const MISMATCHES_SHOWN = 5;

// `tolerance` overrides the type's (e.g. bfloat16 results carried as float32).
export function assertTensorClose(actual: Tensor, expected: Tensor, label: string, tolerance?: number): void {
  assert.equal(actual.type, expected.type, `${label}: type`);
  assert.deepEqual([...actual.dims], [...expected.dims], `${label}: dims`);
  assert.ok(
    actual.data instanceof ARRAY_CLASS[actual.type],
    `${label}: data is ${actual.data?.constructor?.name}, expected ${ARRAY_CLASS[actual.type].name}`,
  );
  assert.equal(actual.data.length, expected.data.length, `${label}: element count`);

  const isFloat = FLOAT_TYPES.has(expected.type);
  const limit = tolerance ?? toleranceOf(expected.type);
  const shown: string[] = [];
  let mismatches = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = elementValue(actual.type, actual.data[i]);
    const e = elementValue(expected.type, expected.data[i]);
    const same = isFloat ? floatsAgree(a as number, e as number, limit) : a === e;
    if (same) continue;
    mismatches++;
    if (shown.length < MISMATCHES_SHOWN) shown.push(`[${i}] engine ${a} vs ort ${e}`);
  }
  assert.equal(mismatches, 0, `${label}: ${mismatches}/${expected.data.length} elements differ: ${shown.join(', ')}`);
}

export interface ExpectedOutput {
  type: TensorType;
  dims: number[];
}

function snapshot(feeds: Feeds): Map<string, Uint8Array> {
  const copies = new Map<string, Uint8Array>();
  for (const [name, t] of Object.entries(feeds)) {
    copies.set(name, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice());
  }
  return copies;
}

function assertFeedsUnchanged(feeds: Feeds, before: Map<string, Uint8Array>): void {
  for (const [name, t] of Object.entries(feeds)) {
    const now = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    assert.deepEqual(now, before.get(name), `engine modified input ${name}`);
  }
}

// Runs both, then asserts: ORT produced the outputs the case declares (so a
// wrong table entry fails loudly), the engine left its inputs alone and did not
// hand an input's buffer back as an output, and every engine output matches
// ORT's. Returns both results for extra assertions.
export async function compareWithOrt(
  modelBytes: Uint8Array,
  feeds: Feeds,
  declared?: Record<string, ExpectedOutput>,
): Promise<{ engine: Outputs; ort: Outputs }> {
  const reference = await runOrt(modelBytes, feeds);
  if (declared) {
    assert.deepEqual(Object.keys(reference).sort(), Object.keys(declared).sort(), 'ORT output names');
    for (const [name, want] of Object.entries(declared)) {
      assert.equal(reference[name].type, want.type, `ORT ${name} type (test table is wrong)`);
      assert.deepEqual(reference[name].dims, want.dims, `ORT ${name} dims (test table is wrong)`);
    }
  }

  const before = snapshot(feeds);
  const actual = await runEngine(modelBytes, feeds);
  assertFeedsUnchanged(feeds, before);

  assert.deepEqual(Object.keys(actual).sort(), Object.keys(reference).sort(), 'output names');
  const inputBuffers = new Set(Object.values(feeds).map((t) => t.data.buffer));
  for (const [name, expected] of Object.entries(reference)) {
    assert.ok(!inputBuffers.has(actual[name].data.buffer), `output ${name} aliases an input buffer`);
    assertTensorClose(actual[name], expected, `output ${name}`);
  }
  return { engine: actual, ort: reference };
}

// Tensor data in the JSON form of the inference protocol (docs/protocol.md
// "Inference", "Datatypes"): nested or flat arrays in, flat arrays out.
//
// Non-finite floats: JSON has no NaN or Infinity, so FP32/FP64 outputs write
// them as the strings "NaN", "Infinity" and "-Infinity" (what Python's
// float() and JS Number() both parse), and inputs accept the same strings.
import { MaasError } from '../../../common/errors';
import { DATATYPES, isKServeDatatype, type KServeDatatype, type NumericArray } from '../../inference/datatypes';
import {
  JsonDataSpan,
  MAX_JSON_NESTING_DEPTH,
  SCALAR_FALSE,
  SCALAR_STRING,
  SCALAR_TRUE,
  jsonNumber,
  jsonString,
  jsonText,
  type DataSink,
} from './json-reader';

export { MAX_JSON_NESTING_DEPTH };

const INT_RANGES: Partial<Record<KServeDatatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
  // JSON numbers are doubles here: only integers JS holds exactly.
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

type ElementWriter = (value: unknown, index: number) => void;

// Reads `data` (nested or flat) for one input into a new typed array of
// `elementCount` elements: a JsonDataSpan straight from the request's bytes
// (json-reader.ts), or a JS array. Throws MaasError for a datatype that
// cannot travel as JSON, a value that does not fit the datatype, too deep
// nesting, or a count that does not match the shape.
export function readJsonData(
  data: unknown,
  datatype: KServeDatatype,
  elementCount: number,
  inputName: string,
): NumericArray {
  const info = DATATYPES[datatype];
  if (info.jsonKind === 'none') {
    throw new MaasError(
      'UNSUPPORTED_ENCODING',
      `input '${inputName}': ${datatype} data cannot be sent as JSON; use the binary data format`,
    );
  }
  if (info.jsonKind === 'string' || !info.view) {
    throw new MaasError(
      'INVALID_DATATYPE',
      `input '${inputName}': ${datatype} tensors are not supported yet (the engine has no ${datatype} type)`,
    );
  }
  if (data instanceof JsonDataSpan) return readSpan(data, datatype, elementCount, inputName);
  if (!Array.isArray(data)) throw new MaasError('INVALID_REQUEST', `input '${inputName}': 'data' must be an array`);
  const out = info.view(new ArrayBuffer(elementCount * info.sizeBytes), 0, elementCount);
  const write = elementWriter(out, datatype, inputName);
  let seen = 0;
  const walk = (node: unknown[], depth: number): void => {
    if (depth > MAX_JSON_NESTING_DEPTH) {
      throw new MaasError(
        'INVALID_REQUEST',
        `input '${inputName}': 'data' is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels`,
      );
    }
    for (const item of node) {
      if (Array.isArray(item)) {
        walk(item, depth + 1);
        continue;
      }
      // Past the expected count, keep counting only, for the error message.
      if (seen < elementCount) write(item, seen);
      seen++;
    }
  };
  walk(data, 1);
  if (seen !== elementCount) throw countMismatch(inputName, elementCount, seen);
  return out;
}

function countMismatch(inputName: string, elementCount: number, seen: number): MaasError {
  return new MaasError(
    'INVALID_SHAPE',
    `input '${inputName}': the shape calls for ${elementCount} elements but 'data' has ${seen}`,
  );
}

function badElement(inputName: string, index: number, text: string, why: string): MaasError {
  return new MaasError('INVALID_REQUEST', `input '${inputName}': element ${index} (${text}) ${why}`);
}

function intWhy(datatype: KServeDatatype, min: number, max: number): string {
  return DATATYPES[datatype].jsonKind === 'bigint'
    ? `is not an integer in [${min}, ${max}] (${datatype} as JSON)`
    : `is not an integer in [${min}, ${max}] (${datatype})`;
}

// Writes a tensor's scalars into a typed array as the JSON reader hands
// them over (json-reader.ts DataSink): no JS array, no boxed numbers. The
// first bad value among the first `elementCount` is remembered, so errors
// come in the order the JS-array path gives them (that value, then a count
// mismatch), and only once the whole body has been read (a syntax error
// later in the body wins).
class TensorSink implements DataSink {
  readonly approx: boolean;
  readonly capacity: number;
  readonly out: NumericArray;
  private readonly kind: 'bool' | 'int' | 'bigint' | 'fp32' | 'fp64';
  private readonly min: number;
  private readonly max: number;
  private bytes: Uint8Array = EMPTY;
  private badIndex = -1;
  private badStart = 0;
  private badEnd = 0;

  constructor(
    readonly datatype: KServeDatatype,
    readonly elementCount: number,
  ) {
    const info = DATATYPES[datatype];
    this.out = (info.view as NonNullable<typeof info.view>)(
      new ArrayBuffer(elementCount * info.sizeBytes),
      0,
      elementCount,
    );
    const range = INT_RANGES[datatype];
    this.min = range ? range[0] : 0;
    this.max = range ? range[1] : 0;
    if (info.jsonKind === 'bool') this.kind = 'bool';
    else if (range) this.kind = info.jsonKind === 'bigint' ? 'bigint' : 'int';
    else this.kind = datatype === 'FP32' ? 'fp32' : 'fp64';
    this.approx = this.kind === 'fp32';
    this.capacity = elementCount;
  }

  begin(bytes: Uint8Array): void {
    this.bytes = bytes;
  }

  number(index: number, value: number, exact: boolean, start: number, end: number): void {
    if (this.badIndex >= 0) return;
    switch (this.kind) {
      case 'fp32':
        (this.out as Float32Array)[index] = exact ? value : roundToFloat32(value, this.bytes, start, end);
        return;
      case 'fp64':
        (this.out as Float64Array)[index] = value;
        return;
      case 'int':
        if (!Number.isInteger(value) || value < this.min || value > this.max) break;
        (this.out as Int32Array)[index] = value;
        return;
      case 'bigint':
        if (!Number.isInteger(value) || value < this.min || value > this.max) break;
        (this.out as BigInt64Array)[index] = BigInt(value);
        return;
      default:
        break;
    }
    this.remember(index, start, end);
  }

  plainTarget(): Float32Array | Float64Array | null {
    if (this.badIndex >= 0 || (this.kind !== 'fp32' && this.kind !== 'fp64')) return null;
    return this.out as Float32Array | Float64Array;
  }

  other(index: number, kind: number, start: number, end: number): void {
    if (this.badIndex >= 0) return;
    if (this.kind === 'bool' && (kind === SCALAR_TRUE || kind === SCALAR_FALSE)) {
      (this.out as Uint8Array)[index] = kind === SCALAR_TRUE ? 1 : 0;
      return;
    }
    if ((this.kind === 'fp32' || this.kind === 'fp64') && kind === SCALAR_STRING) {
      const text = jsonString(this.bytes, start, end);
      if (Object.prototype.hasOwnProperty.call(NON_FINITE, text)) {
        (this.out as Float32Array | Float64Array)[index] = NON_FINITE[text];
        return;
      }
    }
    this.remember(index, start, end);
  }

  // The array, or the first error: a bad value, then a count mismatch.
  result(count: number, inputName: string): NumericArray {
    if (this.badIndex >= 0) {
      let why = `is not a number (${this.datatype})`;
      if (this.kind === 'bool') why = 'is not true or false (BOOL)';
      else if (this.kind === 'int' || this.kind === 'bigint') why = intWhy(this.datatype, this.min, this.max);
      throw badElement(inputName, this.badIndex, jsonText(this.bytes, this.badStart, this.badEnd), why);
    }
    if (count !== this.elementCount) throw countMismatch(inputName, this.elementCount, count);
    return this.out;
  }

  private remember(index: number, start: number, end: number): void {
    this.badIndex = index;
    this.badStart = start;
    this.badEnd = end;
  }
}

const EMPTY = new Uint8Array(0);
const FP32_MARGIN = 2 ** -44;

// The float32 the exact double of a number token rounds to, from an
// approximation within 2^-45 of it: when everything within 2^-44 rounds to
// the same float32, so does the exact value; otherwise (rare: a value at a
// rounding boundary) the exact double is computed from the token.
function roundToFloat32(value: number, bytes: Uint8Array, start: number, end: number): number {
  const low = Math.fround(value * (1 - FP32_MARGIN));
  if (low === Math.fround(value * (1 + FP32_MARGIN))) return low;
  return Math.fround(jsonNumber(bytes, start, end));
}

// For the reader (a SinkFactory): when an input's datatype and shape came
// before its `data`, a sink to read the data straight into. Null when they
// did not, are not valid, or call for more elements than the rest of the
// body can hold (the decoder then reports the problem in its own order).
export function tensorSinkFor(input: Record<string, unknown>, remainingBytes: number): DataSink | null {
  const { datatype, shape } = input;
  if (!isKServeDatatype(datatype) || !Array.isArray(shape)) return null;
  const info = DATATYPES[datatype];
  if (!info.view || (info.jsonKind !== 'number' && info.jsonKind !== 'bigint' && info.jsonKind !== 'bool')) return null;
  let elementCount = 1;
  for (const d of shape) {
    if (!(typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return null;
    elementCount *= d;
  }
  // A JSON element takes at least one byte.
  if (!(elementCount <= remainingBytes)) return null;
  return new TensorSink(datatype, elementCount);
}

function readSpan(span: JsonDataSpan, datatype: KServeDatatype, elementCount: number, inputName: string): NumericArray {
  const early = span.sink;
  if (early instanceof TensorSink && early.datatype === datatype && early.elementCount === elementCount) {
    return early.result(span.count, inputName);
  }
  // Read now. Sized to the data when it holds fewer elements than the shape
  // calls for: the count mismatch is reported after any bad value.
  const sink = new TensorSink(datatype, Math.min(elementCount, span.count));
  span.readInto(sink);
  if (sink.elementCount === elementCount) return sink.result(span.count, inputName);
  sink.result(sink.elementCount, inputName);
  throw countMismatch(inputName, elementCount, span.count);
}

// For JS arrays: one element's check and store.
function elementWriter(out: NumericArray, datatype: KServeDatatype, inputName: string): ElementWriter {
  const bad = (value: unknown, index: number, why: string): MaasError =>
    badElement(inputName, index, JSON.stringify(value) ?? String(value), why);
  const kind = DATATYPES[datatype].jsonKind;
  if (kind === 'bool') {
    const bytes = out as Uint8Array;
    return (value, index) => {
      if (typeof value !== 'boolean') throw bad(value, index, 'is not true or false (BOOL)');
      bytes[index] = value ? 1 : 0;
    };
  }
  const range = INT_RANGES[datatype];
  if (range) {
    const [min, max] = range;
    const fits = (value: unknown): value is number =>
      typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
    if (kind === 'bigint') {
      const big = out as BigInt64Array | BigUint64Array;
      return (value, index) => {
        if (!fits(value)) throw bad(value, index, intWhy(datatype, min, max));
        big[index] = BigInt(value);
      };
    }
    const ints = out as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
    return (value, index) => {
      if (!fits(value)) throw bad(value, index, intWhy(datatype, min, max));
      ints[index] = value;
    };
  }
  const floats = out as Float32Array | Float64Array;
  return (value, index) => {
    if (typeof value === 'number') {
      floats[index] = value;
      return;
    }
    if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(NON_FINITE, value)) {
      floats[index] = NON_FINITE[value];
      return;
    }
    throw bad(value, index, `is not a number (${datatype})`);
  };
}

// Writes a tensor's elements as the text of one flat JSON array.
export function writeJsonData(data: NumericArray, datatype: KServeDatatype): string {
  const kind = DATATYPES[datatype].jsonKind;
  if (kind === 'bool') {
    const parts = new Array<string>(data.length);
    for (let i = 0; i < data.length; i++) parts[i] = data[i] ? 'true' : 'false';
    return `[${parts.join(',')}]`;
  }
  if (kind === 'none' || kind === 'string') {
    throw new MaasError('UNSUPPORTED_ENCODING', `${datatype} outputs cannot be written as JSON; request binary_data`);
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    const floats = data as Float32Array | Float64Array;
    let allFinite = true;
    for (let i = 0; i < floats.length; i++)
      if (!Number.isFinite(floats[i])) {
        allFinite = false;
        break;
      }
    if (!allFinite) {
      const parts = new Array<string>(floats.length);
      for (let i = 0; i < floats.length; i++) parts[i] = floatText(floats[i]);
      return `[${parts.join(',')}]`;
    }
  }
  // Integers (BigInt included) and finite floats print as JSON numbers.
  return `[${(data as Float64Array).join(',')}]`;
}

function floatText(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return '"NaN"';
  return value > 0 ? '"Infinity"' : '"-Infinity"';
}

// Tensor data in the JSON form of the inference protocol (PROTOCOL.md 1.5,
// 1.7): nested or flat arrays in, flat arrays out.
//
// Non-finite floats: JSON has no NaN or Infinity, so FP32/FP64 outputs write
// them as the strings "NaN", "Infinity" and "-Infinity" (what Python's
// float() and JS Number() both parse), and inputs accept the same strings.
import { MaasError } from '../../common/errors';
import { DATATYPES, type KServeDatatype, type NumericArray } from './datatypes';

export const MAX_JSON_NESTING_DEPTH = 100; // Triton's HTTP_MAX_JSON_NESTING_DEPTH

const INT_RANGES: Partial<Record<KServeDatatype, readonly [number, number]>> = {
  INT8: [-128, 127], UINT8: [0, 255],
  INT16: [-32768, 32767], UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647], UINT32: [0, 4294967295],
  // JSON numbers are doubles here: only integers JS holds exactly.
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], UINT64: [0, Number.MAX_SAFE_INTEGER],
};

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

type ElementWriter = (value: unknown, index: number) => void;

// Reads `data` (nested or flat) for one input into a new typed array of
// `elementCount` elements. Throws MaasError for a datatype that cannot travel
// as JSON, a value that does not fit the datatype, too deep nesting, or a
// count that does not match the shape.
export function readJsonData(data: unknown, datatype: KServeDatatype, elementCount: number, inputName: string): NumericArray {
  const info = DATATYPES[datatype];
  if (info.jsonKind === 'none') {
    throw new MaasError('UNSUPPORTED_ENCODING', `input '${inputName}': ${datatype} data cannot be sent as JSON; use the binary data format`);
  }
  if (info.jsonKind === 'string' || !info.view) {
    throw new MaasError('INVALID_DATATYPE', `input '${inputName}': ${datatype} tensors are not supported yet (the engine has no ${datatype} type)`);
  }
  if (!Array.isArray(data)) throw new MaasError('INVALID_REQUEST', `input '${inputName}': 'data' must be an array`);
  const out = info.view(new ArrayBuffer(elementCount * info.sizeBytes), 0, elementCount);
  const write = elementWriter(out, datatype, inputName);
  let seen = 0;
  const walk = (node: unknown[], depth: number): void => {
    if (depth > MAX_JSON_NESTING_DEPTH) {
      throw new MaasError('INVALID_REQUEST', `input '${inputName}': 'data' is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels`);
    }
    for (const item of node) {
      if (Array.isArray(item)) { walk(item, depth + 1); continue; }
      // Past the expected count, keep counting only, for the error message.
      if (seen < elementCount) write(item, seen);
      seen++;
    }
  };
  walk(data, 1);
  if (seen !== elementCount) {
    throw new MaasError('INVALID_SHAPE', `input '${inputName}': the shape calls for ${elementCount} elements but 'data' has ${seen}`);
  }
  return out;
}

function elementWriter(out: NumericArray, datatype: KServeDatatype, inputName: string): ElementWriter {
  const bad = (value: unknown, index: number, why: string): MaasError =>
    new MaasError('INVALID_REQUEST', `input '${inputName}': element ${index} (${JSON.stringify(value) ?? String(value)}) ${why}`);
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
        if (!fits(value)) throw bad(value, index, `is not an integer in [${min}, ${max}] (${datatype} as JSON)`);
        big[index] = BigInt(value);
      };
    }
    const ints = out as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
    return (value, index) => {
      if (!fits(value)) throw bad(value, index, `is not an integer in [${min}, ${max}] (${datatype})`);
      ints[index] = value;
    };
  }
  const floats = out as Float32Array | Float64Array;
  return (value, index) => {
    if (typeof value === 'number') { floats[index] = value; return; }
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
    for (let i = 0; i < floats.length; i++) if (!Number.isFinite(floats[i])) { allFinite = false; break; }
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

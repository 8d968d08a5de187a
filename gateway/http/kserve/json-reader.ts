// A bounded JSON reader for request bodies (the hot path's codec): the full
// JSON grammar (RFC 8259) read straight from the body's bytes, with limits
// that hold before any work is spent on hostile input:
//   - nesting: at most MAX_JSON_NESTING_DEPTH levels from the root, and as
//     many again inside a tensor's `data` (counted from `data` itself);
//   - values outside tensor data: at most MAX_JSON_VALUES in all;
//   - tensor data (readInferenceJson: `inputs[i].data`) never becomes JS
//     values: its scalars go straight to a DataSink (json-codec.ts writes
//     them into a typed array) while they are checked, when the input's
//     datatype and shape came before `data`; otherwise a JsonDataSpan
//     remembers where the data is and it is read once they are known.
// Time is linear in the body with a small constant and memory is bounded by
// the limits, whatever the body holds (a million nested empty arrays cost a
// scan, not a million JS arrays). Results match JSON.parse: the same values,
// the last of duplicate keys wins, `__proto__` is an own property, invalid
// UTF-8 in strings becomes U+FFFD.
import { MaasError } from '../../../common/errors';
import {
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COMMA,
  CR,
  LF,
  LOWER_F,
  LOWER_N,
  LOWER_T,
  MINUS,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
  SPACE,
  Scanner,
  TAB,
  asBuffer,
  isDigit,
} from './json-scanner';
import { plainCount, scanPlainDecimals } from './json-floats';
import { MAX_JSON_NESTING_DEPTH, MAX_JSON_VALUES } from './json-limits';

export { MAX_JSON_NESTING_DEPTH, MAX_JSON_VALUES };

// Receives a tensor's scalars, in row-major order (nesting flattened), as
// the reader checks them: json-codec.ts writes them into a typed array.
export interface DataSink {
  readonly approx: boolean; // numbers may be approximate (see Scanner.number)
  readonly capacity: number; // scalars past this many are only checked, not handed over
  begin(bytes: Uint8Array): void; // the bytes that start/end below index
  number(index: number, value: number, exact: boolean, start: number, end: number): void;
  // Anything else: a string (kind SCALAR_STRING), true, false, null or an object.
  other(index: number, kind: number, start: number, end: number): void;
  // Where plain decimals may be written directly (json-floats.ts), as
  // number() would store them; null when they may not (not a float type,
  // or a bad value was already seen).
  plainTarget(): Float32Array | Float64Array | null;
}

export const SCALAR_TRUE = 1;
export const SCALAR_FALSE = 2;
export const SCALAR_STRING = 3;
export const SCALAR_OTHER = 4; // null or an object

// A tensor's `data` array, checked and counted; `sink` is what read its
// scalars on the way, when the input's datatype and shape came first.
export class JsonDataSpan {
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number, // on the opening '['
    readonly end: number, // after the closing ']'
    readonly count: number, // scalars (elements that are not arrays) at any depth
    readonly sink: DataSink | null,
  ) {}

  // Reads the scalars again, into `sink`.
  readInto(sink: DataSink): void {
    new JsonParser(this.bytes, this.end, false).dataSpan(this.start, sink, 0);
  }
}

// The JSON text of bytes [start, end), shortened for messages.
export function jsonText(bytes: Uint8Array, start: number, end: number): string {
  const shown = asBuffer(bytes).toString('utf8', start, Math.min(end, start + 64));
  return end - start > 64 ? `${shown}…` : shown;
}

// The value of the JSON string token at bytes [start, end).
export function jsonString(bytes: Uint8Array, start: number, end: number): string {
  const scanner = new Scanner(bytes, end);
  scanner.pos = start;
  return scanner.string();
}

// The exact double of the JSON number token at bytes [start, end).
export function jsonNumber(bytes: Uint8Array, start: number, end: number): number {
  return Number(asBuffer(bytes).toString('latin1', start, end));
}

// Called when an input's `data` is reached, with what the input object
// holds so far: a sink to read the data straight into, or null to leave it
// for later (JsonDataSpan.readInto).
export type SinkFactory = (input: Record<string, unknown>, remainingBytes: number) => DataSink | null;

// Where in an inference request a value sits: only inputs[i].data becomes a
// span, and unknown members of the request and of its inputs are skipped.
const AT_OTHER = 0;
const AT_ROOT = 1;
const AT_INPUTS = 2;
const AT_INPUT = 3;
const AT_DATA = 4;

const ROOT_KEYS = new Set(['id', 'parameters', 'inputs', 'outputs']);
const INPUT_KEYS = new Set(['name', 'shape', 'datatype', 'parameters', 'data']);

class JsonParser {
  private values = 0;
  private inputIndex = 0;
  private readonly s: Scanner;
  private readonly tooDeep = (at: number): MaasError =>
    new MaasError(
      'INVALID_REQUEST',
      `the request JSON is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels (at byte ${at})`,
    );

  constructor(
    bytes: Uint8Array,
    end: number,
    private readonly inference: boolean,
    private readonly sinkFor: SinkFactory | null = null,
  ) {
    this.s = new Scanner(bytes, end);
  }

  document(): unknown {
    const value = this.value(1, this.inference ? AT_ROOT : AT_OTHER);
    this.s.skipWhitespace();
    if (this.s.pos < this.s.end) throw this.s.error('nothing after the JSON value');
    return value;
  }

  // The value at the scanner (after whitespace); `depth` is its level (root
  // 1); `input` is the input object being read, for AT_DATA.
  private value(depth: number, at: number, input: Record<string, unknown> | null = null): unknown {
    const s = this.s;
    s.skipWhitespace();
    const c = s.peek();
    if (at === AT_DATA && c === OPEN_ARRAY) {
      const sink = this.sinkFor && input ? this.sinkFor(input, s.end - s.pos) : null;
      const start = s.pos;
      const count = this.dataSpan(start, sink, this.inputIndex);
      return new JsonDataSpan(s.bytes, start, s.pos, count, sink);
    }
    if (++this.values > MAX_JSON_VALUES) {
      throw new MaasError(
        'INVALID_REQUEST',
        `the request JSON holds more than ${MAX_JSON_VALUES} values outside tensor data (at byte ${s.pos})`,
      );
    }
    switch (c) {
      case OPEN_OBJECT:
        return this.object(depth, at);
      case OPEN_ARRAY:
        return this.array(depth, at);
      case QUOTE:
        return s.string();
      case LOWER_T:
        s.literal('true');
        return true;
      case LOWER_F:
        s.literal('false');
        return false;
      case LOWER_N:
        s.literal('null');
        return null;
      default:
        if (c === MINUS || isDigit(c)) {
          s.number(false);
          return s.value;
        }
        throw s.error('a JSON value');
    }
  }

  private object(depth: number, at: number): Record<string, unknown> {
    const s = this.s;
    if (depth > MAX_JSON_NESTING_DEPTH) throw this.tooDeep(s.pos);
    s.pos++;
    const object: Record<string, unknown> = {};
    if (s.eat(CLOSE_OBJECT)) return object;
    const known = at === AT_ROOT ? ROOT_KEYS : at === AT_INPUT ? INPUT_KEYS : null;
    do {
      const key = s.key();
      if (known && !known.has(key)) {
        s.skipValue(depth + 1, this.tooDeep); // ignored by the decoder: never built
        continue;
      }
      let childAt = AT_OTHER;
      if (at === AT_ROOT && key === 'inputs') childAt = AT_INPUTS;
      else if (at === AT_INPUT && key === 'data') childAt = AT_DATA;
      const value = this.value(depth + 1, childAt, object);
      if (key === '__proto__')
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
    } while (s.afterMember(CLOSE_OBJECT));
    return object;
  }

  private array(depth: number, at: number): unknown[] {
    const s = this.s;
    if (depth > MAX_JSON_NESTING_DEPTH) throw this.tooDeep(s.pos);
    s.pos++;
    const array: unknown[] = [];
    if (s.eat(CLOSE_ARRAY)) return array;
    const childAt = at === AT_INPUTS ? AT_INPUT : AT_OTHER;
    do {
      if (childAt === AT_INPUT) this.inputIndex = array.length;
      array.push(this.value(depth + 1, childAt));
    } while (s.afterMember(CLOSE_ARRAY));
    return array;
  }

  // A tensor's data at `start` (its '['): nested arrays of scalars, checked
  // and counted in one pass, each scalar handed to `sink` (or only checked).
  // Depth counts from `data` (level 1), as a JS array's would. Returns the
  // scalar count; the scanner ends after the closing ']'. One loop over the
  // bytes with the position in a local: this is what hostile bodies hit.
  dataSpan(start: number, sink: DataSink | null, inputIndex: number): number {
    const s = this.s;
    const { bytes, end } = s;
    const approx = sink !== null && sink.approx;
    const capacity = sink === null ? 0 : sink.capacity;
    if (sink) sink.begin(bytes);
    let pos = start + 1;
    let depth = 1;
    let count = 0;
    let expectValue = true; // after '[' or ','
    let opened = true; // right after '[': a ']' closes an empty array
    for (;;) {
      const c = pos < end ? bytes[pos] : -1;
      switch (c) {
        case OPEN_ARRAY:
          if (!expectValue) break;
          if (++depth > MAX_JSON_NESTING_DEPTH) {
            throw new MaasError(
              'INVALID_REQUEST',
              `inputs[${inputIndex}]: 'data' is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels (at byte ${pos})`,
            );
          }
          pos++;
          opened = true;
          continue;
        case CLOSE_ARRAY:
          if (expectValue && !opened) break; // a trailing comma
          pos++;
          expectValue = false;
          if (--depth === 0) {
            s.pos = pos;
            return count;
          }
          continue;
        case COMMA:
          if (expectValue) break;
          pos++;
          expectValue = true;
          opened = false;
          continue;
        case SPACE:
        case LF:
        case CR:
        case TAB:
          pos++;
          continue;
        default:
          if (!expectValue || c === -1) break;
          s.pos = pos;
          if (c === MINUS || isDigit(c)) {
            const target = count < capacity ? (sink as DataSink).plainTarget() : null;
            if (target !== null) {
              // The common case in one tight loop; it stops before anything
              // that is not a plain decimal, which the cases here then read.
              const after = scanPlainDecimals(bytes, pos, end, target, count, capacity);
              if (plainCount > count) {
                count = plainCount;
                pos = after;
                expectValue = false;
                continue;
              }
            }
            if (count < capacity) {
              s.number(approx);
              (sink as DataSink).number(count, s.value, s.exact, pos, s.pos);
            } else {
              s.skipNumber();
            }
          } else {
            let kind = SCALAR_OTHER;
            if (c === OPEN_OBJECT) s.skipValue(depth + 1, this.tooDeep);
            else if (c === QUOTE) {
              s.skipString();
              kind = SCALAR_STRING;
            } else if (c === LOWER_T) {
              s.literal('true');
              kind = SCALAR_TRUE;
            } else if (c === LOWER_F) {
              s.literal('false');
              kind = SCALAR_FALSE;
            } else s.skipScalar();
            if (count < capacity) (sink as DataSink).other(count, kind, pos, s.pos);
          }
          pos = s.pos;
          count++;
          expectValue = false;
          continue;
      }
      throw s.error(expectValue ? 'a JSON value' : "',' or ']' in tensor data", pos);
    }
  }
}

// Any JSON document in bytes [0, length), within the limits above.
export function readJson(bytes: Uint8Array, length = bytes.byteLength): unknown {
  return new JsonParser(bytes, length, false).document();
}

// An inference request's JSON: as readJson, but each `inputs[i].data` that
// is an array comes back as a JsonDataSpan (read into `sinkFor`'s sink on
// the way when it gives one), and members the decoder ignores are skipped
// rather than built.
export function readInferenceJson(
  bytes: Uint8Array,
  length = bytes.byteLength,
  sinkFor: SinkFactory | null = null,
): unknown {
  return new JsonParser(bytes, length, true, sinkFor).document();
}

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
import { MaasError } from '../../common/errors';

export const MAX_JSON_NESTING_DEPTH = 100; // Triton's HTTP_MAX_JSON_NESTING_DEPTH
export const MAX_JSON_VALUES = 65_536; // outside tensor data: ids, shapes, parameters, outputs

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const OPEN_ARRAY = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_ARRAY = 0x5d;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

// 10^0 .. 10^308 as doubles: exact up to 10^22, correctly rounded beyond.
const POW10: Float64Array = (() => {
  const table = new Float64Array(309);
  for (let i = 0; i < table.length; i++) table[i] = Number(`1e${i}`);
  return table;
})();

function isWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// The bytes as a Buffer without copying (for toString).
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Buffer's own slice decoders (what toString calls after its argument checks).
interface Slicer { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string }

// Keys and values every request repeats, returned as the same strings
// instead of decoding their bytes each time. Indexed by length.
const COMMON_STRINGS: string[][] = (() => {
  const words = [
    'id', 'parameters', 'inputs', 'outputs', 'name', 'shape', 'datatype', 'data', 'binary_data_size', 'binary_data',
    'binary_data_output', 'priority', 'timeout', 'ready', 'input', 'output',
    'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'BF16',
  ];
  const byLength: string[][] = [];
  for (const w of words) (byLength[w.length] ??= []).push(w);
  return byLength;
})();

function commonString(bytes: Uint8Array, start: number, end: number): string | undefined {
  const candidates = COMMON_STRINGS[end - start];
  if (candidates === undefined) return undefined;
  for (const word of candidates) {
    let i = 0;
    while (i < word.length && bytes[start + i] === word.charCodeAt(i)) i++;
    if (i === word.length) return word;
  }
  return undefined;
}

// Reads tokens from bytes [0, end): the one place that knows the grammar of
// numbers, strings and literals. `pos` moves past what each call read.
class Scanner {
  pos = 0;
  // The last number read: its value, and whether it is exact (see number()).
  value = 0;
  exact = true;
  // The last string read: whether it holds escapes or bytes >= 0x80.
  private escapes = false;
  private ascii = true;
  private stringStart = 0;

  private slicer: unknown; // the bytes as a Buffer

  constructor(public bytes: Uint8Array, public end: number) {
    this.slicer = asBuffer(bytes);
  }

  error(expected: string, at = this.pos): MaasError {
    const { bytes, end } = this;
    let found = 'the end of the JSON';
    if (at < end) {
      const c = bytes[at];
      found = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    }
    return new MaasError('INVALID_JSON', `malformed JSON in the request at byte ${at}: expected ${expected}, found ${found}`);
  }

  peek(): number {
    return this.pos < this.end ? this.bytes[this.pos] : -1;
  }

  skipWhitespace(): void {
    const { bytes, end } = this;
    let pos = this.pos;
    while (pos < end && isWhitespace(bytes[pos])) pos++;
    this.pos = pos;
  }

  // Consumes `c` (after optional whitespace) if it is next.
  eat(c: number): boolean {
    this.skipWhitespace();
    if (this.pos < this.end && this.bytes[this.pos] === c) {
      this.pos++;
      return true;
    }
    return false;
  }

  literal(word: string): void {
    const { bytes, end } = this;
    for (let i = 0; i < word.length; i++) {
      const at = this.pos + i;
      if (at >= end || bytes[at] !== word.charCodeAt(i)) throw this.error(`'${word}'`, at);
    }
    this.pos += word.length;
  }

  // A number into this.value. With `approx`, a value within 2^-45 of the
  // exact one may come back (this.exact = false) where the exact double would
  // cost a string: only for callers that round to float32 and check the
  // rounding is unambiguous.
  number(approx: boolean): void {
    const { bytes, end } = this;
    const start = this.pos;
    let pos = start;
    let negative = false;
    if (bytes[pos] === MINUS) { negative = true; pos++; }
    let c = pos < end ? bytes[pos] : -1;
    if (!isDigit(c)) throw this.error('a digit', pos);
    let mantissa = 0;
    let digits = 0; // significant digits in the mantissa
    let exponent = 0;
    if (c === DIGIT_0) {
      c = ++pos < end ? bytes[pos] : -1;
    } else {
      do {
        mantissa = mantissa * 10 + (c - DIGIT_0);
        digits++;
        c = ++pos < end ? bytes[pos] : -1;
      } while (isDigit(c));
    }
    if (c === DOT) {
      c = ++pos < end ? bytes[pos] : -1;
      if (!isDigit(c)) throw this.error('a digit after the decimal point', pos);
      do {
        if (mantissa !== 0 || c !== DIGIT_0) digits++;
        mantissa = mantissa * 10 + (c - DIGIT_0);
        exponent--;
        c = ++pos < end ? bytes[pos] : -1;
      } while (isDigit(c));
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = ++pos < end ? bytes[pos] : -1;
      let expNegative = false;
      if (c === MINUS || c === PLUS) {
        expNegative = c === MINUS;
        c = ++pos < end ? bytes[pos] : -1;
      }
      if (!isDigit(c)) throw this.error('a digit in the exponent', pos);
      let e = 0;
      do {
        if (e < 1_000_000) e = e * 10 + (c - DIGIT_0); // beyond, the value is 0 or Infinity anyway
        c = ++pos < end ? bytes[pos] : -1;
      } while (isDigit(c));
      exponent += expNegative ? -e : e;
    }
    this.pos = pos;
    this.exact = true;
    if (mantissa === 0) {
      this.value = negative ? -0 : 0;
      return;
    }
    if (digits <= 15 && exponent >= -22 && exponent <= 22) {
      // Both factors are exact doubles, so the one operation rounds
      // correctly (Clinger's fast path).
      const magnitude = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
      this.value = negative ? -magnitude : magnitude;
      return;
    }
    const scale = exponent + digits; // where the decimal point is, from the first digit
    if (approx && digits <= 40 && scale > -290 && scale < 290 && exponent > -309 && exponent < 309) {
      // Up to 40 digit steps and the scaling each round once.
      const magnitude = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
      this.value = negative ? -magnitude : magnitude;
      this.exact = false;
      return;
    }
    // Correctly rounded by the runtime, as JSON.parse does it.
    this.value = Number(asBuffer(bytes).toString('latin1', start, pos));
  }

  // Checks a number's grammar without its value.
  skipNumber(): void {
    const { bytes, end } = this;
    let pos = this.pos;
    if (bytes[pos] === MINUS) pos++;
    let c = pos < end ? bytes[pos] : -1;
    if (c === DIGIT_0) {
      c = ++pos < end ? bytes[pos] : -1;
    } else if (c > DIGIT_0 && c <= DIGIT_9) {
      do c = ++pos < end ? bytes[pos] : -1; while (isDigit(c));
    } else {
      throw this.error('a digit', pos);
    }
    if (c === DOT) {
      c = ++pos < end ? bytes[pos] : -1;
      if (!isDigit(c)) throw this.error('a digit after the decimal point', pos);
      do c = ++pos < end ? bytes[pos] : -1; while (isDigit(c));
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = ++pos < end ? bytes[pos] : -1;
      if (c === MINUS || c === PLUS) c = ++pos < end ? bytes[pos] : -1;
      if (!isDigit(c)) throw this.error('a digit in the exponent', pos);
      do c = ++pos < end ? bytes[pos] : -1; while (isDigit(c));
    }
    this.pos = pos;
  }

  // Checks the string at pos (on its opening quote) and moves past it;
  // string() then decodes it.
  skipString(): void {
    const { bytes, end } = this;
    this.stringStart = this.pos;
    let escapes = false;
    let ascii = true;
    let i = this.pos + 1;
    for (;;) {
      if (i >= end) throw this.error("a closing '\"'", i);
      const c = bytes[i];
      if (c === QUOTE) break;
      if (c < 0x20) throw this.error('no control character inside a string', i);
      if (c === BACKSLASH) {
        escapes = true;
        const e = i + 1 < end ? bytes[i + 1] : -1;
        if (e === LOWER_U) {
          for (let k = 2; k < 6; k++) if (!isHexDigit(i + k < end ? bytes[i + k] : -1)) throw this.error('four hex digits after \\u', i + k);
          i += 6;
          continue;
        }
        // \" \\ \/ \b \f \n \r \t
        if (e !== QUOTE && e !== BACKSLASH && e !== SLASH && e !== 0x62 && e !== LOWER_F && e !== LOWER_N && e !== 0x72 && e !== LOWER_T) {
          throw this.error('a valid escape', i + 1);
        }
        i += 2;
        continue;
      }
      if (c >= 0x80) ascii = false;
      i++;
    }
    this.pos = i + 1;
    this.escapes = escapes;
    this.ascii = ascii;
  }

  string(): string {
    this.skipString();
    const start = this.stringStart + 1;
    const end = this.pos - 1;
    // Escapes are rare in requests: the runtime decodes them (the string
    // alone, so this stays linear).
    if (this.escapes) return JSON.parse(asBuffer(this.bytes).toString('utf8', start - 1, end + 1)) as string;
    if (!this.ascii) return (this.slicer as Slicer).utf8Slice(start, end);
    return commonString(this.bytes, start, end) ?? (this.slicer as Slicer).latin1Slice(start, end);
  }

  text(start: number, end: number): string {
    const shown = asBuffer(this.bytes).toString('utf8', start, Math.min(end, start + 64));
    return end - start > 64 ? `${shown}…` : shown;
  }

  // Skips any value, checking its grammar; `depth` is its level.
  skipValue(depth: number, tooDeep: (at: number) => MaasError): void {
    this.skipWhitespace();
    const c = this.peek();
    if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
      this.skipScalar();
      return;
    }
    if (depth > MAX_JSON_NESTING_DEPTH) throw tooDeep(this.pos);
    const isObject = c === OPEN_OBJECT;
    const close = isObject ? CLOSE_OBJECT : CLOSE_ARRAY;
    this.pos++;
    if (this.eat(close)) return;
    do {
      if (isObject) this.key();
      this.skipValue(depth + 1, tooDeep);
    } while (this.afterMember(close));
  }

  // A scalar (number, string, literal) of any kind, checked and skipped.
  skipScalar(): void {
    switch (this.peek()) {
      case QUOTE: this.skipString(); return;
      case LOWER_T: this.literal('true'); return;
      case LOWER_F: this.literal('false'); return;
      case LOWER_N: this.literal('null'); return;
      default: {
        const c = this.peek();
        if (c === MINUS || isDigit(c)) { this.skipNumber(); return; }
        throw this.error('a JSON value');
      }
    }
  }

  // `"key":` of an object member, the key decoded.
  key(): string {
    this.skipWhitespace();
    if (this.peek() !== QUOTE) throw this.error("a '\"' to start a key");
    const key = this.string();
    if (!this.eat(COLON)) throw this.error("':' after a key");
    this.skipWhitespace();
    return key;
  }

  // After a member of an array or object: true at ',' (another follows),
  // false at the closing bracket.
  afterMember(close: number): boolean {
    if (this.eat(COMMA)) return true;
    if (this.eat(close)) return false;
    throw this.error(close === CLOSE_OBJECT ? "',' or '}' after an object member" : "',' or ']' after an array element");
  }
}

// Receives a tensor's scalars, in row-major order (nesting flattened), as
// the reader checks them: json-codec.ts writes them into a typed array.
export interface DataSink {
  readonly approx: boolean; // numbers may be approximate (see Scanner.number)
  readonly capacity: number; // scalars past this many are only checked, not handed over
  begin(bytes: Uint8Array): void; // the bytes that start/end below index
  number(index: number, value: number, exact: boolean, start: number, end: number): void;
  // Anything else: a string (kind SCALAR_STRING), true, false, null or an object.
  other(index: number, kind: number, start: number, end: number): void;
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
    new MaasError('INVALID_REQUEST', `the request JSON is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels (at byte ${at})`);

  constructor(bytes: Uint8Array, end: number, private readonly inference: boolean, private readonly sinkFor: SinkFactory | null = null) {
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
      throw new MaasError('INVALID_REQUEST', `the request JSON holds more than ${MAX_JSON_VALUES} values outside tensor data (at byte ${s.pos})`);
    }
    switch (c) {
      case OPEN_OBJECT: return this.object(depth, at);
      case OPEN_ARRAY: return this.array(depth, at);
      case QUOTE: return s.string();
      case LOWER_T: s.literal('true'); return true;
      case LOWER_F: s.literal('false'); return false;
      case LOWER_N: s.literal('null'); return null;
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
      if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
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
            throw new MaasError('INVALID_REQUEST',
              `inputs[${inputIndex}]: 'data' is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels (at byte ${pos})`);
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
        case SPACE: case LF: case CR: case TAB:
          pos++;
          continue;
        default:
          if (!expectValue || c === -1) break;
          s.pos = pos;
          if (c === MINUS || isDigit(c)) {
            if (count < capacity) {
              s.number(approx);
              (sink as DataSink).number(count, s.value, s.exact, pos, s.pos);
            } else {
              s.skipNumber();
            }
          } else {
            let kind = SCALAR_OTHER;
            if (c === OPEN_OBJECT) s.skipValue(depth + 1, this.tooDeep);
            else if (c === QUOTE) { s.skipString(); kind = SCALAR_STRING; }
            else if (c === LOWER_T) { s.literal('true'); kind = SCALAR_TRUE; }
            else if (c === LOWER_F) { s.literal('false'); kind = SCALAR_FALSE; }
            else s.skipScalar();
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
export function readInferenceJson(bytes: Uint8Array, length = bytes.byteLength, sinkFor: SinkFactory | null = null): unknown {
  return new JsonParser(bytes, length, true, sinkFor).document();
}

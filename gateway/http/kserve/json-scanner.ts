// The tokens of JSON (RFC 8259) read from bytes: numbers (with JSON.parse's
// rounding), strings (with its decoding), literals, and skipping whole values
// without building them. json-reader.ts builds documents from these.
import { MaasError } from '../../../common/errors';
import { MAX_JSON_NESTING_DEPTH } from './json-limits';

export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const QUOTE = 0x22;
const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const DOT = 0x2e;
const SLASH = 0x2f;
export const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
export const COLON = 0x3a;
const UPPER_E = 0x45;
export const OPEN_ARRAY = 0x5b;
const BACKSLASH = 0x5c;
export const CLOSE_ARRAY = 0x5d;
const LOWER_E = 0x65;
export const LOWER_F = 0x66;
export const LOWER_N = 0x6e;
export const LOWER_T = 0x74;
const LOWER_U = 0x75;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;

// 10^0 .. 10^308 as doubles: exact up to 10^22, correctly rounded beyond.
export const POW10: Float64Array = (() => {
  const table = new Float64Array(309);
  for (let i = 0; i < table.length; i++) table[i] = Number(`1e${i}`);
  return table;
})();

export function isWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

export function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// The bytes as a Buffer without copying (for toString).
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Buffer's own slice decoders (what toString calls after its argument checks).
interface Slicer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

// Keys and values every request repeats, returned as the same strings
// instead of decoding their bytes each time. Indexed by length.
const COMMON_STRINGS: string[][] = (() => {
  const words = [
    'id',
    'parameters',
    'inputs',
    'outputs',
    'name',
    'shape',
    'datatype',
    'data',
    'binary_data_size',
    'binary_data',
    'binary_data_output',
    'priority',
    'timeout',
    'ready',
    'input',
    'output',
    'BOOL',
    'UINT8',
    'UINT16',
    'UINT32',
    'UINT64',
    'INT8',
    'INT16',
    'INT32',
    'INT64',
    'FP16',
    'FP32',
    'FP64',
    'BYTES',
    'BF16',
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
export class Scanner {
  pos = 0;
  // The last number read: its value, and whether it is exact (see number()).
  value = 0;
  exact = true;
  // The last string read: whether it holds escapes or bytes >= 0x80.
  private escapes = false;
  private ascii = true;
  private stringStart = 0;

  private slicer: unknown; // the bytes as a Buffer

  constructor(
    public bytes: Uint8Array,
    public end: number,
  ) {
    this.slicer = asBuffer(bytes);
  }

  error(expected: string, at = this.pos): MaasError {
    const { bytes, end } = this;
    let found = 'the end of the JSON';
    if (at < end) {
      const c = bytes[at];
      found = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    }
    return new MaasError(
      'INVALID_JSON',
      `malformed JSON in the request at byte ${at}: expected ${expected}, found ${found}`,
    );
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
    if (bytes[pos] === MINUS) {
      negative = true;
      pos++;
    }
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
      do c = ++pos < end ? bytes[pos] : -1;
      while (isDigit(c));
    } else {
      throw this.error('a digit', pos);
    }
    if (c === DOT) {
      c = ++pos < end ? bytes[pos] : -1;
      if (!isDigit(c)) throw this.error('a digit after the decimal point', pos);
      do c = ++pos < end ? bytes[pos] : -1;
      while (isDigit(c));
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = ++pos < end ? bytes[pos] : -1;
      if (c === MINUS || c === PLUS) c = ++pos < end ? bytes[pos] : -1;
      if (!isDigit(c)) throw this.error('a digit in the exponent', pos);
      do c = ++pos < end ? bytes[pos] : -1;
      while (isDigit(c));
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
          for (let k = 2; k < 6; k++)
            if (!isHexDigit(i + k < end ? bytes[i + k] : -1)) throw this.error('four hex digits after \\u', i + k);
          i += 6;
          continue;
        }
        // \" \\ \/ \b \f \n \r \t
        if (
          e !== QUOTE &&
          e !== BACKSLASH &&
          e !== SLASH &&
          e !== 0x62 &&
          e !== LOWER_F &&
          e !== LOWER_N &&
          e !== 0x72 &&
          e !== LOWER_T
        ) {
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
      case QUOTE:
        this.skipString();
        return;
      case LOWER_T:
        this.literal('true');
        return;
      case LOWER_F:
        this.literal('false');
        return;
      case LOWER_N:
        this.literal('null');
        return;
      default: {
        const c = this.peek();
        if (c === MINUS || isDigit(c)) {
          this.skipNumber();
          return;
        }
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
    throw this.error(
      close === CLOSE_OBJECT ? "',' or '}' after an object member" : "',' or ']' after an array element",
    );
  }
}

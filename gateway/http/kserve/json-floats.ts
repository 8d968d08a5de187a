// The common case of tensor data, read in one tight loop: a run of plain
// decimals (`-?digits[.digits]`, at most 15 significant digits, no
// exponent) separated by commas, written straight into a Float32Array or
// Float64Array. Each value is computed exactly as Scanner.number computes
// it on its fast path (one exact division or multiplication, so correctly
// rounded), so the result is the same as the general path's. Anything else
// (an exponent, more digits, a leading zero, a string, a nested array, the
// end of the array) stops the loop *before* that token; the general loop of
// json-reader.ts (dataSpan) takes over from there with its own checks.
import { COMMA, CR, DIGIT_0, DOT, LF, MINUS, SPACE, TAB, POW10 } from './json-scanner';

const LOWER_E = 0x65;
const UPPER_E = 0x45;

// Where the last scanPlainDecimals call stopped: its count of values
// (module-level, so a call returns two numbers without allocating).
export let plainCount = 0;

// Reads from `pos` (on a value) while values are plain; stores value i into
// out[i] for i from `count` below `capacity`. Returns the position after the
// last value read (or `pos` when none), with plainCount = the new count.
export function scanPlainDecimals(
  bytes: Uint8Array,
  pos: number,
  end: number,
  out: Float32Array | Float64Array,
  count: number,
  capacity: number,
): number {
  let after = pos; // after the last value read
  let n = count;
  let p = pos;
  let c = p < end ? bytes[p] : -1; // always the byte at p (-1 past the end)
  while (n < capacity) {
    const negative = c === MINUS;
    if (negative) c = ++p < end ? bytes[p] : -1;
    let d = c - DIGIT_0;
    if (d < 0 || d > 9) break;
    let mantissa = d;
    let digits = d === 0 ? 0 : 1; // significant digits in the mantissa
    let exponent = 0;
    c = ++p < end ? bytes[p] : -1;
    d = c - DIGIT_0;
    if (mantissa === 0) {
      if (d >= 0 && d <= 9) break; // a leading zero: the general path reports it
    } else {
      while (d >= 0 && d <= 9) {
        mantissa = mantissa * 10 + d;
        digits++;
        c = ++p < end ? bytes[p] : -1;
        d = c - DIGIT_0;
      }
    }
    if (c === DOT) {
      c = ++p < end ? bytes[p] : -1;
      d = c - DIGIT_0;
      if (d < 0 || d > 9) break;
      const fractionStart = p;
      do {
        mantissa = mantissa * 10 + d;
        c = ++p < end ? bytes[p] : -1;
        d = c - DIGIT_0;
      } while (d >= 0 && d <= 9);
      exponent = fractionStart - p;
      // Leading zeros of a value below 1 are not significant digits.
      digits =
        mantissa === 0 ? 0 : digits + (p - fractionStart) - (digits === 0 ? leadingZeros(bytes, fractionStart, p) : 0);
    }
    if (c === LOWER_E || c === UPPER_E || digits > 15 || exponent < -22) break; // beyond the exact path
    out[n++] =
      mantissa === 0 ? (negative ? -0 : 0) : negative ? -(mantissa / POW10[-exponent]) : mantissa / POW10[-exponent];
    after = p;
    // A comma (whitespace around it allowed) and then the next value.
    while (c === SPACE || c === LF || c === CR || c === TAB) c = ++p < end ? bytes[p] : -1;
    if (c !== COMMA) break;
    c = ++p < end ? bytes[p] : -1;
    while (c === SPACE || c === LF || c === CR || c === TAB) c = ++p < end ? bytes[p] : -1;
  }
  plainCount = n;
  return after;
}

function leadingZeros(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to && bytes[i] === DIGIT_0) i++;
  return i - from;
}

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

// Where the last scanPlainDecimals call stopped: its count of values
// (module-level, so a call returns two numbers without allocating).
export let plainCount = 0;

// Reads from `pos` (on a value) while values are plain; stores value i into
// out[i] for i from `count` below `capacity`. Returns the position after the
// last value read (or `pos` when none), with plainCount = the new count.
export function scanPlainDecimals(
  bytes: Uint8Array, pos: number, end: number, out: Float32Array | Float64Array, count: number, capacity: number,
): number {
  let after = pos; // after the last value read
  let n = count;
  while (n < capacity) {
    let p = pos;
    let negative = false;
    if (p < end && bytes[p] === MINUS) { negative = true; p++; }
    let c = p < end ? bytes[p] : -1;
    let d = c - DIGIT_0;
    if (d < 0 || d > 9) break;
    let mantissa = 0;
    let digits = 0;
    let exponent = 0;
    if (d === 0) {
      c = ++p < end ? bytes[p] : -1;
      d = c - DIGIT_0;
      if (d >= 0 && d <= 9) break; // a leading zero: the general path reports it
    } else {
      do {
        mantissa = mantissa * 10 + d;
        digits++;
        c = ++p < end ? bytes[p] : -1;
        d = c - DIGIT_0;
      } while (d >= 0 && d <= 9);
    }
    if (c === DOT) {
      c = ++p < end ? bytes[p] : -1;
      d = c - DIGIT_0;
      if (d < 0 || d > 9) break;
      do {
        if (mantissa !== 0 || d !== 0) digits++;
        mantissa = mantissa * 10 + d;
        exponent--;
        c = ++p < end ? bytes[p] : -1;
        d = c - DIGIT_0;
      } while (d >= 0 && d <= 9);
    }
    if (c === 0x65 || c === 0x45 || digits > 15 || exponent < -22) break; // 'e', 'E', or beyond the exact path
    out[n++] = mantissa === 0 ? (negative ? -0 : 0) : negative ? -(mantissa / POW10[-exponent]) : mantissa / POW10[-exponent];
    after = p;
    // Whitespace, then a comma followed (after whitespace) by another value.
    while (p < end && ((c = bytes[p]) === SPACE || c === LF || c === CR || c === TAB)) p++;
    if (p >= end || bytes[p] !== COMMA) break;
    p++;
    while (p < end && ((c = bytes[p]) === SPACE || c === LF || c === CR || c === TAB)) p++;
    pos = p;
  }
  plainCount = n;
  return after;
}

// The 16-bit float formats in JS, for tests: float16 (IEEE binary16) and
// bfloat16 as their bits in a Uint16Array. Narrowing rounds to nearest even;
// widening is exact. (Node 20 has no Float16Array.)
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0];
}

function floatOf(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

// Rounds a number to float16 and returns its bits. The number is first
// rounded to float32 (as every caller's values are float32 anyway).
export function toFloat16Bits(x: number): number {
  const u = bitsOf(x);
  const sign = (u >>> 16) & 0x8000;
  const magnitude = u & 0x7fffffff;
  if (magnitude >= 0x7f800000) return sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x200 : 0);
  const value = floatOf(magnitude);
  if (value >= 65520) return sign | 0x7c00;
  if (value < 2 ** -14) {
    // Subnormal: the unit is 2^-24; JS's Math.round rounds halves up, so
    // ties go to the even neighbour by hand.
    const scaled = value * 2 ** 24;
    let m = Math.floor(scaled);
    const rest = scaled - m;
    if (rest > 0.5 || (rest === 0.5 && m % 2 === 1)) m += 1;
    return sign | m;
  }
  const exponent = Math.floor(Math.log2(value));
  let e = exponent;
  // log2 can be off by one next to powers of two.
  if (2 ** e > value) e -= 1;
  if (2 ** (e + 1) <= value) e += 1;
  const scaled = (value / 2 ** e - 1) * 1024;
  let m = Math.floor(scaled);
  const rest = scaled - m;
  if (rest > 0.5 || (rest === 0.5 && m % 2 === 1)) m += 1;
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  return sign | ((e + 15) << 10) | m;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function toBFloat16Bits(x: number): number {
  const u = bitsOf(x);
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  const lower = u & 0xffff;
  let upper = u >>> 16;
  if (lower > 0x8000 || (lower === 0x8000 && (upper & 1) === 1)) upper += 1;
  return upper & 0xffff;
}

export function fromBFloat16Bits(b: number): number {
  return floatOf(b << 16);
}

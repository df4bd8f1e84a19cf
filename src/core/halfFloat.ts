/** IEEE half and bfloat16 <-> float32 conversions (safetensors F16 / BF16 tensors). */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function bf16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

export function floatToBf16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decode a little-endian F16 buffer into float32. */
export function decodeHalf(bytes: Uint8Array): Float32Array {
  return decodeHalfChecked(bytes).data;
}

/**
 * decodeHalf, and whether every value is finite (no half with all exponent bits set): checked on
 * the way, which costs less than a pass over the float32 result. A table lookup per value.
 */
export function decodeHalfChecked(bytes: Uint8Array): { data: Float32Array; finite: boolean } {
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  const table = halfTable();
  let worst = 0; // the largest magnitude bits seen; ≥ 0x7c00 is Inf or NaN
  if (littleEndian && bytes.byteOffset % 2 === 0) {
    // Reading the halves in place: ≈ 1.4× faster than a DataView on a 48k × 512 tensor.
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const h = halves[i],
        m = h & 0x7fff;
      out[i] = table[h];
      if (m > worst) worst = m;
    }
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      const h = view.getUint16(2 * i, true),
        m = h & 0x7fff;
      out[i] = table[h];
      if (m > worst) worst = m;
    }
  }
  return { data: out, finite: worst < 0x7c00 };
}

export function decodeBf16(bytes: Uint8Array): Float32Array {
  return decodeBf16Checked(bytes).data;
}

/** decodeBf16, and whether every value is finite (exponent bits not all set). */
export function decodeBf16Checked(bytes: Uint8Array): { data: Float32Array; finite: boolean } {
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const b = view.getUint16(2 * i, true),
      m = b & 0x7fff;
    bits[i] = b << 16;
    if (m > worst) worst = m;
  }
  return { data: out, finite: worst < 0x7f80 };
}

let table: Float32Array | undefined;
function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  return table;
}

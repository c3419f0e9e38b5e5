/**
 * 64-bit SimHash of a vector (Charikar's random-hyperplane hashing): bit j
 * is the sign of the vector's projection on a fixed pseudo-random ±1
 * hyperplane. Two vectors at angle θ differ in each bit with probability
 * θ/π, so near-duplicates have signatures a few bits apart.
 */

export const SIMHASH_BITS = 64;

/** A 64-bit signature as two unsigned 32-bit halves (bits 32–63, bits 0–31). */
export interface Signature {
  hi: number;
  lo: number;
}

/**
 * The signs of dimension `d` in the 64 hyperplanes (bit j set: +1 in
 * hyperplane j), one 32-bit half at a time. A hash of the dimension rather
 * than a random table: the same on every run and machine, and no state.
 */
function planeBits(d: number, half: 0 | 1): number {
  let z = (Math.imul(2 * d + half, 0x9e3779b9) + 0x5eed1234) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The SimHash of `vector`. */
export function simhash(vector: ArrayLike<number>): Signature {
  const sums = new Float64Array(SIMHASH_BITS);
  for (let d = 0; d < vector.length; d++) {
    const x = vector[d] as number;
    if (x === 0) continue;
    const hi = planeBits(d, 0);
    const lo = planeBits(d, 1);
    for (let j = 0; j < 32; j++) {
      sums[j] = (sums[j] as number) + ((lo >>> j) & 1 ? x : -x);
      sums[32 + j] = (sums[32 + j] as number) + ((hi >>> j) & 1 ? x : -x);
    }
  }
  let lo = 0;
  let hi = 0;
  for (let j = 0; j < 32; j++) {
    if ((sums[j] as number) > 0) lo |= 1 << j;
    if ((sums[32 + j] as number) > 0) hi |= 1 << j;
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Bits in which two signatures differ. */
export function hammingDistance(a: Signature, b: Signature): number {
  return popcount32((a.hi ^ b.hi) >>> 0) + popcount32((a.lo ^ b.lo) >>> 0);
}

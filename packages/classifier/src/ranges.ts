/**
 * Port ranges as value/mask pairs. ClassBench (and ACL languages generally) give L4 ports as
 * inclusive ranges, while OVS matches them by mask (`tp_dst=0x400/0xfc00`); OVN expands a
 * range the same way. The minimal cover of [lo, hi] by aligned power-of-two blocks has at
 * most 2·bits − 2 entries (30 for 16-bit ports).
 */
import { SimError } from "@ovnsim/packet";

export interface ValueMask {
  readonly value: number;
  readonly mask: number;
}

/**
 * The minimal list of value/mask pairs whose union is exactly [lo, hi] over `bits`-bit
 * numbers (1 ≤ bits ≤ 32), in ascending order of value.
 *
 * @example rangeToPrefixes(1024, 2047, 16) // [{ value: 0x400, mask: 0xfc00 }]
 */
export function rangeToPrefixes(lo: number, hi: number, bits = 16): ValueMask[] {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32)
    throw new SimError("BAD_VALUE", `range: width ${bits} is not in 1..32`);
  const max = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > max || lo > hi)
    throw new SimError("BAD_VALUE", `range: ${lo}-${hi} is not a range of ${bits}-bit numbers`);
  const full = max;
  const out: ValueMask[] = [];
  let cur = lo;
  while (cur <= hi) {
    // Largest aligned block starting at cur that fits in [cur, hi].
    let size = cur === 0 ? 2 ** bits : 2 ** Math.min(bits, ctz(cur));
    while (cur + size - 1 > hi) size /= 2;
    const mask = (full - (size - 1)) >>> 0;
    out.push({ value: cur >>> 0, mask });
    cur += size;
  }
  return out;
}

function ctz(x: number): number {
  let n = 0;
  while (x % 2 === 0 && n < 32) {
    x /= 2;
    n++;
  }
  return n;
}

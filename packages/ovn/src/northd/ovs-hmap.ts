/**
 * The iteration order of an OVS `sset` (lib/sset.c over lib/hmap.c): northd prints some sets
 * of strings (the source MACs of a router port's self-originated ARP flow, …) in the order
 * SSET_FOR_EACH visits them, which is the hmap's bucket order. Reproduced exactly: keys hashed
 * with hash_string(key, 0) (OVS's portable Murmur3 hash_bytes), inserted at the head of their
 * bucket, buckets doubled by hmap_expand when n / 2 > mask, rehashing bucket by bucket.
 */
import { hashBytes } from "@ovnsim/lb";

const enc = new TextEncoder();

/** lib/hmap.c calc_mask. */
function calcMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask;
}

/** The order SSET_FOR_EACH yields after sset_add of each key in turn (duplicates ignored). */
export function ssetOrder(keys: readonly string[]): string[] {
  let buckets: { key: string; hash: number }[][] = [[]];
  let mask = 0;
  let n = 0;
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const hash = hashBytes(enc.encode(key), 0);
    (buckets[hash & mask] as { key: string; hash: number }[]).unshift({ key, hash });
    n += 1;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const next: { key: string; hash: number }[][] = Array.from({ length: newMask + 1 }, () => []);
        for (const b of buckets) for (const node of b) (next[node.hash & newMask] as typeof b).unshift(node);
        buckets = next;
        mask = newMask;
      }
    }
  }
  return buckets.flatMap((b) => b.map((x) => x.key));
}

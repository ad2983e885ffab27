/**
 * OVS's 32-bit hash (lib/hash.h, the portable murmur3-based variant Debian's build uses):
 * ovn-controller derives conjunction ids from it (lflow-conj-ids.c: hash_int of the first 32
 * bits of the logical flow's and the datapath's uuids), so ids match the real ones exactly.
 */
const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export function hashAdd(hash: number, data: number): number {
  let h = hash >>> 0;
  if (data) {
    let d = Math.imul(data >>> 0, 0xcc9e2d51) >>> 0;
    d = rot(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    h = (h ^ d) >>> 0;
  }
  h = rot(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

export function hashFinish(hash: number, final: number): number {
  let h = (hash ^ final) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** hash_int(x, basis) = hash_2words(x, basis). */
export function hashInt(x: number, basis: number): number {
  return hashFinish(hashAdd(hashAdd(x, 0), basis), 8);
}

/** uuid_hash(): the uuid's first 32 bits. */
export function uuidHash(uuid: string): number {
  const h = uuid.replace(/^0x/, "").slice(0, 8);
  return /^[0-9a-f]{1,8}$/i.test(h) ? Number.parseInt(h, 16) >>> 0 : 0;
}

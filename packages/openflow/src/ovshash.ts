/**
 * OVS's portable hash functions (lib/hash.h, lib/hash.c: murmur3-style `hash_add`/`hash_finish`,
 * `hash_bytes`, `hash_int`, `hash_uint64`) and the select-group bucket choice built on them
 * (`pick_hash_fields_select_group` + `group_best_live_bucket` in ofproto-dpif-xlate.c), so a
 * `selection_method=hash,fields(...)` group picks the same bucket, with the same printed
 * scores, as ovs-vswitchd. (The shared @ovnsim/lb package had no OVS select hash when this
 * was written; this module is that one implementation until it moves there.)
 */
const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

function mhashAdd(hash: number, data: number): number {
  // mhash_add__: a zero data word leaves the hash unchanged (OVS >= 2.x).
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rot(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rot(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

export const hashAdd = mhashAdd;
export const hashFinish = (hash: number, final: number): number => mhashFinish((hash ^ final) >>> 0);

/** OVS hash_int(x, basis) = hash_2words(x, basis). */
export const hashInt = (x: number, basis: number): number =>
  hashFinish(hashAdd(hashAdd(x >>> 0, 0), basis >>> 0), 8);

/** OVS hash_uint64(x) (basis 0). */
export function hashUint64(x: bigint): number {
  const lo = Number(x & 0xffffffffn);
  const hi = Number((x >> 32n) & 0xffffffffn);
  return hashFinish(hashAdd(hashAdd(0, lo), hi), 8);
}

/** OVS hash_bytes over `bytes` (the words are read little-endian, as on x86). */
export function hashBytes(bytes: Uint8Array, basis: number): number {
  let hash = basis >>> 0;
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    hash = hashAdd(
      hash,
      (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0,
    );
  }
  if (i < bytes.length) {
    let tmp = 0;
    for (let k = 0; i + k < bytes.length; k++) tmp |= bytes[i + k]! << (8 * k);
    hash = hashAdd(hash, tmp >>> 0);
  }
  return hashFinish(hash, bytes.length);
}

/** A field's value as the network-order bytes OVS hashes (`union mf_value`, n_bytes long). */
export function valueBytes(value: bigint, nBytes: number): Uint8Array {
  const out = new Uint8Array(nBytes);
  for (let i = nBytes - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/** Bucket score as group_best_live_bucket computes it. */
export const bucketScore = (bucketId: number, basis: number, weight: number): number =>
  (hashInt(bucketId, basis) & 0xffff) * weight;

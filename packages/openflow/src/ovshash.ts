/**
 * The select-group bucket choice of `pick_hash_fields_select_group` + `group_best_live_bucket`
 * (ofproto-dpif-xlate.c): the field bytes OVS hashes and the per-bucket score it prints. The
 * hash functions themselves are OVS's (lib/hash.h) as implemented once in @ovnsim/lb.
 */
import { hashBytes, hashInt, hashUint64 } from "@ovnsim/lb";

export { hashBytes, hashInt, hashUint64 };

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

/**
 * Reading and writing meta-flow fields and subfields directly in the word key, as OVS's
 * `mf_get_value`/`mf_set_flow_value`/`mf_write_subfield_flow` do on `struct flow`. The
 * translator keeps the packet as a key (`Uint32Array`) so that set_field/load/move and the
 * megaflow wildcards (`wc`, the same shape) are all plain word operations.
 *
 * Values are bigints at this interface (fields go up to 128 bits); the hot path of a lookup
 * never comes here.
 */
import { type FieldSpec, fieldWords, findField, SimError, tunMetadataIndex, W } from "@ovnsim/packet";

const ALL32 = 0xffffffffn;

const fieldMask = (spec: FieldSpec): bigint => (1n << BigInt(spec.bits)) - 1n;

/** The value of `spec` in `key`. */
export function readField(key: Uint32Array, spec: FieldSpec): bigint {
  if (spec.bits <= 32) {
    const w = key[spec.word]! >>> spec.shift;
    return BigInt(spec.bits === 32 ? w >>> 0 : w & ((1 << spec.bits) - 1));
  }
  const n = fieldWords(spec);
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 32n) | BigInt(key[spec.word + i]!);
  return v & fieldMask(spec);
}

/** Writes the bits of `value` selected by `mask` (both in field coordinates) into `key`. */
export function writeField(
  key: Uint32Array,
  spec: FieldSpec,
  value: bigint,
  mask: bigint = fieldMask(spec),
): void {
  mask &= fieldMask(spec);
  value &= mask;
  if (spec.bits <= 32) {
    const m = (Number(mask) << spec.shift) >>> 0;
    const v = (Number(value) << spec.shift) >>> 0;
    key[spec.word] = ((key[spec.word]! & ~m) | v) >>> 0;
    const md = tunMetadataIndex(spec);
    if (md >= 0) {
      // tun_metadata_write(): writing a Geneve option makes it present.
      const w = W.tun_md_present + (md >>> 5);
      key[w] = (key[w]! | (1 << (md & 31))) >>> 0;
    }
    return;
  }
  const n = fieldWords(spec);
  for (let i = n - 1; i >= 0; i--) {
    const shift = BigInt((n - 1 - i) * 32);
    const m = Number((mask >> shift) & ALL32);
    const v = Number((value >> shift) & ALL32);
    key[spec.word + i] = ((key[spec.word + i]! & ~m) | v) >>> 0;
  }
}

/** ORs `mask` (field coordinates) into the wildcard key: "these bits were consulted". */
export function unwildcard(wc: Uint32Array, spec: FieldSpec, mask: bigint = fieldMask(spec)): void {
  if (spec.bits <= 32) {
    wc[spec.word] = (wc[spec.word]! | ((Number(mask & fieldMask(spec)) << spec.shift) >>> 0)) >>> 0;
    const md = tunMetadataIndex(spec);
    if (md >= 0 && mask !== 0n) {
      // mf_mask_field_masked() on a Geneve option also consults whether it is present.
      const w = W.tun_md_present + (md >>> 5);
      wc[w] = (wc[w]! | (1 << (md & 31))) >>> 0;
    }
    return;
  }
  const n = fieldWords(spec);
  for (let i = n - 1; i >= 0; i--) {
    const shift = BigInt((n - 1 - i) * 32);
    wc[spec.word + i] = (wc[spec.word + i]! | Number((mask >> shift) & ALL32)) >>> 0;
  }
}

/** A bit range of a field, OVS `struct mf_subfield` (`NXM_NX_REG0[0..15]`). */
export interface Subfield {
  readonly field: FieldSpec;
  readonly ofs: number;
  readonly nBits: number;
}

const SUBFIELD_RE = /^([A-Za-z0-9_]+)\[(?:(\d+)(?:\.\.(\d+))?)?\]$/;

/** Parses `NXM_NX_REG0[0..15]`, `reg0[]`, `NXM_OF_ETH_DST[]`, `reg1[5]` (OVS `mf_parse_subfield`). */
export function parseSubfield(text: string): Subfield {
  const m = SUBFIELD_RE.exec(text.trim());
  if (!m) {
    const bare = findField(text.trim());
    if (bare) return { field: bare, ofs: 0, nBits: bare.bits };
    throw new SimError("PARSE_ERROR", `"${text}": expected a subfield such as NXM_NX_REG0[0..15]`);
  }
  const field = findField(m[1]!);
  if (!field) throw new SimError("UNKNOWN_FIELD", `${m[1]}: unknown field`);
  if (m[2] === undefined) return { field, ofs: 0, nBits: field.bits };
  const start = Number(m[2]);
  const end = m[3] === undefined ? start : Number(m[3]);
  if (end < start || end >= field.bits) {
    throw new SimError("BAD_VALUE", `"${text}": bit range out of the ${field.bits}-bit field ${field.name}`);
  }
  return { field, ofs: start, nBits: end - start + 1 };
}

/** OVS `mf_format_subfield`: the NXM/OXM name and `[]`, `[n]` or `[a..b]`. */
export function formatSubfield(sf: Subfield): string {
  const name = sf.field.nxm || sf.field.name;
  // tun_metadata<N>: ovs-vswitchd sizes it by the TLV map (4 bytes here), so a trace prints
  // "[]" where ovs-ofctl, which has no map, prints "[0..31]" of its 992 bits.
  if (sf.ofs === 0 && sf.nBits === sf.field.bits) return `${name}[]`;
  if (sf.nBits === 1) return `${name}[${sf.ofs}]`;
  return `${name}[${sf.ofs}..${sf.ofs + sf.nBits - 1}]`;
}

const subMask = (sf: Subfield): bigint => ((1n << BigInt(sf.nBits)) - 1n) << BigInt(sf.ofs);

export function readSubfield(key: Uint32Array, sf: Subfield): bigint {
  return (readField(key, sf.field) >> BigInt(sf.ofs)) & ((1n << BigInt(sf.nBits)) - 1n);
}

export function writeSubfield(key: Uint32Array, sf: Subfield, value: bigint): void {
  writeField(key, sf.field, value << BigInt(sf.ofs), subMask(sf));
}

export function unwildcardSubfield(wc: Uint32Array, sf: Subfield): void {
  unwildcard(wc, sf.field, subMask(sf));
}

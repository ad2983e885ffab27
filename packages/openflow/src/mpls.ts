/**
 * The MPLS label stack as ovs-vswitchd translates it (upstream lib/flow.c flow_push_mpls /
 * flow_pop_mpls / flow_count_mpls_labels, ofproto-dpif-xlate.c compose_mpls_*_action and
 * odp-util.c commit_mpls_action). A flow holds at most three label stack entries
 * (FLOW_MAX_MPLS_LABELS): the top one in `W.mpls_lse`, the deeper ones in `W.mpls_lse1/2`, each
 * as a host-order LSE (label << 12 | tc << 9 | bos << 8 | ttl).
 *
 * Pushing onto a non-MPLS packet makes its L3/L4 headers invisible: OVS clears them (and the
 * conntrack tuple and dp_hash) from the flow so later matches and set_fields cannot see them.
 * Popping to a non-MPLS ethertype cannot bring them back without parsing the packet again, so
 * ovs-vswitchd recirculates before the next action that could read them (recirc_for_mpls).
 */
import { ETH_TYPE, W } from "@ovnsim/packet";

/** FLOW_MAX_MPLS_LABELS. */
export const MAX_MPLS_LABELS = 3;
const LSE_WORDS = [W.mpls_lse, W.mpls_lse1, W.mpls_lse2] as const;
const BOS = 0x100;

export const isMplsType = (t: number): boolean => t === ETH_TYPE.mpls || t === ETH_TYPE.mplsm;

/** flow_count_mpls_labels(): how many entries the stack holds (bos bits it reads go to `wc`). */
export function countMplsLabels(k: Uint32Array, wc: Uint32Array | null): number {
  if (!isMplsType(k[W.dl_type]!)) return 0;
  let cnt = 0;
  for (let i = 0; i < MAX_MPLS_LABELS; i++) {
    const w = LSE_WORDS[i]!;
    if (wc) wc[w] = (wc[w]! | BOS) >>> 0;
    if (k[w]! & BOS) return i + 1;
    if (k[w]) cnt++;
  }
  return cnt;
}

/** flow_count_common_mpls_labels(): entries equal from the bottom of both stacks. */
function countCommon(a: Uint32Array, an: number, b: Uint32Array, bn: number): number {
  const n = Math.min(an, bn);
  let common = 0;
  for (let i = 0; i < n; i++) {
    if (a[LSE_WORDS[an - 1 - i]!] !== b[LSE_WORDS[bn - 1 - i]!]) break;
    common++;
  }
  return common;
}

const lse = (ttl: number, tc: number, bos: number, label: number): number =>
  ((label << 12) | ((tc & 7) << 9) | ((bos & 1) << 8) | (ttl & 0xff)) >>> 0;

/**
 * flow_push_mpls(): pushes an entry over `n` existing ones. Onto a non-MPLS packet the entry
 * comes from the IP header (explicit-null label, DSCP's low bits as TC, the IP TTL or 64), and
 * with `clearL3` the L3/L4 fields, the conntrack tuple and dp_hash are cleared.
 */
export function pushMpls(
  k: Uint32Array,
  n: number,
  ethType: number,
  wc: Uint32Array | null,
  clearL3: boolean,
): void {
  if (n) {
    if (wc) for (let i = 0; i < n; i++) wc[LSE_WORDS[i]!] = 0xffffffff;
    for (let i = n; i >= 1; i--) k[LSE_WORDS[i]!] = k[LSE_WORDS[i - 1]!]!;
    k[W.mpls_lse] = (k[W.mpls_lse1]! & ~BOS) >>> 0;
  } else {
    const dl = k[W.dl_type]!;
    let tc = 0;
    let ttl = 64;
    if (dl === ETH_TYPE.ip || dl === ETH_TYPE.ipv6) {
      tc = (k[W.nw_tos]! & 0xfc) >>> 2;
      if (wc) {
        wc[W.nw_tos] = (wc[W.nw_tos]! | 0xfc) >>> 0;
        wc[W.nw_ttl] = 0xff;
      }
      if (k[W.nw_ttl]) ttl = k[W.nw_ttl]!;
    }
    k[W.mpls_lse] = lse(ttl, tc, 1, dl === ETH_TYPE.ipv6 ? 2 : 0);
    if (clearL3) {
      // struct flow from FLOW_SEGMENT_2_ENDS_AT (nw_src) on: L3, L4 and the conntrack tuple.
      k.fill(0, W.nw_src, W.mpls_lse1);
      k.fill(0, W.ct_nw_src, W.ct_tp_dst + 1);
      k[W.dp_hash] = 0;
    }
  }
  k[W.dl_type] = ethType;
}

/** flow_pop_mpls(): false when there is nothing to pop or the third entry is not the bottom. */
export function popMpls(k: Uint32Array, n: number, ethType: number, wc: Uint32Array | null): boolean {
  if (n === 0) return false;
  if (n === MAX_MPLS_LABELS) {
    if (wc) wc[W.mpls_lse2] = (wc[W.mpls_lse2]! | BOS) >>> 0;
    if (!(k[W.mpls_lse2]! & BOS)) return false;
  }
  if (wc) for (let i = 1; i < n; i++) wc[LSE_WORDS[i]!] = 0xffffffff;
  for (let i = 1; i < n; i++) k[LSE_WORDS[i - 1]!] = k[LSE_WORDS[i]!]!;
  k[LSE_WORDS[n - 1]!] = 0;
  k[W.dl_type] = ethType;
  return true;
}

/** format_mpls_lse() as the datapath actions print an entry. */
function lseText(v: number): string {
  return `label=${v >>> 12},tc=${(v >>> 9) & 7},ttl=${v & 0xff},bos=${(v >>> 8) & 1}`;
}

/**
 * commit_mpls_action(): the datapath actions that turn `base`'s label stack into `k`'s
 * (pop_mpls, set(mpls(...)), push_mpls), updating `base` as the datapath will see the packet.
 */
export function commitMpls(k: Uint32Array, base: Uint32Array, odp: string[]): void {
  let baseN = countMplsLabels(base, null);
  const flowN = countMplsLabels(k, null);
  let common = countCommon(k, flowN, base, baseN);
  const dl = k[W.dl_type]!;
  while (baseN > common) {
    if (baseN - 1 === common && flowN > common) {
      const v = k[LSE_WORDS[flowN - baseN]!]!;
      odp.push(`set(mpls(${lseText(v)}))`);
      base[W.mpls_lse] = v;
      common++;
    } else {
      const t = !isMplsType(dl) && baseN > 1 ? ETH_TYPE.mpls : dl;
      odp.push(`pop_mpls(eth_type=0x${t.toString(16)})`);
      popMpls(base, baseN, dl, null);
      baseN--;
    }
  }
  while (baseN < flowN) {
    const v = k[LSE_WORDS[flowN - baseN - 1]!]!;
    odp.push(`push_mpls(${lseText(v)},eth_type=0x${dl.toString(16)})`);
    pushMpls(base, baseN, dl, null, false);
    base[W.mpls_lse] = v;
    baseN++;
  }
}

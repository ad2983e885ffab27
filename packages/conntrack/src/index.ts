// @ovnsim/conntrack: OVS userspace connection tracking as an immutable value: zones, tuples,
// ct_state, commit, ct_mark/ct_label, DNAT/SNAT with reverse NAT, TCP/UDP/ICMP state, expiry
// in virtual time. Shared by the OpenFlow ct() action and OVN's ct_next/ct_commit/ct_lb_mark.
export { Conntrack, CT_TIMEOUTS, CT_SWEEP_DELAY, formatCtState, formatCtEntry } from "./conntrack.js";
export type {
  CtEntry,
  CtNatBinding,
  CtNatRequest,
  CtOptions,
  CtProtoState,
  CtResult,
  TcpPeerState,
} from "./conntrack.js";
export { ICMP4, ICMP6, extractTuple, reverseTuple, tupleKey, tuplesEqual } from "./tuple.js";
export type { CtTuple, Extracted, IcmpInner } from "./tuple.js";

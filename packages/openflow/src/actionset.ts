/**
 * The OpenFlow 1.1+ action set (upstream lib/ofp-actions.c `ofpacts_execute_action_set`), used
 * for `write_actions` and for every group bucket: ovs-vswitchd turns the set into a list in
 * the specification's order before translating it, keeping only the last instance of the
 * single-slot actions and dropping what an action set cannot hold (note, learn, controller…).
 * A set with no final action (ct, ct_clear, resubmit, output, group) does nothing at all, which
 * is why a bucket `actions=ct(commit),output:5` shows only `output:5` in ofproto/trace.
 */
import type { OfAction } from "./actions.js";

/** Single-slot actions in execution order (ACTION_SET_ORDER). */
const SLOTS: readonly string[] = [
  "pop_vlan",
  "pop_mpls",
  "decap",
  "encap",
  "push_mpls",
  "push_vlan",
  "dec_ttl",
  "dec_mpls_ttl",
  "dec_nsh_ttl",
];

/** Final actions, lowest priority first (ACTION_SET_FINAL_PRIORITY). */
const FINALS: readonly string[] = ["ct", "ct_clear", "resubmit", "output", "group"];

/** Actions executed in order, all instances kept (ACTION_SLOT_SET_OR_MOVE). */
const SET_OR_MOVE = new Set([
  "set_field",
  "move",
  "set_eth",
  "set_ipv4",
  "set_ip_dscp",
  "set_ip_ecn",
  "set_ip_ttl",
  "set_l4",
  "set_mpls_label",
  "set_mpls_tc",
  "set_mpls_ttl",
  "set_queue",
  "set_tunnel",
  "set_vlan_vid",
  "set_vlan_pcp",
]);

/** The slot class OVS gives an action (its `kind`, or the raw name of an unmodelled one). */
function slotName(a: OfAction): string {
  if (a.kind === "unsupported") return a.name;
  if (a.kind === "output_reg") return "output_reg";
  if (a.kind === "output" && a.maxLen !== undefined && a.port !== 0xfffd) return "output_trunc";
  // `CONTROLLER:N` is also how an output to the CONTROLLER port prints.
  if (a.kind === "controller" && a.text.startsWith("CONTROLLER:")) return "output";
  return a.kind;
}

/** `ofpacts_execute_action_set`: the action list an action set executes as. */
export function executeActionSet(set: readonly OfAction[]): OfAction[] {
  const slots: (OfAction | undefined)[] = new Array(SLOTS.length);
  const setOrMove: OfAction[] = [];
  let final: OfAction | undefined;
  let finalClass = -1;
  for (const a of set) {
    const name = slotName(a);
    const s = SLOTS.indexOf(name);
    if (s >= 0) {
      slots[s] = a;
      continue;
    }
    const f = FINALS.indexOf(name);
    if (f >= 0) {
      if (f >= finalClass) {
        final = a;
        finalClass = f;
      }
      continue;
    }
    if (SET_OR_MOVE.has(name)) setOrMove.push(a);
  }
  if (!final) return [];
  const out: OfAction[] = [];
  for (const a of slots) if (a) out.push(a);
  out.push(...setOrMove, final);
  return out;
}

/**
 * br-int's OpenFlow table numbers per ovn-controller release (upstream `controller/lflow.h`
 * OFTABLE_*). The logical ingress pipeline always starts at 8 and the output / loopback tables
 * follow it; a release whose northd has more ingress stages moves them up:
 * - 23.03 (verified against the real ovn-controller 23.03.1) and 24.03 (branch-24.03: the same
 *   numbers, its new tables 79–85 are beyond the ones modelled): output 37–41, egress from 42,
 *   so at most 29 logical ingress stages (0–28) and 22 egress stages (42–63).
 * - 25.03 (branch-25.03, since 24.09's sampling stages): output 40–44, egress from 45, room for
 *   32 ingress stages and 19 egress stages.
 * Tables from 64 up keep their numbers in all three.
 */
import type { ProfileName } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";

export interface TableLayout {
  /** ovn-controller release whose lflow.h this is. */
  readonly release: OvnRelease;
  /**
   * Not a table: the register holding an LB's original IPv4 destination that the hairpin flows
   * (68/70) match (logical-fields.h MFF_LOG_LB_ORIG_DIP_IPV4: reg1, reg4 from 25.03).
   */
  readonly lbOrigDipIpv4: "reg1" | "reg4";
  /**
   * Not a table: 23.03's encode_CT_COMMIT_V2 bug (fixed upstream by 7b4395969, in 24.03.3 and
   * 25.03). With zero-SNAT support the ct action is re-pointed at the start of the flow's action
   * buffer, so when ct_commit is not the flow's first action, finishing it stretches the first
   * OpenFlow action's length over everything up to the end of ct_commit: those actions, the
   * ct(commit) included, are never installed. (`log(…); ct_commit {…}; reject {…}`, an ACL
   * reject with logging on a stateful switch, loses its ct(commit).)
   */
  readonly ctCommitSwallowed: boolean;
  readonly PHY_TO_LOG: number;
  readonly LOG_INGRESS_PIPELINE: number;
  readonly OUTPUT_LARGE_PKT_DETECT: number;
  readonly OUTPUT_LARGE_PKT_PROCESS: number;
  readonly REMOTE_OUTPUT: number;
  readonly LOCAL_OUTPUT: number;
  readonly CHECK_LOOPBACK: number;
  readonly LOG_EGRESS_PIPELINE: number;
  readonly SAVE_INPORT: number;
  readonly LOG_TO_PHY: number;
  readonly MAC_BINDING: number;
  readonly MAC_LOOKUP: number;
  readonly CHK_LB_HAIRPIN: number;
  readonly CHK_LB_HAIRPIN_REPLY: number;
  readonly CT_SNAT_HAIRPIN: number;
  readonly GET_FDB: number;
  readonly LOOKUP_FDB: number;
  readonly CHK_IN_PORT_SEC: number;
  readonly CHK_IN_PORT_SEC_ND: number;
  readonly CHK_OUT_PORT_SEC: number;
  /** 24.03+: where ct_nw_dst() / ct_ip6_dst() / ct_tp_dst() load conntrack's original destination. */
  readonly CT_ORIG_NW_DST_LOAD: number;
  readonly CT_ORIG_IP6_DST_LOAD: number;
  readonly CT_ORIG_TP_DST_LOAD: number;
}

export type OvnRelease = "23.03" | "24.03" | "25.03";

export const OVN_RELEASES: readonly OvnRelease[] = ["23.03", "24.03", "25.03"];

const FROM_64 = {
  SAVE_INPORT: 64,
  LOG_TO_PHY: 65,
  MAC_BINDING: 66,
  MAC_LOOKUP: 67,
  CHK_LB_HAIRPIN: 68,
  CHK_LB_HAIRPIN_REPLY: 69,
  CT_SNAT_HAIRPIN: 70,
  GET_FDB: 71,
  LOOKUP_FDB: 72,
  CHK_IN_PORT_SEC: 73,
  CHK_IN_PORT_SEC_ND: 74,
  CHK_OUT_PORT_SEC: 75,
  CT_ORIG_NW_DST_LOAD: 81,
  CT_ORIG_IP6_DST_LOAD: 82,
  CT_ORIG_TP_DST_LOAD: 83,
} as const;

/** Output / loopback tables from `outputAt`, the egress pipeline right after them. */
const layout = (release: OvnRelease, outputAt: number, lbOrigDipIpv4: "reg1" | "reg4"): TableLayout => ({
  release,
  lbOrigDipIpv4,
  ctCommitSwallowed: release === "23.03",
  PHY_TO_LOG: 0,
  LOG_INGRESS_PIPELINE: 8,
  OUTPUT_LARGE_PKT_DETECT: outputAt,
  OUTPUT_LARGE_PKT_PROCESS: outputAt + 1,
  REMOTE_OUTPUT: outputAt + 2,
  LOCAL_OUTPUT: outputAt + 3,
  CHECK_LOOPBACK: outputAt + 4,
  LOG_EGRESS_PIPELINE: outputAt + 5,
  ...FROM_64,
});

export const OFTABLE_LAYOUTS: Readonly<Record<OvnRelease, TableLayout>> = {
  "23.03": layout("23.03", 37, "reg1"),
  "24.03": layout("24.03", 37, "reg1"),
  "25.03": layout("25.03", 40, "reg4"),
};

/** 23.03's layout, the default. */
export const OFTABLE: TableLayout = OFTABLE_LAYOUTS["23.03"];

/** The ovn-controller release that runs with each northd profile (Kube-OVN 1.14: OVN 24.03, 1.15: 25.03). */
const PROFILE_RELEASE: Readonly<Record<ProfileName, OvnRelease>> = {
  "ovn-23.03": "23.03",
  "ovn-24.03": "24.03",
  "ovn-25.03": "25.03",
  "kube-ovn-1.14": "24.03",
  "kube-ovn-1.15": "25.03",
};

/**
 * The table layout for a release ("25.03") or a northd profile name ("kube-ovn-1.15");
 * anything else is a BAD_VALUE SimError naming the accepted values.
 */
export function tableLayout(name: string): TableLayout {
  const r = Object.hasOwn(OFTABLE_LAYOUTS, name)
    ? (name as OvnRelease)
    : Object.hasOwn(PROFILE_RELEASE, name)
      ? PROFILE_RELEASE[name as ProfileName]
      : undefined;
  if (r === undefined)
    throw new SimError(
      "BAD_VALUE",
      `unknown ovn-controller release or profile "${name}" (one of ${[...OVN_RELEASES, ...Object.keys(PROFILE_RELEASE)].join(", ")})`,
    );
  return OFTABLE_LAYOUTS[r];
}

/** How many logical stages each pipeline has room for in a layout. */
export function pipelineRoom(t: TableLayout): { ingress: number; egress: number } {
  return {
    ingress: t.OUTPUT_LARGE_PKT_DETECT - t.LOG_INGRESS_PIPELINE,
    egress: t.SAVE_INPORT - t.LOG_EGRESS_PIPELINE,
  };
}

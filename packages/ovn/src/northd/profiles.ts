/**
 * Release profiles: which OVN northd (and which Kube-OVN patch set) the flows mirror. Each
 * profile carries the logical-switch stage table exactly as that release's PIPELINE_STAGE list
 * (ovn-org/ovn northd/northd.c or northd.h) declares it, so table numbers come from data and
 * move with the release, as they do in real deployments.
 */
import type { Pipeline } from "../types.js";

export type ProfileName = "ovn-23.03" | "ovn-24.03" | "ovn-25.03" | "kube-ovn-1.14" | "kube-ovn-1.15";

export const PROFILE_NAMES: readonly ProfileName[] = [
  "ovn-23.03",
  "ovn-24.03",
  "ovn-25.03",
  "kube-ovn-1.14",
  "kube-ovn-1.15",
];

/** One logical stage: OVN's stage name, its pipeline and table number in a release. */
export interface StageDef {
  readonly name: string;
  readonly pipeline: Pipeline;
  readonly table: number;
}

export interface Profile {
  readonly name: ProfileName;
  /** Upstream OVN branch the flows follow. */
  readonly ovn: 23 | 24 | 25;
  /** Kube-OVN patch set applied on top, if any. */
  readonly kubeOvn?: "1.14" | "1.15";
  /** Logical switch stages, ingress then egress, in table order. */
  readonly stages: readonly StageDef[];
  /**
   * Logical router stages (PIPELINE_STAGE(ROUTER, …)), ingress then egress. Router flows are
   * generated only for profiles whose router pipeline has been checked against a real northd.
   */
  readonly routerStages: readonly StageDef[];
  /** Whether northd() generates logical router pipelines for this profile. */
  readonly routers: boolean;
  /** Register holding the original VIP for hairpin/affinity (REG_ORIG_DIP_IPV4 / REG_LB_IPV4). */
  readonly regLbIpv4: "reg1" | "reg4";
  /**
   * lr_in_ip_routing priorities: plen * mult + offset of the route's origin (ROUTE_PRIO_OFFSET_*).
   * 25.03 widened them to 8/4/6; Kube-OVN's patch 5e52d437 ("change route offset") brings the
   * same numbers to its 24.03 build, and its patch b973ec47 ("modify src route priority") puts
   * src-ip routes below every dst-ip route (1, or static + 1 for a host route).
   */
  readonly routePrio: {
    readonly mult: number;
    readonly static: number;
    readonly connected: number;
    readonly kubeSrcRoute: boolean;
  };
}

const PRIO_23 = { mult: 3, static: 1, connected: 2, kubeSrcRoute: false } as const;
const PRIO_25 = { mult: 8, static: 4, connected: 6, kubeSrcRoute: false } as const;
const PRIO_KUBE = { mult: 8, static: 4, connected: 6, kubeSrcRoute: true } as const;

const mk = (pipeline: Pipeline, names: readonly string[]): StageDef[] =>
  names.map((name, table) => ({ name, pipeline, table }));

const IN_23 = [
  "ls_in_check_port_sec",
  "ls_in_apply_port_sec",
  "ls_in_lookup_fdb",
  "ls_in_put_fdb",
  "ls_in_pre_acl",
  "ls_in_pre_lb",
  "ls_in_pre_stateful",
  "ls_in_acl_hint",
  "ls_in_acl",
  "ls_in_qos_mark",
  "ls_in_qos_meter",
  "ls_in_lb_aff_check",
  "ls_in_lb",
  "ls_in_lb_aff_learn",
  "ls_in_pre_hairpin",
  "ls_in_nat_hairpin",
  "ls_in_hairpin",
  "ls_in_acl_after_lb",
  "ls_in_stateful",
  "ls_in_arp_rsp",
  "ls_in_dhcp_options",
  "ls_in_dhcp_response",
  "ls_in_dns_lookup",
  "ls_in_dns_response",
  "ls_in_external_port",
  "ls_in_l2_lkup",
  "ls_in_l2_unknown",
];
const OUT_23 = [
  "ls_out_pre_acl",
  "ls_out_pre_lb",
  "ls_out_pre_stateful",
  "ls_out_acl_hint",
  "ls_out_acl",
  "ls_out_qos_mark",
  "ls_out_qos_meter",
  "ls_out_stateful",
  "ls_out_check_port_sec",
  "ls_out_apply_port_sec",
];

/** branch-24.03 @ ef8f5c1ac: ACLs split into eval/action stages. */
const IN_24 = [
  "ls_in_check_port_sec",
  "ls_in_apply_port_sec",
  "ls_in_lookup_fdb",
  "ls_in_put_fdb",
  "ls_in_pre_acl",
  "ls_in_pre_lb",
  "ls_in_pre_stateful",
  "ls_in_acl_hint",
  "ls_in_acl_eval",
  "ls_in_acl_action",
  "ls_in_qos_mark",
  "ls_in_qos_meter",
  "ls_in_lb_aff_check",
  "ls_in_lb",
  "ls_in_lb_aff_learn",
  "ls_in_pre_hairpin",
  "ls_in_nat_hairpin",
  "ls_in_hairpin",
  "ls_in_acl_after_lb_eval",
  "ls_in_acl_after_lb_action",
  "ls_in_stateful",
  "ls_in_arp_rsp",
  "ls_in_dhcp_options",
  "ls_in_dhcp_response",
  "ls_in_dns_lookup",
  "ls_in_dns_response",
  "ls_in_external_port",
  "ls_in_l2_lkup",
  "ls_in_l2_unknown",
];
const OUT_24 = [
  "ls_out_pre_acl",
  "ls_out_pre_lb",
  "ls_out_pre_stateful",
  "ls_out_acl_hint",
  "ls_out_acl_eval",
  "ls_out_acl_action",
  "ls_out_qos_mark",
  "ls_out_qos_meter",
  "ls_out_stateful",
  "ls_out_check_port_sec",
  "ls_out_apply_port_sec",
];

/** branch-25.03: sample stages, one QoS stage, egress FDB stages. */
const IN_25 = [
  "ls_in_check_port_sec",
  "ls_in_apply_port_sec",
  "ls_in_lookup_fdb",
  "ls_in_put_fdb",
  "ls_in_pre_acl",
  "ls_in_pre_lb",
  "ls_in_pre_stateful",
  "ls_in_acl_hint",
  "ls_in_acl_eval",
  "ls_in_acl_sample",
  "ls_in_acl_action",
  "ls_in_qos",
  "ls_in_lb_aff_check",
  "ls_in_lb",
  "ls_in_lb_aff_learn",
  "ls_in_pre_hairpin",
  "ls_in_nat_hairpin",
  "ls_in_hairpin",
  "ls_in_acl_after_lb_eval",
  "ls_in_acl_after_lb_sample",
  "ls_in_acl_after_lb_action",
  "ls_in_stateful",
  "ls_in_arp_rsp",
  "ls_in_dhcp_options",
  "ls_in_dhcp_response",
  "ls_in_dns_lookup",
  "ls_in_dns_response",
  "ls_in_external_port",
  "ls_in_l2_lkup",
  "ls_in_l2_unknown",
];
const OUT_25 = [
  "ls_out_lookup_fdb",
  "ls_out_put_fdb",
  "ls_out_pre_acl",
  "ls_out_pre_lb",
  "ls_out_pre_stateful",
  "ls_out_acl_hint",
  "ls_out_acl_eval",
  "ls_out_acl_sample",
  "ls_out_acl_action",
  "ls_out_qos",
  "ls_out_stateful",
  "ls_out_check_port_sec",
  "ls_out_apply_port_sec",
];

const LR_IN_23 = [
  "lr_in_admission",
  "lr_in_lookup_neighbor",
  "lr_in_learn_neighbor",
  "lr_in_ip_input",
  "lr_in_unsnat",
  "lr_in_defrag",
  "lr_in_lb_aff_check",
  "lr_in_dnat",
  "lr_in_lb_aff_learn",
  "lr_in_ecmp_stateful",
  "lr_in_nd_ra_options",
  "lr_in_nd_ra_response",
  "lr_in_ip_routing_pre",
  "lr_in_ip_routing",
  "lr_in_ip_routing_ecmp",
  "lr_in_policy",
  "lr_in_policy_ecmp",
  "lr_in_arp_resolve",
  "lr_in_chk_pkt_len",
  "lr_in_larger_pkts",
  "lr_in_gw_redirect",
  "lr_in_arp_request",
];
const LR_OUT_23 = [
  "lr_out_chk_dnat_local",
  "lr_out_undnat",
  "lr_out_post_undnat",
  "lr_out_snat",
  "lr_out_post_snat",
  "lr_out_egr_loop",
  "lr_out_delivery",
];
/** branch-24.03: lr_in_network_id before lr_in_arp_request. */
const LR_IN_24 = [...LR_IN_23.slice(0, -1), "lr_in_network_id", "lr_in_arp_request"];
/** branch-25.03: DHCP relay, post-unSNAT and egress ECMP stages. */
const LR_IN_25 = [
  "lr_in_admission",
  "lr_in_lookup_neighbor",
  "lr_in_learn_neighbor",
  "lr_in_ip_input",
  "lr_in_dhcp_relay_req",
  "lr_in_unsnat",
  "lr_in_post_unsnat",
  "lr_in_defrag",
  "lr_in_lb_aff_check",
  "lr_in_dnat",
  "lr_in_lb_aff_learn",
  "lr_in_ecmp_stateful",
  "lr_in_nd_ra_options",
  "lr_in_nd_ra_response",
  "lr_in_ip_routing_pre",
  "lr_in_ip_routing",
  "lr_in_ip_routing_ecmp",
  "lr_in_policy",
  "lr_in_policy_ecmp",
  "lr_in_dhcp_relay_resp_chk",
  "lr_in_dhcp_relay_resp",
  "lr_in_arp_resolve",
  "lr_in_chk_pkt_len",
  "lr_in_larger_pkts",
  "lr_in_gw_redirect",
  "lr_in_network_id",
  "lr_in_arp_request",
  "lr_in_ecmp_stateful_egr",
];
const LR_23 = [...mk("ingress", LR_IN_23), ...mk("egress", LR_OUT_23)];
const LR_24 = [...mk("ingress", LR_IN_24), ...mk("egress", LR_OUT_23)];
const LR_25 = [...mk("ingress", LR_IN_25), ...mk("egress", LR_OUT_23)];

const STAGES_23 = [...mk("ingress", IN_23), ...mk("egress", OUT_23)];
const STAGES_24 = [...mk("ingress", IN_24), ...mk("egress", OUT_24)];
const STAGES_25 = [...mk("ingress", IN_25), ...mk("egress", OUT_25)];

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  "ovn-23.03": {
    name: "ovn-23.03",
    ovn: 23,
    stages: STAGES_23,
    routerStages: LR_23,
    routers: true,
    regLbIpv4: "reg1",
    routePrio: PRIO_23,
  },
  "ovn-24.03": {
    name: "ovn-24.03",
    ovn: 24,
    stages: STAGES_24,
    routerStages: LR_24,
    routers: true,
    regLbIpv4: "reg1",
    routePrio: PRIO_23,
  },
  "ovn-25.03": {
    name: "ovn-25.03",
    ovn: 25,
    stages: STAGES_25,
    routerStages: LR_25,
    routers: true,
    regLbIpv4: "reg4",
    routePrio: PRIO_25,
  },
  "kube-ovn-1.14": {
    name: "kube-ovn-1.14",
    ovn: 24,
    kubeOvn: "1.14",
    stages: STAGES_24,
    routerStages: LR_24,
    routers: true,
    regLbIpv4: "reg1",
    routePrio: PRIO_KUBE,
  },
  "kube-ovn-1.15": {
    name: "kube-ovn-1.15",
    ovn: 25,
    kubeOvn: "1.15",
    stages: STAGES_25,
    routerStages: LR_25,
    routers: true,
    regLbIpv4: "reg4",
    routePrio: PRIO_KUBE,
  },
};

/** The profile of that name, or undefined. */
export function getProfile(name: string): Profile | undefined {
  return Object.hasOwn(PROFILES, name) ? PROFILES[name as ProfileName] : undefined;
}

/** Looks a stage up by name in a profile (undefined when the release has no such stage). */
export function stageOf(profile: Profile, name: string): StageDef | undefined {
  if (name.startsWith("lr_")) return profile.routerStages.find((s) => s.name === name);
  return profile.stages.find((s) => s.name === name);
}

/**
 * The doctor: every prerequisite and note of the seed document (shared/docs/seed-metallb-underlay.md)
 * checked against the resolved scenario, each a finding with a stable code, a sentence saying
 * what will happen on a real cluster and what to change. It reads configuration only; the
 * tracer shows the step where each finding makes the packet fail.
 */
import { formatIp4, formatIp6, inCidr4, parseIp6 } from "@ovnsim/packet";
import {
  electAnnouncer,
  endpointsOf,
  keepsIpPortMappings,
  preferLocalServicesInOrder,
  subnetOfAddr,
  subnetOfIp,
  underlayOf,
} from "./derive.js";
import { formatRange, inRanges, inRanges6 } from "./ipv4.js";
import type { Scenario, ServiceSpec, Source, SubnetSpec } from "./types.js";
import { CLUSTER_FINDING_CODES, type ClusterFindingCode, diagnoseCluster } from "./doctor-cluster.js";

export type FindingCode =
  | "SUBNET_NOT_UNDERLAY"
  | "EXTERNAL_LB_ADDRESS_DISABLED"
  | "LS_CT_SKIP_DST_LPORT_IPS"
  | "PREFER_LOCAL_DISABLED"
  | "ETP_CLUSTER"
  | "POOL_NOT_EXCLUDED"
  | "POOL_OUTSIDE_SUBNET"
  | "METALLB_INTERFACE_NO_VLAN"
  | "NO_LOCAL_ENDPOINT"
  | "DNAT_MOD_DL_DST_DISABLED"
  | "NO_VIP"
  | "NO_ENDPOINTS"
  | "IPV6_VIP_SUBNET_NOT_DUAL_STACK"
  | "L2ADVERTISEMENT_EXCLUDES_ENDPOINT_NODES"
  | "IP_PORT_MAPPINGS_OVERWRITTEN"
  | ClusterFindingCode;

export type Severity = "error" | "warning" | "info";

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
  readonly fix: string;
  /** The object concerned, e.g. "Subnet underlay-subnet". */
  readonly subject?: string;
  readonly source?: Source;
}

/** What each code means, for documentation and `ovnsim doctor --codes`. */
export const FINDING_CODES: Readonly<Record<FindingCode, string>> = {
  SUBNET_NOT_UNDERLAY: "the VIP's subnet has no spec.vlan, so Kube-OVN makes it an overlay subnet",
  EXTERNAL_LB_ADDRESS_DISABLED:
    "enableExternalLBAddress is off: no br-provider VIP flow, NORMAL hands the frame to the host",
  LS_CT_SKIP_DST_LPORT_IPS:
    "--ls-ct-skip-dst-lport-ips=true: ls_in_pre_lb 105 skips conntrack, the VIP is never DNATed",
  PREFER_LOCAL_DISABLED: "--enable-ovn-lb-prefer-local is off: the VIP is not put on the OVN load balancer",
  ETP_CLUSTER: "externalTrafficPolicy is not Local: no local preference, a remote backend can be chosen",
  POOL_NOT_EXCLUDED: "a MetalLB pool address is not in the subnet's excludeIps: IPAM can give a Pod the VIP",
  POOL_OUTSIDE_SUBNET: "a MetalLB pool address is outside the underlay subnet's CIDR",
  METALLB_INTERFACE_NO_VLAN:
    "MetalLB answers ARP on an interface without the underlay VLAN: the reply never reaches it",
  NO_LOCAL_ENDPOINT:
    "a node without local pods has no patch port and no VIP flow (MetalLB with ETP=Local skips it)",
  DNAT_MOD_DL_DST_DISABLED:
    "--ls-dnat-mod-dl-dst=false without U2O: after DNAT the masquerade MAC misses l2_lkup",
  NO_VIP: "the LoadBalancer Service has no address (no status, no pool could allocate one)",
  NO_ENDPOINTS: "the Service selects no Pod",
  IPV6_VIP_SUBNET_NOT_DUAL_STACK:
    "an IPv6 LoadBalancer address over backends without IPv6: Kube-OVN puts no IPv6 VIP on the OVN load balancer",
  L2ADVERTISEMENT_EXCLUDES_ENDPOINT_NODES:
    "externalTrafficPolicy Local and the L2Advertisement nodeSelectors exclude every node with an endpoint: MetalLB announces nothing",
  IP_PORT_MAPPINGS_OVERWRITTEN:
    "Kube-OVN v1.14.0–v1.14.39 / v1.15.0–v1.15.4: each Service's endpoint update deletes the other Services' ip_port_mappings, so only the last one keeps its prefer-local flows (kube-ovn #5680)",
  ...CLUSTER_FINDING_CODES,
};

const svcName = (svc: ServiceSpec): string => `${svc.namespace}/${svc.name}`;

/** All findings for a scenario, in a stable order (by service, then code order above). */
export function diagnose(s: Scenario): Finding[] {
  const out: Finding[] = [];
  const add = (f: Finding) => {
    if (!out.some((x) => x.code === f.code && x.subject === f.subject && x.message === f.message))
      out.push(f);
  };
  const c = s.controller;
  const lbServices = s.services.filter((x) => x.type === "LoadBalancer");
  const ctl = c.source
    ? "kube-ovn-controller"
    : "kube-ovn-controller (no Deployment given: Kube-OVN defaults)";
  const ctlSrc = c.source ? { source: c.source } : {};

  for (const svc of lbServices) {
    const subj = `Service ${svcName(svc)}`;
    if (svc.vips.length === 0) {
      add({
        code: "NO_VIP",
        severity: "error",
        subject: subj,
        message: `${subj} is type LoadBalancer but has no address: no MetalLB pool could allocate one.`,
        fix: "Add an IPAddressPool (and an L2Advertisement for it) with a free address, or set status.loadBalancer.",
        source: svc.source,
      });
    }
    const eps = endpointsOf(s, svc);
    if (eps.length === 0) {
      add({
        code: "NO_ENDPOINTS",
        severity: "error",
        subject: subj,
        message: `${subj} selects no Pod: the load balancer has no backend and MetalLB announces nothing.`,
        fix: "Make spec.selector match the labels of the backend Pods (Deployment spec.template.metadata.labels).",
        source: svc.source,
      });
    }
    if (c.enableLb && c.enableOvnLbPreferLocal && !keepsIpPortMappings(s, svc)) {
      const order = preferLocalServicesInOrder(s);
      const last = order[order.length - 1]!;
      const lost = eps.filter((p) => !last.endpoints.includes(p.lsp));
      if (order.includes(svc) && lost.length > 0)
        add({
          code: "IP_PORT_MAPPINGS_OVERWRITTEN",
          severity: "error",
          subject: subj,
          message: `Kube-OVN ${c.version}'s LoadBalancerUpdateIPPortMapping deletes every ip_port_mappings entry of cluster-tcp-loadbalancer that is not in the mapping it writes, and all Services share that load balancer: once ${svcName(last)} (created after it) is handled, the entries of ${lost.map((p) => p.ip).join(", ")} are gone, so northd builds no prefer-local ls_in_lb 140 flow for ${svc.vips.join(", ")} and the 120 flow spreads connections over every backend, remote ones included, which the announcing node drops (kube-ovn #5680: only the last created Service works).`,
          fix: "Upgrade kube-ovn-controller to v1.14.40+ or v1.15.5+ (kube-ovn #6830; #5723 fixed the same deletion on the no-endpoint path in v1.14.14); until then, recreating the Service's endpoints restores its entries but removes the others'.",
          source: svc.source,
        });
    }
    for (const vip of svc.vips) checkAnnouncer(s, svc, vip, add);
    for (const vip of svc.vips.filter((v) => v.includes(":"))) checkVip6(s, svc, vip, add);
    for (const vip of svc.vips.filter((v) => !v.includes(":"))) {
      const sub = subnetOfIp(s, vip);
      if (!sub || sub.implicit) {
        add({
          code: "POOL_OUTSIDE_SUBNET",
          severity: "error",
          subject: subj,
          message: `VIP ${vip} of ${subj} is in no Kube-OVN subnet: the VIP and the backend Pods must share the underlay subnet, otherwise ARP and DNAT fail.`,
          fix: "Give the MetalLB pool addresses inside the underlay subnet's cidrBlock.",
          source: svc.source,
        });
        continue;
      }
      checkSubnet(s, sub, vip, svc, add);
      const u = underlayOf(s, sub);
      if (u && !c.lsDnatModDlDst && !sub.u2oInterconnection) {
        add({
          code: "DNAT_MOD_DL_DST_DISABLED",
          severity: "error",
          subject: ctl,
          message: `--ls-dnat-mod-dl-dst=false and subnet ${sub.name} has no U2O: after DNAT the frame still carries the masquerade MAC 00:00:00:01:00:01, misses ls_in_l2_lkup, goes to _MC_unknown and is dropped (outport = inport).`,
          fix: "Leave --ls-dnat-mod-dl-dst at its default (true), or enable u2oInterconnection on the subnet.",
          ...ctlSrc,
        });
      }
      if (u && c.lsCtSkipDstLportIps) {
        add({
          code: "LS_CT_SKIP_DST_LPORT_IPS",
          severity: "error",
          subject: ctl,
          message: `--ls-ct-skip-dst-lport-ips is true (its default): ls_in_pre_lb priority 105 "ip4 && ip4.dst == ${sub.cidr}" skips conntrack, so traffic to ${vip} is never DNATed.`,
          fix: "Add --ls-ct-skip-dst-lport-ips=false to kube-ovn-controller's args.",
          ...ctlSrc,
        });
      }
      if (!c.enableOvnLbPreferLocal) {
        add({
          code: "PREFER_LOCAL_DISABLED",
          severity: "error",
          subject: ctl,
          message: `--enable-ovn-lb-prefer-local is false: Kube-OVN does not add LoadBalancer ingress IPs such as ${vip} to cluster-tcp-loadbalancer, so OVN never DNATs them (and could not prefer a local backend).`,
          fix: "Add --enable-ovn-lb-prefer-local=true to kube-ovn-controller's args.",
          ...ctlSrc,
        });
      }
      if (svc.externalTrafficPolicy !== "Local") {
        add({
          code: "ETP_CLUSTER",
          severity: c.release === "1.14" ? "error" : "warning",
          subject: subj,
          message:
            c.release === "1.14"
              ? `${subj} has externalTrafficPolicy: Cluster: Kube-OVN 1.14 adds the ingress IP to the OVN load balancer only for Local, so ${vip} is not DNATed; and MetalLB may announce from a node without a backend.`
              : `${subj} has externalTrafficPolicy: Cluster: no ip_port_mappings, so OVN does not prefer a local backend (a remote Pod can be chosen, reached over the underlay), and MetalLB may announce from a node without a backend.`,
          fix: "Set spec.externalTrafficPolicy: Local on the Service.",
          source: svc.source,
        });
      }
      // Announcer and local endpoints.
      const ann = electAnnouncer(s, svc, vip);
      const podNodes = new Set(eps.filter((p) => p.subnet === sub.name).map((p) => p.node));
      if (ann.node && !podNodes.has(ann.node)) {
        add({
          code: "NO_LOCAL_ENDPOINT",
          severity: "error",
          subject: `Node ${ann.node}`,
          message: `MetalLB announces ${vip} from ${ann.node}, which runs no Pod of subnet ${sub.name}: ovn-controller creates no patch port there, kube-ovn-cni installs no VIP flow ("subnet ${sub.name} may not have pods on this node yet"), and br-provider's NORMAL flow hands the frame to the host.`,
          fix: "Use externalTrafficPolicy: Local (MetalLB then announces only from nodes with a ready endpoint), or run a backend on every speaker node.",
          source: svc.source,
        });
      } else if (u) {
        const bare = s.nodes.filter((n) => !podNodes.has(n.name)).map((n) => n.name);
        if (bare.length > 0 && eps.length > 0) {
          add({
            code: "NO_LOCAL_ENDPOINT",
            severity: "info",
            subject: `Service ${svcName(svc)}`,
            message: `node(s) ${bare.join(", ")} run no backend of ${svcName(svc)}: no patch port and no VIP flow there; with externalTrafficPolicy: Local MetalLB does not announce ${vip} from them.`,
            fix: "Nothing to do while externalTrafficPolicy is Local; otherwise run a backend on every speaker node.",
            source: svc.source,
          });
        }
      }
      // MetalLB interface VLAN.
      if (u && u.vlanId > 0) {
        const ads = s.l2Advertisements.filter(
          (a) => a.ipAddressPools.length === 0 || (svc.pool && a.ipAddressPools.includes(svc.pool)),
        );
        const explicit = ads.flatMap((a) => a.interfaces);
        const ifaceVlan = (name: string): number => {
          const m = /\.(\d+)$/.exec(name);
          return m ? Number(m[1]) : 0;
        };
        const bad =
          explicit.length > 0
            ? !explicit.some((i) => ifaceVlan(i) === u.vlanId)
            : s.physical.metallbInterfaceVlan !== u.vlanId;
        if (bad) {
          const named = explicit.length > 0 ? explicit.join(", ") : s.physical.metallbInterface;
          add({
            code: "METALLB_INTERFACE_NO_VLAN",
            severity: "error",
            subject: ads[0] ? `L2Advertisement ${ads[0].name}` : subj,
            message: `MetalLB answers ARP for ${vip} on ${named}, which is not on VLAN ${u.vlanId}: the reply leaves untagged (or on another VLAN) and never reaches the gateway on VLAN ${u.vlanId}.`,
            fix: `Announce on the VLAN sub-interface of the underlay NIC (e.g. ${s.nodes[0]?.nic ?? "underlay0"}.${u.vlanId}): set L2Advertisement spec.interfaces to it.`,
            ...(ads[0] ? { source: ads[0].source } : {}),
          });
        }
      }
    }
  }
  for (const f of diagnoseCluster(s)) add(f);
  return out;
}

/**
 * MetalLB's election (speaker/layer2_controller.go ShouldAnnounce) with externalTrafficPolicy
 * Local keeps only nodes with a ready endpoint (nodesWithEndpoint), after speakersForAds dropped
 * the nodes no L2Advertisement of the pool selects: when the two sets do not meet, no speaker
 * announces the VIP and nobody answers its ARP / neighbour solicitation.
 */
function checkAnnouncer(s: Scenario, svc: ServiceSpec, vip: string, add: (f: Finding) => void): void {
  if (svc.externalTrafficPolicy !== "Local") return;
  const eps = endpointsOf(s, svc);
  if (eps.length === 0) return;
  const ads = s.l2Advertisements.filter(
    (a) => a.ipAddressPools.length === 0 || (svc.pool !== undefined && a.ipAddressPools.includes(svc.pool)),
  );
  if (ads.length === 0) return;
  const selects = (a: (typeof ads)[number], labels: Readonly<Record<string, string>>) =>
    a.nodeSelectors.length === 0 ||
    a.nodeSelectors.some((m) => Object.entries(m).every(([k, v]) => labels[k] === v));
  const epNodes = [...new Set(eps.map((p) => p.node))].sort();
  const selected = s.nodes
    .filter((n) => n.speaker && ads.some((a) => selects(a, n.labels)))
    .map((n) => n.name);
  if (selected.length === 0 || epNodes.some((n) => selected.includes(n))) return;
  if (electAnnouncer(s, svc, vip).node !== undefined) return;
  const names = ads.map((a) => a.name).join(", ");
  add({
    code: "L2ADVERTISEMENT_EXCLUDES_ENDPOINT_NODES",
    severity: "error",
    subject: `L2Advertisement ${ads[0]!.name}`,
    message: `MetalLB announces ${vip} of Service ${svcName(svc)} from no node: with externalTrafficPolicy: Local only nodes with a ready endpoint (${epNodes.join(", ")}) are candidates, and the nodeSelectors of L2Advertisement ${names} select only ${selected.join(", ")}; nobody answers ${vip.includes(":") ? "the neighbour solicitation" : "ARP"} for ${vip}.`,
    fix: `Widen the L2Advertisement's nodeSelectors to a node that runs a backend (${epNodes.join(", ")}), or schedule a backend on ${selected.join(", ")}.`,
    source: ads[0]!.source,
  });
}

/**
 * An IPv6 ingress IP: Kube-OVN's getIPPortMappingBackend keeps only endpoint addresses of the
 * VIP's family and deletes a VIP that has no backend, so over pods without IPv6 (their subnet
 * is not dual-stack) the IPv6 VIP never reaches cluster-tcp-loadbalancer, while kube-ovn-cni
 * still writes the cookie-0x1001 flow for every ingress IP of the Service.
 */
function checkVip6(s: Scenario, svc: ServiceSpec, vip: string, add: (f: Finding) => void): void {
  const eps = endpointsOf(s, svc);
  if (eps.length === 0) return;
  const subj = `Service ${svcName(svc)}`;
  if (eps.every((p) => s.cluster?.podIp6[p.lsp] === undefined)) {
    const subs = [...new Set(eps.map((p) => p.subnet))].sort();
    add({
      code: "IPV6_VIP_SUBNET_NOT_DUAL_STACK",
      severity: "error",
      subject: subj,
      message: `${subj} has the IPv6 address ${vip}${svc.pool ? ` (IPAddressPool ${svc.pool})` : ""}, but the Pods behind it have no IPv6 address (Subnet ${subs.join(", ")} is not dual-stack): Kube-OVN adds a VIP only with backends of its family, so [${vip}]:${svc.ports[0]?.port ?? "port"} is not on cluster-tcp-loadbalancer and frames to it (the cookie-0x1001 flow still takes them into OVN) are never DNATed.`,
      fix: `Make Subnet ${subs[0]} dual-stack (protocol: Dual, an IPv6 CIDR and gateway in cidrBlock / gateway), or drop IPv6 from the pool and the Service's ipFamilies.`,
      source: svc.source,
    });
    return;
  }
  if (!subnetOfAddr(s, vip)) {
    add({
      code: "POOL_OUTSIDE_SUBNET",
      severity: "error",
      subject: subj,
      message: `VIP ${vip} of ${subj} is in no Kube-OVN subnet's IPv6 CIDR: the VIP and the backend Pods must share the underlay subnet, otherwise neighbour discovery and DNAT fail.`,
      fix: "Give the MetalLB pool IPv6 addresses inside the underlay subnet's IPv6 cidrBlock.",
      source: svc.source,
    });
    return;
  }
  // The IPv6 half of excludeIps: Kube-OVN's IPAM skips only what it lists.
  const sub = subnetOfAddr(s, vip)!;
  const v = parseIp6(vip);
  if (!inRanges6(v, sub.excluded6)) {
    const pod = s.pods.find((p) => p.subnet === sub.name && s.cluster?.podIp6[p.lsp] === formatIp6(v));
    add({
      code: "POOL_NOT_EXCLUDED",
      severity: pod ? "error" : "warning",
      subject: `Subnet ${sub.name}`,
      message: `VIP ${vip} of ${subj} is not in Subnet ${sub.name}'s IPv6 excludeIps: Kube-OVN's IPAM can give a Pod the same address as the VIP.${pod ? ` Pod ${pod.namespace}/${pod.name} already has it.` : ""}`,
      fix: `Add the pool's IPv6 range to Subnet ${sub.name} spec.excludeIps (as a..b, next to the IPv4 entries).`,
      ...(sub.source ? { source: sub.source } : {}),
    });
  }
}

function checkSubnet(
  s: Scenario,
  sub: SubnetSpec,
  vip: string,
  svc: ServiceSpec,
  add: (f: Finding) => void,
): void {
  const subj = `Subnet ${sub.name}`;
  const src = sub.source ? { source: sub.source } : {};
  if (sub.vlan === undefined) {
    add({
      code: "SUBNET_NOT_UNDERLAY",
      severity: "error",
      subject: subj,
      message: `${subj} holds VIP ${vip} but has no spec.vlan: Kube-OVN makes it an overlay subnet (no localnet port, no br-provider), so nothing from the physical network reaches its Pods.`,
      fix: "Create a ProviderNetwork and a Vlan (e.g. id 341, provider = the ProviderNetwork) and set spec.vlan on the Subnet.",
      ...src,
    });
  }
  if (!sub.enableExternalLBAddress) {
    add({
      code: "EXTERNAL_LB_ADDRESS_DISABLED",
      severity: "error",
      subject: subj,
      message: `${subj} has enableExternalLBAddress off: kube-ovn-cni installs no cookie-0x1000 flow for ${vip} on br-provider, and the priority-0 NORMAL flow delivers the frame to the host (LOCAL) instead of OVN.`,
      fix: "Set spec.enableExternalLBAddress: true on the Subnet.",
      ...src,
    });
  }
  // Pool checks against this subnet.
  const pools = s.pools.filter((p) => p.name === svc.pool || (svc.pool === undefined && p.ranges.length > 0));
  for (const p of pools) {
    for (const r of p.ranges) {
      const outside: string[] = [];
      const notExcluded: string[] = [];
      for (let ip = r.start; ip <= r.end && ip - r.start < 4096; ip++) {
        if (!inCidr4(ip, { ip: sub.network, plen: sub.plen })) outside.push(formatIp4(ip));
        else if (!inRanges(ip, sub.excluded)) notExcluded.push(formatIp4(ip));
      }
      if (outside.length > 0) {
        add({
          code: "POOL_OUTSIDE_SUBNET",
          severity: "error",
          subject: `IPAddressPool ${p.name}`,
          message: `IPAddressPool ${p.name} range ${formatRange(r)} has ${outside.length} address(es) outside ${sub.cidr} (first ${outside[0]}): such a VIP is in no underlay subnet, so no br-provider flow and no DNAT.`,
          fix: `Keep the pool inside ${sub.cidr}.`,
          source: p.source,
        });
      }
      if (notExcluded.length > 0) {
        const vipHit = s.services.flatMap((x) => x.vips).filter((v) => notExcluded.includes(v));
        const podHit = s.pods.filter((x) => x.subnet === sub.name && notExcluded.includes(x.ip));
        const now =
          podHit.length > 0
            ? ` Pod ${podHit[0]!.namespace}/${podHit[0]!.name} already has ${podHit[0]!.ip}.`
            : vipHit.length > 0
              ? ` VIP ${vipHit[0]} is one of them.`
              : "";
        add({
          code: "POOL_NOT_EXCLUDED",
          severity: podHit.length > 0 || vipHit.length > 0 ? "error" : "warning",
          subject: `IPAddressPool ${p.name}`,
          message: `${notExcluded.length} address(es) of IPAddressPool ${p.name} (${shortList(notExcluded)}) are not in ${subj}'s excludeIps: Kube-OVN's IPAM can give a Pod the same address as a VIP.${now}`,
          fix: `Add ${formatRange(r)} to ${subj} spec.excludeIps (as ${formatIp4(r.start)}..${formatIp4(r.end)}).`,
          ...src,
        });
      }
    }
  }
}

function shortList(xs: readonly string[]): string {
  return xs.length <= 4 ? xs.join(", ") : `${xs.slice(0, 3).join(", ")}, … ${xs[xs.length - 1]}`;
}

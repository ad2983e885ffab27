/**
 * The doctor's findings about the cluster topology (kube-ovn-internals.md §10): configurations
 * whose effect Kube-OVN's code shows (pkg/controller/network_policy.go, subnet.go,
 * pkg/ovs/ovn-nb-acl.go) and that people report as bugs. Each finding names the object, what
 * happens to packets and what to change; the cluster trace shows the hop where it bites.
 */
import { inCidr4, parseCidr4, parseIp4 } from "@ovnsim/packet";
import { policyPods } from "./cluster-nb.js";
import { underlayOf } from "./derive.js";
import type { Scenario } from "./types.js";

export type ClusterFindingCode =
  | "SERVICE_NO_ENDPOINTS"
  | "NETWORKPOLICY_SELECTS_NOTHING"
  | "NETWORKPOLICY_EGRESS_TO_SERVICE_CIDR"
  | "U2O_EXCLUDE_IP_REROUTE"
  | "PRIVATE_SUBNET_BLOCKS"
  | "CENTRALIZED_GATEWAY_NODE_MISSING";

export const CLUSTER_FINDING_CODES: Readonly<Record<ClusterFindingCode, string>> = {
  SERVICE_NO_ENDPOINTS:
    "a ClusterIP Service selects no Pod: Kube-OVN deletes its VIP from the cluster load balancer, the packet leaves OVN on the node's ovn0 and kube-proxy rejects it",
  NETWORKPOLICY_SELECTS_NOTHING: "a NetworkPolicy's podSelector matches no Pod: its port group is empty",
  NETWORKPOLICY_EGRESS_TO_SERVICE_CIDR:
    "an egress ipBlock names the Service CIDR, but Kube-OVN's egress ACLs are apply-after-lb: they see the backend, not the ClusterIP",
  U2O_EXCLUDE_IP_REROUTE:
    "U2O: traffic from the underlay subnet to a node's InternalIP is rerouted to the physical gateway (policy 31000 on u2o_exclude_ip)",
  PRIVATE_SUBNET_BLOCKS: "a private Subnet drops traffic from other subnets that allowSubnets does not list",
  CENTRALIZED_GATEWAY_NODE_MISSING:
    "gatewayType centralized without gatewayNode: no 29000 policy, traffic leaves by the default route",
};

interface ClusterFinding {
  readonly code: ClusterFindingCode;
  readonly severity: "error" | "warning" | "info";
  readonly message: string;
  readonly fix: string;
  readonly subject?: string;
  readonly source?: { readonly file: string; readonly line: number };
}

/** Findings about the cluster topology; empty for a scenario without cluster objects to judge. */
export function diagnoseCluster(s: Scenario): ClusterFinding[] {
  const cl = s.cluster;
  if (!cl) return [];
  const out: ClusterFinding[] = [];
  const src = (x: { source?: { file: string; line: number } | undefined }) =>
    x.source ? { source: x.source } : {};
  for (const svc of s.services) {
    if (svc.type === "LoadBalancer" || Object.keys(svc.selector).length === 0) continue;
    if (svc.endpoints.length > 0) continue;
    const c = cl.services.find((x) => x.namespace === svc.namespace && x.name === svc.name);
    if (!c || c.clusterIps.length === 0) continue;
    out.push({
      code: "SERVICE_NO_ENDPOINTS",
      severity: "warning",
      subject: `Service ${svc.namespace}/${svc.name}`,
      message: `Service ${svc.namespace}/${svc.name} selects no Pod (selector ${JSON.stringify(svc.selector)}): Kube-OVN deletes ${c.clusterIps.join(", ")} from cluster-${(svc.ports[0]?.protocol ?? "TCP").toLowerCase()}-loadbalancer (endpoint_slice.go, no backends → LoadBalancerDeleteVip), so a pod's packet to it is not DNATed by OVN and follows ovn-cluster's policies: from a distributed overlay subnet through its node's ovn0 (policy 29000), where kube-proxy rejects it (icmp port-unreachable).`,
      fix: "Fix the selector or the Pods' labels (kubectl get endpointslices shows the result).",
      ...src(svc),
    });
  }
  const svcRanges = cl.serviceCidrs.filter((x) => !x.includes(":")).map((x) => parseCidr4(x));
  for (const np of cl.networkPolicies) {
    const who = `NetworkPolicy ${np.namespace}/${np.name}`;
    if (policyPods(s, np).length === 0) {
      out.push({
        code: "NETWORKPOLICY_SELECTS_NOTHING",
        severity: "info",
        subject: who,
        message: `${who} selects no Pod (podSelector ${JSON.stringify(np.podSelector)} in namespace ${np.namespace}): its port group is empty and its ACLs apply to nothing.`,
        fix: "Check the podSelector against the Pods' labels.",
        ...src(np),
      });
    }
    for (const r of np.egress) {
      for (const p of r.peers) {
        if (!p.ipBlock || p.ipBlock.cidr.includes(":")) continue;
        const c = parseCidr4(p.ipBlock.cidr);
        if (!svcRanges.some((rg) => inCidr4(c.ip, rg) || inCidr4(rg.ip, c))) continue;
        out.push({
          code: "NETWORKPOLICY_EGRESS_TO_SERVICE_CIDR",
          severity: "warning",
          subject: who,
          message: `${who} allows egress to ${p.ipBlock.cidr}, which holds ClusterIPs; Kube-OVN's egress ACLs are apply-after-lb, so they see the Service's backend Pod IP, not the ClusterIP, and this rule does not let Service traffic out.`,
          fix: "Allow the backend Pods (podSelector / namespaceSelector) instead of the Service CIDR.",
          ...src(np),
        });
      }
    }
  }
  for (const sub of s.subnets) {
    const cs = cl.subnets.find((x) => x.name === sub.name);
    if (!cs) continue;
    if (underlayOf(s, sub) && sub.u2oInterconnection) {
      out.push({
        code: "U2O_EXCLUDE_IP_REROUTE",
        severity: "info",
        subject: `Subnet ${sub.name}`,
        message: `Subnet ${sub.name} has u2oInterconnection: ovn-cluster reroutes its traffic to the nodes' InternalIPs (address set ${sub.name.replaceAll("-", ".")}.u2o_exclude_ip.ip4, policy 31000) and everything else leaving the cluster (policy 29000) to the physical gateway ${sub.gateway}, not to the node's ovn0 (kube-ovn #4786, #3257).`,
        fix: `Make sure ${sub.gateway} routes to the nodes' InternalIPs, or reach node services through their join/ClusterIP addresses.`,
        ...src(sub),
      });
    }
    if (cs.private) {
      const others = s.subnets.filter(
        (x) =>
          x.name !== sub.name &&
          s.pods.some((p) => p.subnet === x.name) &&
          !cs.allowSubnets.some((a) => !a.includes(":") && inCidr4(x.network, parseCidr4(a))),
      );
      if (others.length > 0)
        out.push({
          code: "PRIVATE_SUBNET_BLOCKS",
          severity: "info",
          subject: `Subnet ${sub.name}`,
          message: `Subnet ${sub.name} is private: its to-lport ACLs (1000 drop, 1001 same subnet / allowSubnets, 3000 join) drop traffic from ${others.map((x) => `${x.name} (${x.cidr})`).join(", ")}.`,
          fix: `List the CIDRs that must reach it in spec.allowSubnets.`,
          ...src(sub),
        });
    }
    if (cs.gatewayType === "centralized" && cs.gatewayNodes.length === 0) {
      out.push({
        code: "CENTRALIZED_GATEWAY_NODE_MISSING",
        severity: "error",
        subject: `Subnet ${sub.name}`,
        message: `Subnet ${sub.name} has gatewayType centralized but no gatewayNode: Kube-OVN installs no 29000 reroute, so its traffic out of the cluster follows ovn-cluster's default route.`,
        fix: "Set spec.gatewayNode to the gateway node names.",
        ...src(sub),
      });
    }
  }
  void parseIp4;
  return out;
}

/**
 * The NB state kube-ovn-controller writes for the whole default VPC (kube-ovn-internals.md §10),
 * as `ovn-nbctl` lines @ovnsim/ovn's reader and a real ovn-nbctl both take:
 * - router `ovn-cluster` (pkg/controller/init.go, vpc.go) with the join switch and one router
 *   port per subnet that has a gateway in OVN (overlay, `logicalGateway`, U2O);
 * - node ports `node-<name>` on join (each host's ovn0, pkg/controller/node.go);
 * - the router's static route and policies (31000 subnet allow, 30000 node reroute, 29000
 *   distributed / centralized gateway, U2O's 29400/31000/29000 with `u2o_exclude_ip`);
 * - `cluster-{tcp,udp,sctp}[-session]-loadbalancer` with one VIP per ClusterIP:port, backends
 *   = endpoints (pkg/controller/endpoint_slice.go), attached to every subnet switch but join;
 * - subnet ACLs (`private`, `allowSubnets`, `acls`) and NetworkPolicy port groups, address
 *   sets and ACLs (pkg/controller/network_policy.go, pkg/ovs/ovn-nb-acl.go).
 * Every row written is recorded with the Kubernetes object behind it, for attribution.
 */
import { formatIp4, parseIp4 } from "@ovnsim/packet";
import { parseCidr6 } from "./cluster.js";
import {
  CHASSIS_FEATURES,
  LOCAL_EXTERNAL_VIP_PREFIX,
  electAnnouncer,
  ipPortMappings,
  keepsIpPortMappings,
  podAddr,
  vipKey,
  endpointsOf,
  lbNameFor,
  localnetPortName,
  metallbHasL2Status,
  underlayOf,
} from "./derive.js";
import { macOf } from "./cluster.js";
import type {
  ClusterSpec,
  NetworkPolicySpec,
  PodSpec,
  PolicyPeerSpec,
  PolicyRuleSpec,
  Scenario,
  Source,
  SubnetSpec,
} from "./types.js";

export const CLUSTER_ROUTER = "ovn-cluster";
export const JOIN = "join";
/** pkg/util/const.go priorities. */
export const PRIORITY = {
  subnetAllow: 31000,
  nodeReroute: 30000,
  u2oAllow: 29400,
  gateway: 29000,
  npDefaultDrop: 2000,
  npAllow: 2001,
  nodeAllow: 3000,
  privateDrop: 1000,
  privateAllow: 1001,
} as const;

/** The Kubernetes object behind an NB row. */
export interface Owner {
  readonly kind: "Subnet" | "Pod" | "Node" | "Service" | "NetworkPolicy" | "kube-ovn-controller";
  readonly name: string;
  /** What Kube-OVN made of it: "router port", "VIP 10.96.0.10:80", "default drop (ingress)". */
  readonly role: string;
  readonly source?: Source | undefined;
}

export interface ClusterNb {
  readonly lines: readonly string[];
  /**
   * NB rows → owners. Keys: `ls:<switch>`, `lsp:<port>`, `lrp:<port>`, `pg:<name>`,
   * `as:<name>`, `vip:<lb>/<vip>`, `acl:<match>`, `policy:<priority>:<match>`, `route:<prefix>`.
   */
  readonly owners: ReadonlyMap<string, Owner>;
}

const q = (v: string): string =>
  /^[A-Za-z0-9_.:/@$-]+$/.test(v) ? v : `"${v.replace(/(["\\$`])/g, "\\$1")}"`;
/** Kube-OVN names port groups and address sets with '-' → '.' (OVN identifiers). */
export const dots = (s: string): string => s.replaceAll("-", ".");
export const subnetNodePg = (subnet: string, node: string): string => dots(`${subnet}.${node}`);
export const policyPg = (np: { name: string; namespace: string }): string =>
  dots(`${np.name}.${np.namespace}`);

function clusterOf(s: Scenario): ClusterSpec {
  if (!s.cluster) throw new Error("scenario has no cluster spec (build it with buildScenario)");
  return s.cluster;
}

/** Subnet order Kube-OVN's init gives: join, ovn-default, then the rest by name. */
export function clusterSubnets(s: Scenario): SubnetSpec[] {
  return [...s.subnets].sort(
    (a, b) =>
      Number(b.name === "ovn-default") - Number(a.name === "ovn-default") ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/** Whether the subnet has a router port on ovn-cluster (overlay, logicalGateway or U2O). */
export function routedSubnet(s: Scenario, sub: SubnetSpec): boolean {
  if (!underlayOf(s, sub)) return true;
  const c = clusterOf(s).subnets.find((x) => x.name === sub.name);
  return sub.u2oInterconnection || (c?.logicalGateway ?? false);
}

/** The address of the subnet's router port (the gateway, or the U2O interconnection IP). */
export function routerPortIp(s: Scenario, sub: SubnetSpec): string {
  const c = clusterOf(s).subnets.find((x) => x.name === sub.name);
  if (underlayOf(s, sub) && sub.u2oInterconnection && !c?.logicalGateway && c?.u2oInterconnectionIp)
    return c.u2oInterconnectionIp;
  return sub.gateway;
}

export const routerPortName = (sub: string): string => `${CLUSTER_ROUTER}-${sub}`;
export const switchRouterPort = (sub: string): string => `${sub}-${CLUSTER_ROUTER}`;
export const nodePortName = (node: string): string => `node-${node}`;

function selects(sel: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

/** Pods a NetworkPolicy applies to. */
export function policyPods(s: Scenario, np: NetworkPolicySpec): PodSpec[] {
  return s.pods.filter((p) => p.namespace === np.namespace && selects(np.podSelector, p.labels));
}

/** Namespaces carry no labels in the scenario but `kubernetes.io/metadata.name`. */
function peerAddresses(
  s: Scenario,
  np: NetworkPolicySpec,
  peer: PolicyPeerSpec,
): { allow: string[]; except: string[] } {
  if (peer.ipBlock) return { allow: [peer.ipBlock.cidr], except: [...peer.ipBlock.except] };
  const nsOk = (ns: string) =>
    peer.namespaceSelector === undefined
      ? ns === np.namespace
      : selects(peer.namespaceSelector, { "kubernetes.io/metadata.name": ns });
  const pods = s.pods.filter(
    (p) => nsOk(p.namespace) && (peer.podSelector === undefined || selects(peer.podSelector, p.labels)),
  );
  return { allow: pods.map((p) => p.ip), except: [] };
}

function ruleAddresses(
  s: Scenario,
  np: NetworkPolicySpec,
  rule: PolicyRuleSpec,
  v6: boolean,
): { allow: string[]; except: string[] } {
  if (rule.peers.length === 0) return { allow: [v6 ? "::/0" : "0.0.0.0/0"], except: [] };
  const allow: string[] = [];
  const except: string[] = [];
  for (const p of rule.peers) {
    const a = peerAddresses(s, np, p);
    allow.push(...a.allow);
    except.push(...a.except);
  }
  const fam = (x: string) => x.includes(":") === v6;
  return { allow: [...new Set(allow.filter(fam))], except: [...new Set(except.filter(fam))] };
}

const addrList = (xs: readonly string[]): string =>
  xs.length === 0 ? "[]" : `'${xs.map((x) => `"${x}"`).join(",")}'`;

/** The whole NB (and chassis/binding) state of the default VPC, one command per line. */
export function deriveClusterNbctl(s: Scenario): ClusterNb {
  const cl = clusterOf(s);
  const c = s.controller;
  const out: string[] = [];
  const owners = new Map<string, Owner>();
  const own = (key: string, o: Owner) => {
    if (!owners.has(key)) owners.set(key, o);
  };
  const ctl: Owner = {
    kind: "kube-ovn-controller",
    name: "kube-ovn-controller",
    role: "init",
    source: c.source,
  };
  const subOwner = (sub: SubnetSpec, role: string): Owner => ({
    kind: "Subnet",
    name: sub.name,
    role,
    source: sub.source,
  });
  const subs = clusterSubnets(s);
  const u2oAny = subs.some((x) => underlayOf(s, x) && x.u2oInterconnection);
  const node = (n: string) => cl.nodes.find((x) => x.name === n)!;

  out.push("# NB state kube-ovn-controller derives for the default VPC (kube-ovn-internals.md §10)");
  out.push(
    `ovn-nbctl set NB_Global . options:ls_dnat_mod_dl_dst=${c.lsDnatModDlDst} options:use_ct_inv_match=false options:ls_ct_skip_dst_lport_ips=${c.lsCtSkipDstLportIps}`,
  );
  out.push(`ovn-nbctl lr-add ${CLUSTER_ROUTER}`);
  out.push(
    `ovn-nbctl set Logical_Router ${CLUSTER_ROUTER} options:mac_binding_age_threshold=300 options:dynamic_neigh_routers=true${u2oAny ? "" : " options:always_learn_from_arp_request=false"}`,
  );
  own(`lr:${CLUSTER_ROUTER}`, { ...ctl, role: "the default VPC's router" });

  // join
  const join = cl.joinCidr.split("/");
  const joinGw = formatIp4(parseIp4(join[0]!) + 1);
  const j6 = cl.joinCidr6 ? parseCidr6(cl.joinCidr6) : undefined;
  const joinGw6 = j6 ? `${fmt6(j6.ip + 1n)}/${j6.plen}` : "";
  out.push(`# join ${cl.joinCidr}: the router port and each node's ovn0`);
  out.push(`ovn-nbctl ls-add ${JOIN}`);
  out.push(
    `ovn-nbctl lrp-add ${CLUSTER_ROUTER} ${routerPortName(JOIN)} ${macOf(parseIp4(joinGw))} ${joinGw}/${join[1]}${joinGw6 ? ` ${joinGw6}` : ""}`,
  );
  out.push(routerLsp(JOIN));
  own(`ls:${JOIN}`, { ...ctl, role: "join switch (--node-switch-cidr)" });
  own(`lrp:${routerPortName(JOIN)}`, { ...ctl, role: "join gateway" });
  for (const n of cl.nodes) {
    const lsp = nodePortName(n.name);
    out.push(
      `ovn-nbctl lsp-add ${JOIN} ${q(lsp)} -- lsp-set-addresses ${q(lsp)} "${n.joinMac} ${n.joinIp}${n.joinIp6 ? ` ${n.joinIp6}` : ""}"`,
    );
    const src = s.nodes.find((x) => x.name === n.name)?.source;
    own(`lsp:${lsp}`, { kind: "Node", name: n.name, role: `ovn0 (join ${n.joinIp})`, source: src });
  }

  // subnets
  for (const sub of subs) {
    const cs = cl.subnets.find((x) => x.name === sub.name)!;
    out.push(`# Subnet ${sub.name} ${sub.cidr}${cs.cidr6 ? `,${cs.cidr6}` : ""}`);
    out.push(`ovn-nbctl ls-add ${q(sub.name)}`);
    own(`ls:${sub.name}`, subOwner(sub, "logical switch"));
    const u = underlayOf(s, sub);
    if (u) {
      const lp = localnetPortName(sub.name);
      out.push(
        `ovn-nbctl lsp-add ${q(sub.name)} ${q(lp)} -- lsp-set-type ${q(lp)} localnet -- lsp-set-addresses ${q(lp)} unknown -- lsp-set-options ${q(lp)} network_name=${q(u.provider)}`,
      );
      const tag = u.vlanId >= 1 && u.vlanId <= 4095 ? ` tag=${u.vlanId}` : "";
      out.push(`ovn-nbctl set Logical_Switch_Port ${q(lp)}${tag} external_ids:ipv4_network=${q(sub.cidr)}`);
      own(`lsp:${lp}`, subOwner(sub, `localnet port (Vlan ${sub.vlan}, provider ${u.provider})`));
    }
    if (routedSubnet(s, sub)) {
      const ip = routerPortIp(s, sub);
      const six = cs.cidr6 ? ` ${cs.gateway6}/${cs.cidr6.split("/")[1]}` : "";
      out.push(
        `ovn-nbctl lrp-add ${CLUSTER_ROUTER} ${q(routerPortName(sub.name))} ${macOf(parseIp4(ip))} ${ip}/${sub.plen}${six}`,
      );
      out.push(routerLsp(sub.name));
      const role = u
        ? sub.u2oInterconnection && !cs.logicalGateway
          ? `U2O interconnection port ${ip}`
          : `logical gateway ${ip}`
        : `gateway ${ip}`;
      own(`lrp:${routerPortName(sub.name)}`, subOwner(sub, role));
      own(`lsp:${switchRouterPort(sub.name)}`, subOwner(sub, role));
    }
    for (const p of s.pods.filter((x) => x.subnet === sub.name)) {
      const ip6 = cl.podIp6[p.lsp];
      out.push(
        `ovn-nbctl lsp-add ${q(sub.name)} ${q(p.lsp)} -- lsp-set-addresses ${q(p.lsp)} "${p.mac} ${p.ip}${ip6 ? ` ${ip6}` : ""}"`,
      );
      own(`lsp:${p.lsp}`, {
        kind: "Pod",
        name: `${p.namespace}/${p.name}`,
        role: `pod on ${p.node}`,
        source: p.source,
      });
    }
    // Subnet ACLs (SetLogicalSwitchPrivate, UpdateLogicalSwitchAcl).
    if (cs.private) {
      const acl = (prio: number, match: string, action: string, extra = "") => {
        out.push(`ovn-nbctl ${extra}acl-add ${q(sub.name)} to-lport ${prio} ${q(match)} ${action}`);
        own(`acl:${match}`, subOwner(sub, `private subnet ${action} (${prio})`));
      };
      acl(PRIORITY.privateDrop, "ip", "drop", `--log --severity=warning --name=${q(sub.name)} `);
      const fams: [string, string][] = [["ip4", sub.cidr]];
      if (cs.cidr6) fams.push(["ip6", cs.cidr6]);
      for (const [sfx, cidr] of fams) {
        acl(PRIORITY.privateAllow, `${sfx}.src == ${cidr} && ${sfx}.dst == ${cidr}`, "allow-related");
        const jc = sfx === "ip4" ? cl.joinCidr : cl.joinCidr6;
        if (jc) acl(PRIORITY.nodeAllow, `${sfx}.src == ${jc}`, "allow-related");
        for (const a of cs.allowSubnets) {
          if (a.includes(":") !== (sfx === "ip6")) continue;
          acl(
            PRIORITY.privateAllow,
            `(${sfx}.src == ${cidr} && ${sfx}.dst == ${a}) || (${sfx}.src == ${a} && ${sfx}.dst == ${cidr})`,
            "allow-related",
          );
        }
      }
    }
    for (const a of cs.acls) {
      out.push(`ovn-nbctl acl-add ${q(sub.name)} ${a.direction} ${a.priority} ${q(a.match)} ${a.action}`);
      own(`acl:${a.match}`, subOwner(sub, `spec.acls ${a.action} (${a.priority})`));
    }
  }

  // Load balancers: ClusterIP VIPs (and the seed's LoadBalancer VIPs with prefer-local).
  const lbs = new Map<
    string,
    { vips: string[]; maps: string[]; ext: string[]; session: boolean; proto: string }
  >();
  const lb = (name: string, proto: string, session: boolean) => {
    let e = lbs.get(name);
    if (!e) {
      e = { vips: [], maps: [], ext: [], session, proto };
      lbs.set(name, e);
    }
    return e;
  };
  if (c.enableLb) {
    for (const svc of s.services) {
      const sc = cl.services.find((x) => x.namespace === svc.namespace && x.name === svc.name);
      const eps = endpointsOf(s, svc);
      const svcOwner = (vip: string): Owner => ({
        kind: "Service",
        name: `${svc.namespace}/${svc.name}`,
        role: `VIP ${vip}`,
        source: svc.source,
      });
      for (const ip of sc?.clusterIps ?? []) {
        const v6 = ip.includes(":");
        for (const port of svc.ports) {
          const name = `${lbNameFor(port.protocol).replace("-loadbalancer", "")}${sc?.sessionAffinity ? "-session" : ""}-loadbalancer`;
          const backends = eps
            .map((p) => (v6 ? cl.podIp6[p.lsp] : p.ip))
            .filter((x): x is string => x !== undefined)
            .map((a) => (v6 ? `[${a}]:${port.targetPort}` : `${a}:${port.targetPort}`))
            .join(",");
          const vip = v6 ? `[${ip}]:${port.port}` : `${ip}:${port.port}`;
          // endpoint_slice.go (1.14 and 1.15): "for performance reason delete lb with no
          // backends" — a ClusterIP without an endpoint of its family is not on the LB at all
          // (LoadBalancerDeleteVip), so OVN does not touch it and the packet follows the routes.
          if (!backends) continue;
          const e = lb(name, port.protocol, sc?.sessionAffinity ?? false);
          e.vips.push(`${vip} ${q(backends)}`);
          own(`vip:${name}/${vip}`, svcOwner(vip));
        }
      }
      // LoadBalancer ingress IPs become VIPs only with prefer-local (§1.2), as deriveNbctl does.
      if (svc.type !== "LoadBalancer" || !c.enableOvnLbPreferLocal) continue;
      if (c.release === "1.14" && svc.externalTrafficPolicy !== "Local") continue;
      for (const vip of svc.vips) {
        const v6 = vip.includes(":");
        for (const port of svc.ports) {
          const name = lbNameFor(port.protocol);
          const backends = eps
            .map((p) => podAddr(s, p, v6))
            .filter((a): a is string => a !== undefined)
            .map((a) => vipKey(a, port.targetPort))
            .join(",");
          const key = vipKey(vip, port.port);
          // endpoint_slice.go deletes a VIP that has no backend of its family.
          if (!backends) continue;
          const e = lb(name, port.protocol, false);
          e.vips.push(`${key} ${q(backends)}`);
          own(`vip:${name}/${key}`, {
            ...svcOwner(key),
            role: `LoadBalancer VIP ${key}${svc.pool ? ` from MetalLB IPAddressPool ${svc.pool}` : ""}`,
          });
          if (svc.externalTrafficPolicy === "Local") {
            if (keepsIpPortMappings(s, svc)) e.maps.push(...ipPortMappings(s, eps));
            if (c.vipNodeMarkerSupported && metallbHasL2Status(s)) {
              const ann = electAnnouncer(s, svc, vip);
              if (ann.node)
                e.ext.push(`'external_ids:"${LOCAL_EXTERNAL_VIP_PREFIX}${key}"=node-${ann.node}'`);
            }
          }
        }
      }
    }
  }
  if (lbs.size > 0) out.push("# Services: the cluster load balancers (one VIP per ClusterIP:port)");
  for (const [name, e] of [...lbs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    for (const v of e.vips) out.push(`ovn-nbctl --may-exist lb-add ${name} ${v} ${e.proto}`);
    out.push(
      `ovn-nbctl set Load_Balancer ${name} external_ids:vendor=kube-ovn options:prefer_local_backend=${c.enableOvnLbPreferLocal}`,
    );
    if (e.session)
      out.push(`ovn-nbctl set Load_Balancer ${name} selection_fields=ip_src options:affinity_timeout=10800`);
    if (e.maps.length > 0) out.push(`ovn-nbctl set Load_Balancer ${name} ${[...new Set(e.maps)].join(" ")}`);
    if (e.ext.length > 0) out.push(`ovn-nbctl set Load_Balancer ${name} ${e.ext.join(" ")}`);
    for (const sub of subs) out.push(`ovn-nbctl ls-lb-add ${q(sub.name)} ${name}`);
    own(`lb:${name}`, { ...ctl, role: "cluster load balancer" });
  }

  // Router: static route and policies.
  out.push("# ovn-cluster: the default route and the policies");
  out.push(`ovn-nbctl lr-route-add ${CLUSTER_ROUTER} 0.0.0.0/0 ${joinGw}`);
  own("route:0.0.0.0/0", { ...ctl, role: `default route via ${joinGw}` });
  if (j6) {
    out.push(`ovn-nbctl lr-route-add ${CLUSTER_ROUTER} ::/0 ${fmt6(j6.ip + 1n)}`);
    own("route:::/0", { ...ctl, role: `default route via ${fmt6(j6.ip + 1n)}` });
  }
  const policy = (prio: number, match: string, action: string, o: Owner) => {
    out.push(`ovn-nbctl lr-policy-add ${CLUSTER_ROUTER} ${prio} ${q(match)} ${action}`);
    own(`policy:${prio}:${match}`, o);
  };
  policy(PRIORITY.subnetAllow, `ip4.dst == ${cl.joinCidr}`, "allow", {
    ...ctl,
    role: "join stays in the cluster",
  });
  if (cl.joinCidr6)
    policy(PRIORITY.subnetAllow, `ip6.dst == ${cl.joinCidr6}`, "allow", {
      ...ctl,
      role: "join stays in the cluster",
    });
  for (const sub of subs) {
    const cs = cl.subnets.find((x) => x.name === sub.name)!;
    if (underlayOf(s, sub) && !cs.logicalGateway) continue;
    policy(
      PRIORITY.subnetAllow,
      `ip4.dst == ${sub.cidr}`,
      "allow",
      subOwner(sub, "traffic to the subnet stays in the cluster"),
    );
    if (cs.cidr6)
      policy(
        PRIORITY.subnetAllow,
        `ip6.dst == ${cs.cidr6}`,
        "allow",
        subOwner(sub, "traffic to the subnet stays in the cluster"),
      );
  }
  for (const n of cl.nodes) {
    const ns = s.nodes.find((x) => x.name === n.name)!;
    policy(PRIORITY.nodeReroute, `ip4.dst == ${ns.internalIp}`, `reroute ${n.joinIp}`, {
      kind: "Node",
      name: n.name,
      role: `traffic to the node's InternalIP goes to its ovn0 (${n.joinIp})`,
      source: ns.source,
    });
  }
  for (const sub of subs) {
    const cs = cl.subnets.find((x) => x.name === sub.name)!;
    const u = underlayOf(s, sub);
    if (u) {
      if (!sub.u2oInterconnection) continue;
      const as = `${dots(sub.name)}.u2o_exclude_ip.ip4`;
      out.push(
        `ovn-nbctl create Address_Set name=${as} ${`addresses=${addrList(s.nodes.map((x) => x.internalIp))}`} external_ids:vendor=kube-ovn`,
      );
      own(`as:${as}`, subOwner(sub, "U2O: the nodes' InternalIPs"));
      policy(
        PRIORITY.u2oAllow,
        `ip4.dst == ${sub.cidr}`,
        "allow",
        subOwner(sub, "U2O: the overlay reaches the underlay subnet"),
      );
      policy(
        PRIORITY.subnetAllow,
        `ip4.dst == $${as} && ip4.src == ${sub.cidr}`,
        `reroute ${sub.gateway}`,
        subOwner(sub, "U2O: underlay → node InternalIP goes to the physical gateway"),
      );
      policy(
        PRIORITY.gateway,
        `ip4.src == ${sub.cidr}`,
        `reroute ${sub.gateway}`,
        subOwner(sub, "U2O: underlay → elsewhere goes to the physical gateway"),
      );
      // Without the load balancers (--enable-lb=false) the underlay pods reach ClusterIPs through
      // their node's ovn0 and kube-proxy: addPolicyRouteForU2ONoLoadBalancer (kube-ovn #3814).
      if (!c.enableLb) {
        for (const n of cl.nodes) {
          const pg = subnetNodePg(sub.name, n.name);
          const members = s.pods
            .filter((p) => p.subnet === sub.name && p.node === n.name)
            .map((p) => q(p.lsp));
          out.push(`ovn-nbctl pg-add ${pg}${members.length ? ` ${members.join(" ")}` : ""}`);
          own(`pg:${pg}`, subOwner(sub, `U2O without load balancer: underlay pods on ${n.name}`));
          const fams: [string, string | undefined, string | undefined][] = [
            ["ip4", cl.serviceCidrs.find((x) => !x.includes(":")), n.joinIp],
            ["ip6", cs.cidr6 ? cl.serviceCidrs.find((x) => x.includes(":")) : undefined, n.joinIp6],
          ];
          for (const [sfx, svcCidr, hop] of fams) {
            if (!svcCidr || !hop) continue;
            policy(
              PRIORITY.u2oAllow,
              `${sfx}.src == $${pg}_${sfx} && ${sfx}.dst == ${svcCidr}`,
              `reroute ${hop}`,
              subOwner(
                sub,
                `U2O without load balancer: its pods on ${n.name} reach Services through ${n.name}'s ovn0 and kube-proxy (kube-ovn #3814)`,
              ),
            );
          }
        }
      }
      continue;
    }
    if (cs.gatewayType === "centralized" && cs.gatewayNodes.length > 0) {
      // ECMP: one reroute with every gateway node's join IP (OVN's select() over them);
      // active-backup: the active gateway's alone.
      const gws = cs.enableEcmp ? cs.gatewayNodes : [cs.activateGateway ?? cs.gatewayNodes[0]!];
      const hops = gws.map((g) => node(g).joinIp).join(",");
      policy(
        PRIORITY.gateway,
        `ip4.src == ${sub.cidr}`,
        `reroute ${hops}`,
        subOwner(
          sub,
          cs.enableEcmp
            ? `centralized gateway, ECMP over ${gws.join(", ")}`
            : `centralized gateway via ${gws[0]} (active; standby ${cs.gatewayNodes.filter((g) => g !== gws[0]).join(", ") || "none"})`,
        ),
      );
      continue;
    }
    for (const n of cl.nodes) {
      const pg = subnetNodePg(sub.name, n.name);
      const members = s.pods.filter((p) => p.subnet === sub.name && p.node === n.name).map((p) => q(p.lsp));
      out.push(`ovn-nbctl pg-add ${pg}${members.length ? ` ${members.join(" ")}` : ""}`);
      own(`pg:${pg}`, subOwner(sub, `pods on ${n.name} (distributed gateway)`));
      policy(
        PRIORITY.gateway,
        `ip4.src == $${pg}_ip4`,
        `reroute ${n.joinIp}`,
        subOwner(sub, `distributed gateway: leaves through ${n.name}'s ovn0`),
      );
    }
  }

  // NetworkPolicies.
  for (const np of cl.networkPolicies) npLines(s, np, out, own);
  if (cl.networkPolicies.length > 0) nodeAclLines(s, out, own);

  out.push("# what each node's ovn-controller reports");
  const features = CHASSIS_FEATURES.map((f) => `other_config:${f}=true`).join(" ");
  for (const n of s.nodes) {
    out.push(`ovn-sbctl chassis-add ${q(n.name)} geneve ${n.internalIp}`);
    out.push(`ovn-sbctl set Chassis ${q(n.name)} ${features}`);
  }
  for (const p of s.pods) out.push(`ovn-sbctl lsp-bind ${q(p.lsp)} ${q(p.node)}`);
  for (const n of cl.nodes) out.push(`ovn-sbctl lsp-bind ${q(nodePortName(n.name))} ${q(n.name)}`);
  return { lines: out, owners };
}

function routerLsp(sub: string): string {
  const lsp = switchRouterPort(sub);
  return `ovn-nbctl lsp-add ${q(sub)} ${q(lsp)} -- lsp-set-type ${q(lsp)} router -- lsp-set-addresses ${q(lsp)} router -- lsp-set-options ${q(lsp)} router-port=${q(routerPortName(sub))}`;
}

function fmt6(x: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((x >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run of zeros.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(":");
  return `${parts.slice(0, best).join(":")}::${parts.slice(best + bestLen).join(":")}`;
}

function npLines(
  s: Scenario,
  np: NetworkPolicySpec,
  out: string[],
  own: (k: string, o: Owner) => void,
): void {
  const cl = s.cluster!;
  const pg = policyPg(np);
  const who = `${np.namespace}/${np.name}`;
  const o = (role: string): Owner => ({ kind: "NetworkPolicy", name: who, role, source: np.source });
  const pods = policyPods(s, np);
  out.push(`# NetworkPolicy ${who}`);
  out.push(`ovn-nbctl pg-add ${pg}${pods.length ? ` ${pods.map((p) => q(p.lsp)).join(" ")}` : ""}`);
  own(`pg:${pg}`, o("the pods it selects"));
  const dual = pods.some((p) => cl.podIp6[p.lsp] !== undefined);
  const fams: ["IPv4" | "IPv6", string][] = dual
    ? [
        ["IPv4", "ip4"],
        ["IPv6", "ip6"],
      ]
    : [["IPv4", "ip4"]];
  const tier = "--tier=2 ";
  for (const [dir, rules] of [
    ["ingress", np.ingress],
    ["egress", np.egress],
  ] as const) {
    if (!np.policyTypes.includes(dir === "ingress" ? "Ingress" : "Egress")) continue;
    const ingress = dir === "ingress";
    const aclDir = ingress ? "to-lport" : "from-lport";
    const portKw = ingress ? "outport" : "inport";
    const key = ingress ? "src" : "dst";
    const after = ingress ? "" : "--apply-after-lb ";
    for (const [proto, sfx] of fams) {
      const list: { idx: string; rule: PolicyRuleSpec | undefined }[] =
        rules.length === 0
          ? [{ idx: "all", rule: undefined }]
          : rules.map((r, i) => ({ idx: String(i), rule: r }));
      for (const { idx, rule } of list) {
        const allowAs = `${pg}.${dir}.allow.${proto}.${idx}`;
        const exceptAs = `${pg}.${dir}.except.${proto}.${idx}`;
        const addrs = rule ? ruleAddresses(s, np, rule, proto === "IPv6") : { allow: [], except: [] };
        out.push(
          `ovn-nbctl create Address_Set name=${allowAs} addresses=${addrList(addrs.allow)} external_ids:np=${who}`,
        );
        out.push(
          `ovn-nbctl create Address_Set name=${exceptAs} addresses=${addrList(addrs.except)} external_ids:np=${who}`,
        );
        own(`as:${allowAs}`, o(`${dir} rule ${idx} peers`));
        own(`as:${exceptAs}`, o(`${dir} rule ${idx} ipBlock.except`));
        if (idx === "0" || idx === "all") {
          const m = `${portKw} == @${pg} && ${sfx}`;
          out.push(
            `ovn-nbctl ${tier}${after}--type=port-group acl-add ${pg} ${aclDir} ${PRIORITY.npDefaultDrop} ${q(m)} drop`,
          );
          own(`acl:${m}`, o(`default deny (${dir})`));
        }
        const base = `${portKw} == @${pg} && ip && ${sfx}.${key} == $${allowAs} && ${sfx}.${key} != $${exceptAs}`;
        const matches =
          !rule || rule.ports.length === 0
            ? [base]
            : rule.ports.map((p) =>
                p.port === undefined
                  ? `${base} && ${p.protocol}`
                  : p.endPort === undefined
                    ? `${base} && ${p.protocol}.dst == ${p.port}`
                    : `${base} && ${p.port} <= ${p.protocol}.dst <= ${p.endPort}`,
              );
        for (const m of matches) {
          out.push(
            `ovn-nbctl ${tier}${after}--type=port-group acl-add ${pg} ${aclDir} ${PRIORITY.npAllow} ${q(m)} allow-related`,
          );
          own(`acl:${m}`, o(`${dir} rule ${idx} allow`));
        }
      }
    }
  }
  // The subnets' gateways and the nodes' join IPs stay reachable (CreateGatewayACL, CreateNodeACL).
  const subnets = [...new Set(pods.map((p) => p.subnet))].sort();
  for (const name of subnets) {
    const sub = s.subnets.find((x) => x.name === name)!;
    const gws = [routerPortIp(s, sub)];
    for (const gw of gws) {
      const mi = `ip4.src == ${gw}`;
      const me = `ip4.dst == ${gw}`;
      out.push(
        `ovn-nbctl ${tier}--type=port-group acl-add ${pg} to-lport ${PRIORITY.npAllow} ${q(mi)} allow-stateless`,
      );
      out.push(
        `ovn-nbctl ${tier}--apply-after-lb --type=port-group acl-add ${pg} from-lport ${PRIORITY.npAllow} ${q(me)} allow-stateless`,
      );
      own(`acl:${mi}`, o(`gateway ${gw} of Subnet ${name} allowed`));
      own(`acl:${me}`, o(`gateway ${gw} of Subnet ${name} allowed`));
    }
  }
}

/**
 * While any NetworkPolicy exists, each node's host stays able to reach its own pods (kubelet
 * probes): kube-ovn-controller (pkg/controller/node.go, `CreateNodeACL` in pkg/ovs/ovn-nb-acl.go)
 * keeps a port group `node.<name>` (the node port's name, `-` → `.`) of the pods on that node,
 * with tier-2 allow-related ACLs at 3000 for the node's InternalIP ("use join IP only when no
 * internal IP exists", so the join IPv6 address on a single-stack node).
 */
function nodeAclLines(s: Scenario, out: string[], own: (k: string, o: Owner) => void): void {
  const cl = s.cluster!;
  out.push("# the nodes' own pods stay reachable from the node (CreateNodeACL)");
  for (const n of cl.nodes) {
    const pg = nodePortName(n.name).replace(/-/g, ".");
    const pods = s.pods.filter((p) => p.node === n.name);
    out.push(`ovn-nbctl pg-add ${q(pg)}${pods.length ? ` ${pods.map((p) => q(p.lsp)).join(" ")}` : ""}`);
    const node = s.nodes.find((x) => x.name === n.name);
    const o: Owner = {
      kind: "Node",
      name: n.name,
      role: "its own pods stay reachable (kubelet probes)",
      source: node?.source,
    };
    own(`pg:${pg}`, o);
    const ips: [string, string][] = [["ip4", node?.internalIp ?? n.joinIp]];
    if (n.joinIp6 !== undefined) ips.push(["ip6", n.joinIp6]);
    for (const [sfx, ip] of ips) {
      const mi = `${sfx}.src == ${ip} && ${sfx}.dst == $${pg}_${sfx}`;
      const me = `${sfx}.dst == ${ip} && ${sfx}.src == $${pg}_${sfx}`;
      out.push(
        `ovn-nbctl --tier=2 --type=port-group acl-add ${q(pg)} to-lport ${PRIORITY.nodeAllow} ${q(mi)} allow-related`,
      );
      out.push(
        `ovn-nbctl --tier=2 --apply-after-lb --type=port-group acl-add ${q(pg)} from-lport ${PRIORITY.nodeAllow} ${q(me)} allow-related`,
      );
      own(`acl:${mi}`, o);
      own(`acl:${me}`, o);
    }
  }
}

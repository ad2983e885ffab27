/**
 * The OVN northbound database (ovn-nb(5)) as plain readonly records: switches, routers (ports,
 * static routes, policies, NAT), port groups, address sets, meters and static MAC bindings, plus the two southbound inputs that northd
 * reads back (Chassis and Port_Binding.chassis), because prefer-local flows and the chassis
 * feature fallback (ct_lb vs ct_lb_mark) depend on them. Rows carry deterministic uuids so the
 * same configuration always prints the same `ovn-sbctl lflow-list`.
 */
import type { RawLoadBalancer } from "@ovnsim/lb";

/** An OVSDB map column (`options`, `external_ids`, …). */
export type StrMap = Readonly<Record<string, string>>;

/** NB_Global: the `options` northd reads (e.g. Kube-OVN's `ls_ct_skip_dst_lport_ips`). */
export interface NbGlobal {
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

/** ACL verdicts (ovn-nb(5) ACL `action`). */
export type AclVerdict = "allow" | "allow-related" | "allow-stateless" | "drop" | "reject" | "pass";

/** ACL direction (ovn-nb(5) ACL `direction`). */
export type AclDirection = "from-lport" | "to-lport";

export interface Acl {
  readonly uuid: string;
  readonly direction: AclDirection;
  readonly priority: number;
  readonly match: string;
  readonly action: AclVerdict;
  readonly log: boolean;
  readonly name?: string;
  readonly severity?: string;
  readonly meter?: string;
  /** ct_label.label value to stamp on committed connections (0 = none). */
  readonly label: number;
  /** ACL tier (24.03+ schema; 23.03 has no such column and ignores it). */
  readonly tier?: number;
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

/** Logical_Switch_Port. `type` is "" (VIF), "localnet", "router", "localport", … */
export interface LogicalSwitchPort {
  readonly name: string;
  readonly uuid: string;
  readonly type: string;
  /** Each entry: "MAC [IP…]", "unknown", "router" or "dynamic". */
  readonly addresses: readonly string[];
  readonly portSecurity: readonly string[];
  readonly tag?: number;
  readonly tagRequest?: number;
  readonly parentName?: string;
  /** `options:network_name` (localnet), `options:router-port` (router), … */
  readonly options: StrMap;
  /** Kube-OVN stores `ipv4_network`/`ipv6_network` here on localnet ports. */
  readonly externalIds: StrMap;
  /** Unset means enabled. */
  readonly enabled?: boolean;
}

export interface LogicalSwitch {
  readonly name: string;
  readonly uuid: string;
  readonly ports: readonly LogicalSwitchPort[];
  readonly acls: readonly Acl[];
  /** Names of attached Load_Balancer rows, in attach order. */
  readonly loadBalancers: readonly string[];
  /** Names of attached Load_Balancer_Group rows (their load balancers apply too). */
  readonly loadBalancerGroups?: readonly string[];
  readonly otherConfig: StrMap;
  readonly externalIds: StrMap;
}

/**
 * Load_Balancer (ovn-nb(5)), the fields northd reads: the load-balancer package's raw row
 * (`RawLoadBalancer`, which `parseLoadBalancer` validates) with every column present.
 */
export interface NbLoadBalancer extends RawLoadBalancer {
  readonly name: string;
  readonly uuid: string;
  /** "tcp" | "udp" | "sctp"; unset means tcp. */
  readonly protocol?: string;
  /** VIP ("IP[:port]", IPv6 as "[IP]:port") → "backend[,backend…]", verbatim as stored. */
  readonly vips: StrMap;
  readonly options: StrMap;
  readonly selectionFields: readonly string[];
  /** backend IP → "lsp:src_ip" (Kube-OVN writes "pod.ns:0.0.0.0"). */
  readonly ipPortMappings: StrMap;
  readonly externalIds: StrMap;
}

/** Gateway_Chassis: one chassis a distributed gateway port may be resident on. */
export interface GatewayChassis {
  readonly uuid: string;
  readonly name: string;
  readonly chassisName: string;
  readonly priority: number;
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

/** HA_Chassis_Group with its HA_Chassis rows (chassis name → priority). */
export interface HaChassisGroup {
  readonly uuid: string;
  readonly name: string;
  readonly haChassis: readonly {
    readonly uuid: string;
    readonly chassisName: string;
    readonly priority: number;
  }[];
  readonly externalIds: StrMap;
}

export interface LogicalRouterPort {
  readonly name: string;
  readonly uuid: string;
  readonly mac: string;
  readonly networks: readonly string[];
  readonly peer?: string;
  /** Gateway_Chassis rows: any makes this a distributed gateway port. */
  readonly gatewayChassis: readonly GatewayChassis[];
  /** HA_Chassis_Group name (also makes it a distributed gateway port). */
  readonly haChassisGroup?: string;
  readonly ipv6RaConfigs: StrMap;
  readonly ipv6Prefix: readonly string[];
  readonly options: StrMap;
  readonly externalIds: StrMap;
  readonly enabled?: boolean;
}

/** Logical_Router_Static_Route. `nexthop` is "discard", "" (output port only) or an address. */
export interface StaticRoute {
  readonly uuid: string;
  readonly ipPrefix: string;
  readonly nexthop: string;
  readonly outputPort?: string;
  /** "src-ip" or "dst-ip"; unset means dst-ip. */
  readonly policy?: string;
  readonly routeTable: string;
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

/** Logical_Router_Policy. */
export interface RouterPolicy {
  readonly uuid: string;
  readonly priority: number;
  readonly match: string;
  readonly action: "allow" | "drop" | "reroute";
  readonly nexthop?: string;
  readonly nexthops: readonly string[];
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

/** NAT (ovn-nb(5)). Address-set references are kept by name. */
export interface Nat {
  readonly uuid: string;
  readonly type: "snat" | "dnat" | "dnat_and_snat";
  readonly externalIp: string;
  readonly logicalIp: string;
  readonly externalMac?: string;
  readonly logicalPort?: string;
  readonly externalPortRange: string;
  readonly allowedExtIps?: string;
  readonly exemptedExtIps?: string;
  readonly gatewayPort?: string;
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

export interface LogicalRouter {
  readonly name: string;
  readonly uuid: string;
  readonly ports: readonly LogicalRouterPort[];
  readonly staticRoutes: readonly StaticRoute[];
  readonly policies: readonly RouterPolicy[];
  readonly nat: readonly Nat[];
  readonly loadBalancers: readonly string[];
  /** Names of attached Load_Balancer_Group rows (their load balancers apply too). */
  readonly loadBalancerGroups?: readonly string[];
  readonly enabled?: boolean;
  readonly options: StrMap;
  readonly externalIds: StrMap;
}

/**
 * Load_Balancer_Group (ovn-nb(5)): load balancers (by name) shared by every switch and router
 * that references the group, as if each were attached to each of them (northd's build_lbs).
 */
export interface LoadBalancerGroup {
  readonly name: string;
  readonly uuid: string;
  readonly loadBalancers: readonly string[];
}

/**
 * The load balancers a switch or router applies: its own (attach order), then those of its
 * Load_Balancer_Groups, each once (northd's build_lbs joins both the same way).
 */
export function attachedLbNames(
  db: Pick<NbDatabase, "loadBalancerGroups">,
  row: { readonly loadBalancers: readonly string[]; readonly loadBalancerGroups?: readonly string[] },
): string[] {
  const out = [...row.loadBalancers];
  for (const g of row.loadBalancerGroups ?? []) {
    const grp = db.loadBalancerGroups.find((x) => x.name === g || x.uuid === g);
    for (const n of grp?.loadBalancers ?? []) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Port_Group: switch ports (by name) and the ACLs applied to all of them. */
export interface PortGroup {
  readonly uuid: string;
  readonly name: string;
  readonly ports: readonly string[];
  readonly acls: readonly Acl[];
  readonly externalIds: StrMap;
}

/** Address_Set. */
export interface AddressSet {
  readonly uuid: string;
  readonly name: string;
  readonly addresses: readonly string[];
  readonly externalIds: StrMap;
}

/** Meter with its Meter_Band rows. */
export interface Meter {
  readonly uuid: string;
  readonly name: string;
  readonly unit: "kbps" | "pktps";
  readonly bands: readonly { readonly action: "drop"; readonly rate: number; readonly burstSize: number }[];
  readonly fair?: boolean;
  readonly externalIds: StrMap;
}

/** Static_MAC_Binding (a static neighbour of a router port). */
export interface StaticMacBinding {
  readonly uuid: string;
  readonly logicalPort: string;
  readonly ip: string;
  readonly mac: string;
  readonly overrideDynamicMac: boolean;
}

/** Southbound Chassis as `ovn-sbctl chassis-add` creates it; features live in other_config. */
export interface Chassis {
  readonly name: string;
  readonly uuid: string;
  readonly hostname: string;
  readonly encapType: string;
  readonly encapIp: string;
  readonly otherConfig: StrMap;
  readonly externalIds: StrMap;
}

/** Southbound Port_Binding.chassis, as `ovn-sbctl lsp-bind PORT CHASSIS` sets it. */
export interface PortBinding {
  readonly logicalPort: string;
  readonly chassis: string;
}

/** The whole northbound input to northd (plus the southbound chassis/binding inputs). */
export interface NbDatabase {
  readonly nbGlobal: NbGlobal;
  readonly switches: readonly LogicalSwitch[];
  readonly loadBalancers: readonly NbLoadBalancer[];
  readonly loadBalancerGroups: readonly LoadBalancerGroup[];
  readonly routers: readonly LogicalRouter[];
  readonly portGroups: readonly PortGroup[];
  readonly addressSets: readonly AddressSet[];
  readonly meters: readonly Meter[];
  readonly staticMacBindings: readonly StaticMacBinding[];
  readonly haChassisGroups: readonly HaChassisGroup[];
  readonly chassis: readonly Chassis[];
  readonly portBindings: readonly PortBinding[];
  /** Counter behind the deterministic uuids; bumped for every new row. */
  readonly nextRow: number;
}

/** An empty database, as after `ovn-nbctl init` on a fresh NB DB. */
export function emptyNb(): NbDatabase {
  return {
    nbGlobal: { options: {}, externalIds: {} },
    switches: [],
    loadBalancers: [],
    loadBalancerGroups: [],
    routers: [],
    portGroups: [],
    addressSets: [],
    meters: [],
    staticMacBindings: [],
    haChassisGroups: [],
    chassis: [],
    portBindings: [],
    nextRow: 1,
  };
}

/**
 * A deterministic uuid for the n-th row of a table: real uuids are random, so comparisons with
 * real output ignore them; ours only need to be stable and distinct.
 */
export function rowUuid(table: string, n: number): string {
  let h = 0x811c9dc5;
  for (const ch of `${table}#${n}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const a = h.toString(16).padStart(8, "0");
  const b = (n & 0xffff).toString(16).padStart(4, "0");
  const t = (table.length * 0x111).toString(16).padStart(4, "0").slice(-4);
  return `${a}-${b}-4${t.slice(1)}-8000-${n.toString(16).padStart(12, "0")}`;
}

/** Looks up a switch port by name across all switches. */
export function findPort(
  db: NbDatabase,
  name: string,
): { readonly sw: LogicalSwitch; readonly port: LogicalSwitchPort } | undefined {
  for (const sw of db.switches) {
    for (const port of sw.ports) if (port.name === name) return { sw, port };
  }
  return undefined;
}

/** Looks up a router port by name across all routers. */
export function findRouterPort(
  db: NbDatabase,
  name: string,
): { readonly router: LogicalRouter; readonly port: LogicalRouterPort } | undefined {
  for (const router of db.routers) {
    for (const port of router.ports) if (port.name === name) return { router, port };
  }
  return undefined;
}

/**
 * The resolved scenario: everything the data path needs to know about a cluster, after the
 * manifests were read, defaults filled in and the controllers' decisions (pod placement, IPAM,
 * MetalLB's VIP allocation) made deterministically. Plain readonly data; every other package
 * consumes this, never the YAML.
 */

/** An inclusive IPv4 range as u32 numbers. */
export interface Ip4Range {
  readonly start: number;
  readonly end: number;
}

/** An inclusive IPv6 range as u128 numbers (only while loading; a Scenario holds no bigint). */
export interface Ip6Range {
  readonly start: bigint;
  readonly end: bigint;
}

/** Where an object came from, for messages and findings. */
export interface Source {
  readonly file: string;
  readonly line: number;
}

/** Kube-OVN profile: 1.14 (OVN 24.03 + patches) or 1.15+ (OVN 25.03 + patches). */
export type KubeOvnRelease = "1.14" | "1.15";

/** kube-ovn-controller's flags that shape this data path (pkg/controller/config.go defaults). */
export interface ControllerConfig {
  readonly release: KubeOvnRelease;
  /** e.g. "v1.14.5"; undefined when no Deployment was given or it has no tag. */
  readonly version: string | undefined;
  /** `--enable-ovn-lb-prefer-local`, default false. */
  readonly enableOvnLbPreferLocal: boolean;
  /** `--ls-ct-skip-dst-lport-ips`, default TRUE (it breaks this scenario, as on a real cluster). */
  readonly lsCtSkipDstLportIps: boolean;
  /** `--ls-dnat-mod-dl-dst`, default true. */
  readonly lsDnatModDlDst: boolean;
  /** `--enable-lb`, default true. */
  readonly enableLb: boolean;
  /** Whether the version writes the VIP-node marker (v1.15.20+, v1.16+, master). */
  readonly vipNodeMarkerSupported: boolean;
  /** Set when read from a Deployment manifest. */
  readonly source: Source | undefined;
}

export interface SubnetSpec {
  readonly name: string;
  readonly cidr: string;
  readonly network: number;
  readonly plen: number;
  readonly gateway: string;
  readonly gatewayIp: number;
  /** excludeIps as written (addresses and `a..b` ranges). */
  readonly excludeIps: readonly string[];
  readonly excluded: readonly Ip4Range[];
  /** The IPv6 entries of excludeIps (a dual-stack subnet's pods skip them). */
  readonly excluded6: readonly Ip6Range[];
  /** spec.provider ("ovn" for OVN-managed subnets). */
  readonly provider: string;
  /** spec.vlan: the Vlan object's name; undefined = overlay. */
  readonly vlan: string | undefined;
  readonly namespaces: readonly string[];
  readonly enableExternalLBAddress: boolean;
  readonly natOutgoing: boolean;
  readonly u2oInterconnection: boolean;
  /** status.u2oInterconnectionMAC when known (U2O router-port MAC). */
  readonly u2oInterconnectionMac: string | undefined;
  /** Implicit default subnet (ovn-default) that no manifest described. */
  readonly implicit: boolean;
  readonly source: Source | undefined;
}

export interface VlanSpec {
  readonly name: string;
  readonly id: number;
  /** The ProviderNetwork name; the bridge is `br-<provider>`. */
  readonly provider: string;
  readonly source: Source;
}

export interface ProviderNetworkSpec {
  readonly name: string;
  readonly defaultInterface: string;
  readonly customInterfaces: readonly { readonly interface: string; readonly nodes: readonly string[] }[];
  readonly excludeNodes: readonly string[];
  readonly source: Source;
}

export interface PoolSpec {
  readonly name: string;
  readonly namespace: string;
  readonly addresses: readonly string[];
  readonly ranges: readonly Ip4Range[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly source: Source;
}

export interface L2AdvertisementSpec {
  readonly name: string;
  readonly namespace: string;
  /** Empty = all pools. */
  readonly ipAddressPools: readonly string[];
  /** Empty = every eligible interface of the node. */
  readonly interfaces: readonly string[];
  /** matchLabels of each nodeSelector; empty = all nodes. */
  readonly nodeSelectors: readonly Readonly<Record<string, string>>[];
  readonly source: Source;
}

export type L4Proto = "tcp" | "udp" | "sctp";

export interface ServicePort {
  readonly name: string | undefined;
  readonly port: number;
  readonly protocol: L4Proto;
  readonly targetPort: number;
}

export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly type: string;
  readonly externalTrafficPolicy: "Local" | "Cluster";
  readonly ipFamilies: readonly string[];
  readonly ipFamilyPolicy: string;
  readonly ports: readonly ServicePort[];
  readonly selector: Readonly<Record<string, string>>;
  /** LoadBalancer ingress IPs: status.loadBalancer, else MetalLB's allocation. */
  readonly vips: readonly string[];
  readonly vipSource: "status" | "metallb" | "none";
  /** The pool the VIP belongs to. */
  readonly pool: string | undefined;
  /** Pods selected (endpoints), by `<pod>.<ns>` LSP name, in placement order. */
  readonly endpoints: readonly string[];
  readonly source: Source;
}

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly node: string;
  readonly subnet: string;
  readonly ip: string;
  readonly mac: string;
  /** The OVN logical switch port: `<pod>.<namespace>`. */
  readonly lsp: string;
  /** The Deployment that made it, if any. */
  readonly owner: string | undefined;
  readonly source: Source;
}

export interface NodeSpec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Node InternalIP (chassis encap IP). */
  readonly internalIp: string;
  /** The provider NIC plugged into br-<provider>, e.g. "underlay0". */
  readonly nic: string;
  readonly nicMac: string;
  /** Switch and port the NIC is cabled to. */
  readonly switch: string;
  readonly switchPort: string;
  /** Whether a MetalLB speaker runs here. */
  readonly speaker: boolean;
  readonly source: Source | undefined;
}

/** A switch port of the physical network (OVS-style VLAN config, see @ovnsim/l2). */
export interface SwitchPortSpec {
  readonly name: string;
  readonly vlanMode: "access" | "trunk";
  /** Access VLAN (vlanMode access). */
  readonly tag: number | undefined;
  /** Allowed VLANs (trunk); empty = all. */
  readonly trunks: readonly number[];
  /** What is plugged in: "<device>:<interface>". */
  readonly peer: string;
}

export interface SwitchSpec {
  readonly name: string;
  readonly ports: readonly SwitchPortSpec[];
}

export interface RouterInterfaceSpec {
  readonly name: string;
  readonly ip: string;
  readonly plen: number;
  readonly mac: string;
  /** VLAN the interface sits on (its switch port is an access port of this VLAN). */
  readonly vlan: number;
  /** Its IPv6 address and prefix length on a dual-stack network. */
  readonly ip6?: string;
  readonly plen6?: number;
}

export interface RouterSpec {
  readonly name: string;
  readonly interfaces: readonly RouterInterfaceSpec[];
}

export interface ClientSpec {
  readonly name: string;
  readonly ip: string;
  readonly plen: number;
  readonly mac: string;
  readonly gateway: string;
  readonly vlan: number;
  /** Its IPv6 address, prefix length and IPv6 default gateway on a dual-stack network. */
  readonly ip6?: string;
  readonly plen6?: number;
  readonly gateway6?: string;
}

/** What the physical network looks like (from `kind: Scenario`, or the defaults). */
export interface PhysicalSpec {
  readonly switches: readonly SwitchSpec[];
  readonly routers: readonly RouterSpec[];
  readonly clients: readonly ClientSpec[];
  /** The interface MetalLB answers ARP on, per the seed doc a VLAN sub-interface ("underlay0.341"). */
  readonly metallbInterface: string;
  /** VLAN that interface carries (0 = untagged). */
  readonly metallbInterfaceVlan: number;
  /** MetalLB version (the seed installs v0.13.7, which has no ServiceL2Status). */
  readonly metallbVersion: string;
}

/** Everything, resolved. */
export interface Scenario {
  readonly name: string;
  readonly controller: ControllerConfig;
  readonly subnets: readonly SubnetSpec[];
  readonly vlans: readonly VlanSpec[];
  readonly providerNetworks: readonly ProviderNetworkSpec[];
  readonly pools: readonly PoolSpec[];
  readonly l2Advertisements: readonly L2AdvertisementSpec[];
  readonly services: readonly ServiceSpec[];
  readonly pods: readonly PodSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly physical: PhysicalSpec;
  /** Files the scenario was read from. */
  readonly files: readonly string[];
  /** The cluster topology's inputs (absent on scenarios built by hand). */
  readonly cluster?: ClusterSpec;
}

// ---------------------------------------------------------------------------------------------
// The cluster around the seed (kube-ovn-internals.md §10): what kube-ovn-controller builds for
// every Subnet, Node, Service and NetworkPolicy, read from the manifests and controller flags.

/** Subnet fields only the cluster topology reads (the seed path does not). */
export interface SubnetClusterSpec {
  readonly name: string;
  /** spec.logicalGateway: an underlay subnet keeps its ovn-cluster router port. */
  readonly logicalGateway: boolean;
  /** spec.gatewayType: "distributed" (default) or "centralized". */
  readonly gatewayType: "distributed" | "centralized";
  /** spec.gatewayNode, split (centralized gateways). */
  readonly gatewayNodes: readonly string[];
  /** Centralized: spec.enableEcmp (or --enable-ecmp): every gateway node is a next hop. */
  readonly enableEcmp: boolean;
  /** Centralized without ECMP: the one gateway node in use (status.activateGateway, else the first). */
  readonly activateGateway: string | undefined;
  readonly private: boolean;
  readonly allowSubnets: readonly string[];
  /** spec.acls verbatim. */
  readonly acls: readonly {
    readonly direction: "from-lport" | "to-lport";
    readonly priority: number;
    readonly match: string;
    readonly action: string;
  }[];
  /** The IPv6 part of a dual-stack cidrBlock, normalised ("fd00:10:16::/64"). */
  readonly cidr6: string | undefined;
  readonly gateway6: string | undefined;
  /** The router port's address when U2O is on (spec.u2oInterconnectionIP, else IPAM's pick). */
  readonly u2oInterconnectionIp: string | undefined;
  readonly source: Source | undefined;
}

/** A NetworkPolicy peer (`from` / `to` entry). */
export interface PolicyPeerSpec {
  readonly podSelector: Readonly<Record<string, string>> | undefined;
  readonly namespaceSelector: Readonly<Record<string, string>> | undefined;
  readonly ipBlock: { readonly cidr: string; readonly except: readonly string[] } | undefined;
}

export interface PolicyPortSpec {
  readonly protocol: L4Proto;
  /** undefined = every port of the protocol. */
  readonly port: number | undefined;
  readonly endPort: number | undefined;
}

export interface PolicyRuleSpec {
  /** Empty = every source (ingress) / destination (egress). */
  readonly peers: readonly PolicyPeerSpec[];
  readonly ports: readonly PolicyPortSpec[];
}

export interface NetworkPolicySpec {
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: Readonly<Record<string, string>>;
  readonly policyTypes: readonly ("Ingress" | "Egress")[];
  readonly ingress: readonly PolicyRuleSpec[];
  readonly egress: readonly PolicyRuleSpec[];
  readonly source: Source;
}

export interface ServiceClusterSpec {
  readonly namespace: string;
  readonly name: string;
  /** spec.clusterIPs (or the deterministic allocation), IPv4 first; empty for headless. */
  readonly clusterIps: readonly string[];
  readonly sessionAffinity: boolean;
}

export interface NodeClusterSpec {
  readonly name: string;
  /** The node's ovn0 address on the join switch (IPAM of --node-switch-cidr). */
  readonly joinIp: string;
  readonly joinIp6: string | undefined;
  readonly joinMac: string;
}

/** Everything the cluster topology needs beyond the seed's scenario. */
export interface ClusterSpec {
  /** --default-cidr (ovn-default), --node-switch-cidr (join), --service-cluster-ip-range. */
  readonly defaultCidr: string;
  readonly joinCidr: string;
  readonly joinCidr6: string | undefined;
  readonly serviceCidrs: readonly string[];
  readonly subnets: readonly SubnetClusterSpec[];
  readonly services: readonly ServiceClusterSpec[];
  readonly nodes: readonly NodeClusterSpec[];
  readonly networkPolicies: readonly NetworkPolicySpec[];
  /** Pod LSP → IPv6 address, for pods of dual-stack subnets. */
  readonly podIp6: Readonly<Record<string, string>>;
}

// @ovnsim/physical: the network outside OVS (hosts, VLAN switches, a gateway router, cables)
// and MetalLB's L2 announcement on it.
export {
  parseIp,
  parseIfaceCidr,
  parsePoolEntry,
  goIpString,
  formatIp,
  inPrefix,
  sameIp,
  rangeContains,
} from "./addr.js";
export type { IpAddr, IfaceAddr, AddressRange } from "./addr.js";
export { NormalBridge } from "./bridge.js";
export type { AttachedBridge, BridgeAnswer, BridgeOutput, BridgeResult, NormalBridgePort } from "./bridge.js";
export { describeFrame } from "./describe.js";
export {
  arpFrame,
  nsFrame,
  naFrame,
  ipFrame,
  solicitedNode,
  multicastMac6,
  isNs,
  isNa,
  toPacket,
  fromPacket,
  BROADCAST,
  ARP_OP,
  ICMP6,
  NA_FLAG,
  ALL_NODES6,
} from "./frames.js";
export { compileTopology, linkLocalOf } from "./topology.js";
export type {
  TopologySpec,
  HostSpec,
  NicSpec,
  RouteSpec,
  SwitchSpec,
  SwitchPortSpec,
  LinkSpec,
  HostBridgeSpec,
  Topology,
  Host,
  Nic,
  Switch,
  Route,
} from "./topology.js";
export { PhysicalNetwork, formatTrace } from "./network.js";
export type {
  Trace,
  TraceEvent,
  TraceKind,
  Delivery,
  BridgeExit,
  NeighEntry,
  TapApi,
  FrameTap,
  SendOptions,
} from "./network.js";
export {
  MetalLB,
  electAnnouncer,
  assignVips,
  parseMetalLB,
  responderInterfaces,
  selectorMatches,
  adNodes,
  endpointCanServe,
  l2Hash,
  serviceKey,
  DEFAULT_EXCLUDE_INTERFACES,
  EXCLUDE_LB_LABEL,
  GARP_INTERVAL,
  GARP_DURATION,
} from "./metallb.js";
export type {
  MetalLBSpec,
  IPAddressPool,
  L2Advertisement,
  K8sNode,
  Endpoint,
  LBService,
  LabelSelector,
  ParsedPool,
  Assignment,
  Election,
  Candidate,
  Responders,
  L2Status,
} from "./metallb.js";
export { seedScenario } from "./scenario.js";
export type { SeedOptions, SeedScenario, MetalLBProfile } from "./scenario.js";

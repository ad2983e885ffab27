// @ovnsim/kube: Kubernetes / Kube-OVN / MetalLB manifests → a resolved scenario, what Kube-OVN
// and MetalLB derive from it (NB state, OVS bridges and flows, the announcing node), and the
// doctor's findings.
export type {
  ClientSpec,
  ControllerConfig,
  Ip4Range,
  Ip6Range,
  KubeOvnRelease,
  L2AdvertisementSpec,
  L4Proto,
  NodeSpec,
  PhysicalSpec,
  PodSpec,
  PoolSpec,
  ProviderNetworkSpec,
  RouterInterfaceSpec,
  RouterSpec,
  Scenario,
  ServicePort,
  ServiceSpec,
  Source,
  SubnetSpec,
  SwitchPortSpec,
  SwitchSpec,
  VlanSpec,
} from "./types.js";
export { parseManifests, isRecord } from "./yaml.js";
export type { KubeObject, ManifestText } from "./yaml.js";
export {
  buildScenario,
  controllerFromArgs,
  versionFromImage,
  nodeMac,
  DEFAULT_CONTROLLER,
  DEFAULT_CLIENT_IP,
  SCENARIO_API_VERSION,
  LOGICAL_SWITCH_ANNOTATION,
  IP_ADDRESS_ANNOTATION,
  MAC_ADDRESS_ANNOTATION,
} from "./scenario.js";
export { parseExcludeIp, parseExcludeIp6, parsePoolAddress, inRanges, formatRange } from "./ipv4.js";
export {
  deriveNbctl,
  deriveNodeDataplane,
  electAnnouncer,
  endpointsOf,
  subnetOfIp,
  underlayOf,
  ovnKeys,
  lbNameFor,
  metallbHasL2Status,
  bridgeFlowsScript,
  localnetPortName,
  providerPatchPort,
  brIntPatchPort,
  bridgeName,
  podVethName,
  MASQUERADE_EXTERNAL_LB_ACCESS_MAC,
  UNDERLAY_SVC_LOCAL_COOKIE_V4,
  UNDERLAY_SVC_LOCAL_COOKIE_V6,
  subnetOfAddr,
  podAddr,
  vipKey,
  UNDERLAY_SVC_LOCAL_PRIORITY,
  CLUSTER_TCP_LB,
  CLUSTER_UDP_LB,
  CLUSTER_SCTP_LB,
  LOCAL_EXTERNAL_VIP_PREFIX,
} from "./derive.js";
export type { Announcement, BridgePortSpec, BridgeSpec, NodeDataplane, OvnKeys } from "./derive.js";
export { diagnose, FINDING_CODES } from "./doctor.js";
export type { Finding, FindingCode, Severity } from "./doctor.js";
export {
  loadScenario,
  scenarioFromTexts,
  scenarioFromYaml,
  readManifestPaths,
  seedScenarioDir,
  seedManifests,
  SEED_LABEL,
} from "./load.js";
export type {
  ClusterSpec,
  NetworkPolicySpec,
  NodeClusterSpec,
  PolicyPeerSpec,
  PolicyPortSpec,
  PolicyRuleSpec,
  ServiceClusterSpec,
  SubnetClusterSpec,
} from "./types.js";
export {
  buildCluster,
  clusterFlags,
  parseCidr6,
  macOf,
  DEFAULT_CIDR,
  DEFAULT_JOIN_CIDR,
  DEFAULT_SERVICE_CIDR,
} from "./cluster.js";
export type { ClusterFlags } from "./cluster.js";
export {
  deriveClusterNbctl,
  clusterSubnets,
  routedSubnet,
  routerPortIp,
  routerPortName,
  switchRouterPort,
  nodePortName,
  policyPg,
  policyPods,
  subnetNodePg,
  dots,
  CLUSTER_ROUTER,
  JOIN,
  PRIORITY,
} from "./cluster-nb.js";
export type { ClusterNb, Owner } from "./cluster-nb.js";
export { diagnoseCluster, CLUSTER_FINDING_CODES } from "./doctor-cluster.js";
export type { ClusterFindingCode } from "./doctor-cluster.js";

// @ovnsim/lb: the OVN Load_Balancer model, VIP text parsing, deterministic backend selection
// (OVS select-group hash, dp_hash stand-in, --lb-dst override), Kube-OVN prefer-local grouping,
// and the DNAT stage on top of @ovnsim/conntrack.
export { parseLbEndpoint, isValidLbEndpoint, formatLbEndpoint } from "./vip.js";
export type { IpFamily, LbEndpoint } from "./vip.js";
export {
  SELECTION_FIELDS,
  LOCAL_EXTERNAL_VIP_PREFIX,
  parseLoadBalancer,
  makeLoadBalancer,
  parseIpPortMappings,
  parseIpPortMapping,
  preferLocalBackend,
  rejectWithoutBackends,
  skipSnat,
  affinityTimeout,
  hairpinSnatIps,
  neighborResponder,
  findVip,
  vipNodeLsp,
  ovsSelectionFields,
} from "./model.js";
export type {
  StrMap,
  LbProtocol,
  SelectionField,
  LbBackend,
  LbVip,
  IpPortMapping,
  LoadBalancer,
  RawLoadBalancer,
  LoadBalancerSpec,
} from "./model.js";
export {
  hashAdd,
  hashAdd64,
  hashFinish,
  hashInt,
  hashUint64,
  hashBytes,
  hashBoolean,
  flowHash5Tuple,
  dpHashL4,
  jhashBytes,
  flowHashSymmetricL4,
  flowHashSymmetricL3L4,
} from "./ovs-hash.js";
export type { FiveTuple, SymmetricL4Input } from "./ovs-hash.js";
export {
  HASH_FIELD_NAMES,
  canonicalHashField,
  compileHashFields,
  parseHashFields,
  hashFieldsBasis,
  scoreBuckets,
  dpHashTable,
  pickDpHashBucket,
  selectBucket,
} from "./select.js";
export type {
  SelectBucket,
  SelectGroup,
  BucketChoice,
  HashFieldSpec,
  HashFields,
  BucketScore,
  DpHashTable,
} from "./select.js";
export {
  groupBackendsByChassis,
  groupByChassis,
  chassisOfPort,
  preferLocalBackendText,
  preferLocalPlan,
  backendsOnChassis,
} from "./local.js";
export type {
  PortChassisMap,
  ChassisGroup,
  ChassisBackends,
  BackendGrouping,
  PreferLocalForm,
  PreferLocalPlan,
  LocalChoice,
} from "./local.js";
export { CT_MARK_NATTED, emptyLbState, matchVip, lbDnat, lbReply, ctLbMark } from "./stage.js";
export type {
  AffinityEntry,
  LbState,
  LbDnatOptions,
  LbReason,
  LbDnatResult,
  LbReplyResult,
  CtLbMarkOptions,
} from "./stage.js";

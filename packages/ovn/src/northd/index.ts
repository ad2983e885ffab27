// northd half of @ovnsim/ovn: the northbound model, the ovn-nbctl reader and the northd
// compiler per release profile.
export type {
  Acl,
  AclDirection,
  AclVerdict,
  AddressSet,
  Chassis,
  GatewayChassis,
  HaChassisGroup,
  Meter,
  Nat,
  PortGroup,
  RouterPolicy,
  StaticMacBinding,
  StaticRoute,
  LogicalRouter,
  LogicalRouterPort,
  LogicalSwitch,
  LogicalSwitchPort,
  NbDatabase,
  NbGlobal,
  NbLoadBalancer,
  PortBinding,
  StrMap,
} from "../nb/model.js";
export { emptyNb, findPort, findRouterPort, rowUuid } from "../nb/model.js";
export { parseNbctl, parseNbctlLine, applyNbctl } from "../nb/nbctl.js";
export type { NbctlCommand, LineRefs } from "../nb/nbctl.js";
export { NbBuilder } from "../nb/builder.js";
export { shellWords } from "../nb/shell.js";
export { PROFILES, PROFILE_NAMES, getProfile, stageOf } from "./profiles.js";
export type { Profile, ProfileName, StageDef } from "./profiles.js";
export type { ChassisFeatures } from "./switch.js";
export {
  northd,
  chassisFeatures,
  compareFlows,
  formatLflowList,
  parseLflowList,
  datapathUuid,
} from "./compile.js";
export type { NorthdOptions, NorthdResult } from "./compile.js";
export { compareLflows, flowKey } from "./compare.js";
export type { FlowComparison } from "./compare.js";
export { validateNb } from "./validate.js";

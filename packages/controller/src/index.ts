// @ovnsim/controller: ovn-controller 23.03 offline (with 24.03's and 25.03's table layouts) — a
// chassis's br-int OpenFlow computed from a southbound capture and the node's Open vSwitch
// configuration.
export { ovnController, formatDumpFlows } from "./controller.js";
export type { ControllerInput, ControllerOutput, Skipped } from "./controller.js";
export { readNodeBundle, readSbExtras, parseExternalIds, uuidCookie } from "./inputs.js";
export type {
  NodeConfig,
  NodeInterface,
  NodeBridge,
  SbChassis,
  SbPortRow,
  SbExtras,
  SbLoadBalancer,
  SbNeighbor,
  SbMeter,
} from "./inputs.js";
export { toDnf, toConj, termWords, dedupTerms } from "./match.js";
export type { Term, FieldMatch, MatchEnv, CTerm } from "./match.js";
export { encodeActions } from "./actions.js";
export type { ActionEnv, MeterConfig } from "./actions.js";
export { OFTABLE, OFTABLE_LAYOUTS, OVN_RELEASES, tableLayout, pipelineRoom } from "./tables.js";
export type { TableLayout, OvnRelease } from "./tables.js";
export { compareDumps, flowLines } from "./compare.js";
export type { Agreement, TableAgreement } from "./compare.js";
export { hashInt, uuidHash } from "./hash.js";

// @ovnsim/l2: one implementation of MAC learning and VLAN rules, OVS NORMAL semantics
// (ofproto-dpif-xlate.c xlate_normal, lib/mac-learning.c), shared by OVS bridges and the
// physical switches.
export {
  VLAN_MODES,
  resolvePort,
  inputVlan,
  portCarriesVlan,
  outputVlans,
  outputTag,
  trunksVlan,
} from "./vlan.js";
export type { VlanMode, L2PortConfig, ResolvedPort, InputVlan } from "./vlan.js";
export { MacTable, MAC_ENTRY_DEFAULT_IDLE_TIME, MAC_DEFAULT_MAX, isMulticastMac } from "./mac-table.js";
export type { MacEntry, MacTableOptions } from "./mac-table.js";
export {
  normalDecide,
  normalForFlow,
  compilePorts,
  isReservedMac,
  formatNote,
  formatNotes,
} from "./normal.js";
export type { NormalDecision, NormalOutput, NormalOptions, TraceNote, L2Ports } from "./normal.js";

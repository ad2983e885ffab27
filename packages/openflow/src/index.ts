// @ovnsim/openflow: OVS bridges (ports, patch ports, 255 classifier-backed tables, groups),
// the ovs-ofctl flow/action/group syntax, and an offline `ofproto/trace` (xlate) whose text is
// identical to OVS 3.1's, with the trace also available as a structured tree / JSON.
export { parseActions, formatAction, formatActions, splitTopLevel } from "./actions.js";
export { executeActionSet } from "./actionset.js";
export { OfTable, verifyConjunctions } from "./conjunction.js";
export type { OfAction, NatSpec, ParseContext } from "./actions.js";
export { parseSubfield, formatSubfield } from "./fieldio.js";
export type { Subfield } from "./fieldio.js";
export {
  Bridge,
  Switch,
  OFPP_LOCAL,
  N_TABLES,
  parseFlowLine,
  parseFlows,
  formatFlowEntry,
  parseGroupLine,
  parseGroups,
} from "./model.js";
export type { OfPort, FlowEntry, Group, Bucket, ParseFlowLineOptions } from "./model.js";
export {
  parseVsctlShow,
  parseVsctlListInterface,
  parseVsctlListPort,
  parseOvsdbRecords,
  PORTS_FILE,
  parseOvsdbMap,
  INTERFACES_FILE,
  parseOfctlShow,
  parseDpifShow,
  parseFdbShow,
  buildSwitch,
  loadBundle,
  switchFromFlows,
} from "./bundle.js";
export type {
  VsctlBridge,
  VsctlPort,
  VsctlInterface,
  VsctlPortRecord,
  OfctlPort,
  BundleFiles,
  DpifPort,
} from "./bundle.js";
export { traceFlow, parseCtState } from "./xlate.js";
export { TUNNEL_TYPES, tunnelConfig, formatTunnelKey } from "./tunnel.js";
export type { TunnelConfig } from "./tunnel.js";
export { parseMeterSpec, parseMeters, formatMeter, formatMeterId } from "./meter.js";
export type { Meter, MeterBand } from "./meter.js";
export { parseTlvMap, parseTlvMapSpec, parseTlvMapDump } from "./tlv.js";
export type { TlvMap, TlvMapping } from "./tlv.js";
export {
  ofTruncatedName,
  quotePortName,
  unquotePortName,
  printablePortNames,
  tracePortNames,
  tracePortNumbers,
  parsablePortNames,
  formatPortNamed,
  formatActionNamed,
} from "./portnames.js";
export type { TraceOptions } from "./xlate.js";
export { renderTrace, renderNodes, traceToJson } from "./trace.js";
export type { TraceNode, TraceNodeType, TracePass, TraceResult, RecircHeader } from "./trace.js";

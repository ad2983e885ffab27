// @ovnsim/packet: the flow key every layer passes on (OVS struct flow), its word layout for
// the classifier, the meta-flow field table, addresses, the one error class; the OVS text forms
// of flows and matches (ofproto/trace, ovs-ofctl); frame builders, the wire format, pcap and pcapng.
export { SimError, isSimError, SIM_ERROR_CODES } from "./errors.js";
export type { SimErrorCode, SimErrorLocation } from "./errors.js";
export { lazyProperty } from "./lazy.js";
export {
  CS,
  FRAG,
  ETH_TYPE,
  IP_PROTO,
  TCP_FLAG,
  OFPP,
  N_REGS,
  EMPTY_FLOW,
  makeFlow,
  withFlow,
  withReg,
  isIp4,
  isIp6,
  isArp,
  isIpAny,
} from "./flow.js";
export type { Flow, VlanHeader, CtStateFlag } from "./flow.js";
export {
  EMPTY_TUNNEL,
  makeTunnel,
  tunnelDstSet,
  TUN_FLAG,
  TUN_FLAG_NAMES,
  TUN_FLAGS_MASK,
  TUN_FLAGS_PUBLIC,
  N_TUN_METADATA,
} from "./tunnel.js";
export type { FlowTunnel } from "./tunnel.js";
export { W, FLOW_WORDS, STAGE_ENDS, VLAN_CFI, newKey, flowToKey, keyToFlow } from "./key.js";
export { FIELDS, findField, fieldWords, tunMetadataIndex } from "./fields.js";
export type { FieldSpec, Prereq, FieldFormat } from "./fields.js";
export {
  parseMac,
  formatMac,
  macHi,
  macLo,
  macFromWords,
  parseIp4,
  parseIp4Scan,
  formatIp4,
  parseIp6,
  formatIp6,
  parseCidr4,
  plenToMask4,
  maskToPlen4,
  plenToMask6,
  maskToPlen6,
  inCidr4,
} from "./addr.js";
export {
  CATCHALL_MATCH,
  STORED_FIELDS,
  PROTOCOLS,
  CT_STATE_NAMES,
  TCP_FLAG_NAMES,
  CT_TUPLE_FIELDS,
  formatCtState,
  formatTcpFlags,
  applyParsedField,
  parseMatch,
  formatMatch,
  formatMatchWords,
  matchToWords,
  wordsToMatch,
  makeMatch,
  keyMatches,
  setFieldMasked,
  getFieldValue,
  fieldWordMask,
  fieldValueMask,
  parseFieldValue,
  parsePort,
  formatPort,
  splitKeyValues,
} from "./match.js";
export type {
  FieldMatch,
  Match,
  MatchWords,
  FormatMatchOptions,
  ParseMatchOptions,
  ParsedValue,
  KeyValue,
} from "./match.js";
export { parseFlow, formatFlow, flowPrintMask, packetMask, exactMatch } from "./syntax.js";
export type { ParseFlowOptions } from "./syntax.js";
export {
  makePacket,
  encodeFrame,
  decodeFrame,
  frameChecksumsOk,
  internetChecksum,
  crc32c,
} from "./wire.js";
export type { Packet, DecodeOptions } from "./wire.js";
export {
  parseEndpoint,
  tcpFlags,
  tcpPacket,
  tcpSyn,
  udpPacket,
  sctpPacket,
  icmpPacket,
  arpRequest,
  arpReply,
  ndSolicit,
  ndAdvert,
} from "./build.js";
export type {
  MacText,
  FrameOptions,
  Endpoint,
  L4Options,
  TcpOptions,
  IcmpOptions,
  ArpOptions,
  NdOptions,
} from "./build.js";
export { writePcap, readPcap, LINKTYPE_ETHERNET } from "./pcap.js";
export type { PcapRecord, PcapFile } from "./pcap.js";
export { writePcapng, readPcapng, isPcapng } from "./pcapng.js";
export type {
  PcapngCapture,
  PcapngInterface,
  PcapngPacket,
  PcapngDirection,
  PcapngSection,
  PcapngReadInterface,
  PcapngReadPacket,
} from "./pcapng.js";

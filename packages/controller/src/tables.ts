/**
 * br-int's OpenFlow table numbers in OVN 23.03 (upstream `controller/lflow.h` OFTABLE_*),
 * verified against the real ovn-controller 23.03.1: the logical ingress pipeline starts at 8,
 * the egress pipeline at 42, and the output / loopback stages sit between them (37–41).
 * Newer releases move them (24.03: egress 42 as well but output stages renumbered; 25.03:
 * egress 45), so a profile for those needs its own table.
 */
export const OFTABLE = {
  PHY_TO_LOG: 0,
  LOG_INGRESS_PIPELINE: 8,
  OUTPUT_LARGE_PKT_DETECT: 37,
  OUTPUT_LARGE_PKT_PROCESS: 38,
  REMOTE_OUTPUT: 39,
  LOCAL_OUTPUT: 40,
  CHECK_LOOPBACK: 41,
  LOG_EGRESS_PIPELINE: 42,
  SAVE_INPORT: 64,
  LOG_TO_PHY: 65,
  MAC_BINDING: 66,
  MAC_LOOKUP: 67,
  CHK_LB_HAIRPIN: 68,
  CHK_LB_HAIRPIN_REPLY: 69,
  CT_SNAT_HAIRPIN: 70,
  GET_FDB: 71,
  LOOKUP_FDB: 72,
  CHK_IN_PORT_SEC: 73,
  CHK_IN_PORT_SEC_ND: 74,
  CHK_OUT_PORT_SEC: 75,
} as const;

// The match API other layers build on: words, exact matches, matching a key.
import { describe, expect, it } from "vitest";
import {
  CATCHALL_MATCH,
  exactMatch,
  flowToKey,
  formatCtState,
  formatMatch,
  formatTcpFlags,
  keyMatches,
  makeMatch,
  matchToWords,
  parseFlow,
  parseMatch,
  readPcap,
  tcpSyn,
  wordsToMatch,
} from "../src/index.js";

describe("match words", () => {
  const syn = tcpSyn({ src: "192.0.2.10:40000", dst: "10.180.204.252:80", vlan: 341, inPort: 1 }).flow;

  it("a match and its words convert both ways", () => {
    const m = parseMatch("tcp,in_port=1,dl_vlan=341,nw_dst=10.180.204.0/24,tp_dst=0x40/0xffc0,ct_state=-trk");
    const w = matchToWords(m);
    expect(wordsToMatch(w.value, w.mask, w.eth)).toEqual(m);
  });

  it("keyMatches: the SYN matches its rule and not another", () => {
    const key = flowToKey(syn);
    expect(
      keyMatches(
        matchToWords(parseMatch("tcp,in_port=1,dl_vlan=341,nw_dst=10.180.204.0/24,tp_dst=0x40/0xffc0")),
        key,
      ),
    ).toBe(true);
    expect(keyMatches(matchToWords(parseMatch("tcp,tp_dst=443")), key)).toBe(false);
    expect(keyMatches(matchToWords(parseMatch("vlan_tci=0x0000")), key)).toBe(false);
    expect(keyMatches(matchToWords(CATCHALL_MATCH), key)).toBe(true);
  });

  it("exactMatch is match_wc_init: every field that makes sense for the packet", () => {
    expect(formatMatch(exactMatch(parseFlow("in_port=1,udp,nw_src=10.0.0.1,udp_dst=53")))).toBe(
      // Unlike flow_format, match_wc_init keeps the all-zero metadata, so match_format prints it.
      "pkt_mark=0,recirc_id=0,dp_hash=0,skb_priority=0,ct_state=0,ct_zone=0,ct_mark=0,ct_label=0,ct_nw_src=0.0.0.0,ct_nw_dst=0.0.0.0,ct_nw_proto=0,ct_tp_src=0,ct_tp_dst=0,eth,udp,reg0=0,reg1=0,reg2=0,reg3=0,reg4=0,reg5=0,reg6=0,reg7=0,reg8=0,reg9=0,reg10=0,reg11=0,reg12=0,reg13=0,reg14=0,reg15=0,metadata=0,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=10.0.0.1,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=53",
    );
    expect(keyMatches(matchToWords(exactMatch(syn)), flowToKey(syn))).toBe(true);
  });

  it("makeMatch takes names, values and masks", () => {
    const m = makeMatch([
      { field: "dl_type", value: 0x0800 },
      { field: "nw_dst", value: 0x0ab4cc00, mask: 0xffffff00 },
      { field: "reg0", value: 4, mask: 4 },
      { field: "metadata", value: 1n },
    ]);
    expect(formatMatch(m)).toBe("ip,reg0=0x4/0x4,metadata=0x1,nw_dst=10.180.204.0/24");
    expect(() => makeMatch([{ field: "bogus", value: 1 }])).toThrowError(/bogus/);
  });

  it("flag printers", () => {
    expect(formatCtState(0x21)).toBe("new|trk");
    expect(formatCtState(0)).toBe("0");
    expect(formatTcpFlags(0x12)).toBe("syn|ack");
  });

  it("readPcap refuses what is not a pcap", () => {
    expect(() => readPcap(new Uint8Array(10))).toThrowError(/pcap/);
    expect(() => readPcap(new Uint8Array(24))).toThrowError(/magic/);
  });
});

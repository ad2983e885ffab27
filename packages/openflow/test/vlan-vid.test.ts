// vlan_vid (OXM, 13 bits with OFPVID_PRESENT) versus dl_vlan (OF1.0, 12 bits): expectations
// recorded from real OVS 3.1 (ovs-ofctl -O OpenFlow15 add-flow/dump-flows, ofproto/trace).
import { parseFlow } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  formatActions,
  formatFlowEntry,
  parseActions,
  parseFlowLine,
  renderTrace,
  switchFromFlows,
  traceFlow,
} from "../src/index.js";

describe("vlan_vid", () => {
  it("set_field prints as OVS does and refuses a VID without OFPVID_PRESENT", () => {
    expect(formatActions(parseActions("set_field:4437->vlan_vid,output:2"))).toBe(
      "set_field:4437->vlan_vid,output:2",
    );
    expect(formatActions(parseActions("set_field:0x1155->vlan_vid"))).toBe("set_field:4437->vlan_vid");
    expect(formatActions(parseActions("set_field:0x1001/0x1fff->vlan_vid,output:2"))).toBe(
      "set_field:4097/0x1fff->vlan_vid,output:2",
    );
    // ovs-vswitchd: "Invalid value for set field vlan_vid: 341" (OFPBAC_BAD_SET_ARGUMENT).
    expect(() => parseActions("set_field:341->vlan_vid")).toThrow(/present bit/);
  });
  it("matches print in OVS's vlan_tci forms", () => {
    const cases: [string, string][] = [
      ["vlan_vid=0x1000/0x1000", "vlan_tci=0x1000/0x1000"],
      ["vlan_vid=0x1000", "dl_vlan=0"],
      ["vlan_vid=4100/0x1fff", "dl_vlan=4"],
      ["vlan_vid=0x1004/0xfff", "vlan_tci=0x0004/0x0fff"],
      ["vlan_vid=5", "vlan_tci=0x0005/0x1fff"],
      ["vlan_vid=4101/4101", "vlan_tci=0x1005/0x1005"],
    ];
    for (const [m, printed] of cases) {
      expect(formatFlowEntry(parseFlowLine(`priority=17,in_port=1,${m},actions=output:2`))).toContain(
        `priority=17,in_port=1,${printed} actions=output:2`,
      );
    }
  });
  it("ofproto/trace: set_field:4437->vlan_vid rewrites the VID, keeps the PCP", () => {
    const sw = switchFromFlows(
      "br0",
      "in_port=1,vlan_vid=0x1000/0x1000,actions=set_field:4437->vlan_vid,output:2\nin_port=1,vlan_vid=0,actions=output:2",
      undefined,
      [1, 2],
    );
    const out = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1,dl_vlan=3,dl_vlan_pcp=2")));
    expect(out).toContain(
      "Final flow: in_port=1,dl_vlan=341,dl_vlan_pcp=2,vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000",
    );
    expect(out).toContain("Megaflow: recirc_id=0,eth,in_port=1,dl_vlan=3,dl_vlan_pcp=2,dl_type=0x0000");
    expect(out).toContain("Datapath actions: pop_vlan,push_vlan(vid=341,pcp=2),2");
    const untagged = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1")));
    expect(untagged).toContain("Datapath actions: 2");
  });
});

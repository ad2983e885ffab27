// The MPLS fields and actions as ovs-ofctl 3.1 parses and prints them; expectations recorded from
// real OVS 3.1 (ovs-ofctl -O OpenFlow15 add-flow / --no-stats dump-flows, ofproto/trace).
// Executing the MPLS actions is not modelled yet: a trace reaching one says so and stops.
import { formatFlow, parseFlow } from "@ovnsim/packet";
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

describe("MPLS fields and actions", () => {
  it("flows round-trip as dump-flows prints them", () => {
    const cases: [string, string][] = [
      [
        "mpls,in_port=1,dl_src=00:00:00:00:00:01,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1,actions=set_field:7->mpls_label,set_mpls_tc:2,set_mpls_ttl:9,dec_mpls_ttl,pop_mpls:0x0800,output:2",
        "mpls,in_port=1,dl_src=00:00:00:00:00:01,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1 actions=set_field:7->mpls_label,set_field:2->mpls_tc,set_mpls_ttl(9),dec_mpls_ttl,pop_mpls:0x0800,output:2",
      ],
      [
        "priority=10,dl_type=0x8848,mpls_ttl=4,actions=push_mpls:0x8847,set_field:3->mpls_tc,load:5->OXM_OF_MPLS_LABEL[],output:2",
        // As `-O OpenFlow13 dump-flows` prints a load of a field that is not whole bytes.
        "priority=10,mplsm,mpls_ttl=4 actions=push_mpls:0x8847,set_field:3->mpls_tc,load:0x5->OXM_OF_MPLS_LABEL[],output:2",
      ],
      [
        "priority=11,ip,actions=push_mpls:0x8848,move:NXM_NX_REG0[0..19]->OXM_OF_MPLS_LABEL[],output:2",
        "priority=11,ip actions=push_mpls:0x8848,move:NXM_NX_REG0[0..19]->OXM_OF_MPLS_LABEL[],output:2",
      ],
      ["priority=12,mpls,mpls_label=0x10,actions=drop", "priority=12,mpls,mpls_label=16 actions=drop"],
      ["priority=13,mpls,mpls_label=1048576,actions=drop", "priority=13,mpls,mpls_label=0 actions=drop"],
      ["priority=13,mpls,mpls_tc=8,actions=drop", "priority=13,mpls,mpls_tc=0 actions=drop"],
      [
        "mpls,actions=pop_mpls:2048,set_mpls_label:0x10",
        "mpls actions=pop_mpls:0x0800,set_field:16->mpls_label",
      ],
      ["mpls,actions=set_mpls_ttl:0x10", "mpls actions=set_mpls_ttl(16)"],
    ];
    for (const [line, printed] of cases) expect(formatFlowEntry(parseFlowLine(line))).toContain(printed);
  });
  it("refuses what ovs-ofctl refuses", () => {
    for (const bad of [
      "push_mpls:0x0800",
      "set_mpls_label:1048576",
      "set_mpls_tc:9",
      "set_mpls_ttl:256",
      "set_field:1048576->mpls_label",
      "set_field:9->mpls_tc",
      "set_field:5/3->mpls_tc",
      "set_field:5/0xff->mpls_label",
      "set_field:1->mpls_bos",
    ]) {
      expect(() => parseActions(bad), bad).toThrow();
    }
    expect(() => parseFlowLine("mpls,mpls_label=0x10/0xff,actions=drop")).toThrow();
    expect(formatActions(parseActions("dec_mpls_ttl"))).toBe("dec_mpls_ttl");
  });
  it("reads the whole-field set_field that -O OpenFlow15 dump-flows prints for a load (on purpose)", () => {
    // Real OVS 3.1: `load:5->OXM_OF_MPLS_LABEL[]` dumps as `set_field:5/0xfffff->mpls_label`, which
    // ovs-ofctl itself then refuses ("invalid mask"). ovnsim reads dumps, so the all-ones mask loads.
    for (const [a, field, value] of [
      ["set_field:5/0xfffff->mpls_label", "mpls_label", 5n],
      ["set_field:1/0x7->mpls_tc", "mpls_tc", 1n],
    ] as const) {
      const [act] = parseActions(a);
      expect(act).toMatchObject({ kind: "set_field", value });
      expect(act?.kind === "set_field" && act.field.name).toBe(field);
    }
  });
  it("prints an MPLS packet's Flow: line as ofproto/trace does", () => {
    expect(
      formatFlow(
        parseFlow("in_port=1,mpls,dl_src=00:00:00:00:00:01,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1"),
      ),
    ).toBe(
      "mpls,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:00,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1",
    );
    expect(formatFlow(parseFlow("in_port=2,mpls,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=0"))).toBe(
      "mpls,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=0,mpls_lse1=0,mpls_lse2=0",
    );
  });
  it("ofproto/trace matches on MPLS fields and its megaflow holds them", () => {
    const sw = switchFromFlows(
      "br0",
      "priority=13,mpls,actions=drop\nmpls,in_port=1,dl_src=00:00:00:00:00:01,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1,actions=output:2",
      undefined,
      [1, 2],
    );
    const hit = renderTrace(
      traceFlow(
        sw,
        "br0",
        parseFlow("in_port=1,mpls,dl_src=00:00:00:00:00:01,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1"),
      ),
    );
    expect(hit).toContain(
      "Megaflow: recirc_id=0,eth,mpls,in_port=1,dl_src=00:00:00:00:00:01,mpls_label=5,mpls_tc=1,mpls_ttl=3,mpls_bos=1",
    );
    expect(hit).toContain("Datapath actions: 2");
    const miss = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=2,mpls,mpls_label=5,mpls_bos=0")));
    expect(miss).toContain("Megaflow: recirc_id=0,eth,mpls,in_port=2");
    expect(miss).toContain("Datapath actions: drop");
  });
  it("a trace reaching an MPLS action says it is not modelled", () => {
    const sw = switchFromFlows("br0", "mpls,actions=set_field:7->mpls_label,output:2", undefined, [1, 2]);
    const out = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1,mpls,mpls_label=5,mpls_bos=1")));
    expect(out).toContain("set_field on mpls_label is not modelled by ovnsim");
  });
});

// The MPLS fields and actions as ovs-ofctl 3.1 parses and prints them; expectations recorded from
// real OVS 3.1 (ovs-ofctl -O OpenFlow15 add-flow / --no-stats dump-flows, ofproto/trace).
// The label stack is executed as ofproto-dpif-xlate does (see src/mpls.ts); goldens in test/golden/mpls.
import { formatFlow, isSimError, parseFlow } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Bridge,
  formatAction,
  formatActions,
  formatFlowEntry,
  parseActions,
  parseFlowLine,
  renderTrace,
  Switch,
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
      // OVS 3.1 has no copy_ttl_in/copy_ttl_out ("unknown action").
      "copy_ttl_in",
      "copy_ttl_out",
      "pop_mpls",
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
  it("executes the label stack: push over IP, set, dec_mpls_ttl, pop (recorded from OVS 3.1)", () => {
    const sw = switchFromFlows(
      "br0",
      [
        "in_port=1,ip,actions=push_mpls:0x8847,set_field:7->mpls_label,dec_mpls_ttl,output:2",
        "in_port=1,mpls,actions=push_mpls:0x8847,output:2",
        "in_port=3,mpls,actions=pop_mpls:0x0800,output:2",
        "in_port=4,mpls,actions=pop_mpls:0x0800,resubmit(,1)",
        "in_port=5,actions=dec_mpls_ttl,output:2",
      ].join("\n"),
      undefined,
      [1, 2, 3, 4, 5],
    );
    const run = (f: string): string => renderTrace(traceFlow(sw, "br0", parseFlow(f)));
    // The new entry takes the DSCP's low bits as TC and the IP TTL; L3 is no longer visible.
    const push = run("in_port=1,ip,nw_tos=0xb8,nw_ttl=9");
    expect(push).toContain("Megaflow: recirc_id=0,eth,ip,in_port=1,nw_tos=184,nw_ttl=9,nw_frag=no");
    expect(push).toContain("Datapath actions: push_mpls(label=7,tc=6,ttl=8,bos=1,eth_type=0x8847),2");
    expect(push).toContain("mpls_label=7,mpls_tc=6,mpls_ttl=8,mpls_bos=1");
    // Pushing onto a stack copies the top entry (bos cleared) and the megaflow holds the entry.
    const deeper = run("in_port=1,mpls,mpls_label=5,mpls_tc=2,mpls_ttl=7,mpls_bos=1");
    expect(deeper).toContain("mpls_label=5,mpls_tc=2,mpls_ttl=7,mpls_bos=0,mpls_lse1=21767");
    expect(deeper).toContain("Datapath actions: push_mpls(label=5,tc=2,ttl=7,bos=0,eth_type=0x8847),2");
    // Without bottom of stack, every slot counts: the megaflow holds their bos bits.
    const pop = run("in_port=3,mpls,mpls_label=5,mpls_tc=2,mpls_ttl=7,mpls_bos=0");
    expect(pop).toContain(
      "Megaflow: recirc_id=0,eth,mpls,in_port=3,mpls_bos=0,mpls_lse1=0x00000000/0x00000100,mpls_lse2=0x00000000/0x00000100",
    );
    expect(pop).toContain("Datapath actions: pop_mpls(eth_type=0x800),2");
    // A lookup after a pop to IP waits for the recirculation (the trace stops there).
    const recirc = run("in_port=4,mpls,mpls_bos=1");
    expect(recirc).toMatch(/Datapath actions: pop_mpls\(eth_type=0x800\),recirc\(0x[0-9a-f]+\)/);
    expect(recirc).not.toContain("resubmit");
    // dec_mpls_ttl on a non-MPLS packet stops the table; at TTL 1 it goes to the controller.
    expect(run("in_port=5,ip")).toContain("MPLS decrement TTL exception");
    expect(run("in_port=5,ip")).toContain("Datapath actions: drop");
    const ttl1 = run("in_port=1,ip,nw_ttl=1");
    expect(ttl1).toContain("MPLS decrement TTL exception");
    expect(ttl1).toMatch(
      /push_mpls\(label=7,tc=0,ttl=1,bos=1,eth_type=0x8847\),userspace\(pid=0,controller\(reason=2/,
    );
  });
});

describe("MPLS fuzz: any input gives a result or a SimError", () => {
  const isOk = (f: () => unknown): boolean => {
    try {
      f();
      return true;
    } catch (e) {
      if (isSimError(e)) return true;
      throw e;
    }
  };
  const tokens = fc.constantFrom(
    "push_mpls:",
    "pop_mpls:",
    "0x8847",
    "0x8848",
    "0x0800",
    "0x86dd",
    "set_mpls_label:",
    "set_mpls_tc:",
    "set_mpls_ttl:",
    "set_mpls_ttl(",
    "dec_mpls_ttl",
    "set_field:",
    "->mpls_label",
    "->mpls_tc",
    "->mpls_ttl",
    "/0xfffff",
    "load:",
    "->OXM_OF_MPLS_LABEL[]",
    "move:NXM_NX_REG0[0..19]->",
    "OXM_OF_MPLS_TC[]",
    "NXM_NX_MPLS_TTL[]",
    "controller(meter_id=",
    ")",
    "(",
    ",",
    "7",
    "1048576",
    "256",
  );
  const text = fc.oneof(
    fc.string(),
    fc.array(tokens, { maxLength: 16 }).map((a) => a.join("")),
  );
  it("parseActions and formatAction", () =>
    fc.assert(
      fc.property(text, (s) =>
        isOk(() => {
          for (const a of parseActions(s)) formatAction(a);
        }),
      ),
      { numRuns: 2000 },
    ));
  it("random MPLS tables trace random MPLS and IP packets without an exception", () => {
    const rule = fc.tuple(
      fc.integer({ min: 0, max: 1 }),
      fc.constantFrom("", "mpls", "mplsm", "ip", "mpls,mpls_bos=0", "mpls,mpls_label=3"),
      fc.array(
        fc.constantFrom(
          "push_mpls:0x8847",
          "push_mpls:0x8848",
          "pop_mpls:0x0800",
          "pop_mpls:0x8847",
          "set_mpls_ttl(1)",
          "dec_mpls_ttl",
          "set_field:9->mpls_label",
          "move:NXM_NX_REG0[0..7]->NXM_NX_MPLS_TTL[]",
          "dec_ttl",
          "resubmit(,1)",
          "clone(pop_mpls:0x0800,output:3)",
          "output:2",
          "controller(meter_id=1)",
        ),
        { minLength: 1, maxLength: 6 },
      ),
    );
    const packet = fc.constantFrom(
      "in_port=1,mpls,mpls_label=3,mpls_ttl=1,mpls_bos=1",
      "in_port=1,mpls,mpls_label=3,mpls_ttl=64,mpls_bos=0",
      "in_port=1,mplsm,mpls_ttl=0,mpls_bos=1",
      "in_port=1,ip,nw_ttl=2,nw_tos=0xfc",
      "in_port=1,arp",
    );
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 8 }), packet, (rules, pkt) => {
        const b = new Bridge("br0");
        for (const p of [1, 2, 3]) b.addPort({ ofport: p, name: `p${p}`, mac: 0, type: "" });
        for (const [t, m, a] of rules) {
          try {
            b.addFlow(parseFlowLine(`table=${t},${m}${m ? "," : ""}actions=${a.join(",")}`));
          } catch (e) {
            if (!isSimError(e)) throw e;
          }
        }
        const s = new Switch();
        s.addBridge(b);
        return isOk(() => renderTrace(traceFlow(s, "br0", parseFlow(pkt))));
      }),
      { numRuns: 400 },
    );
  });
});

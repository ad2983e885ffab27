// Flow, action and group text: every dump-flows format, OVS's printing, and typed errors.
import { sharedDir } from "@ovnsim/oracle";
import { readFileSync } from "node:fs";
import { isSimError, parseFlow } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Bridge,
  formatActions,
  formatFlowEntry,
  parseActions,
  parseDpifShow,
  parseFlowLine,
  parseFlows,
  parseGroupLine,
  parseGroups,
  parseOfctlShow,
  parseVsctlShow,
  renderTrace,
  Switch,
  switchFromFlows,
  traceFlow,
  traceToJson,
} from "../src/index.js";

const SAMPLES = sharedDir();
const sample = (name: string): string | undefined => {
  try {
    return readFileSync(`${SAMPLES}/oracle/samples/${name}`, "utf8");
  } catch {
    return undefined;
  }
};

/** Splits a samples file into its `$ command` sections. */
function section(text: string, cmd: string): string {
  const parts = text.split(/^\$ /m);
  const p = parts.find((s) => s.startsWith(cmd));
  if (!p) throw new Error(`no section ${cmd}`);
  return p.slice(p.indexOf("\n") + 1);
}

describe("dump-flows formats", () => {
  const dumps = sample("ovs-dump-flows.txt");
  it.skipIf(!dumps)("reads OF1.3, OF1.0 --no-stats and NXST dumps to the same rules", () => {
    const of13 = parseFlows(section(dumps!, "ovs-ofctl -O OpenFlow13 dump-flows br-provider"));
    const of10 = parseFlows(section(dumps!, "ovs-ofctl dump-flows br-provider --no-stats"));
    expect(of13).toHaveLength(12);
    expect(of10).toHaveLength(12);
    for (let i = 0; i < 12; i++) {
      expect(of10[i]!.table).toBe(of13[i]!.table);
      expect(of10[i]!.priority).toBe(of13[i]!.priority);
      expect([...of10[i]!.words.mask]).toEqual([...of13[i]!.words.mask]);
    }
    // OF1.0 prints goto_table as resubmit(,N), strip_vlan and mod_dl_dst: kept as printed.
    expect(formatActions(of10[0]!.actions)).toBe("strip_vlan,resubmit(,10)");
    expect(formatActions(of13[0]!.actions)).toBe("pop_vlan,resubmit(,10)");
    expect(formatActions(of13[3]!.actions)).toBe("set_field:0a:58:0a:b4:cc:01->eth_dst,goto_table:20");
    expect(formatActions(of10[3]!.actions)).toBe("mod_dl_dst:0a:58:0a:b4:cc:01,resubmit(,20)");
    const nx = parseFlows(section(dumps!, "ovs-ofctl dump-flows br-int"));
    expect(nx.map((f) => f.priority)).toEqual([100, 100, 100, 0]);
  });
  it.skipIf(!dumps)("prints rules back as dump-flows --no-stats does", () => {
    const text = section(dumps!, "ovs-ofctl dump-flows br-provider --no-stats");
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    for (const l of lines) expect(formatFlowEntry(parseFlowLine(l))).toBe(l);
  });
  it.skipIf(!dumps)("reads OF1.3 and OF1.5 dump-groups", () => {
    const g13 = parseGroups(section(dumps!, "ovs-ofctl -O OpenFlow13 dump-groups br-provider"));
    const g15 = parseGroups(section(dumps!, "ovs-ofctl -O OpenFlow15 dump-groups br-provider"));
    expect(g13.map((g) => g.method)).toEqual(["default", "default"]);
    expect(g15[0]!.method).toBe("hash");
    expect(g15[0]!.fields.map((f) => f.field.name)).toEqual(["nw_src", "tcp_src"]);
    expect(g15[0]!.buckets.map((b) => [b.id, b.weight])).toEqual([
      [0, 100],
      [1, 100],
      [2, 100],
    ]);
    expect(formatActions(g15[0]!.buckets[1]!.actions)).toBe(
      "ct(commit,table=40,zone=5,nat(dst=10.180.204.12:80))",
    );
  });
  it("reads add-flow syntax", () => {
    const f = parseFlowLine(
      "cookie=0x1000,table=3,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80,actions=mod_dl_dst:00:00:00:01:00:01,output:2",
    );
    expect([f.table, f.priority, f.cookie]).toEqual([3, 10000, 0x1000n]);
    expect(formatFlowEntry(f)).toBe(
      " cookie=0x1000, table=3, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2",
    );
  });
});

describe("actions", () => {
  const roundTrip = [
    "output:2",
    "NORMAL",
    "IN_PORT",
    "LOCAL",
    "FLOOD",
    "ALL",
    "CONTROLLER:65535",
    "resubmit(,10)",
    "resubmit(3,10)",
    "resubmit:3",
    "resubmit(,10,ct)",
    "goto_table:20",
    "write_metadata:0x10/0xff",
    "set_field:0x7->reg2",
    "set_field:0xabc/0xfff->reg5",
    "set_field:10.0.0.1->ip_dst",
    "set_field:4196->vlan_vid",
    "load:0x2a->NXM_NX_REG0[]",
    "load:0x5->NXM_NX_REG1[0..3]",
    "move:NXM_OF_IN_PORT[]->NXM_NX_REG3[0..15]",
    "mod_dl_src:00:00:00:00:aa:aa",
    "mod_nw_dst:172.16.0.2",
    "mod_nw_tos:64",
    "mod_nw_ttl:9",
    "mod_tp_src:1111",
    "push_vlan:0x8100",
    "pop_vlan",
    "strip_vlan",
    "mod_vlan_vid:30",
    "mod_vlan_pcp:5",
    "dec_ttl",
    "dec_ttl(1,2)",
    "group:7",
    "ct(table=30,zone=5,nat)",
    "ct(commit,zone=NXM_NX_REG13[0..15],nat(src=172.16.0.1-172.16.0.9:1000-2000))",
    "ct(commit,zone=9,exec(set_field:0x1->ct_mark))",
    "ct(commit,table=40,zone=5,nat(dst=10.180.204.11:80))",
    "ct_clear",
    "clone(mod_dl_dst:00:00:00:00:dd:dd,output:1)",
    "note:01.02",
    "exit",
  ];
  for (const a of roundTrip)
    it(`prints ${a} back unchanged`, () => expect(formatActions(parseActions(a))).toBe(a));
  it("drop and an empty list are no actions", () => {
    expect(parseActions("drop")).toEqual([]);
    expect(formatActions([])).toBe("drop");
  });
  it("bare numbers are outputs", () => expect(formatActions(parseActions("1,2"))).toBe("output:1,output:2"));
  const bad: [string, string][] = [
    ["frobnicate:1", "UNKNOWN_ACTION"],
    ["set_field:1->nosuchfield", "UNKNOWN_FIELD"],
    ["set_field:0x1/0x0->reg0", "BAD_MASK"],
    ["load:0x20->NXM_NX_REG0[0..3]", "BAD_VALUE"],
    ["move:NXM_NX_REG0[0..3]->NXM_NX_REG1[0..7]", "BAD_VALUE"],
    ["output:eth9", "UNKNOWN_PORT"],
    ["resubmit(,300)", "BAD_VALUE"],
    ["ct(frob)", "PARSE_ERROR"],
    ["set_field:1->ct_state", "BAD_VALUE"],
  ];
  for (const [text, code] of bad) {
    it(`refuses ${text} with ${code}`, () => {
      try {
        parseActions(text);
        expect.unreachable();
      } catch (e) {
        expect(isSimError(e) && e.code).toBe(code);
      }
    });
  }
  it("learn, meter and MPLS are modelled now; encap still parses as not modelled", () => {
    const a = parseActions(
      "learn(table=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]),meter:1,pop_mpls:0x0800,encap(nsh)",
    );
    expect(a.map((x) => x.kind)).toEqual(["learn", "meter", "pop_mpls", "unsupported"]);
  });
});

describe("bad input: typed errors with file:line", () => {
  it("reports the line of a bad flow", () => {
    try {
      parseFlows("priority=1,actions=drop\npriority=2,udp,tp_dst=8o,actions=drop\n", {
        file: "br.flows.txt",
      });
      expect.unreachable();
    } catch (e) {
      expect(isSimError(e) && e.message).toMatch(/^br\.flows\.txt:2: /);
    }
  });
  it("unmet prerequisites", () => {
    expect(() => parseFlowLine("priority=1,tp_dst=80,actions=drop")).toThrow(/prerequisites/);
  });
  it("patch port without its peer", () => {
    const sw = new Switch();
    const b = new Bridge("br0");
    b.addPort({ ofport: 1, name: "patch0", mac: 0, type: "patch", peer: "nowhere" });
    sw.addBridge(b);
    expect(() => sw.validate()).toThrow(/patch port patch0 has no peer/);
  });
  it("a flow naming a missing group is refused with its file and line", () => {
    expect(() =>
      switchFromFlows("br0", "priority=2,actions=drop\npriority=1,actions=group:5", undefined, [1]),
    ).toThrow(/^flows:2: bridge br0: group 5 does not exist/);
  });
  it("a group deleted after the fact is a trace step, not an exception", () => {
    const sw = new Switch();
    const b = new Bridge("br0");
    b.addPort({ ofport: 1, name: "p1", mac: 0, type: "system" });
    b.addFlow(parseFlowLine("priority=1,actions=group:5"));
    sw.addBridge(b);
    const t = traceFlow(sw, "br0", parseFlow("in_port=1"));
    expect(renderTrace(t)).toContain(">> output to nonexistent group 5");
  });
  it("a resubmit loop ends in an error step", () => {
    const sw = switchFromFlows(
      "br0",
      "table=0,actions=resubmit(,1)\ntable=1,actions=resubmit(,0)",
      undefined,
      [1],
    );
    const text = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1")));
    expect(text).toContain(">>>> over max translation depth 64 <<<<");
    expect(text).toContain("Translation failed (Recursion too deep), packet is dropped.");
  });
  it("a fan-out of resubmits stops at 4096", () => {
    const lines = ["table=0,actions=resubmit(,1)"];
    for (let t = 1; t < 14; t++) lines.push(`table=${t},actions=resubmit(,${t + 1}),resubmit(,${t + 1})`);
    const sw = switchFromFlows("br0", lines.join("\n"), undefined, [1]);
    const text = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1")));
    expect(text).toContain("over 4096 resubmit actions");
  });
});

describe("bundle readers", () => {
  const topo = sample("ovs-topology.txt");
  it.skipIf(!topo)("ovs-vsctl show and ovs-ofctl show", () => {
    const br = parseVsctlShow(section(topo!, "ovs-vsctl show"));
    expect(br.map((b) => b.name)).toEqual(["br-provider", "br-int"]);
    const patch = br[0]!.ports.find((p) => p.name === "patch-provider-to-int");
    expect(patch).toMatchObject({ type: "patch", peer: "patch-int-to-provider" });
    const ports = parseOfctlShow(section(topo!, "ovs-ofctl show br-provider"));
    expect(ports.map((p) => [p.ofport, p.name])).toEqual([
      [1, "eth0"],
      [2, "patch-provider-"],
      [0xfffe, "br-provider"],
    ]);
  });
  it("dpif/show", () => {
    const d = parseDpifShow(
      "dummy@ovs-dummy: hit:0 missed:0\n  br0:\n    br0 65534/100: (dummy-internal)\n    p1 1/1: (dummy)\n    patch0 9/none: (patch: peer=patch1)\n",
    );
    expect(d.get("br0")?.get("p1")).toEqual({ ofport: 1, dpPort: 1, type: "dummy" });
    expect(d.get("br0")?.get("patch0")).toEqual({
      ofport: 9,
      dpPort: null,
      type: "patch",
      config: "peer=patch1",
    });
  });
});

describe("trace JSON", () => {
  it("has the documented shape and renders to the same text", () => {
    const sw = switchFromFlows("br0", "priority=1,ip,actions=dec_ttl,output:2", undefined, [1]);
    const t = traceFlow(sw, "br0", parseFlow("in_port=1,ip,nw_proto=6,nw_ttl=5"));
    const j = JSON.parse(traceToJson(t));
    expect(j.version).toBe(1);
    expect(j.passes[0].nodes[0]).toMatchObject({ type: "bridge", text: 'bridge("br0")' });
    expect(j.passes[0].nodes[0].subs[0]).toMatchObject({ type: "table", table: 0, priority: 1 });
    expect(j.passes[0].datapathActions).toBe("set(ipv4(ttl=4)),2");
  });
});

describe("fuzz: parsers never crash", () => {
  const isOk = (f: () => unknown): boolean => {
    try {
      f();
      return true;
    } catch (e) {
      return isSimError(e);
    }
  };
  const tokens = fc.constantFrom(
    "output:",
    "resubmit(",
    ",",
    ")",
    "(",
    "ct(",
    "nat(dst=",
    "set_field:",
    "->",
    "reg0",
    "NXM_NX_REG0[",
    "..",
    "]",
    "load:",
    "move:",
    "0x1",
    "/",
    "10.0.0.1",
    ":",
    "=",
    "table",
    "actions=",
    "priority=",
    "tcp",
    "tp_dst=",
    "bucket=",
    "group_id=1",
    "type=select",
    "fields(",
    "1",
    "-",
    "[",
    "exec(",
    "clone(",
    "mpls",
    "mpls_label",
    "mpls_tc",
    "mpls_bos",
    "push_mpls:",
    "pop_mpls:",
    "set_mpls_label:",
    "set_mpls_tc:",
    "set_mpls_ttl:",
    "dec_mpls_ttl",
    "0x8847",
    "OXM_OF_MPLS_LABEL[",
    " ",
  );
  const text = fc.oneof(
    fc.string(),
    fc.array(tokens, { maxLength: 24 }).map((a) => a.join("")),
  );
  it("parseActions", () =>
    fc.assert(
      fc.property(text, (s) => isOk(() => parseActions(s))),
      { numRuns: 2000 },
    ));
  it("parseFlowLine", () =>
    fc.assert(
      fc.property(text, (s) => isOk(() => parseFlowLine(s))),
      { numRuns: 2000 },
    ));
  it("parseGroupLine", () =>
    fc.assert(
      fc.property(text, (s) => isOk(() => parseGroupLine(s))),
      { numRuns: 2000 },
    ));
  it("bundle readers", () =>
    fc.assert(
      fc.property(fc.string(), (s) => isOk(() => [parseVsctlShow(s), parseOfctlShow(s), parseDpifShow(s)])),
      { numRuns: 1000 },
    ));
  it("any parsed action list traces without an exception", () =>
    fc.assert(
      fc.property(text, (s) => {
        let sw: Switch;
        try {
          sw = switchFromFlows("br0", `priority=1,actions=${s}`, undefined, [1]);
        } catch (e) {
          return isSimError(e);
        }
        return isOk(() => renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1,tcp,nw_ttl=3"))));
      }),
      { numRuns: 1000 },
    ));
});

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { SimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderTrace } from "@ovnsim/openflow";
import { renderCaptured, traceCaptures } from "../src/index.js";

// Recorded from the real ovn-controller 23.03 / OVS 3.1 sandbox by scripts/record-captured.sh
// (the controller's `remote` scenario); node-hv2 is the remote chassis's configuration.
const G = join(import.meta.dirname, "golden/remote");
const load = (d: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(join(G, d))
      .filter((f) => f.endsWith(".txt"))
      .map((f) => [f, readFileSync(join(G, d, f), "utf8")]),
  );
const sb = load("sb");
const hv1 = load("node");
const hv2 = load("node-hv2");
const flows = readFileSync(join(G, "flows.txt"), "utf8").split("\n").filter(Boolean);
// NORMAL's flood order (the output ports after `push_vlan` on br-provider) follows the real
// datapath's port numbering run by run: a known @ovnsim/openflow difference (its README), so a
// run of output port numbers at the end of a Datapath actions line compares as a set.
const floodAsSet = (t: string): string =>
  t.replace(
    /^(Datapath actions: .*?)\b(\d+(?:,\d+)+)$/gm,
    (_m, head: string, run: string) => head + run.split(",").sort().join(","),
  );
const actions = (text: string) => text.split("\n").filter((l) => l.startsWith("Datapath actions:"));

describe("ovnsim trace --sb --node: a real node's captures, no manifests", () => {
  for (const capturedBrInt of [false, true]) {
    it(`gives real ofproto/trace's text, datapath actions included (${capturedBrInt ? "captured br-int flows" : "br-int from the controller model"})`, () => {
      flows.forEach((flow, i) => {
        const real = readFileSync(join(G, "traces", `${i + 1}.txt`), "utf8");
        const { hops } = traceCaptures({ sb, nodes: [hv1], bridge: "br-int", flow, capturedBrInt });
        expect(floodAsSet(renderTrace(hops[0]!.result)), flow).toBe(floodAsSet(real));
        expect(actions(hops[0]!.text).map(floodAsSet)).toEqual(actions(real).map(floodAsSet));
      });
    });
  }

  it("annotates each cookie as ovn-detrace does", () => {
    const { hops } = traceCaptures({ sb, nodes: [hv1], bridge: "br-int", flow: flows[2]! });
    const t = hops[0]!.text;
    expect(t).toMatch(
      /\n {2}\* Logical flow: table=\d+ \(ls_in_l2_lkup\), priority=50, match=\(eth.dst == 0a:00:00:00:00:02\)/,
    );
    expect(t).toContain('  * Port Binding: logical_port "p1", tunnel_key 2, chassis-name "hv1"');
  });

  it("names the NB row behind a stage-hint (--nb) as the real ovn-detrace prints it", () => {
    const nb = load("nb");
    // The real ovn-detrace's hint lines (recorded through live databases), e.g.
    // "   * Logical Switch Port: p2 type  (addresses [...], dynamic addresses [], security []".
    const realHints = new Set<string>();
    const ourHints = new Set<string>();
    flows.forEach((flow, i) => {
      for (const l of readFileSync(join(G, "traces", `${i + 1}.detrace.txt`), "utf8").split("\n"))
        if (l.startsWith("   * ")) realHints.add(l);
      const { hops } = traceCaptures({ sb, nb, nodes: [hv1], bridge: "br-int", flow });
      for (const l of hops[0]!.text.split("\n")) if (l.startsWith("   * ")) ourHints.add(l);
    });
    expect(realHints.size).toBeGreaterThan(0);
    expect([...ourHints].sort()).toEqual([...realHints].sort());
  });

  it("crosses Geneve to the other chassis: tun_id = datapath, tun_metadata0 = inport << 16 | outport", () => {
    const { hops } = traceCaptures({ sb, nodes: [hv1, hv2], bridge: "br-int", flow: flows[0]! });
    expect(hops.map((h) => h.chassis)).toEqual(["hv1", "hv2"]);
    expect(hops[1]!.via).toBe(
      "Geneve from hv1 (127.0.0.1 → 192.168.0.2): tun_id=0x2, tun_metadata0=0x10002, in_port ovn-hv1-0",
    );
    // hv2's table 0 takes the tunnel in (ls2 = datapath 2, p4 = key 1 → p5 = key 2) and
    // table 65 outputs to p5 (ofport 25).
    expect(hops[1]!.text).toMatch(/ 0\. in_port=1, priority 100/);
    expect(actions(hops[1]!.text)).toEqual(["Datapath actions: 25"]);
    // Through the localnet datapath (ls1), p1 → p3 stays on the underlay: no crossing.
    const local = traceCaptures({ sb, nodes: [hv1, hv2], bridge: "br-int", flow: flows[3]! });
    expect(local.hops).toHaveLength(1);
    expect(renderCaptured(local.hops)).toContain("# chassis hv1: ofproto/trace br-int");
  });

  it("fuzz: any flow text gives a trace or a SimError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(...flows).map((f) => f.slice(0, 40)),
        ),
        (flow) => {
          try {
            traceCaptures({ sb, nodes: [hv1, hv2], bridge: "br-int", flow });
          } catch (e) {
            if (!(e instanceof SimError)) throw e;
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

// The megaflow invariant (docs/performance.md §1.4): every packet inside a trace's Megaflow gets
// the same datapath actions. Random programs, random packets, random bits outside the mask.
import { matchToWords, parseFlow, parseMatch, W, flowToKey, keyToFlow } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { Bridge, parseFlowLine, parseGroupLine, Switch, traceFlow } from "../src/index.js";
import { generate, rng } from "./gen.js";
import { normaliseRecirc } from "./harness.js";

function build(seed: number): { sw: Switch; packets: string[] } {
  const prog = generate(seed, 40);
  const sw = new Switch();
  const br0 = new Bridge("br0");
  const br1 = new Bridge("br1");
  for (const [p, n, extra] of [
    [1, "p1", {}],
    [2, "p2", { tag: 10 }],
    [3, "p3", { trunks: [10, 20] }],
    [4, "p4", { tag: 20 }],
  ] as const)
    br0.addPort({ ofport: p, name: n, mac: 0, type: "system", ...extra });
  br0.addPort({ ofport: 9, name: "patch0", mac: 0, type: "patch", peer: "patch1" });
  br0.addPort({ ofport: 0xfffe, name: "br0", mac: 0, type: "internal" });
  br1.addPort({ ofport: 1, name: "patch1", mac: 0, type: "patch", peer: "patch0" });
  br1.addPort({ ofport: 2, name: "q1", mac: 0, type: "system" });
  br1.addPort({ ofport: 3, name: "q2", mac: 0, type: "system" });
  br1.addPort({ ofport: 0xfffe, name: "br1", mac: 0, type: "internal" });
  for (const g of prog.groups) br0.addGroup(parseGroupLine(g));
  for (const l of prog.br0) {
    try {
      br0.addFlow(parseFlowLine(l));
    } catch {
      // a combination OVS would refuse too (prerequisites); skip it
    }
  }
  for (const l of prog.br1) br1.addFlow(parseFlowLine(l));
  sw.addBridge(br0);
  sw.addBridge(br1);
  return { sw, packets: prog.packets.map((p) => p.split(" ")[0]!) };
}

const MUTABLE = [W.dl_src + 1, W.nw_src, W.nw_dst, W.nw_ttl, W.nw_tos, W.tp_src, W.tp_dst];

describe("megaflow invariant", () => {
  for (const seed of [11, 12, 13]) {
    it(`seed ${seed}: packets inside a megaflow get the same datapath actions`, () => {
      const { sw, packets } = build(seed);
      const r = rng(seed * 7);
      let checked = 0;
      for (const text of packets) {
        const flow = parseFlow(text);
        const t = traceFlow(sw, "br0", flow);
        const first = t.passes[0]!;
        if (first.error) continue;
        const mask = matchToWords(parseMatch(first.megaflow)).mask;
        for (let k = 0; k < 4; k++) {
          const key = flowToKey(flow);
          for (const w of MUTABLE) {
            const rand = Math.floor(r() * 0x100000000) >>> 0;
            const lim =
              w === W.nw_ttl || w === W.nw_tos
                ? 0xff
                : w === W.tp_src || w === W.tp_dst
                  ? 0xffff
                  : 0xffffffff;
            key[w] = ((key[w]! & mask[w]!) | (rand & lim & ~mask[w]!)) >>> 0;
          }
          const t2 = traceFlow(sw, "br0", keyToFlow(key));
          expect(normaliseRecirc(t2.passes[0]!.datapathActions), `${text} vs ${t2.flow}`).toBe(
            normaliseRecirc(first.datapathActions),
          );
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(50);
    });
  }
});

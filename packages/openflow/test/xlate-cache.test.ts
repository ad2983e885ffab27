// TraceOptions.cache (xlate.ts's XlateCache) must be invisible: every packet traced with it gets
// exactly what a fresh translation gives (the whole ofproto/trace text, the JSON, the final
// flow), whether it hit a remembered megaflow or not. Random programs (both bridges, patch
// ports, NORMAL with MAC tables that change between packets), random packets, random bits
// inside and outside their megaflows.
import { MacTable } from "@ovnsim/l2";
import { flowToKey, keyToFlow, matchToWords, parseFlow, parseMatch, W } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  Bridge,
  parseFlowLine,
  renderTrace,
  Switch,
  type TraceOptions,
  traceFlow,
  traceToJson,
} from "../src/index.js";
import { rng } from "./gen.js";
import { generatedSwitch, randomFieldWord } from "./harness.js";

/** Everything a caller can read of a trace. */
function view(sw: Switch, flow: ReturnType<typeof parseFlow>, opts: TraceOptions): string {
  const t = traceFlow(sw, "br0", flow, opts);
  const finals = t.passes.map((p) => {
    const pk = p.packets!;
    return `${pk.unchanged} ${JSON.stringify(pk.start, big)} ${JSON.stringify(pk.final, big)}`;
  });
  return `${renderTrace(t)}\n${traceToJson(t)}\n${finals.join("\n")}`;
}
const big = (_k: string, v: unknown): unknown => (typeof v === "bigint" ? v.toString() : v);

/** Words the cache lets vary (addresses, ports) and some it must not (MACs, TTL, TOS). */
const INSIDE = [W.nw_src, W.nw_dst, W.tp_src, W.tp_dst];
const OUTSIDE = [W.dl_src + 1, W.nw_ttl, W.nw_tos];

describe("translation cache", () => {
  let hits = 0;
  for (const seed of [11, 12, 13, 21, 22, 23, 24]) {
    it(`seed ${seed}: a cached trace is the fresh trace`, () => {
      const { sw, packets } = generatedSwitch(seed);
      const r = rng(seed * 13);
      // NORMAL's MAC tables: shared by both runs, changed between packets.
      const macTables = new Map([
        ["br0", new MacTable()],
        ["br1", new MacTable()],
      ]);
      const cached: TraceOptions = { macTables, cache: true };
      const fresh: TraceOptions = { macTables };
      let n = 0;
      for (const text of packets) {
        const flow = parseFlow(text);
        const first = traceFlow(sw, "br0", flow, fresh).passes[0]!;
        let mask: Uint32Array;
        try {
          mask = matchToWords(parseMatch(first.megaflow)).mask;
        } catch {
          mask = new Uint32Array(flowToKey(flow).length); // a megaflow the parser refuses (icmp_type=8/0xff)
        }
        for (let k = 0; k < 6; k++) {
          const key = flowToKey(flow);
          const words = k === 5 ? [...INSIDE, ...OUTSIDE] : INSIDE;
          for (const w of words) {
            const rand = randomFieldWord(r, w);
            // Mostly inside the megaflow; now and then a bit it holds flips.
            const keep = r() < 0.8 ? mask[w]! : 0;
            key[w] = ((key[w]! & keep) | (rand & ~keep)) >>> 0;
          }
          const f = keyToFlow(key);
          const a = view(sw, f, cached);
          const b = view(sw, f, fresh);
          expect(a, text).toBe(b);
          // A second time: now surely remembered, if it may be.
          expect(view(sw, f, cached), text).toBe(b);
          n++;
          if (r() < 0.3) {
            // A MAC moves: a remembered NORMAL decision resting on it must not be reused.
            const port = [1, 2, 3, 4][Math.floor(r() * 4)]!;
            const vlan = [0, 10, 20][Math.floor(r() * 3)]!;
            macTables.get("br0")!.learn(vlan, f.dl_dst, port, 0);
          }
        }
        // Counting hits: a fresh Switch-wide count is not exposed; a repeated trace of an
        // unchanged packet shares the remembered tree.
        const t1 = traceFlow(sw, "br0", flow, cached);
        const t2 = traceFlow(sw, "br0", flow, cached);
        if (t1.passes[0]!.nodes === t2.passes[0]!.nodes) hits++;
      }
      expect(n).toBeGreaterThan(100);
    });
  }

  it("the seeds hit remembered translations", () => {
    expect(hits).toBeGreaterThan(20);
  });

  it("a rule added after a translation is seen by the next packet", () => {
    const sw = new Switch();
    const br = new Bridge("br0");
    br.addPort({ ofport: 1, name: "p1", mac: 0, type: "system" });
    br.addPort({ ofport: 2, name: "p2", mac: 0, type: "system" });
    br.addPort({ ofport: 3, name: "p3", mac: 0, type: "system" });
    br.addFlow(parseFlowLine("priority=1,ip,actions=output:2"));
    sw.addBridge(br);
    const f = parseFlow("tcp,in_port=1,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1000,tp_dst=80");
    expect(traceFlow(sw, "br0", f, { cache: true }).passes[0]!.datapathActions).toBe("2");
    expect(traceFlow(sw, "br0", f, { cache: true }).passes[0]!.datapathActions).toBe("2");
    br.addFlow(parseFlowLine("priority=5,tcp,tp_dst=80,actions=output:3"));
    expect(traceFlow(sw, "br0", f, { cache: true }).passes[0]!.datapathActions).toBe("3");
  });
});

// The megaflow invariant (docs/performance.md §1.4): every packet inside a trace's Megaflow gets
// the same datapath actions. Random programs, random packets, random bits outside the mask.
import { matchToWords, parseFlow, parseMatch, W, flowToKey, keyToFlow } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { traceFlow } from "../src/index.js";
import { rng } from "./gen.js";
import { generatedSwitch, normaliseRecirc, randomFieldWord } from "./harness.js";

const MUTABLE = [W.dl_src + 1, W.nw_src, W.nw_dst, W.nw_ttl, W.nw_tos, W.tp_src, W.tp_dst];

describe("megaflow invariant", () => {
  for (const seed of [11, 12, 13]) {
    it(`seed ${seed}: packets inside a megaflow get the same datapath actions`, () => {
      const { sw, packets } = generatedSwitch(seed);
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
            key[w] = ((key[w]! & mask[w]!) | (randomFieldWord(r, w) & ~mask[w]!)) >>> 0;
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

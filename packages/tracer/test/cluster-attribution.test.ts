// Attribution over every cluster example: each logical pipeline a path crosses names the
// Kubernetes object behind it, its NB row and the logical flow (in the text and in the JSON),
// and every path that reached OVN writes a pcapng with its frames.
import { readdirSync } from "node:fs";
import path from "node:path";
import { loadScenario } from "@ovnsim/kube";
import { readPcapng } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  type TraceStep,
  buildClusterWorld,
  clusterCaptureWorld,
  renderText,
  toJson,
  traceCluster,
  writeTracePcapng,
} from "../src/index.js";
import { clusterMicroflows } from "./cluster-support.js";

const EXAMPLES = path.resolve(import.meta.dirname, "../../../examples");
const DIRS = readdirSync(EXAMPLES)
  .filter((d) => d.startsWith("cluster-"))
  .sort();

function* steps(s: TraceStep): Generator<TraceStep> {
  yield s;
  for (const c of s.children) yield* steps(c);
}

describe("cluster paths: attribution and pcap on every example", () => {
  for (const dir of DIRS) {
    it(dir, () => {
      const s = loadScenario([path.join(EXAMPLES, dir)]);
      const w = buildClusterWorld(s);
      const flows = clusterMicroflows(s, 10, w.db);
      expect(flows.length).toBeGreaterThan(0);
      for (const m of flows) {
        const { doc, frames } = traceCluster(w, { from: m.from, to: m.to, port: m.port });
        const text = renderText(doc, { detailed: false });
        const json = toJson(doc);
        const all = [doc.forward, ...(doc.reply ? [doc.reply] : [])].flatMap((r) => [...steps(r)]);
        const hops = all.filter((x) => x.layer === "ovn" && /^(ingress|egress)\(/.test(x.where));
        for (const h of hops) {
          expect(h.summary, `${dir}: ${m.from} → ${m.to}: ${h.where}`).toMatch(/ — .+ · NB .+ · lflow /);
          expect(text).toContain(h.summary);
          expect(json).toContain(JSON.stringify(h.summary).slice(1, -1));
        }
        if (hops.length > 0) {
          const pk = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s)))[0]!.packets;
          expect(pk.length, `${dir}: ${m.from} → ${m.to}`).toBeGreaterThan(0);
        }
      }
    });
  }
});

import { loadScenario } from "@ovnsim/kube";
import { makeFlow } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { createSimulation, toJson, trace } from "../src/index.js";
import { StepBuilder } from "../src/model.js";

describe("StepBuilder.step", () => {
  it("keeps the key order the object spread gave: layer, where, summary, packet, children, then the extras", () => {
    const b = new StepBuilder("physical", "x", "root");
    const f = makeFlow({ dl_type: 0x0800, nw_src: 1, nw_dst: 2, nw_proto: 6, tp_src: 3, tp_dst: 4 });
    const a = b.step("ovn", "w", "s", f, { device: "node1", outcome: "drop", detail: "d" });
    expect(Object.keys(a)).toEqual([
      "layer",
      "where",
      "summary",
      "packet",
      "children",
      "device",
      "outcome",
      "detail",
    ]);
    // The same packet again is not shown again; no extras, no extra keys.
    const c = b.step("ovn", "w2", "s2", f);
    expect(Object.keys(c)).toEqual(["layer", "where", "summary", "children"]);
    // An extra given as undefined is kept as a key, as the spread kept it.
    const d = b.step("ovn", "w3", "s3", undefined, { detail: undefined });
    expect(Object.keys(d)).toEqual(["layer", "where", "summary", "children", "detail"]);
  });
});

describe("repeated traces on one simulation", () => {
  // Each trace leaves state (ARP caches, MAC tables, conntrack entries): two simulations given the
  // same sequence of traces must give the same documents, byte for byte, however often they are read.
  const run = () => {
    const sim = createSimulation(loadScenario());
    const docs = [];
    for (let p = 41000; p < 41006; p++) docs.push(trace(sim, { srcPort: p }));
    return docs;
  };
  it("are deterministic, and lazily rendered text is stable when read twice", () => {
    const a = run();
    const b = run().map((d) => toJson(d));
    expect(a.map((d) => toJson(d))).toEqual(b);
    expect(a.map((d) => toJson(d))).toEqual(b);
    expect(b[2]).not.toBe(b[3]);
  });
});

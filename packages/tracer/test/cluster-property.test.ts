// Property test over random clusters (nodes, subnets, pods, Services, NetworkPolicies, some
// dual-stack): the cluster trace never throws anything but a SimError, is byte-for-byte
// deterministic (same manifests → same JSON, same pcapng), and for every path agrees with the
// logical-only ovn-trace of the same NB (ovnsim's executor, no chassis, fed the microflow text): same
// output port, or dropped by both.
import { rng } from "@ovnsim/oracle";
import { LogicalNetwork, type TraceResult } from "@ovnsim/ovn";
import { isSimError } from "@ovnsim/packet";
import { scenarioFromYaml } from "@ovnsim/kube";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildClusterWorld,
  clusterCaptureWorld,
  toJson,
  traceCluster,
  writeTracePcapng,
} from "../src/index.js";
import { clusterMicroflows, randomClusterYaml } from "./cluster-support.js";

let agreed = 0;
let compared = 0;
let compared6 = 0;

function check(seed: number): void {
  const yaml = randomClusterYaml(rng(seed));
  let s: ReturnType<typeof scenarioFromYaml>;
  try {
    s = scenarioFromYaml(yaml, `random-${seed}.yaml`);
  } catch (e) {
    if (isSimError(e)) return;
    throw e;
  }
  const w1 = buildClusterWorld(s);
  const w2 = buildClusterWorld(scenarioFromYaml(yaml, `random-${seed}.yaml`));
  const logical = new LogicalNetwork(w1.sb);
  for (const m of clusterMicroflows(s, 6, w1.db)) {
    const a = traceCluster(w1, { from: m.from, to: m.to, port: m.port });
    const b = traceCluster(w2, { from: m.from, to: m.to, port: m.port });
    expect(toJson(a.doc)).toBe(toJson(b.doc));
    const pa = writeTracePcapng(a.frames, clusterCaptureWorld(s));
    const pb = writeTracePcapng(b.frames, clusterCaptureWorld(s));
    expect(Buffer.from(pa).equals(Buffer.from(pb))).toBe(true);
    // The cluster trace's microflow carries tcp.flags (SYN); ovn-trace's default is 0: no flow
    // Kube-OVN installs matches on tcp.flags, so the outputs must agree.
    const r: TraceResult = logical.trace(m.datapath, m.microflow, { ct: m.ct });
    const exit = a.doc.verdict.droppedAt?.layer === "ovn" ? undefined : firstOutput(a.doc.forward);
    compared++;
    if (m.to.includes(":")) compared6++;
    expect(exit ?? null, `seed ${seed}: ${m.from} → ${m.to}\n${yaml}`).toBe(r.outputs[0] ?? null);
    agreed++;
  }
}

function firstOutput(step: {
  where: string;
  children: readonly { where: string; children: readonly unknown[] }[];
}): string | undefined {
  const stack = [step];
  while (stack.length) {
    const s = stack.shift()!;
    const m = /^output (.+)$/.exec(s.where);
    if (m) return m[1];
    stack.unshift(...(s.children as typeof stack));
  }
  return undefined;
}

describe("random clusters", () => {
  it("never crash, are deterministic, agree with the logical-only ovn-trace", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => check(seed)),
      { numRuns: Number(process.env.OVNSIM_CLUSTER_RUNS ?? 25), seed: 20261204 },
    );
    expect(agreed).toBe(compared);
    expect(compared).toBeGreaterThan(20);
    // Dual-stack clusters among them: IPv6 paths (pod → pod, pod → ClusterIP, ovn0 → pod) too.
    expect(compared6).toBeGreaterThan(0);
  });
});

// Property: under random changes of the seed (release, MetalLB version, controller flags,
// externalTrafficPolicy), a random pair of the matrix is exactly the concrete trace of that pair,
// and the diff of a configuration with itself is empty.
import { type Scenario, loadScenario, scenarioFromYaml } from "@ovnsim/kube";
import { arbTopology, scenarioYaml } from "@ovnsim/testing";
import { type Verdict, buildClusterWorld, isClusterPath, traceCluster, traceScenario } from "@ovnsim/tracer";
import {
  type MatrixDestination,
  type MatrixSource,
  applyVariant,
  buildMatrix,
  diffLflows,
  matrixDestinations,
  matrixSources,
  scenarioLflows,
} from "@ovnsim/whatif";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const seed = loadScenario([]);

/**
 * The pair traced from scratch, the way `ovnsim trace` chooses its path: Kube-OVN's cluster
 * topology for an in-cluster pair (pod or node → ClusterIP, pod on a routed subnet), else the
 * end-to-end physical trace.
 */
function freshTrace(s: Scenario, src: MatrixSource, dst: MatrixDestination): Verdict {
  const input = { from: src.traceFrom, to: dst.ip, port: dst.port, proto: dst.proto };
  if (src.kind !== "client" && isClusterPath(s, src.traceFrom, dst.ip))
    return traceCluster(buildClusterWorld(s), input).doc.verdict;
  return traceScenario(s, input).verdict;
}
const bool = fc.constantFrom("true", "false");
const variant = fc.record(
  {
    release: fc.constantFrom("1.14", "1.15", "v1.15.3", "master"),
    metallb: fc.constantFrom("0.13.7", "0.14.8"),
    etp: fc.constantFrom("Local" as const, "Cluster" as const),
    flags: fc.record(
      {
        "ls-ct-skip-dst-lport-ips": bool,
        "enable-ovn-lb-prefer-local": bool,
        "ls-dnat-mod-dl-dst": bool,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

describe("matrix = one concrete trace per pair, on random variants of the seed", () => {
  it("a random pair's row is its trace's verdict", () => {
    const srcs = matrixSources(seed);
    const dsts = matrixDestinations(seed);
    fc.assert(
      fc.property(variant, fc.nat(srcs.length - 1), fc.nat(dsts.length - 1), (v, i, j) => {
        const s = applyVariant(seed, v);
        const src = srcs[i]!;
        const dst = dsts[j]!;
        const m = buildMatrix(s, { from: [src.id], to: [dst.id] });
        if (src.kind === "pod" && dst.object === src.id) {
          expect(m.rows).toEqual([]);
          return;
        }
        expect(m.rows).toHaveLength(1);
        const r = m.rows[0]!;
        const t = freshTrace(s, src, dst);
        expect([r.delivered, r.droppedAt, r.pod, r.node, r.backend, r.replyDelivered]).toEqual([
          t.delivered,
          t.droppedAt,
          t.pod,
          t.node,
          t.backend,
          t.replyDelivered,
        ]);
      }),
      { numRuns: 12, seed: 16 },
    );
  }, 180_000);

  it("on random topologies, every row of a matrix (sharing the compiled parts) is its own fresh trace", () => {
    fc.assert(
      fc.property(arbTopology(), fc.nat(), fc.nat(), (t, i, j) => {
        const s = scenarioFromYaml(scenarioYaml({ ...t, replicas: Math.min(t.replicas, 3) }));
        const srcs = matrixSources(s);
        const dsts = matrixDestinations(s);
        if (dsts.length === 0) return;
        const from = [srcs[i % srcs.length]!.id, srcs[(i + 1) % srcs.length]!.id];
        const to = [dsts[j % dsts.length]!.id];
        const m = buildMatrix(s, { from, to });
        for (const r of m.rows) {
          const src = srcs.find((x) => x.id === r.from)!;
          const dst = dsts.find((x) => x.id === r.to)!;
          const v = freshTrace(s, src, dst);
          expect([r.delivered, r.droppedAt, r.pod, r.node, r.backend, r.replyDelivered]).toEqual([
            v.delivered,
            v.droppedAt,
            v.pod,
            v.node,
            v.backend,
            v.replyDelivered,
          ]);
        }
      }),
      { numRuns: 6, seed: 16 },
    );
  }, 300_000);

  it("a configuration's logical flows diffed with themselves are empty", () => {
    fc.assert(
      fc.property(variant, (v) => {
        const s = applyVariant(seed, v);
        expect(diffLflows(scenarioLflows(s), scenarioLflows(applyVariant(seed, v)))).toEqual({
          added: [],
          removed: [],
        });
      }),
      { numRuns: 8, seed: 16 },
    );
  }, 120_000);
});

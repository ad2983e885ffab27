// The reachability matrix on the seed: it equals one concrete trace per pair, is byte-for-byte
// deterministic, and `ovnsim matrix` prints text / CSV / JSON with its exit codes.
import { run } from "@ovnsim/cli";
import { type Scenario, loadScenario } from "@ovnsim/kube";
import { isSimError } from "@ovnsim/packet";
import { traceScenario } from "@ovnsim/tracer";
import {
  type MatrixDocument,
  applyVariant,
  buildMatrix,
  matrixDestinations,
  renderMatrixCsv,
  renderMatrixJson,
  variantOption,
  type VariantDraft,
} from "@ovnsim/whatif";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const seed = loadScenario([]);

/**
 * Every row against the trace of its pair: `ovnsim trace --from F --to T --format json` (which
 * takes the cluster path for in-cluster pairs), the tracer itself for an external client.
 */
async function sameAsTrace(s: Scenario, files: string[], m: MatrixDocument): Promise<void> {
  const dsts = new Map(matrixDestinations(s).map((x) => [x.id, x]));
  for (const r of m.rows) {
    const d = dsts.get(r.to)!;
    // An external client takes the physical path. (`ovnsim trace --from client/client` is
    // ambiguous when a pod shares the client's name — examples/cluster-pod-to-clusterip's
    // default/client: trace's cluster check takes the bare name as the pod.)
    const v = r.from.startsWith("client/")
      ? traceScenario(s, { from: r.from.slice("client/".length), to: d.ip, port: d.port, proto: d.proto })
          .verdict
      : JSON.parse(
          (
            await cli([
              "trace",
              ...files,
              "--from",
              r.from,
              "--to",
              d.proto === "icmp" ? d.ip : `${d.ip}:${d.port}`,
              "--proto",
              d.proto,
              "--format",
              "json",
            ])
          ).out,
        ).verdict;
    expect(
      {
        delivered: r.delivered,
        droppedAt: r.droppedAt,
        pod: r.pod,
        node: r.node,
        backend: r.backend,
        reply: r.replyDelivered,
      },
      `${r.from} → ${r.to}`,
    ).toEqual({
      delivered: v.delivered,
      droppedAt: v.droppedAt,
      pod: v.pod,
      node: v.node,
      backend: v.backend,
      reply: v.replyDelivered,
    });
  }
}

describe("matrix on the seed", () => {
  let m: MatrixDocument;
  beforeAll(() => {
    m = buildMatrix(seed);
  }, 120_000);

  it("has every source × destination but a pod to itself", () => {
    expect(m.sources).toEqual([
      "client/client",
      "pod/default/deploy-169402624-0",
      "pod/default/deploy-169402624-1",
      "pod/default/deploy-169402624-2",
      "node/node1",
      "node/node2",
      "node/node3",
    ]);
    expect(m.destinations).toEqual([
      "10.180.204.2:80/tcp",
      "10.180.204.3:80/tcp",
      "10.180.204.4:80/tcp",
      "10.180.204.252:80/tcp",
      "10.96.0.10:80/tcp",
    ]);
    expect(m.rows).toHaveLength(7 * 5 - 3);
    const vip = m.rows.find((r) => r.from === "client/client" && r.to === "10.180.204.252:80/tcp");
    expect(vip).toMatchObject({
      delivered: true,
      pod: "default/deploy-169402624-2",
      node: "node3",
      droppedAt: null,
    });
    // A pod's SYN to the VIP is a new connection in its own ingress pipeline: Kube-OVN 1.14's
    // prefer-local ls_in_lb 140 flow for the pod's chassis DNATs it to the local backend, the pod
    // itself, and OVN's load-balancer hairpin serves it (source SNATed to the VIP).
    const pv = m.rows.find(
      (r) => r.from === "pod/default/deploy-169402624-0" && r.to === "10.180.204.252:80/tcp",
    );
    expect(pv).toMatchObject({
      delivered: true,
      pod: "default/deploy-169402624-0",
      backend: "10.180.204.2:80",
      clientIpPreserved: false,
      replyDelivered: true,
    });
    for (const r of m.rows) expect(r.delivered === (r.droppedAt === null)).toBe(true);
  });

  it("equals one concrete trace per pair (ovnsim trace of that pair)", async () => {
    await sameAsTrace(seed, [], m);
  }, 300_000);

  it("is deterministic byte for byte; CSV has a header and one line per pair", () => {
    const again = buildMatrix(seed);
    expect(renderMatrixJson(again)).toBe(renderMatrixJson(m));
    const csv = renderMatrixCsv(m).split("\r\n");
    expect(csv[0]).toBe(
      "from,to,toObject,delivered,pod,node,backend,clientIpPreserved,replyDelivered,droppedLayer,droppedAt,reason,object",
    );
    expect(csv).toHaveLength(m.rows.length + 2);
  }, 120_000);
});

describe("matrix on a cluster manifest set (ClusterIPs, pods on every node)", () => {
  const dir = new URL("../../../examples/cluster-pod-to-clusterip", import.meta.url).pathname;
  const s = loadScenario([dir]);
  let m: MatrixDocument;
  beforeAll(() => {
    m = buildMatrix(s);
  }, 120_000);

  it("has the ClusterIP on its Service port, and the pods of both nodes as sources", () => {
    expect(m.destinations).toContain("10.96.100.10:80/tcp");
    const cip = matrixDestinations(s).find((d) => d.id === "10.96.100.10:80/tcp");
    expect(cip).toMatchObject({ kind: "clusterip", object: "svc/app/web" });
    expect(m.sources).toEqual(
      expect.arrayContaining([
        "pod/default/client",
        "pod/app/web-0",
        "pod/app/web-1",
        "node/node1",
        "node/node2",
      ]),
    );
    const nodesOfSources = new Set(
      s.pods.filter((p) => m.sources.includes(`pod/${p.namespace}/${p.name}`)).map((p) => p.node),
    );
    expect([...nodesOfSources].sort()).toEqual(["node1", "node2"]);
    const r = m.rows.find((x) => x.from === "pod/default/client" && x.to === "10.96.100.10:80/tcp");
    expect(r).toMatchObject({ delivered: true, pod: "app/web-1", backend: "10.17.0.3:8080" });
  });

  it("equals `ovnsim trace --from F --to T` of each pair (the cluster path where trace takes it)", async () => {
    await sameAsTrace(s, [dir], m);
  }, 300_000);
});

describe("ovnsim matrix", () => {
  it("exit 0 when every chosen pair is delivered, 1 when one is denied, 2 on bad input", async () => {
    const ok = await cli(["matrix", "--from", "client", "--to", "10.180.204.252", "--format", "json"]);
    expect(ok.code).toBe(0);
    const j = JSON.parse(ok.out);
    expect(j.schema).toBe("ovnsim.matrix/v1");
    expect(
      j.rows.map((r: { from: string; to: string; delivered: boolean }) => [r.from, r.to, r.delivered]),
    ).toEqual([["client/client", "10.180.204.252:80/tcp", true]]);
    const bad = await cli([
      "matrix",
      "--from",
      "client",
      "--flag",
      "ls-ct-skip-dst-lport-ips=true",
      "--to",
      "10.180.204.252",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("DENIED at ovn");
    for (const args of [
      ["matrix", "--from", "nobody"],
      ["matrix", "--to", "10.9.9.9"],
      ["matrix", "--format", "pdf"],
      ["matrix", "--etp", "Local,Cluster"],
      ["matrix", "--bogus"],
    ]) {
      expect((await cli(args)).code, args.join(" ")).toBe(2);
    }
  }, 120_000);
});

describe("variant options fuzz", () => {
  it("any option and value gives a variant or a SimError", () => {
    const word = fc.oneof(
      fc.constantFrom("--release", "--metallb", "--flag", "--etp", "--other"),
      fc.string({ maxLength: 12 }),
    );
    const val = fc.oneof(
      fc.constantFrom(
        "1.14",
        "1.15,1.14",
        "v1.15.20",
        "master",
        "Local,Cluster",
        "ls-ct-skip-dst-lport-ips=true,false",
        "enable-lb=t",
        ",",
        "",
      ),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(word, val, fc.boolean(), (name, v, pair) => {
        const sides: [VariantDraft, VariantDraft] = [{}, {}];
        try {
          if (variantOption(sides, name, () => v, pair)) {
            applyVariant(seed, sides[0]);
            applyVariant(seed, sides[1]);
          }
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });
});

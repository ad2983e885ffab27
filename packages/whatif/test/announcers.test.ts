// `branches`' MetalLB-announcer branches on clusters with several L2Advertisements (node
// selectors, interfaces, pools): every candidate of MetalLB's L2 election — the nodes an
// advertisement of the VIP's pool selects, with a running speaker (and a local endpoint under
// externalTrafficPolicy Local), ordered by sha256(node#IP) as speaker ShouldAnnounce orders them —
// is a branch, elected by the simulation's MetalLB once the candidates before it fail.
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Scenario, loadScenario } from "@ovnsim/kube";
import { applyVariant, exploreAnnouncers, exploreBranches } from "@ovnsim/whatif";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const VIP = "10.180.204.252";

/** The election written out from MetalLB's layer2 ShouldAnnounce, independently of the model. */
function expectedCandidates(s: Scenario): string[] {
  const svc = s.services.find((x) => x.vips.includes(VIP))!;
  const ads = s.l2Advertisements.filter(
    (a) => a.ipAddressPools.length === 0 || (svc.pool !== undefined && a.ipAddressPools.includes(svc.pool)),
  );
  const selects = (a: (typeof ads)[number], labels: Readonly<Record<string, string>>) =>
    a.nodeSelectors.length === 0 ||
    a.nodeSelectors.some((m) => Object.entries(m).every(([k, v]) => labels[k] === v));
  const local = new Set(
    svc.endpoints.map((lsp) => s.pods.find((p) => p.lsp === lsp)?.node).filter((n) => n !== undefined),
  );
  return s.nodes
    .filter((n) => n.speaker && ads.some((a) => selects(a, n.labels)))
    .filter((n) => svc.externalTrafficPolicy !== "Local" || local.has(n.name))
    .map((n) => ({ n: n.name, h: createHash("sha256").update(`${n.name}#${VIP}`).digest("hex") }))
    .sort((a, b) => (a.h < b.h ? -1 : 1))
    .map((x) => x.n);
}

describe("announcer branches from manifests with two L2Advertisements", () => {
  it("node selectors pick the candidates; an advertisement's missing interface leaves the old ARP entry", () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-announcers-"));
    try {
      cpSync(new URL("../../../examples/metallb-underlay", import.meta.url), dir, {
        recursive: true,
        filter: (f) => !/\.(ts|md|png|pcapng)$/.test(f),
      });
      // node1 and node3 in zone a, node2 in zone b; zone a's advertisement announces anywhere,
      // zone b's only on eth9, which node2 has not: MetalLB elects node2 but cannot announce
      // (announceFailed), so the gateway keeps sending to the node it last learnt.
      const nodes = ["node1", "node2", "node3"]
        .map(
          (n) =>
            `apiVersion: v1\nkind: Node\nmetadata: { name: ${n}, labels: { zone: ${n === "node2" ? "b" : "a"} } }\n`,
        )
        .join("---\n");
      writeFileSync(join(dir, "05-nodes.yaml"), nodes);
      writeFileSync(
        join(dir, "20-metallb.yaml"),
        `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: underlay-pool, namespace: metallb-system }
spec: { addresses: ["10.180.204.250-10.180.204.254"] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: zone-a, namespace: metallb-system }
spec:
  ipAddressPools: [underlay-pool]
  nodeSelectors: [{ matchLabels: { zone: a } }]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: zone-b, namespace: metallb-system }
spec:
  ipAddressPools: [underlay-pool]
  nodeSelectors: [{ matchLabels: { zone: b } }]
  interfaces: [eth9]
`,
      );
      const s = loadScenario([dir]);
      expect(s.l2Advertisements.map((a) => a.name)).toEqual(["zone-a", "zone-b"]);
      expect(expectedCandidates(s)).toEqual(["node3", "node1", "node2"]);
      const d = exploreBranches(s);
      const ann = d.branches.filter((b) => b.kind === "announcer");
      expect(ann.map((b) => b.choice)).toEqual(["node1", "node2", "(none)"]);
      expect(d.coverage.find((c) => c.kind === "announcer")).toEqual({
        kind: "announcer",
        reached: 3,
        total: 3,
        missed: [],
      });
      expect(ann[0]!.verdict).toBe("delivered to default/deploy-169402624-0 on node1 (DNAT 10.180.204.2:80)");
      // node2 is elected, but its only advertisement names eth9: the ACK still goes to node1.
      expect(ann[1]!.witness).toContain("node2 elected");
      expect(ann[1]!.witness).toContain("on node1");
      // Without the zone-b advertisement, node2 is no candidate at all.
      const onlyA = { ...s, l2Advertisements: s.l2Advertisements.slice(0, 1) };
      const a = exploreAnnouncers(onlyA, { to: VIP, port: 80, proto: "tcp" })!;
      expect(a.branches.map((b) => b.choice)).toEqual(["node1", "(none)"]);
      expect(a.coverage).toMatchObject({ reached: 2, total: 2, missed: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("announcer branches over random advertisements (property)", () => {
  const seed = loadScenario([]);
  const zone = fc.constantFrom("a", "b", "c");
  const advert = fc.record({
    pools: fc.constantFrom<string[]>([], ["underlay-pool"], ["other-pool"]),
    selectors: fc.array(fc.record({ zone }), { maxLength: 2 }),
    interfaces: fc.constantFrom<string[]>([], ["br-provider.341"], ["eth9"]),
  });
  const scenario = fc
    .record({
      zones: fc.tuple(zone, zone, zone),
      speakers: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
      etp: fc.constantFrom<"Local" | "Cluster">("Local", "Cluster"),
      ads: fc.array(advert, { minLength: 1, maxLength: 3 }),
    })
    .map(({ zones, speakers, etp, ads }): Scenario => {
      const base = applyVariant(seed, { release: "1.15", etp });
      return {
        ...base,
        nodes: base.nodes.map((n, i) => ({ ...n, labels: { zone: zones[i]! }, speaker: speakers[i]! })),
        // A second pool, so an advertisement can name a pool the VIP is not in.
        pools: [
          ...base.pools,
          { ...base.pools[0]!, name: "other-pool", addresses: ["10.180.204.240-10.180.204.245"], ranges: [] },
        ],
        l2Advertisements: ads.map((a, i) => ({
          ...base.l2Advertisements[0]!,
          name: `ad${i}`,
          ipAddressPools: a.pools,
          nodeSelectors: a.selectors,
          interfaces: a.interfaces,
        })),
      };
    });

  it("one branch per candidate after the first, in hash order, each elected by MetalLB; then (none)", () => {
    let forks = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const want = expectedCandidates(s);
        const a = exploreAnnouncers(s, { to: VIP, port: 80, proto: "tcp" });
        if (want.length === 0) {
          expect(a).toBeNull();
          return;
        }
        expect(a).not.toBeNull();
        if (want.length > 1) forks++;
        expect(a!.branches.map((b) => b.choice)).toEqual([...want.slice(1), "(none)"]);
        expect(a!.coverage).toEqual({
          kind: "announcer",
          reached: want.length,
          total: want.length,
          missed: [],
        });
        for (const [i, b] of a!.branches.entries()) {
          expect(b.witness).toContain(`on ${want.slice(0, i + 1).join(", ")} down`);
          if (b.choice !== "(none)") expect(b.witness).toContain(`${b.choice} elected`);
          expect(b.delivered).toBe(b.verdict.startsWith("delivered"));
        }
      }),
      { numRuns: 30, seed: 16 },
    );
    // Not vacuous: some runs have a failover to fork on.
    expect(forks).toBeGreaterThan(3);
  }, 600_000);
});

import { createHash } from "node:crypto";
import { isSimError } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { electAnnouncer, loadScenario } from "../src/index.js";

const sha = (t: string) => createHash("sha256").update(t).digest("hex");

describe("MetalLB election from the scenario (physical's model of the speaker)", () => {
  const s = loadScenario();
  const svc0 = s.services[0]!;
  it("hashes a non-canonical IPv6 VIP as Go's net.IP.String() prints it", () => {
    // sha256("nodeN#FD00::FC") would order node1, node3, node2; the speaker hashes "fd00::fc".
    for (const vip of ["FD00::FC", "fd00:0:0:0:0:0:0:fc", "fd00::00fc"]) {
      const svc = { ...svc0, vips: [vip] };
      const a = electAnnouncer(s, svc, vip);
      expect(a.vip).toBe(vip);
      expect(a.node).toBe("node3");
      expect(a.candidates.map((c) => c.node)).toEqual(["node3", "node1", "node2"]);
      expect(a.candidates[0]!.hash).toBe(sha("node3#fd00::fc"));
      expect(a.reason).toBe('sha256("node3#fd00::fc") sorts first among 3 candidate(s)');
    }
  });
  it("an IPv4-mapped IPv6 VIP hashes as the dotted quad", () => {
    const a = electAnnouncer(s, svc0, "::ffff:10.180.204.252");
    expect(a.candidates).toEqual(electAnnouncer(s, svc0, "10.180.204.252").candidates);
  });
  it("a VIP that is no address is a SimError naming the service", () => {
    try {
      electAnnouncer(s, svc0, "fd00::zz");
      expect.unreachable();
    } catch (e) {
      expect(isSimError(e) && e.code === "BAD_VALUE").toBe(true);
      expect(String(e)).toContain(`Service ${svc0.namespace}/${svc0.name}`);
    }
  });
  it("no speaker, no owner; ETP=Local keeps only nodes with an endpoint", () => {
    const quiet = { ...s, nodes: s.nodes.map((n) => ({ ...n, speaker: false })) };
    expect(electAnnouncer(quiet, svc0, "10.180.204.252").node).toBeUndefined();
    const one = { ...svc0, endpoints: svc0.endpoints.slice(0, 1) };
    const a = electAnnouncer(s, one, "10.180.204.252");
    const podNode = s.pods.find((p) => p.lsp === one.endpoints[0])!.node;
    expect(a.candidates.map((c) => c.node)).toEqual([podNode]);
    expect(electAnnouncer(s, { ...svc0, endpoints: [] }, "10.180.204.252").reason).toBe(
      "the service has no ready endpoint",
    );
  });
});

import { scenarioFromYaml } from "@ovnsim/kube";
import { encodeFrame, type TraceDocument } from "@ovnsim/tracer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbFlow, arbTopology, lab, ovnsimMatchers, scenarioYaml, traceOnce } from "../src/index.js";

expect.extend(ovnsimMatchers);

const fakeDoc = (over: Partial<TraceDocument["verdict"]>): TraceDocument => ({
  schema: "ovnsim.trace/v1",
  scenario: "x",
  request: { from: "client", to: "10.0.0.1", port: 80, proto: "tcp" },
  verdict: {
    delivered: false,
    pod: null,
    node: null,
    announcingNode: null,
    backend: null,
    backendLocal: null,
    clientIpPreserved: null,
    replyDelivered: null,
    replySourceIp: null,
    droppedAt: null,
    ...over,
  },
  findings: [],
  missingLayers: [],
  forward: { layer: "physical", where: "forward", summary: "", children: [] },
  reply: null,
});

describe("matchers", () => {
  it("pass and fail on verdicts", () => {
    const ok = fakeDoc({
      delivered: true,
      pod: "default/web-0",
      node: "node1",
      clientIpPreserved: true,
      backendLocal: true,
    });
    expect(ok).toBeDeliveredTo("web-0");
    expect(ok).toBeDeliveredTo("default/web-0");
    expect(ok).toPreserveClientIp();
    expect(ok).toUseLocalBackend();
    expect(ok).not.toBeDroppedAt("ovn");
    const bad = fakeDoc({
      droppedAt: { layer: "ovn", where: "logical switch", reason: "outport == inport" },
    });
    expect(bad).toBeDroppedAt("ovn");
    expect(bad).toBeDroppedAt(/outport == inport/);
    expect(bad).not.toBeDeliveredTo();
    expect(() => expect(bad).toBeDeliveredTo("web-0")).toThrow(/dropped at \[ovn\]/);
  });
});

describe("arbitraries", () => {
  it("every arbitrary topology loads (or is rejected with a SimError) and every flow encodes", () => {
    fc.assert(
      fc.property(arbTopology(), (p) => {
        const s = scenarioFromYaml(scenarioYaml(p));
        expect(s.nodes).toHaveLength(p.nodes);
        expect(s.pods).toHaveLength(p.replicas);
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(arbFlow(), (f) => {
        expect(encodeFrame(f).length).toBeGreaterThanOrEqual(60);
      }),
      { numRuns: 200 },
    );
  });
});

describe("traces", () => {
  it("lab keeps state across traces", () => {
    const l = lab();
    expect(l.trace({ srcPort: 41000 })).toBeDeliveredTo();
    expect(l.trace({ srcPort: 41001 })).toUseLocalBackend();
  });
  it("property: with --ls-ct-skip-dst-lport-ips=true the VIP is never DNATed", () => {
    fc.assert(
      fc.property(arbTopology(), (p) => {
        const doc = traceOnce(
          scenarioYaml({
            ...p,
            ctSkip: true,
            preferLocal: true,
            externalLb: true,
            etpLocal: true,
            replicas: Math.max(1, p.replicas),
          }),
        );
        expect(doc.verdict.backend).toBeNull();
        expect(doc).not.toBeDeliveredTo();
      }),
      { numRuns: 4 },
    );
  });
  it("property: the documented configuration always delivers locally with the client IP", () => {
    fc.assert(
      fc.property(arbTopology(), (p) => {
        const doc = traceOnce(
          scenarioYaml({
            ...p,
            ctSkip: false,
            preferLocal: true,
            externalLb: true,
            etpLocal: true,
            dnatModDlDst: true,
            replicas: Math.max(1, p.replicas),
          }),
        );
        expect(doc).toBeDeliveredTo();
        expect(doc).toUseLocalBackend();
        expect(doc).toPreserveClientIp();
      }),
      { numRuns: 4 },
    );
  });
});

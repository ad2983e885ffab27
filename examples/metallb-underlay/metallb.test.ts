// Example: asserting on the seed scenario with @ovnsim/testing, as another tool would.
import { lab, ovnsimMatchers } from "@ovnsim/testing";
import { describe, expect, it } from "vitest";

expect.extend(ovnsimMatchers);

const seed = lab(); // examples/metallb-underlay, loaded in one call
describe("MetalLB + Kube-OVN underlay (the seed document)", () => {
  it("delivers the client's request to a Pod on the announcing node, keeping the client IP", () => {
    const doc = seed.trace({ srcPort: 50000 });
    expect(doc).toBeDeliveredTo("deploy-169402624-2");
    expect(doc).toUseLocalBackend();
    expect(doc).toPreserveClientIp();
    expect(doc.verdict.replySourceIp).toBe("10.180.204.252");
  });
});

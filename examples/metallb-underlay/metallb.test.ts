// Example: asserting on the seed scenario with @ovnsim/testing, as another tool would.
import { lab, ovnsimMatchers } from "@ovnsim/testing";
import { renderText } from "@ovnsim/tracer";
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
    expect(doc.verdict.replyDelivered).toBe(true);
    // Attribution: the objects behind the VIP, then the NB row.
    expect(renderText(doc, { detailed: false })).toContain(
      'Service default/nginx-lb (externalTrafficPolicy Local) · MetalLB IPAddressPool underlay-pool · L2Advertisement metallb-system/l2-advert · announced by node3 (ARP) · NB Load_Balancer cluster-tcp-loadbalancer vips "10.180.204.252:80"',
    );
  });
});

// Example: kube-ovn #5680, "MetalLB + Underlay - Only last created service works" (v1.14.5).
// Two LoadBalancer Services with externalTrafficPolicy Local and different backends share
// cluster-tcp-loadbalancer. On v1.14.0–v1.14.39 / v1.15.0–v1.15.4, LoadBalancerUpdateIPPortMapping
// (pkg/ovs/ovn-nb-load_balancer.go) deletes every ip_port_mappings entry that is not in the mapping
// it writes, so handling web-lb (created last) wipes nginx-lb's entries: the patched northd then
// has no logical port, hence no chassis, for nginx-lb's backends and builds no prefer-local
// ls_in_lb 140 flow for its VIP. The 120 flow picks any backend; a remote one is dropped on the
// announcing node (the DNATed packet would have to go back out the localnet port it came in by).
// The fix (#6830, v1.14.40 / v1.15.5) keeps entries another VIP still uses.
import path from "node:path";
import { deriveNbctl, diagnose, loadScenario, readManifestPaths, scenarioFromTexts } from "@ovnsim/kube";
import { readPcapng } from "@ovnsim/packet";
import {
  captureWorld,
  createSimulation,
  renderText,
  runTrace,
  toJson,
  trace,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const sim = createSimulation(s);
const withImage = (tag: string) =>
  scenarioFromTexts(
    readManifestPaths([import.meta.dirname]).map((t) =>
      path.basename(t.file) === "00-kube-ovn-controller.yaml"
        ? { ...t, text: t.text.replace("kube-ovn:v1.14.5", `kube-ovn:${tag}`) }
        : t,
    ),
  );

describe("kube-ovn #5680: only the last created MetalLB Service works", () => {
  it("v1.14.5: only web-lb's backends keep their ip_port_mappings", () => {
    const nb = deriveNbctl(s).join("\n");
    expect(nb).toContain("lb-add cluster-tcp-loadbalancer 10.180.204.252:80");
    expect(nb).toContain("lb-add cluster-tcp-loadbalancer 10.180.204.253:80");
    expect(nb).toContain("ip_port_mappings:10.180.204.5=web-0.default:0.0.0.0");
    expect(nb).not.toContain("deploy-169402624-0.default:0.0.0.0");
    const fixed = deriveNbctl(withImage("v1.14.40")).join("\n");
    expect(fixed).toContain("ip_port_mappings:10.180.204.2=deploy-169402624-0.default:0.0.0.0");
  });
  it("the first Service's VIP: no 140 flow, the 120 flow picks a remote backend, dropped on the announcing node", () => {
    const { doc, frames } = runTrace(sim, { to: "10.180.204.252" });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.announcingNode).toBe("node3");
    expect(doc.verdict.backendLocal).toBe(false);
    expect(doc.verdict.droppedAt?.layer).toBe("ovn");
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("ls_in_lb (table 13): priority 120: ct.new && ip4.dst == 10.180.204.252");
    expect(text).not.toContain("priority 140: ct.new && ip4.dst == 10.180.204.252");
    expect(doc.findings.map((f) => f.code)).toContain("IP_PORT_MAPPINGS_OVERWRITTEN");
    const cap = readPcapng(writeTracePcapng(frames, captureWorld(sim)))[0]!;
    expect(cap.interfaces.map((i) => i.name)).toContain("client/eth0");
    expect(
      toJson(trace(createSimulation(loadScenario([import.meta.dirname])), { to: "10.180.204.252" })),
    ).toBe(toJson(doc));
  });
  it("the last Service's VIP: its 140 flow DNATs to the local backend, and the reply comes back from the VIP", () => {
    const { doc } = runTrace(sim, { to: "10.180.204.253" });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      backendLocal: true,
      clientIpPreserved: true,
      replyDelivered: true,
      replySourceIp: "10.180.204.253",
    });
    expect(renderText(doc, { detailed: false })).toContain(
      'priority 140: ct.new && ip4.dst == 10.180.204.253 && tcp.dst == 80 && is_chassis_resident("web-0.default")',
    );
  });
  it("the doctor names the Service that lost its entries, and the fix", () => {
    const f = diagnose(s).filter((x) => x.code === "IP_PORT_MAPPINGS_OVERWRITTEN");
    expect(f.map((x) => x.subject)).toEqual(["Service default/nginx-lb"]);
    expect(f[0]!.message).toContain("once default/web-lb (created after it) is handled");
    expect(f[0]!.fix).toContain("v1.14.40+ or v1.15.5+");
  });
  it("v1.14.40 and v1.15.5 keep every Service's entries: both VIPs reach a local backend", () => {
    for (const tag of ["v1.14.40", "v1.15.5"]) {
      const fixed = withImage(tag);
      expect(diagnose(fixed).map((x) => x.code)).not.toContain("IP_PORT_MAPPINGS_OVERWRITTEN");
      const fsim = createSimulation(fixed);
      for (const vip of ["10.180.204.252", "10.180.204.253"]) {
        const d = trace(fsim, { to: vip });
        expect(d.verdict.delivered, `${tag} ${vip}`).toBe(true);
        expect(d.verdict.backendLocal, `${tag} ${vip}`).toBe(true);
      }
    }
    // v1.15.4 still has the eager delete.
    expect(diagnose(withImage("v1.15.4")).map((x) => x.code)).toContain("IP_PORT_MAPPINGS_OVERWRITTEN");
  });
});

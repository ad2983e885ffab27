import { loadScenario } from "@ovnsim/kube";
import { describe, expect, it } from "vitest";
import {
  TRACE_JSON_SCHEMA,
  createSimulation,
  renderText,
  runTrace,
  toJson,
  trace,
  traceScenario,
} from "../src/index.js";
import { edited, traceTexts } from "./helpers.js";

describe("the seed trace", () => {
  const doc = traceScenario(loadScenario());
  it("is delivered to a Pod on the announcing node, client IP kept, reply from the VIP", () => {
    expect(doc.verdict).toEqual({
      delivered: true,
      pod: "default/deploy-169402624-2",
      node: "node3",
      announcingNode: "node3",
      backend: "10.180.204.4:80",
      backendLocal: true,
      clientIpPreserved: true,
      replyDelivered: true,
      replySourceIp: "10.180.204.252",
      droppedAt: null,
    });
  });
  it("crosses every layer in order", () => {
    const layers = doc.forward.children.map((s) => s.layer);
    const first = (l: string) => layers.indexOf(l as never);
    // The Kubernetes objects behind the VIP come first (attribution), then the wire.
    expect(first("kube")).toBe(0);
    expect(first("physical")).toBe(1);
    expect(first("openflow")).toBeGreaterThan(0);
    expect(first("ovn")).toBeGreaterThan(first("openflow"));
    const text = renderText(doc, { detailed: true });
    expect(text).toContain("cookie 0x1000");
    expect(text).toContain("mod_dl_dst:00:00:00:01:00:01");
    expect(text).toContain("strip_vlan");
    expect(text).toMatch(/ls_in_lb.*priority 140/);
    expect(text).toContain('is_chassis_resident("deploy-169402624-2.default")');
    expect(text).toContain("speaker answers ARP for 10.180.204.252");
    expect(text).toContain(
      '10.180.204.252 is a LoadBalancer address of Service default/nginx-lb (externalTrafficPolicy Local) · MetalLB IPAddressPool underlay-pool · L2Advertisement metallb-system/l2-advert · announced by node3 (ARP) · NB Load_Balancer cluster-tcp-loadbalancer vips "10.180.204.252:80"',
    );
  });
  it("is deterministic", () => {
    expect(toJson(traceScenario(loadScenario()))).toBe(toJson(doc));
  });
  it("matches the JSON schema's required keys", () => {
    const s = TRACE_JSON_SCHEMA as { required: string[]; properties: { verdict: { required: string[] } } };
    const j = JSON.parse(toJson(doc));
    for (const k of s.required) expect(j).toHaveProperty(k);
    for (const k of s.properties.verdict.required) expect(j.verdict).toHaveProperty(k);
    expect(j.schema).toBe("ovnsim.trace/v1");
  });
  it("collects the frames of every hop for the pcap", () => {
    const { frames } = runTrace(createSimulation(loadScenario()));
    expect(frames.some((f) => f.flow.vlans[0]?.vid === 341)).toBe(true);
    expect(frames.length).toBeGreaterThan(8);
  });
  it("traces a second connection on the same simulation (state kept: ARP, MACs, conntrack)", () => {
    const sim = createSimulation(loadScenario());
    trace(sim, { srcPort: 40000 });
    const d = trace(sim, { srcPort: 40001 });
    expect(d.verdict.delivered).toBe(true);
    expect(sim.ctByNode.get("node3")!.size()).toBe(2);
  });
  it("with tcpFlags (conntrack looked up first), the reply is still un-DNATed by the node that committed it", () => {
    // The forward commit and the reply's un-DNAT use the same per-node table: a cluster-wide copy
    // committed only without tcpFlags once left this reply with the backend's address.
    const sim = createSimulation(loadScenario());
    const d = trace(sim, { srcPort: 40000, tcpFlags: 0x02 });
    expect(d.verdict).toMatchObject({
      delivered: true,
      replyDelivered: true,
      replySourceIp: "10.180.204.252",
    });
    const again = trace(sim, { srcPort: 40000, tcpFlags: 0x10 });
    expect(again.verdict).toMatchObject({ delivered: true, replySourceIp: "10.180.204.252" });
    expect(sim.ctByNode.get("node3")!.size()).toBe(1);
  });
});

/** Each finding of the doctor, with the trace step where the real system fails. */
describe("diagnostics: the failing step", () => {
  const cases: {
    code: string;
    edits: [string | RegExp, string][];
    layer: string;
    where: RegExp;
    reason: RegExp;
  }[] = [
    {
      code: "EXTERNAL_LB_ADDRESS_DISABLED",
      edits: [["enableExternalLBAddress: true", "enableExternalLBAddress: false"]],
      layer: "physical",
      where: /node3/,
      reason: /not local and node3 does not forward it/,
    },
    {
      code: "LS_CT_SKIP_DST_LPORT_IPS",
      edits: [["--ls-ct-skip-dst-lport-ips=false", "--ls-ct-skip-dst-lport-ips=true"]],
      layer: "ovn",
      where: /no output/,
      reason: /outport == inport|input port/,
    },
    {
      code: "PREFER_LOCAL_DISABLED",
      edits: [["--enable-ovn-lb-prefer-local=true", "--enable-ovn-lb-prefer-local=false"]],
      layer: "ovn",
      where: /no output/,
      reason: /outport == inport|input port/,
    },
    {
      code: "ETP_CLUSTER",
      edits: [["externalTrafficPolicy: Local", "externalTrafficPolicy: Cluster"]],
      layer: "ovn",
      where: /no output/,
      reason: /outport == inport|input port/,
    },
    {
      code: "DNAT_MOD_DL_DST_DISABLED",
      edits: [["--ls-dnat-mod-dl-dst=true", "--ls-dnat-mod-dl-dst=false"]],
      layer: "ovn",
      where: /no output/,
      reason: /outport == inport|input port/,
    },
    {
      code: "METALLB_INTERFACE_NO_VLAN",
      edits: [["interface: br-provider.341", "interface: br-provider"]],
      layer: "physical",
      where: /gw eth0/,
      reason: /did not answer/,
    },
    {
      code: "NO_LOCAL_ENDPOINT",
      edits: [
        ["replicas: 3", "replicas: 1"],
        ["externalTrafficPolicy: Local", "externalTrafficPolicy: Cluster"],
      ],
      layer: "physical",
      where: /node3/,
      reason: /not local and node3 does not forward it/,
    },
    {
      code: "SUBNET_NOT_UNDERLAY",
      edits: [[/\n\s*vlan: vlan341[^\n]*/, ""]],
      layer: "physical",
      where: /node3/,
      reason: /not local and node3 does not forward it/,
    },
    {
      code: "POOL_OUTSIDE_SUBNET",
      edits: [
        ["10.180.204.250-10.180.204.254", "10.180.205.250-10.180.205.254"],
        ["- ip: 10.180.204.252", "- ip: 10.180.205.252"],
      ],
      layer: "physical",
      where: /gw/,
      reason: /no route|did not answer/,
    },
  ];
  for (const c of cases) {
    it(`${c.code}`, () => {
      const doc = traceTexts(edited(...c.edits));
      expect(doc.findings.map((f) => f.code)).toContain(c.code);
      expect(doc.verdict.delivered, renderText(doc)).toBe(false);
      expect(doc.verdict.droppedAt?.layer).toBe(c.layer);
      expect(doc.verdict.droppedAt?.where).toMatch(c.where);
      expect(doc.verdict.droppedAt?.reason).toMatch(c.reason);
    });
  }
  it("POOL_NOT_EXCLUDED: IPAM hands the VIP to a Pod", () => {
    const doc = traceTexts(
      edited(
        [/- 10\.180\.204\.250\n/, "- 10.180.204.200\n"],
        [/- 10\.180\.204\.251\n/, "- 10.180.204.201\n"],
        [/- 10\.180\.204\.252 #/, "- 10.180.204.202 #"],
        ["replicas: 3", "replicas: 3\n  # "],
      ).concat([
        {
          file: "pod.yaml",
          text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: squatter\n  annotations:\n    ovn.kubernetes.io/logical_switch: underlay-subnet\n    ovn.kubernetes.io/ip_address: 10.180.204.252\nspec:\n  nodeName: node1\n",
        },
      ]),
    );
    const f = doc.findings.find((x) => x.code === "POOL_NOT_EXCLUDED");
    expect(f?.severity).toBe("error");
    expect(f?.message).toContain("squatter");
  });
});

describe("Kube-OVN 1.15.20+ with MetalLB ≥ 0.14.4 (the VIP-node marker)", () => {
  it("ls_in_lb 140 on is_chassis_resident(node-<announcer>) DNATs to its local backend", () => {
    const doc = traceTexts(
      edited(["kube-ovn:v1.14.5", "kube-ovn:v1.15.20"], ['version: "0.13.7"', 'version: "0.14.9"']),
    );
    expect(doc.verdict).toMatchObject({
      delivered: true,
      node: "node3",
      backendLocal: true,
      replySourceIp: "10.180.204.252",
    });
    const text = renderText(doc, { detailed: true });
    expect(text).toContain('is_chassis_resident("node-node3")');
  });
  it("without MetalLB's ServiceL2Status (0.13.7) there is no marker: the 1.14-style 140 flows", () => {
    const doc = traceTexts(edited(["kube-ovn:v1.14.5", "kube-ovn:v1.15.20"]));
    expect(doc.verdict.delivered).toBe(true);
    expect(renderText(doc, { detailed: true })).not.toContain("node-node3");
  });
});

describe("other sources", () => {
  it("pod → pod on another node crosses the underlay through both localnet ports, and back", () => {
    const doc = traceScenario(loadScenario(), { from: "deploy-169402624-0", to: "10.180.204.3", port: 80 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "default/deploy-169402624-1",
      node: "node2",
      clientIpPreserved: true,
      replyDelivered: true,
      replySourceIp: "10.180.204.3",
    });
  });
});

import { sharedDir } from "@ovnsim/oracle";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import { parseNbctl } from "@ovnsim/ovn";
import { describe, expect, it } from "vitest";
import {
  type ManifestText,
  controllerFromArgs,
  deriveNbctl,
  deriveNodeDataplane,
  diagnose,
  electAnnouncer,
  loadScenario,
  readManifestPaths,
  scenarioFromTexts,
  scenarioFromYaml,
  seedScenarioDir,
} from "../src/index.js";

const seed = (): ManifestText[] => readManifestPaths([seedScenarioDir()]);
/** The seed texts with one replacement applied to the file that contains `from`. */
function edited(from: string | RegExp, to: string, drop: string[] = []): ManifestText[] {
  let hit = false;
  const out = seed()
    .filter((t) => !drop.some((d) => t.file.endsWith(d)))
    .map((t) => {
      const n = t.text.replace(from, to);
      if (n !== t.text) hit = true;
      return { ...t, text: n };
    });
  if (!hit) throw new Error(`no manifest contains ${from}`);
  return out;
}
const codes = (t: ManifestText[]) => diagnose(scenarioFromTexts(t)).map((f) => f.code);

describe("the seed scenario", () => {
  const s = loadScenario();
  it("reads the controller flags and release from the Deployment", () => {
    expect(s.controller).toMatchObject({
      release: "1.14",
      version: "v1.14.5",
      enableOvnLbPreferLocal: true,
      lsCtSkipDstLportIps: false,
      lsDnatModDlDst: true,
    });
  });
  it("places pods round-robin and allocates IPs lowest-first skipping the gateway", () => {
    expect(s.pods.map((p) => [p.lsp, p.node, p.ip, p.mac])).toEqual([
      ["deploy-169402624-0.default", "node1", "10.180.204.2", "00:00:00:b4:cc:02"],
      ["deploy-169402624-1.default", "node2", "10.180.204.3", "00:00:00:b4:cc:03"],
      ["deploy-169402624-2.default", "node3", "10.180.204.4", "00:00:00:b4:cc:04"],
    ]);
  });
  it("takes the VIP from status.loadBalancer and finds its pool", () => {
    expect(s.services[0]).toMatchObject({
      vips: ["10.180.204.252"],
      vipSource: "status",
      pool: "underlay-pool",
    });
  });
  it("derives the NB state, which the OVN package's nbctl reader accepts", () => {
    const lines = deriveNbctl(s);
    expect(lines).toContain(
      'ovn-nbctl lb-add cluster-tcp-loadbalancer 10.180.204.252:80 "10.180.204.2:80,10.180.204.3:80,10.180.204.4:80" tcp',
    );
    expect(lines.join("\n")).toContain("tag=341 external_ids:ipv4_network=10.180.204.0/24");
    const db = parseNbctl(lines.join("\n"));
    const lb = db.loadBalancers.find((l) => l.name === "cluster-tcp-loadbalancer")!;
    expect(lb.options.prefer_local_backend).toBe("true");
    expect(lb.ipPortMappings["10.180.204.2"]).toBe("deploy-169402624-0.default:0.0.0.0");
    expect(db.nbGlobal.options.ls_ct_skip_dst_lport_ips).toBe("false");
    const ln = db.switches[0]!.ports.find((p) => p.name === "localnet.underlay-subnet")!;
    expect(ln).toMatchObject({ type: "localnet", tag: 341, addresses: ["unknown"] });
  });
  it("installs the cookie-0x1000 VIP flow on br-provider of every node with pods", () => {
    for (const n of s.nodes) {
      const dp = deriveNodeDataplane(s, n.name);
      const br = dp.bridges.find((b) => b.name === "br-provider")!;
      expect(br.flows[0]).toBe(
        "cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2",
      );
      expect(br.flows.at(-1)).toBe("priority=0 actions=NORMAL");
      const brInt = dp.bridges.find((b) => b.name === "br-int")!;
      expect(brInt.flows[0]).toMatch(/^table=0,priority=150,in_port=1,dl_vlan=341 actions=strip_vlan,/);
    }
  });
  it("elects MetalLB's announcer by sha256(node#vip) among nodes with an endpoint", () => {
    const a = electAnnouncer(s, s.services[0]!, "10.180.204.252");
    expect(a.node).toBe("node3");
    expect(a.candidates.map((c) => c.node)).toEqual(["node3", "node1", "node2"]);
  });
  it("has only the published pool/excludeIps mismatch as a finding", () => {
    const f = diagnose(s);
    expect(f.map((x) => [x.code, x.severity])).toEqual([["POOL_NOT_EXCLUDED", "warning"]]);
  });
});

describe("defaults", () => {
  it("without a kube-ovn-controller Deployment, --ls-ct-skip-dst-lport-ips defaults to true", () => {
    const t = seed().filter((x) => !x.file.endsWith("00-kube-ovn-controller.yaml"));
    const s = scenarioFromTexts(t);
    expect(s.controller.lsCtSkipDstLportIps).toBe(true);
    expect(s.controller.enableOvnLbPreferLocal).toBe(false);
    expect(codes(t)).toEqual(expect.arrayContaining(["LS_CT_SKIP_DST_LPORT_IPS", "PREFER_LOCAL_DISABLED"]));
  });
  it("without Node manifests there are node1..node3, and a default physical network", () => {
    const s = scenarioFromYaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    expect(s.nodes.map((n) => n.name)).toEqual(["node1", "node2", "node3"]);
    expect(s.physical.clients[0]).toMatchObject({ name: "client", ip: "192.0.2.10" });
    expect(s.physical.switches[0]!.ports.filter((p) => p.vlanMode === "trunk")).toHaveLength(3);
  });
  it("MetalLB allocates the pool's first free address when status is absent", () => {
    const t = edited(/status:\n +loadBalancer:\n +ingress:\n +- ip: 10.180.204.252\n/, "");
    expect(scenarioFromTexts(t).services[0]!.vips).toEqual(["10.180.204.250"]);
  });
  it("image tags choose the release and the VIP-node marker", () => {
    expect(controllerFromArgs([], "kubeovn/kube-ovn:v1.15.3")).toMatchObject({
      release: "1.15",
      vipNodeMarkerSupported: false,
    });
    expect(controllerFromArgs([], "kubeovn/kube-ovn:v1.15.20")).toMatchObject({
      release: "1.15",
      vipNodeMarkerSupported: true,
    });
    expect(controllerFromArgs([], "kubeovn/kube-ovn:v1.16.0").vipNodeMarkerSupported).toBe(true);
    expect(
      controllerFromArgs(["--ls-ct-skip-dst-lport-ips=$(SKIP)"], undefined, { SKIP: "false" })
        .lsCtSkipDstLportIps,
    ).toBe(false);
  });
  it("excludeIps ranges a..b are skipped by IPAM", () => {
    const t = edited(/- 10\.180\.204\.250\n/, "- 10.180.204.2..10.180.204.9\n    - 10.180.204.250\n");
    expect(scenarioFromTexts(t).pods.map((p) => p.ip)).toEqual([
      "10.180.204.10",
      "10.180.204.11",
      "10.180.204.12",
    ]);
  });
});

describe("doctor: one misconfiguration per code", () => {
  it("SUBNET_NOT_UNDERLAY for the seed document's manifests alone", () => {
    const doc = readFileSync(join(sharedDir(), "docs/seed-metallb-underlay.md"), "utf8");
    const yamls = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m, i) => ({
      file: `seed-${i}.yaml`,
      text: m[1]!,
    }));
    expect(yamls.length).toBe(3);
    const c = codes(yamls);
    expect(c).toContain("SUBNET_NOT_UNDERLAY");
  });
  const cases: [string, string | RegExp, string, string[]?][] = [
    ["EXTERNAL_LB_ADDRESS_DISABLED", "enableExternalLBAddress: true", "enableExternalLBAddress: false"],
    ["LS_CT_SKIP_DST_LPORT_IPS", "--ls-ct-skip-dst-lport-ips=false", "--ls-ct-skip-dst-lport-ips=true"],
    ["PREFER_LOCAL_DISABLED", "--enable-ovn-lb-prefer-local=true", "--enable-ovn-lb-prefer-local=false"],
    ["ETP_CLUSTER", "externalTrafficPolicy: Local", "externalTrafficPolicy: Cluster"],
    ["POOL_NOT_EXCLUDED", /- 10\.180\.204\.252 #/, "#"],
    ["POOL_OUTSIDE_SUBNET", "10.180.204.250-10.180.204.254", "10.180.205.250-10.180.205.254"],
    ["METALLB_INTERFACE_NO_VLAN", "interface: br-provider.341", "interface: br-provider"],
    ["DNAT_MOD_DL_DST_DISABLED", "--ls-dnat-mod-dl-dst=true", "--ls-dnat-mod-dl-dst=false"],
    ["NO_LOCAL_ENDPOINT", "replicas: 3", "replicas: 1"],
  ];
  for (const [code, from, to] of cases) {
    it(code, () => {
      const f = diagnose(scenarioFromTexts(edited(from, to)));
      const hit = f.find((x) => x.code === code);
      expect(hit, JSON.stringify(f, null, 1)).toBeDefined();
      expect(hit!.message.length).toBeGreaterThan(20);
      expect(hit!.fix.length).toBeGreaterThan(10);
    });
  }
  it("NO_LOCAL_ENDPOINT is an error when MetalLB (ETP=Cluster) announces from a node without pods", () => {
    const t = edited("externalTrafficPolicy: Local", "externalTrafficPolicy: Cluster").map((x) => ({
      ...x,
      text: x.text.replace("replicas: 3", "replicas: 1"),
    }));
    const s = scenarioFromTexts(t);
    const ann = electAnnouncer(s, s.services[0]!, "10.180.204.252").node;
    const f = diagnose(s).filter((x) => x.code === "NO_LOCAL_ENDPOINT");
    if (ann !== "node1") expect(f.some((x) => x.severity === "error")).toBe(true);
    const dp = deriveNodeDataplane(s, "node2");
    expect(dp.bridges[0]!.flows).toEqual(["priority=0 actions=NORMAL"]);
    expect(dp.notes[0]).toContain("may not have pods on this node yet");
  });
});

describe("bad input", () => {
  const bad: [string, string][] = [
    [
      "apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s}\nspec: {cidrBlock: 10.0.0.0/24, excludeIps: ['10.0.0.x']}\n",
      "BAD_VALUE",
    ],
    [
      "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: ['10.0.0.9']}\n",
      "BAD_VALUE",
    ],
    ["kind: Service\nmetadata: {name: s}\n", "PARSE_ERROR"],
    ["a: [1, 2\n", "PARSE_ERROR"],
    [
      "apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: {name: s}\nspec: {cidrBlock: 10.0.0.0/24, vlan: nope}\n",
      "UNKNOWN_OBJECT",
    ],
    ["apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}\n", "BAD_VALUE"],
    [
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
      "DUPLICATE",
    ],
  ];
  for (const [text, code] of bad) {
    it(`${code}: ${text.split("\n")[1] ?? text}`, () => {
      try {
        scenarioFromYaml(text, "bad.yaml");
        expect.unreachable();
      } catch (e) {
        expect(isSimError(e)).toBe(true);
        if (isSimError(e)) {
          expect(e.code).toBe(code);
          expect(e.message).toMatch(/^bad\.yaml/);
        }
      }
    });
  }
});

describe("VIP-node marker (Kube-OVN v1.15.20+, MetalLB with ServiceL2Status)", () => {
  it("is written on the LB with the join switch's node ports", () => {
    const t = edited("kube-ovn:v1.14.5", "kube-ovn:v1.15.20").map((x) => ({
      ...x,
      text: x.text.replace('version: "0.13.7"', 'version: "0.14.9"'),
    }));
    const lines = deriveNbctl(scenarioFromTexts(t));
    expect(lines).toContain(
      "ovn-nbctl set Load_Balancer cluster-tcp-loadbalancer 'external_ids:\"kube-ovn.io/local-external-vip/10.180.204.252:80\"=node-node3'",
    );
    const db = parseNbctl(lines.join("\n"));
    expect(db.loadBalancers[0]!.externalIds["kube-ovn.io/local-external-vip/10.180.204.252:80"]).toBe(
      "node-node3",
    );
    expect(db.portBindings.find((b) => b.logicalPort === "node-node3")?.chassis).toBe("node3");
  });
});

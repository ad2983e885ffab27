import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { diagnose, scenarioFromYaml } from "../src/index.js";

function tryLoad(text: string): void {
  try {
    const s = scenarioFromYaml(text, "fuzz.yaml");
    diagnose(s);
  } catch (e) {
    if (!isSimError(e)) throw e;
  }
}

const kinds = [
  "Subnet",
  "Vlan",
  "ProviderNetwork",
  "IPAddressPool",
  "L2Advertisement",
  "Service",
  "Deployment",
  "Pod",
  "Node",
  "Scenario",
];
const apis: Record<string, string> = {
  Subnet: "kubeovn.io/v1",
  Vlan: "kubeovn.io/v1",
  ProviderNetwork: "kubeovn.io/v1",
  IPAddressPool: "metallb.io/v1beta1",
  L2Advertisement: "metallb.io/v1beta1",
  Service: "v1",
  Deployment: "apps/v1",
  Pod: "v1",
  Node: "v1",
  Scenario: "ovnsim.dev/v1alpha1",
};
const leaf = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "10.180.204.0/24",
    "10.180.204.1",
    "10.180.204.250-10.180.204.254",
    "10.0.0.1..10.0.0.9",
    "Local",
    "TCP",
    "341",
    "v1.15.20",
    "fd00:10:180:204::/64",
    "fd00:10:180:204::fa-fd00:10:180:204::fe",
    "fd00::1/64",
    "fd00::zz/64",
    "IPv6",
    "Dual",
    "RequireDualStack",
  ),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(
        "cidrBlock",
        "gateway",
        "excludeIps",
        "vlan",
        "id",
        "provider",
        "addresses",
        "ports",
        "port",
        "replicas",
        "selector",
        "nodes",
        "name",
        "ip",
        "mac",
        "interfaces",
        "switches",
        "routers",
        "clients",
        "type",
        "externalTrafficPolicy",
        "status",
        "loadBalancer",
        "ingress",
        "template",
        "spec",
        "metadata",
        "labels",
        "ip6",
        "gateway6",
        "ipFamilies",
        "ipFamilyPolicy",
        "protocol",
      ),
      tie("v"),
      { maxKeys: 4 },
    ),
  ),
})).v;

describe("manifest reader fuzz", () => {
  it("random text gives a scenario or a SimError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (t) => tryLoad(t)),
      { numRuns: 300 },
    );
  });
  it("random objects of known kinds give a scenario or a SimError", () => {
    const obj = fc.record({
      kind: fc.constantFrom(...kinds),
      name: fc.constantFrom("a", "b", "underlay-subnet"),
      spec: value,
      status: value,
    });
    fc.assert(
      fc.property(fc.array(obj, { maxLength: 4 }), (objs) => {
        const text = objs
          .map((o) =>
            stringify({
              apiVersion: apis[o.kind],
              kind: o.kind,
              metadata: { name: o.name },
              spec: o.spec,
              status: o.status,
            }),
          )
          .join("---\n");
        tryLoad(text);
      }),
      { numRuns: 300 },
    );
  });
  it("IPv6 pool entries and dual-stack Services: a scenario or a SimError, never a crash", () => {
    const entry = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: -1, max: 130 }))
        .map(([v, l]) => `${v.toString(16).replace(/(.{4})(?=.)/g, "$1:")}/${l}`),
      fc.constantFrom(
        "fd00::fa-fd00::fe",
        "fd00::fe-fd00::fa",
        "fd00::1/128",
        "fd00::/120",
        "::/0",
        "fd00::-",
      ),
    );
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 3 }),
        fc.constantFrom(["IPv4"], ["IPv6"], ["IPv4", "IPv6"], []),
        (addresses, ipFamilies) => {
          tryLoad(
            stringify({
              apiVersion: "metallb.io/v1beta1",
              kind: "IPAddressPool",
              metadata: { name: "p" },
              spec: { addresses },
            }) +
              "---\n" +
              stringify({
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "s" },
                spec: { type: "LoadBalancer", ipFamilies, ports: [{ port: 80 }] },
              }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
  it("is deterministic", () => {
    const text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 5}\n";
    expect(JSON.stringify(scenarioFromYaml(text))).toBe(JSON.stringify(scenarioFromYaml(text)));
  });
});

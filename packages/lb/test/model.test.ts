import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  affinityTimeout,
  findVip,
  makeLoadBalancer,
  ovsSelectionFields,
  parseIpPortMapping,
  parseLbEndpoint,
  parseLoadBalancer,
  preferLocalBackend,
  vipNodeLsp,
} from "../src/index.js";

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isSimError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "ok";
}

describe("parseLbEndpoint (OVS inet_parse_active)", () => {
  it("parses the three forms", () => {
    expect(parseLbEndpoint("10.180.204.252:80")).toMatchObject({
      ip: "10.180.204.252",
      family: 4,
      port: 80,
      ip4: 0x0ab4ccfc,
      key: "10.180.204.252:80",
    });
    expect(parseLbEndpoint("[fd00::1]:80")).toMatchObject({
      ip: "fd00::1",
      family: 6,
      port: 80,
      ip6: (0xfd00n << 112n) | 1n,
      key: "[fd00::1]:80",
    });
    expect(parseLbEndpoint("10.0.0.1")).toMatchObject({ ip: "10.0.0.1", port: undefined, key: "10.0.0.1" });
    expect(parseLbEndpoint("fd00:0::1")).toMatchObject({ ip: "fd00::1", port: undefined, key: "fd00::1" });
    // More than one colon outside brackets: the whole text is a host (no port), as OVS reads it.
    expect(parseLbEndpoint("::1:2:3:4:80")).toMatchObject({ family: 6, port: undefined });
    expect(parseLbEndpoint("[10.0.0.1]:80").key).toBe("10.0.0.1:80");
  });
  it("rejects bad text with SimErrors", () => {
    expect(codeOf(() => parseLbEndpoint("10.0.0.256:80"))).toMatch(/^BAD_VALUE: .*not an IP address/);
    expect(codeOf(() => parseLbEndpoint("10.0.0.1:0"))).toMatch(/outside 1-65535/);
    expect(codeOf(() => parseLbEndpoint("10.0.0.1:65536"))).toMatch(/outside 1-65535/);
    expect(codeOf(() => parseLbEndpoint("10.0.0.1:8o"))).toMatch(/not a number/);
    expect(codeOf(() => parseLbEndpoint("nginx:80"))).toMatch(/^BAD_VALUE/);
    expect(codeOf(() => parseLbEndpoint(""))).toMatch(/^BAD_VALUE/);
    expect(codeOf(() => parseLbEndpoint("fe80::1%eth0"))).toMatch(/scope/);
  });
  it("fuzz: any text gives an endpoint or a SimError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f:.[\]%]{0,30}$/)), (s) => {
        try {
          const e = parseLbEndpoint(s);
          // Canonical text reparses to itself.
          expect(parseLbEndpoint(e.key).key).toBe(e.key);
        } catch (err) {
          expect(isSimError(err)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const seed = {
  name: "cluster-tcp-loadbalancer",
  vips: { "10.180.204.252:80": "10.180.204.11:80,10.180.204.12:80,10.180.204.13:80" },
  options: { prefer_local_backend: "true" },
  ipPortMappings: {
    "10.180.204.11": "nginx-0.default:0.0.0.0",
    "10.180.204.12": "nginx-1.default:0.0.0.0",
  },
  externalIds: { vendor: "kube-ovn", "kube-ovn.io/local-external-vip/10.180.204.252:80": "node-node1" },
};

describe("parseLoadBalancer", () => {
  it("parses the seed scenario's LB", () => {
    const lb = parseLoadBalancer(seed);
    expect(lb.protocol).toBe("tcp");
    expect(preferLocalBackend(lb)).toBe(true);
    expect(affinityTimeout(lb)).toBe(0);
    const vip = findVip(lb, "10.180.204.252:80");
    expect(vip?.backends.map((b) => [b.key, b.logicalPort])).toEqual([
      ["10.180.204.11:80", "nginx-0.default"],
      ["10.180.204.12:80", "nginx-1.default"],
      ["10.180.204.13:80", undefined],
    ]);
    expect(vip && vipNodeLsp(lb, vip)).toBe("node-node1");
    expect(lb.ipPortMappings["10.180.204.11"]).toEqual({
      backendIp: "10.180.204.11",
      family: 4,
      logicalPort: "nginx-0.default",
      checkIp: "0.0.0.0",
      az: undefined,
    });
  });
  it("IPv6 VIPs and bracketed mapping keys", () => {
    const lb = makeLoadBalancer({
      name: "v6",
      protocol: "udp",
      vips: { "[fd00::a]:53": ["[fd00::2]:53", "[fd00::3]:5353"] },
      ipPortMappings: { "[fd00::2]": "dns-0.kube-system:[fd00::99]" },
      selectionFields: ["ipv6_src", "tp_src"],
    });
    expect(lb.vips[0]?.backends[0]?.logicalPort).toBe("dns-0.kube-system");
    expect(lb.ipPortMappings["fd00::2"]?.checkIp).toBe("fd00::99");
    expect(ovsSelectionFields(lb)).toEqual(["ipv6_src", "udp_src"]);
  });
  it("names the load balancer and the entry in errors", () => {
    const bad = (vips: Record<string, string>, extra: object = {}) =>
      codeOf(() => parseLoadBalancer({ name: "lb1", vips, ...extra }));
    expect(bad({ "10.0.0.1:80": "10.0.0.x:80" })).toBe(
      'BAD_VALUE: load balancer "lb1" VIP "10.0.0.1:80" backend "10.0.0.x:80": "10.0.0.x:80" is not an IP address (or an IP address and a port)',
    );
    expect(bad({ "10.0.0.1:80": "[fd00::1]:80" })).toMatch(
      /^CONFLICT: load balancer "lb1" VIP "10.0.0.1:80" backend "\[fd00::1\]:80": IP address family/,
    );
    expect(bad({ "10.0.0.1:80": "10.0.0.2:80,10.0.0.2:80" })).toMatch(
      /^DUPLICATE: .*backend "10.0.0.2:80": backend listed twice/,
    );
    expect(bad({ "10.0.0.1:99999": "10.0.0.2:80" })).toMatch(
      /^BAD_VALUE: load balancer "lb1" VIP "10.0.0.1:99999": port 99999/,
    );
    expect(bad({ "10.0.0.1:80": "10.0.0.2" })).toMatch(/^CONFLICT: .*should be an IP address and a port/);
    expect(bad({ "10.0.0.1": "10.0.0.2:80" })).toMatch(/^CONFLICT: .*without a port/);
    expect(bad({ "10.0.0.1:80": "10.0.0.2:80" }, { ipPortMappings: { "10.0.0.3": "p:0.0.0.0" } })).toBe(
      'UNKNOWN_OBJECT: load balancer "lb1" ip_port_mappings "10.0.0.3": not a backend of any VIP',
    );
    expect(bad({ "10.0.0.1:80": "10.0.0.2:80" }, { protocol: "icmp" })).toMatch(/^BAD_VALUE: .*protocol/);
    expect(bad({ "10.0.0.1:80": "10.0.0.2:80" }, { selectionFields: ["nw_src"] })).toMatch(
      /selection_fields/,
    );
    expect(bad({ "10.0.0.1:80": "10.0.0.2:80" }, { options: { affinity_timeout: "x" } })).toMatch(
      /affinity_timeout/,
    );
    expect(bad({ "10.0.0.1:80": "", "10.0.0.01:80": "" })).toMatch(/^(DUPLICATE|BAD_VALUE)/);
  });
  it("an empty backend list is a VIP without backends (drop/reject)", () => {
    const lb = makeLoadBalancer({ name: "e", vips: { "10.0.0.1:80": "" } });
    expect(lb.vips[0]?.backends).toEqual([]);
  });
  it("fuzz: ip_port_mappings values give a mapping or a SimError", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9.\-:[\]]{0,30}$/)),
        fc.oneof(fc.constant("10.0.0.1"), fc.constant("[fd00::1]"), fc.string()),
        (value, key) => {
          try {
            const m = parseIpPortMapping(key, value);
            expect(m.logicalPort.length).toBeGreaterThan(0);
          } catch (err) {
            expect(isSimError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
  it("fuzz: whole rows give an LB or a SimError", () => {
    const ep = fc.oneof(
      fc.constantFrom("10.0.0.1:80", "10.0.0.2:80", "[fd00::1]:80", "10.0.0.3", "x", "10.0.0.4:0"),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(
          ep,
          fc.array(ep, { maxLength: 4 }).map((a) => a.join(",")),
        ),
        (vips) => {
          try {
            parseLoadBalancer({ name: "f", vips });
          } catch (err) {
            expect(isSimError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

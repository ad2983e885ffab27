// Fuzz test for parseMetalLB, the reader of MetalLB's IPAddressPool / L2Advertisement objects
// (addresses, pool references, node selectors, excluded-interface patterns as users write them):
// any spec gives pools or a SimError, never another exception or a hang (see scripts/fuzz.ts).
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { type MetalLBSpec, parseMetalLB } from "../src/index.js";

const addr = parserInput([
  "10.180.204.250-10.180.204.254",
  "10.180.204.0/24",
  "fd00::/120",
  "fd00::1-fd00::9",
  "192.0.2.7/32",
]);
const poolName = fc.constantFrom("p", "q", "default", "");
const selector = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom("zone", "role", ""), fc.string({ maxLength: 6 }), {
      maxKeys: 2,
    }),
    matchExpressions: fc.array(
      fc.record(
        {
          key: fc.constantFrom("zone", "role"),
          operator: fc.constantFrom("In", "NotIn", "Exists", "DoesNotExist") as fc.Arbitrary<
            "In" | "NotIn" | "Exists" | "DoesNotExist"
          >,
          values: fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
        },
        { requiredKeys: ["key", "operator"] },
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);
const spec: fc.Arbitrary<MetalLBSpec> = fc.record(
  {
    pools: fc.array(
      fc.record(
        {
          name: poolName,
          addresses: fc.array(addr, { maxLength: 3 }),
          autoAssign: fc.boolean(),
          avoidBuggyIPs: fc.boolean(),
        },
        { requiredKeys: ["name", "addresses"] },
      ),
      { maxLength: 3 },
    ),
    advertisements: fc.array(
      fc.record(
        {
          name: fc.constantFrom("ad", "ad2", ""),
          ipAddressPools: fc.array(poolName, { maxLength: 2 }),
          nodeSelectors: fc.array(selector, { maxLength: 2 }),
          interfaces: fc.array(fc.constantFrom("eth1", "eth0", "br-ex", ""), { maxLength: 2 }),
        },
        { requiredKeys: ["name"] },
      ),
      { maxLength: 2 },
    ),
    nodes: fc.array(
      fc.record(
        {
          name: fc.constantFrom("node1", "node2", "node3", ""),
          labels: fc.dictionary(fc.constantFrom("zone", "role"), fc.string({ maxLength: 4 })),
        },
        { requiredKeys: ["name"] },
      ),
      { maxLength: 3 },
    ),
    speakers: fc.array(fc.constantFrom("node1", "node2", "nodeX"), { maxLength: 2 }),
    memberlist: fc.boolean(),
    ignoreExcludeLB: fc.boolean(),
    excludeInterfaces: fc.array(parserInput(["^docker.*", "^cbr.*", "^kube-ipvs.*", "^lo$", "(", "[a-"]), {
      maxLength: 3,
    }),
  },
  { requiredKeys: ["pools", "advertisements", "nodes"] },
);

describe("parseMetalLB fuzz", () => {
  it("any spec: pools or a SimError", () => {
    fc.assert(
      fc.property(spec, (s) => resultOrTypedError(isSimError, () => parseMetalLB(s))),
      { numRuns: 400 },
    );
  });
});

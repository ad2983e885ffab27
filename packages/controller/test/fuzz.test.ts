// Parser robustness: any text gives a result or a SimError, never another exception.
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ovnController, parseExternalIds, readNodeBundle, readSbExtras } from "../src/index.js";

const ok = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    expect(isSimError(e), String(e)).toBe(true);
  }
};
const texty = fc.oneof(
  fc.string(),
  fc
    .array(
      fc.constantFrom(
        "name : a\n",
        "ofport : 3\n",
        'external_ids : {iface-id=p1, "x"="y"}\n',
        "\n",
        "{",
        "}",
        "=",
        ",",
        '"',
        "[1, 2]\n",
        "type : patch\n",
      ),
      { maxLength: 20 },
    )
    .map((xs) => xs.join("")),
);

describe("capture parsers (fuzz)", () => {
  it("parseExternalIds", () => fc.assert(fc.property(texty, (t) => ok(() => parseExternalIds(t)))));
  it("readNodeBundle", () =>
    fc.assert(
      fc.property(texty, texty, texty, (a, b, c) =>
        ok(() => readNodeBundle({ "interfaces.txt": a, "bridges.txt": b, "ovs-vsctl-show.txt": c })),
      ),
    ));
  it("readSbExtras", () =>
    fc.assert(
      fc.property(texty, texty, texty, (a, b, c) =>
        ok(() =>
          readSbExtras({ "chassis.txt": a, "encap.txt": b, "port-binding.txt": c, "load-balancer.txt": a }),
        ),
      ),
    ));
  it("ovnController on arbitrary captures", () =>
    fc.assert(
      fc.property(texty, texty, (a, b) =>
        ok(() =>
          ovnController({
            sb: { "lflow-list.txt": a, "port-binding.txt": b },
            node: { "interfaces.txt": b },
            chassis: "hv1",
          }),
        ),
      ),
      { numRuns: 100 },
    ));
});

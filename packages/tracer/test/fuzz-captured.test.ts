// Fuzz test of `ovnsim trace --sb --node` over mutated real captures: captured.test.ts fuzzes
// the flow text; here one capture file of the recorded `remote` scenario (SB tables, a node's
// ovs-vsctl show, list Interface, dump-flows, dump-groups, dpif/show...) is cut, garbled or
// replaced, and traceCaptures must give hops or a SimError, never another exception or a hang
// (see scripts/fuzz.ts).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { traceCaptures } from "../src/index.js";

const G = join(import.meta.dirname, "golden/remote");
const load = (d: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(join(G, d))
      .filter((f) => f.endsWith(".txt"))
      .map((f) => [f, readFileSync(join(G, d, f), "utf8")]),
  );
const dirs = { sb: load("sb"), node: load("node"), hv2: load("node-hv2") };
type Side = keyof typeof dirs;
const flows = readFileSync(join(G, "flows.txt"), "utf8").split("\n").filter(Boolean);

const oneMutated = fc
  .constantFrom(
    ...(Object.keys(dirs) as Side[]).flatMap((side) =>
      Object.keys(dirs[side]).map((f) => [side, f] as const),
    ),
  )
  .chain(([side, file]) =>
    parserInput([dirs[side][file]!]).map((text) => ({ ...dirs, [side]: { ...dirs[side], [file]: text } })),
  );

describe("traceCaptures over mutated real captures (fuzz)", () => {
  it("hops or a SimError", () => {
    fc.assert(
      fc.property(oneMutated, fc.constantFrom(...flows), fc.boolean(), (c, flow, capturedBrInt) =>
        resultOrTypedError(isSimError, () =>
          traceCaptures({ sb: c.sb, nodes: [c.node, c.hv2], bridge: "br-int", flow, capturedBrInt }),
        ),
      ),
      { numRuns: 40 },
    );
  });
});

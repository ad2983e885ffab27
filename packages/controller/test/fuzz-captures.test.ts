// Fuzz test over real captures: fuzz.test.ts feeds the capture readers synthetic text; here each
// run takes the seed's real SB and node captures (chassis.txt, encap.txt, meter.txt,
// port-binding.txt, interfaces.txt, ovs-vsctl-show.txt, ...) and mutates one file the way a
// truncated or hand-edited capture looks (lines cut, dropped, duplicated, swapped, garbled).
// The whole of ovn-controller's reading and translation must give flows or a SimError, never
// another exception or a hang (see scripts/fuzz.ts).
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { ovnController, readNodeBundle, readSbExtras } from "../src/index.js";
import { GOLDEN, loadDir } from "./load.js";

const sb = loadDir(join(GOLDEN, "seed", "sb"));
const node = loadDir(join(GOLDEN, "seed", "node"));
const typed = (f: () => unknown) => resultOrTypedError(isSimError, f);

/** [which side, file name] of every capture file, then that file's text mutated. */
const oneMutated = fc
  .constantFrom(
    ...Object.keys(sb).map((f) => ["sb", f] as const),
    ...Object.keys(node).map((f) => ["node", f] as const),
  )
  .chain(([side, file]) =>
    parserInput([(side === "sb" ? sb : node)[file]!]).map((text) => ({
      sb: side === "sb" ? { ...sb, [file]: text } : sb,
      node: side === "node" ? { ...node, [file]: text } : node,
    })),
  );

describe("capture readers over mutated real captures (fuzz)", () => {
  it("readNodeBundle / readSbExtras: a bundle or a SimError", () => {
    fc.assert(
      fc.property(oneMutated, (c) => {
        typed(() => readNodeBundle(c.node));
        typed(() => readSbExtras(c.sb));
      }),
      { numRuns: 200 },
    );
  });
  it("ovnController: flows or a SimError", () => {
    fc.assert(
      fc.property(oneMutated, (c) => typed(() => ovnController(c))),
      { numRuns: 40 },
    );
  });
});

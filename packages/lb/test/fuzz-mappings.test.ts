// Fuzz test for the Load_Balancer ip_port_mappings column reader (parseIpPortMappings: the
// whole map, where duplicate backends are refused): any map gives mappings or a SimError, never
// another exception or a hang (see scripts/fuzz.ts).
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { parseIpPortMappings } from "../src/index.js";

describe("parseIpPortMappings fuzz", () => {
  it("any map: mappings or a SimError", () => {
    const key = parserInput(["10.16.0.5", "10.16.0.6", "fd00::5", "[fd00::5]", "10.16.0.5:80"]);
    const value = parserInput([
      "lsp-pod1:10.16.0.1",
      "lsp-pod2:10.16.0.2",
      "lsp:fd00::1",
      "lsp",
      "lsp:[fd00::1]",
    ]);
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), (map) =>
        resultOrTypedError(isSimError, () => parseIpPortMappings(map)),
      ),
      { numRuns: 500 },
    );
  });
});

// Fuzz test for parseEnvSh, the reader of oracle-up.sh's env.sh: whatever a sandbox directory
// holds (a cut or edited file), it gives a record of variables, never an exception or a hang.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { parseEnvSh } from "../src/index.js";

describe("parseEnvSh fuzz", () => {
  it("any text: a record of strings", () => {
    const samples = [
      "export OVS_RUNDIR=/tmp/s/ovs OVS_LOGDIR=/tmp/s/ovs\nexport OVN_NB_DB=unix:/tmp/s/nb.sock OVN_SB_DB=unix:/tmp/s/sb.sock\n",
      "export A=x B=y\n# comment\nexport  C==z\n",
    ];
    fc.assert(
      fc.property(parserInput(samples), (t) =>
        // no typed error: parseEnvSh never refuses, so any exception fails the property
        resultOrTypedError(
          () => false,
          () => {
            for (const v of Object.values(parseEnvSh(t))) expect(typeof v).toBe("string");
          },
        ),
      ),
      { numRuns: 500 },
    );
  });
});

// Fuzz of the command lines `matrix`, `diff` and `branches` read: any argument vector parses or
// is a SimError, never another exception.
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBranchesArgs } from "../../cli/src/commands/branches.js";
import { parseDiffArgs } from "../../cli/src/commands/diff.js";
import { parseMatrixArgs } from "../../cli/src/commands/matrix.js";
import { parseReachArgs } from "../../cli/src/commands/reach.js";

const word = fc.oneof(
  fc.constantFrom(
    "--format",
    "--from",
    "--to",
    "--proto",
    "--release",
    "--metallb",
    "--flag",
    "--etp",
    "--nbctl",
    "--profile",
    "json",
    "html",
    "1.14,1.15",
    "Local,Cluster",
    "ls-ct-skip-dst-lport-ips=false,true",
    "10.180.204.252:80",
    "--format=csv",
    "--etp=Cluster",
    "dir",
    "--ct",
    "new,est|rpl",
    "--match",
    "ip4 && tcp.dst == 80",
    "--max",
    "--no-confirm",
    "--chassis",
  ),
  fc.string({ maxLength: 16 }),
);

describe("whatif command lines", () => {
  it("any argument vector parses or is a SimError", () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (args) => {
        for (const parse of [parseMatrixArgs, parseDiffArgs, parseBranchesArgs, parseReachArgs]) {
          try {
            parse(args);
          } catch (e) {
            if (!isSimError(e)) throw e;
          }
        }
      }),
      { numRuns: 600 },
    );
  });
  it("reads what the README shows", () => {
    expect(parseDiffArgs(["--release", "1.14,1.15", "--metallb=0.14.8"]).sides).toEqual([
      { release: "1.14", metallb: "0.14.8" },
      { release: "1.15", metallb: "0.14.8" },
    ]);
    expect(parseMatrixArgs(["x", "--format", "html", "--from", "client"])).toMatchObject({
      format: "html",
      files: ["x"],
      from: ["client"],
    });
    expect(parseBranchesArgs(["--to", "10.180.204.252:80", "--proto", "tcp"]).request).toEqual({
      to: "10.180.204.252",
      port: 80,
      proto: "tcp",
    });
    expect(
      parseReachArgs(["--from", "default/x", "--ct", "new,est", "--match", "ip4", "--to", "p"]).opts,
    ).toEqual({
      from: "default/x",
      to: ["p"],
      match: "ip4",
      ctStates: ["new", "est"],
      confirm: true,
    });
  });
});

// The real tshark as a test oracle for capture files: a gate like @ovnsim/oracle's (skip when it
// is missing, fail under OVNSIM_REQUIRE_ORACLE=1, as CI sets), and a runner that returns its
// `-T fields` output as rows.
import { execFileSync, spawnSync } from "node:child_process";

export interface TsharkGate {
  readonly available: boolean;
  /** For `describe.skipIf(gate.skip)`: missing and not required. */
  readonly skip: boolean;
  /** Throws (in beforeAll) when tshark is missing, so a required run fails rather than skips. */
  assert(): void;
}

export function tsharkGate(): TsharkGate {
  const available = spawnSync("sh", ["-c", "command -v tshark"], { stdio: "ignore" }).status === 0;
  const required = process.env.OVNSIM_REQUIRE_ORACLE === "1";
  return {
    available,
    skip: !available && !required,
    assert() {
      if (!available)
        throw new Error(
          `tshark is missing${required ? " and OVNSIM_REQUIRE_ORACLE=1" : ""} (apt-get install tshark)`,
        );
    },
  };
}

/** `tshark -r FILE -T fields -E separator=| -e F…` as rows of fields (tshark's own stderr dropped). */
export function tsharkFields(
  file: string,
  fields: readonly string[],
  extra: readonly string[] = [],
): string[][] {
  const out = execFileSync(
    "tshark",
    ["-r", file, "-n", ...extra, "-T", "fields", "-E", "separator=|", ...fields.flatMap((f) => ["-e", f])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  return out
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("|"));
}

// The real tshark as a test oracle for capture files: a gate like @ovnsim/oracle's (skip when it
// is missing, fail under OVNSIM_REQUIRE_ORACLE=1, as CI sets), and a runner that returns its
// `-T fields` output as rows.
import { execFileSync } from "node:child_process";
import { type ToolGate, toolGate } from "@ovnsim/oracle";

export const tsharkGate = (): ToolGate => toolGate("tshark");

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

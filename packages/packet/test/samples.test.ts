import { sharedDir } from "@ovnsim/oracle";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatFlow, formatMatch, parseFlow, parseMatch } from "../src/index.js";

const shared = sharedDir();
const samplesDir = path.join(shared, "oracle/samples");

function linesOf(dir: string, re: RegExp): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".txt"));
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const f of files) {
    for (const line of readFileSync(path.join(dir, f), "utf8").split("\n")) {
      const m = re.exec(line);
      if (m?.[1] && m[1] !== "unchanged") out.add(m[1]);
    }
  }
  return [...out];
}

const FLOW_RE = /^(?:Flow|Final flow): (.*)$/;
const MEGA_RE = /^Megaflow: (.*)$/;

for (const [name, dir] of [["oracle samples", samplesDir]] as const) {
  describe(`${name}: Flow/Final flow lines`, () => {
    const flows = linesOf(dir, FLOW_RE);
    it.skipIf(flows.length === 0)(`re-prints ${flows.length} lines byte for byte`, () => {
      for (const line of flows) expect(formatFlow(parseFlow(line, { lenient: true }))).toBe(line);
    });
  });
  describe(`${name}: Megaflow lines`, () => {
    const megas = linesOf(dir, MEGA_RE);
    it.skipIf(megas.length === 0)(`re-prints ${megas.length} lines byte for byte`, () => {
      for (const line of megas) expect(formatMatch(parseMatch(line, { lenient: true }))).toBe(line);
    });
  });
}

describe("oracle samples: dump-flows matches (real OVN-generated flows) re-print byte for byte", () => {
  const rows: string[] = [];
  for (const f of ["ctrl-br-int-flows.txt", "ovs-dump-flows.txt"]) {
    let text: string;
    try {
      text = readFileSync(path.join(samplesDir, f), "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const a = line.indexOf(" actions=");
      if (a < 0) continue;
      // The match is what follows the stats ("cookie=…, …, priority=N,") up to " actions=".
      const head = line.slice(0, a).trim();
      const fields = head.split(", ");
      rows.push(fields[fields.length - 1]!);
    }
  }
  it.skipIf(rows.length === 0)(`${rows.length} matches`, () => {
    let n = 0;
    for (const m of rows) {
      let priority: number | undefined;
      const parsed = parseMatch(m, {
        extra: (k, v) => {
          if (k === "priority") priority = Number(v);
          return [
            "priority",
            "cookie",
            "duration",
            "table",
            "n_packets",
            "n_bytes",
            "idle_age",
            "hard_age",
            "reset_counts",
          ].includes(k);
        },
      });
      const printed = formatMatch(parsed, priority === undefined ? {} : { priority });
      // dump-flows prints "table=N, " etc. before the priority; compare from the priority on.
      expect(printed).toBe(
        m.replace(/^(cookie|duration|table|n_packets|n_bytes|idle_age|hard_age)=[^,]*,/, ""),
      );
      n++;
    }
    expect(n).toBe(rows.length);
  });
});

// Replays one reproduction of the OpenFlow differential (bench/results/openflow-differential.json,
// `reproductions[i]`, or a JSON file holding one) in a fresh real OVS 3.1 sandbox and prints the
// real ofproto/trace, ovnsim's trace of the captured bridges, and the first differing line.
//   npx tsx --conditions=@ovnsim/source packages/openflow/scripts/replay-reproduction.ts FILE [INDEX]
// Needs the real tools (../shared/oracle); OVNSIM_SHARED points at shared/.
import { readFileSync, writeFileSync } from "node:fs";
import { startSandbox } from "@ovnsim/oracle";
import { capture, compareCase, ovnsimSwitch, ovnsimTrace } from "../test/differential.js";
import type { GenCase, GenProgram } from "../test/gen-differential.js";

interface Repro {
  readonly setup: readonly string[];
  readonly trace: string;
}
const file = process.argv[2];
if (!file) throw new Error("usage: replay-reproduction.ts FILE [INDEX]");
const json = JSON.parse(readFileSync(file, "utf8")) as Repro | { reproductions: Repro[] };
const rep: Repro = "reproductions" in json ? json.reproductions[Number(process.argv[3] ?? 0)]! : json;

const sb = startSandbox({ name: "ofreplay", ovn: false });
try {
  sb.sh(rep.setup.join("\n"));
  const bridges = [...rep.setup.join("\n").matchAll(/'add-br' '([^']+)'/g)].map((m) => m[1]!);
  // The bridge named after an ovs-ofctl command word, e.g. `ovs-ofctl -O OpenFlow15 add-group BR …`.
  const after = (cmd: string): Set<string> =>
    new Set(rep.setup.map((l) => new RegExp(` ${cmd} (\\S+)`).exec(l)?.[1]).filter((b) => b !== undefined));
  const groups = after("add-group");
  const meters = after("add-meter");
  const tlv = after("add-tlv-map");
  const cap = capture(sb, bridges, groups, { meters, tlv });
  // ovs-appctl ofproto/trace BR 'FLOW' [--ct-next S]...
  const m = /^ovs-appctl ofproto\/trace (\S+) '([^']*)'(.*)$/.exec(rep.trace);
  if (!m) throw new Error(`cannot read the trace command: ${rep.trace}`);
  const ctNext = [...m[3]!.matchAll(/--ct-next (\S+)/g)].map((x) => x[1]!);
  const c: GenCase = { bridge: m[1]!, flow: m[2]!, ctNext } as GenCase;
  const real = sb.run("ovs-appctl", [
    "ofproto/trace",
    c.bridge,
    c.flow,
    ...ctNext.flatMap((s) => ["--ct-next", s]),
  ]);
  const sim = ovnsimTrace(ovnsimSwitch(cap, bridges), c);
  const prog = { id: 0, kind: "replay", bridges: [], cookieFamilies: new Map() } as unknown as GenProgram;
  const r = compareCase(prog, c, real, sim);
  console.log(`==== real\n${r.expected}\n==== ovnsim\n${r.actual}`);
  console.log(`==== dp ${r.dp} final ${r.final} megaflow ${r.megaflow} full ${r.full}`);
  if (r.firstDiff)
    console.log(
      `line ${r.firstDiff.line}\n  real:   ${r.firstDiff.expected}\n  ovnsim: ${r.firstDiff.actual}`,
    );
  // SAVE=FILE keeps the real trace with what ovnsim read (a pinned recording for a test).
  if (process.env.SAVE)
    writeFileSync(
      process.env.SAVE,
      `${JSON.stringify(
        {
          recorded: "real OVS 3.1 ofproto/trace, replayed by scripts/replay-reproduction.ts",
          setup: rep.setup,
          trace: rep.trace,
          bridges,
          capture: { ...cap, bridges: Object.fromEntries(cap.bridges) },
          real,
        },
        null,
        1,
      )}\n`,
    );
  if (process.env.DUMP)
    for (const b of bridges)
      console.log(`---- ${b}\n${cap.bridges.get(b)?.flows ?? ""}${cap.bridges.get(b)?.groups ?? ""}`);
} finally {
  sb.stop();
}

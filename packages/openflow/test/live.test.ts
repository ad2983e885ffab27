// Live differential test against real OVS 3.1 (../shared/oracle): generates deterministic-random
// OpenFlow programs (matches, rewrites, VLAN push/pop, registers, resubmit/goto_table, groups,
// conntrack with --ct-next, patch ports), installs them in a fresh sandbox, traces random packets
// with both `ovs-appctl ofproto/trace` and ovnsim, and compares. CI sets OVNSIM_REQUIRE_ORACLE=1.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sandbox, oracleGate, repoRoot, startSandbox } from "@ovnsim/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundle, type Switch } from "../src/index.js";
import { generate } from "./gen.js";
import { normaliseFloodOrder, normaliseRecirc, runOvnsim, sections } from "./harness.js";

const ROOT = repoRoot();
const gate = oracleGate("ovs");

/**
 * Differences kept on purpose (the comparison normalises them):
 * - recirc ids: global counters in ovs-vswitchd; renumbered in order of appearance.
 * - flood order (NORMAL, FLOOD, ALL): OVS iterates hash maps keyed by heap pointers; ovnsim
 *   floods in ofport order. Runs of output ports are compared as sets ("flood order ignored").
 */
const KNOWN_DIFFERENCES = ["recirc ids renumbered", "flood order"];

describe.skipIf(gate.skip)("live differential vs ovs-vswitchd (OVS 3.1)", () => {
  let sb: Sandbox | undefined;
  const sh = (script: string, input?: string): string => {
    if (!sb) throw new Error("the oracle sandbox did not start");
    return sb.sh(script, input);
  };
  // Made in beforeAll, not while the file is collected: a skipped run leaves nothing in /tmp.
  let bundleDir = "";
  const seed = Number(process.env.OVNSIM_SEED ?? 20261126);
  const prog = generate(seed, 80);
  let sw: Switch;
  let real: string[] = [];

  beforeAll(() => {
    gate.assert();
    bundleDir = mkdtempSync(join(tmpdir(), "ovnsim-of-bundle-"));
    sb = startSandbox({ name: "of", ovn: false });
    sh(
      `ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
        -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
        -- add-port br0 p2 tag=10 -- set interface p2 type=dummy ofport_request=2 \
        -- add-port br0 p3 trunks=10,20 -- set interface p3 type=dummy ofport_request=3 \
        -- add-port br0 p4 tag=20 -- set interface p4 type=dummy ofport_request=4 \
        -- add-port br0 patch0 -- set interface patch0 type=patch options:peer=patch1 ofport_request=9
      ovs-vsctl add-br br1 -- set bridge br1 datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
        -- add-port br1 patch1 -- set interface patch1 type=patch options:peer=patch0 ofport_request=1 \
        -- add-port br1 q1 -- set interface q1 type=dummy ofport_request=2 \
        -- add-port br1 q2 -- set interface q2 type=dummy ofport_request=3
      ovs-ofctl -O OpenFlow15 del-flows br0; ovs-ofctl -O OpenFlow15 del-flows br1`,
    );
    sh("ovs-ofctl -O OpenFlow15 add-meter br0 meter=1,kbps,band=type=drop,rate=1000");
    sh("ovs-ofctl -O OpenFlow15 add-groups br0 -", `${prog.groups.join("\n")}\n`);
    // Flows OVS refuses (e.g. mod_tp_dst without an L4 match has no OpenFlow 1.5 encoding) are
    // skipped: the captured bundle holds exactly what the switch accepted.
    sh(
      'while IFS= read -r l; do ovs-ofctl -O OpenFlow15 add-flow br0 "$l" 2>/dev/null || true; done',
      `${prog.br0.join("\n")}\n`,
    );
    sh("ovs-ofctl -O OpenFlow15 add-flows br1 -", `${prog.br1.join("\n")}\n`);
    sh(`${join(ROOT, "scripts", "capture-bundle.sh")} -o ${bundleDir} br0 br1`);
    const script = prog.packets
      .map((p) => {
        const [flow, ...rest] = p.split(" ");
        return `echo '### ${p}'; ovs-appctl ofproto/trace br0 '${flow}' ${rest.join(" ")} 2>&1 || true`;
      })
      .join("\n");
    real = sh(script)
      .split(/^### .*\n/m)
      .slice(1);
    sw = loadBundle(bundleDir);
  }, 60_000);

  afterAll(() => {
    sb?.stop();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it(`agrees with ofproto/trace on ${prog.packets.length} random packets (seed ${seed})`, () => {
    let dp = 0;
    let dpFlood = 0;
    let final = 0;
    let full = 0;
    let fullFlood = 0;
    const diffs: string[] = [];
    prog.packets.forEach((p, i) => {
      const parts = p.split(" ");
      const exp = normaliseRecirc(real[i] ?? "");
      const act = normaliseRecirc(runOvnsim(sw, ["br0", ...parts]));
      const e = sections(exp);
      const a = sections(act);
      const eq = (x: string[], y: string[]): boolean => x.join("\n") === y.join("\n");
      if (eq(e.dp, a.dp)) dp++;
      if (eq(sections(normaliseFloodOrder(exp)).dp, sections(normaliseFloodOrder(act)).dp)) dpFlood++;
      if (eq(e.final, a.final)) final++;
      if (exp === act) full++;
      if (normaliseFloodOrder(exp) === normaliseFloodOrder(act)) fullFlood++;
      else {
        diffs.push(p);
        if (process.env.OVNSIM_OF_DUMP) {
          writeFileSync(join(process.env.OVNSIM_OF_DUMP, `e${diffs.length}.txt`), exp);
          writeFileSync(join(process.env.OVNSIM_OF_DUMP, `a${diffs.length}.txt`), act);
        }
      }
    });
    const n = prog.packets.length;
    const pct = (x: number): string => `${((100 * x) / n).toFixed(1)}%`;
    console.log(
      `live agreement (${n} packets, seed ${seed}): datapath actions ${pct(dp)} (${pct(dpFlood)} flood order ignored), final flow ${pct(final)}, full text ${pct(full)} (${pct(fullFlood)} flood order ignored); flows installed ${sw.bridge("br0").flowCount}/${prog.br0.length}; known differences: ${KNOWN_DIFFERENCES.join(", ")}`,
    );
    if (process.env.OVNSIM_OF_VERBOSE) console.log(diffs.join("\n"));
    expect(dpFlood / n).toBeGreaterThanOrEqual(0.85);
    expect(final / n).toBeGreaterThanOrEqual(0.9);
  });
});

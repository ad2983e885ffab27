// Live test for issue 18 against real OVS 3.1: a node with random long port names (several
// localnet subnets' `patch-localnet.<subnet>-to-br-int`, ovn-controller's
// `patch-br-int-to-<localnet>`, long VIF names, names OpenFlow truncates into collisions) is
// captured with scripts/capture-bundle.sh (flows as `ovs-ofctl --names` dumps), loaded, and
// traced with and without `--names`; the text must equal ofproto/trace's (flood order aside).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveSeed, oracleGate, repoRoot, rng, type Sandbox, startSandbox } from "@ovnsim/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundle } from "../src/index.js";
import { normaliseFloodOrder, normaliseRecirc, runOvnsim } from "./harness.js";

const gate = oracleGate("ovs");
const SEED = liveSeed();

describe.skipIf(gate.skip)("port names of a captured node (issue 18) vs ofproto/trace", () => {
  let sb: Sandbox | undefined;
  let dir = "";
  const r = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nSubnets = 2 + Math.floor(r() * 3);
  const subnets = Array.from(
    { length: nSubnets },
    (_, i) => `${pick(["net", "subnet", "underlay"])}${i}-${pick(["a", "bb", "ccc"])}`,
  );
  const vifs = Array.from(
    { length: 3 + Math.floor(r() * 3) },
    (_, i) =>
      pick([
        `${(0x10000000 + Math.floor(r() * 0xfffffff)).toString(16)}abcd_h`,
        `veth-pod-with-a-long-name${i}`,
        `vif${i}`,
      ]) + (i ? "" : ""),
  ).map((v, i, all) => (all.indexOf(v) === i ? v : `${v}x${i}`));
  const cases: string[][] = [];
  const real: string[] = [];

  beforeAll(() => {
    gate.assert();
    dir = mkdtempSync(join(tmpdir(), "ovnsim-pn-")); // here, not at collection: a skipped file leaves nothing
    sb = startSandbox({ name: "pn", ovn: false });
    const s = sb;
    const prov = subnets.flatMap((n) => [
      `-- add-port br-provider patch-localnet.${n}-to-br-int`,
      `-- set interface patch-localnet.${n}-to-br-int type=patch options:peer=patch-br-int-to-localnet.${n}`,
    ]);
    const int = subnets.flatMap((n) => [
      `-- add-port br-int patch-br-int-to-localnet.${n}`,
      `-- set interface patch-br-int-to-localnet.${n} type=patch options:peer=patch-localnet.${n}-to-br-int`,
    ]);
    const vifArgs = vifs.flatMap((v) => [`-- add-port br-int ${v}`, `-- set interface ${v} type=dummy`]);
    s.sh(`ovs-vsctl add-br br-provider -- set bridge br-provider datapath_type=dummy \\
        -- add-port br-provider eth0 -- set interface eth0 type=dummy ${prov.join(" ")}
      ovs-vsctl add-br br-int -- set bridge br-int datapath_type=dummy ${int.join(" ")} ${vifArgs.join(" ")}`);
    const of = (name: string): number =>
      Number(s.run("ovs-vsctl", ["get", "Interface", name, "ofport"]).trim());
    const provFlows: string[] = ["priority=0,actions=NORMAL"];
    const intFlows: string[] = ["priority=0,actions=NORMAL"];
    subnets.forEach((n, i) => {
      const vid = 100 + i;
      provFlows.push(
        `priority=100,in_port=eth0,dl_vlan=${vid},actions=strip_vlan,output:${of(`patch-localnet.${n}-to-br-int`)}`,
      );
      provFlows.push(
        `priority=100,in_port=${of(`patch-localnet.${n}-to-br-int`)},actions=mod_vlan_vid:${vid},output:eth0`,
      );
      const v = vifs[i % vifs.length]!;
      intFlows.push(
        `priority=100,in_port=${of(`patch-br-int-to-localnet.${n}`)},ip,nw_dst=10.0.${i}.5,actions=output:${of(v)}`,
      );
      intFlows.push(
        `priority=90,in_port=${of(`patch-br-int-to-localnet.${n}`)},actions=resubmit(${of(v)},1)`,
      );
    });
    vifs.forEach((v, i) => {
      const n = subnets[i % subnets.length]!;
      intFlows.push(`priority=100,in_port=${of(v)},actions=output:${of(`patch-br-int-to-localnet.${n}`)}`);
      intFlows.push(
        `table=1,priority=10,in_port=${of(v)},actions=output:${of(vifs[(i + 1) % vifs.length]!)}`,
      );
    });
    s.sh("ovs-ofctl del-flows br-provider; ovs-ofctl add-flows br-provider -", `${provFlows.join("\n")}\n`);
    s.sh("ovs-ofctl del-flows br-int; ovs-ofctl add-flows br-int -", `${intFlows.join("\n")}\n`);
    s.sh(`${join(repoRoot(), "scripts", "capture-bundle.sh")} -o ${dir} br-provider br-int`);
    // The flows as users often capture them: with names (truncated, quoted, numbers on collision).
    writeFileSync(
      join(dir, "br-provider.flows.txt"),
      s.run("ovs-ofctl", ["--names", "dump-flows", "br-provider"]),
    );
    writeFileSync(
      join(dir, "br-int.flows.txt"),
      s.run("ovs-ofctl", ["-O", "OpenFlow13", "--names", "--no-stats", "dump-flows", "br-int"]),
    );
    const M = "dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:02";
    for (const names of [[], ["--names"]]) {
      subnets.forEach((_, i) => {
        cases.push([
          ...names,
          "br-provider",
          `in_port=eth0,dl_vlan=${100 + i},${M},ip,nw_src=10.0.9.1,nw_dst=10.0.${i}.${pick([5, 6])}`,
        ]);
      });
      for (const v of vifs)
        cases.push([...names, "br-int", `in_port=${v},${M},ip,nw_src=10.0.0.5,nw_dst=10.0.9.1`]);
    }
    for (const c of cases) real.push(s.run("ovs-appctl", ["ofproto/trace", ...c]));
  }, 60_000);

  afterAll(() => {
    sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`loads the bundle and every trace matches (seed ${SEED}, ${nSubnets} subnets)`, () => {
    const sw = loadBundle(dir);
    expect(sw.bridge("br-provider").portByName(`patch-localnet.${subnets[1]}-to-br-int`)).toBeDefined();
    let strict = 0;
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const exp = normaliseRecirc(real[i]!);
      const got = normaliseRecirc(runOvnsim(sw, c));
      if (exp === got) strict++;
      if (normaliseFloodOrder(exp) !== normaliseFloodOrder(got))
        bad.push(`${c.join(" ")}\n--- ofproto/trace\n${exp}--- ovnsim\n${got}`);
    });
    console.log(
      `port names live: ${cases.length} traces, ${strict} identical, ${cases.length - bad.length} identical flood order aside`,
    );
    expect(bad).toEqual([]);
  });
});

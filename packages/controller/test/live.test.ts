// Live differential test: a generated switch configuration (localnet with and without a VLAN
// tag, local VIFs and VIFs bound to a remote Geneve chassis, load balancers, ACLs on port groups and address sets) is given
// to the real ovn-northd + ovn-controller 23.03 of ../shared/oracle; the SB and node captures
// (scripts/capture-sb.sh, capture-node.sh) go into ovnsim, and br-int's flows must agree.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { liveSeed, oracleGate, repoRoot, rng, startSandbox } from "@ovnsim/oracle";
import { afterAll, describe, expect, it } from "vitest";
import { compareDumps, flowLines, ovnController } from "../src/index.js";
import { loadDir } from "./load.js";

const gate = oracleGate("ovn", "ovs", "controller");
const DIR = `/tmp/ovnsim-ctl-${process.pid}`;

/** Shell lines (ovn-nbctl / ovs-vsctl) building a random switch-only configuration. */
export function generateScenario(seed: number): string {
  const r = rng(seed);
  const lines: string[] = [];
  const nSw = 1 + Math.floor(r() * 2);
  let ofport = 10;
  const vifs: string[] = [];
  for (let s = 0; s < nSw; s++) {
    const sw = `sw${s}`;
    lines.push(`ovn-nbctl ls-add ${sw}`);
    if (s === 0 || r() < 0.5) {
      lines.push(
        `ovn-nbctl lsp-add ${sw} ln${s} -- lsp-set-type ln${s} localnet -- lsp-set-addresses ln${s} unknown -- lsp-set-options ln${s} network_name=provider`,
      );
      if (r() < 0.5) lines.push(`ovn-nbctl set logical_switch_port ln${s} tag=${100 + s}`);
    }
    const nPods = 1 + Math.floor(r() * 3);
    for (let p = 0; p < nPods; p++) {
      const name = `${sw}p${p}`;
      const mac = `0a:00:00:00:0${s}:0${p + 1}`;
      const ip = r() < 0.3 ? `10.${s}.0.${p + 1} fd0${s}::${p + 1}` : `10.${s}.0.${p + 1}`;
      lines.push(`ovn-nbctl lsp-add ${sw} ${name} -- lsp-set-addresses ${name} "${mac} ${ip}"`);
      if (r() < 0.7 && !ip.includes(":"))
        lines.push(`ovn-nbctl lsp-set-port-security ${name} "${mac} ${ip}"`);
      vifs.push(name);
    }
    if (r() < 0.6) {
      const proto = r() < 0.5 ? "tcp" : "udp";
      lines.push(
        `ovn-nbctl lb-add lb${s} 10.${s}.9.9:80 10.${s}.0.1:8080${nPods > 1 ? `,10.${s}.0.2:8080` : ""} ${proto}`,
        `ovn-nbctl ls-lb-add ${sw} lb${s}`,
      );
      if (r() < 0.5) lines.push(`ovn-nbctl set load_balancer lb${s} selection_fields=ip_src,tp_src`);
    }
  }
  lines.push(`ovn-nbctl create Address_Set name=as1 addresses='"10.0.0.1","10.1.0.2","192.168.0.0/16"'`);
  lines.push(`ovn-nbctl pg-add pg1 ${vifs.slice(0, 2).join(" ")}`);
  const ports = r() < 0.5 ? "{80, 443}" : "22";
  lines.push(
    `ovn-nbctl acl-add pg1 to-lport 1001 'outport == @pg1 && ip4.src == $as1 && tcp.dst == ${ports}' allow-related`,
  );
  if (r() < 0.5) lines.push(`ovn-nbctl acl-add sw0 from-lport 900 'udp.dst >= 100 && udp.dst <= 200' drop`);
  lines.push("ovn-nbctl --wait=sb sync");
  // Some VIFs live on a second chassis: reached through a localnet port or a Geneve tunnel.
  const remote = vifs.filter((_, i) => i > 0 && r() < 0.3);
  if (remote.length) lines.push("ovn-sbctl chassis-add hv2 geneve 192.168.0.2");
  for (const v of remote) lines.push(`ovn-sbctl lsp-bind ${v} hv2`);
  for (const v of vifs.filter((x) => !remote.includes(x)))
    lines.push(
      `ovs-vsctl --may-exist add-port br-int ${v} -- set interface ${v} type=dummy external_ids:iface-id=${v} ofport_request=${ofport++}`,
    );
  lines.push("ovn-nbctl --timeout=30 --wait=hv sync");
  return `${lines.join("\n")}\n`;
}

describe.skipIf(gate.skip)("ovn-controller live differential (real ovn-controller 23.03)", () => {
  afterAll(() => {
    if (process.env.OVNSIM_KEEP !== "1") rmSync(DIR, { recursive: true, force: true });
  });
  const seeds = process.env.OVNSIM_CONTROLLER_SEEDS
    ? process.env.OVNSIM_CONTROLLER_SEEDS.split(",").map(Number)
    : process.env.OVNSIM_SEED
      ? [liveSeed()]
      : [1, 2];
  for (const seed of seeds) {
    it(`generated switch config, seed ${seed}: br-int flows identical`, () => {
      gate.assert();
      mkdirSync(DIR, { recursive: true });
      const sb = startSandbox({ name: "ctl", dir: `${DIR}/sb${seed}`, controller: true });
      const out = join(DIR, `cap${seed}`);
      try {
        sb.sh(generateScenario(seed));
        const scripts = join(repoRoot(), "scripts");
        sb.sh(
          `sleep 0.3; ${scripts}/capture-sb.sh ${out}/sb >/dev/null; ${scripts}/capture-node.sh ${out}/node >/dev/null`,
        );
      } finally {
        sb.stop();
      }
      const node = loadDir(join(out, "node"));
      const res = ovnController({ sb: loadDir(join(out, "sb")), node });
      const cmp = compareDumps(flowLines(node["br-int.flows.txt"]!), res.flows);
      const pct = ((100 * cmp.identical) / cmp.expected).toFixed(1);
      console.log(`seed ${seed}: ${cmp.identical}/${cmp.expected} identical (${pct}%), ${cmp.extra} extra`);
      for (const l of cmp.missing) console.log(`- ${l}`);
      for (const l of cmp.unexpected) console.log(`+ ${l}`);
      expect(cmp.unexpected).toEqual([]);
      expect(cmp.missing).toEqual([]);
      const groups = (node["br-int.groups.txt"] ?? "").split("\n").filter((l) => l.includes("group_id="));
      expect([...res.groups].sort()).toEqual(groups.sort());
    }, 60_000);
  }
});

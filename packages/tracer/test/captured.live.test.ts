// Live differential test of `ovnsim trace --sb --node`: a random switch configuration (localnet
// with and without a tag, local VIFs, VIFs on a remote Geneve chassis, a load balancer) runs in
// the real ovn-northd + ovn-controller 23.03 sandbox; the SB and node captures go into
// traceCaptures, and for random packets entering a local VIF the real `ovs-appctl
// ofproto/trace br-int` and ovnsim's (br-int from the controller model) must print the same.
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { renderTrace } from "@ovnsim/openflow";
import { liveSeed, oracleGate, repoRoot, rng, startSandbox } from "@ovnsim/oracle";
import { afterAll, describe, expect, it } from "vitest";
import { traceCaptures } from "../src/index.js";

const gate = oracleGate("ovn", "ovs", "controller");
const DIR = `/tmp/ovnsim-cap-${process.pid}`;

const load = (d: string): Record<string, string> =>
  Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(join(d, f), "utf8")]));

interface Vif {
  readonly name: string;
  readonly mac: string;
  readonly ip: string;
  readonly local: boolean;
}

function scenario(seed: number): { script: string; vifs: Vif[]; vips: string[] } {
  const r = rng(seed);
  const lines: string[] = [];
  const vifs: Vif[] = [];
  const vips: string[] = [];
  let ofport = 10;
  for (let s = 0; s < 2; s++) {
    const sw = `sw${s}`;
    lines.push(`ovn-nbctl ls-add ${sw}`);
    if (s === 0) {
      lines.push(
        `ovn-nbctl lsp-add ${sw} ln${s} -- lsp-set-type ln${s} localnet -- lsp-set-addresses ln${s} unknown -- lsp-set-options ln${s} network_name=provider`,
      );
      if (r() < 0.5) lines.push(`ovn-nbctl set logical_switch_port ln${s} tag=${100 + s}`);
    }
    const n = 2 + Math.floor(r() * 2);
    for (let p = 0; p < n; p++) {
      const name = `${sw}p${p}`;
      const mac = `0a:00:00:00:0${s}:0${p + 1}`;
      const ip = `10.${s}.0.${p + 1}`;
      lines.push(`ovn-nbctl lsp-add ${sw} ${name} -- lsp-set-addresses ${name} "${mac} ${ip}"`);
      if (r() < 0.5) lines.push(`ovn-nbctl lsp-set-port-security ${name} "${mac} ${ip}"`);
      vifs.push({ name, mac, ip, local: p === 0 || r() < 0.6 });
    }
    if (r() < 0.5) {
      lines.push(
        `ovn-nbctl lb-add lb${s} 10.${s}.9.9:80 10.${s}.0.1:8080 tcp`,
        `ovn-nbctl ls-lb-add ${sw} lb${s}`,
      );
      vips.push(`10.${s}.9.9`);
    }
  }
  lines.push("ovn-nbctl --wait=sb sync", "ovn-sbctl chassis-add hv2 geneve 192.168.0.2");
  for (const v of vifs) {
    if (!v.local) lines.push(`ovn-sbctl lsp-bind ${v.name} hv2`);
    else
      lines.push(
        `ovs-vsctl --may-exist add-port br-int ${v.name} -- set interface ${v.name} type=dummy external_ids:iface-id=${v.name} ofport_request=${ofport++}`,
      );
  }
  lines.push("ovn-nbctl --timeout=30 --wait=hv sync");
  return { script: `${lines.join("\n")}\n`, vifs, vips };
}

function flows(seed: number, vifs: readonly Vif[], vips: readonly string[], n: number): string[] {
  const r = rng(seed * 7919 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: string[] = [];
  const local = vifs.filter((v) => v.local);
  for (let i = 0; i < n; i++) {
    const a = pick(local);
    const sameSw = vifs.filter((v) => v.name.slice(0, 3) === a.name.slice(0, 3) && v !== a);
    const b = pick(sameSw.length ? sameSw : vifs);
    const k = r();
    const src = r() < 0.9 ? a.mac : "0a:00:00:00:0f:0f";
    if (k < 0.15) {
      out.push(
        `in_port=${a.name},dl_src=${src},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=${a.ip},arp_tpa=${b.ip},arp_op=1,arp_sha=${src}`,
      );
      continue;
    }
    const dstMac = r() < 0.85 ? b.mac : "0a:00:00:00:0e:0e";
    const vip = vips.length && r() < 0.2 ? pick(vips) : b.ip;
    const l4 = pick(["icmp,icmp_type=8", "tcp,tp_src=40000,tp_dst=80", "udp,udp_src=5000,udp_dst=53"]);
    const [proto, ...rest] = l4.split(",");
    out.push(
      `in_port=${a.name},dl_src=${src},dl_dst=${dstMac},${proto},nw_src=${a.ip},nw_dst=${vip},nw_ttl=64,${rest.join(",")}`,
    );
  }
  return out;
}

describe.skipIf(gate.skip)(
  "trace --sb --node live differential (real ovn-controller 23.03 + ofproto/trace)",
  () => {
    afterAll(() => {
      if (process.env.OVNSIM_KEEP !== "1") rmSync(DIR, { recursive: true, force: true });
    });
    const seeds = process.env.OVNSIM_SEED ? [liveSeed()] : [1, 2];
    for (const seed of seeds) {
      it(`seed ${seed}: ofproto/trace over the model's br-int and over the real one print the same`, () => {
        gate.assert();
        mkdirSync(DIR, { recursive: true });
        const { script, vifs, vips } = scenario(seed);
        const fl = flows(seed, vifs, vips, 30);
        const sb = startSandbox({ name: "cap", dir: `${DIR}/sb${seed}`, controller: true });
        const out = join(DIR, `cap${seed}`);
        const real: string[] = [];
        try {
          sb.sh(script);
          const scripts = join(repoRoot(), "scripts");
          sb.sh(
            `sleep 0.3; ${scripts}/capture-sb.sh ${out}/sb >/dev/null; ${scripts}/capture-node.sh ${out}/node >/dev/null`,
          );
          for (const f of fl) real.push(sb.run("ovs-appctl", ["ofproto/trace", "br-int", f]));
        } finally {
          sb.stop();
        }
        const sbFiles = load(join(out, "sb"));
        const node = load(join(out, "node"));
        // ovs-vswitchd hands out recirculation ids for its whole life (0x29 after 40 earlier
        // traces), ofproto/trace's model from 1 per trace: ids are renumbered in order of appearance.
        const norm = (t: string): string => {
          const ids = new Map<string, string>();
          return t.replace(/recirc(?:_id=|\()(0x[0-9a-f]+)/g, (m, id: string) => {
            if (!ids.has(id)) ids.set(id, `0x${(ids.size + 1).toString(16)}`);
            return m.replace(id, ids.get(id)!);
          });
        };
        for (let i = 0; i < real.length; i++) real[i] = norm(real[i]!);
        let text = 0;
        let dp = 0;
        const diffs: string[] = [];
        const textDiffs: string[] = [];
        fl.forEach((f, i) => {
          const ours = norm(
            renderTrace(
              traceCaptures({ sb: sbFiles, nodes: [node], bridge: "br-int", flow: f }).hops[0]!.result,
            ),
          );
          // Flood order (the output ports of a multicast group) is a known @ovnsim/openflow
          // difference (its README): a run of output port numbers compares as a set.
          const act = (t: string) =>
            t
              .split("\n")
              .filter((l) => l.startsWith("Datapath actions:"))
              .map((l) => l.replace(/\b\d+(?:,\d+)+$/, (run) => run.split(",").sort().join(",")))
              .join("\n");
          if (ours === real[i]) text++;
          else {
            const a = ours.split("\n");
            const b = real[i]!.split("\n");
            const j = a.findIndex((l, k) => l !== b[k]);
            textDiffs.push(`${f}\n  real: ${b[j]}\n  ours: ${a[j]}`);
          }
          if (act(ours) === act(real[i]!)) dp++;
          else diffs.push(`${f}\n  real: ${act(real[i]!)}\n  ours: ${act(ours)}`);
        });
        console.log(
          `seed ${seed}: ${text}/${fl.length} text-identical, ${dp}/${fl.length} same datapath actions`,
        );
        for (const d of diffs) console.log(d);
        for (const d of textDiffs) console.log(`text: ${d}`);
        expect(diffs).toEqual([]);
      }, 120_000);
    }
  },
);

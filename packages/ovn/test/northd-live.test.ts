// Live differential test: a freshly generated configuration (switches, localnet/router/VIF ports,
// load balancers of every protocol and family, ACLs of every verdict) is applied to the real
// ovn-northd 23.03 of ../shared/oracle/, and ovnsim's ovn-23.03 flows must match its lflow-list.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { liveSeed, oracleGate, rng, startSandbox } from "@ovnsim/oracle";
import { afterAll, describe, expect, it } from "vitest";
import { compareLflows, formatLflowList, northd, parseLflowList, parseNbctl } from "../src/northd/index.js";

const gate = oracleGate("ovn");
/** Where each seed's config and the real lflow-list are kept (OVNSIM_KEEP=1) for replay. */
const DIR = `/tmp/ovnsim-ovn-nd-${process.pid}`;

/**
 * The bash that applies an ovn-nbctl command file as scripts/record-northd.sh does (the goldens'
 * recorder): "ovn-sbctl" lines after a `--wait=sb sync`, "ovn-nbctl" lines as they are, other
 * lines as ovn-nbctl arguments; then a full northd recompute and `ovn-sbctl lflow-list`.
 */
function applyScript(text: string, file: string): string {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line === "" || line.startsWith("#")) return;
    const fail = ` || { echo '${file}:${i + 1}: failed' >&2; exit 1; }`;
    if (line.startsWith("ovn-sbctl")) out.push("ovn-nbctl --wait=sb sync", `${line}${fail}`);
    else if (line.startsWith("ovn-nbctl")) out.push(`${line}${fail}`);
    else out.push(`ovn-nbctl ${line}${fail}`);
  });
  // ovnsim computes from scratch; the real northd's incremental engine can leave stale flows,
  // so compare with its steady state after a full recompute (as record-northd.sh records).
  out.push(
    "ovn-nbctl --wait=sb sync",
    "ovn-appctl -t ovn-northd inc-engine/recompute >/dev/null",
    "ovn-nbctl --wait=sb sync",
    "ovn-sbctl lflow-list",
  );
  return out.join("\n");
}

/** Generates an ovn-nbctl command file exercising the modelled NB features. */
export function generateConfig(seed: number): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const lines: string[] = [`# generated, seed ${seed}`];
  const nSw = 2 + Math.floor(r() * 3);
  const lbs: string[] = [];
  for (let s = 0; s < nSw; s++) {
    const sw = `sw${s}`;
    const net = `10.${s + 1}`;
    lines.push(`ls-add ${sw}`);
    if (r() < 0.5) {
      lines.push(
        `lsp-add ${sw} ln-${sw} -- lsp-set-type ln-${sw} localnet -- lsp-set-addresses ln-${sw} unknown -- lsp-set-options ln-${sw} network_name=provider`,
      );
      if (r() < 0.5)
        lines.push(`set logical_switch_port ln-${sw} tag=${100 + s} external_ids:ipv4_network=${net}.0.0/16`);
    }
    if (r() < 0.3) {
      lines.push(`lr-add r${s}`);
      lines.push(
        `lrp-add r${s} r${s}-${sw} 00:00:00:00:ff:${(s + 1).toString(16).padStart(2, "0")} ${net}.255.254/16`,
      );
      lines.push(
        `lsp-add ${sw} ${sw}-r${s} -- lsp-set-type ${sw}-r${s} router -- lsp-set-addresses ${sw}-r${s} router -- lsp-set-options ${sw}-r${s} router-port=r${s}-${sw}`,
      );
    }
    const nPods = 1 + Math.floor(r() * 4);
    for (let p = 0; p < nPods; p++) {
      const name = `${sw}-p${p}`;
      const mac = `0a:58:0a:${(s + 1).toString(16).padStart(2, "0")}:00:${(p + 2).toString(16).padStart(2, "0")}`;
      const ip = `${net}.0.${p + 2}`;
      const v6 = r() < 0.3 ? ` fd00:${s + 1}::${p + 2}` : "";
      const kind = r();
      if (kind < 0.1) lines.push(`lsp-add ${sw} ${name} -- lsp-set-addresses ${name} unknown`);
      else {
        lines.push(`lsp-add ${sw} ${name} -- lsp-set-addresses ${name} "${mac} ${ip}${v6}"`);
        if (r() < 0.5) lines.push(`lsp-set-port-security ${name} "${mac} ${ip}"`);
        if (r() < 0.1) lines.push(`lsp-set-enabled ${name} disabled`);
      }
    }
    if (r() < 0.2) lines.push(`set logical_switch ${sw} other_config:mcast_snoop=true`);
    if (r() < 0.1) lines.push(`set logical_switch ${sw} other_config:vlan-passthru=true`);
    if (r() < 0.2)
      lines.push(
        `lsp-add ${sw} ${sw}-md -- lsp-set-type ${sw}-md localport -- lsp-set-addresses ${sw}-md "0a:58:a9:fe:a9:${(s + 1).toString(16).padStart(2, "0")} 169.254.169.254"`,
      );
    const nAcl = Math.floor(r() * 4);
    for (let a = 0; a < nAcl; a++) {
      const dir = pick(["from-lport", "to-lport"]);
      const verdict = pick(["allow", "allow-related", "drop", "reject", "allow-stateless"]);
      const match = pick(["ip4", "tcp.dst == 80", `ip4.src == ${net}.0.0/16`, "udp", "icmp4"]);
      let opts = r() < 0.3 ? `--log --severity=info --name=acl-${s}-${a} ` : "";
      if ((verdict === "allow" || verdict === "allow-related") && r() < 0.3) opts += `--label=${100 + a} `;
      if (dir === "from-lport" && r() < 0.2) opts += "--apply-after-lb ";
      lines.push(`${opts}acl-add ${sw} ${dir} ${1000 + a} "${match}" ${verdict}`);
      if (opts.includes("--log") && opts.includes("--label") && r() < 0.5) {
        lines.push(`set acl acl-${s}-${a} options:log-related=true`);
      }
    }
    if (r() < 0.7) {
      const lb = `lb${s}`;
      const proto = pick(["tcp", "udp", "sctp"]);
      const nb = Math.floor(r() * 3);
      const backends = Array.from({ length: nb }, (_, i) => `${net}.0.${i + 2}:8080`).join(",");
      lines.push(
        `lb-add ${lb} 10.96.${s}.${1 + Math.floor(r() * 200)}:${pick([80, 443, 53])} "${backends}" ${proto}`,
      );
      if (r() < 0.3) lines.push(`lb-add ${lb} 10.96.${s}.250 ${net}.0.2`);
      if (r() < 0.2) lines.push(`lb-add ${lb} [fd00:96::${s + 1}]:80 [fd00:${s + 1}::2]:8080 ${proto}`);
      if (r() < 0.2) lines.push(`set load_balancer ${lb} selection_fields=ip_src,tp_src`);
      if (r() < 0.15) lines.push(`set load_balancer ${lb} options:affinity_timeout=30`);
      if (r() < 0.15) lines.push(`set load_balancer ${lb} options:reject=true`);
      lines.push(`ls-lb-add ${sw} ${lb}`);
      lbs.push(lb);
    }
  }
  if (r() < 0.3) {
    lines.push("ovn-sbctl chassis-add hv1 geneve 127.0.0.1");
    if (r() < 0.5) lines.push("ovn-sbctl set chassis hv1 other_config:ct-no-masked-label=true");
    if (r() < 0.5) lines.push("ovn-sbctl set chassis hv1 other_config:ovn-ct-lb-related=true");
  }
  const last = lbs[lbs.length - 1];
  if (last !== undefined && last !== "lb0" && r() < 0.5) lines.push(`ls-lb-add sw0 ${last}`);
  return `${lines.join("\n")}\n`;
}

describe.skipIf(gate.skip)("northd live differential (real ovn-northd 23.03)", () => {
  afterAll(() => {
    if (process.env.OVNSIM_KEEP !== "1") rmSync(DIR, { recursive: true, force: true });
  });
  it("the oracle tools are installed", () => {
    expect(gate.available, `${gate.missing.join(", ")} missing (OVNSIM_REQUIRE_ORACLE=1)`).toBe(true);
  });
  // OVNSIM_NORTHD_SEEDS=a,b,… or the shared OVNSIM_SEED replays given seeds; by default 1, 2, 3.
  const seeds = process.env.OVNSIM_NORTHD_SEEDS
    ? process.env.OVNSIM_NORTHD_SEEDS.split(",").map(Number)
    : process.env.OVNSIM_SEED
      ? [liveSeed()]
      : [1, 2, 3];
  for (const seed of seeds) {
    it(`generated config, seed ${seed}: identical switch flows`, () => {
      gate.assert();
      mkdirSync(DIR, { recursive: true });
      const cfg = `${DIR}/gen-${seed}.nbctl`;
      const text = generateConfig(seed);
      writeFileSync(cfg, text);
      // A fresh real northd (no OVS) per configuration, as the goldens are recorded.
      const sb = startSandbox({ name: "ovn-nd", dir: `${DIR}/sb`, ovs: false });
      let lflows: string;
      try {
        lflows = sb.sh(applyScript(text, cfg));
      } finally {
        sb.stop();
      }
      writeFileSync(`${DIR}/gen-${seed}.lflow-list.txt`, lflows);
      const real = parseLflowList(lflows);
      const ours = parseLflowList(formatLflowList(northd(parseNbctl(text, { file: cfg }), "ovn-23.03")));
      const cmp = compareLflows(real, ours);
      expect(
        cmp.extra.map((f) => `${f.datapath} ${f.stage} ${f.priority} ${f.match} -> ${f.actions}`),
      ).toEqual([]);
      expect(
        cmp.missing.map((f) => `${f.datapath} ${f.stage} ${f.priority} ${f.match} -> ${f.actions}`),
      ).toEqual([]);
    }, 30_000);
  }
});

// Live differential test: a freshly generated configuration (switches, localnet/router/VIF ports,
// load balancers of every protocol and family, ACLs of every verdict) is applied to the real
// ovn-northd 23.03 of ../shared/oracle/, and ovnsim's ovn-23.03 flows must match its lflow-list.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compareLflows, formatLflowList, northd, parseLflowList, parseNbctl } from "../src/northd/index.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHARED = process.env.OVNSIM_SHARED ?? path.resolve(HERE, "../../../../shared");
const ORACLE = path.join(SHARED, "oracle");
const have = (cmd: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const available = existsSync(path.join(ORACLE, "oracle-up.sh")) && have("ovn-northd") && have("ovn-nbctl");
const required = process.env.OVNSIM_REQUIRE_ORACLE === "1";
const DIR = `/tmp/ovnsim-ovn-nd-${process.pid}`;
const RECORD = path.resolve(HERE, "../scripts/record-northd.sh");

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

describe.skipIf(!available && !required)("northd live differential (real ovn-northd 23.03)", () => {
  afterAll(() => {
    if (process.env.OVNSIM_KEEP !== "1") rmSync(DIR, { recursive: true, force: true });
  });
  it("the oracle tools are installed", () => {
    expect(available, "ovn-northd / ovn-nbctl or ../shared/oracle missing (OVNSIM_REQUIRE_ORACLE=1)").toBe(
      true,
    );
  });
  const seeds = (process.env.OVNSIM_NORTHD_SEEDS ?? "1,2,3").split(",").map(Number);
  for (const seed of seeds) {
    it(`generated config, seed ${seed}: identical switch flows`, () => {
      mkdirSync(DIR, { recursive: true });
      const cfg = path.join(DIR, `gen-${seed}.nbctl`);
      const text = generateConfig(seed);
      writeFileSync(cfg, text);
      execFileSync("bash", [RECORD, cfg], { env: { ...process.env, OVNSIM_SHARED: SHARED }, stdio: "pipe" });
      const real = parseLflowList(
        execFileSync("cat", [path.join(DIR, `gen-${seed}.lflow-list.txt`)], { encoding: "utf8" }),
      );
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

// The seed checks for `diff`: the VIP-node marker flows between releases, the client →
// VIP verdict when externalTrafficPolicy flips, the pre_lb flow of --ls-ct-skip-dst-lport-ips;
// and `ovnsim diff` exit codes (0 nothing changes, 1 something does, 2 bad input).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { deriveNbctl, loadScenario, seedScenarioDir } from "@ovnsim/kube";
import {
  type DiffDocument,
  applyVariant,
  diffBrInt,
  diffLflows,
  diffScenarios,
  scenarioLflows,
} from "@ovnsim/whatif";
import { beforeAll, describe, expect, it } from "vitest";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const seed = loadScenario([]);
const VIP = "10.180.204.252:80/tcp";

// Two diffs several tests read (each builds two matrices).
let etp: DiffDocument;
let skip: DiffDocument;
beforeAll(() => {
  etp = diffScenarios(
    { label: "Local", scenario: applyVariant(seed, { etp: "Local" }) },
    { label: "Cluster", scenario: applyVariant(seed, { etp: "Cluster" }) },
  );
  skip = diffScenarios(
    { label: "off", scenario: applyVariant(seed, { flags: { "ls-ct-skip-dst-lport-ips": "false" } }) },
    { label: "on", scenario: applyVariant(seed, { flags: { "ls-ct-skip-dst-lport-ips": "true" } }) },
  );
}, 180_000);

describe("diff on the seed", () => {
  it("1.14 → 1.15 (MetalLB with ServiceL2Status) adds the VIP-node marker flows of ls_in_lb", () => {
    const a = scenarioLflows(applyVariant(seed, { release: "1.14", metallb: "0.14.8" }));
    const b = scenarioLflows(applyVariant(seed, { release: "1.15", metallb: "0.14.8" }));
    const d = diffLflows(a, b);
    const lb = d.added.filter((f) => f.datapath === "underlay-subnet" && f.stage === "ls_in_lb");
    // The marker pins the local-backend flow to the announcing node's join port (node3 announces).
    expect(lb).toContainEqual(
      expect.objectContaining({
        priority: 140,
        match: 'ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("node-node3")',
      }),
    );
    expect(lb).toContainEqual(
      expect.objectContaining({
        priority: 139,
        match: "ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80",
        actions: "next;",
      }),
    );
    // … and removes 1.14's one-flow-per-pod prefer-local flows.
    expect(d.removed.filter((f) => f.stage === "ls_in_lb" && f.priority === 140)).toHaveLength(3);
    // The marker needs MetalLB's ServiceL2Status (0.14.4+): with the seed's 0.13.7 it is absent.
    const old = diffLflows(a, scenarioLflows(applyVariant(seed, { release: "1.15" })));
    expect(old.added.some((f) => f.match.includes('is_chassis_resident("node-'))).toBe(false);
  });

  it("ETP Local → Cluster: client → VIP goes from delivered to dropped, and says why", () => {
    const v = etp.verdicts.find((x) => x.from === "client/client" && x.to === VIP);
    expect(v?.before).toBe("delivered to default/deploy-169402624-2 on node3 (DNAT 10.180.204.4:80)");
    expect(v?.after).toMatch(/^dropped at ovn/);
    // Kube-OVN 1.14 puts no prefer-local LB on the switch for an ETP Cluster Service: the path
    // no longer meets the per-node ct_lb_mark flow, and the doctor says so.
    expect(v?.why.some((w) => w.startsWith("no longer hits removed lflow ls_in_lb priority 140"))).toBe(true);
    expect(v?.why).toContain("doctor: ETP_CLUSTER appears");
    expect(etp.findings.added).toContain("ETP_CLUSTER");
  });

  it("--ls-ct-skip-dst-lport-ips on adds the ls_in_pre_lb flow that breaks client → VIP", () => {
    expect(skip.lflows.removed).toEqual([]);
    expect(skip.lflows.added).toEqual([
      {
        datapath: "underlay-subnet",
        pipeline: "ingress",
        table: 5,
        stage: "ls_in_pre_lb",
        priority: 105,
        match: "ip4 && ip4.dst == 10.180.204.0/24",
        actions: "next;",
      },
    ]);
    const v = skip.verdicts.find((x) => x.from === "client/client" && x.to === VIP);
    expect(v?.before).toMatch(/^delivered/);
    expect(v?.after).toMatch(/^dropped/);
    expect(v?.why).toContain(
      "hits added lflow ls_in_pre_lb priority 105 match (ip4 && ip4.dst == 10.180.204.0/24) actions (next;)",
    );
    expect(skip.findings.added).toEqual(["LS_CT_SKIP_DST_LPORT_IPS"]);
    expect(skip.changed).toBe(true);
    // On br-int: each chassis gains exactly that flow, as ovn-controller translates it.
    expect(skip.brInt.map((c) => c.chassis)).toEqual(["node1", "node2", "node3"]);
    for (const c of skip.brInt) {
      expect(c.removed).toEqual([]);
      expect(c.added).toHaveLength(1);
      expect(c.added[0]).toMatchObject({
        flow: "table=13, priority=105,ip,metadata=0x1,nw_dst=10.180.204.0/24 actions=resubmit(,14)",
        lflow: "ls_in_pre_lb (ingress table 5) priority 105: ip4 && ip4.dst == 10.180.204.0/24 → next;",
      });
    }
  });

  it("br-int per chassis, 1.14 → 1.15: the VIP-node marker flow is installed on node3 only", () => {
    const d = diffBrInt(
      applyVariant(seed, { release: "1.14", metallb: "0.14.8" }),
      applyVariant(seed, { release: "1.15", metallb: "0.14.8" }),
    );
    const marker = (c: string) =>
      (d.find((x) => x.chassis === c)?.added ?? []).filter((f) =>
        f.lflow?.includes('is_chassis_resident("node-node3")'),
      );
    // 1.14 runs ovn-controller 24.03 (egress pipeline from table 42), 1.15 runs 25.03 (from 45):
    // flows that only moved are counted, not listed, so the real changes stand out.
    for (const c of d) {
      expect(c.moved, c.chassis).toBeGreaterThan(50);
    }
    // is_chassis_resident("node-node3"): ovn-controller installs the flow where node3's join port is bound.
    expect(marker("node3")).toHaveLength(1);
    expect(marker("node3")[0]!.flow).toMatch(
      /^table=21, priority=140,ct_state=\+new\+trk,tcp,metadata=0x1,nw_dst=10\.180\.204\.252,tp_dst=80 actions=.*group:\d+$/,
    );
    expect(marker("node1")).toEqual([]);
    expect(marker("node2")).toEqual([]);
    // 1.14's per-pod prefer-local flow (is_chassis_resident of the local pod) goes from each chassis.
    for (const c of ["node1", "node2", "node3"]) {
      const gone = (d.find((x) => x.chassis === c)?.removed ?? []).filter(
        (f) => f.lflow?.startsWith("ls_in_lb (ingress table 13) priority 140") ?? false,
      );
      expect(gone, c).toHaveLength(1);
    }
    // Every changed br-int flow of a logical pipeline table names the logical flow behind it.
    for (const c of d)
      for (const f of [...c.added, ...c.removed])
        if (/^table=(\d+)/.exec(f.flow) && /^table=(?:[89]|[1-3]\d|4[2-9]|5\d),/.test(f.flow))
          expect(f.lflow, f.flow).not.toBeNull();
  }, 120_000);
});

describe("ovnsim diff", () => {
  it("exit 1 and ovnsim.diff/v1 JSON when something changes; 0 when nothing does", async () => {
    const r = await cli(["diff", "--flag", "ls-ct-skip-dst-lport-ips=false,true", "--format", "json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.schema).toBe("ovnsim.diff/v1");
    expect(Object.keys(j.lflows)).toEqual(["added", "removed"]);
    expect(Object.keys(j.verdicts[0])).toEqual(["from", "to", "before", "after", "why"]);
    const same = await cli(["diff", "--release", "1.14,v1.14.5"]);
    expect(same.code).toBe(0);
    expect(same.out).toContain("nothing changes");
  }, 180_000);

  it("two manifest sets: the seed and a copy with externalTrafficPolicy: Cluster", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-diff-"));
    const src = seedScenarioDir();
    for (const f of readdirSync(src).filter((x) => x.endsWith(".yaml"))) {
      const text = readFileSync(join(src, f), "utf8");
      writeFileSync(
        join(dir, f),
        text.replace("externalTrafficPolicy: Local", "externalTrafficPolicy: Cluster"),
      );
    }
    const r = await cli(["diff", src, dir, "--format", "json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as DiffDocument;
    // The same change through the manifests as through --etp: the same flows and verdicts.
    expect(j.lflows).toEqual(etp.lflows);
    expect(j.verdicts.map((v) => [v.from, v.to, v.after])).toEqual(
      etp.verdicts.map((v) => [v.from, v.to, v.after]),
    );
  }, 180_000);

  it("two ovn-nbctl files: logical flows only, per profile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-diff-"));
    const f = join(dir, "nb.txt");
    writeFileSync(f, deriveNbctl(seed).join("\n"));
    expect((await cli(["diff", "--nbctl", f, f])).code).toBe(0);
    const r = await cli(["diff", "--nbctl", f, f, "--profile", "kube-ovn-1.14,kube-ovn-1.15"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/logical flows: \d+ added, \d+ removed/);
  });

  it("exit 2 on bad input", async () => {
    for (const args of [
      ["diff", "--etp", "Sometimes"],
      ["diff", "--flag", "no-such-flag=true"],
      ["diff", "--flag", "ls-ct-skip-dst-lport-ips=maybe"],
      ["diff", "--release", "1.14,1.15,1.16"],
      ["diff", "--release", "banana"],
      ["diff", "a", "b", "c"],
      ["diff", "--nbctl", "/nonexistent"],
      ["diff", "--nbctl", "/nonexistent", "/nonexistent"],
      ["diff", "/nonexistent"],
      ["diff", "--format", "xml"],
    ]) {
      expect((await cli(args)).code, args.join(" ")).toBe(2);
    }
  });
});

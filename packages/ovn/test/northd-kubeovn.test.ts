// Kube-OVN profiles: the patched flows exist exactly as kube-ovn-internals.md §1.3, §1.4, §2.3
// and §9 give them (and as the patched sources read), and the release profiles differ where
// the releases do (stage numbers, reg1 vs reg4, chassis-feature fallback).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { LogicalFlow } from "../src/types.js";
import {
  type NbDatabase,
  type ProfileName,
  applyNbctl,
  northd,
  parseNbctl,
  parseNbctlLine,
} from "../src/northd/index.js";

const FIX = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "northd",
  "kube-ovn-underlay.nbctl",
);
const BASE = readFileSync(FIX, "utf8");

const VIP = "10.180.204.252";
const m120 = `ct.new && ip4.dst == ${VIP} && tcp.dst == 80`;

function withLines(db: NbDatabase, ...lines: string[]): NbDatabase {
  let d = db;
  for (const l of lines) for (const c of parseNbctlLine(l)) d = applyNbctl(d, c);
  return d;
}

function flows(db: NbDatabase, profile: ProfileName, dp = "underlay-subnet"): LogicalFlow[] {
  return northd(db, profile).flows.filter((f) => f.datapath === dp);
}

const key = (f: LogicalFlow) => `${f.stage} ${f.priority} ${f.match} -> ${f.actions}`;

function diff(a: readonly LogicalFlow[], b: readonly LogicalFlow[]): { added: string[]; removed: string[] } {
  const ka = new Set(a.map(key));
  const kb = new Set(b.map(key));
  return { added: [...kb].filter((k) => !ka.has(k)), removed: [...ka].filter((k) => !kb.has(k)) };
}

describe("ls_ct_skip_dst_lport_ips (§1.3, §9)", () => {
  for (const p of ["kube-ovn-1.14", "kube-ovn-1.15"] as const) {
    it(`${p}: true adds exactly ls_in_pre_lb 105 ip4 && ip4.dst == 10.180.204.0/24 -> next;`, () => {
      const off = parseNbctl(BASE);
      const on = withLines(off, "set nb_global . options:ls_ct_skip_dst_lport_ips=true");
      expect(diff(flows(off, p), flows(on, p))).toEqual({
        added: ["ls_in_pre_lb 105 ip4 && ip4.dst == 10.180.204.0/24 -> next;"],
        removed: [],
      });
      const f = flows(on, p).find((x) => x.priority === 105 && x.stage === "ls_in_pre_lb");
      expect(f?.table).toBe(5);
      expect(f?.pipeline).toBe("ingress");
    });
  }
  it("stock OVN ignores the option", () => {
    const on = withLines(parseNbctl(BASE), "set nb_global . options:ls_ct_skip_dst_lport_ips=true");
    expect(flows(on, "ovn-24.03").some((f) => f.priority === 105 && f.stage === "ls_in_pre_lb")).toBe(false);
  });
  it("needs an LB VIP on the switch", () => {
    const db = withLines(
      parseNbctl(BASE),
      "set nb_global . options:ls_ct_skip_dst_lport_ips=true",
      "ls-lb-del underlay-subnet",
    );
    expect(flows(db, "kube-ovn-1.14").some((f) => f.priority === 105 && f.stage === "ls_in_pre_lb")).toBe(
      false,
    );
  });
});

describe("ls_dnat_mod_dl_dst (§1.4, §9)", () => {
  it("adds ls_in_l2_lkup 55 per pod IP, none for the localnet port", () => {
    const f = flows(parseNbctl(BASE), "kube-ovn-1.14").filter(
      (x) => x.stage === "ls_in_l2_lkup" && x.priority === 55,
    );
    expect(f.map((x) => `${x.table} ${x.match} -> ${x.actions}`)).toEqual([
      'reg0[2] != 0 && ip4.dst == 10.180.204.11 -> eth.dst = 0a:58:0a:b4:cc:0b; outport = "nginx-0.default"; output;'.replace(
        /^/,
        "27 ",
      ),
      'reg0[2] != 0 && ip4.dst == 10.180.204.12 -> eth.dst = 0a:58:0a:b4:cc:0c; outport = "nginx-1.default"; output;'.replace(
        /^/,
        "27 ",
      ),
      'reg0[2] != 0 && ip4.dst == 10.180.204.13 -> eth.dst = 0a:58:0a:b4:cc:0d; outport = "nginx-2.default"; output;'.replace(
        /^/,
        "27 ",
      ),
    ]);
  });
  it("off: no 55 flows; with a router port on the switch: none either", () => {
    const off = withLines(parseNbctl(BASE), "set nb_global . options:ls_dnat_mod_dl_dst=false");
    expect(flows(off, "kube-ovn-1.14").some((f) => f.priority === 55)).toBe(false);
    const u2o = withLines(
      parseNbctl(BASE),
      "lr-add ovn-cluster",
      "lrp-add ovn-cluster ovn-cluster-underlay 00:00:00:11:22:33 10.180.204.1/24",
      "lsp-add underlay-subnet underlay-subnet-ovn-cluster -- lsp-set-type underlay-subnet-ovn-cluster router -- lsp-set-addresses underlay-subnet-ovn-cluster router -- lsp-set-options underlay-subnet-ovn-cluster router-port=ovn-cluster-underlay",
    );
    expect(flows(u2o, "kube-ovn-1.14").some((f) => f.priority === 55)).toBe(false);
  });
});

describe("prefer_local_backend, release-1.14 form (§2.3 4, §9)", () => {
  const lb = flows(parseNbctl(BASE), "kube-ovn-1.14").filter(
    (f) => f.stage === "ls_in_lb" && f.priority >= 120,
  );
  it("one 140 per chassis with backends (two pods on node1 → one flow), 120 fallback kept", () => {
    expect(lb.map((f) => `${f.table} ${f.priority} ${f.match} -> ${f.actions}`)).toEqual([
      `13 140 ${m120} && is_chassis_resident("nginx-0.default") -> ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80);`,
      `13 140 ${m120} && is_chassis_resident("nginx-2.default") -> ct_lb_mark(backends=10.180.204.13:80);`,
      `13 120 ${m120} -> ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80,10.180.204.13:80);`,
    ]);
  });
  it("a node without pods gets no flow; prefer_local_backend=false leaves only 120", () => {
    const moved = withLines(
      parseNbctl(BASE),
      "ovn-sbctl lsp-unbind nginx-2.default",
      "ovn-sbctl lsp-bind nginx-2.default node1",
    );
    const p = flows(moved, "kube-ovn-1.14").filter((f) => f.stage === "ls_in_lb" && f.priority === 140);
    expect(p.map((f) => f.actions)).toEqual([
      "ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80,10.180.204.13:80);",
    ]);
    const off = withLines(
      parseNbctl(BASE),
      "set load_balancer cluster-tcp-loadbalancer options:prefer_local_backend=false",
    );
    expect(
      flows(off, "kube-ovn-1.14")
        .filter((f) => f.stage === "ls_in_lb" && f.priority >= 120)
        .map((f) => f.priority),
    ).toEqual([120]);
  });
  it("the 1.14 marker is ignored (no 139)", () => {
    const m = withLines(
      parseNbctl(BASE),
      `set load_balancer cluster-tcp-loadbalancer 'external_ids:"kube-ovn.io/local-external-vip/${VIP}:80"=node-node1'`,
    );
    expect(flows(m, "kube-ovn-1.14").some((f) => f.priority === 139)).toBe(false);
  });
  it("unbound backends are left out (a stale LB has only the 120 flow)", () => {
    const db = withLines(
      parseNbctl(BASE),
      "ovn-sbctl lsp-unbind nginx-0.default",
      "ovn-sbctl lsp-unbind nginx-1.default",
      "ovn-sbctl lsp-unbind nginx-2.default",
    );
    expect(flows(db, "kube-ovn-1.14").some((f) => f.priority === 140)).toBe(false);
  });
});

describe("prefer_local_backend, release-1.15 VIP-node marker form (§2.3 3)", () => {
  const marked = withLines(
    parseNbctl(BASE),
    `set load_balancer cluster-tcp-loadbalancer 'external_ids:"kube-ovn.io/local-external-vip/${VIP}:80"=node-node1'`,
  );
  it("139 bypass + 140 only on the VIP node with its local backends, 120 kept", () => {
    const lb = flows(marked, "kube-ovn-1.15").filter((f) => f.stage === "ls_in_lb" && f.priority >= 120);
    expect(lb.map((f) => `${f.table} ${f.priority} ${f.match} -> ${f.actions}`)).toEqual([
      `13 140 ${m120} && is_chassis_resident("node-node1") -> reg4 = ${VIP}; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80);`,
      `13 139 ${m120} -> next;`,
      `13 120 ${m120} -> reg4 = ${VIP}; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80,10.180.204.13:80);`,
    ]);
  });
  it("a VIP node without local backends: 139 but no 140", () => {
    const db = withLines(
      marked,
      "ovn-sbctl chassis-add node3 geneve 172.18.0.4",
      "lsp-add join node-node3",
      "ovn-sbctl lsp-bind node-node3 node3",
    );
    const db2 = withLines(
      db,
      `set load_balancer cluster-tcp-loadbalancer 'external_ids:"kube-ovn.io/local-external-vip/${VIP}:80"=node-node3'`,
    );
    const pr = flows(db2, "kube-ovn-1.15")
      .filter((f) => f.stage === "ls_in_lb" && f.priority >= 130)
      .map((f) => f.priority);
    expect(pr).toEqual([139]);
  });
  it("without the marker 1.15 behaves like 1.14 (per-chassis 140) with the reg4 prefix", () => {
    const lb = flows(parseNbctl(BASE), "kube-ovn-1.15").filter((f) => f.priority === 140);
    expect(lb).toHaveLength(2);
    expect(
      lb.every((f) => f.actions.startsWith(`reg4 = ${VIP}; reg2[0..15] = 80; ct_lb_mark(backends=`)),
    ).toBe(true);
  });
  it("U2O switch: ls_in_l2_lkup 55 per VIP-node backend with is_chassis_resident (table 28)", () => {
    const u2o = withLines(
      marked,
      "lr-add ovn-cluster",
      "lrp-add ovn-cluster ovn-cluster-underlay 00:00:00:11:22:33 10.180.204.1/24",
      "lsp-add underlay-subnet underlay-subnet-ovn-cluster -- lsp-set-type underlay-subnet-ovn-cluster router -- lsp-set-addresses underlay-subnet-ovn-cluster router -- lsp-set-options underlay-subnet-ovn-cluster router-port=ovn-cluster-underlay",
    );
    const l2 = flows(u2o, "kube-ovn-1.15").filter((f) => f.stage === "ls_in_l2_lkup" && f.priority === 55);
    expect(l2.map((f) => `${f.table} ${f.match} -> ${f.actions}`)).toEqual([
      `28 reg0[2] != 0 && ip4.dst == 10.180.204.11 && is_chassis_resident("node-node1") -> eth.dst = 0a:58:0a:b4:cc:0b; outport = "nginx-0.default"; output;`,
      `28 reg0[2] != 0 && ip4.dst == 10.180.204.12 && is_chassis_resident("node-node1") -> eth.dst = 0a:58:0a:b4:cc:0c; outport = "nginx-1.default"; output;`,
    ]);
  });
});

describe("release profiles", () => {
  const db = parseNbctl(BASE);
  const at = (p: ProfileName, stage: string) => flows(db, p).find((f) => f.stage === stage)?.table;
  it("stage numbers follow each release's PIPELINE_STAGE list (§2.1)", () => {
    expect([at("ovn-23.03", "ls_in_lb"), at("ovn-23.03", "ls_in_l2_lkup")]).toEqual([12, 25]);
    expect([
      at("ovn-24.03", "ls_in_lb"),
      at("ovn-24.03", "ls_in_l2_lkup"),
      at("ovn-24.03", "ls_out_apply_port_sec"),
    ]).toEqual([13, 27, 10]);
    expect([
      at("ovn-25.03", "ls_in_lb"),
      at("ovn-25.03", "ls_in_l2_lkup"),
      at("ovn-25.03", "ls_out_apply_port_sec"),
    ]).toEqual([13, 28, 12]);
    expect(at("kube-ovn-1.15", "ls_in_pre_stateful")).toBe(6);
  });
  it("the original VIP goes to reg1 up to 24.03 and to reg4 from 25.03 (§2.1, §9)", () => {
    const pre = (p: ProfileName) =>
      flows(db, p).find((f) => f.stage === "ls_in_pre_stateful" && f.priority === 120)?.actions;
    expect(pre("ovn-23.03")).toBe("reg1 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark;");
    expect(pre("kube-ovn-1.14")).toBe("reg1 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark;");
    expect(pre("kube-ovn-1.15")).toBe("reg4 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark;");
  });
  it("chassis without advertised features fall back to ct_lb / ct_label.blocked (not in 25.03)", () => {
    const bare = withLines(db, "ovn-sbctl chassis-add node9 geneve 172.18.0.9");
    const pre = (p: ProfileName) =>
      flows(bare, p).find((f) => f.stage === "ls_in_pre_stateful" && f.priority === 110)?.actions;
    expect(pre("ovn-23.03")).toBe("ct_lb;");
    expect(pre("ovn-24.03")).toBe("ct_lb;");
    expect(pre("ovn-25.03")).toBe("ct_lb_mark;");
    expect(
      northd(bare, "ovn-23.03", { features: { ctNoMaskedLabel: true } }).flows.some(
        (f) => f.actions === "ct_lb;",
      ),
    ).toBe(false);
  });
  it("25.03 marks localnet ingress in ls_in_lookup_fdb and answers ARP per chassis", () => {
    const f = flows(db, "ovn-25.03");
    expect(f.map(key)).toContain(
      'ls_in_lookup_fdb 50 inport == "localnet.underlay-subnet" -> flags.localnet = 1; next;',
    );
    expect(
      f.some(
        (x) => x.stage === "ls_in_arp_rsp" && x.match.includes('is_chassis_resident("nginx-0.default")'),
      ),
    ).toBe(true);
    expect(flows(db, "ovn-24.03").some((x) => x.match.includes("flags.localnet"))).toBe(false);
  });
  it("every profile is deterministic and every flow uses a stage of its profile", () => {
    for (const p of ["ovn-23.03", "ovn-24.03", "ovn-25.03", "kube-ovn-1.14", "kube-ovn-1.15"] as const) {
      const a = northd(db, p);
      expect(northd(db, p)).toEqual(a);
      expect(a.flows.length).toBeGreaterThan(50);
    }
  });
});

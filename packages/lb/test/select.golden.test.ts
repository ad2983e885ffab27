/**
 * Pins @ovnsim/lb's select-group choice to real Open vSwitch 3.1: fixtures recorded by
 * scripts/record-select-golden.mts (ofproto/trace bucket scores and choices, and real packets
 * through dp_hash groups in the dummy datapath).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ETH_TYPE, type Flow, IP_PROTO, makeFlow, parseIp4, parseIp6, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  type SelectBucket,
  type SelectGroup,
  dpHashL4,
  parseHashFields,
  selectBucket,
} from "../src/index.js";

interface GFields {
  in_port: number;
  proto?: string;
  nw_src?: string;
  nw_dst?: string;
  ipv6_src?: string;
  ipv6_dst?: string;
  dl_src?: string;
  dl_dst?: string;
  tp_src?: number;
  tp_dst?: number;
  dp_hash?: number;
}
interface Golden {
  recordedWith: string;
  groups: {
    id: number;
    method: "hash" | "dp_hash" | "";
    fields?: string;
    param?: number;
    buckets: SelectBucket[];
  }[];
  traces: {
    group: number;
    flow: string;
    fields: GFields;
    scores: { bucketId: number; score: number }[];
    chosen: number | null;
  }[];
  injected: { group: number; packet: string; fields: GFields; bucket: number | null }[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const golden = JSON.parse(readFileSync(path.join(here, "golden/select-groups.json"), "utf8")) as Golden;

function toFlow(f: GFields): Flow {
  const v6 = f.proto?.endsWith("6") ?? false;
  const proto = f.proto?.startsWith("udp") ? IP_PROTO.udp : IP_PROTO.tcp;
  return makeFlow({
    in_port: f.in_port,
    dp_hash: f.dp_hash ?? 0,
    dl_type: v6 ? ETH_TYPE.ipv6 : ETH_TYPE.ip,
    nw_proto: proto,
    nw_src: f.nw_src ? parseIp4(f.nw_src) : f.dp_hash ? parseIp4("1.1.1.1") : 0,
    nw_dst: f.nw_dst ? parseIp4(f.nw_dst) : f.dp_hash ? parseIp4("2.2.2.2") : 0,
    ipv6_src: f.ipv6_src ? parseIp6(f.ipv6_src) : 0n,
    ipv6_dst: f.ipv6_dst ? parseIp6(f.ipv6_dst) : 0n,
    dl_src: f.dl_src ? parseMac(f.dl_src) : 0,
    dl_dst: f.dl_dst ? parseMac(f.dl_dst) : 0,
    tp_src: f.tp_src ?? (f.dp_hash ? 1 : 0),
    tp_dst: f.tp_dst ?? (f.dp_hash ? 2 : 0),
  });
}

function groupOf(id: number): SelectGroup {
  const g = golden.groups.find((x) => x.id === id);
  if (!g) throw new Error(`group ${id}`);
  return {
    method: g.method,
    buckets: g.buckets,
    param: BigInt(g.param ?? 0),
    ...(g.fields ? { fields: parseHashFields(g.fields) } : {}),
  };
}

describe(`select groups vs ${golden.recordedWith}`, () => {
  const scored = golden.traces.filter((t) => t.scores.length > 0);
  it(`hash-field and default-method scores equal OVS's for all ${scored.length} traced flows`, () => {
    expect(scored.length).toBeGreaterThanOrEqual(50);
    const mismatches: string[] = [];
    for (const t of scored) {
      const c = selectBucket(groupOf(t.group), toFlow(t.fields));
      const ours = c.scores.map((s) => ({ bucketId: s.bucketId, score: s.score }));
      if (JSON.stringify(ours) !== JSON.stringify(t.scores) || c.bucketId !== t.chosen) {
        mismatches.push(
          `${t.flow}: ours ${JSON.stringify(ours)} → ${c.bucketId}, OVS ${JSON.stringify(t.scores)} → ${t.chosen}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("covers every method: hash with param, masks, prerequisites skipped; default (symmetric L4)", () => {
    const groups = new Set(scored.map((t) => t.group));
    expect([...groups].sort()).toEqual([1, 2, 3, 4, 8]);
  });

  const dpTraces = golden.traces.filter((t) => t.fields.dp_hash !== undefined);
  it(`dp_hash slot maps (Webster) equal OVS's for ${dpTraces.length} traced dp_hash values`, () => {
    const bad = dpTraces.filter(
      (t) => selectBucket(groupOf(t.group), toFlow(t.fields)).bucketId !== t.chosen,
    );
    expect(bad.map((t) => t.flow)).toEqual([]);
  });

  it(`the datapath's own dp_hash: ${golden.injected.length} real packets land in the same bucket`, () => {
    const bad: string[] = [];
    for (const p of golden.injected) {
      const c = selectBucket(groupOf(p.group), toFlow(p.fields));
      expect(c.dpHashComputed).toBe(true);
      // dump-group-stats numbers buckets by position, not bucket_id.
      if (c.index !== p.bucket) bad.push(`${p.packet}: ours ${c.index}, OVS ${p.bucket}`);
    }
    expect(bad).toEqual([]);
  });

  it("dp_hash value of the sample VIP flow equals the datapath's (dpctl/dump-flows dp_hash(0x5b2943e4))", () => {
    const f = makeFlow({
      dl_type: ETH_TYPE.ip,
      nw_proto: 6,
      nw_src: parseIp4("192.0.2.10"),
      nw_dst: parseIp4("10.180.204.252"),
      tp_src: 40000,
      tp_dst: 80,
    });
    expect(dpHashL4(f).toString(16)).toBe("5b2943e4");
  });
});

// Checks normalDecide against real OVS 3.1 NORMAL decisions recorded by
// scripts/record-normal.sh (test/golden/normal-traces.txt): the trace lines under NORMAL and the
// set of (port, VLAN stack) outputs read back from "Datapath actions:". OVS floods in the order
// of an internal hash map (pointer hashes), so outputs are compared as sets.
import { readFileSync } from "node:fs";
import { type VlanHeader, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { type L2PortConfig, MacTable, formatNote, normalDecide } from "../src/index.js";

const text = readFileSync(new URL("./golden/normal-traces.txt", import.meta.url), "utf8");
const blocks = text.split(/^\$ /m).filter((b) => b.startsWith("ovs-appctl ofproto/trace"));

const ports: L2PortConfig[] = [
  { port: 1, name: "p1", trunks: [341] },
  { port: 2, name: "p2", tag: 341 },
  { port: 3, name: "p3", tag: 341 },
  { port: 4, name: "p4", tag: 342 },
  { port: 5, name: "p5", vlanMode: "native-untagged", tag: 10, trunks: [341] },
  { port: 6, name: "p6" },
  { port: 7, name: "p7", vlanMode: "native-tagged", tag: 341 },
  { port: 65534, name: "br0" },
];
const DP_TO_OFPORT = (dp: number) => (dp === 100 ? 65534 : dp);

function parseTraceArg(flow: string) {
  const kv = new Map(flow.split(",").map((f) => f.split("=") as [string, string]));
  const vid = kv.get("dl_vlan");
  const vlans: VlanHeader[] =
    vid !== undefined ? [{ tpid: 0x8100, pcp: Number(kv.get("dl_vlan_pcp") ?? 0), vid: Number(vid) }] : [];
  return {
    inPort: Number(kv.get("in_port")),
    vlans,
    src: parseMac(kv.get("dl_src") ?? ""),
    dst: parseMac(kv.get("dl_dst") ?? ""),
  };
}

/** Replays datapath actions: push_vlan/pop_vlan change the current stack; a number outputs. */
function parseDpActions(actions: string, start: readonly VlanHeader[]): string[] {
  if (actions === "drop") return [];
  let cur = [...start];
  const out: string[] = [];
  for (const tok of actions.match(/push_vlan\([^)]*\)|pop_vlan|\d+/g) ?? []) {
    if (tok === "pop_vlan") cur = cur.slice(1);
    else if (tok.startsWith("push_vlan")) {
      const m = /vid=(\d+),pcp=(\d+)/.exec(tok);
      cur = [{ tpid: 0x8100, vid: Number(m?.[1]), pcp: Number(m?.[2]) }, ...cur];
    } else out.push(`${DP_TO_OFPORT(Number(tok))}:${cur.map((v) => `${v.vid}/${v.pcp}`).join(".")}`);
  }
  return out.sort();
}

describe("NORMAL agrees with recorded OVS 3.1 traces", () => {
  const table = new MacTable();
  let learned = false;
  it.each(blocks.map((b, i) => [i, b] as const))("trace %i", (_i, block) => {
    const first = block.split("\n")[0] ?? "";
    const flowArg = first.split(" ").at(-1) ?? "";
    if (!learned && text.indexOf(block) > text.indexOf("netdev-dummy/receive")) {
      // The two frames the script injected with netdev-dummy/receive.
      normalDecide(ports, table, 1, [341], parseMac("00:00:5e:00:53:02"), parseMac("ff:ff:ff:ff:ff:ff"), 0);
      normalDecide(ports, table, 3, [], parseMac("00:00:5e:00:53:03"), parseMac("ff:ff:ff:ff:ff:ff"), 0);
      learned = true;
    }
    const f = parseTraceArg(flowArg);
    const d = normalDecide(ports, table, f.inPort, f.vlans, f.src, f.dst, 1, { learn: false });
    const lines = block.split("\n");
    const at = lines.indexOf("    NORMAL");
    const expectedNotes: string[] = [];
    for (let k = at + 1; k < lines.length && (lines[k] ?? "").startsWith("     "); k++)
      expectedNotes.push(lines[k] ?? "");
    expect(d.notes.map((n) => formatNote(n, "    "))).toEqual(expectedNotes);
    const dp = /^Datapath actions: (.*)$/m.exec(block)?.[1] ?? "";
    const got = d.outputs.map((o) => `${o.port}:${o.vlans.map((v) => `${v.vid}/${v.pcp}`).join(".")}`).sort();
    expect(got).toEqual(parseDpActions(dp, f.vlans));
  });
  it("fdb/show matches after the injected frames", () => {
    const fdb = /\$ ovs-appctl fdb\/show br0\n([\s\S]*?)\n\n/.exec(text)?.[1];
    expect(table.fdbShow(0)).toBe(`${fdb}\n`);
  });
});

describe("MAC aging agrees with OVS 3.1 in warped time", () => {
  const aging = readFileSync(new URL("./golden/normal-aging.txt", import.meta.url), "utf8");
  it("learn at 0 s and 200 s; fdb/show at 299, 300, 400, 500 s", () => {
    const t = new MacTable();
    const ports: L2PortConfig[] = [
      { port: 1, name: "q1" },
      { port: 2, name: "q2" },
    ];
    let out = "";
    for (const block of aging.split(/^(?=t=)/m)) {
      const head = /^t=(\d+) (.*)$/m.exec(block);
      if (!head) continue;
      const now = Number(head[1]);
      const what = head[2] ?? "";
      out += `t=${now} ${what}\n`;
      const learn = /^learn (\S+)$/.exec(what);
      if (learn) normalDecide(ports, t, 1, [], parseMac(learn[1] ?? ""), parseMac("ff:ff:ff:ff:ff:ff"), now);
      else out += t.fdbShow(now);
    }
    expect(out).toBe(aging);
  });
});

// Shared by golden.test.ts (recorded files) and live.test.ts (fresh recordings): replays the
// ofproto/trace NORMAL cases and the aging sequence of scripts/record-normal.sh against @ovnsim/l2.
import { parseMac, type VlanHeader } from "@ovnsim/packet";
import { formatNote, type L2PortConfig, MacTable, normalDecide } from "../src/index.js";

export const PORTS: L2PortConfig[] = [
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

export interface CaseResult {
  readonly command: string;
  readonly expectedNotes: readonly string[];
  readonly gotNotes: readonly string[];
  readonly expectedOutputs: readonly string[];
  readonly gotOutputs: readonly string[];
}

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

/** Every ofproto/trace case of normal-traces.txt, with OVS's and the model's notes and outputs. */
export function replayTraces(text: string): { cases: CaseResult[]; fdbExpected: string; fdbGot: string } {
  const table = new MacTable();
  let learned = false;
  const cases: CaseResult[] = [];
  const blocks = text.split(/^\$ /m);
  for (const block of blocks) {
    const first = block.split("\n")[0] ?? "";
    if (first.startsWith("ovs-appctl netdev-dummy/receive") && !learned) {
      normalDecide(PORTS, table, 1, [341], parseMac("00:00:5e:00:53:02"), parseMac("ff:ff:ff:ff:ff:ff"), 0);
      normalDecide(PORTS, table, 3, [], parseMac("00:00:5e:00:53:03"), parseMac("ff:ff:ff:ff:ff:ff"), 0);
      learned = true;
    }
    if (!first.startsWith("ovs-appctl ofproto/trace")) continue;
    const f = parseTraceArg(first.split(" ").at(-1) ?? "");
    const d = normalDecide(PORTS, table, f.inPort, f.vlans, f.src, f.dst, 1, { learn: false });
    const lines = block.split("\n");
    const at = lines.indexOf("    NORMAL");
    const expectedNotes: string[] = [];
    for (let k = at + 1; k < lines.length && (lines[k] ?? "").startsWith("     "); k++)
      expectedNotes.push(lines[k] ?? "");
    const dp = /^Datapath actions: (.*)$/m.exec(block)?.[1] ?? "";
    cases.push({
      command: first,
      expectedNotes,
      gotNotes: d.notes.map((n) => formatNote(n, "    ")),
      expectedOutputs: parseDpActions(dp, f.vlans),
      gotOutputs: d.outputs
        .map((o) => `${o.port}:${o.vlans.map((v) => `${v.vid}/${v.pcp}`).join(".")}`)
        .sort(),
    });
  }
  const fdbExpected = `${/\$ ovs-appctl fdb\/show br0\n([\s\S]*?)\n\n/.exec(text)?.[1] ?? ""}\n`;
  return { cases, fdbExpected, fdbGot: table.fdbShow(0) };
}

/** The aging sequence of normal-aging.txt, as the model prints it. */
export function replayAging(aging: string): string {
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
  return out;
}

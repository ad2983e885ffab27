// Shared by the golden and live differential tests: parse recorded cases, run ovnsim's trace,
// normalise what legitimately differs between runs (recirc ids), and compare section by section.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSimError, parseFlow, W } from "@ovnsim/packet";
import {
  Bridge,
  loadBundle,
  parseCtState,
  parseFlowLine,
  parseGroupLine,
  renderTrace,
  Switch,
  traceFlow,
  tracePortNumbers,
} from "../src/index.js";
import { generate } from "./gen.js";

export interface GoldenCase {
  readonly scenario: string;
  readonly args: readonly string[];
  readonly expected: string;
}

/** Splits a cases.txt (`### ARGS` + output) into cases. */
export function readCases(dir: string, scenario: string): GoldenCase[] {
  const text = readFileSync(join(dir, scenario, "cases.txt"), "utf8");
  const out: GoldenCase[] = [];
  for (const block of text.split(/^### /m).slice(1)) {
    const nl = block.indexOf("\n");
    const head = block.slice(0, nl);
    out.push({ scenario, args: head.split(" ").filter((s) => s !== ""), expected: block.slice(nl + 1) });
  }
  return out;
}

/** Runs ovnsim for `ofproto/trace` ARGS; errors give OVS's error shape. */
export function runOvnsim(sw: Switch, args: readonly string[]): string {
  // ofproto/trace takes --names before or after the bridge and flow.
  const names = args.includes("--names");
  const rest = args.filter((a) => a !== "--names");
  const bridge = rest[0]!;
  const flowText = rest[1]!;
  const ctNext: number[] = [];
  for (let i = 2; i < rest.length; i++)
    if (rest[i] === "--ct-next") ctNext.push(parseCtState(rest[++i] ?? ""));
  try {
    const b = sw.bridges.get(bridge);
    const flow = parseFlow(flowText, { ports: b ? tracePortNumbers(b) : new Map([["LOCAL", 0xfffe]]) });
    return renderTrace(traceFlow(sw, bridge, flow, { ctNext, ...(names ? { names } : {}) }));
  } catch (e) {
    if (isSimError(e)) return `ERROR: ${e.message}\n`;
    throw e;
  }
}

/** Renumbers recirc ids (0x..) in order of first appearance, as the oracle README advises. */
export function normaliseRecirc(text: string): string {
  const ids = new Map<string, number>();
  const id = (h: string): string => {
    if (!ids.has(h)) ids.set(h, ids.size + 1);
    return `0x${ids.get(h)!.toString(16)}`;
  };
  return text
    .replace(
      /recirc_id=(\d+),rule_cookie/g,
      (_m, d: string) => `recirc_id=0x${Number(d).toString(16)},rule_cookie`,
    )
    .replace(/recirc\((0x[0-9a-f]+)\)/g, (_m, h: string) => `recirc(${id(h)})`)
    .replace(/recirc_id=(0x[0-9a-f]+)/g, (_m, h: string) => `recirc_id=${id(h)}`);
}

/** The sections we score separately. */
export function sections(text: string): { dp: string[]; final: string[]; megaflow: string[] } {
  const grab = (p: string): string[] =>
    text
      .split("\n")
      .filter((l) => l.startsWith(p))
      .map((l) => l.slice(p.length));
  return { dp: grab("Datapath actions: "), final: grab("Final flow: "), megaflow: grab("Megaflow: ") };
}

export const isOvsError = (text: string): boolean =>
  !text.includes("Datapath actions:") && /error|Bad openflow|syntax|unknown|prerequisites/i.test(text);

export function loadScenario(dir: string, scenario: string): Switch {
  return loadBundle(join(dir, scenario, "bundle"));
}

/** Top-level comma split of a datapath action list. */
function odpTokens(acts: string): string[] {
  const toks: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of acts) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      toks.push(cur);
      cur = "";
    } else cur += ch;
  }
  toks.push(cur);
  return toks;
}

/**
 * Datapath actions as the multiset of what leaves: each output (and each ct/recirc/userspace
 * action) paired with the header state the earlier set/push/pop actions gave the packet,
 * sorted. OVS floods (NORMAL, FLOOD, ALL) in the iteration order of hash maps keyed by heap
 * pointers, which no capture reveals; ovnsim floods in ofport order. Two action lists that send
 * the same packets to the same ports compare equal here ("flood order ignored").
 */
export function odpEffects(acts: string, flowLine = ""): string {
  const state = new Map<string, string>();
  const vlans: string[] = [];
  const f = new Map<string, string>();
  for (const kv of flowLine.split(",")) {
    const eq = kv.indexOf("=");
    if (eq > 0) f.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  // The Flow line starts with the protocol name when it has one (icmp, icmp6, tcp, …).
  const proto = flowLine.split(",")[0] ?? "";
  const init: [string, string | undefined][] = [
    ["eth.src", f.get("dl_src")],
    ["eth.dst", f.get("dl_dst")],
    ["ipv4.src", f.get("nw_src")],
    ["ipv4.dst", f.get("nw_dst")],
    ["ipv4.ttl", f.get("nw_ttl")],
    // The whole TOS byte: the flow prints DSCP (nw_tos) and ECN (nw_ecn) apart.
    [
      "ipv4.tos",
      f.has("nw_tos")
        ? `0x${(Number(f.get("nw_tos")) | Number(f.get("nw_ecn") ?? 0)).toString(16)}`
        : undefined,
    ],
    ["tcp.src", f.get("tp_src")],
    ["tcp.dst", f.get("tp_dst")],
    ["udp.src", f.get("tp_src")],
    ["udp.dst", f.get("tp_dst")],
    ["arp.sip", f.get("arp_spa")],
    ["arp.tip", f.get("arp_tpa")],
    ["arp.op", f.get("arp_op")],
    ["arp.sha", f.get("arp_sha")],
    ["arp.tha", f.get("arp_tha")],
    ["ipv6.src", f.get("ipv6_src")],
    ["ipv6.dst", f.get("ipv6_dst")],
    ["ipv6.hlimit", f.has("ipv6_src") ? f.get("nw_ttl") : undefined],
    // set(icmp(type=,code=)): a flood that reaches a port after the restore shows the original
    // values again (seed 880301, program 262: mod_tp_src on ICMP in a bucket, then a flood).
    ["icmp.type", proto === "icmp" ? f.get("icmp_type") : undefined],
    ["icmp.code", proto === "icmp" ? f.get("icmp_code") : undefined],
    ["icmpv6.type", proto === "icmp6" ? f.get("icmp_type") : undefined],
    ["icmpv6.code", proto === "icmp6" ? f.get("icmp_code") : undefined],
    ["skb_mark", f.get("pkt_mark") ?? "0"],
    // set_queue's priority: a flood that reaches a port after the restore shows set(skb_priority(0)).
    ["skb_priority", f.get("skb_priority") ?? "0"],
  ];
  for (const [k, v] of init) if (v !== undefined) state.set(k, v);
  if (f.has("dl_vlan")) vlans.push(`push_vlan(vid=${f.get("dl_vlan")},pcp=${f.get("dl_vlan_pcp") ?? 0})`);
  return effects(acts, state, vlans, []);
}

/**
 * The sorted events of one action list from a header state; check_pkt_len's branches are action
 * lists of their own (a NORMAL flood inside one is in hash order too), compared the same way.
 */
function effects(
  acts: string,
  state0: ReadonlyMap<string, string>,
  vlans0: readonly string[],
  mpls0: readonly string[],
): string {
  const state = new Map(state0);
  const vlans = [...vlans0];
  const mpls = [...mpls0];
  const events: string[] = [];
  for (const t of odpTokens(acts)) {
    const set = /^set\((\w+)\((.*)\)\)$/.exec(t);
    const cpl = /^check_pkt_len\(size=(\d+),gt\((.*)\),le\((.*)\)\)$/.exec(t);
    if (set) {
      for (const kv of set[2]!.split(",")) {
        const [k, v] = kv.split("=");
        // set(skb_mark(0x7)): one value, no key.
        if (v === undefined) state.set(set[1]!, k!);
        else state.set(`${set[1]}.${k}`, maskedSet(state.get(`${set[1]}.${k}`), v));
      }
    } else if (t === "pop_vlan") vlans.shift();
    else if (t.startsWith("push_vlan(")) vlans.unshift(t);
    else if (t.startsWith("push_mpls(")) mpls.unshift(t);
    else if (t.startsWith("pop_mpls(")) mpls.shift();
    else if (t.startsWith("clone(") && t.endsWith(")")) {
      // A datapath clone() runs its actions on a copy: the packets they send are events like
      // the others, and the state after it is the state before. Whether OVS wraps a patch port's
      // peer bridge in clone() depends on whether that port came last, i.e. on the flood order
      // (clone_xlate_actions: no clone for the last action; seed 90125, program 162).
      const inner = effects(t.slice(6, -1), state, vlans, mpls);
      if (inner) events.push(...inner.split(" "));
    } else if (cpl) {
      const branch = (b: string): string => (b === "drop" ? b : effects(b, state, vlans, mpls));
      events.push(`check_pkt_len(size=${cpl[1]},gt(${branch(cpl[2]!)}),le(${branch(cpl[3]!)}))`);
    } else {
      const st = [...state.entries()].sort().map(([k, v]) => `${k}=${v}`);
      events.push(`${t}@${vlans.join("/")}${mpls.length ? `#${mpls.join("/")}` : ""}|${st.join(";")}`);
    }
  }
  return events.sort().join(" ");
}

/**
 * The value a field holds after `set(...(k=v))`: a masked numeric set (`tos=0x20/0xfc`) changes
 * only the masked bits of the value before, so the packet that leaves is compared, not how
 * commit_odp_actions spelled the change (which depends on what the previous output left, hence on
 * the flood order), printed as the value before was (hex or decimal).
 */
function maskedSet(old: string | undefined, v: string): string {
  const slash = v.indexOf("/");
  const num = (x: string | undefined): bigint | undefined =>
    x !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(x) ? BigInt(x) : undefined;
  if (slash < 0) return v;
  const val = num(v.slice(0, slash));
  const mask = num(v.slice(slash + 1));
  const before = num(old);
  if (val === undefined || mask === undefined || before === undefined) return v;
  const after = (before & ~mask) | (val & mask);
  return old!.startsWith("0x") ? `0x${after.toString(16)}` : after.toString();
}

/** The text with each Datapath actions line replaced by its odpEffects form. */
export function normaliseFloodOrder(text: string): string {
  let flow = "";
  return text
    .split("\n")
    .map((l) => {
      if (l.startsWith("Flow: ")) flow = l.slice(6);
      return l.startsWith("Datapath actions: ") ? `Datapath actions: ${odpEffects(l.slice(18), flow)}` : l;
    })
    .join("\n");
}

/**
 * The datapath actions of a whole trace as one tree, flood order aside: each `recirc(N)` a
 * ct(table=…) forked is replaced by the effects (odpEffects) of the pass ofproto/trace resumed
 * for it, recursively, so the tree says which packets leave, in which pass, without the recirc
 * ids. OVS numbers those ids, and queues the resumed passes, in the order the translation met
 * the ct() forks (compose_recirculate_and_fork() → oftrace_add_recirc_node(), a FIFO); when a
 * flood reaches several patch ports whose peers fork, that is the flood order (OVS's hash order,
 * ovnsim's port order), so two traces can agree pass for pass under other ids (live-router seed
 * 1888926483). Pass k of the text resumes the k-th occurrence of its id in the passes before it;
 * a recirc() without a traced pass (dp_hash, MPLS, bond) stays as it is.
 */
export function odpTree(text: string): string {
  const passes: { id?: string; flow: string; dp: string }[] = [{ flow: "", dp: "" }];
  for (const l of text.split("\n")) {
    const head = /^recirc\((0x[0-9a-f]+)\) - resume/.exec(l);
    const cur = passes[passes.length - 1]!;
    if (head) passes.push({ id: head[1]!, flow: "", dp: "" });
    else if (l.startsWith("Flow: ") && cur.flow === "") cur.flow = l.slice(6);
    else if (l.startsWith("Datapath actions: ")) cur.dp = l.slice(18);
  }
  // Which later pass each recirc(N) occurrence resumes: the first not yet taken with that id.
  const taken = new Set<number>();
  const child: Map<number, number>[] = passes.map((p) => {
    const m = new Map<number, number>();
    for (const occ of p.dp.matchAll(/recirc\((0x[0-9a-f]+)\)/g)) {
      const j = passes.findIndex((q, k) => k > 0 && !taken.has(k) && q.id === occ[1]);
      if (j > 0) {
        taken.add(j);
        m.set(occ.index, j);
      }
    }
    return m;
  });
  const canon: string[] = [];
  for (let i = passes.length - 1; i >= 0; i--) {
    const p = passes[i]!;
    const dp = p.dp.replace(/recirc\((0x[0-9a-f]+)\)/g, (whole, _id: string, at: number) => {
      const j = child[i]!.get(at);
      // No spaces inside: a clone()'s effects are split at them (effects()).
      return j === undefined ? whole : `recirc(${canon[j]!.replaceAll(" ", "&")})`;
    });
    canon[i] = odpEffects(dp, p.flow);
  }
  return canon[0] ?? "";
}

/** The two-bridge switch (br0's four ports, a patch to br1) running generated program `seed`, and its packets. */
export function generatedSwitch(seed: number): { sw: Switch; packets: string[] } {
  const prog = generate(seed, 40);
  const sw = new Switch();
  const br0 = new Bridge("br0");
  const br1 = new Bridge("br1");
  for (const [p, n, extra] of [
    [1, "p1", {}],
    [2, "p2", { tag: 10 }],
    [3, "p3", { trunks: [10, 20] }],
    [4, "p4", { tag: 20 }],
  ] as const)
    br0.addPort({ ofport: p, name: n, mac: 0, type: "system", ...extra });
  br0.addPort({ ofport: 9, name: "patch0", mac: 0, type: "patch", peer: "patch1" });
  br0.addPort({ ofport: 0xfffe, name: "br0", mac: 0, type: "internal" });
  br1.addPort({ ofport: 1, name: "patch1", mac: 0, type: "patch", peer: "patch0" });
  br1.addPort({ ofport: 2, name: "q1", mac: 0, type: "system" });
  br1.addPort({ ofport: 3, name: "q2", mac: 0, type: "system" });
  br1.addPort({ ofport: 0xfffe, name: "br1", mac: 0, type: "internal" });
  for (const g of prog.groups) br0.addGroup(parseGroupLine(g));
  for (const l of prog.br0) {
    try {
      br0.addFlow(parseFlowLine(l));
    } catch {
      // a combination OVS would refuse too (prerequisites); skip it
    }
  }
  for (const l of prog.br1) br1.addFlow(parseFlowLine(l));
  sw.addBridge(br0);
  sw.addBridge(br1);
  return { sw, packets: prog.packets.map((p) => p.split(" ")[0]!) };
}

/** A random value for flow-key word `w`, within its field's width (ttl/tos 8 bits, ports 16). */
export function randomFieldWord(r: () => number, w: number): number {
  const rand = Math.floor(r() * 0x100000000) >>> 0;
  const lim =
    w === W.nw_ttl || w === W.nw_tos ? 0xff : w === W.tp_src || w === W.tp_dst ? 0xffff : 0xffffffff;
  return (rand & lim) >>> 0;
}

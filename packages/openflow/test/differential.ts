// The differential runner of issue 11: installs generated programs (gen-differential.ts) in one
// real ovs-vswitchd (many bridges per sandbox), lets the real `ovs-ofctl` judge validity,
// captures each bridge as a user would (ovs-vsctl show, ovs-ofctl show/dump-flows/dump-groups,
// dpif/show), traces every case with the real `ofproto/trace` (pipelined over the unixctl
// socket that ovs-appctl uses, so thousands of traces take seconds) and with ovnsim on the
// captured text, then compares datapath actions (as printed, and flood order aside), final
// flow, megaflow and the full text, case by case, classified by the action families the real
// trace exercised (the cookies it printed). Used by the live test and by
// scripts/differential-openflow.ts (the 5,000-case recorder).
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { Sandbox } from "@ovnsim/oracle";
import { isSimError, parseFlow } from "@ovnsim/packet";
import { buildSwitch, parseCtState, renderTrace, type Switch, traceFlow } from "../src/index.js";
import { type Family, type GenCase, type GenProgram, vsctlArgs } from "./gen-differential.js";
import { normaliseFloodOrder, normaliseRecirc, odpTree, sections } from "./harness.js";
import { STATED_DIFFERENCES } from "./stated.js";

// ---------------------------------------------------------------- unixctl (what ovs-appctl speaks)

/** A JSON-RPC client on ovs-vswitchd's unixctl socket; requests are pipelined. */
export class Unixctl {
  private buf = "";
  private nextId = 0;
  private readonly waiting = new Map<number, (r: { result?: string; error?: string }) => void>();
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding("utf8");
    sock.on("error", () => {});
    sock.on("data", (d: string) => this.onData(d));
  }

  static async connect(sandboxDir: string): Promise<Unixctl> {
    const pid = readFileSync(join(sandboxDir, "ovs-vswitchd.pid"), "utf8").trim();
    const sock = net.connect(join(sandboxDir, `ovs-vswitchd.${pid}.ctl`));
    await new Promise<void>((res, rej) => {
      sock.once("connect", () => res());
      sock.once("error", rej);
    });
    return new Unixctl(sock);
  }

  private onData(d: string): void {
    this.buf += d;
    let depth = 0;
    let inStr = false;
    let esc = false;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (inStr) {
        if (esc) esc = false;
        else if (c === "\\") esc = true;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        const o = JSON.parse(this.buf.slice(start, i + 1)) as { id: number; result?: string; error?: string };
        start = i + 1;
        const w = this.waiting.get(o.id);
        this.waiting.delete(o.id);
        w?.({
          ...(o.result != null ? { result: o.result } : {}),
          ...(o.error != null ? { error: o.error } : {}),
        });
      }
    }
    this.buf = this.buf.slice(start);
  }

  /** One request; answers `{ error: "timeout" }` if none comes within `ms` (a stuck switch). */
  call(method: string, params: readonly string[], ms = 10_000): Promise<{ result?: string; error?: string }> {
    const id = this.nextId++;
    return new Promise((res) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.hung = true;
        res({ error: "timeout" });
      }, ms);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        res(r);
      });
      this.sock.write(JSON.stringify({ id, method, params }));
    });
  }

  /** Set once a request timed out: ovs-vswitchd is stuck (the sandbox must be restarted). */
  hung = false;

  /** `ovs-appctl ofproto/trace BRIDGE FLOW [--ct-next S]...`: the text, or `ERROR: msg`. */
  async trace(c: GenCase): Promise<string> {
    const params = [c.bridge, c.flow, ...c.ctNext.flatMap((s) => ["--ct-next", s])];
    const r = await this.call("ofproto/trace", params);
    return r.error !== undefined ? `ERROR: ${r.error}` : (r.result ?? "");
  }

  close(): void {
    this.sock.end();
  }
}

// ---------------------------------------------------------------- install and capture

export interface Refusal {
  readonly bridge: string;
  readonly line: string;
  readonly reason: string;
}

/** A program as the real switch accepted it. */
export interface Installed {
  readonly prog: GenProgram;
  /** Flow/group lines the real tool refused (removed, then the bridge was retried). */
  refused: Refusal[];
  /** Bridges whose flows only install over OpenFlow 1.0 (+NXM), as plain ovs-ofctl does. */
  of10: Set<string>;
  /** Set when the bridge could not be installed at all: the program is discarded. */
  discarded?: string;
  /** Flows / groups as finally installed, per bridge. */
  readonly flows: Map<string, string[]>;
  readonly groups: Map<string, string[]>;
}

const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** The bash that installs one bridge's TLV map, meters, groups and flows; prints the status. */
function installScript(
  dir: string,
  br: string,
  tlv: string | undefined,
  meters: readonly string[],
  groups: "none" | "add" | "replace",
  of10: boolean,
): string {
  const cmds: string[] = [];
  if (tlv) cmds.push(`ovs-ofctl add-tlv-map ${br} ${q(tlv)}`);
  for (const m of meters) cmds.push(`ovs-ofctl -O OpenFlow15 add-meter ${br} ${q(m)}`);
  if (groups === "replace") cmds.push(`ovs-ofctl -O OpenFlow15 del-groups ${br}`);
  if (groups !== "none") cmds.push(`ovs-ofctl -O OpenFlow15 add-groups ${br} ${dir}/${br}.g`);
  // Flows without an OpenFlow 1.5 encoding (dec_ttl or ct() without an IP match, pop_vlan
  // without a VLAN match…) install as users do it: plain ovs-ofctl, OpenFlow 1.0 + NXM.
  cmds.push(
    of10
      ? `ovs-ofctl del-flows ${br} && ovs-ofctl add-flows ${br} ${dir}/${br}.f`
      : `ovs-ofctl -O OpenFlow15 --bundle replace-flows ${br} ${dir}/${br}.f`,
  );
  return `{ ${cmds.join(" && ")}; } 2>${dir}/${br}.err; echo "@@@ ${br} $?"`;
}

/** Which line of a flows/groups file the real tool's error names (1-based), or -1. */
function refusedLine(err: string, file: string, lines: readonly string[]): { idx: number; reason: string } {
  const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+): (.*)`).exec(err);
  if (m) return { idx: Number(m[1]) - 1, reason: m[2]! };
  // Switch-side errors echo the flow mod: "Error OFPBAC_X for: OFPT_FLOW_MOD ... ADD cookie:0x5 ..."
  const e =
    /Error (\S+) for: .*\n?.*?cookie:(0x[0-9a-f]+)/.exec(err) ??
    /(OFP\w+)[\s\S]*?cookie:(0x[0-9a-f]+)/.exec(err);
  if (e) {
    const idx = lines.findIndex((l) => l.startsWith(`cookie=${e[2]},`));
    return { idx, reason: e[1]! };
  }
  const g = /(OFP\w+)[\s\S]*?group_id=(\d+)/.exec(err);
  if (g) return { idx: lines.findIndex((l) => l.startsWith(`group_id=${g[2]},`)), reason: g[1]! };
  return { idx: -1, reason: err.split("\n")[0] ?? err };
}

/** Index of the first flow `ovs-ofctl -O OpenFlow15 parse-flows` refuses (bisection), or -1. */
function firstWithout15(sb: Sandbox, work: string, br: string, flows: readonly string[]): number {
  const ok = (lo: number, hi: number): boolean => {
    writeFileSync(join(work, `${br}.b`), `${flows.slice(lo, hi).join("\n")}\n`);
    try {
      sb.run("ovs-ofctl", ["-O", "OpenFlow15", "parse-flows", join(work, `${br}.b`)]);
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = flows.length;
  if (ok(lo, hi)) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (!ok(lo, mid)) hi = mid;
    else lo = mid;
  }
  return lo;
}

/** Normalises an error message into a reason class for the report. */
export function reasonClass(r: string): string {
  return r
    .replace(/0x[0-9a-f]+/g, "N")
    .replace(/\d+/g, "N")
    .replace(/\/tmp\/\S+/g, "FILE")
    .slice(0, 120);
}

/**
 * Creates every program's bridges in one ovs-vsctl transaction and installs their flows with
 * the real ovs-ofctl. A refused line is dropped and the bridge retried (up to 8 times); the
 * program is discarded when a bridge still fails.
 */
export function installPrograms(sb: Sandbox, progs: readonly GenProgram[], work: string): Installed[] {
  const args = progs.flatMap((p) => vsctlArgs(p));
  if (args.length) sb.run("ovs-vsctl", args);
  const out: Installed[] = progs.map(
    (prog): Installed => ({
      prog,
      refused: [],
      of10: new Set(prog.bridges.filter((b) => b.openflow10).map((b) => b.name)),
      flows: new Map(prog.bridges.map((b) => [b.name, [...b.flows]])),
      groups: new Map(prog.bridges.map((b) => [b.name, [...b.groups]])),
    }),
  );
  const bridgeOf = new Map<
    string,
    { inst: Installed; tlv?: string; meters: readonly string[]; groupsTried: boolean; of10Wanted: boolean }
  >();
  for (const inst of out)
    for (const b of inst.prog.bridges)
      bridgeOf.set(b.name, {
        inst,
        ...(b.tlvMap ? { tlv: b.tlvMap } : {}),
        meters: b.meters,
        groupsTried: false,
        of10Wanted: b.openflow10 === true,
      });
  let pending = [...bridgeOf.keys()];
  for (let attempt = 0; attempt < 9 && pending.length; attempt++) {
    for (const br of pending) {
      const { inst } = bridgeOf.get(br)!;
      writeFileSync(join(work, `${br}.f`), `${inst.flows.get(br)!.join("\n")}\n`);
      writeFileSync(join(work, `${br}.g`), `${inst.groups.get(br)!.join("\n")}\n`);
    }
    const script = [
      ...pending.map((br) => {
        const x = bridgeOf.get(br)!;
        // TLV maps and meters are set once: a retry only redoes groups and flows.
        const hasGroups = x.inst.groups.get(br)!.length > 0 || x.groupsTried;
        const groupMode = !hasGroups ? "none" : x.groupsTried ? "replace" : "add";
        x.groupsTried = hasGroups;
        return installScript(
          work,
          br,
          attempt === 0 ? x.tlv : undefined,
          attempt === 0 ? x.meters : [],
          groupMode,
          x.inst.of10.has(br),
        );
      }),
    ].join("\n");
    const status = sb.run("bash", ["-s"], script);
    const failed: string[] = [];
    for (const m of status.matchAll(/^@@@ (\S+) (\d+)$/gm)) if (m[2] !== "0") failed.push(m[1]!);
    const next: string[] = [];
    for (const br of failed) {
      const x = bridgeOf.get(br)!;
      const inst = x.inst;
      if (inst.discarded) continue;
      const err = readFileSync(join(work, `${br}.err`), "utf8");
      const flows = inst.flows.get(br)!;
      const groups = inst.groups.get(br)!;
      const rf = refusedLine(err, `${work}/${br}.f`, flows);
      const rg = refusedLine(err, `${work}/${br}.g`, groups);
      if (!inst.of10.has(br) && /usable|MATCH_INCONSISTENT/.test(err) && !err.includes(`${br}.g:`)) {
        inst.of10.add(br);
        next.push(br);
      } else if (inst.of10.has(br) && /usable flow formats/.test(err) && !x.of10Wanted) {
        // Neither OpenFlow 1.5 nor 1.0 holds every flow: drop the first flow without an
        // OpenFlow 1.5 encoding (found by bisection with `ovs-ofctl parse-flows`), back to 1.5.
        const bad = firstWithout15(sb, work, br, flows);
        if (bad < 0) {
          inst.discarded = `${br}: ${err.trim().split("\n")[0]}`;
          continue;
        }
        inst.refused.push({
          bridge: br,
          line: flows[bad]!,
          reason: "no OpenFlow 1.5 encoding (and OpenFlow 1.0 cannot hold the bridge's other flows)",
        });
        flows.splice(bad, 1);
        inst.of10.delete(br);
        next.push(br);
      } else if (err.includes(`${br}.g:`) && rg.idx >= 0) {
        inst.refused.push({ bridge: br, line: groups[rg.idx]!, reason: rg.reason });
        groups.splice(rg.idx, 1);
        next.push(br);
      } else if (rf.idx >= 0 && rf.idx < flows.length) {
        inst.refused.push({ bridge: br, line: flows[rf.idx]!, reason: rf.reason });
        flows.splice(rf.idx, 1);
        next.push(br);
      } else if (rg.idx >= 0 && rg.idx < groups.length && /group/i.test(err)) {
        inst.refused.push({ bridge: br, line: groups[rg.idx]!, reason: rg.reason });
        groups.splice(rg.idx, 1);
        next.push(br);
      } else {
        inst.discarded = `${br}: ${err.trim().split("\n").slice(0, 2).join(" / ")}`;
      }
    }
    pending = next;
  }
  for (const br of pending) {
    const inst = bridgeOf.get(br)!.inst;
    inst.discarded ??= `${br}: still refused after retries`;
  }
  return out;
}

export interface Capture {
  readonly vsctlShow: string;
  readonly dpifShow: string;
  /** `ovs-vsctl list Port` (tag, trunks, vlan_mode: what `ovs-vsctl show` leaves out). */
  readonly portList: string;
  readonly bridges: Map<
    string,
    { ports: string; flows: string; groups: string; meters?: string; tlv?: string }
  >;
}

/** The bridges of some programs that have meters and TLV maps (captured as capture-bundle.sh does). */
export function bridgeExtras(progs: readonly GenProgram[]): { meters: Set<string>; tlv: Set<string> } {
  const bridges = progs.flatMap((p) => p.bridges);
  return {
    meters: new Set(bridges.filter((b) => b.meters.length > 0).map((b) => b.name)),
    tlv: new Set(bridges.filter((b) => b.tlvMap).map((b) => b.name)),
  };
}

/**
 * What scripts/capture-bundle.sh captures, for many bridges in one shell: `ovs-vsctl show`,
 * `dpif/show`, and per bridge `dump-flows` and (when it has groups) `dump-groups`, all with
 * `-O OpenFlow15`. The port list `ovs-ofctl show` would print (` N(name): addr:MAC`) is
 * rebuilt from one `ovs-vsctl list interface` instead of one ovs-ofctl run per bridge (each
 * costs ~50 ms; this keeps 5,000 cases within minutes).
 */
export function capture(
  sb: Sandbox,
  bridges: readonly string[],
  withGroups: ReadonlySet<string>,
  extras: { readonly meters: ReadonlySet<string>; readonly tlv: ReadonlySet<string> } = {
    meters: new Set(),
    tlv: new Set(),
  },
): Capture {
  const script = [
    "echo '@@@ vsctl'; ovs-vsctl show",
    "echo '@@@ portlist'; ovs-vsctl --columns=name,tag,trunks,vlan_mode list Port",
    "echo '@@@ dpif'; ovs-appctl dpif/show",
    "echo '@@@ ifaces'; ovs-vsctl -f csv --no-headings --columns=name,ofport,mac_in_use list interface",
    ...bridges.map(
      (b) =>
        `echo '@@@ flows ${b}'; ovs-ofctl -O OpenFlow15 dump-flows ${b}${withGroups.has(b) ? `; echo '@@@ groups ${b}'; ovs-ofctl -O OpenFlow15 dump-groups ${b}` : ""}${extras.meters.has(b) ? `; echo '@@@ meters ${b}'; ovs-ofctl -O OpenFlow15 dump-meters ${b}` : ""}${extras.tlv.has(b) ? `; echo '@@@ tlv ${b}'; ovs-ofctl dump-tlv-map ${b}` : ""}`,
    ),
  ].join("\n");
  const text = sb.run("bash", ["-s"], script);
  const cap: Capture = { vsctlShow: "", dpifShow: "", portList: "", bridges: new Map() };
  const parts = text.split(/^@@@ /m).slice(1);
  const mut = cap as { vsctlShow: string; dpifShow: string; portList: string };
  const ifaces = new Map<string, { ofport: string; mac: string }>();
  for (const part of parts) {
    const nl = part.indexOf("\n");
    const head = part.slice(0, nl).split(" ");
    const body = part.slice(nl + 1);
    if (head[0] === "vsctl") mut.vsctlShow = body;
    else if (head[0] === "dpif") mut.dpifShow = body;
    else if (head[0] === "portlist") mut.portList = body;
    else if (head[0] === "ifaces") {
      for (const l of body.split("\n")) {
        const [name, ofport, mac] = l.split(",").map((x) => x.replace(/"/g, ""));
        if (name && ofport && mac) ifaces.set(name, { ofport, mac });
      }
    } else {
      const br = head[1]!;
      const e = cap.bridges.get(br) ?? { ports: "", flows: "", groups: "" };
      e[head[0] as "flows" | "groups" | "meters" | "tlv"] = body;
      cap.bridges.set(br, e);
    }
  }
  // Per bridge, the port lines of `ovs-ofctl show` (ports of the bridge in `ovs-vsctl show`).
  let cur = "";
  for (const l of cap.vsctlShow.split("\n")) {
    const b = /^ {4}Bridge\s+"?([^"]+)"?$/.exec(l);
    const p = /^ {8}Port\s+"?([^"]+)"?$/.exec(l);
    if (b) cur = b[1]!;
    else if (p && cap.bridges.has(cur)) {
      const i = ifaces.get(p[1]!);
      const e = cap.bridges.get(cur)!;
      if (i && i.ofport !== "-1")
        e.ports += ` ${p[1] === cur ? "LOCAL" : i.ofport}(${p[1]}): addr:${i.mac}\n`;
    }
  }
  return cap;
}

/** The `ovs-vsctl show` text restricted to some bridges (the header line kept). */
export function sliceVsctlShow(text: string, bridges: ReadonlySet<string>): string {
  const lines = text.split("\n");
  const out: string[] = [];
  let keep = true;
  for (const l of lines) {
    const br = /^ {4}Bridge\s+"?([^"]+)"?$/.exec(l);
    if (br) keep = bridges.has(br[1]!);
    else if (/^ {4}\S/.test(l)) keep = true;
    if (keep) out.push(l);
  }
  return out.join("\n");
}

/** ovnsim's switch for one program, from the captured text only. */
export function ovnsimSwitch(cap: Capture, bridges: readonly string[]): Switch {
  const set = new Set(bridges);
  return buildSwitch({
    vsctlShow: sliceVsctlShow(cap.vsctlShow, set),
    portList: cap.portList,
    dpifShow: cap.dpifShow,
    bridges: new Map(bridges.map((b) => [b, cap.bridges.get(b) ?? {}])),
  });
}

/** ovnsim's `ofproto/trace` text for a case (errors in OVS's shape). */
export function ovnsimTrace(sw: Switch, c: GenCase): string {
  try {
    const flow = parseFlow(c.flow, { ports: new Map([["LOCAL", 0xfffe]]) });
    return renderTrace(traceFlow(sw, c.bridge, flow, { ctNext: c.ctNext.map((s) => parseCtState(s)) }));
  } catch (e) {
    if (isSimError(e)) return `ERROR: ${e.message}`;
    return `CRASH: ${e instanceof Error ? e.message : String(e)}`;
  }
}

// ---------------------------------------------------------------- comparison

export interface CaseResult {
  readonly program: number;
  readonly kind: string;
  readonly case: GenCase;
  readonly families: readonly Family[];
  readonly dp: boolean;
  readonly dpStrict: boolean;
  readonly final: boolean;
  readonly megaflow: boolean;
  readonly full: boolean;
  readonly fullStrict: boolean;
  /** First differing line (expected / actual), when the full text differs (flood order aside). */
  readonly firstDiff?: { readonly line: number; readonly expected: string; readonly actual: string };
  readonly expected: string;
  readonly actual: string;
  /**
   * When the full text differs only in a way test/stated.ts states on purpose: that reason.
   * The scores count such a case as agreeing (and report it apart).
   */
  readonly stated?: string;
}

/** Families a real trace exercised: the generated flows whose cookies it printed, plus topology. */
export function caseFamilies(prog: GenProgram, c: GenCase, real: string): Family[] {
  const fam = new Set<Family>();
  for (const m of real.matchAll(/cookie (0x[0-9a-f]+)/g)) {
    for (const f of prog.cookieFamilies.get(Number(m[1])) ?? []) fam.add(f);
  }
  if ((real.match(/^bridge\("/gm) ?? []).length > 1) fam.add("patch");
  // ct() on a packet that is not IP (ARP, LLDP…): the issue's captures disagreed there.
  if (
    fam.has("ct") &&
    !/^(ip|tcp|udp|icmp|ipv6|tcp6|udp6|icmp6|sctp)\b/.test(/^Flow: (\S+)/m.exec(real)?.[1] ?? "")
  )
    fam.add("ct-non-ip");
  if (/recirc\(/.test(real)) fam.add("recirc");
  const b = prog.bridges.find((x) => x.name === c.bridge);
  const inPort = Number(/in_port=(\d+)/.exec(c.flow)?.[1]);
  const port = b?.ports.find((x) => x.ofport === inPort);
  if (port && (port.type === "geneve" || port.type === "vxlan")) fam.add("tunnel-in");
  if (fam.has("normal") || fam.has("flood")) {
    if (prog.bridges.some((x) => x.ports.some((p) => p.tag !== undefined || p.trunks !== undefined)))
      fam.add("vlan-port");
  }
  if (fam.size === 0) fam.add("drop");
  return [...fam].sort();
}

function firstDiff(e: string, a: string): { line: number; expected: string; actual: string } | undefined {
  const el = e.split("\n");
  const al = a.split("\n");
  for (let i = 0; i < Math.max(el.length, al.length); i++)
    if (el[i] !== al[i]) return { line: i + 1, expected: el[i] ?? "<end>", actual: al[i] ?? "<end>" };
  return undefined;
}

export function compareCase(prog: GenProgram, c: GenCase, realRaw: string, simRaw: string): CaseResult {
  const exp = normaliseRecirc(realRaw);
  const act = normaliseRecirc(simRaw);
  const e = sections(exp);
  const a = sections(act);
  const eq = (x: string[], y: string[]): boolean => x.join("\n") === y.join("\n");
  const ef = normaliseFloodOrder(exp);
  const af = normaliseFloodOrder(act);
  const full = ef === af;
  const fd = full ? undefined : firstDiff(ef, af);
  const r: Omit<CaseResult, "stated"> = {
    program: prog.id,
    kind: prog.kind,
    case: c,
    families: caseFamilies(prog, c, exp),
    // Flood order aside, line by line or, when a flood forked recirculations (their ids and
    // passes then follow the flood order), as one tree of passes (odpTree).
    dp: eq(sections(ef).dp, sections(af).dp) || odpTree(exp) === odpTree(act),
    dpStrict: eq(e.dp, a.dp),
    final: eq(e.final, a.final),
    megaflow: eq(e.megaflow, a.megaflow),
    full,
    fullStrict: exp === act,
    ...(fd ? { firstDiff: fd } : {}),
    expected: exp,
    actual: act,
  };
  const why = full ? undefined : STATED_DIFFERENCES.find((k) => k.test(r))?.why;
  return why === undefined ? r : { ...r, stated: why };
}

export interface BatchOutcome {
  readonly results: CaseResult[];
  readonly installed: Installed[];
  /** Cases the real ofproto/trace refused (bad packet for that bridge): not counted. */
  readonly realErrors: number;
  /** The real ovs-vswitchd stopped answering (a trace ran away): restart the sandbox. */
  readonly hung: boolean;
  /** The flows of the programs whose real trace timed out (for the report). */
  readonly hungCases: readonly string[];
}

/**
 * One batch: install, capture, trace with both, compare. The bridges stay in the switch (the
 * caller may minimise differing cases) until `removePrograms`.
 */
export async function runBatch(
  sb: Sandbox,
  progs: readonly GenProgram[],
  work: string,
): Promise<BatchOutcome> {
  const installed = installPrograms(sb, progs, work);
  const live = installed.filter((i) => !i.discarded);
  const cap = capture(
    sb,
    live.flatMap((i) => i.prog.bridges.map((b) => b.name)),
    new Set(live.flatMap((i) => [...i.groups.entries()].filter(([, g]) => g.length).map(([b]) => b))),
    bridgeExtras(live.map((i) => i.prog)),
  );
  const ctl = await Unixctl.connect(sb.dir);
  const results: CaseResult[] = [];
  let realErrors = 0;
  const hungCases: string[] = [];
  try {
    const reals = await Promise.all(live.map((i) => Promise.all(i.prog.cases.map((c) => ctl.trace(c)))));
    live.forEach((inst, k) => {
      let sw: Switch | undefined;
      let loadErr = "";
      try {
        sw = ovnsimSwitch(
          cap,
          inst.prog.bridges.map((b) => b.name),
        );
      } catch (e) {
        loadErr = `ERROR: bundle load: ${e instanceof Error ? e.message : String(e)}`;
      }
      inst.prog.cases.forEach((c, j) => {
        const real = reals[k]![j]!;
        if (real === "ERROR: timeout") {
          hungCases.push(`program ${inst.prog.id}: ${c.bridge} ${c.flow}`);
          return;
        }
        if (real.startsWith("ERROR: ")) {
          realErrors++;
          return;
        }
        const sim = sw ? ovnsimTrace(sw, c) : loadErr;
        results.push(compareCase(inst.prog, c, real, sim));
      });
    });
  } finally {
    ctl.close();
  }
  return { results, installed, realErrors, hung: ctl.hung, hungCases };
}

export function removePrograms(sb: Sandbox, progs: readonly GenProgram[]): void {
  const args = progs.flatMap((p) => p.bridges.flatMap((b) => ["--", "--if-exists", "del-br", b.name]));
  if (args.length) sb.run("ovs-vsctl", args);
}

// ---------------------------------------------------------------- minimal reproductions

export interface Reproduction {
  readonly program: number;
  readonly kind: string;
  readonly families: readonly Family[];
  /** The shell that rebuilds it in a sandbox (ovs-vsctl, ovs-ofctl) and traces. */
  readonly setup: readonly string[];
  readonly trace: string;
  readonly expectedDatapath: string;
  readonly ovnsimDatapath: string;
  readonly firstDiff?: { readonly line: number; readonly expected: string; readonly actual: string };
  readonly flowsKept: number;
  readonly flowsBefore: number;
}

const differs = (r: CaseResult, dpOnly: boolean): boolean => (dpOnly ? !r.dp : !r.full);

/**
 * Shrinks a differing case's program: removes flows (chunks, then one by one) while the real
 * switch and ovnsim still disagree the same way (datapath actions if they did, else text),
 * reinstalling the bridges in the live switch each time. Bounded by `maxTests` re-traces.
 */
export async function minimise(
  sb: Sandbox,
  inst: Installed,
  r: CaseResult,
  work: string,
  maxTests = 30,
): Promise<Reproduction> {
  const prog = inst.prog;
  const dpOnly = !r.dp;
  const sig = diffSignature(r);
  const names = prog.bridges.map((b) => b.name);
  const all: { br: string; line: string }[] = [];
  for (const br of names) for (const l of inst.flows.get(br) ?? []) all.push({ br, line: l });
  let keep = all;
  let last = r;
  const ctl = await Unixctl.connect(sb.dir);
  let tests = 0;
  const attempt = async (cand: { br: string; line: string }[]): Promise<CaseResult | null> => {
    tests++;
    const script = names
      .map((br) => {
        const lines = cand.filter((x) => x.br === br).map((x) => x.line);
        writeFileSync(join(work, `${br}.m`), `${lines.join("\n")}\n`);
        return inst.of10.has(br)
          ? `ovs-ofctl del-flows ${br} && ovs-ofctl add-flows ${br} ${work}/${br}.m`
          : `ovs-ofctl -O OpenFlow15 --bundle replace-flows ${br} ${work}/${br}.m`;
      })
      .join("\n");
    try {
      sb.run("bash", ["-se"], script);
    } catch {
      return null; // e.g. a conj_id flow left without its conjunction(): refused, so not smaller
    }
    const cap = capture(
      sb,
      names,
      new Set(names.filter((b) => (inst.groups.get(b) ?? []).length)),
      bridgeExtras([inst.prog]),
    );
    const real = await ctl.trace(r.case);
    if (real.startsWith("ERROR: ")) return null;
    let sim: string;
    try {
      sim = ovnsimTrace(ovnsimSwitch(cap, names), r.case);
    } catch (e) {
      sim = `ERROR: bundle load: ${e instanceof Error ? e.message : String(e)}`;
    }
    const res = compareCase(prog, r.case, real, sim);
    return differs(res, dpOnly) && diffSignature(res) === sig ? res : null;
  };
  try {
    // First, only the flows the real trace printed (by cookie) and the conjunction() flows
    // behind a conj_id match: if the difference survives, most of the table goes at once.
    const hit = new Set([...r.expected.matchAll(/cookie (0x[0-9a-f]+)/g)].map((m) => m[1]!));
    const first = keep.filter(
      (x) => hit.has(/^cookie=(0x[0-9a-f]+)/.exec(x.line)?.[1] ?? "") || x.line.includes("conjunction("),
    );
    if (first.length < keep.length && first.length > 0) {
      const res = await attempt(first);
      if (res) {
        keep = first;
        last = res;
      }
    }
    let chunk = Math.max(1, Math.floor(keep.length / 2));
    while (chunk >= 1 && tests < maxTests) {
      let changed = false;
      for (let i = 0; i < keep.length && tests < maxTests; ) {
        const cand = [...keep.slice(0, i), ...keep.slice(i + chunk)];
        const res = cand.length ? await attempt(cand) : null;
        if (res) {
          keep = cand;
          last = res;
          changed = true;
        } else i += chunk;
      }
      if (!changed) chunk = Math.floor(chunk / 2);
    }
    // Leave the bridges as the minimised program (the caller removes them next).
  } finally {
    ctl.close();
  }
  const usedGroups = new Set<string>();
  for (const k of keep) for (const m of k.line.matchAll(/group:(\d+)/g)) usedGroups.add(`${k.br}:${m[1]}`);
  const setup: string[] = [
    `ovs-vsctl ${vsctlArgs({ ...prog, bridges: prog.bridges })
      .map((a) => (a === "--" ? "--" : q(a)))
      .join(" ")}`,
  ];
  for (const b of prog.bridges) {
    if (b.tlvMap) setup.push(`ovs-ofctl add-tlv-map ${b.name} ${q(b.tlvMap)}`);
    for (const m of b.meters) setup.push(`ovs-ofctl -O OpenFlow15 add-meter ${b.name} ${q(m)}`);
    const gs = (inst.groups.get(b.name) ?? []).filter((g) =>
      usedGroups.has(`${b.name}:${/group_id=(\d+)/.exec(g)?.[1]}`),
    );
    for (const g of gs) setup.push(`ovs-ofctl -O OpenFlow15 add-group ${b.name} ${q(g)}`);
    const fl = keep.filter((k) => k.br === b.name).map((k) => k.line);
    // Bridges whose flows need OpenFlow 1.0 were installed with plain ovs-ofctl (see install).
    const of = inst.of10.has(b.name) ? "ovs-ofctl" : "ovs-ofctl -O OpenFlow15";
    setup.push(`${of} del-flows ${b.name}`);
    for (const f of fl) setup.push(`${of} add-flow ${b.name} ${q(f)}`);
  }
  return {
    program: prog.id,
    kind: prog.kind,
    families: last.families,
    setup,
    trace: `ovs-appctl ofproto/trace ${r.case.bridge} ${q(r.case.flow)}${r.case.ctNext.map((s) => ` --ct-next ${s}`).join("")}`,
    expectedDatapath: sections(last.expected).dp.join(" | "),
    ovnsimDatapath: sections(last.actual).dp.join(" | "),
    ...(last.firstDiff ? { firstDiff: last.firstDiff } : {}),
    flowsKept: keep.length,
    flowsBefore: all.length,
  };
}

// ---------------------------------------------------------------- scoring

/**
 * Percentages of cases. `dp` and `full` count a case that differs only in a stated way
 * (test/stated.ts) as agreeing; `dpRaw` and `fullRaw` do not; `stated` is the share of such cases.
 */
export interface Score {
  readonly cases: number;
  readonly dp: number;
  readonly dpRaw: number;
  readonly dpStrict: number;
  readonly final: number;
  readonly megaflow: number;
  readonly full: number;
  readonly fullRaw: number;
  readonly fullStrict: number;
  readonly stated: number;
}

export function score(rs: readonly CaseResult[]): Score {
  const n = rs.length;
  const pct = (k: number): number => (n ? Math.round((10000 * k) / n) / 100 : 0);
  const c = (f: (r: CaseResult) => boolean): number => pct(rs.filter(f).length);
  return {
    cases: n,
    dp: c((r) => r.dp || r.stated !== undefined),
    dpRaw: c((r) => r.dp),
    dpStrict: c((r) => r.dpStrict),
    final: c((r) => r.final),
    megaflow: c((r) => r.megaflow),
    full: c((r) => r.full || r.stated !== undefined),
    fullRaw: c((r) => r.full),
    fullStrict: c((r) => r.fullStrict),
    stated: c((r) => r.stated !== undefined),
  };
}

/** Per family: every case that touched it. */
export function scoreByFamily(rs: readonly CaseResult[]): Record<string, Score> {
  const by = new Map<string, CaseResult[]>();
  for (const r of rs) for (const f of r.families) by.set(f, [...(by.get(f) ?? []), r]);
  const out: Record<string, Score> = {};
  for (const f of [...by.keys()].sort()) out[f] = score(by.get(f)!);
  return out;
}

/** A difference's class: the first differing real line with numbers and addresses folded. */
export function diffSignature(r: CaseResult): string {
  if (!r.firstDiff) return "";
  const load = /^ERROR: bundle load: \S+?:(?:\d+:)? (.*)$/m.exec(r.actual);
  if (load)
    return `ovnsim cannot load the bundle: ${load[1]!
      .replace(/ in ".*$/, "")
      .replace(/\d+/g, "N")
      .slice(0, 100)}`;
  const nm = /^(.*) is not modelled by ovnsim/m.exec(r.actual);
  if (nm) return `not modelled by ovnsim: ${nm[1]!.replace(/^[\s>]+/, "").slice(0, 80)}`;
  const fold = (s: string): string =>
    s
      .replace(/[0-9a-f]{2}(:[0-9a-f]{2}){5}/g, "MAC")
      .replace(/\d+\.\d+\.\d+\.\d+/g, "IP")
      .replace(/0x[0-9a-f]+/g, "N")
      .replace(/\d+/g, "N")
      .trim()
      .slice(0, 100);
  return `${fold(r.firstDiff.expected)}  ≠  ${fold(r.firstDiff.actual)}`;
}

export function formatTable(byFam: Record<string, Score>, overall: Score): string {
  const head =
    "family                    cases   dp(flood aside)  dp strict  final   megaflow  full(flood aside)  full strict  stated";
  const row = (name: string, s: Score): string =>
    `${name.padEnd(24)} ${String(s.cases).padStart(6)}   ${s.dp.toFixed(2).padStart(8)}%       ${s.dpStrict.toFixed(2).padStart(7)}%  ${s.final.toFixed(2).padStart(6)}%  ${s.megaflow.toFixed(2).padStart(6)}%  ${s.full.toFixed(2).padStart(10)}%        ${s.fullStrict.toFixed(2).padStart(7)}%  ${s.stated.toFixed(2).padStart(6)}%`;
  return [head, ...Object.entries(byFam).map(([f, s]) => row(f, s)), row("ALL", overall)].join("\n");
}

// ---------------------------------------------------------------- a whole run

export interface RunOptions {
  readonly seed: number;
  /** Cases wanted (counted after discards; programs are generated until reached). */
  readonly cases: number;
  readonly casesPerProgram?: number;
  readonly programsPerBatch?: number;
  /** How many differing cases to minimise (one per difference signature first). */
  readonly reproductions?: number;
  readonly sandboxName?: string;
  readonly log?: (line: string) => void;
}

export interface RunReport {
  readonly seed: number;
  readonly programs: number;
  readonly programsDiscarded: number;
  readonly casesGenerated: number;
  readonly casesCompared: number;
  readonly realTraceErrors: number;
  /** Cases dropped because the real ovs-vswitchd stopped answering (first few listed). */
  readonly realHung: readonly string[];
  readonly refusedLines: number;
  readonly refusalReasons: Record<string, number>;
  readonly discardReasons: Record<string, number>;
  readonly overall: Score;
  readonly byFamily: Record<string, Score>;
  readonly byKind: Record<string, Score>;
  /** Cases that differ only in a stated way (test/stated.ts), by reason. */
  readonly statedDifferences: Record<string, number>;
  readonly differenceSignatures: readonly {
    readonly signature: string;
    readonly count: number;
    readonly families: readonly string[];
  }[];
  readonly reproductions: readonly Reproduction[];
  readonly results: readonly CaseResult[];
  readonly seconds: { readonly total: number; readonly minimise: number };
}

const bump = (o: Record<string, number>, k: string): void => {
  o[k] = (o[k] ?? 0) + 1;
};

/** Generates, runs and scores `cases` cases in one sandbox (batches of bridges, then deleted). */
export async function runDifferential(
  opts: RunOptions,
  start: (name: string) => Sandbox,
  generate: (seed: number, id: number, n: number) => GenProgram,
  now: () => number,
): Promise<RunReport> {
  const t0 = now();
  const log = opts.log ?? (() => {});
  const perProg = opts.casesPerProgram ?? 12;
  const perBatch = opts.programsPerBatch ?? 40;
  let sb = start(opts.sandboxName ?? "ofdiff");
  const work = (): string => join(sb.dir, "gen");
  sb.sh(`mkdir -p ${work()}`);
  const hung: string[] = [];
  const results: CaseResult[] = [];
  const refusalReasons: Record<string, number> = {};
  const discardReasons: Record<string, number> = {};
  let programs = 0;
  let discarded = 0;
  let generated = 0;
  let realErrors = 0;
  let refused = 0;
  const reproductions: Reproduction[] = [];
  const seenSig = new Set<string>();
  let tMin = 0;
  try {
    while (results.length < opts.cases) {
      const need = opts.cases - results.length;
      const nProg = Math.min(perBatch, Math.max(1, Math.ceil(need / perProg)));
      let progs: GenProgram[] = [];
      for (let i = 0; i < nProg; i++) progs.push(generate(opts.seed, programs++, perProg));
      let out = await runBatch(sb, progs, work());
      // A runaway real trace blocks ovs-vswitchd: note the first case that never answered
      // (traces are answered in order), restart, and run the batch again without its program.
      for (let retry = 0; out.hung && retry < 3; retry++) {
        const first = out.hungCases[0] ?? "";
        hung.push(first);
        const culprit = Number(/^program (\d+):/.exec(first)?.[1] ?? -1);
        discarded++;
        bump(discardReasons, "the real ofproto/trace never returned (ovs-vswitchd stuck)");
        sb.stop();
        sb = start(opts.sandboxName ?? "ofdiff");
        sb.sh(`mkdir -p ${work()}`);
        progs = progs.filter((p) => p.id !== culprit);
        out = await runBatch(sb, progs, work());
      }
      realErrors += out.realErrors;
      for (const inst of out.installed) {
        generated += inst.prog.cases.length;
        refused += inst.refused.length;
        for (const r of inst.refused) bump(refusalReasons, reasonClass(r.reason));
        if (inst.discarded) {
          discarded++;
          bump(discardReasons, reasonClass(inst.discarded.replace(/^\S+: /, "")));
        }
      }
      const fresh = out.results.slice(0, need);
      results.push(...fresh);
      // Minimise a few differing cases of new signatures while their bridges still exist.
      const want = opts.reproductions ?? 0;
      for (const r of fresh) {
        if (reproductions.length >= want) break;
        // A bundle ovnsim cannot load is reproduced by the flow line it names (see signatures).
        if (r.full || r.stated !== undefined || r.actual.startsWith("ERROR: bundle load:")) continue;
        const sig = diffSignature(r);
        if (seenSig.has(sig)) continue;
        seenSig.add(sig);
        const inst = out.installed.find((i) => i.prog.id === r.program)!;
        const tm = now();
        if (out.hung) break;
        reproductions.push(await minimise(sb, inst, r, work()));
        tMin += now() - tm;
      }
      if (!out.hung) removePrograms(sb, progs);
      log(
        `batch: ${progs.length} programs, ${results.length}/${opts.cases} cases compared, ${((now() - t0) / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    sb.stop();
  }
  const sigs = new Map<string, { count: number; families: Set<string> }>();
  const stated: Record<string, number> = {};
  for (const r of results) if (r.stated !== undefined) bump(stated, r.stated);
  for (const r of results) {
    if (r.full || r.stated !== undefined) continue;
    const s = diffSignature(r);
    const e = sigs.get(s) ?? { count: 0, families: new Set<string>() };
    e.count++;
    for (const f of r.families) e.families.add(f);
    sigs.set(s, e);
  }
  const byKindMap = new Map<string, CaseResult[]>();
  for (const r of results) byKindMap.set(r.kind, [...(byKindMap.get(r.kind) ?? []), r]);
  return {
    seed: opts.seed,
    programs,
    programsDiscarded: discarded,
    casesGenerated: generated,
    casesCompared: results.length,
    realTraceErrors: realErrors,
    realHung: hung.slice(0, 20),
    refusedLines: refused,
    refusalReasons,
    discardReasons,
    overall: score(results),
    byFamily: scoreByFamily(results),
    byKind: Object.fromEntries([...byKindMap.entries()].sort().map(([k, v]) => [k, score(v)])),
    statedDifferences: stated,
    differenceSignatures: [...sigs.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .map(([signature, e]) => ({ signature, count: e.count, families: [...e.families].sort() })),
    reproductions,
    results,
    seconds: { total: Math.round(now() - t0) / 1000, minimise: Math.round(tMin) / 1000 },
  };
}

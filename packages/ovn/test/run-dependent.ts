// What real ovn-northd leaves to the random uuids of NB rows, for the --nbctl ovn-trace
// differential (issue 12): ovnsim's flows are aligned to the real southbound's only where they
// are equal up to that, and nothing else is ever rewritten.
//
// 1. ECMP numbering. Real ovn-northd numbers a router's
// ECMP groups (`reg8[0..15]`) and each group's members (`reg8[16..31]`) in the order its IDL
// hands it the static routes / policies, i.e. by their random row uuids: the same NB gives
// other numbers on another run (checked live: four `--ecmp` routes added in order came out as
// members 2, 3, 1, 4). ovnsim numbers them in configuration order. So that the trace texts can
// be compared (`--select-id` names a member number; the texts print both numbers), the harness
// renames ovnsim's numbers to the real southbound's — when, and only when, ONE consistent
// renaming (per router and stage pair: a bijection of group ids, per group a bijection of
// member ids) makes ovnsim's ECMP flows identical to the real ones. Otherwise nothing of that
// router is renamed and every difference stays visible. Nothing else is ever rewritten.
import type { LogicalFlow } from "../src/types.js";

/** The two stage pairs that carry an ECMP group: the head flow selects, the member flow acts. */
const PAIRS = [
  { head: "lr_in_ip_routing", member: "lr_in_ip_routing_ecmp" },
  { head: "lr_in_policy", member: "lr_in_policy_ecmp" },
] as const;

const HEAD = /reg8\[0\.\.15\] = ([1-9]\d*); reg8\[16\.\.31\] = select\(([^)]*)\)/;
const MEMBER = /reg8\[0\.\.15\] == ([1-9]\d*) && reg8\[16\.\.31\] == (\d+)/;

export interface EcmpRenumbering {
  /** ovnsim's flows, ECMP ids renamed where a consistent renaming exists. */
  readonly flows: LogicalFlow[];
  /** Routers (and stage pair) renamed, e.g. "lr0 lr_in_ip_routing". */
  readonly renamed: readonly string[];
  /** Routers (and stage pair) where no consistent renaming exists: left as they were. */
  readonly refused: readonly string[];
}

interface Group {
  heads: LogicalFlow[];
  members: Map<number, LogicalFlow[]>;
}

const flowKey = (f: LogicalFlow) => `${f.priority}|${f.match}|${f.actions}`;
const maskHead = (f: LogicalFlow) =>
  flowKey({ ...f, actions: f.actions.replace(HEAD, "reg8[0..15] = G; reg8[16..31] = select(M)") });
const maskMember = (f: LogicalFlow) =>
  flowKey({ ...f, match: f.match.replace(MEMBER, "reg8[0..15] == G && reg8[16..31] == M") });
const selectIds = (f: LogicalFlow) => (HEAD.exec(f.actions)?.[2] ?? "").split(/,\s*/).map(Number);

function groups(flows: readonly LogicalFlow[], head: string, member: string): Map<number, Group> {
  const out = new Map<number, Group>();
  const get = (g: number) => {
    let x = out.get(g);
    if (!x) {
      x = { heads: [], members: new Map() };
      out.set(g, x);
    }
    return x;
  };
  for (const f of flows) {
    if (f.stage === head) {
      const m = HEAD.exec(f.actions);
      if (m) get(Number(m[1])).heads.push(f);
    } else if (f.stage === member) {
      const m = MEMBER.exec(f.match);
      if (m) {
        const g = get(Number(m[1]));
        const id = Number(m[2]);
        g.members.set(id, [...(g.members.get(id) ?? []), f]);
      }
    }
  }
  return out;
}

/** A group with its numbers masked: what must be equal for two groups to be the same one. */
function describe(g: Group): string {
  const heads = g.heads.map(maskHead).sort();
  const members = [...g.members.values()].map((fs) => fs.map(maskMember).sort().join("&")).sort();
  return `${heads.join("\n")}\n#\n${members.join("\n")}`;
}

const memberKey = (fs: readonly LogicalFlow[]) => fs.map(maskMember).sort().join("&");

/**
 * A renaming of one router's stage pair (ovnsim group → real group, and per ovnsim group its
 * members), or the reason none is consistent.
 */
function matchGroups(
  ours: Map<number, Group>,
  real: Map<number, Group>,
): { groups: Map<number, number>; members: Map<number, Map<number, number>> } | string {
  if (ours.size !== real.size) return `${ours.size} groups ≠ ${real.size} real`;
  const byDesc = new Map<string, number[]>();
  for (const [id, g] of real) byDesc.set(describe(g), [...(byDesc.get(describe(g)) ?? []), id]);
  const groupMap = new Map<number, number>();
  const memberMaps = new Map<number, Map<number, number>>();
  for (const [id, g] of [...ours].sort((a, b) => a[0] - b[0])) {
    // Identical descriptions are interchangeable: any pairing gives identical flows.
    const realId = byDesc.get(describe(g))?.shift();
    if (realId === undefined) return `group ${id} has no real counterpart`;
    groupMap.set(id, realId);
    const rg = real.get(realId) as Group;
    const byKey = new Map<string, number[]>();
    for (const [m, fs] of rg.members) byKey.set(memberKey(fs), [...(byKey.get(memberKey(fs)) ?? []), m]);
    const mm = new Map<number, number>();
    for (const [m, fs] of [...g.members].sort((a, b) => a[0] - b[0])) {
      const rm = byKey.get(memberKey(fs))?.shift();
      if (rm === undefined) return `group ${id} member ${m} has no real counterpart`;
      mm.set(m, rm);
    }
    memberMaps.set(id, mm);
  }
  return { groups: groupMap, members: memberMaps };
}

function rename(
  f: LogicalFlow,
  pair: (typeof PAIRS)[number],
  groupMap: Map<number, number>,
  memberMaps: Map<number, Map<number, number>>,
): LogicalFlow {
  if (f.stage === pair.head) {
    const m = HEAD.exec(f.actions);
    if (!m) return f;
    const g = Number(m[1]);
    const mm = memberMaps.get(g) as Map<number, number>;
    // Real northd lists a group's members in ascending id order.
    const ids = selectIds(f)
      .map((x) => mm.get(x) ?? x)
      .sort((a, b) => a - b);
    return {
      ...f,
      actions: f.actions.replace(
        HEAD,
        `reg8[0..15] = ${groupMap.get(g) ?? g}; reg8[16..31] = select(${ids.join(", ")})`,
      ),
    };
  }
  if (f.stage === pair.member) {
    const m = MEMBER.exec(f.match);
    if (!m) return f;
    const g = Number(m[1]);
    const id = Number(m[2]);
    return {
      ...f,
      match: f.match.replace(
        MEMBER,
        `reg8[0..15] == ${groupMap.get(g) ?? g} && reg8[16..31] == ${memberMaps.get(g)?.get(id) ?? id}`,
      ),
    };
  }
  return f;
}

const ecmpFlowKeys = (flows: readonly LogicalFlow[], pair: (typeof PAIRS)[number]) =>
  flows
    .filter(
      (f) =>
        (f.stage === pair.head && HEAD.test(f.actions)) || (f.stage === pair.member && MEMBER.test(f.match)),
    )
    .map((f) => `${f.stage}|${flowKey(f)}`)
    .sort();

/**
 * ovnsim's flows with their ECMP group and member ids renamed to the real southbound's, per
 * router, where one consistent renaming makes every ECMP flow of that router identical to the
 * real one (checked after renaming: the multisets of ECMP flows must then be equal).
 */
export function renumberEcmp(ours: readonly LogicalFlow[], real: readonly LogicalFlow[]): EcmpRenumbering {
  const renamed: string[] = [];
  const refused: string[] = [];
  const byDp = (fs: readonly LogicalFlow[]) => {
    const m = new Map<string, LogicalFlow[]>();
    for (const f of fs) m.set(f.datapath, [...(m.get(f.datapath) ?? []), f]);
    return m;
  };
  const realByDp = byDp(real);
  const plans = new Map<
    string,
    { pair: (typeof PAIRS)[number]; g: Map<number, number>; m: Map<number, Map<number, number>> }[]
  >();
  for (const [dp, fs] of byDp(ours)) {
    const rfs = realByDp.get(dp) ?? [];
    for (const pair of PAIRS) {
      const og = groups(fs, pair.head, pair.member);
      const rg = groups(rfs, pair.head, pair.member);
      if (og.size === 0 && rg.size === 0) continue;
      const name = `${dp} ${pair.head}`;
      const plan = matchGroups(og, rg);
      if (typeof plan === "string") {
        refused.push(`${name}: ${plan}`);
        continue;
      }
      const after = fs.map((f) => rename(f, pair, plan.groups, plan.members));
      const a = ecmpFlowKeys(after, pair);
      const b = ecmpFlowKeys(rfs, pair);
      if (a.length !== b.length || a.some((k, i) => k !== b[i])) {
        refused.push(`${name}: renamed flows still differ`);
        continue;
      }
      const identity =
        [...plan.groups].every(([x, y]) => x === y) &&
        [...plan.members.values()].every((mm) => [...mm].every(([x, y]) => x === y));
      if (!identity) renamed.push(name);
      plans.set(dp, [...(plans.get(dp) ?? []), { pair, g: plan.groups, m: plan.members }]);
    }
  }
  const flows = ours.map((f) => {
    let x = f;
    for (const p of plans.get(f.datapath) ?? []) x = rename(x, p.pair, p.g, p.m);
    return x;
  });
  return { flows, renamed, refused };
}

/**
 * 2. The order of a router port's source MACs in its switch's self-originated ARP flow
 * (ls_in_l2_lkup, priority 75: `eth.src == {port MAC, NAT external MACs}`). northd fills an sset
 * in the order of the router's NAT rows (random uuid order) and prints it in hmap bucket order:
 * MACs that share a bucket come out in reverse insertion order, so their order is decided by
 * the uuids (ovnsim reproduces the hashing, northd/ovs-hmap.ts, with NAT rows in configuration
 * order). ovnsim's match takes the real order when the two sets hold the same MACs and the
 * flows are otherwise identical.
 */
const SSET_STAGE = "ls_in_l2_lkup";
const SSET_PRIORITY = 75;
const SET = /\{([^}]*)\}/;

export function alignSsetOrder(
  ours: readonly LogicalFlow[],
  real: readonly LogicalFlow[],
): { readonly flows: LogicalFlow[]; readonly aligned: number } {
  const key = (f: LogicalFlow): string | undefined => {
    if (f.stage !== SSET_STAGE || f.priority !== SSET_PRIORITY) return undefined;
    const m = SET.exec(f.match);
    if (!m) return undefined;
    const members = (m[1] as string).split(", ").sort().join(", ");
    return `${f.datapath}|${f.pipeline}|${f.match.replace(SET, `{${members}}`)}|${f.actions}`;
  };
  const realMatch = new Map<string, string>();
  for (const f of real) {
    const k = key(f);
    if (k !== undefined) realMatch.set(k, f.match);
  }
  let aligned = 0;
  const flows = ours.map((f) => {
    const k = key(f);
    const m = k === undefined ? undefined : realMatch.get(k);
    if (m === undefined || m === f.match) return f;
    aligned++;
    return { ...f, match: m };
  });
  return { flows, aligned };
}

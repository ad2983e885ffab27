/**
 * Every branch of one request through an ovn-nbctl configuration (routers with `--ecmp` routes,
 * load balancers, ACLs), where there is no scenario to trace end to end: the request is one
 * host's packet (the source port's MAC and IPv4, its gateway's or peer's MAC, TTL 64, any source
 * port), and the branches are the header-space classes `reach` finds for it through northd's
 * logical flows — each ECMP next hop a `select(…)` can take (ovn-controller's select group, one
 * bucket per route), each `ct_lb_mark` backend, each conntrack state — each class with a
 * witness the concrete ovn-trace executor confirms (with `--select-id` / `--lb-dst` set to the
 * branch), and the member the datapath's hash picks for that witness.
 */
import { type NbDatabase, getProfile, northd, parseNbctl, sbModelFromNb, selectMembers } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import type { Branch, BranchesDocument, Coverage } from "./branches.js";
import { BRANCHES_SCHEMA } from "./branches.js";
import { CT_CHOICES, type ReachClass, reachLogical } from "./reach.js";

export interface NbctlBranchesInput {
  /** The logical switch port the request enters. */
  readonly from: string;
  /** Destination IPv4 address. */
  readonly to: string;
  readonly port?: number;
  readonly proto?: "tcp" | "udp";
  /** Chassis the pipelines run on (`is_chassis_resident`); default: every port resident. */
  readonly chassis?: string;
}

const IP4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** A port's first "MAC IPv4" address entry. */
function macIp(addresses: readonly string[]): { mac: string; ip: string } | null {
  for (const a of addresses) {
    const [mac, ...ips] = a.split(/\s+/);
    const ip = ips.find((x) => IP4.test(x));
    if (mac && /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i.test(mac) && ip) return { mac, ip };
  }
  return null;
}

/** The request a host behind `from` sends to `to`: its addresses and the next hop's MAC. */
function requestMatch(db: NbDatabase, input: NbctlBranchesInput, proto: string, port: number): string {
  const sw = db.switches.find((s) => s.ports.some((p) => p.name === input.from));
  const lsp = sw?.ports.find((p) => p.name === input.from);
  if (!sw || !lsp)
    throw new SimError("UNKNOWN_PORT", `branches --from: no logical switch port "${input.from}"`);
  const src = macIp(lsp.addresses);
  if (!src)
    throw new SimError(
      "BAD_VALUE",
      `branches --from: port ${input.from} has no "MAC IPv4" address to send from`,
    );
  // On the same switch: the peer's MAC; otherwise the router port the switch's router LSP names.
  const peer = sw.ports.find((p) => p.name !== lsp.name && macIp(p.addresses)?.ip === input.to);
  let dmac = peer ? macIp(peer.addresses)!.mac : undefined;
  if (dmac === undefined) {
    const rp = sw.ports.find((p) => p.type === "router")?.options["router-port"];
    dmac = db.routers.flatMap((r) => r.ports).find((p) => p.name === rp)?.mac;
  }
  if (dmac === undefined)
    throw new SimError(
      "UNKNOWN_OBJECT",
      `branches --to ${input.to}: not a port of switch ${sw.name}, and the switch has no router port`,
    );
  return [
    `eth.src == ${src.mac}`,
    `eth.dst == ${dmac}`,
    "!vlan.present",
    "ip4",
    `ip4.src == ${src.ip}`,
    `ip4.dst == ${input.to}`,
    "ip.ttl == 64",
    proto,
    `${proto}.dst == ${port}`,
  ].join(" && ");
}

function verdictText(c: ReachClass): string {
  if (c.verdict.delivered) return `delivered to ${c.verdict.ports.join(", ")}`;
  return `dropped at ${c.verdict.droppedAt ?? "?"}: ${c.verdict.reason ?? "?"}`;
}

/** The branches of a request through an ovn-nbctl file compiled by northd under `profile`. */
export function exploreNbctlBranches(
  text: string,
  file: string,
  profile: string,
  input: NbctlBranchesInput,
): BranchesDocument {
  const p = getProfile(profile);
  if (!p) throw new SimError("BAD_VALUE", `--profile: "${profile}" is not a northd profile`);
  if (!IP4.test(input.to)) throw new SimError("BAD_VALUE", `--to: "${input.to}" is not an IPv4 address`);
  const proto = input.proto ?? "tcp";
  const port = input.port ?? 80;
  const db = parseNbctl(text, { file });
  const match = requestMatch(db, input, proto, port);
  const sb = sbModelFromNb(db, northd(db, p));
  const run = reachLogical(sb, {
    ovn: p.ovn,
    from: input.from,
    match,
    ...(input.chassis !== undefined ? { chassis: input.chassis } : {}),
  });
  const classes = run.doc.classes;
  // The logical flows behind the classes' paths ("stage priority"), for the alternatives offered.
  const onPath = new Set(classes.flatMap((c) => c.path));
  const flows = sb.flows.filter((f) => onPath.has(`${f.stage} ${f.priority}`));
  const selectTotal = new Set<number>();
  const backendTotal = new Set<string>();
  for (const f of flows) {
    for (const m of f.actions.matchAll(/select\(([^)]*)\)/g))
      for (const x of selectMembers(m[1]!)) selectTotal.add(x.id);
    for (const m of f.actions.matchAll(/ct_lb(?:_mark)?\(backends=([^);]*)/g))
      for (const b of m[1]!.split(",")) if (b.trim()) backendTotal.add(b.trim());
  }
  const branches: Branch[] = [];
  const coverage: Coverage[] = [];
  // One branch per alternative: the first class that takes it, preferring a new connection.
  const byChoice = (
    key: (c: ReachClass) => string | null,
    rank: (k: string) => number = () => 0,
  ): Map<string, ReachClass> => {
    const m = new Map<string, ReachClass>();
    const order = [...classes].sort(
      (a, b) => Number(a.ct !== null && a.ct !== "new") - Number(b.ct !== null && b.ct !== "new"),
    );
    for (const c of order) {
      const k = key(c);
      if (k !== null && !m.has(k)) m.set(k, c);
    }
    return new Map(
      [...m].sort(
        (a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0], undefined, { numeric: true }),
      ),
    );
  };
  const witness = (c: ReachClass, extra: string): string =>
    `${c.witness}${extra}${c.confirmed === true ? " (confirmed)" : c.confirmed === false ? " (NOT confirmed)" : ""}`;
  const hops = byChoice((c) => (c.select === null ? null : String(c.select)));
  for (const [id, c] of hops)
    branches.push({
      kind: "ecmp",
      choice: `select member ${id}${c.verdict.delivered ? ` (next hop via ${c.verdict.ports.join(", ")})` : ""}`,
      witness: witness(
        c,
        c.selectHashPicks !== null ? `; the datapath's hash picks member ${c.selectHashPicks}` : "",
      ),
      delivered: c.verdict.delivered,
      verdict: verdictText(c),
    });
  if (selectTotal.size > 0 || hops.size > 0)
    coverage.push({
      kind: "ecmp",
      reached: hops.size,
      total: Math.max(selectTotal.size, hops.size),
      missed: [...selectTotal].filter((x) => !hops.has(String(x))).map(String),
    });
  const backends = byChoice((c) => c.backend);
  for (const [b, c] of backends)
    branches.push({
      kind: "backend",
      choice: b,
      witness: witness(c, c.hashPicks !== null ? `; the datapath's hash picks ${c.hashPicks}` : ""),
      delivered: c.verdict.delivered,
      verdict: verdictText(c),
    });
  if (backendTotal.size > 0 || backends.size > 0)
    coverage.push({
      kind: "backend",
      reached: backends.size,
      total: Math.max(backendTotal.size, backends.size),
      missed: [...backendTotal].filter((x) => !backends.has(x)).sort(),
    });
  const ctRank = (k: string): number => {
    const i = (CT_CHOICES as readonly string[]).indexOf(k);
    return i < 0 ? CT_CHOICES.length : i;
  };
  const states = byChoice((c) => c.ct, ctRank);
  for (const [st, c] of states)
    branches.push({
      kind: "conntrack",
      choice: st,
      witness: witness(c, ""),
      delivered: c.verdict.delivered,
      verdict: verdictText(c),
    });
  if (states.size > 0)
    coverage.push({
      kind: "conntrack",
      reached: states.size,
      total: CT_CHOICES.length,
      missed: CT_CHOICES.filter((x) => !states.has(x)),
    });
  // No branch point on the path: the request's one outcome.
  if (branches.length === 0 && classes.length > 0) {
    const c = classes[0]!;
    branches.push({
      kind: "path",
      choice: "(no branch point)",
      witness: witness(c, ""),
      delivered: c.verdict.delivered,
      verdict: verdictText(c),
    });
  }
  const delivered = branches.filter((b) => b.delivered).length;
  return {
    schema: BRANCHES_SCHEMA,
    scenario: file,
    request: { from: input.from, to: input.to, port, proto },
    branches,
    coverage,
    delivered,
    dropped: branches.length - delivered,
  };
}

// `ovnsim reach [FILES|DIR] --from PORT`: symbolic (header-space) reachability from one logical
// port through OVN's logical pipelines — the classes of entering headers, each delivered to some
// ports or dropped somewhere, with conntrack states and LB backends as explicit branches and a
// witness packet per class that the concrete ovn-trace model confirms.
import { loadScenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import {
  type ScenarioReachOptions,
  type VariantDraft,
  applyVariant,
  parseCtList,
  reach,
  reachNbctl,
  reachOpenflow,
  renderOfReachJson,
  renderOfReachText,
  renderReachJson,
  renderReachText,
  variantOption,
} from "@ovnsim/whatif";
import { oneOf, walkArgs } from "../args.js";
import { registerSubcommand } from "../cli.js";
import { checkInputPaths, isManifestName, readTextFile } from "../files.js";

const USAGE = `usage: ovnsim reach [FILES|DIR]... --from POD|PORT [--to POD|PORT]... [--match EXPR]
                    [--ct STATES] [--chassis NODE] [--max N] [--no-confirm]
                    [--release V] [--metallb V] [--flag NAME=VALUE] [--etp Local|Cluster]
                    [--format text|json] [--datapath logical|openflow]
       ovnsim reach --nbctl FILE [--profile P] --from PORT [same options]
  Follows every header that can enter the logical port (a pod NS/NAME or a logical switch port
  name) through northd's logical flows at once: each table splits the set by the flows matching
  it, highest priority first, shadowed parts subtracted, and each resulting class is delivered
  to logical ports or dropped at a flow. Each ct action branches on the connection's state and
  each ct_lb_mark(backends=…) on its backend. Every class has a witness packet, run through the
  concrete ovn-trace model with that state (--ct) and backend (--lb-dst) to confirm its verdict.
  A select() (ECMP next hops of a router) branches once per member (--select-id), with the
  member the datapath's hash takes for the witness.
  --datapath openflow  follow the pod's chassis's OpenFlow bridges instead (br-int as
                ovn-controller programs it, the provider bridge behind its localnet patch): each
                table splits the set by its rules, each ct(table=…) branches on the state the
                recirculation resumes with and each select group on its bucket; the classes are
                the bridge ports left by (or the rule dropped at) and each witness is confirmed by
                the concrete ofproto/trace model (stateful, as --datapath openflow traces); --match
                is then an ovs-ofctl match ("tcp,nw_dst=10.180.204.252,tp_dst=80") and --to a
                pod or a port name (schema ovnsim.ofreach/v1)
  --nbctl FILE  an ovn-nbctl command file instead of manifests (routers, ECMP routes…)
  --profile P   northd profile for --nbctl (default ovn-23.03)
  --from P      pod NS/NAME or logical port (required); runs on the pod's node unless --chassis
  --to P        only classes delivered to this pod / logical port; repeatable
  --match EXPR  only headers matching this OVN expression ("ip4 && tcp.dst == 80")
  --ct STATES   conntrack states to branch on, comma-separated (default new,est,est|rpl,rel,inv)
  --max N       stop after N classes (default 50000)
  --no-confirm  skip the concrete confirmation of the witnesses
  --format F    text (default) or json (schema ovnsim.reach/v1)
  exit status: 0 every witness confirmed, 1 some witness not confirmed or the search truncated,
  2 bad input`;

export interface ReachArgs {
  format: "text" | "json";
  files: string[];
  variant: VariantDraft;
  opts: ScenarioReachOptions;
  nbctl?: string;
  profile: string;
  datapath: "logical" | "openflow";
}

/** The command line of `ovnsim reach` (SimError on a bad option or value). */
export function parseReachArgs(args: readonly string[]): ReachArgs {
  let format: ReachArgs["format"] = "text";
  const files: string[] = [];
  const sides: [VariantDraft, VariantDraft] = [{}, {}];
  let from: string | undefined;
  const to: string[] = [];
  let match: string | undefined;
  let ct: string[] | undefined;
  let chassis: string | undefined;
  let max: number | undefined;
  let confirm = true;
  let nbctl: string | undefined;
  let profile = "ovn-23.03";
  let datapath = "logical" as ReachArgs["datapath"];
  walkArgs(args, (name, value, a) => {
    if (name === "--format") format = oneOf(name, value(), ["text", "json"] as const);
    else if (name === "--from") from = value();
    else if (name === "--to") to.push(value());
    else if (name === "--match") match = value();
    else if (name === "--ct") ct = parseCtList(value());
    else if (name === "--chassis") chassis = value();
    else if (name === "--max") {
      const v = value();
      if (!/^[1-9]\d{0,6}$/.test(v))
        throw new SimError("BAD_VALUE", `--max: "${v}" is not a count (1-9999999)`);
      max = Number(v);
    } else if (name === "--no-confirm") confirm = false;
    else if (name === "--nbctl") nbctl = value();
    else if (name === "--profile") profile = value();
    else if (name === "--datapath") datapath = oneOf(name, value(), ["logical", "openflow"] as const);
    else if (variantOption(sides, name, value, false)) return;
    else if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
    else files.push(a);
  });
  if (from === undefined) throw new SimError("BAD_VALUE", "reach: --from POD|PORT is required");
  const opts: ScenarioReachOptions = {
    from,
    ...(to.length > 0 ? { to } : {}),
    ...(match !== undefined ? { match } : {}),
    ...(ct !== undefined ? { ctStates: ct } : {}),
    ...(chassis !== undefined ? { chassis } : {}),
    ...(max !== undefined ? { maxClasses: max } : {}),
    confirm,
  };
  if (nbctl !== undefined && files.length > 0)
    throw new SimError("BAD_VALUE", "reach: give manifests or --nbctl FILE, not both");
  if (nbctl !== undefined && datapath === "openflow")
    throw new SimError(
      "BAD_VALUE",
      "reach: --datapath openflow needs manifests (the chassis's bridges), not --nbctl",
    );
  return {
    format,
    files,
    variant: sides[0],
    opts,
    ...(nbctl !== undefined ? { nbctl } : {}),
    profile,
    datapath,
  };
}

registerSubcommand({
  name: "reach",
  summary: "symbolic reachability: header classes from a logical port, delivered where, dropped where",
  usage: USAGE,
  run(args, io) {
    const { format, files, variant, opts, nbctl, profile, datapath } = parseReachArgs(args);
    if (datapath === "openflow") {
      checkInputPaths(files, isManifestName);
      const o = reachOpenflow(applyVariant(loadScenario(files), variant), opts).doc;
      io.stdout(format === "json" ? renderOfReachJson(o) : renderOfReachText(o));
      return o.classes.some((c) => c.confirmed === false) || o.truncated ? 1 : 0;
    }
    let d: ReturnType<typeof reach>["doc"];
    if (nbctl !== undefined) {
      const text = readTextFile(nbctl);
      d = reachNbctl(text, nbctl, profile, opts).doc;
    } else {
      checkInputPaths(files, isManifestName);
      d = reach(applyVariant(loadScenario(files), variant), opts).doc;
    }
    io.stdout(format === "json" ? renderReachJson(d) : renderReachText(d));
    const unconfirmed = d.classes.some((c) => c.confirmed === false);
    return unconfirmed || d.truncated ? 1 : 0;
  },
});

// `ovnsim branches [FILES|DIR]`: every branch one request can take — each LB backend, each
// conntrack state, each MetalLB announcer after a failover — with its verdict and coverage;
// `--nbctl FILE`: the same through an ovn-nbctl configuration, each ECMP next hop included.
import { type Scenario, loadScenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import {
  type BranchesInput,
  type VariantDraft,
  applyVariant,
  branchesProto,
  exploreBranches,
  exploreNbctlBranches,
  renderBranchesJson,
  renderBranchesText,
  variantOption,
} from "@ovnsim/whatif";
import {
  type SourceRef,
  type TargetRef,
  parseSource,
  parseTarget,
  resolveSource,
  resolveTarget,
  sourceKind,
} from "@ovnsim/tracer";
import { oneOf, walkArgs } from "../args.js";
import { registerSubcommand } from "../cli.js";
import { checkInputPaths, isManifestName, readTextFile } from "../files.js";

const USAGE = `usage: ovnsim branches [FILES|DIR]... [--from SRC] [--to DST] [--proto tcp|udp]
                       [--release V] [--metallb V] [--flag NAME=VALUE] [--etp Local|Cluster]
                       [--format text|json]
       ovnsim branches --nbctl FILE [--profile P] --from PORT --to IP[:PORT] [--proto tcp|udp]
                       [--chassis NAME] [--format text|json]
  Explores every branch of one request (default: the seed's client → its LoadBalancer VIP):
  each backend of the ct_lb_mark actions the path reaches and each member of a router's ECMP
  select() (a centralized Subnet with enableEcmp; a source port hashing to each is the witness),
  each conntrack state where it enters OVN (new, established, no entry), and each candidate of
  MetalLB's election once the candidates before it fail — each branch one concrete trace, with a
  coverage count per branch point. In-cluster requests (a pod or a node) use the cluster tracer:
  their conntrack branches carry what the SYN committed (zones, DNAT) to the next packet, and
  their announcer branches say "not on the path" when the switch's load balancer DNATs the VIP
  where the pod enters OVN.
  --from SRC    pod/NAMESPACE/NAME, node/NAME, client/NAME, or a bare client, router, node or
                pod name, as ovnsim trace takes it (default: the first client)
  --to DST      IP[:PORT], pod/NAMESPACE/NAME[:PORT] or svc/NAMESPACE/NAME[:PORT], as ovnsim
                trace takes it (default: the first LoadBalancer VIP and its service port)
  --nbctl FILE  an ovn-nbctl command file instead of manifests: the request is the host behind
                logical port PORT sending to IP (its MAC and address, its router's MAC, TTL 64);
                its branches are the header-space classes reach finds through northd's flows:
                each ECMP next hop of a select() (routes added with --ecmp), each ct_lb_mark
                backend, each conntrack state, every witness confirmed by the ovn-trace executor
  --profile P   northd profile for --nbctl (default ovn-23.03)
  --chassis N   --nbctl: the chassis the pipelines run on (is_chassis_resident)
  --format F   text (default) or json (schema ovnsim.branches/v1)
  exit status: 0 every branch delivered, 1 some branch dropped, 2 bad input`;

export interface BranchesArgs {
  format: "text" | "json";
  files: string[];
  variant: VariantDraft;
  request: BranchesInput;
  nbctl?: string;
  profile: string;
  chassis?: string;
  /** --from / --to as `ovnsim trace` parses them (manifests only), resolved once loaded. */
  fromRef?: SourceRef;
  toRef?: TargetRef;
}

/** The command line of `ovnsim branches` (SimError on a bad option or value). */
export function parseBranchesArgs(args: readonly string[]): BranchesArgs {
  let format: BranchesArgs["format"] = "text";
  const files: string[] = [];
  const sides: [VariantDraft, VariantDraft] = [{}, {}];
  let from: string | undefined;
  let to: string | undefined;
  let port: number | undefined;
  let proto: "tcp" | "udp" | undefined;
  let nbctl: string | undefined;
  let profile = "ovn-23.03";
  let chassis: string | undefined;
  walkArgs(args, (name, value, a) => {
    if (name === "--format") format = oneOf(name, value(), ["text", "json"] as const);
    else if (name === "--from") from = value();
    else if (name === "--to") to = value();
    else if (name === "--proto") proto = branchesProto(value());
    else if (name === "--nbctl") nbctl = value();
    else if (name === "--profile") profile = value();
    else if (name === "--chassis") chassis = value();
    else if (variantOption(sides, name, value, false)) return;
    else if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
    else files.push(a);
  });
  // --nbctl names a logical port and an address; manifests take what `ovnsim trace` takes.
  let fromRef: SourceRef | undefined;
  let toRef: TargetRef | undefined;
  if (nbctl !== undefined && to !== undefined) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(to);
    if (!m) throw new SimError("BAD_VALUE", `--to: "${to}" is not IP or IP:PORT`);
    to = m[1]!;
    if (m[2] !== undefined) {
      port = Number(m[2]);
      if (port < 1 || port > 65535) throw new SimError("BAD_VALUE", `--to: port ${m[2]} is outside 1-65535`);
    }
  } else {
    if (from !== undefined) fromRef = parseSource(from);
    if (to !== undefined) toRef = parseTarget(to);
    // What needs no scenario to resolve goes in the request now; objects once it is loaded.
    if (fromRef !== undefined && fromRef.kind !== "name") from = undefined;
    if (toRef?.kind === "ip") {
      to = toRef.ip;
      port = toRef.port;
    } else if (toRef !== undefined) to = undefined;
  }
  const request: BranchesInput = {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(proto !== undefined ? { proto } : {}),
  };
  if (nbctl !== undefined && files.length > 0)
    throw new SimError("BAD_VALUE", "branches: give manifests or --nbctl FILE, not both");
  if (nbctl !== undefined && (from === undefined || to === undefined))
    throw new SimError("BAD_VALUE", "branches --nbctl: --from PORT and --to IP are required");
  if (nbctl === undefined && chassis !== undefined)
    throw new SimError("BAD_VALUE", "branches: --chassis goes with --nbctl");
  return {
    format,
    files,
    variant: sides[0],
    request,
    ...(nbctl !== undefined ? { nbctl } : {}),
    profile,
    ...(chassis !== undefined ? { chassis } : {}),
    ...(fromRef !== undefined ? { fromRef } : {}),
    ...(toRef !== undefined ? { toRef } : {}),
  };
}

/**
 * The request against the loaded scenario: `--from` and `--to` resolved as `ovnsim trace`
 * resolves them (an unknown Pod, Node, client or Service is an UNKNOWN_OBJECT SimError).
 */
export function resolveBranchesRequest(s: Scenario, a: BranchesArgs): BranchesInput {
  const from = a.fromRef !== undefined ? resolveSource(s, a.fromRef) : undefined;
  const to = a.toRef !== undefined ? resolveTarget(s, a.toRef) : undefined;
  const kind = a.fromRef !== undefined ? sourceKind(a.fromRef) : undefined;
  return {
    ...(a.request.proto !== undefined ? { proto: a.request.proto } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(kind !== undefined ? { fromKind: kind } : {}),
    ...(to !== undefined ? { to: to.to } : {}),
    ...(to?.port !== undefined ? { port: to.port } : {}),
  };
}

registerSubcommand({
  name: "branches",
  summary: "every branch of one request: LB backends, conntrack states, ECMP next hops, MetalLB failover",
  usage: USAGE,
  run(args, io) {
    const parsed = parseBranchesArgs(args);
    const { format, files, variant, request, nbctl, profile, chassis } = parsed;
    let d: ReturnType<typeof exploreBranches>;
    if (nbctl !== undefined) {
      d = exploreNbctlBranches(readTextFile(nbctl), nbctl, profile, {
        from: request.from!,
        to: request.to!,
        ...(request.port !== undefined ? { port: request.port } : {}),
        ...(request.proto !== undefined ? { proto: request.proto } : {}),
        ...(chassis !== undefined ? { chassis } : {}),
      });
    } else {
      checkInputPaths(files, isManifestName);
      const s = applyVariant(loadScenario(files), variant);
      d = exploreBranches(s, resolveBranchesRequest(s, parsed));
    }
    io.stdout(format === "json" ? renderBranchesJson(d) : renderBranchesText(d));
    return d.dropped > 0 ? 1 : 0;
  },
});

// `ovnsim branches [FILES|DIR]`: every branch one request can take — each LB backend, each
// conntrack state, each MetalLB announcer after a failover — with its verdict and coverage.
import { loadScenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import {
  type BranchesInput,
  type VariantDraft,
  applyVariant,
  branchesProto,
  exploreBranches,
  renderBranchesJson,
  renderBranchesText,
  variantOption,
} from "@ovnsim/whatif";
import { oneOf, walkArgs } from "../args.js";
import { registerSubcommand } from "../cli.js";
import { checkInputPaths, isManifestName } from "../files.js";

const USAGE = `usage: ovnsim branches [FILES|DIR]... [--from NAME] [--to IP[:PORT]] [--proto tcp|udp]
                       [--release V] [--metallb V] [--flag NAME=VALUE] [--etp Local|Cluster]
                       [--format text|json]
  Explores every branch of one request (default: the seed's client → its LoadBalancer VIP):
  each backend of the ct_lb_mark actions the path reaches (a source port hashing to each bucket
  is the witness), each conntrack state where it enters OVN (new, established, no entry), and
  each MetalLB announcer after the current one fails — each branch one concrete trace, with a
  coverage count per branch point.
  --format F   text (default) or json (schema ovnsim.branches/v1)
  exit status: 0 every branch delivered, 1 some branch dropped, 2 bad input`;

export interface BranchesArgs {
  format: "text" | "json";
  files: string[];
  variant: VariantDraft;
  request: BranchesInput;
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
  walkArgs(args, (name, value, a) => {
    if (name === "--format") format = oneOf(name, value(), ["text", "json"] as const);
    else if (name === "--from") from = value();
    else if (name === "--to") {
      const v = value();
      const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(v);
      if (!m) throw new SimError("BAD_VALUE", `--to: "${v}" is not IP or IP:PORT`);
      to = m[1]!;
      if (m[2] !== undefined) {
        port = Number(m[2]);
        if (port < 1 || port > 65535)
          throw new SimError("BAD_VALUE", `--to: port ${m[2]} is outside 1-65535`);
      }
    } else if (name === "--proto") proto = branchesProto(value());
    else if (variantOption(sides, name, value, false)) return;
    else if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
    else files.push(a);
  });
  const request: BranchesInput = {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(proto !== undefined ? { proto } : {}),
  };
  return { format, files, variant: sides[0], request };
}

registerSubcommand({
  name: "branches",
  summary: "every branch of one request: LB backends, conntrack states, MetalLB failover",
  usage: USAGE,
  run(args, io) {
    const { format, files, variant, request } = parseBranchesArgs(args);
    checkInputPaths(files, isManifestName);
    const d = exploreBranches(applyVariant(loadScenario(files), variant), request);
    io.stdout(format === "json" ? renderBranchesJson(d) : renderBranchesText(d));
    return d.dropped > 0 ? 1 : 0;
  },
});

// `ovnsim matrix [FILES|DIR]`: every source × every destination of a scenario with its verdict,
// and for each denied pair the drop point and the object behind it (text, CSV, JSON).
import { loadScenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import {
  type VariantDraft,
  applyVariant,
  buildMatrix,
  renderMatrixCsv,
  renderMatrixHtml,
  renderMatrixJson,
  renderMatrixText,
  variantOption,
} from "@ovnsim/whatif";
import { oneOf, walkArgs } from "../args.js";
import { registerSubcommand } from "../cli.js";
import { checkInputPaths, isManifestName } from "../files.js";

const USAGE = `usage: ovnsim matrix [FILES|DIR]... [--format text|csv|json|html] [--from SRC]... [--to DST]...
                     [--release V] [--metallb V] [--flag NAME=VALUE] [--etp Local|Cluster]
  Traces every source (clients, pods, nodes) to every destination (each pod on the ports its
  Services target, each LoadBalancer VIP on each Service port), one fresh simulation per pair,
  as \`ovnsim trace\` would; without files, the built-in seed scenario.
  --format F     text (default), csv, json (schema ovnsim.matrix/v1), or html (one self-contained page)
  --from SRC     only this source (client/NAME, pod/NS/NAME, node/NAME, or the bare name); repeatable
  --to DST       only this destination (IP, IP:PORT/PROTO, svc/NS/NAME, pod/NS/NAME); repeatable
  --release, --metallb, --flag, --etp   change the scenario first (see \`ovnsim help diff\`)
  exit status: 0 every pair delivered, 1 at least one pair denied, 2 bad input`;

export interface MatrixArgs {
  format: "text" | "csv" | "json" | "html";
  files: string[];
  from: string[];
  to: string[];
  variant: VariantDraft;
}

/** The command line of `ovnsim matrix` (SimError on a bad option or value). */
export function parseMatrixArgs(args: readonly string[]): MatrixArgs {
  let format: MatrixArgs["format"] = "text";
  const files: string[] = [];
  const from: string[] = [];
  const to: string[] = [];
  const sides: [VariantDraft, VariantDraft] = [{}, {}];
  walkArgs(args, (name, value, a) => {
    if (name === "--format") format = oneOf(name, value(), ["text", "csv", "json", "html"] as const);
    else if (name === "--from") from.push(value());
    else if (name === "--to") to.push(value());
    else if (variantOption(sides, name, value, false)) return;
    else if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
    else files.push(a);
  });
  return { format, files, from, to, variant: sides[0] };
}

registerSubcommand({
  name: "matrix",
  summary: "reachability matrix: every source × destination with verdict and drop point",
  usage: USAGE,
  run(args, io) {
    const { format, files, from, to, variant } = parseMatrixArgs(args);
    checkInputPaths(files, isManifestName);
    const s = applyVariant(loadScenario(files), variant);
    const m = buildMatrix(s, {
      ...(from.length > 0 ? { from } : {}),
      ...(to.length > 0 ? { to } : {}),
    });
    io.stdout(
      format === "json"
        ? renderMatrixJson(m)
        : format === "csv"
          ? renderMatrixCsv(m)
          : format === "html"
            ? renderMatrixHtml(m)
            : renderMatrixText(m),
    );
    return m.denied > 0 ? 1 : 0;
  },
});

// `ovnsim diff A B`: what changes between two configurations — two manifest sets, one set under
// two releases / flag values / traffic policies, or two ovn-nbctl files: logical flows added and
// removed per stage, doctor findings, and every verdict of the matrix that changes, with why.
import { loadScenario } from "@ovnsim/kube";
import { PROFILE_NAMES } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import {
  type VariantDraft,
  applyVariant,
  describeVariant,
  diffNbctl,
  diffScenarios,
  renderDiffJson,
  renderDiffText,
  splitPair,
  variantOption,
} from "@ovnsim/whatif";
import { oneOf, walkArgs } from "../args.js";
import { registerSubcommand } from "../cli.js";
import { checkInputPaths, isManifestName, readTextFile } from "../files.js";

const USAGE = `usage: ovnsim diff [A [B]] [--release V|A,B] [--metallb V|A,B] [--flag NAME=V|NAME=A,B]
                   [--etp V|A,B] [--format text|json]
       ovnsim diff --nbctl A B [--profile P|A,B] [--format text|json]
  Compares two configurations before one replaces the other. A and B are manifest files or
  directories; with one (or none: the built-in seed) both sides read the same manifests and the
  options make them differ. VALUE applies to both sides, A,B to each:
  --release V    Kube-OVN version as the kube-ovn-controller image tag (1.14 = v1.14.5,
                 1.15 = v1.15.20, the first 1.15 with the VIP-node marker; or v1.15.3, master)
  --metallb V    MetalLB version (the VIP-node marker needs ServiceL2Status, 0.14.4+)
  --flag N=V     a kube-ovn-controller flag: enable-ovn-lb-prefer-local, ls-ct-skip-dst-lport-ips,
                 ls-dnat-mod-dl-dst, enable-lb
  --etp V        externalTrafficPolicy of every LoadBalancer Service: Local or Cluster
  --nbctl        A and B are ovn-nbctl command files: logical flows only (no scenario to trace)
  --profile P    northd profile for --nbctl (default ovn-23.03): ${PROFILE_NAMES.join(", ")}
  --format F     text (default) or json (schema ovnsim.diff/v1)
  Reports logical flows added / removed per stage, doctor findings that appear or disappear, and
  every source → destination pair of \`ovnsim matrix\` whose verdict changes, with its reason.
  exit status: 0 nothing changes, 1 something does, 2 bad input`;

/** An ovn-nbctl file: a path that cannot be read fails with exit 2, the path and its reason. */
const readText = (file: string): string => readTextFile(file);

export interface DiffArgs {
  format: "text" | "json";
  nbctl: boolean;
  profile: string;
  paths: string[];
  sides: [VariantDraft, VariantDraft];
}

/** The command line of `ovnsim diff` (SimError on a bad option or value). */
export function parseDiffArgs(args: readonly string[]): DiffArgs {
  let format: DiffArgs["format"] = "text";
  let nbctl = false;
  let profile = "ovn-23.03";
  const paths: string[] = [];
  const sides: [VariantDraft, VariantDraft] = [{}, {}];
  walkArgs(args, (name, value, a) => {
    if (name === "--format") format = oneOf(name, value(), ["text", "json"] as const);
    else if (name === "--nbctl") nbctl = true;
    else if (name === "--profile") profile = value();
    else if (variantOption(sides, name, value)) return;
    else if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
    else paths.push(a);
  });
  return { format, nbctl, profile, paths, sides };
}

registerSubcommand({
  name: "diff",
  summary: "what changes between two configurations or releases: lflows and verdicts",
  usage: USAGE,
  run(args, io) {
    const { format, nbctl, profile, paths, sides } = parseDiffArgs(args);
    let doc: ReturnType<typeof diffScenarios>;
    if (nbctl) {
      if (paths.length !== 2) throw new SimError("BAD_VALUE", "--nbctl: give two ovn-nbctl files A B");
      if (describeVariant(sides[0]) !== "" || describeVariant(sides[1]) !== "")
        throw new SimError(
          "BAD_VALUE",
          "--nbctl: --release, --metallb, --flag and --etp change manifests, not ovn-nbctl files",
        );
      const [pa, pb] = splitPair("--profile", profile);
      for (const p of [pa, pb])
        if (!(PROFILE_NAMES as readonly string[]).includes(p))
          throw new SimError("BAD_VALUE", `--profile: "${p}" is not one of ${PROFILE_NAMES.join(", ")}`);
      doc = diffNbctl(
        { label: `${paths[0]!} (${pa})`, text: readText(paths[0]!), profile: pa },
        { label: `${paths[1]!} (${pb})`, text: readText(paths[1]!), profile: pb },
      );
    } else {
      if (paths.length > 2) throw new SimError("BAD_VALUE", "diff: give at most two manifest sets A B");
      const base = paths.length === 2 ? [[paths[0]!], [paths[1]!]] : [paths, paths];
      const label = (i: number) => {
        const where = paths.length === 2 ? paths[i]! : paths.length === 1 ? paths[0]! : "seed";
        const what = describeVariant(sides[i]!);
        return what ? `${where} (${what})` : where;
      };
      checkInputPaths(paths, isManifestName);
      const sa = applyVariant(loadScenario(base[0]!), sides[0]);
      const sb = applyVariant(loadScenario(base[1]!), sides[1]);
      if (paths.length < 2 && describeVariant(sides[0]) === describeVariant(sides[1]))
        io.stderr("ovnsim diff: both sides are the same configuration (give B, or A,B values)\n");
      doc = diffScenarios({ label: label(0), scenario: sa }, { label: label(1), scenario: sb });
    }
    io.stdout(format === "json" ? renderDiffJson(doc) : renderDiffText(doc));
    return doc.changed ? 1 : 0;
  },
});

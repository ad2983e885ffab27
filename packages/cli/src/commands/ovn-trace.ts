// `ovnsim ovn-trace (--sb DIR | --nbctl FILE --profile P) [--chassis NODE] [--ct FLAGS]...
// [--lb-dst IP[:PORT]] [--detailed|--summary|--minimal] [--json] [DATAPATH] MICROFLOW`:
// ovn-trace over a captured southbound bundle (scripts/capture-sb.sh) or over ovnsim's own
// northd output for an ovn-nbctl command file.
import path from "node:path";
import {
  LogicalNetwork,
  PROFILE_NAMES,
  getProfile,
  northd,
  parseNbctl,
  parseOvnTraceArgs,
  readSbBundle,
  renderTrace,
  sbModelFromNb,
  traceToJson,
} from "@ovnsim/ovn";
import type { SbModel } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";
import { readDirectory, readTextFile } from "../files.js";

function readBundle(dir: string): SbModel {
  const names = readDirectory(dir);
  const files: Record<string, string> = {};
  for (const n of names) if (n.endsWith(".txt")) files[n] = readTextFile(path.join(dir, n));
  return readSbBundle(files);
}

registerSubcommand({
  name: "ovn-trace",
  summary: "trace a microflow through OVN logical pipelines, as ovn-trace does",
  usage: [
    "usage: ovnsim ovn-trace (--sb DIR | --nbctl FILE [--profile P]) [--chassis NODE] [--ct FLAGS]...",
    "                        [--lb-dst IP[:PORT]] [--select-id N] [--detailed|--summary|--minimal|--all] [--json]",
    "                        [DATAPATH] MICROFLOW",
    "  --sb DIR      southbound bundle captured with scripts/capture-sb.sh (lflow-list.txt, port-binding.txt…)",
    "  --nbctl FILE  ovn-nbctl command file, compiled by ovnsim's northd for --profile",
    `  --profile P   one of ${PROFILE_NAMES.join(", ")} (default ovn-23.03)`,
    "  --chassis N   trace on chassis N: is_chassis_resident() holds only for ports bound there",
    "                (default: every port is resident, as in ovn-trace)",
    "  --ct FLAGS    ct_state for the next ct action (repeatable; then est|trk)",
    "  --lb-dst IP[:PORT]  ct_lb backend to pick (also used by argument-less ct_lb_mark, as ovn-trace)",
    "  --select-id N the member a select() action (ECMP routes) takes; without it the datapath's",
    "                hash of the packet decides (ovn-trace picks at random)",
    "  --json        print the trace tree as JSON",
  ].join("\n"),
  run(args, io) {
    const a = parseOvnTraceArgs(args, ["sb", "nbctl", "profile"]);
    const sb = a.extra.get("sb");
    const nbctl = a.extra.get("nbctl");
    if ((sb === undefined) === (nbctl === undefined)) {
      throw new SimError("BAD_VALUE", "exactly one of --sb DIR or --nbctl FILE is required");
    }
    let model: SbModel;
    // The release whose symbol table ovn-trace parses the logical flows with: the profile's, or
    // 23.03 (the installed real ovn-trace) for a captured southbound bundle.
    let ovn = 23;
    if (sb !== undefined) model = readBundle(sb);
    else {
      const profileName = a.extra.get("profile") ?? "ovn-23.03";
      const profile = getProfile(profileName);
      if (!profile) {
        throw new SimError(
          "BAD_VALUE",
          `--profile: "${profileName}" is not one of ${PROFILE_NAMES.join(", ")}`,
        );
      }
      const text = readTextFile(nbctl!);
      const db = parseNbctl(text, { file: nbctl! });
      model = sbModelFromNb(db, northd(db, profile));
      ovn = profile.ovn;
    }
    const net = new LogicalNetwork(model, a.chassis, { ovn });
    const r = net.trace(a.datapath, a.microflow, {
      ct: a.ct,
      ...(a.lbDst !== undefined ? { lbDst: a.lbDst } : {}),
      ...(a.selectId !== undefined ? { selectId: a.selectId } : {}),
    });
    if (a.json) io.stdout(`${JSON.stringify(traceToJson(r), null, 2)}\n`);
    else io.stdout(renderTrace(r, a.modes));
    return 0;
  },
});

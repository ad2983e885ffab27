// `ovnsim ovn-controller --sb DIR --node DIR [--chassis NAME] [--out DIR]`: the br-int OpenFlow
// that ovn-controller 23.03 installs on a chassis, from a southbound capture (capture-sb.sh)
// and the node's configuration (capture-node.sh), printed as `ovs-ofctl -O OpenFlow15
// --no-stats dump-flows br-int` prints it; --out writes an ofproto-trace bundle.
import { join } from "node:path";
import { compareDumps, flowLines, formatDumpFlows, ovnController } from "@ovnsim/controller";
import { SimError } from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";
import {
  checkInputDirectory,
  makeOutputDirectory,
  readDirectory,
  readTextFile,
  writeOutputFile,
} from "../files.js";

const USAGE = `usage: ovnsim ovn-controller --sb DIR --node DIR [--chassis NAME] [--profile P] [--out DIR] [--groups] [--compare]
  --sb DIR       southbound capture (scripts/capture-sb.sh)
  --node DIR     the chassis's Open vSwitch configuration (scripts/capture-node.sh)
  --chassis NAME Chassis name (default: the node's system-id)
  --profile P    ovn-controller release or northd profile: 23.03 (default), 24.03, 25.03,
                 kube-ovn-1.14 (24.03), kube-ovn-1.15 (25.03); sets br-int's table layout, and a
                 southbound whose pipelines do not fit it is refused
  --out DIR      write an ofproto-trace bundle: the node's bridges with ovnsim's br-int flows/groups/meters
  --groups       print br-int's groups (dump-groups) after the flows
  --compare      compare with the node's own br-int.flows.txt: agreement per table, then differences`;

const isCapture = (n: string): boolean => n.endsWith(".txt");

/** A capture directory's .txt files by name; a path that cannot be read fails with its reason. */
function readDir(dir: string): Record<string, string> {
  checkInputDirectory(dir, isCapture);
  return Object.fromEntries(
    readDirectory(dir)
      .filter(isCapture)
      .map((n) => [n, readTextFile(join(dir, n))]),
  );
}

registerSubcommand({
  name: "ovn-controller",
  summary: "a chassis's br-int OpenFlow (dump-flows) from SB + node captures, as ovn-controller 23.03",
  usage: USAGE,
  run(args, io) {
    let sbDir: string | undefined;
    let nodeDir: string | undefined;
    let chassis: string | undefined;
    let profile: string | undefined;
    let out: string | undefined;
    let groups = false;
    let compare = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as string;
      const value = (): string => {
        const v = args[++i];
        if (v === undefined) throw new SimError("PARSE_ERROR", `${a} needs a value`);
        return v;
      };
      if (a === "--sb") sbDir = value();
      else if (a === "--node") nodeDir = value();
      else if (a === "--chassis") chassis = value();
      else if (a === "--profile") profile = value();
      else if (a === "--out") out = value();
      else if (a === "--groups") groups = true;
      else if (a === "--compare") compare = true;
      else throw new SimError("PARSE_ERROR", `unknown argument "${a}"\n${USAGE}`);
    }
    if (sbDir === undefined || nodeDir === undefined)
      throw new SimError("PARSE_ERROR", `--sb DIR and --node DIR are required\n${USAGE}`);
    const node = readDir(nodeDir);
    const res = ovnController({
      sb: readDir(sbDir),
      node,
      ...(chassis ? { chassis } : {}),
      ...(profile !== undefined ? { profile } : {}),
    });
    for (const s of res.skipped)
      io.stderr(`ovnsim ovn-controller: not translated: ${s.lflow}: ${s.reason}\n`);
    const groupText = `OFPST_GROUP_DESC reply (OF1.5) (xid=0x2):\n${res.groups.map((g) => `${g}\n`).join("")}`;
    if (compare) {
      const real = node["br-int.flows.txt"];
      if (real === undefined) throw new SimError("UNKNOWN_OBJECT", `${nodeDir}/br-int.flows.txt is missing`);
      const c = compareDumps(flowLines(real), res.flows);
      for (const t of c.tables)
        io.stdout(`table ${t.table}: ${t.identical}/${t.expected} identical, ${t.extra} extra\n`);
      io.stdout(`total: ${c.identical}/${c.expected} identical, ${c.extra} extra\n`);
      for (const l of c.missing) io.stdout(`-${l}\n`);
      for (const l of c.unexpected) io.stdout(`+${l}\n`);
      return c.missing.length || c.unexpected.length ? 1 : 0;
    }
    io.stdout(formatDumpFlows(res));
    if (groups) io.stdout(groupText);
    if (out !== undefined) {
      makeOutputDirectory(out);
      for (const [n, text] of Object.entries(node)) writeOutputFile(join(out, n), text);
      writeOutputFile(join(out, "br-int.flows.txt"), formatDumpFlows(res));
      writeOutputFile(join(out, "br-int.groups.txt"), groupText);
      writeOutputFile(
        join(out, "br-int.meters.txt"),
        `OFPST_METER_CONFIG reply (OF1.5) (xid=0x2):\n${res.meters.map((m) => `${m}\n`).join("\n")}`,
      );
    }
    return 0;
  },
});

// `ovnsim northd --nbctl FILE --profile P [--json]`: run ovnsim's northd on an ovn-nbctl command
// file and print the logical flows as `ovn-sbctl lflow-list` does (or as JSON).
import { PROFILE_NAMES, formatLflowList, getProfile, northd, parseNbctl, validateNb } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";
import { readTextFile } from "../files.js";

registerSubcommand({
  name: "northd",
  summary: "compile an ovn-nbctl command file into logical flows (lflow-list)",
  usage: [
    "usage: ovnsim northd --nbctl FILE [--profile P] [--json] [--uuid] [--datapath NAME]",
    `  --profile   one of ${PROFILE_NAMES.join(", ")} (default ovn-23.03)`,
    "  --nbctl     file of ovn-nbctl commands, one per line (ovn-sbctl chassis-add / lsp-bind too)",
    "  --json      print {profile, features, datapaths, flows} as JSON",
    "  --uuid      print the (deterministic) lflow uuids as `lflow-list --uuid` does",
    "  --datapath  only this logical switch",
  ].join("\n"),
  run(args, io) {
    let file: string | undefined;
    let profileName = "ovn-23.03";
    let json = false;
    let uuid = false;
    let datapath: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as string;
      const [flag, inline] = a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      const value = (): string => {
        if (inline !== undefined) return inline;
        const v = args[++i];
        if (v === undefined) throw new SimError("PARSE_ERROR", `${flag} needs a value`);
        return v;
      };
      if (flag === "--nbctl") file = value();
      else if (flag === "--profile") profileName = value();
      else if (flag === "--datapath") datapath = value();
      else if (flag === "--json") json = true;
      else if (flag === "--uuid") uuid = true;
      else throw new SimError("PARSE_ERROR", `unknown argument "${a}"`);
    }
    if (file === undefined) throw new SimError("PARSE_ERROR", "--nbctl FILE is required");
    const profile = getProfile(profileName);
    if (!profile)
      throw new SimError(
        "BAD_VALUE",
        `--profile: "${profileName}" is not one of ${PROFILE_NAMES.join(", ")}`,
      );
    const text = readTextFile(file);
    const db = parseNbctl(text, { file });
    // ovn-northd logs these and skips the bad entry; so do we.
    for (const w of validateNb(db)) io.stderr(`ovnsim northd: warning: ${w.message}\n`);
    const result = northd(db, profile);
    const flows = datapath === undefined ? result.flows : result.flows.filter((f) => f.datapath === datapath);
    if (datapath !== undefined && !result.datapaths.some((d) => d.name === datapath)) {
      throw new SimError("UNKNOWN_OBJECT", `${datapath}: no logical switch of that name`);
    }
    if (json) io.stdout(`${JSON.stringify({ ...result, flows }, null, 2)}\n`);
    else io.stdout(formatLflowList({ ...result, flows }, { uuid }));
    return 0;
  },
});

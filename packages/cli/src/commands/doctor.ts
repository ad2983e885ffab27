// `ovnsim doctor [FILES|DIR]`: the scenario's misconfigurations (stable codes, what happens on
// a real cluster, what to change), without tracing.
import { diagnose, loadScenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";
import { checkInputPaths, isManifestName } from "../files.js";

const USAGE = `usage: ovnsim doctor [FILES|DIR]... [--format text|json]
  Checks the manifests (default: the built-in seed scenario) against every prerequisite and note
  of Kube-OVN's "MetalLB with an underlay subnet" and prints the findings with their codes.
  exit status: 0 no error finding, 1 at least one error finding, 2 bad input`;

registerSubcommand({
  name: "doctor",
  summary: "list a scenario's misconfigurations with codes and fixes, without tracing",
  usage: USAGE,
  run(args, io) {
    let format = "text";
    const files: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "--format" || a.startsWith("--format=")) {
        format = a.includes("=") ? a.slice(9) : (args[++i] ?? "");
        if (format !== "text" && format !== "json")
          throw new SimError("BAD_VALUE", `--format: "${format}" is not text or json`);
      } else if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
      else files.push(a);
    }
    checkInputPaths(files, isManifestName);
    const s = loadScenario(files);
    const findings = diagnose(s);
    if (format === "json") {
      io.stdout(`${JSON.stringify({ scenario: s.name, findings }, null, 2)}\n`);
    } else if (findings.length === 0) {
      io.stdout(`ovnsim doctor: ${s.name}: no findings\n`);
    } else {
      const lines = [`ovnsim doctor: ${s.name}: ${findings.length} finding(s)`, ""];
      for (const f of findings) {
        const where = f.source ? ` (${f.source.file}:${f.source.line})` : "";
        lines.push(`[${f.severity}] ${f.code}${f.subject ? ` — ${f.subject}` : ""}${where}`);
        lines.push(`  ${f.message}`);
        lines.push(`  fix: ${f.fix}`);
        lines.push("");
      }
      io.stdout(`${lines.join("\n")}`);
    }
    return findings.some((f) => f.severity === "error") ? 1 : 0;
  },
});

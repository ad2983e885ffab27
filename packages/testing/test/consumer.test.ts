// ovnsim as a tool author installs it: build, `pnpm pack` every public package, `npm install`
// the tarballs into a fresh project outside the workspace, then run a vitest file there that uses
// @ovnsim/testing (fixtures/consumer/ovnsim.spec.ts), type-check it under moduleResolution
// bundler and node16, require() the packages from CommonJS, and run every command of the
// installed `ovnsim` binary, whose output must be byte for byte the workspace CLI's.
// A packaging break (a file not shipped, an export naming src/, a path outside the package)
// fails here. Takes a minute or two: it builds everything.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@ovnsim/cli";
import { deriveNbctl, deriveNodeDataplane, loadScenario } from "@ovnsim/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, createConsumer, packedTarballs, publicPackages, sh } from "../../../scripts/consumer.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/consumer/", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const STEP_MS = 600_000;
/** A real southbound and node capture (the controller package's seed golden). */
const CONTROLLER_SEED = fileURLToPath(new URL("../../controller/test/golden/seed/", import.meta.url));

let work = "";
let project = "";
let tarballs = new Map<string, string>();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "ovnsim-consumer-"));
  project = join(work, "project");
  // Nothing above the project may hold a node_modules the install could fall back on.
  for (let d = work; d !== dirname(d); d = dirname(d)) {
    expect(existsSync(join(d, "node_modules")), `${d}/node_modules exists`).toBe(false);
  }
  const took = (what: string, ms: number) => console.log(`consumer: ${what} in ${(ms / 1000).toFixed(1)} s`);
  const t = performance.now();
  tarballs = packedTarballs();
  took("pnpm build + pack (or their tarballs from this run's other test)", performance.now() - t);
  took("npm install of the tarballs", createConsumer(project, tarballs).ms);
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(project, f));
}, STEP_MS);

afterAll(() => {
  if (work && !process.env.OVNSIM_KEEP_CONSUMER) rmSync(work, { recursive: true, force: true });
});

/** One file of a tarball (tar is on every CI machine). */
const fromTarball = (tgz: string, file: string) => sh("tar", ["-xzOf", tgz, `package/${file}`], work).stdout;
const listTarball = (tgz: string) =>
  sh("tar", ["-tzf", tgz], work)
    .stdout.split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""));

/** Every path an exports map (or main/types/bin) names. */
function namedFiles(pkg: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  walk(pkg.exports);
  walk(pkg.main);
  walk(pkg.types);
  walk(pkg.bin);
  return out.map((f) => f.replace(/^\.\//, ""));
}

describe("the packed tarballs", () => {
  it("are one per public package, and name only files they ship", () => {
    expect([...tarballs.keys()].sort()).toEqual(publicPackages().map((p) => p.name));
    expect(tarballs.has("@ovnsim/oracle")).toBe(false);
    for (const [name, tgz] of tarballs) {
      const files = new Set(listTarball(tgz));
      const pkg = JSON.parse(fromTarball(tgz, "package.json")) as Record<string, unknown>;
      expect(JSON.stringify(pkg.exports), name).not.toContain("@ovnsim/source");
      expect(JSON.stringify(pkg.exports), name).not.toContain("src/");
      expect(JSON.stringify(pkg.dependencies ?? {}), name).not.toContain("workspace:");
      for (const f of namedFiles(pkg))
        expect(files.has(f), `${name} names ${f}, not in its tarball`).toBe(true);
      expect(
        [...files].filter((f) => f.startsWith("src/")),
        name,
      ).toEqual([]);
      expect(files.has("README.md") && files.has("LICENSE"), name).toBe(true);
    }
    const kube = new Set(listTarball(tarballs.get("@ovnsim/kube")!));
    expect(kube.has("seed/metallb-underlay/10-underlay-network.yaml")).toBe(true);
  });
});

describe("a fresh npm project with the tarballs installed", () => {
  it(
    "runs a vitest file using @ovnsim/testing: matchers, arbitraries, lab()",
    () => {
      const r = sh(
        join(project, "node_modules", ".bin", "vitest"),
        ["run", "--reporter=json", "--outputFile=vitest-result.json"],
        project,
        false,
      );
      expect(r.code, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
      const res = JSON.parse(sh("cat", ["vitest-result.json"], project).stdout) as {
        numPassedTests: number;
        numFailedTests: number;
      };
      expect(res).toMatchObject({ numPassedTests: 4, numFailedTests: 0 });
    },
    STEP_MS,
  );

  it.each(["bundler", "node16"])(
    "type-checks the test file under moduleResolution %s (libraries' .d.ts checked too)",
    (mode) => {
      const r = sh(process.execPath, [TSC, "-p", `tsconfig.${mode}.json`], project, false);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    },
    STEP_MS,
  );

  it(
    "serves CommonJS: require() on Node >= 20.19, and types under module nodenext",
    () => {
      const r = sh(process.execPath, ["require.cjs"], project, false);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        delivered: true,
        pod: "default/deploy-169402624-2",
        same: true,
      });
      const t = sh(process.execPath, [TSC, "-p", "tsconfig.cjs.json"], project, false);
      expect(t.code, t.stdout + t.stderr).toBe(0);
    },
    STEP_MS,
  );
});

describe("the installed ovnsim binary", () => {
  const inProcess = async (args: string[]) => {
    let out = "";
    let err = "";
    const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    return { code, out, err };
  };

  it(
    "`npx ovnsim trace --format json` traces the built-in seed: ovnsim.trace/v1, delivered",
    async () => {
      const r = sh("npx", ["--no-install", "ovnsim", "trace", "--format", "json"], project, false);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { schema: string; verdict: Record<string, unknown> };
      expect(doc.schema).toBe("ovnsim.trace/v1");
      expect(doc.verdict).toMatchObject({
        delivered: true,
        pod: "default/deploy-169402624-2",
        node: "node3",
        clientIpPreserved: true,
        replySourceIp: "10.180.204.252",
      });
      expect(r.stdout).toBe((await inProcess(["trace", "--format", "json"])).out);
    },
    STEP_MS,
  );

  it(
    "runs every command (node_modules/.bin/ovnsim), printing what the workspace CLI prints",
    async () => {
      const s = loadScenario();
      const nbctl = join(work, "seed.nbctl");
      writeFileSync(nbctl, `${deriveNbctl(s).join("\n")}\n`);
      const flows = join(work, "br-provider.flows");
      const br = deriveNodeDataplane(s, "node3").bridges.find((b) => b.name === "br-provider")!;
      writeFileSync(flows, `${br.flows.join("\n")}\n`);
      const micro =
        'inport == "localnet.underlay-subnet" && eth.src == 52:54:00:ff:00:01 && eth.dst == 00:00:00:01:00:01 && ip4.src == 192.0.2.10 && ip4.dst == 10.180.204.252 && ip.ttl == 63 && tcp.src == 40000 && tcp.dst == 80';
      const commands: string[][] = [
        ["--version"],
        ["help"],
        ["doctor", "--format", "json"],
        ["flow", "in_port=1,dl_vlan=341,tcp,nw_src=192.0.2.10,tp_dst=80"],
        ["metallb"],
        ["northd", "--nbctl", nbctl],
        ["ovn-trace", "--nbctl", nbctl, "--ct", "new", "underlay-subnet", micro],
        [
          "ofproto-trace",
          "--flows",
          flows,
          "br-provider",
          "in_port=1,dl_vlan=341,tcp,nw_dst=10.180.204.252,tp_dst=80",
        ],
        ["ovn-controller", "--sb", join(CONTROLLER_SEED, "sb"), "--node", join(CONTROLLER_SEED, "node")],
        ["matrix", "--format", "json"],
        ["diff", "--etp", "Local,Cluster", "--format", "json"],
        ["branches", "--format", "json"],
        ["reach", "--from", "default/deploy-169402624-0", "--format", "json"],
      ];
      const seen = new Set<string>();
      const bin = join(project, "node_modules", ".bin", "ovnsim");
      for (const args of commands) {
        const installed = sh(bin, args, project, false);
        const want = await inProcess(args);
        expect(installed.code, `ovnsim ${args.join(" ")}: ${installed.stderr}`).toBe(want.code);
        expect(want.out.length, `ovnsim ${args.join(" ")} printed nothing`).toBeGreaterThan(0);
        expect(installed.stdout, `ovnsim ${args.join(" ")}`).toBe(want.out);
        if (args[0] !== undefined && !args[0].startsWith("-")) seen.add(args[0]);
      }
      // Every command the help lists was run above.
      const listed = [...(await inProcess(["help"])).out.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!);
      expect(listed.filter((c) => c !== "help" && !seen.has(c) && c !== "trace")).toEqual([]);
    },
    STEP_MS,
  );
});

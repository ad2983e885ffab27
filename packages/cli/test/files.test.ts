// Every path the CLI reads or writes, given something it cannot use, ends the command with exit 2
// and one line naming the path and the system's reason; never a stack trace. The paths the
// commands take are found in their own usage text, so a new FILE/DIR option fails this test until
// it is added to SLOTS below. Tests run as root, for whom permission bits do not stop a read or
// a write, so the bad paths are ones root cannot use either: missing, through a regular file,
// a directory for a file (and the reverse), a symbolic-link loop, a name too long, /dev/full.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@ovnsim/cli";
import { readPcap, readPcapng } from "@ovnsim/packet";
import { makeOutputDirectory } from "../src/files.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Role = "in-file" | "in-dir" | "in-file-or-dir" | "out-file" | "out-dir";

interface Slot {
  readonly command: string;
  /** The option as the usage text writes it ("--pcap FILE"), or the positional ("[FILES|DIR]..."). */
  readonly usage: string;
  readonly role: Role;
  /** The arguments with the bad path in place. */
  readonly args: (path: string) => string[];
  /** The usage names this path otherwise than FILE / DIR (diff's A B), so the usage scan skips it. */
  readonly unnamed?: true;
}

const SLOTS: readonly Slot[] = [
  { command: "trace", usage: "[FILES|DIR]", role: "in-file-or-dir", args: (p) => [p] },
  { command: "trace", usage: "--pcap FILE", role: "out-file", args: (p) => ["--pcap", p] },
  { command: "trace", usage: "--html FILE", role: "out-file", args: (p) => ["--html", p] },
  {
    command: "trace",
    usage: "--sb DIR",
    role: "in-dir",
    args: (p) => ["--sb", p, "--node", GOOD_DIR(), "in_port=1"],
  },
  {
    command: "trace",
    usage: "--nb DIR",
    role: "in-dir",
    args: (p) => ["--sb", GOOD_DIR(), "--nb", p, "--node", GOOD_DIR(), "in_port=1"],
  },
  {
    command: "trace",
    usage: "--node DIR",
    role: "in-dir",
    args: (p) => ["--sb", GOOD_DIR(), "--node", p, "in_port=1"],
  },
  { command: "doctor", usage: "[FILES|DIR]", role: "in-file-or-dir", args: (p) => [p, "--format", "json"] },
  { command: "northd", usage: "--nbctl FILE", role: "in-file", args: (p) => ["--nbctl", p] },
  {
    command: "ovn-trace",
    usage: "--sb DIR",
    role: "in-dir",
    args: (p) => ["--sb", p, "ls", 'inport == "a"'],
  },
  {
    command: "ovn-trace",
    usage: "--nbctl FILE",
    role: "in-file",
    args: (p) => ["--nbctl", p, "ls", 'inport == "a"'],
  },
  {
    command: "ofproto-trace",
    usage: "--bundle DIR",
    role: "in-dir",
    args: (p) => ["--bundle", p, "br0", "in_port=1"],
  },
  {
    command: "ofproto-trace",
    usage: "--flows FILE",
    role: "in-file",
    args: (p) => ["--flows", p, "br0", "in_port=1"],
  },
  {
    command: "ofproto-trace",
    usage: "--groups FILE",
    role: "in-file",
    args: (p) => ["--flows", GOOD_FILE(), "--groups", p, "br0", "in_port=1"],
  },
  { command: "flow", usage: "--pcap FILE", role: "out-file", args: (p) => ["--pcap", p, "in_port=1,tcp"] },
  {
    command: "ovn-controller",
    usage: "--sb DIR",
    role: "in-dir",
    args: (p) => ["--sb", p, "--node", GOOD_DIR()],
  },
  {
    command: "ovn-controller",
    usage: "--node DIR",
    role: "in-dir",
    args: (p) => ["--sb", GOOD_DIR(), "--node", p],
  },
  { command: "matrix", usage: "[FILES|DIR]", role: "in-file-or-dir", args: (p) => [p, "--format", "json"] },
  { command: "branches", usage: "[FILES|DIR]", role: "in-file-or-dir", args: (p) => [p] },
  {
    command: "branches",
    usage: "--nbctl FILE",
    role: "in-file",
    args: (p) => ["--nbctl", p, "--from", "vm1", "--to", "8.8.8.8"],
  },
  {
    command: "reach",
    usage: "[FILES|DIR]",
    role: "in-file-or-dir",
    args: (p) => [p, "--from", "default/deploy-169402624-0", "--no-confirm"],
  },
  {
    command: "reach",
    usage: "--nbctl FILE",
    role: "in-file",
    args: (p) => ["--nbctl", p, "--from", "vm1"],
  },
  {
    command: "diff",
    usage: "[A [B]]",
    role: "in-file-or-dir",
    args: (p) => [p, "--etp", "Local,Cluster"],
    unnamed: true,
  },
  {
    command: "diff",
    usage: "--nbctl A B",
    role: "in-file",
    args: (p) => ["--nbctl", p, GOOD_FILE()],
    unnamed: true,
  },
  {
    command: "ovn-controller",
    usage: "--out DIR",
    role: "out-dir",
    args: (p) => ["--sb", join(CONTROLLER_SEED, "sb"), "--node", join(CONTROLLER_SEED, "node"), "--out", p],
  },
];

let dir = "";
const GOOD_FILE = () => join(dir, "file");
const GOOD_DIR = () => join(dir, "empty");
/** A real southbound and node capture (the controller package's seed golden). */
const CONTROLLER_SEED = fileURLToPath(new URL("../../controller/test/golden/seed", import.meta.url));

interface Bad {
  readonly kind: string;
  readonly roles: readonly Role[];
  readonly path: (name: string) => string;
  /** The path the message names (a directory's bad entry, or the path itself). */
  readonly named?: (name: string) => string;
  readonly code: string;
}

const BAD: readonly Bad[] = [
  {
    kind: "missing",
    roles: ["in-file", "in-dir", "in-file-or-dir", "out-file"],
    path: (n) => join(dir, "missing", n),
    code: "ENOENT",
  },
  {
    kind: "through a regular file",
    roles: ["in-file", "in-dir", "in-file-or-dir", "out-file", "out-dir"],
    path: (n) => join(dir, "file", n),
    code: "ENOTDIR",
  },
  {
    kind: "a directory for a file",
    roles: ["in-file", "out-file"],
    path: () => join(dir, "empty"),
    code: "EISDIR",
  },
  {
    kind: "a file for a directory",
    roles: ["in-dir", "out-dir"],
    path: () => join(dir, "file"),
    code: "ENOTDIR",
  },
  {
    kind: "a symbolic-link loop",
    roles: ["in-file", "in-dir", "in-file-or-dir", "out-file", "out-dir"],
    path: () => join(dir, "loop"),
    code: "ELOOP",
  },
  {
    kind: "a name too long",
    roles: ["in-file", "in-dir", "in-file-or-dir", "out-file", "out-dir"],
    path: (n) => join(dir, n.padEnd(300, "n")),
    code: "ENAMETOOLONG",
  },
  {
    kind: "a directory whose entry is a directory",
    roles: ["in-dir", "in-file-or-dir"],
    path: () => join(dir, "nested"),
    named: () => join(dir, "nested"),
    code: "EISDIR",
  },
  ...(existsSync("/dev/full")
    ? [{ kind: "a full device", roles: ["out-file"] as Role[], path: () => "/dev/full", code: "ENOSPC" }]
    : []),
];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ovnsim-files-"));
  writeFileSync(join(dir, "file"), "x\n");
  mkdirSync(join(dir, "empty"));
  // A directory whose entries look like manifests / bundle files but are directories.
  mkdirSync(join(dir, "nested"));
  mkdirSync(join(dir, "nested", "a.yaml"));
  mkdirSync(join(dir, "nested", "ovs-vsctl-show.txt"));
  mkdirSync(join(dir, "nested", "lflow-list.txt"));
  symlinkSync("loop", join(dir, "loop"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the CLI's file arguments", () => {
  it("every FILE / DIR in the commands' usage is covered here (and nothing stale)", async () => {
    const commands = (await cli(["help"])).out
      .split("\n")
      .map((l) => /^ {2}(\S+) {2,}/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined && c !== "help");
    expect(commands.length).toBeGreaterThanOrEqual(7);
    const found: string[] = [];
    for (const c of commands) {
      const usage = (await cli(["help", c])).out;
      // The synopsis lines (up to the first indented description) and the option lines.
      for (const m of usage.matchAll(/(--[a-z][a-z-]*)[ =](FILE|DIR)\b/g)) found.push(`${c} ${m[1]} ${m[2]}`);
      for (const m of usage.matchAll(/\[(FILES\|DIR|FILE|DIR)\]/g)) found.push(`${c} [${m[1]}]`);
    }
    const covered = SLOTS.filter((s) => !s.unnamed).map((s) => `${s.command} ${s.usage}`);
    expect([...new Set(found)].sort()).toEqual([...new Set(covered)].sort());
  });

  it("fuzz: commands × file options × unusable paths → exit 2, the path and its reason, no stack trace", async () => {
    const cases = SLOTS.flatMap((slot) =>
      BAD.filter((b) => b.roles.includes(slot.role)).map((bad) => ({ slot, bad })),
    );
    expect(cases.length).toBeGreaterThan(30);
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,11}$/);
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cases), name, fc.boolean(), async ({ slot, bad }, n, ext) => {
        const path = bad.path(ext && bad.kind === "missing" ? `${n}.pcap` : n);
        const r = await cli([slot.command, ...slot.args(path)]);
        seen.add(`${slot.command} ${slot.usage} / ${bad.kind}`);
        const where = `${slot.command} ${slot.usage} with ${bad.kind} (${path})`;
        expect(r.code, `${where}: ${r.err}`).toBe(2);
        expect(r.err, where).toContain(bad.named ? bad.named(n) : path);
        expect(r.err, where).toContain(`(${bad.code})`);
        expect(r.err, where).toMatch(new RegExp(`^ovnsim ${slot.command}: cannot (read|write) `, "m"));
        expect(r.err, where).not.toMatch(/\n\s+at |node:internal|Error:/);
      }),
      { numRuns: 80, seed: 19 },
    );
    // Then every combination once, so none is left to chance.
    for (const { slot, bad } of cases) {
      const path = bad.path("x");
      const r = await cli([slot.command, ...slot.args(path)]);
      expect([
        `${slot.command} ${slot.usage} / ${bad.kind}`,
        r.code,
        r.err.includes(`(${bad.code})`),
      ]).toEqual([`${slot.command} ${slot.usage} / ${bad.kind}`, 2, true]);
    }
    expect(seen.size).toBeGreaterThan(10);
  }, 240_000);

  it("what the commands write is what they say: `flow --pcap` and `trace --pcap`, pcapng or classic pcap", async () => {
    const ng = join(dir, "f.pcapng");
    const classic = join(dir, "f.pcap");
    expect((await cli(["flow", "--pcap", ng, "in_port=1,tcp,nw_dst=10.0.0.1,tp_dst=80"])).code).toBe(0);
    expect((await cli(["flow", "--pcap", classic, "in_port=1,tcp,nw_dst=10.0.0.1,tp_dst=80"])).code).toBe(0);
    const [s] = readPcapng(readFileSync(ng));
    expect(s!.interfaces.map((i) => i.name)).toEqual(["ovnsim flow"]);
    expect(s!.packets[0]!.comments[0]).toMatch(/^tcp,in_port=1,.*tp_dst=80/);
    expect(readPcap(readFileSync(classic)).records.length).toBe(1);
  });

  it("an output directory (for a future `--out DIR`): made if missing, else the path and its reason", () => {
    makeOutputDirectory(join(dir, "made", "deep"));
    expect(existsSync(join(dir, "made", "deep"))).toBe(true);
    for (const bad of BAD.filter((b) => b.roles.includes("out-dir"))) {
      const p = bad.path("x");
      expect(() => makeOutputDirectory(p), bad.kind).toThrowError(`cannot write ${p}: `);
      expect(() => makeOutputDirectory(p), bad.kind).toThrowError(`(${bad.code})`);
    }
  });

  it("the real process: `ovnsim trace --pcap /no/such/dir/x.pcap` exits 2 with one line, no stack trace", () => {
    const main = join(import.meta.dirname, "../src/main.ts");
    const p = spawnSync(
      process.execPath,
      ["--import", "tsx", "--conditions=@ovnsim/source", main, "trace", "--pcap", "/no/such/dir/x.pcap"],
      { encoding: "utf8", cwd: join(import.meta.dirname, "../../..") },
    );
    expect(p.status).toBe(2);
    const lines = p.stderr
      .split("\n")
      .filter((l) => l.length > 0 && !l.startsWith("ovnsim trace: scenario "));
    expect(lines).toEqual([
      "ovnsim trace: cannot write /no/such/dir/x.pcap: no such file or directory (ENOENT)",
    ]);
  });
});

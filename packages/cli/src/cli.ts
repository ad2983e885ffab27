/**
 * The `ovnsim` command line. Each subcommand is a small function from arguments to text and an
 * exit code, so tests can run the CLI in-process; `main.ts` only wires it to the process.
 * Exit codes follow ofproto/trace conventions: 0 done, 1 "not delivered" where a verdict is
 * asked for, 2 bad input (message on stderr).
 */
import { readFileSync } from "node:fs";
import { isSimError } from "@ovnsim/packet";
import { systemErrorMessage } from "./files.js";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: readonly string[], io: CliIo) => Promise<number> | number;
}

const SUBCOMMANDS: Subcommand[] = [];

/**
 * The built-in subcommands' modules, loaded only when their command runs: `ovnsim flow` need not
 * load the tracer, and a cold `ovnsim trace` loads nothing it does not use. The order is the help
 * order. A module not listed here (added to commands/index.ts) is still found: an unknown name
 * loads them all before giving up.
 */
const BUILTIN: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
  ["flow", () => import("./commands/flow.js")],
  ["northd", () => import("./commands/northd.js")],
  ["ovn-trace", () => import("./commands/ovn-trace.js")],
  ["trace", () => import("./commands/trace.js")],
  ["doctor", () => import("./commands/doctor.js")],
  ["metallb", () => import("./commands/metallb.js")],
  ["ofproto-trace", () => import("./commands/ofproto-trace.js")],
  ["ovn-controller", () => import("./commands/ovn-controller.js")],
  ["matrix", () => import("./commands/matrix.js")],
  ["diff", () => import("./commands/diff.js")],
  ["branches", () => import("./commands/branches.js")],
  ["reach", () => import("./commands/reach.js")],
];

/** Adds a subcommand (used by the modules under commands/). */
export function registerSubcommand(cmd: Subcommand): void {
  if (SUBCOMMANDS.some((c) => c.name === cmd.name)) return;
  SUBCOMMANDS.push(cmd);
  // Help lists the built-ins in their fixed order whichever was loaded first, then the others.
  const rank = (c: Subcommand) => {
    const i = BUILTIN.findIndex(([n]) => n === c.name);
    return i < 0 ? BUILTIN.length : i;
  };
  SUBCOMMANDS.sort((a, b) => rank(a) - rank(b));
}

/** This package's version (from its package.json, beside src/ and dist/ alike). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

export function helpText(): string {
  const lines = [
    "ovnsim: simulate the OVN / Open vSwitch data plane and explain a packet's path",
    "",
    "usage: ovnsim <command> [options]",
    "",
    "commands:",
  ];
  for (const c of SUBCOMMANDS) lines.push(`  ${c.name.padEnd(15)} ${c.summary}`);
  lines.push(`  ${"help".padEnd(15)} show this help, or \`ovnsim help COMMAND\``);
  return `${lines.join("\n")}\n`;
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version") {
    io.stdout(`ovnsim ${version()}\n`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    // `help COMMAND` loads that command only; the full help lists them all.
    await loadCommands(name === "help" ? rest[0] : undefined);
    const which = name === "help" ? SUBCOMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout(which ? `${which.usage}\n` : helpText());
    return 0;
  }
  await loadCommands(name);
  const cmd = SUBCOMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.stderr(`ovnsim: unknown command "${name}"\n${helpText()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (isSimError(e)) {
      io.stderr(`ovnsim ${name}: ${e.message}\n`);
      return 2;
    }
    const sys = systemErrorMessage(e);
    if (sys !== undefined) {
      io.stderr(`ovnsim ${name}: ${sys}\n`);
      return 2;
    }
    throw e;
  }
}

let loadedAll = false;
/** Loads the module of the named built-in command, or every command module (help, other names). */
async function loadCommands(name: string | undefined): Promise<void> {
  if (loadedAll) return;
  const builtin = BUILTIN.find(([n]) => n === name);
  if (builtin) {
    await builtin[1]();
    return;
  }
  loadedAll = true;
  await import("./commands/index.js");
}

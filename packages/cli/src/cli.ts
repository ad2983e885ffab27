/**
 * The `ovnsim` command line. Each subcommand is a small function from arguments to text and an
 * exit code, so tests can run the CLI in-process; `main.ts` only wires it to the process.
 * Exit codes follow ofproto/trace conventions: 0 done, 1 "not delivered" where a verdict is
 * asked for, 2 bad input (message on stderr).
 */
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

/** Adds a subcommand (used by the modules under commands/). */
export function registerSubcommand(cmd: Subcommand): void {
  SUBCOMMANDS.push(cmd);
}

export function helpText(): string {
  const lines = [
    "ovnsim: simulate the OVN / Open vSwitch data plane and explain a packet's path",
    "",
    "usage: ovnsim <command> [options]",
    "",
    "commands:",
  ];
  for (const c of SUBCOMMANDS) lines.push(`  ${c.name.padEnd(14)} ${c.summary}`);
  lines.push(`  ${"help".padEnd(14)} show this help, or \`ovnsim help COMMAND\``);
  return `${lines.join("\n")}\n`;
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const which = name === "help" ? SUBCOMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout(which ? `${which.usage}\n` : helpText());
    return 0;
  }
  if (name === "--version") {
    io.stdout("ovnsim 0.1.0\n");
    return 0;
  }
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

let loaded = false;
async function loadCommands(): Promise<void> {
  if (loaded) return;
  loaded = true;
  await import("./commands/index.js");
}

// Shared by the golden and live differential tests: parse recorded cases, run ovnsim's trace,
// normalise what legitimately differs between runs (recirc ids), and compare section by section.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSimError, parseFlow } from "@ovnsim/packet";
import { loadBundle, parseCtState, renderTrace, type Switch, traceFlow } from "../src/index.js";

export interface GoldenCase {
  readonly scenario: string;
  readonly args: readonly string[];
  readonly expected: string;
}

/** Splits a cases.txt (`### ARGS` + output) into cases. */
export function readCases(dir: string, scenario: string): GoldenCase[] {
  const text = readFileSync(join(dir, scenario, "cases.txt"), "utf8");
  const out: GoldenCase[] = [];
  for (const block of text.split(/^### /m).slice(1)) {
    const nl = block.indexOf("\n");
    const head = block.slice(0, nl);
    out.push({ scenario, args: head.split(" ").filter((s) => s !== ""), expected: block.slice(nl + 1) });
  }
  return out;
}

/** Runs ovnsim for `ofproto/trace` ARGS; errors give OVS's error shape. */
export function runOvnsim(sw: Switch, args: readonly string[]): string {
  const bridge = args[0]!;
  const flowText = args[1]!;
  const ctNext: number[] = [];
  for (let i = 2; i < args.length; i++)
    if (args[i] === "--ct-next") ctNext.push(parseCtState(args[++i] ?? ""));
  try {
    const flow = parseFlow(flowText, { ports: new Map([["LOCAL", 0xfffe]]) });
    return renderTrace(traceFlow(sw, bridge, flow, { ctNext }));
  } catch (e) {
    if (isSimError(e)) return `ERROR: ${e.message}\n`;
    throw e;
  }
}

/** Renumbers recirc ids (0x..) in order of first appearance, as the oracle README advises. */
export function normaliseRecirc(text: string): string {
  const ids = new Map<string, number>();
  const id = (h: string): string => {
    if (!ids.has(h)) ids.set(h, ids.size + 1);
    return `0x${ids.get(h)!.toString(16)}`;
  };
  return text
    .replace(
      /recirc_id=(\d+),rule_cookie/g,
      (_m, d: string) => `recirc_id=0x${Number(d).toString(16)},rule_cookie`,
    )
    .replace(/recirc\((0x[0-9a-f]+)\)/g, (_m, h: string) => `recirc(${id(h)})`)
    .replace(/recirc_id=(0x[0-9a-f]+)/g, (_m, h: string) => `recirc_id=${id(h)}`);
}

/** The sections we score separately. */
export function sections(text: string): { dp: string[]; final: string[]; megaflow: string[] } {
  const grab = (p: string): string[] =>
    text
      .split("\n")
      .filter((l) => l.startsWith(p))
      .map((l) => l.slice(p.length));
  return { dp: grab("Datapath actions: "), final: grab("Final flow: "), megaflow: grab("Megaflow: ") };
}

export const isOvsError = (text: string): boolean =>
  !text.includes("Datapath actions:") && /error|Bad openflow|syntax|unknown|prerequisites/i.test(text);

export function loadScenario(dir: string, scenario: string): Switch {
  return loadBundle(join(dir, scenario, "bundle"));
}

/**
 * Datapath actions with runs of plain output ports sorted. OVS floods (NORMAL, FLOOD, ALL) in
 * the iteration order of its internal hash maps (keyed by heap pointers for NORMAL's bundles),
 * which no capture reveals; ovnsim floods in ofport order. This is the one normalisation applied
 * to the "flood order ignored" figures.
 */
export function normaliseFloodOrder(text: string): string {
  return text.replace(/^(Datapath actions: )(.*)$/gm, (_m, p: string, acts: string) => {
    const toks: string[] = [];
    let depth = 0;
    let cur = "";
    for (const ch of acts) {
      if (ch === "(") depth++;
      if (ch === ")") depth--;
      if (ch === "," && depth === 0) {
        toks.push(cur);
        cur = "";
      } else cur += ch;
    }
    toks.push(cur);
    const out: string[] = [];
    let run: string[] = [];
    const flush = (): void => {
      out.push(...run.sort((a, b) => Number(a) - Number(b)));
      run = [];
    };
    for (const t of toks) {
      if (/^\d+$/.test(t)) run.push(t);
      else {
        flush();
        out.push(t);
      }
    }
    flush();
    return p + out.join(",");
  });
}

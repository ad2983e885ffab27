/**
 * ovn-trace's command line (upstream `utilities/ovn-trace.c` parse_options): the options
 * that shape a trace (`--ct`, `--lb-dst`, `--detailed|--summary|--minimal|--all`), plus
 * ovnsim's `--chassis` and `--json`, then `[DATAPATH] MICROFLOW`. Both `--ct=new` and
 * `--ct new` spellings are accepted.
 */
import { SimError } from "@ovnsim/packet";
import type { TraceMode } from "./render.js";

export interface OvnTraceArgs {
  readonly modes: readonly TraceMode[];
  readonly ct: readonly string[];
  readonly lbDst?: string;
  /** `--select-id N`: the member `select(…)` takes. */
  readonly selectId?: number;
  readonly chassis?: string;
  readonly json: boolean;
  readonly datapath?: string;
  readonly microflow: string;
  /** Options this parser does not know, for the caller (e.g. --sb DIR): name → value. */
  readonly extra: ReadonlyMap<string, string>;
}

/** Parses ovn-trace arguments; `valued` names extra options that take a value. */
export function parseOvnTraceArgs(argv: readonly string[], valued: readonly string[] = []): OvnTraceArgs {
  const modes: TraceMode[] = [];
  const ct: string[] = [];
  const extra = new Map<string, string>();
  let lbDst: string | undefined;
  let selectId: number | undefined;
  let chassis: string | undefined;
  let json = false;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--") || a === "--") {
      if (a === "--") pos.push(...argv.slice(i + 1));
      else pos.push(a);
      if (a === "--") break;
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const takeValue = (): string => {
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[i + 1];
      if (v === undefined) throw new SimError("BAD_VALUE", `option --${name} requires an argument`);
      i++;
      return v;
    };
    switch (name) {
      case "detailed":
      case "summary":
      case "minimal":
        modes.push(name);
        break;
      case "all":
        modes.push("detailed", "summary", "minimal");
        break;
      case "ct":
        ct.push(takeValue());
        break;
      case "lb-dst":
        lbDst = takeValue();
        break;
      case "select-id": {
        const v = takeValue();
        if (!/^\d{1,5}$/.test(v) || Number(v) > 65535)
          throw new SimError("BAD_VALUE", `--select-id: "${v}" is not an id (0-65535)`);
        selectId = Number(v);
        break;
      }
      case "chassis":
        chassis = takeValue();
        break;
      case "json":
        json = true;
        break;
      case "friendly-names":
      case "no-friendly-names":
        break;
      default:
        if (valued.includes(name)) extra.set(name, takeValue());
        else throw new SimError("BAD_VALUE", `unknown option --${name}`);
    }
  }
  if (pos.length < 1 || pos.length > 2) {
    throw new SimError("BAD_VALUE", "exactly one or two non-option arguments are required");
  }
  const order: TraceMode[] = ["detailed", "summary", "minimal"];
  return {
    modes: order.filter((m) => modes.includes(m)),
    ct,
    ...(lbDst !== undefined ? { lbDst } : {}),
    ...(selectId !== undefined ? { selectId } : {}),
    ...(chassis !== undefined ? { chassis } : {}),
    json,
    ...(pos.length === 2 ? { datapath: pos[0]! } : {}),
    microflow: pos[pos.length - 1]!,
    extra,
  };
}

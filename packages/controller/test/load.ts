import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A capture directory as file name → text. */
export function loadDir(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

export const GOLDEN = join(import.meta.dirname, "golden");

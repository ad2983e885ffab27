import { type ManifestText, readManifestPaths, scenarioFromTexts, seedScenarioDir } from "@ovnsim/kube";
import { type TraceDocument, type TraceInput, traceScenario } from "../src/index.js";

export const seedTexts = (): ManifestText[] => readManifestPaths([seedScenarioDir()]);

/** The seed manifests with replacements applied (each must hit some file). */
export function edited(...edits: [string | RegExp, string][]): ManifestText[] {
  let texts = seedTexts();
  for (const [from, to] of edits) {
    let hit = false;
    texts = texts.map((t) => {
      const n = t.text.replace(from, to);
      if (n !== t.text) hit = true;
      return { ...t, text: n };
    });
    if (!hit) throw new Error(`no manifest contains ${from}`);
  }
  return texts;
}

export function traceTexts(texts: ManifestText[], input: TraceInput = {}): TraceDocument {
  return traceScenario(scenarioFromTexts(texts), input);
}

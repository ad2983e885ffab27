// The Mermaid output goes through Mermaid's own parser (mermaid.parse, with jsdom standing in
// for the browser DOM that Mermaid's sanitizer wants).
import { loadScenario } from "@ovnsim/kube";
import { JSDOM } from "jsdom";
import { beforeAll, describe, expect, it } from "vitest";
import { renderFlowchart, renderSequence, traceScenario } from "../src/index.js";
import { edited, traceTexts } from "./helpers.js";

type Mermaid = { parse(text: string): Promise<{ diagramType: string }> };
let mermaid: Mermaid;

beforeAll(async () => {
  const dom = new JSDOM("<!doctype html><html><body></body></html>");
  const g = globalThis as Record<string, unknown>;
  g.window = dom.window;
  g.document = dom.window.document;
  mermaid = ((await import("mermaid")) as unknown as { default: Mermaid }).default;
});

describe("Mermaid output parses with mermaid", () => {
  const docs = [
    traceScenario(loadScenario()),
    traceTexts(edited(["--ls-ct-skip-dst-lport-ips=false", "--ls-ct-skip-dst-lport-ips=true"])),
  ];
  for (const [i, doc] of docs.entries()) {
    it(`flowchart ${i}`, async () => {
      expect((await mermaid.parse(renderFlowchart(doc))).diagramType).toBe("flowchart-v2");
    });
    it(`sequence diagram ${i}`, async () => {
      expect((await mermaid.parse(renderSequence(doc))).diagramType).toBe("sequence");
    });
  }
  it("a broken diagram is rejected (the check is real)", async () => {
    await expect(mermaid.parse('flowchart LR\n  a["x" --> b\n')).rejects.toThrow();
  });
});

// Example: the seed trace as an HTML page (`ovnsim trace --html trace.html`), opened in a real
// headless browser (Debian's chromium): the DOM it builds, its console, and a screenshot whose
// pixels must show the request and the reply drawn on the topology. trace.png here is that
// screenshot; after an intended change to the page, rewrite it with
//   OVNSIM_UPDATE_EXAMPLES=1 npx vitest run examples/metallb-underlay/html.test.ts
// Skips without chromium, fails without it under OVNSIM_REQUIRE_ORACLE=1 (as CI sets).
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import type { TraceDocument } from "@ovnsim/tracer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chromiumGate,
  countColour,
  dumpDom,
  parseDom,
  readPng,
  screenshot,
} from "../../packages/tracer/test/chromium.js";

const here = import.meta.dirname;
const update = process.env.OVNSIM_UPDATE_EXAMPLES === "1";
const gate = chromiumGate();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe.skipIf(gate.skip)("the seed's HTML report in headless chromium", () => {
  let dir = "";
  let page = "";
  let doc: TraceDocument;
  beforeAll(async () => {
    gate.assert();
    dir = mkdtempSync(join(tmpdir(), "ovnsim-html-"));
    page = join(dir, "trace.html");
    const r = await cli(["trace", "--html", page, "--format", "json"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`wrote the HTML report to ${page}`);
    doc = JSON.parse(r.out) as TraceDocument;
    // `--format html` prints the same page.
    expect((await cli(["trace", "--format", "html"])).out).toBe(readFileSync(page, "utf8"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the DOM chromium builds: verdict, one details per hop, the native blocks, the path, no console message", () => {
    const { dom, console } = dumpDom(page);
    const d = parseDom(dom);
    expect(d.querySelector("#verdict h2")?.textContent).toBe(
      `✓ Delivered to ${doc.verdict.pod} on ${doc.verdict.node}`,
    );
    expect(d.querySelectorAll("#forward details.hop").length).toBe(doc.forward.children.length);
    expect(d.querySelectorAll("#reply details.hop").length).toBe(doc.reply!.children.length);
    expect(d.querySelectorAll("details.native pre").length).toBeGreaterThanOrEqual(8);
    expect(d.querySelectorAll("svg path.hop-path.fwd").length).toBe(10);
    expect(d.querySelectorAll("svg path.hop-path.rev").length).toBe(10);
    expect(d.querySelectorAll("svg g.place").length).toBeGreaterThanOrEqual(15);
    expect(d.querySelector("#findings code")?.textContent).toBe("POOL_NOT_EXCLUDED");
    // No script ran (there is none), nothing was refused by the page's Content-Security-Policy.
    expect(d.querySelectorAll("script").length).toBe(0);
    expect(console).toEqual([]);
  }, 180_000);

  it("the screenshot shows the topology with the request (blue) and the reply (orange) on it", () => {
    const shot = join(dir, "trace.png");
    screenshot(page, shot, 1400, 1800);
    const png = readPng(shot);
    expect([png.width, png.height]).toEqual([1400, 1800]);
    expect(countColour(png, "#1f6feb", 20), "request path").toBeGreaterThan(1500);
    expect(countColour(png, "#d9480f", 20), "reply path").toBeGreaterThan(800);
    expect(countColour(png, "#1a7f37", 20), "delivered marks and verdict").toBeGreaterThan(200);
    expect(countColour(png, "#f4ecfb", 4), "the logical switch band").toBeGreaterThan(20_000);
    if (update) copyFileSync(shot, join(here, "trace.png"));
  }, 180_000);
});

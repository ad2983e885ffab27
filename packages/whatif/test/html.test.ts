// `ovnsim matrix --format html` checked in a real headless browser (Debian's chromium): the page
// the browser builds has one cell per pair with its verdict, and one entry per denied pair; its
// screenshot must show the green (delivered) and red (denied) cells. ../matrix.png is that
// screenshot of the seed's 32 pairs; after an intended change to the page, rewrite it with
//   OVNSIM_UPDATE_EXAMPLES=1 npx vitest run packages/whatif/test/html.test.ts
// Skips without chromium, fails without it under OVNSIM_REQUIRE_ORACLE=1 (as CI sets).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chromiumGate,
  countColour,
  dumpDom,
  parseDom,
  readPng,
  screenshot,
} from "../../tracer/test/chromium.js";

const update = process.env.OVNSIM_UPDATE_EXAMPLES === "1";
const gate = chromiumGate();

describe.skipIf(gate.skip)("matrix as HTML in headless chromium", () => {
  let dir = "";
  let file = "";
  beforeAll(async () => {
    gate.assert();
    let html = "";
    const code = await run(["matrix", "--format", "html"], {
      stdout: (s) => (html += s),
      stderr: () => {},
    });
    expect(code).toBe(1);
    dir = mkdtempSync(join(tmpdir(), "ovnsim-matrix-html-"));
    file = join(dir, "matrix.html");
    writeFileSync(file, html);
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("renders every pair and every denied pair, with no console message", () => {
    const { dom, console } = dumpDom(file);
    const d = parseDom(dom);
    // 7 sources × 5 destinations (3 pods, the VIP, the ClusterIP), less each pod to itself.
    // Delivered: the client to each pod (the pod answers the router's ARP through OVN) and to
    // the VIP; each pod to the two others, to the VIP and to the ClusterIP (prefer-local sends
    // both to the pod itself: load-balancer hairpin). Denied: the client to the ClusterIP (the
    // router has no route to the Service CIDR) and every node to everything (the nodes have no
    // route to the underlay subnet, and kube-proxy's DNAT only changes the destination).
    expect(d.querySelectorAll("td.delivered").length).toBe(16);
    expect(d.querySelectorAll("td.denied").length).toBe(16);
    expect(d.querySelectorAll("td.none").length).toBe(3);
    expect(d.querySelectorAll("li[id^=d]").length).toBe(16);
    expect(dom).toContain("32 pairs: 16 delivered, 16 denied");
    expect(d.querySelectorAll("script").length).toBe(0);
    expect(console).toEqual([]);
  }, 180_000);

  it("the screenshot shows the green and red cells of the 32 pairs", () => {
    const shot = join(dir, "matrix.png");
    screenshot(file, shot, 1200, 900);
    const png = readPng(shot);
    expect([png.width, png.height]).toEqual([1200, 900]);
    expect(countColour(png, "#d8f5d0", 4), "delivered cells").toBeGreaterThan(16 * 300);
    expect(countColour(png, "#fbd9d3", 4), "denied cells").toBeGreaterThan(16 * 300);
    if (update) copyFileSync(shot, new URL("../matrix.png", import.meta.url));
  }, 180_000);
});

// `ovnsim matrix --format html` checked in a real headless browser (Debian's chromium): the page
// the browser builds has one cell per pair with its verdict, and one entry per denied pair.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env.OVNSIM_REQUIRE_ORACLE === "1";

describe("matrix as HTML in headless chromium", () => {
  it.skipIf(!existsSync(CHROMIUM) && !required)(
    "renders every pair and every denied pair",
    async () => {
      let html = "";
      const code = await run(["matrix", "--format", "html"], {
        stdout: (s) => (html += s),
        stderr: () => {},
      });
      expect(code).toBe(1);
      const dir = mkdtempSync(join(tmpdir(), "ovnsim-html-"));
      const file = join(dir, "matrix.html");
      writeFileSync(file, html);
      const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,900"];
      const dom = execFileSync(CHROMIUM, [...flags, "--dump-dom", `file://${file}`], {
        encoding: "utf8",
        timeout: 60_000,
        stdio: ["ignore", "pipe", "ignore"],
      });
      const count = (re: RegExp) => (dom.match(re) ?? []).length;
      // 7 sources × 5 destinations (3 pods, the VIP, the ClusterIP), less each pod to itself.
      // Delivered: the client to each pod (the pod answers the router's ARP through OVN) and to
      // the VIP; each pod to the two others, to the VIP and to the ClusterIP (prefer-local sends
      // both to the pod itself: load-balancer hairpin). Denied: the client to the ClusterIP (the
      // router has no route to the Service CIDR) and every node to everything (the nodes have no
      // route to the underlay subnet, and kube-proxy's DNAT only changes the destination).
      expect(count(/<td class="delivered"/g)).toBe(16);
      expect(count(/<td class="denied"/g)).toBe(16);
      expect(count(/<td class="none"/g)).toBe(3);
      expect(count(/<li id="d\d+">/g)).toBe(16);
      expect(dom).toContain("32 pairs: 16 delivered, 16 denied");
      execFileSync(CHROMIUM, [...flags, `--screenshot=${join(dir, "m.png")}`, `file://${file}`], {
        timeout: 60_000,
        stdio: "ignore",
      });
      expect(readFileSync(join(dir, "m.png")).readUInt32BE(0)).toBe(0x89504e47);
    },
    180_000,
  );
});

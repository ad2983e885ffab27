// The HTML report read back as a DOM (jsdom; the real browser is html-browser.test.ts): what it
// shows comes from the trace document (hops, places, verdict, findings), it is byte-for-byte
// deterministic, escapes every text, and asks for nothing outside itself.
import { JSDOM } from "jsdom";
import { describe, expect, it } from "vitest";
import { type TraceDocument, type TraceStep, renderHtml, traceScenario } from "../src/index.js";
import { loadScenario } from "@ovnsim/kube";
import fc from "fast-check";
import { edited, traceTexts } from "./helpers.js";

const seed = () => traceScenario(loadScenario());
const domOf = (html: string) => new JSDOM(html).window.document;
type Doc = ReturnType<typeof domOf>;
const places = (d: Doc) => [...d.querySelectorAll("svg g.place")].map((g) => g.getAttribute("data-place"));

describe("renderHtml", () => {
  it("the seed: verdict, a details per hop, the topology of the trace, both paths drawn", () => {
    const doc = seed();
    const d = domOf(renderHtml(doc));
    expect(d.querySelector("#verdict h2")?.textContent).toBe(
      "✓ Delivered to default/deploy-169402624-2 on node3",
    );
    expect(d.querySelectorAll("#forward details.hop").length).toBe(doc.forward.children.length);
    expect(d.querySelectorAll("#reply details.hop").length).toBe(doc.reply!.children.length);
    // Every detail block of the trace is in the page, inside a details element.
    const natives = [...d.querySelectorAll("details.native pre")].map((p) => p.textContent);
    const details = (s: TraceStep): string[] => [
      ...(s.detail ? [s.detail.replace(/\n+$/, "")] : []),
      ...s.children.flatMap(details),
    ];
    expect(natives).toEqual([...details(doc.forward), ...details(doc.reply!)]);
    expect(
      natives.some(
        (t) => t?.includes("cookie=0x1000") || t?.includes("cookie 0x1000") || t?.includes("0x1000"),
      ),
    ).toBe(true);
    // Figure 1's parts, as the trace met them.
    const p = places(d);
    for (const k of [
      "dev:client",
      "dev:gw",
      "dev:tor",
      "nic:node3",
      "br:node3:br-provider",
      "patch:node3",
      "br:node3:br-int",
      "ls:node3:underlay-subnet",
      "lb:node3:underlay-subnet",
      "pod:node3:default/deploy-169402624-2",
    ])
      expect(p).toContain(k);
    // node1 and node2 saw the ARP flood on br-provider, but ran no logical pipeline.
    expect(p).toContain("br:node1:br-provider");
    expect(p).not.toContain("ls:node1:underlay-subnet");
    expect([...d.querySelectorAll("svg .node-name")].map((t) => t.textContent)).toEqual([
      "node1",
      "node2",
      "node3",
    ]);
    // The request: client → tor → gw → tor → node3's NIC … → the Pod; the reply back.
    const path = (dir: string) => {
      const segs = [...d.querySelectorAll(`svg path.hop-path.${dir} title`)].map((t) => t.textContent ?? "");
      const keys = segs.map((x) => /: (\S+) → /.exec(x)![1]!);
      return [...keys, /→ (\S+)$/.exec(segs.at(-1)!)![1]!];
    };
    const pod = "pod:node3:default/deploy-169402624-2";
    expect(path("fwd")).toEqual([
      "dev:client",
      "dev:tor",
      "dev:gw",
      "dev:tor",
      "nic:node3",
      "br:node3:br-provider",
      "patch:node3",
      "ls:node3:underlay-subnet",
      "lb:node3:underlay-subnet",
      "br:node3:br-int",
      pod,
    ]);
    expect(path("rev")).toEqual([
      pod,
      "br:node3:br-int",
      "ls:node3:underlay-subnet",
      "lb:node3:underlay-subnet",
      "br:node3:br-int",
      "br:node3:br-provider",
      "nic:node3",
      "dev:tor",
      "dev:gw",
      "dev:tor",
      "dev:client",
    ]);
    expect(d.querySelectorAll("svg g.end.deliver").length).toBe(2);
    expect(d.querySelector("#findings code")?.textContent).toBe("POOL_NOT_EXCLUDED");
  });

  it("the same document gives the same bytes; another trace another page", () => {
    const a = renderHtml(seed());
    expect(renderHtml(seed())).toBe(a);
    expect(renderHtml(traceScenario(loadScenario(), { port: 81 }))).not.toBe(a);
  });

  it("self-contained: no script, no external URL, no resource to fetch", () => {
    const html = renderHtml(seed());
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    // The one URL is the SVG namespace name, which is never fetched.
    expect(html.match(/https?:\/\/[^\s"')]+/g)).toEqual(["http://www.w3.org/2000/svg"]);
    expect(html).toContain("default-src 'none'");
  });

  it("a drop: not delivered, a cross where it happened, the hop holding it open", () => {
    const doc = traceTexts(edited(["enableExternalLBAddress: true", "enableExternalLBAddress: false"]));
    expect(doc.verdict.delivered).toBe(false);
    const d = domOf(renderHtml(doc));
    expect(d.querySelector("#verdict")?.className).toBe("verdict bad");
    expect(d.querySelector("#verdict h2")?.textContent).toBe("✗ Not delivered");
    const open = [...d.querySelectorAll("#forward details.hop[open]")];
    expect(open.length).toBe(1);
    expect(open[0]!.textContent).toContain("✗");
    expect(d.querySelectorAll("svg g.end.drop").length).toBe(1);
  });

  it("the picture follows the document: renamed devices are drawn under their new names", () => {
    const doc = seed();
    const rename = (s: TraceStep): TraceStep => ({
      ...s,
      ...(s.device !== undefined ? { device: s.device.replace(/^node/, "worker-") } : {}),
      children: s.children.map(rename),
    });
    const moved: TraceDocument = { ...doc, forward: rename(doc.forward), reply: rename(doc.reply!) };
    const d = domOf(renderHtml(moved));
    expect([...d.querySelectorAll("svg .node-name")].map((t) => t.textContent)).toEqual([
      "worker-1",
      "worker-2",
      "worker-3",
    ]);
    expect(places(d)).toContain("br:worker-3:br-int");
  });

  it("fuzz: any text in the document is escaped (the page's element structure does not change)", () => {
    const doc = seed();
    const base = domOf(renderHtml(doc));
    const shape = (d: Doc) => [...d.querySelectorAll("*")].map((e) => e.tagName).join(",");
    const baseShape = shape(base);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.constantFrom("<", ">", "&", '"', "'", "</details><script>"),
        (s, c) => {
          const t = `${s}${c}${s}`;
          const mark = (st: TraceStep): TraceStep => ({
            ...st,
            summary: `${st.summary}${t}`,
            where: `${st.where}${t}`,
            ...(st.detail !== undefined ? { detail: `${t}${st.detail}` } : {}),
            children: st.children.map(mark),
          });
          const evil: TraceDocument = {
            ...doc,
            scenario: t,
            request: { ...doc.request, from: t },
            forward: mark(doc.forward),
            reply: mark(doc.reply!),
            findings: doc.findings.map((f) => ({ ...f, message: t, fix: t, code: t })),
          };
          const html = renderHtml(evil);
          expect(html).not.toContain("<script");
          const d = domOf(html);
          expect(d.querySelector("title")?.textContent).toContain(t.replace(/[\r\n]/g, (x) => x));
          expect(d.querySelector("#findings p")?.textContent).toBe(t);
          // Same elements apart from the SVG (its places follow the device / where names).
          const noSvg = (x: Doc) => {
            x.querySelector("svg")?.remove();
            return shape(x);
          };
          expect(noSvg(d)).toBe(noSvg(domOf(renderHtml(doc))));
        },
      ),
      { numRuns: 12 },
    );
    expect(baseShape.length).toBeGreaterThan(0);
  });
});

// The in-cluster HTML report (`ovnsim trace … --html FILE` on a cluster path) in a real headless
// chromium, for the examples' html.test.ts: the page written by the CLI, what the browser drew
// (the SVG's places, the two paths, the end marks), a real click that opens a hop, and the
// screenshots (the topology, then the opened hop) kept in the example folder.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import type { TraceDocument } from "../src/index.js";
import { CdpPage } from "./chromium-cdp.js";
import { type Png, readPng } from "./chromium.js";

export const update = process.env.OVNSIM_UPDATE_EXAMPLES === "1";

/** What the browser shows of the page. */
export interface Drawn {
  readonly places: string[];
  readonly onPath: string[];
  readonly fwd: string[];
  readonly rev: string[];
  readonly ends: Array<{ cls: string; place: string }>;
  readonly dropLabel: string | null;
  readonly npTags: string[];
  readonly verdict: string;
  /** The SVG's laid-out size in CSS pixels. */
  readonly svg: { width: number; height: number };
  readonly hops: { forward: number; reply: number };
}

const DRAWN = `(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  const keys = (dir) => {
    const t = q('svg path.hop-path.' + dir + ' title').map((x) => x.textContent);
    if (t.length === 0) return [];
    return [...t.map((x) => /: (\\S+) → /.exec(x)[1]), /→ (\\S+)$/.exec(t[t.length - 1])[1]];
  };
  const svg = document.querySelector('#topology-svg').getBoundingClientRect();
  return {
    places: q('svg g.place').map((g) => g.getAttribute('data-place')),
    onPath: q('svg g.place.on-path').map((g) => g.getAttribute('data-place')),
    fwd: keys('fwd'),
    rev: keys('rev'),
    ends: q('svg g.end').map((g) => ({ cls: g.getAttribute('class'), place: g.getAttribute('data-place') })),
    dropLabel: document.querySelector('svg g.drop-label text')?.textContent ?? null,
    npTags: q('svg g.np-tag').map((g) => g.getAttribute('data-box') + ' ' + g.querySelector('text').textContent),
    verdict: document.querySelector('#verdict h2').textContent,
    svg: { width: Math.round(svg.width), height: Math.round(svg.height) },
    hops: { forward: q('#forward details.hop').length, reply: q('#reply details.hop').length },
  };
})()`;

/** One hop before and after a person clicks its summary. */
export interface Opened {
  readonly where: string;
  /** Whether the browser renders the hop's body (a closed details' content is not), its height and text. */
  readonly before: { open: boolean; visible: boolean; bodyHeight: number; text: string };
  readonly after: { open: boolean; visible: boolean; bodyHeight: number; text: string };
}

export interface Report {
  readonly doc: TraceDocument;
  readonly drawn: Drawn;
  readonly messages: readonly string[];
  readonly opened: Opened;
  /** The viewport at the top of the page (verdict and topology), and with the opened hop. */
  readonly topology: Png;
  readonly hop: Png;
}

/**
 * Writes the report with the CLI, opens it in chromium, reads the drawing, clicks the summary of
 * the hop whose `.where` is `hopWhere`, and takes the two screenshots; with OVNSIM_UPDATE_EXAMPLES=1
 * they are copied to `exampleDir`/trace.png and trace-hop.png.
 */
export async function clusterReport(
  exampleDir: string,
  from: string,
  to: string,
  hopWhere: string,
): Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), "ovnsim-cluster-html-"));
  try {
    const page = join(dir, "trace.html");
    let out = "";
    let err = "";
    const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s) };
    await run(["trace", exampleDir, "--from", from, "--to", to, "--html", page, "--format", "json"], io);
    if (!err.includes(`wrote the HTML report to ${page}`)) throw new Error(`ovnsim trace: ${err}`);
    const doc = JSON.parse(out) as TraceDocument;
    // `--format html` prints the same page.
    let html = "";
    await run(["trace", exampleDir, "--from", from, "--to", to, "--format", "html"], {
      stdout: (s) => (html += s),
      stderr: () => {},
    });
    if (html !== readFileSync(page, "utf8")) throw new Error("--format html and --html FILE differ");
    const p = await CdpPage.open(page, 1400, 1500);
    try {
      const drawn = await p.evaluate<Drawn>(DRAWN);
      const topShot = join(dir, "trace.png");
      writeFileSync(topShot, await p.screenshot());
      const find = `[...document.querySelectorAll('details.hop')].find((d) => d.querySelector('.where').textContent === ${JSON.stringify(hopWhere)})`;
      const state = `(() => { const d = ${find}; const b = d.querySelector('.body'); const visible = b.checkVisibility(); return { open: d.open, visible, bodyHeight: visible ? Math.round(b.getBoundingClientRect().height) : 0, text: visible ? b.innerText : '' }; })()`;
      const before = await p.evaluate<Opened["before"]>(state);
      const at = await p.evaluate<{ x: number; y: number }>(
        `(() => { const s = ${find}.querySelector('summary'); s.scrollIntoView({ block: 'start' }); window.scrollBy(0, -8); const r = s.getBoundingClientRect(); return { x: r.x + 30, y: r.y + r.height / 2 }; })()`,
      );
      await p.click(at.x, at.y);
      const after = await p.evaluate<Opened["after"]>(state);
      const hopShot = join(dir, "trace-hop.png");
      writeFileSync(hopShot, await p.screenshot());
      if (update) {
        copyFileSync(topShot, join(exampleDir, "trace.png"));
        copyFileSync(hopShot, join(exampleDir, "trace-hop.png"));
      }
      return {
        doc,
        drawn,
        messages: [...p.messages],
        opened: { where: hopWhere, before, after },
        topology: readPng(topShot),
        hop: readPng(hopShot),
      };
    } finally {
      await p.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

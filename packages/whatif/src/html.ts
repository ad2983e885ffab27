/**
 * The matrix as one self-contained HTML page (no script, no external resource): sources down,
 * destinations across, each cell the verdict with its detail on hover, then every denied pair
 * with its drop point and the object behind it — a page to look at rather than read.
 */
import type { MatrixDocument, MatrixRow } from "./matrix.js";

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function cellTitle(r: MatrixRow): string {
  return r.delivered
    ? `delivered to ${r.pod ?? "?"} on ${r.node ?? "?"}${r.backend ? ` (DNAT ${r.backend})` : ""}`
    : `dropped at ${r.droppedAt?.layer ?? "?"} ${r.droppedAt?.where ?? "?"}: ${r.droppedAt?.reason ?? "?"}\nobject: ${r.object ?? "?"}`;
}

export function renderMatrixHtml(m: MatrixDocument): string {
  const byPair = new Map(m.rows.map((r) => [`${r.from}\u0000${r.to}`, r]));
  const head = m.destinations.map((d) => `<th scope="col">${esc(d)}</th>`).join("");
  const body = m.sources
    .map((s) => {
      const cells = m.destinations
        .map((d) => {
          const r = byPair.get(`${s}\u0000${d}`);
          if (!r) return `<td class="none" title="not a pair">·</td>`;
          const idx = m.rows.indexOf(r);
          return r.delivered
            ? `<td class="delivered" title="${esc(cellTitle(r))}">✓</td>`
            : `<td class="denied" title="${esc(cellTitle(r))}"><a href="#d${idx}">✗</a></td>`;
        })
        .join("");
      return `<tr><th scope="row">${esc(s)}</th>${cells}</tr>`;
    })
    .join("\n");
  const denied = m.rows
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => !r.delivered)
    .map(
      ({ r, i }) =>
        `<li id="d${i}"><b>${esc(r.from)} → ${esc(r.to)}</b><br>dropped at ${esc(r.droppedAt?.layer ?? "?")} <code>${esc(r.droppedAt?.where ?? "?")}</code>: ${esc(r.droppedAt?.reason ?? "?")}<br>object: <code>${esc(r.object ?? "?")}</code></li>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ovnsim matrix: ${esc(m.scenario)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:center}
th[scope=row]{text-align:left;font-weight:normal;font-family:monospace}
th[scope=col]{font-family:monospace;font-weight:normal;writing-mode:vertical-rl;transform:rotate(180deg)}
td.delivered{background:#d8f5d0;color:#1a6b1a}
td.denied{background:#fbd9d3}
td.denied a{color:#a3261b;text-decoration:none}
td.none{color:#aaa}
li{margin:.5em 0}
code{background:#f3f3f3;padding:0 .2em}
</style></head>
<body>
<h1>ovnsim matrix: ${esc(m.scenario)}</h1>
<p>Kube-OVN ${esc(m.release)} · ${m.sources.length} sources × ${m.destinations.length} destinations · <span id="summary">${m.rows.length} pairs: ${m.delivered} delivered, ${m.denied} denied</span></p>
<table>
<thead><tr><th></th>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
<h2>Denied pairs</h2>
<ol id="denied">
${denied}
</ol>
</body></html>
`;
}

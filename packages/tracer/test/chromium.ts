// Debian's chromium as a test oracle for the HTML report: a gate like tshark's (skip when it is
// missing, fail under OVNSIM_REQUIRE_ORACLE=1, as CI sets), a headless run that returns the DOM
// after load with the console messages, a screenshot, and a PNG reader to look at its pixels.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { type ToolGate, toolGate } from "@ovnsim/oracle";
import { JSDOM } from "jsdom";

/** A serialized DOM (what `--dump-dom` prints) as a Document to query. */
export const parseDom = (html: string) => new JSDOM(html).window.document;

export const chromiumGate = (): ToolGate => toolGate("chromium");

const BASE = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"];

/** `chromium --dump-dom` of a file: the serialized DOM after load, and the page's console lines. */
export function dumpDom(file: string): { dom: string; console: string[]; stderr: string } {
  const r = spawnSync(
    "chromium",
    [...BASE, "--enable-logging=stderr", "--v=0", "--dump-dom", `file://${file}`],
    { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`chromium --dump-dom exited ${r.status}: ${r.stderr}`);
  const console = r.stderr.split("\n").filter((l) => /CONSOLE|Refused to|Failed to load|Uncaught/.test(l));
  return { dom: r.stdout, console, stderr: r.stderr };
}

/** `chromium --screenshot=OUT --window-size=W,H` of a file. */
export function screenshot(file: string, out: string, width: number, height: number): void {
  const r = spawnSync(
    "chromium",
    [...BASE, `--screenshot=${out}`, `--window-size=${width},${height}`, `file://${file}`],
    { encoding: "utf8", timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`chromium --screenshot exited ${r.status}: ${r.stderr}`);
}

export interface Png {
  readonly width: number;
  readonly height: number;
  /** RGBA, row by row. */
  readonly rgba: Uint8Array;
}

/** Reads an 8-bit, non-interlaced RGB or RGBA PNG (what chromium's screenshots are). */
export function readPng(path: string): Png {
  const b = readFileSync(path);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error(`${path}: not a PNG`);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString("latin1", off + 4, off + 8);
    const data = b.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, color, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (color !== 2 && color !== 6))
        throw new Error(`${path}: PNG depth ${depth} colour ${color} interlace ${interlace} not read here`);
      channels = color === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const up = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      let v = row[i]!;
      if (f === 1) v += a;
      else if (f === 2) v += up;
      else if (f === 3) v += (a + up) >> 1;
      else if (f === 4) {
        const p = a + up - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      rgba[o] = cur[x * channels]!;
      rgba[o + 1] = cur[x * channels + 1]!;
      rgba[o + 2] = cur[x * channels + 2]!;
      rgba[o + 3] = channels === 4 ? cur[x * channels + 3]! : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba };
}

/** How many pixels are within `tol` of the colour "#rrggbb". */
export function countColour(png: Png, hex: string, tol = 12): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  let n = 0;
  for (let o = 0; o < png.rgba.length; o += 4) {
    if (
      Math.abs(png.rgba[o]! - r) <= tol &&
      Math.abs(png.rgba[o + 1]! - g) <= tol &&
      Math.abs(png.rgba[o + 2]! - b) <= tol
    )
      n++;
  }
  return n;
}

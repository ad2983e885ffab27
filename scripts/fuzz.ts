/**
 * Shared by the parsers' fuzz tests (packages/*\/test/fuzz-*.test.ts): the project rule is that
 * any input gives a result or the package's typed error, never another exception or a hang.
 * Inputs are arbitrary strings and real samples (goldens captured from OVS/OVN) mutated the way
 * hand-edited or truncated captures are: lines cut, dropped, duplicated, swapped, characters
 * garbled. A hang is an input whose parse exceeds HANG_MS, a bound thousands of times what any
 * parser needs, so it stays a hang detector and never a performance assertion.
 */
import fc from "fast-check";

export const HANG_MS = 10_000;

/** Runs `parse`; passes on a result or a typed error, throws on anything else or a hang. */
export function resultOrTypedError(isTyped: (e: unknown) => boolean, parse: () => unknown): void {
  const t = performance.now();
  try {
    parse();
  } catch (e) {
    if (!isTyped(e)) throw e;
  }
  const ms = performance.now() - t;
  if (ms > HANG_MS) throw new Error(`parse took ${ms.toFixed(0)} ms: treated as a hang`);
}

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "",
    " ",
    "\t",
    ",",
    "=",
    "/",
    ":",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    '"',
    "\\",
    "0x",
    "-1",
    "\u0000",
    "é",
  ),
);

type Edit =
  | { op: "cut"; line: number; at: number }
  | { op: "drop"; line: number }
  | { op: "dup"; line: number }
  | { op: "swap"; line: number; other: number }
  | { op: "garble"; line: number; at: number; text: string }
  | { op: "truncate"; at: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("cut" as const), line: fc.nat(), at: fc.nat() }),
  fc.record({ op: fc.constant("drop" as const), line: fc.nat() }),
  fc.record({ op: fc.constant("dup" as const), line: fc.nat() }),
  fc.record({ op: fc.constant("swap" as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant("garble" as const), line: fc.nat(), at: fc.nat(), text: junk }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
);

function applyEdit(lines: string[], e: Edit): string[] {
  if (lines.length === 0) return lines;
  const out = [...lines];
  if (e.op === "truncate") {
    const text = out.join("\n");
    return text.slice(0, e.at % (text.length + 1)).split("\n");
  }
  const i = e.line % out.length;
  const l = out[i]!;
  switch (e.op) {
    case "cut":
      out[i] = l.slice(0, e.at % (l.length + 1));
      break;
    case "drop":
      out.splice(i, 1);
      break;
    case "dup":
      out.splice(i, 0, l);
      break;
    case "swap": {
      const j = e.other % out.length;
      out[i] = out[j]!;
      out[j] = l;
      break;
    }
    case "garble": {
      const at = e.at % (l.length + 1);
      out[i] = l.slice(0, at) + e.text + l.slice(at + 1);
      break;
    }
  }
  return out;
}

/** A real sample with up to `maxEdits` line-level mutations. */
export function mutated(samples: readonly string[], maxEdits = 6): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...samples), fc.array(edit, { maxLength: maxEdits }))
    .map(([s, edits]) => edits.reduce((ls, e) => applyEdit(ls, e), s.split("\n")).join("\n"));
}

/** Arbitrary text, real samples, and mutated real samples. */
export function parserInput(samples: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: "binary" }) },
    { weight: 1, arbitrary: fc.constantFrom(...samples) },
    { weight: 4, arbitrary: mutated(samples) },
  );
}

/** Bytes: arbitrary, real samples, and real samples with bytes flipped, cut or appended. */
export function mutatedBytes(samples: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const flip = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  return fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    fc
      .tuple(
        fc.constantFrom(...samples),
        fc.array(flip, { maxLength: 8 }),
        fc.option(fc.nat()),
        fc.uint8Array({ maxLength: 16 }),
      )
      .map(([s, flips, cut, tail]) => {
        const b = new Uint8Array(s);
        for (const f of flips) if (b.length > 0) b[f.at % b.length] = f.value;
        const kept = cut === null ? b : b.slice(0, cut % (b.length + 1));
        const out = new Uint8Array(kept.length + tail.length);
        out.set(kept);
        out.set(tail, kept.length);
        return out;
      }),
  );
}

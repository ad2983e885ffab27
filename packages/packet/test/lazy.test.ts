import { describe, expect, it } from "vitest";
import { lazyProperty } from "../src/index.js";

describe("lazyProperty", () => {
  it("computes the value on first read, once, and keeps it", () => {
    let calls = 0;
    const o = lazyProperty({ a: 1 } as { a: number; text?: string }, "text", () => {
      calls++;
      return `made ${calls}`;
    });
    expect(calls).toBe(0);
    expect(o.text).toBe("made 1");
    expect(o.text).toBe("made 1");
    expect(calls).toBe(1);
  });

  it("is a plain enumerable property for keys, JSON, spreads and equality, in definition order", () => {
    const o: Record<string, unknown> = {};
    lazyProperty(o, "flow", () => "F");
    lazyProperty(o, "tree", () => [1, 2]);
    o.log = 3;
    expect(Object.keys(o)).toEqual(["flow", "tree", "log"]);
    expect(JSON.stringify(o)).toBe('{"flow":"F","tree":[1,2],"log":3}');
    expect({ ...o }).toEqual({ flow: "F", tree: [1, 2], log: 3 });
    expect(o).toEqual({ flow: "F", tree: [1, 2], log: 3 });
  });

  it("keeps each object's own value when many share the property name", () => {
    const xs = Array.from({ length: 5 }, (_, i) => lazyProperty({} as { v?: number }, "v", () => i * 10));
    expect(xs.map((x) => x.v)).toEqual([0, 10, 20, 30, 40]);
  });

  it("makes undefined and thrown values like the thunk does", () => {
    const u = lazyProperty({} as { v?: unknown }, "v", () => undefined);
    expect(u.v).toBeUndefined();
    let n = 0;
    const t = lazyProperty({} as { v?: unknown }, "v", () => {
      n++;
      throw new Error("boom");
    });
    expect(() => t.v).toThrow("boom");
    // A thunk that threw is asked again on the next read (no value was made).
    expect(() => t.v).toThrow("boom");
    expect(n).toBe(2);
  });
});

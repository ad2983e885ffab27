import { describe, expect, it } from "vitest";
import { chassisOfPort, groupByChassis, preferLocalBackendText } from "../src/index.js";

describe("groupByChassis (the patch's loop, shared with ovn northd)", () => {
  const items = [
    { ip: "10.0.0.1", lsp: "a" },
    { ip: "10.0.0.2", lsp: "ghost" },
    { ip: "10.0.0.3", lsp: "b" },
    { ip: "10.0.0.4", lsp: undefined },
    { ip: "10.0.0.5", lsp: "c" },
    { ip: "10.0.0.6", lsp: "unbound" },
  ];
  const bindings: Record<string, string> = { a: "node2", b: "node1", c: "node2", ghost: "node3" };
  const exists = new Set(["a", "b", "c", "unbound"]);
  const lookup = (p: string) => (exists.has(p) ? chassisOfPort(bindings, p) : undefined);

  it("keeps chassis order of first backend, the first port as guard, and skips unknown ports", () => {
    const g = groupByChassis(items, (i) => i.lsp, lookup);
    expect(g.byChassis.map((c) => [c.chassis, c.residentPort, c.ports, c.items.map((i) => i.ip)])).toEqual([
      ["node2", "a", ["a", "c"], ["10.0.0.1", "10.0.0.5"]],
      ["node1", "b", ["b"], ["10.0.0.3"]],
    ]);
    expect(g.unplaced.map((i) => i.ip)).toEqual(["10.0.0.2", "10.0.0.4", "10.0.0.6"]);
  });

  it("reads maps and records without inheriting prototype keys", () => {
    expect(chassisOfPort(new Map([["a", "n"]]), "a")).toBe("n");
    expect(chassisOfPort({}, "constructor")).toBeUndefined();
  });

  it('prints backends as the patch does, "(null)" for a VIP without port', () => {
    expect(preferLocalBackendText("10.0.0.1", 80, false)).toBe("10.0.0.1:80");
    expect(preferLocalBackendText("10.0.0.1", undefined, false)).toBe("10.0.0.1:(null)");
    expect(preferLocalBackendText("fd00::1", 443, true)).toBe("[fd00::1]:443");
  });
});

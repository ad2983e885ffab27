/**
 * vitest matchers over an ovnsim trace (`ovnsim.trace/v1` document), so other tools can assert
 * on the simulated data path in their own tests:
 *   expect(doc).toBeDeliveredTo("default/nginx-0")   // or just the pod name
 *   expect(doc).toPreserveClientIp()
 *   expect(doc).toUseLocalBackend()
 *   expect(doc).toBeDroppedAt("ovn")                 // layer, "where" or reason text
 * Register them once with `expect.extend(ovnsimMatchers)`.
 * The reference below survives into the published .d.ts (an empty `import type` would not), so
 * the `declare module "vitest"` augmentation types `expect(doc).toBeDeliveredTo()` for consumers.
 */
/// <reference types="vitest" preserve="true" />
import type { TraceDocument } from "@ovnsim/tracer";
import { renderText } from "@ovnsim/tracer";

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function isDoc(x: unknown): x is TraceDocument {
  return typeof x === "object" && x !== null && (x as { schema?: string }).schema === "ovnsim.trace/v1";
}

function notADoc(): MatcherResult {
  return { pass: false, message: () => "expected an ovnsim trace document (schema ovnsim.trace/v1)" };
}

const brief = (d: TraceDocument): string => {
  const v = d.verdict;
  return v.delivered
    ? `delivered to ${v.pod} on ${v.node}`
    : `not delivered${v.droppedAt ? ` (dropped at [${v.droppedAt.layer}] ${v.droppedAt.where}: ${v.droppedAt.reason})` : ""}`;
};

export const ovnsimMatchers = {
  toBeDeliveredTo(received: unknown, pod?: string): MatcherResult {
    if (!isDoc(received)) return notADoc();
    const v = received.verdict;
    const ok = v.delivered && (pod === undefined || v.pod === pod || v.pod?.split("/")[1] === pod);
    return {
      pass: ok,
      message: () =>
        ok
          ? `expected the trace not to be delivered${pod ? ` to ${pod}` : ""}, but it was`
          : `expected the trace to be delivered${pod ? ` to ${pod}` : ""}, but it was ${brief(received)}\n\n${renderText(received)}`,
    };
  },
  toPreserveClientIp(received: unknown): MatcherResult {
    if (!isDoc(received)) return notADoc();
    const ok = received.verdict.clientIpPreserved === true;
    return {
      pass: ok,
      message: () =>
        ok
          ? "expected the client IP not to be preserved"
          : `expected the Pod to see the client's source IP, but clientIpPreserved is ${received.verdict.clientIpPreserved} (${brief(received)})`,
    };
  },
  toUseLocalBackend(received: unknown): MatcherResult {
    if (!isDoc(received)) return notADoc();
    const ok = received.verdict.backendLocal === true;
    return {
      pass: ok,
      message: () =>
        ok
          ? `expected a remote backend, but ${received.verdict.backend} is local`
          : `expected a backend on the receiving node, but backend=${received.verdict.backend} backendLocal=${received.verdict.backendLocal} (${brief(received)})`,
    };
  },
  toBeDroppedAt(received: unknown, stage: string | RegExp): MatcherResult {
    if (!isDoc(received)) return notADoc();
    const d = received.verdict.droppedAt;
    const test = (s: string) =>
      typeof stage === "string" ? s === stage || s.includes(stage) : stage.test(s);
    const ok =
      !received.verdict.delivered && d !== null && (test(d.layer) || test(d.where) || test(d.reason));
    return {
      pass: ok,
      message: () =>
        ok
          ? `expected the trace not to be dropped at ${String(stage)}`
          : `expected the trace to be dropped at ${String(stage)}, but it was ${brief(received)}`,
    };
  },
};

export type OvnsimMatchers<R = unknown> = {
  toBeDeliveredTo(pod?: string): R;
  toPreserveClientIp(): R;
  toUseLocalBackend(): R;
  toBeDroppedAt(stage: string | RegExp): R;
};

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's own declaration uses any
  interface Assertion<T = any> extends OvnsimMatchers<T> {}
  interface AsymmetricMatchersContaining extends OvnsimMatchers {}
}

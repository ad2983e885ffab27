/**
 * `--format json`: the TraceDocument as stable JSON (keys in a fixed order, no bigints), and
 * the JSON Schema of `ovnsim.trace/v1` (also shipped as schema/trace-v1.schema.json).
 */
import type { TraceDocument } from "./model.js";
import schema from "../schema/trace-v1.schema.json" with { type: "json" };

export const TRACE_JSON_SCHEMA: unknown = schema;

export function toJson(doc: TraceDocument): string {
  return `${JSON.stringify(doc, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

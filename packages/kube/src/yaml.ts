/**
 * Reading Kubernetes YAML the way `kubectl apply -f` takes it: files with several `---`
 * documents, `kind: List` wrappers, and directories of such files. Each object remembers the
 * file and line it came from, so a later mistake ("excludeIps: \"10.1.1\" is not an address")
 * can point at it. Parsing itself is the `yaml` library's; this module only turns its output
 * into plain objects and its errors into SimError.
 */
import { SimError } from "@ovnsim/packet";
import { LineCounter, parseAllDocuments } from "yaml";

/** One Kubernetes object as read from a file, with where it came from. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  /** The whole object as plain data (metadata, spec, status, …). */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly file: string;
  readonly line: number;
}

/** A manifest text and the name to report it under. */
export interface ManifestText {
  readonly file: string;
  readonly text: string;
}

const MAX_TEXT = 4 * 1024 * 1024;

/** Parses every document of every text into Kubernetes objects (empty documents are skipped). */
export function parseManifests(texts: readonly ManifestText[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const t of texts) parseOne(t, out);
  return out;
}

function parseOne({ file, text }: ManifestText, out: KubeObject[]): void {
  if (text.length > MAX_TEXT) throw new SimError("UNSUPPORTED", `manifest larger than 4 MiB`, { file });
  const lc = new LineCounter();
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  } catch (e) {
    throw new SimError("PARSE_ERROR", `not YAML: ${(e as Error).message}`, { file });
  }
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const err = (doc as { errors?: { message: string; pos: [number, number] }[] }).errors?.[0];
    if (err) {
      const line = lc.linePos(err.pos[0]).line;
      throw new SimError("PARSE_ERROR", `YAML: ${err.message.split("\n")[0]}`, { file, line });
    }
    const range = (doc as { range?: [number, number, number] }).range;
    const line = range ? lc.linePos(range[0]).line : 1;
    let value: unknown;
    try {
      value = (doc as { toJS(opts?: object): unknown }).toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new SimError("PARSE_ERROR", `YAML: ${(e as Error).message.split("\n")[0]}`, { file, line });
    }
    if (value === null || value === undefined) continue;
    addObject(value, file, line, out, 0);
  }
}

function addObject(value: unknown, file: string, line: number, out: KubeObject[], depth: number): void {
  if (!isRecord(value)) {
    throw new SimError("PARSE_ERROR", "a Kubernetes object must be a mapping with apiVersion and kind", {
      file,
      line,
    });
  }
  const kind = value.kind;
  const apiVersion = value.apiVersion;
  if (typeof kind !== "string" || kind === "") {
    throw new SimError("PARSE_ERROR", "object without `kind`", { file, line });
  }
  if (kind === "List" || kind.endsWith("List")) {
    const items = value.items;
    if (!Array.isArray(items)) throw new SimError("PARSE_ERROR", `${kind} without items`, { file, line });
    if (depth > 4) throw new SimError("UNSUPPORTED", `${kind} nested too deep`, { file, line });
    for (const it of items) addObject(it, file, line, out, depth + 1);
    return;
  }
  if (typeof apiVersion !== "string" || apiVersion === "") {
    throw new SimError("PARSE_ERROR", `${kind} without \`apiVersion\``, { file, line });
  }
  const md = value.metadata;
  const name = isRecord(md) && typeof md.name === "string" ? md.name : "";
  const ns = isRecord(md) && typeof md.namespace === "string" ? md.namespace : undefined;
  if (name === "") throw new SimError("PARSE_ERROR", `${kind} without metadata.name`, { file, line });
  out.push({ apiVersion, kind, name, namespace: ns, raw: value, file, line });
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

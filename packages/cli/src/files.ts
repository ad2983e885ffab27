/**
 * Every file the command line reads or writes goes through here, so that a path that cannot be
 * used ends the command with exit 2 and one line naming the path and the system's reason
 * ("cannot write /no/such/dir/x.pcapng: no such file or directory (ENOENT)"), as coreutils tools
 * say it, never a Node.js stack trace. Node's own messages are not used: for a read of a
 * directory or a failed write(2) they do not name the path.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimError } from "@ovnsim/packet";

/** strerror(3) wording for the errno codes a path can give. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EEXIST: "file exists",
  EIO: "input/output error",
  EINVAL: "invalid argument",
  EBUSY: "device or resource busy",
  ETXTBSY: "text file busy",
  EMFILE: "too many open files",
  ENXIO: "no such device or address",
  EFBIG: "file too large",
  EDQUOT: "disk quota exceeded",
};

/** A Node.js system error (errno code such as "ENOENT"), or undefined. */
export function systemErrorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** "no such file or directory (ENOENT)". */
export function reasonOf(e: unknown): string {
  const code = systemErrorCode(e);
  if (code === undefined) return e instanceof Error ? e.message : String(e);
  return `${REASONS[code] ?? code.toLowerCase()} (${code})`;
}

/** The SimError a failed file operation becomes: what was done, to which path, why it failed. */
export function fileError(verb: "read" | "write" | "open", path: string, e: unknown): SimError {
  return new SimError("IO_ERROR", `cannot ${verb} ${path}: ${reasonOf(e)}`, { cause: e });
}

/** Reads a text file the user named. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw fileError("read", path, e);
  }
}

/** Lists a directory the user named. */
export function readDirectory(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (e) {
    throw fileError("read", path, e);
  }
}

/** Writes a file the user named (created or replaced). */
export function writeOutputFile(path: string, data: Uint8Array | string): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw fileError("write", path, e);
  }
}

/**
 * An output directory the user named (`--out DIR`): made with its parents if missing, as
 * `mkdir -p` does; a file in the way is "not a directory", as mkdir -p says.
 */
export function makeOutputDirectory(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw fileError("write", path, systemErrorCode(e) === "EEXIST" ? { code: "ENOTDIR" } : e);
  }
}

/** The files of a manifest directory @ovnsim/kube's loader reads (as `kubectl apply -f DIR`). */
export const isManifestName = (name: string): boolean => /\.(ya?ml|json)$/i.test(name);

/**
 * Checks what a reader elsewhere (the manifest loader, the bundle loader) will open, so a bad path
 * fails here with its reason: each path must exist; a directory must be listable and the entries
 * `wanted` selects must be readable files.
 */
export function checkInputPaths(paths: readonly string[], wanted: (name: string) => boolean): void {
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      throw fileError("read", p, e);
    }
    const files = isDir
      ? readDirectory(p)
          .filter(wanted)
          .map((n) => join(p, n))
      : [p];
    for (const f of files) checkReadableFile(f);
  }
}

/** The path opens for reading as a regular file (a directory or a dangling link does not). */
export function checkReadableFile(path: string): void {
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    closeSync(openSync(path, "r"));
  } catch (e) {
    throw fileError("read", path, e);
  }
}

/** A directory the user named that a loader will read files from. */
export function checkInputDirectory(path: string, wanted: (name: string) => boolean): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw fileError("read", path, e);
  }
  if (!isDir) throw fileError("read", path, { code: "ENOTDIR" });
  for (const n of readDirectory(path).filter(wanted)) checkReadableFile(join(path, n));
}

/**
 * The last line of defence in `run`: a system error some loader let through becomes the same
 * one-line message (with the path when Node gives it), not a stack trace.
 */
export function systemErrorMessage(e: unknown): string | undefined {
  const code = systemErrorCode(e);
  if (code === undefined) return undefined;
  const { path, syscall } = e as { path?: unknown; syscall?: unknown };
  const what = typeof syscall === "string" ? syscall : "file operation";
  return typeof path === "string"
    ? `cannot ${what} ${path}: ${reasonOf(e)}`
    : `${what} failed: ${reasonOf(e)}`;
}

/**
 * One error class for every mistake a user can make in their input: a malformed flow string,
 * an address that is not an address, an unknown field, a manifest that says something
 * impossible. Each carries a closed `code` so callers can branch without parsing messages
 * (tRPC's TRPCError and ip-address's AddressError are the models), and a message that says
 * what was wrong and where ("tp_dst: \"8o\" is not a number").
 *
 * Data-plane outcomes (a drop, a table miss, a loop) are never errors: they are trace steps.
 */

/** Every error code ovnsim can raise, with what it means. */
export const SIM_ERROR_CODES = {
  PARSE_ERROR: "input text does not follow the expected syntax",
  BAD_VALUE: "a field value is malformed or out of range",
  BAD_MASK: "a mask is malformed, or a value has bits outside its mask",
  UNKNOWN_FIELD: "a field name that the model does not know",
  PREREQUISITES: "a field's prerequisites are not met (e.g. tp_dst without tcp/udp/sctp)",
  UNKNOWN_ACTION: "an action name that the model does not know",
  UNKNOWN_PORT: "a port name or number that does not exist",
  UNKNOWN_OBJECT: "a named object (bridge, group, datapath, table row) that does not exist",
  DUPLICATE: "an object that must be unique was given twice",
  CONFLICT: "two parts of the configuration contradict each other",
  BAD_PACKET: "bytes that cannot be decoded as the frame they claim to be",
  UNSUPPORTED: "valid input that the simulator does not model",
  IO_ERROR:
    "a file or directory named by the user cannot be read or written (the path and the system's reason)",
} as const;

export type SimErrorCode = keyof typeof SIM_ERROR_CODES;

export interface SimErrorLocation {
  /** File the input came from, when there is one. */
  readonly file?: string;
  /** 1-based line number in that file. */
  readonly line?: number;
}

/**
 * The error every ovnsim package throws for bad user input.
 *
 * @example
 * try { parseFlow("tcp,tp_dst=8o") } catch (e) { if (isSimError(e) && e.code === "BAD_VALUE") … }
 */
export class SimError extends Error {
  override readonly name = "SimError";
  readonly code: SimErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(code: SimErrorCode, message: string, options: SimErrorLocation & { cause?: unknown } = {}) {
    const where =
      options.file !== undefined
        ? `${options.file}${options.line !== undefined ? `:${options.line}` : ""}: `
        : "";
    super(where + message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.file = options.file;
    this.line = options.line;
  }

  /** The same error with a file/line prefix, for parsers that read one line at a time. */
  at(file: string | undefined, line: number | undefined): SimError {
    if (this.file !== undefined) return this;
    const bare = this.message;
    const e = new SimError(this.code, bare, {
      ...(file !== undefined ? { file } : {}),
      ...(line !== undefined ? { line } : {}),
      cause: this.cause,
    });
    return e;
  }
}

/** Type guard for {@link SimError}. */
export function isSimError(e: unknown): e is SimError {
  return e instanceof SimError;
}

// trace half of @ovnsim/ovn (expressions, actions, southbound bundle, ovn-trace): public exports go here.
export { tokenize } from "../expr/lexer.js";
export type { Token, NumFormat } from "../expr/lexer.js";
export { parseExpr, negate } from "../expr/parse.js";
export type { Expr, FieldRef, Relop, ExprTables } from "../expr/parse.js";
export { compileExpr, foldConstants } from "../expr/compile.js";
export type { Pred, CompileEnv } from "../expr/compile.js";
export { parseMicroflow } from "../expr/microflow.js";
export { READ_TP_DST, READ_TP_SRC, SYMTAB, symtabFor } from "../expr/symtab.js";
export type { ExprSymbol, MFlow, Symtab } from "../expr/symtab.js";
export { parseActions } from "../actions/parse.js";
export type { Action, LbBackend, NestKind, ResultFn } from "../actions/parse.js";
export { formatAction, formatActions } from "../actions/format.js";
export { parseOvsdbList } from "../sb/ovsdb.js";
export type { OvsdbRecord, OvsdbValue } from "../sb/ovsdb.js";
export {
  parseLflowList as parseSbLflowList,
  formatLflowList as formatSbLflowList,
} from "../sb/lflow-list.js";
export type { LflowListing } from "../sb/lflow-list.js";
export { readSbBundle, deriveMcGroups, deriveVips, MC_KEYS } from "../sb/model.js";
export type {
  SbModel,
  SbPort,
  SbDatapath,
  SbMcGroup,
  SbVip,
  SbFiles,
  SbMacBinding,
  SbFdb,
} from "../sb/model.js";
export {
  LogicalNetwork,
  formatCtState,
  parseCtOption,
  parseLbDst,
  hashBackend,
  selectMembers,
  selectMember,
} from "./exec.js";
export type { HairpinSession, TraceOptions, TraceResult } from "./exec.js";
export type { TraceNode, TraceNodeKind } from "./tree.js";
export { TraceLog } from "./tree.js";
export { renderDetailed, renderSummary, renderMinimal } from "./tree.js";
export { renderTrace, traceToJson } from "./render.js";
export type { TraceMode } from "./render.js";
export { parseOvnTraceArgs } from "./args.js";
export type { OvnTraceArgs } from "./args.js";
export { sbModelFromNb } from "../sb/from-nb.js";

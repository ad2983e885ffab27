// trace half of @ovnsim/ovn (expressions, actions, southbound bundle, ovn-trace): public exports go here.
export { tokenize } from "../expr/lexer.js";
export type { Token, NumFormat } from "../expr/lexer.js";
export { parseExpr, negate } from "../expr/parse.js";
export type { Expr, FieldRef, Relop, ExprTables } from "../expr/parse.js";
export { compileExpr, foldConstants } from "../expr/compile.js";
export type { Pred, CompileEnv } from "../expr/compile.js";
export { SYMTAB } from "../expr/symtab.js";
export type { ExprSymbol, MFlow } from "../expr/symtab.js";
export { parseOvsdbList } from "../sb/ovsdb.js";
export type { OvsdbRecord, OvsdbValue } from "../sb/ovsdb.js";
export { parseLflowList as parseSbLflowList, formatLflowList as formatSbLflowList } from "../sb/lflow-list.js";
export type { LflowListing } from "../sb/lflow-list.js";

// @ovnsim/whatif: what a change would do to traffic before it is made — the reachability
// matrix of a scenario, the diff of two configurations or releases (logical flows and verdicts),
// and every branch one request can take (LB backends, conntrack states, MetalLB failover).
export { applyVariant, describeVariant, splitPair, variantOption, CONTROLLER_FLAGS } from "./variant.js";
export type { Variant, VariantDraft } from "./variant.js";
export {
  MATRIX_SCHEMA,
  buildMatrix,
  matrixSources,
  matrixDestinations,
  tracePair,
  rowOf,
  dropObject,
  renderMatrixText,
  renderMatrixCsv,
  renderMatrixJson,
} from "./matrix.js";
export type {
  MatrixDocument,
  MatrixRow,
  MatrixSource,
  MatrixDestination,
  MatrixOptions,
  SourceKind,
  DestinationKind,
} from "./matrix.js";
export {
  DIFF_SCHEMA,
  diffLflows,
  diffBrInt,
  scenarioBrInt,
  diffScenarios,
  diffNbctl,
  scenarioLflows,
  nbctlLflows,
  lflowsHit,
  renderDiffText,
  renderDiffJson,
} from "./diff.js";
export type { BrIntChange, BrIntFlow, DiffDocument, DiffFlow, DiffSide, VerdictChange } from "./diff.js";
export {
  BRANCHES_SCHEMA,
  exploreBranches,
  exploreAnnouncers,
  renderBranchesText,
  renderBranchesJson,
  branchesProto,
  exploreClusterAnnouncers,
  exploreClusterConntrack,
} from "./branches.js";
export { exploreNbctlBranches } from "./nbbranches.js";
export type { NbctlBranchesInput } from "./nbbranches.js";
export type { Branch, BranchKind, BranchesDocument, BranchesInput, Coverage } from "./branches.js";
export { renderMatrixHtml } from "./html.js";
export {
  REACH_SCHEMA,
  CT_CHOICES,
  reach,
  reachLogical,
  reachNbctl,
  renderReachText,
  renderReachJson,
  classMembers,
  concreteVerdict,
  witnessMicroflow,
  formatCube,
  parseCtList,
  SymbolicNetwork,
} from "./reach.js";
export type {
  ReachOptions,
  ScenarioReachOptions,
  ReachVerdict,
  ReachClass,
  ReachDocument,
  ReachRun,
} from "./reach.js";
export {
  OF_REACH_SCHEMA,
  OF_CT_CHOICES,
  OF_HEADER_SLOTS,
  reachOpenflow,
  renderOfReachText,
  renderOfReachJson,
  matchCube,
} from "./ofreach.js";
export type { OfReachOptions, OfReachClass, OfReachDocument, OfReachRun, OfReachVerdict } from "./ofreach.js";
export { witness, pointToFlow, contains, prng } from "./hs.js";
export type { Cube, Term } from "./hs.js";

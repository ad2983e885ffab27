// @ovnsim/classifier: the priority flow classifier behind every OpenFlow table (OVS
// lib/classifier.{h,c}): tuple space search with staged lookup, prefix and ports tries and
// megaflow (wildcard) tracking; a linear reference classifier; ClassBench and ovstest workloads;
// RangeClassifier, a range-native decision-tree classifier for ACL / firewall rule sets.
export { Classifier, sameRule } from "./classifier.js";
export type { LookupStats } from "./classifier.js";
export { KeyLayout } from "./keylayout.js";
export { LinearClassifier } from "./linear.js";
export { DEFAULT_FLOW_TRIES, matches, resolveOptions } from "./rule.js";
export type { ClassifierOptions, ResolvedOptions, Rule, RuleSpec, TrieField } from "./rule.js";
export { rangeToPrefixes } from "./ranges.js";
export type { ValueMask } from "./ranges.js";
export { PrefixTrie } from "./trie.js";
export {
  parseClassBench,
  classBenchToRules,
  classBenchTrace,
  headerToKey,
  lcg,
} from "./classbench.js";
export type { ClassBenchRule, ClassBenchHeader } from "./classbench.js";
export { ovsBenchmark, OvsRandom } from "./ovsbench.js";
export type { OvsBenchmark } from "./ovsbench.js";
export { TupleMergeClassifier } from "./tuplemerge.js";
export type { TupleMergeOptions } from "./tuplemerge.js";
export { RangeClassifier } from "./rangetree.js";
export type { RangeTreeOptions } from "./rangetree.js";
export { RangeLinearClassifier } from "./rangelinear.js";
export { CLASSBENCH_FIELDS } from "./rangerule.js";
export type { RangeClassifierOptions, RangeRule, RangeRuleSpec } from "./rangerule.js";
export { classBenchToRanges, headersToRangeKeys } from "./classbench.js";

import { readFileSync } from "node:fs";
import { Classifier, classBenchToRules, classBenchTrace, headerToKey, parseClassBench, LinearClassifier } from "/work/main/packages/classifier/src/index.js";
const filters = parseClassBench(readFileSync("/work/shared/data/classbench/neurocuts/acl1_1k", "utf8"));
const specs = classBenchToRules(filters);
const c = new Classifier<number>();
for (const s of specs) c.insert(s);
const lin = new LinearClassifier<number>();
for (const s of specs) lin.insert(s);
const keys = classBenchTrace(filters, 20000, 1).map((h) => headerToKey(h));
for (let rep = 0; rep < 3; rep++) {
  let t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 200000; i++) if (c.lookup(keys[i % keys.length]!)) n++;
  let t1 = performance.now();
  console.log("tss", (200000 / (t1 - t0) / 1000).toFixed(2), "M/s");
  t0 = performance.now();
  for (let i = 0; i < 50000; i++) if (lin.lookup(keys[i % keys.length]!)) n++;
  t1 = performance.now();
  console.log("lin", (50000 / (t1 - t0) / 1000).toFixed(2), "M/s");
}

/**
 * Splits one line of a configuration file into words the way a POSIX shell would before it
 * runs `ovn-nbctl`: whitespace separates words, '…' is literal, "…" honours \" \\ \$ \`,
 * a backslash escapes the next character, and an unquoted # starts a comment.
 */
import { SimError } from "@ovnsim/packet";

export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i] as string;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      if (inWord) {
        words.push(cur);
        cur = "";
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "#" && !inWord) break;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new SimError("PARSE_ERROR", `unterminated ' quote at column ${i + 1}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new SimError("PARSE_ERROR", `unterminated " quote at column ${i + 1}`);
        const d = line[j] as string;
        if (d === '"') break;
        if (d === "\\" && j + 1 < n && '"\\$`'.includes(line[j + 1] as string)) {
          cur += line[j + 1];
          j += 2;
          continue;
        }
        cur += d;
        j++;
      }
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === "\\") {
      if (i + 1 < n) cur += line[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (inWord) words.push(cur);
  return words;
}

// Parses PromQL and LogQL with the lezer grammars of Prometheus' and Grafana's query editors.
//
// Reads batches from stdin, one JSON array of {"lang": "promql" | "logql", "expr": "..."} per line,
// and answers each with one line: a JSON array, in the same order, of {"tree", "error"}. A tree is
// [name, from, to, ...children]; error is the [from, to] of the first node whose type is an error,
// or null. Offsets count code points, as Python indexes strings. Reading until stdin closes lets a
// caller keep one process for any number of batches: starting Node with both grammars costs more
// than parsing every query of the boards.
import { createInterface } from "node:readline";
import { parser as logql } from "@grafana/lezer-logql";
import { parser as promql } from "@prometheus-io/lezer-promql";

const PARSERS = { promql, logql };

/** A map from UTF-16 offsets to code points, or the identity when the text has no surrogate pairs. */
function codePoints(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return (offset) => offset;
  const points = [];
  let point = 0;
  for (let unit = 0; unit <= text.length; unit++) {
    points.push(point);
    const code = text.charCodeAt(unit);
    if (!(code >= 0xd800 && code <= 0xdbff)) point++;
  }
  return (offset) => points[offset];
}

function parse({ lang, expr }) {
  const parser = PARSERS[lang];
  if (!parser) throw new Error(`unknown query language ${JSON.stringify(lang)}`);
  const at = codePoints(expr);
  const stack = [[null, 0, 0]];
  let error = null;
  parser.parse(expr).iterate({
    enter(node) {
      const entry = [node.type.name, at(node.from), at(node.to)];
      if (node.type.isError && error === null) error = [entry[1], entry[2]];
      stack[stack.length - 1].push(entry);
      stack.push(entry);
    },
    leave() {
      stack.pop();
    },
  });
  return { tree: stack[0][3], error };
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(JSON.stringify(JSON.parse(line).map(parse)) + "\n");
}

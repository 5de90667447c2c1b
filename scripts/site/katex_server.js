// Renders TeX to HTML with KaTeX for the MkDocs build, one JSON request per input line:
//   {"tex": "...", "display": true|false}  ->  {"html": "..."}  or  {"error": "..."}
// One long-lived process per build keeps rendering ~1 ms per formula (node starts once).
"use strict";
const katex = require("katex");
const readline = require("readline");

const macros = {
  "\\R": "\\mathbb{R}",
  "\\E": "\\mathbb{E}",
  "\\Var": "\\operatorname{Var}",
  "\\diag": "\\operatorname{diag}",
};

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let reply;
  try {
    const { tex, display } = JSON.parse(line);
    const html = katex.renderToString(tex, {
      displayMode: Boolean(display),
      throwOnError: true,
      strict: "ignore", // Unicode-in-math nits are not errors; parse errors still throw
      output: "htmlAndMathml", // MathML for screen readers, HTML for the eye
      macros: { ...macros },
    });
    reply = { html };
  } catch (err) {
    reply = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});

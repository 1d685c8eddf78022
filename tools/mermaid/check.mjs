// Parses each Mermaid diagram named on the command line with the mermaid package itself, the
// parser the site's pages run in the browser, under jsdom (mermaid reaches for a DOM even to
// parse). tools/docs.py writes one file per diagram, named after its page and position, and
// runs this from build/mermaid (npm ci --ignore-scripts of this folder's package-lock.json).
// Exit 1 when any diagram does not parse, naming it and mermaid's message.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["DOMParser", "Element", "HTMLElement", "Node", "navigator"]) {
  if (!(name in globalThis)) globalThis[name] = dom.window[name];
}
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    await mermaid.parse(readFileSync(file, "utf8"));
    console.log(`mermaid: ok ${file}`);
  } catch (error) {
    failed += 1;
    const message = String(error?.message ?? error).split("\n").slice(0, 4).join(" ");
    console.error(`mermaid: FAIL ${file}: ${message}`);
  }
}
process.exit(failed ? 1 : 0);

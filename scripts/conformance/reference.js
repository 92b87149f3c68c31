// Reference ids from Hugging Face `tokenizers` (npm, the Rust library's Node binding):
// node reference.js TOKENIZER_JSON CORPUS OUT -> one JSON array of ids per corpus line,
// without special tokens. Prints the encoding time to stderr.
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require(path.resolve(__dirname, "../../.cache/npm/node_modules/tokenizers"));

async function main() {
  const [tokPath, corpusPath, outPath] = process.argv.slice(2);
  const tokenizer = Tokenizer.fromFile(tokPath);
  const lines = fs.readFileSync(corpusPath, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const start = process.hrtime.bigint();
  const out = [];
  for (const line of lines) {
    const enc = await tokenizer.encode(line, null, { addSpecialTokens: false });
    out.push(JSON.stringify(enc.getIds()));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.writeFileSync(outPath, out.join("\n") + "\n");
  const bytes = Buffer.byteLength(lines.join("\n"));
  process.stderr.write(`reference: ${lines.length} lines, ${(bytes / 1e6 / seconds).toFixed(2)} MB/s\n`);
}
main().catch((e) => { console.error(e); process.exit(1); });

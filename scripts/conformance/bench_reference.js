// Throughput of Hugging Face `tokenizers` (npm) on a corpus, for comparison with
// `zett tokenize --stats`: node bench_reference.js TOKENIZER_JSON CORPUS
// Run with RAYON_NUM_THREADS=1 for a per-core number (encodeBatch is parallel otherwise).
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require(path.resolve(__dirname, "../../.cache/npm/node_modules/tokenizers"));

async function main() {
  const [tokPath, corpusPath] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const tokenizer = Tokenizer.fromFile(tokPath);
  const t1 = process.hrtime.bigint();
  const lines = fs.readFileSync(corpusPath, "utf8").split("\n");
  const bytes = Buffer.byteLength(lines.join("\n"));
  let ids = 0;
  const t2 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i += 1000) {
    const encodings = await tokenizer.encodeBatch(lines.slice(i, i + 1000), { addSpecialTokens: false });
    for (const e of encodings) ids += e.getIds().length;
  }
  const seconds = Number(process.hrtime.bigint() - t2) / 1e9;
  console.log(`reference: load ${(Number(t1 - t0) / 1e9).toFixed(3)} s, ${lines.length} lines, ` +
              `${bytes} bytes in ${seconds.toFixed(3)} s = ${(bytes / 1e6 / seconds).toFixed(2)} MB/s (${ids} ids)`);
}
main().catch((e) => { console.error(e); process.exit(1); });

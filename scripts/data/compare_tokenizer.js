// Test oracle (not product): encodes each line of TEXT with tokenizer.json through the Rust HF
// `tokenizers` npm binding and compares with the ids libsentencepiece produced (IDS: one line of
// space-separated ids per text line), and checks that decoding the ids gives the line back.
// Prints one table row; writes mismatching lines to DIFF.
// Usage: node compare_tokenizer.js tokenizer.json TEXT IDS LANG DIFF
const fs = require("fs");
const { Tokenizer } = require("tokenizers");

async function main() {
  const [tokPath, textPath, idsPath, lang, diffPath] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(tokPath);
  const lines = fs.readFileSync(textPath, "utf8").split("\n");
  const ref = fs.readFileSync(idsPath, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  let same = 0, tokens = 0, bytes = 0, roundtrip = 0;
  const diffs = [];
  const batch = 256;
  for (let start = 0; start < lines.length; start += batch) {
    const chunk = lines.slice(start, start + batch);
    const encs = await tok.encodeBatch(chunk, { addSpecialTokens: false });
    const decoded = await tok.decodeBatch(encs.map((e) => e.getIds()), false);
    encs.forEach((enc, k) => {
      const i = start + k;
      const ids = enc.getIds().join(" ");
      const want = (ref[i] || "").trim();
      tokens += want === "" ? 0 : want.split(" ").length;
      bytes += Buffer.byteLength(lines[i], "utf8");
      if (decoded[k] === lines[i]) roundtrip++;
      if (ids === want) same++;
      else if (diffs.length < 20) diffs.push(`${lang} line ${i}: ${JSON.stringify(lines[i]).slice(0, 200)}\n  hf:  ${ids}\n  spm: ${want}\n`);
    });
  }
  fs.writeFileSync(diffPath, diffs.join(""));
  const pct = (100 * same / Math.max(1, lines.length)).toFixed(2);
  console.log(`${lang.padEnd(8)} ${String(lines.length).padStart(7)} ${(pct + "%").padStart(9)} ` +
              `${String(tokens).padStart(10)} ${String(bytes).padStart(10)} ${(tokens / Math.max(1, bytes)).toFixed(4).padStart(8)} ` +
              `${((100 * roundtrip / Math.max(1, lines.length)).toFixed(2) + "%").padStart(9)}`);
}
main().catch((e) => { console.error(e); process.exit(1); });

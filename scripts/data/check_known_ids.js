// Test oracle (not product): loads each real-world tokenizer.json with the Rust HF `tokenizers`
// npm binding and checks the ids of "Hello world" (special tokens added as each file's
// post-processor says) against the ids the published models use.
// Usage: node check_known_ids.js TOKENIZERS_DIR   (exit 1 on a mismatch)
const { Tokenizer } = require("tokenizers");
const KNOWN = {
  "gpt2": [15496, 995],
  "llama3": [9906, 1917],
  "qwen3": [9707, 1879],
  "gpt4o": [13225, 2375],
  "gemma3": [2, 9259, 1902],
  "mistral-7b": [1, 22557, 1526],
  "bert-base-uncased": [101, 7592, 2088, 102],
};
(async () => {
  let bad = 0;
  for (const [name, want] of Object.entries(KNOWN)) {
    const t = Tokenizer.fromFile(`${process.argv[2]}/${name}/tokenizer.json`);
    const ids = (await t.encode("Hello world", null, { addSpecialTokens: true })).getIds();
    const ok = JSON.stringify(ids) === JSON.stringify(want);
    if (!ok) bad++;
    console.log(`${ok ? "ok  " : "FAIL"} ${name.padEnd(18)} vocab ${t.getVocabSize(true)}  "Hello world" -> ${JSON.stringify(ids)}`);
  }
  process.exit(bad ? 1 : 0);
})();

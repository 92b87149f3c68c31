#!/usr/bin/env bash
# Short hypernetwork training runs side by side on one GPU, then each checkpoint's identity
# transfer (the original tokenizer as the target: bits/byte vs the original, and how far the
# rows of known tokens moved) and its validation bits/byte; prints a table last, then the choice
# by a rule fixed in advance: among the runs within 1 % of the best validation bits/byte, the
# lowest worst-language identity ratio. OUT_DIR/choice holds the chosen run's name and flags.
# OWN_LANGS="en ru de" also scores each run zero-shot on those languages' own UnigramLM
# targets (data/tokenizers/LANG/tokenizer.json) and prints a second choice: among the runs
# whose worst identity ratio is <= 1.01, the lowest mean own-language hypernet / original.
#   usage: scripts/gpu/train_ablations.sh OUT_DIR STEPS NAME='FLAGS' [NAME='FLAGS' ...]
#   e.g.   scripts/gpu/train_ablations.sh /tmp/abl 1500 base='' identity4='--identity_every=4'
# Every run: models/base-lm, data/corpus/train, B 128 x T 256, k 8192, lr 1e-3, fresh, with
# DATA_WORKERS (default 16 / runs) batch-building threads; saves every STEPS / 4, so a run that
# RUN_LIMIT (500 s) stops is still evaluated at its last save (4 runs side by side: ~150 ms per
# step each on an H200). Needs what host_env.sh unpacks.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/host_env.sh || exit 1
out=${1:?usage: train_ablations.sh OUT_DIR STEPS NAME=FLAGS...}
steps=${2:?steps}
shift 2
build=${BUILD:-build/gpu}
gpu_build "$build" zett-train
bin="$build/core/train/zett-train"
mkdir -p "$out"
workers=${DATA_WORKERS:-$(( $(nproc) / $# ))}
pids=() names=()
for spec in "$@"; do
  name=${spec%%=*} flags=${spec#*=}
  names+=("$name")
  rm -rf "$out/$name"
  # shellcheck disable=SC2086
  timeout "${RUN_LIMIT:-500}" "$bin" train --base=models/base-lm --train_files='data/corpus/train/*.txt' \
    --valid_files='data/corpus/valid/*.txt' --output_dir="$out/$name" --resume=false \
    --steps="$steps" --batch_size="${B:-128}" --seq_len=256 --lr="${LR:-1e-3}" \
    --warmup_steps=$((steps / 20)) --log_every=$((steps / 10)) --eval_every="$steps" \
    --save_every=$((steps / 4)) --data_workers="$workers" $flags > "$out/$name.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do wait "${pids[$i]}"; echo "${names[$i]}: train rc=$?"; done
texts=$(ls data/corpus/test/{en,ru,zh,python,de}.txt | paste -sd,)
for name in "${names[@]}"; do
  [ -f "$out/$name/model.safetensors" ] || continue
  "$bin" eval --base=models/base-lm --hypernet="$out/$name" \
    --target_tokenizer=identity=models/base-lm/tokenizer.json --text="$texts" \
    --method=original,hypernet,fvt --max_bytes=60000 --out="$out/$name.eval.json" \
    > /dev/null 2> "$out/$name.eval.log" || tail -3 "$out/$name.eval.log"
  for lang in ${OWN_LANGS:-}; do
    "$bin" eval --base=models/base-lm --hypernet="$out/$name" \
      --target_tokenizer="$lang=data/tokenizers/$lang/tokenizer.json" \
      --text="data/corpus/test/$lang.txt" --method=original,hypernet,fvt --max_bytes=60000 \
      --out="$out/$name.own-$lang.json" > /dev/null 2> "$out/$name.own-$lang.log" ||
      tail -3 "$out/$name.own-$lang.log"
  done
done
OWN_LANGS="${OWN_LANGS:-}" python3 - "$out" "$@" <<'PY'
import json, re, sys, os
out, specs = sys.argv[1], sys.argv[2:]
own_langs = os.environ.get("OWN_LANGS", "").split()

def records(path):
    recs = json.load(open(path))
    return recs["records"] if isinstance(recs, dict) else recs

def own_ratios(name):
    """hypernet / original and fvt / original bits per byte on each own-language target."""
    hn, fvt = [], []
    for lang in own_langs:
        try:
            recs = records(os.path.join(out, "%s.own-%s.json" % (name, lang)))
        except (OSError, ValueError, KeyError):
            return None
        bpb = {r["method"]: r["bits_per_byte"] for r in recs}
        hn.append(bpb["hypernet"] / bpb["original"])
        fvt.append(bpb["fvt"] / bpb["original"])
    return hn, fvt

names = [s.split("=", 1)[0] for s in specs]
flags = {s.split("=", 1)[0]: s.split("=", 1)[1] for s in specs}
scores = {}  # name -> (valid bits/byte, worst identity ratio)
own_head = " own-language hypernet / original, FVT / original (%s) |" % ", ".join(own_langs)
print("\n| run | steps | tok/s | valid bits/byte | identity hypernet / original (en, ru, zh, python, de) | known-row rel. error in / out |"
      + (own_head if own_langs else ""))
print("|---|---|---|---|---|---|" + ("---|" if own_langs else ""))
own_scores = {}
for name in names:
    log = open(os.path.join(out, name + ".log"), errors="replace").read()
    steps = re.findall(r"^step (\d+)/", log, re.M)
    toks = [float(x) for x in re.findall(r"\| (\d+) tok/s", log)][1:]
    valid = re.findall(r"^valid step \d+ .*?\| ([\d.]+) bits/byte", log, re.M)
    cells = ["-", "-"]
    try:
        recs = json.load(open(os.path.join(out, name + ".eval.json")))
        recs = recs["records"] if isinstance(recs, dict) else recs
        orig = {r["language"]: r["bits_per_byte"] for r in recs if r["method"] == "original"}
        hn = [r for r in recs if r["method"] == "hypernet"]
        ratios = [r["bits_per_byte"] / orig[r["language"]] for r in hn]
        cells[0] = ", ".join("%.3f" % x for x in ratios)
        if hn and valid:
            scores[name] = (float(valid[-1]), max(ratios))
        if hn:
            cells[1] = "%.4f / %.4f" % (hn[0]["known_error_in"], hn[0]["known_error_out"])
    except (OSError, ValueError, KeyError):
        pass
    if own_langs:
        ratios = own_ratios(name)
        if ratios:
            own_scores[name] = sum(ratios[0]) / len(ratios[0])
            cells.append("%s; %s (mean %.3f)" % (", ".join("%.3f" % x for x in ratios[0]),
                                                  ", ".join("%.3f" % x for x in ratios[1]),
                                                  own_scores[name]))
        else:
            cells.append("-")
    print("| " + " | ".join([name, steps[-1] if steps else "-",
          "%.0f" % (sum(toks) / len(toks)) if toks else "-", valid[-1] if valid else "-"] + cells)
          + " |")
if scores:
    best_valid = min(v for v, _ in scores.values())
    eligible = [n for n, (v, _) in scores.items() if v <= 1.01 * best_valid]
    choice = min(eligible, key=lambda n: scores[n][1])
    print("\nchoice (lowest worst identity ratio within 1 %% of the best validation): %s, "
          "valid %.4f, worst identity %.4f" % (choice, *scores[choice]))
    open(os.path.join(out, "choice"), "w").write(choice + "\n" + flags[choice] + "\n")
exact = [n for n in own_scores if n in scores and scores[n][1] <= 1.01]
if exact:
    best = min(exact, key=lambda n: own_scores[n])
    print("zero-shot choice (lowest mean own-language ratio among identity <= 1.01): %s, "
          "mean %.4f" % (best, own_scores[best]))
PY

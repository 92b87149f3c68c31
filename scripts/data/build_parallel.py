"""Writes data/corpus/parallel/lohelp_test.jsonl: held-out LibreOffice help paragraphs aligned
across languages by (page, paragraph id), for comparing a model across languages on the same
content (bits per byte, tokens per paragraph). Data script, stdlib only.

Only pages of the test split (build_corpus.split_of on the language-independent page key) are
used, so no row's page is in any language's train split. A row holds the en-US text and every
translation that differs from it; rows with fewer than MIN_TRANSLATIONS translations, and ids
that occur twice on a page (they may be misaligned), are dropped.
Usage: build_parallel.py CACHE_ROOT OUT_FILE
"""

import collections
import json
import os
import sys

import build_corpus as bc
import corpus_sources as cs

MIN_TRANSLATIONS = 5


def write(root, out):
    """Writes the JSONL file; returns a one-line summary."""
    dirs = {}
    for lang, (lo, *_rest) in bc.LANGS.items():
        if lo:
            dirs[lang] = os.path.join(root, "libreoffice-help-" + lo.lower(), "usr/share/libreoffice/help", lo)
    en = cs.LibreOfficeHelp(dirs["en"], None)
    pages = sorted(k for k in en.units() if bc.split_of(k) == "test")
    rows = []
    for key in pages:
        rel = key.split(":", 1)[1]
        per_lang = {}
        for lang, d in dirs.items():
            path = os.path.join(d, rel)
            if not os.path.exists(path):
                continue
            items = cs.parse_html(path, cs.lohelp_want)
            counts = collections.Counter(i for i, _ in items)
            per_lang[lang] = {i: cs.clean_paragraph(t) for i, t in items if counts[i] == 1}
        for ident, text in per_lang["en"].items():
            if not text:
                continue
            row = {"page": rel, "id": ident, "en": text}
            for lang, paras in per_lang.items():
                t = paras.get(ident)
                if lang != "en" and t and t != text:
                    row[lang] = t
            if len(row) - 3 >= MIN_TRANSLATIONS:
                rows.append(row)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    per = collections.Counter(l for r in rows for l in r if l not in ("page", "id"))
    return "%d rows from %d test pages; per language: %s" % (
        len(rows), len(pages), " ".join("%s=%d" % kv for kv in sorted(per.items())))


def main():
    print("build_parallel: " + write(sys.argv[1], sys.argv[2]))


if __name__ == "__main__":
    sys.exit(main())

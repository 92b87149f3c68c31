"""Document extractors for the zett corpus (data script; not part of the product).

Every extractor is a `Source`: a name, a licence, and `units()`, the list of split keys it
offers. `document(key)` turns one unit into a list of clean paragraphs (possibly empty). Keys
are language-independent wherever the upstream text is parallel (LibreOffice help pages,
handbook chapters, .mo catalogues), so that the same page lands in the same split in every
language. Extraction is lazy: only units that a split's cap reaches are ever parsed.
"""

import gzip
import html.parser
import json
import os
import re
import struct
import subprocess
import unicodedata

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\ufeff]")


MAX_PARAGRAPH_CHARS = 10000  # longer "paragraphs" are indexes or tables flattened by groff
MAX_CODE_LINE_CHARS = 1000  # a longer line is embedded data (byte arrays, base64)


def clean_paragraph(text):
    """Prose paragraph: NFC, no control characters, whitespace runs collapsed to one space;
    "" when it is longer than MAX_PARAGRAPH_CHARS."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _WS.sub(" ", text).strip()
    return "" if len(text) > MAX_PARAGRAPH_CHARS else text


def clean_code(text):
    """Source file: tabs kept, trailing spaces and blank lines dropped (a blank line ends a
    document); [] when a line is longer than MAX_CODE_LINE_CHARS."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\f", ""))
    lines = [l.rstrip() for l in text.split("\n")]
    if any(len(l) > MAX_CODE_LINE_CHARS for l in lines):
        return []
    return [l for l in lines if l.strip()]


class TextCapture(html.parser.HTMLParser):
    """Collects the text of elements selected by `want(tag, attrs)`; skips <script>/<style>/<pre>."""

    def __init__(self, want):
        super().__init__(convert_charrefs=True)
        self._want = want
        self._depth = 0  # > 0 while inside a captured element
        self._tag = None
        self._skip = 0
        self._buf = []
        self.items = []  # (id, text)
        self._id = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "pre"):
            self._skip += 1
            return
        if self._depth:
            if tag == self._tag:
                self._depth += 1
            if tag == "br":
                self._buf.append(" ")
            return
        attrs = dict(attrs)
        if self._want(tag, attrs):
            self._depth, self._tag, self._buf, self._id = 1, tag, [], attrs.get("id")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre"):
            self._skip = max(0, self._skip - 1)
            return
        if self._depth and tag == self._tag:
            self._depth -= 1
            if not self._depth:
                self.items.append((self._id, "".join(self._buf)))

    def handle_data(self, data):
        if self._depth and not self._skip:
            self._buf.append(data)


def parse_html(path, want):
    p = TextCapture(want)
    with open(path, encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    p.close()
    return p.items


class Source:
    name = ""
    licence = ""
    kind = "prose"  # or "code"

    def units(self):
        raise NotImplementedError

    def document(self, key):
        raise NotImplementedError


def lohelp_want(tag, attrs):
    ident = attrs.get("id") or ""
    return tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6") and (
        ident.startswith("par_id") or ident.startswith("hd_id"))


class LibreOfficeHelp(Source):
    """LibreOffice 7.4 help pages; paragraphs that equal the en-US paragraph of the same id are
    untranslated fallbacks and dropped (except for en-US itself)."""

    licence = "MPL-2.0"

    name = "libreoffice-help"

    def __init__(self, lang_dir, en_dir):
        """`lang_dir`: .../help/<lang>; `en_dir`: .../help/en-US, or None for en-US itself."""
        self._dir, self._en = lang_dir, en_dir

    def units(self):
        keys = []
        for d, _, files in os.walk(os.path.join(self._dir, "text")):
            for f in files:
                if f.endswith(".html"):
                    keys.append("lohelp:" + os.path.relpath(os.path.join(d, f), self._dir))
        return keys

    def document(self, key):
        rel = key.split(":", 1)[1]
        items = parse_html(os.path.join(self._dir, rel), lohelp_want)
        english = {}
        if self._en:
            en_path = os.path.join(self._en, rel)
            if os.path.exists(en_path):
                english = {i: clean_paragraph(t) for i, t in parse_html(en_path, lohelp_want)}
        out = []
        for ident, text in items:
            text = clean_paragraph(text)
            if text and english.get(ident) != text:
                out.append(text)
        return out


def _handbook_want(tag, attrs):
    cls = attrs.get("class") or ""
    return (tag == "div" and cls == "para") or (tag in ("h1", "h2", "h3", "h4") and "title" in cls)


class DebianHandbook(Source):
    """Debian Administrator's Handbook chapters; paragraphs that also occur in the en-US
    chapter are untranslated and dropped."""

    name = "debian-handbook"
    licence = "GPL-2.0+ or CC-BY-SA-3.0"

    def __init__(self, root, lang_dir):
        self._dir = os.path.join(root, lang_dir)
        self._en = os.path.join(root, "en-US") if lang_dir != "en-US" else None

    def units(self):
        return ["handbook:" + f for f in sorted(os.listdir(self._dir)) if f.endswith(".html")]

    def _paragraphs(self, path):
        return [clean_paragraph(t) for _, t in parse_html(path, _handbook_want)]

    def document(self, key):
        f = key.split(":", 1)[1]
        paras = self._paragraphs(os.path.join(self._dir, f))
        english = set()
        if self._en and os.path.exists(os.path.join(self._en, f)):
            english = set(self._paragraphs(os.path.join(self._en, f)))
        return [p for p in paras if p and p not in english]


class ManPages(Source):
    """Man pages rendered with groff to UTF-8 text; a page is a document, a rendered line (after
    re-joining lines groff wrapped) a paragraph. Header and footer lines are dropped."""

    name = "manpages"
    licence = "GPL-3.0+ (manpages-l10n); Linux man-pages: various free (see copyright)"
    WRAP_COLUMN = 280  # groff renders with -rLL=300n; lines this long were wrapped

    def __init__(self, man_dir):
        self._dir = man_dir

    def units(self):
        keys = []
        for d, _, files in os.walk(self._dir):
            if not os.path.basename(d).startswith("man"):
                continue
            for f in files:
                p = os.path.join(d, f)
                if f.endswith(".gz") and not os.path.islink(p):
                    keys.append("man:" + os.path.relpath(p, self._dir))
        return keys

    def document(self, key):
        path = os.path.join(self._dir, key.split(":", 1)[1])
        with gzip.open(path, "rb") as f:
            src = f.read()
        if src.lstrip().startswith(b".so "):
            return []
        try:
            r = subprocess.run(
                "preconv | groff -mandoc -Tutf8 -P-cbou -rLL=300n -rHY=0 -dAD=l 2>/dev/null",
                shell=True, input=src, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return []
        lines = r.stdout.decode("utf-8", errors="replace").split("\n")
        # First and last non-empty lines are the "NAME(1) ... NAME(1)" header and the footer.
        nonempty = [i for i, l in enumerate(lines) if l.strip()]
        if len(nonempty) < 3:
            return []
        lines = lines[nonempty[0] + 1:nonempty[-1]]
        # groff breaks lines only at the 300-column limit; a shorter line ends its paragraph
        # (headings, synopsis lines and list items stay lines of their own).
        out, prev_len = [], 0
        for l in lines:
            if not l.strip():
                prev_len = 0
                continue
            if prev_len >= self.WRAP_COLUMN and out:
                out[-1] += " " + l.strip()
            else:
                out.append(l.strip())
            prev_len = len(l)
        return [p for p in (clean_paragraph(x) for x in out) if p]


class Fortunes(Source):
    """fortune(6) cookie files; one cookie is one unit and one document."""

    name = "fortunes"
    licence = "GPL-2.0+ / public domain items (see package copyright)"

    def __init__(self, files):
        self._cookies = {}
        for path in files:
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (UnicodeDecodeError, OSError):
                continue
            for i, cookie in enumerate(text.split("\n%\n")):
                self._cookies["fortune:%s#%d" % (os.path.basename(path), i)] = cookie

    def units(self):
        return list(self._cookies)

    def document(self, key):
        # Keep the cookie's line structure (poems, dialogues), but normalise each line.
        lines = [clean_paragraph(l) for l in self._cookies[key].strip("%\n").split("\n")]
        return [l for l in lines if l]


def fortune_files(dirs):
    out = []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p) and not f.endswith(".dat"):
                out.append(p)
    return out


class Quran(Source):
    """quran-json verses; a unit is a group of 10 consecutive verses of one surah (parallel
    across translations)."""

    name = "quran-json"
    licence = "CC-BY-SA-4.0"

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            chapters = json.load(f)
        self._groups = {}
        for ch in chapters:
            verses = ch["verses"]
            for g in range(0, len(verses), 10):
                key = "quran:%d:%d" % (ch["id"], g // 10)
                self._groups[key] = [v.get("translation", v["text"]) for v in verses[g:g + 10]]

    def units(self):
        return list(self._groups)

    def document(self, key):
        return [p for p in (clean_paragraph(v) for v in self._groups[key]) if p]


def read_mo(path):
    """GNU .mo catalogue -> {msgid: msgstr} (first plural form; context stripped)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">"
    _, n, orig, trans = struct.unpack(endian + "4I", data[4:20])
    out = {}
    for i in range(n):
        ol, oo = struct.unpack(endian + "2I", data[orig + 8 * i:orig + 8 * i + 8])
        tl, to = struct.unpack(endian + "2I", data[trans + 8 * i:trans + 8 * i + 8])
        msgid = data[oo:oo + ol].decode("utf-8", errors="replace")
        if not msgid:
            continue
        msgstr = data[to:to + tl].decode("utf-8", errors="replace").split("\x00")[0]
        out[msgid.split("\x04")[-1].split("\x00")[0]] = msgstr
    return out


class MoStrings(Source):
    """LibreOffice UI strings (.mo); a unit is a chunk of 40 strings of one catalogue in msgid
    order. Strings equal to their English msgid are untranslated and dropped."""

    name = "libreoffice-l10n"
    licence = "MPL-2.0"

    def __init__(self, mo_dir):
        self._chunks = {}
        for f in sorted(os.listdir(mo_dir)):
            if not f.endswith(".mo"):
                continue
            cat = read_mo(os.path.join(mo_dir, f))
            items = [cat[k] for k in sorted(cat) if cat[k] and cat[k] != k]
            for c in range(0, len(items), 40):
                self._chunks["mo:%s#%d" % (f, c // 40)] = items[c:c + 40]

    def units(self):
        return list(self._chunks)

    def document(self, key):
        out = []
        for s in self._chunks[key]:
            s = clean_paragraph(s.replace("~", ""))
            if s:
                out.append(s)
        return out


_GENERATED = re.compile(r"do not edit|generated by|autogenerated|auto-generated", re.IGNORECASE)


class CodeFiles(Source):
    """Source files under `root` with suffix `ext`; skips test data, files > 256 KB, and
    generated files (a "DO NOT EDIT" / "generated by" mark in the first 20 lines: tables, syscall
    lists), which are not the code a model should learn from."""

    kind = "code"

    def __init__(self, name, licence, root, ext, skip_dirs):
        self.name, self.licence = name, licence
        self._root, self._ext, self._skip = root, ext, set(skip_dirs)

    def units(self):
        keys = []
        for d, dirs, files in os.walk(self._root):
            dirs[:] = [x for x in dirs if x not in self._skip]
            for f in files:
                p = os.path.join(d, f)
                if f.endswith(self._ext) and not os.path.islink(p) and os.path.getsize(p) <= 256 * 1024:
                    keys.append("code:" + os.path.relpath(p, self._root))
        return keys

    def document(self, key):
        try:
            with open(os.path.join(self._root, key.split(":", 1)[1]), encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            return []
        if _GENERATED.search("\n".join(text.split("\n", 20)[:20])):
            return []
        return clean_code(text)

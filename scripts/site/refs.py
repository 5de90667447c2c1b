r"""Anchors and references on the book's proof pages, computed from their Markdown (no MkDocs needed).

* Every display equation with ``\tag{n}`` gets the id ``eq-n`` (``\tag{CV}`` gets ``eq-cv``), and every
  theorem-like label in bold (``**Theorem 3 (characterisation).**``, ``**Proposition (a).**``,
  ``**Exercise 2.**``) the id ``thm-3``, ``prop-a``, ``ex-2``: ids are per page, like the numbers.
* In the prose, ``(15)``, ``(15)–(16)``, ``Theorem 3`` and ``exercise 1`` become links to those ids when
  the page has them; a named tag such as ``(BPD)`` links to the page of the book that defines it.
* Inline code that names an object exported by a ``dnnf`` package (``project_box(y, lower, upper)``,
  ``dnnf.training.train_flow``) becomes an mkdocstrings/autorefs cross-reference to that object's own
  entry in the API reference, so a name that does not exist fails ``mkdocs build --strict``.

Text inside math, code, links, headings and HTML comments is never touched.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

KINDS = {  # label word -> id prefix
    "Theorem": "thm",
    "Lemma": "lemma",
    "Proposition": "prop",
    "Corollary": "cor",
    "Definition": "def",
    "Exercise": "ex",
}
# "**Theorem 3 (rates).**", "**Proposition (a).**", "**Lemma (leap).**", "**Exercise 1 (a moving support).**"
LABEL = re.compile(
    r"\*\*(?P<kind>" + "|".join(KINDS) + r")\s+(?:(?P<num>\d+)|\((?P<name>[\w-]+)\))(?P<rest>[^*\n]*?)\*\*"
)
TAG = re.compile(r"\\tag\*?\{([^{}]*)\}")
# What must never be rewritten, in the order the scanner tries it at each position.
PROTECTED = re.compile(
    r"(?P<fence>^[ \t]*(?P<ticks>```+|~~~+).*?^[ \t]*(?P=ticks)[ \t]*$)"
    r"|(?P<comment><!--.*?-->)"
    r"|(?P<heading>^\#{1,6}[ \t].*?$)"
    r"|(?P<code>(?P<bt>`+)(?!`).+?(?<!`)(?P=bt)(?!`))"
    r"|(?P<dmath>\$\$.*?\$\$)"
    r"|(?P<mathtag>\(\$[^$\n]{1,6}\$\))"
    r"|(?P<imath>(?<![\\$])\$(?:[^$\\]|\\.)+?\$)"
    r"|(?P<link>!?\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])(?:\{[^}\n]*\})?)"
    r"|(?P<html><[A-Za-z/][^>\n]*>)"
    r"|(?P<label>" + LABEL.pattern + r"(?:\{[^}\n]*\})?)",
    re.S | re.M,
)
MATH_TAG = re.compile(r"\(\$[^$\n]{1,6}\$\)")
EQ_REF = re.compile(r"\((?P<tag>\d+[a-z]?|[A-Z]{1,5})\)")
THM_REF = re.compile(r"\b(?P<kind>" + "|".join(KINDS) + r"|exercise)\s+(?P<num>\d+|\([a-z]\))(?![\w.]\w)")


def slug(text: str) -> str:
    """``15`` -> ``15``, ``CV`` -> ``cv``, ``$*$`` -> ``star``: the part of an id after ``eq-``."""
    text = text.replace("$", "").replace("*", "star").strip().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


@dataclass(frozen=True)
class Anchor:
    """One numbered result on a page: its id, what the reader sees ("(15)", "Theorem 3"), its line."""

    id: str
    label: str
    line: int

    @property
    def is_equation(self) -> bool:
        return self.id.startswith("eq-")


def split_protected(md: str) -> list[tuple[bool, str]]:
    """Cut Markdown into ``(is_prose, text)`` pieces; only prose pieces may be rewritten."""
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in PROTECTED.finditer(md):
        if m.start() > pos:
            pieces.append((True, md[pos : m.start()]))
        pieces.append((False, m.group(0)))
        pos = m.end()
    pieces.append((True, md[pos:]))
    return pieces


def _line_of(md: str, index: int) -> int:
    return md.count("\n", 0, index) + 1


def assign_anchors(md: str) -> tuple[str, list[Anchor]]:
    """Give ids to tagged display equations and theorem-like labels; return the new Markdown and them."""
    anchors: list[Anchor] = []
    lines = md.split("\n")
    out: list[str] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence or not stripped.startswith("$$"):
            out.append(line)
            i += 1
            continue
        # a display block: from this "$$" line to the line that closes it
        j = i if (stripped.endswith("$$") and len(stripped) > 2) else i + 1
        while j < len(lines) and not lines[j].rstrip().endswith("$$"):
            j += 1
        block = lines[i : j + 1]
        tags = TAG.findall("\n".join(block))
        if tags:
            indent = line[: len(line) - len(line.lstrip())]
            new = [Anchor(f"eq-{slug(tag)}", f"({tag})", i + 1) for tag in tags]
            anchors.extend(new)
            # md_in_html keeps the equation Markdown; the wrapper survives KaTeX replacing the inner div.
            # The rows of a multi-line display after the first get empty anchors of their own.
            out.append(f'{indent}<div class="dnnf-equation" id="{new[0].id}" markdown>')
            out.extend(f'{indent}<span class="dnnf-equation-anchor" id="{a.id}"></span>' for a in new[1:])
            out.append("")
            out.extend(block)
            out.append("")
            out.append(f"{indent}</div>")
        else:
            out.extend(block)
        i = j + 1
    md = "\n".join(out)

    def label(m: re.Match[str]) -> str:
        key = m.group("num") or slug(m.group("name"))
        shown = m.group("num") or f"({m.group('name')})"
        anchors.append(
            Anchor(f"{KINDS[m.group('kind')]}-{key}", f"{m.group('kind')} {shown}", _line_of(md, m.start()))
        )
        # the label links to itself, so a reader can copy the link to "Theorem 3" of this page
        return f"**[{m.group(0)[2:-2]}](#{anchors[-1].id})**{{#{anchors[-1].id} .dnnf-claim}}"

    pieces = []
    for prose, text in split_protected(md):
        pieces.append(LABEL.sub(label, text) if not prose and text.startswith("**") else text)
    md = "".join(pieces)
    if not any(a.id.startswith("ex-") for a in anchors):
        md = _number_listed_exercises(md, anchors)
    return md, sorted(anchors, key=lambda a: a.line)


def _number_listed_exercises(md: str, anchors: list[Anchor]) -> str:
    """Exercises written as a numbered list under "## Exercises": item n gets the id ``ex-n``."""
    lines = md.split("\n")
    inside = False
    for i, line in enumerate(lines):
        if line.startswith("## "):
            inside = line[3:].strip().lower() in {"exercise", "exercises"}
            continue
        m = re.match(r"(\d+)\.\s", line) if inside else None
        if m:
            anchors.append(Anchor(f"ex-{m.group(1)}", f"Exercise {m.group(1)}", i + 1))
            lines[i] = (
                f'{line[: m.end()]}<span class="dnnf-claim" id="ex-{m.group(1)}"></span>{line[m.end() :]}'
            )
    return "\n".join(lines)


def link_references(
    md: str, ids: set[str], elsewhere: dict[str, str], chapter: tuple[str, set[str]] | None = None
) -> str:
    """Turn ``(15)``, ``Theorem 3``, ``exercise 1`` in prose into links to ``#eq-15`` etc.

    ``ids`` are the anchors of this page. ``elsewhere`` maps an equation id that this page lacks and
    exactly one other page of the chapter has (``eq-bpd``, or ``eq-9`` where a chapter numbers through
    its pages) to that page's URL relative to this one. ``chapter`` is the chapter page's URL and ids,
    for "chapter equation (5)" on a section page that has a (5) of its own.
    """

    def eq(m: re.Match[str]) -> str:
        target = f"eq-{slug(m.group('tag'))}"
        before = m.string[max(0, m.start() - 20) : m.start()]
        if re.search(r"[\d*]\s*$", before):
            return m.group(0)  # "1036 (3)", "**392** (0)": a count in brackets after a number
        if chapter is not None and target in chapter[1] and re.search(r"chapter(?: equation|'s)\s*$", before):
            return f"[{m.group(0)}]({chapter[0]}#{target})"
        if target in ids:
            return f"[{m.group(0)}](#{target})"
        if target in elsewhere:
            return f"[{m.group(0)}]({elsewhere[target]}#{target})"
        return m.group(0)

    def thm(m: re.Match[str]) -> str:
        kind = m.group("kind").capitalize()
        target = f"{KINDS[kind]}-{slug(m.group('num').strip('()'))}"
        return f"[{m.group(0)}](#{target})" if target in ids else m.group(0)

    out = []
    for prose, text in split_protected(md):
        if prose:
            text = THM_REF.sub(thm, EQ_REF.sub(eq, text))
        elif MATH_TAG.fullmatch(text) and f"eq-{slug(text)}" in ids:
            text = f"[{text}](#eq-{slug(text)})"  # "($*$)": a tag written in math
        out.append(text)
    return "".join(out)


# ------------------------------------------------------------------------------------------ API names
def exported_names(package_dir: Path, documented_only: bool = True) -> dict[str, str]:
    """Map every documented name in a ``__all__`` of the package to its public path (read with ``ast``).

    A name exported by a package and by one of its modules maps to the package: ``project_box`` ->
    ``dnnf.projection.project_box``, which mkdocstrings resolves to the object's own entry. Only objects
    with a docstring are listed unless ``documented_only`` is false: mkdocstrings gives the others no
    entry, so there is nothing to link to.
    """
    names: dict[str, str] = {}
    documented: set[str] = set()
    root = package_dir.parent
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(root)
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        body = ast.parse(path.read_text(encoding="utf-8")).body
        documented |= _documented(body)
        if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
            continue
        for node in body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "__all__" for t in node.targets
            ):
                for name in ast.literal_eval(node.value):
                    current = names.get(name)
                    if current is None or module.count(".") < current.count("."):
                        names[name] = f"{module}.{name}"
    return {name: path for name, path in names.items() if name in documented or not documented_only}


def _documented(body: list[ast.stmt]) -> set[str]:
    """Module-level functions, classes and constants that carry a docstring."""
    found = set()
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if ast.get_docstring(node) is not None:
                found.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(after, ast.Expr):
            if isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


LINKED_CODE = re.compile(r"\[`(?P<code>[^`\n]+)`\]\((?P<href>[^)#\s]*api/[^)\s]*)\)")


def api_target(code: str, names: dict[str, str]) -> str | None:
    """The public path of the exported object that inline code names, or None."""
    m = re.match(r"[A-Za-z_][\w.]*", code)
    if not m:
        return None
    dotted = m.group(0)
    last = dotted.rsplit(".", 1)[-1]
    if last not in names:
        return None
    if "." in dotted and not dotted.startswith("dnnf."):
        return None  # `torch.clamp`, `flow.log_prob`: not a dnnf object
    if dotted.startswith("dnnf.") and names[last].rsplit(".", 1)[0] not in dotted:
        return dotted  # an explicit path that disagrees: autorefs decides, and fails loudly if wrong
    return names[last]


def link_api_names(md: str, names: dict[str, str]) -> tuple[str, int]:
    """Make inline code naming exported objects autorefs links; return the Markdown and how many."""
    count = 0

    def relink(m: re.Match[str]) -> str:
        nonlocal count
        target = api_target(m.group("code"), names)
        if target is None:
            return m.group(0)
        count += 1
        return f"[`{m.group('code')}`][{target}]"

    def code(span: str) -> str:
        nonlocal count
        target = api_target(span.strip("`").strip(), names)
        if target is None:
            return span
        count += 1
        return f"[{span}][{target}]"

    out = []
    for prose, text in split_protected(md):
        if not prose and text.startswith("[`"):
            text = LINKED_CODE.sub(relink, text)
        elif not prose and text.startswith("`") and not text.startswith("```"):
            text = code(text)
        out.append(text)
    return "".join(out), count

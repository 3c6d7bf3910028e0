"""The pages run in Chromium 103, the browser source of OBS 28-30 and Streamlabs Desktop
(OBS 31+ has 127): no JavaScript, CSS or HTML feature newer than Chromium 103 in what the
pages are served, unless its fallback is there too.

A list of known post-103 features (with the Chromium version that brought each) is looked
for in every served script and stylesheet and in each page's HTML, comments aside. A CSS
feature inside ``@supports`` is guarded; an unprefixed ``mask-*`` or ``image-set()`` needs
its ``-webkit-`` twin in the same rule; ``scrollbar-width`` / ``scrollbar-color`` need a
``::-webkit-scrollbar`` rule in the same file. The browser tests run the pages themselves
(in a newer Chromium: this catches what they cannot)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tunedeck.web.assets import STATIC, WEB_DIR

PAGES = (
    "dashboard/index.html",
    "overlay/overlay.html",
    "overlay/builder.html",
    "queue_page/queue.html",
    "setup/index.html",
)


@dataclass(frozen=True)
class Feature:
    name: str
    chromium: int
    pattern: str


CSS_FEATURES = [
    Feature(":has()", 105, r":has\("),
    Feature("container queries", 105, r"@container\b|\bcontainer(-type|-name)?\s*:"),
    Feature("container query units", 105, r"\d(cqw|cqh|cqi|cqb|cqmin|cqmax)\b"),
    Feature(":modal", 105, r":modal\b"),
    Feature(
        "dynamic viewport units", 108, r"\d(dvh|svh|lvh|dvw|svw|lvw|dvb|svb|lvb|dvi|svi|lvi)\b"
    ),
    Feature("lh units", 109, r"\d(r?lh)\b"),
    Feature("color-mix()", 111, r"\bcolor-mix\("),
    Feature("CSS Color 4 spaces", 111, r"(?<![-\w])(oklch|oklab|lab|lch|color)\("),
    Feature("CSS nesting", 112, r"&"),
    Feature("linear() easing", 113, r"(?<![-\w])linear\("),
    Feature("text-wrap", 114, r"\btext-wrap(-mode|-style)?\s*:"),
    Feature(":popover-open", 114, r":popover-open\b"),
    Feature(
        "scroll-driven animations", 115, r"\b(animation-timeline|scroll-timeline|view-timeline)\b"
    ),
    Feature("@starting-style", 117, r"@starting-style\b"),
    Feature("transition-behavior", 117, r"\btransition-behavior\s*:"),
    Feature("@scope", 118, r"@scope\b"),
    Feature(":user-valid / :user-invalid", 119, r":user-(in)?valid\b"),
    Feature(":dir()", 120, r":dir\("),
    Feature("field-sizing", 123, r"\bfield-sizing\s*:"),
    Feature("light-dark()", 123, r"\blight-dark\("),
    Feature("anchor positioning", 125, r"\b(anchor-name|position-anchor)\s*:|(?<![-\w])anchor\("),
    Feature("font-size-adjust", 127, r"\bfont-size-adjust\s*:"),
    Feature("individual transforms", 104, r"(?<![-\w])(translate|rotate|scale)\s*:"),
    Feature("media query ranges", 104, r"@media[^{]*\([^)]*[<>]"),
]
JS_FEATURES = [
    Feature("Array change-by-copy", 110, r"\.(toSorted|toReversed|toSpliced)\(|\.with\("),
    Feature("String well-formed", 111, r"\.(isWellFormed|toWellFormed)\("),
    Feature("View transitions", 111, r"\bstartViewTransition\b"),
    Feature("Element.checkVisibility", 105, r"\bcheckVisibility\("),
    Feature("Response.json()", 105, r"\bResponse\.json\("),
    Feature("popover API", 114, r"\b(showPopover|hidePopover|togglePopover)\b"),
    Feature("scrollend", 114, r"[\"']scrollend[\"']"),
    Feature("AbortSignal.any", 116, r"\bAbortSignal\.any\b"),
    Feature("Object.groupBy / Map.groupBy", 117, r"\b(Object|Map)\.groupBy\b"),
    Feature("Promise.withResolvers", 119, r"\bPromise\.withResolvers\b"),
    Feature("URL.canParse", 120, r"\bURL\.canParse\b"),
    Feature("CloseWatcher", 120, r"\bCloseWatcher\b"),
    Feature("Array.fromAsync", 121, r"\bArray\.fromAsync\b"),
    Feature(
        "Set methods",
        122,
        r"\.(union|intersection|difference|symmetricDifference|isSubsetOf|isSupersetOf"
        r"|isDisjointFrom)\(",
    ),
    Feature("Iterator helpers", 122, r"\bIterator\.(from|prototype)\b"),
    Feature("import attributes", 123, r"\bfrom\s*[\"'][^\"']+[\"']\s*(with|assert)\s*\{"),
    Feature("URL.parse", 126, r"\bURL\.parse\("),
    Feature("Promise.try", 128, r"\bPromise\.try\b"),
    Feature("Intl.DurationFormat", 129, r"\bIntl\.DurationFormat\b"),
    Feature("explicit resource management", 134, r"^\s*(await\s+)?using\s+\w+\s*="),
    Feature("Float16Array", 135, r"\bFloat16Array\b"),
    Feature("RegExp.escape", 136, r"\bRegExp\.escape\b"),
]
HTML_FEATURES = [
    Feature("popover attribute", 114, r"\spopover(=|\s|>)"),
    Feature("<search>", 118, r"<search[\s>]"),
    Feature("dialog closedby", 134, r"\sclosedby="),
]
# Unprefixed properties and values that Chromium 103 knows only with -webkit-.
PREFIXED = [
    Feature("mask-*", 120, r"(?<![-\w])(mask|mask-image|mask-size|mask-position|mask-repeat)\s*:"),
    Feature("image-set()", 113, r"(?<![-\w])image-set\("),
]
SCROLLBAR = Feature("scrollbar-width / scrollbar-color", 121, r"\bscrollbar-(width|color)\s*:")


def _without_block(css: str, start: int) -> tuple[str, int]:
    """``css`` without the braced block opening at or after ``start``."""
    depth = 0
    for index in range(css.index("{", start), len(css)):
        depth += {"{": 1, "}": -1}.get(css[index], 0)
        if depth == 0:
            return css[:start] + css[index + 1 :], start
    return css[:start], start


def css_problems(css: str) -> list[str]:
    """What a stylesheet uses that Chromium 103 lacks, without a fallback."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\"[^\"]*\"|'[^']*'", '""', css)
    scrollbar_fallback = "::-webkit-scrollbar" in css
    guarded = css
    while (match := re.search(r"@supports\b", guarded)) is not None:
        guarded, _ = _without_block(guarded, match.start())
    found = [
        f"{f.name} (Chromium {f.chromium})" for f in CSS_FEATURES if re.search(f.pattern, guarded)
    ]
    for rule in re.findall(r"\{([^{}]*)\}", guarded):
        for feature in PREFIXED:
            for match in re.finditer(feature.pattern, rule):
                twin = "-webkit-" + match.group(0).rstrip(":( \t").strip()
                if twin not in rule:
                    found.append(f"{feature.name} without {twin} (Chromium {feature.chromium})")
    if re.search(SCROLLBAR.pattern, guarded) and not scrollbar_fallback:
        found.append(
            f"{SCROLLBAR.name} without ::-webkit-scrollbar (Chromium {SCROLLBAR.chromium})"
        )
    return found


def _named(features: list[Feature], text: str, flags: int = 0) -> list[str]:
    return [
        f"{f.name} (Chromium {f.chromium})" for f in features if re.search(f.pattern, text, flags)
    ]


def js_problems(js: str) -> list[str]:
    """What a script uses that Chromium 103 lacks."""
    js = re.sub(r"/\*.*?\*/", "", js, flags=re.S)
    js = re.sub(r"(?<![:\"'\w\\])//.*$", "", js, flags=re.M)
    return [
        f"{f.name} (Chromium {f.chromium})" for f in JS_FEATURES if re.search(f.pattern, js, re.M)
    ]


def html_problems(html: str) -> list[str]:
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    return [
        f"{f.name} (Chromium {f.chromium})" for f in HTML_FEATURES if re.search(f.pattern, html)
    ]


@pytest.mark.parametrize("name", sorted(n for n in STATIC.assets if n.endswith((".js", ".css"))))
def test_served_files_need_nothing_newer_than_chromium_103(name: str) -> None:
    text = STATIC.assets[name].body.decode()
    problems = css_problems(text) if name.endswith(".css") else js_problems(text)
    assert problems == [], f"{name}: {problems}"


@pytest.mark.parametrize("page", PAGES)
def test_pages_need_nothing_newer_than_chromium_103(page: str) -> None:
    html = (WEB_DIR / page).read_text(encoding="utf-8")
    assert html_problems(html) == []
    assert '<script type="module"' in STATIC.render(html)


@pytest.mark.parametrize(
    ("css", "flagged"),
    [
        (".a { mask-image: linear-gradient(#000, transparent); }", True),
        (".a { -webkit-mask-image: x; mask-image: x; }", False),
        (".tabs { scrollbar-width: thin; }", True),
        (".tabs { scrollbar-width: thin; } .tabs::-webkit-scrollbar { height: 6px; }", False),
        (".a:has(.b) { color: red; }", True),
        ("@supports selector(:has(a)) { .a:has(.b) { color: red; } }", False),
        ("@container (min-width: 400px) { .a { color: red; } }", True),
        (".a { .b { color: red; } & .c { color: blue; } }", True),
        (".a { text-wrap: balance; }", True),
        (".a { color: color-mix(in srgb, red, blue); }", True),
        (".a { height: 100dvh; }", True),
        (".a { scale: 1.1; }", True),
        (".a { --scale: 1.1; transform: scale(1.1); }", False),
        ("@media (width <= 600px) { .a { color: red; } }", True),
        ("@media (max-width: 600px) { .a { color: red; } }", False),
        (".a { background: image-set(url(a.png) 1x); }", True),
        ("/* mask-image: x; :has() */ .a { color: red; }", False),
        ('.a::after { content: "&"; }', False),
    ],
)
def test_the_css_check_knows_the_features(css: str, flagged: bool) -> None:
    assert bool(css_problems(css)) is flagged, css_problems(css)


@pytest.mark.parametrize(
    ("js", "flagged"),
    [
        ("const b = a.toSorted();", True),
        ("const g = Object.groupBy(items, (i) => i.kind);", True),
        ("const { promise, resolve } = Promise.withResolvers();", True),
        ("const both = a.union(b);", True),
        ("const s = AbortSignal.any([a, b]);", True),
        (
            "const c = structuredClone(a); const l = a.findLast((x) => x); const z = a?.b ?? 1;",
            False,
        ),
        ('const url = "ws://host/live"; // a.toSorted() in a comment', False),
        ('import data from "./data.json" with { type: "json" };', True),
    ],
)
def test_the_js_check_knows_the_features(js: str, flagged: bool) -> None:
    assert bool(js_problems(js)) is flagged, js_problems(js)

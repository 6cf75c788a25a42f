#!/usr/bin/env python3
"""Opens Cauce's HTML reports in headless Chromium, as a user would.

Runs the demo pipeline (etl -> trainer -> inference on the bundled penguins
data) in a scratch folder with the given binaries, then loads each report the
run produced and fails on: a console message (a script error, a CSP or
parse complaint), any resource the page would load (a report is one
self-contained file: no src=, no stylesheet link, no url() in CSS, so a load
can neither fail nor reach a network), a blank page (the screenshot has
almost no distinct bytes), an SVG chart with no marks, a tick label that
is not a short number, or a page or table wider than a 1280 px window
(issue 29.4). Screenshots are
kept in target/browser/ for a developer to look at.

usage: browser_test.py [--bin-dir target/debug] [--out target/browser]
       browser_test.py --check FILE.html...   (only the browser checks)
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def fail(message):
    sys.exit(f"browser test: {message}")


def chromium():
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    fail("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")


def browse(browser, page, *args):
    """Runs headless Chromium on `page`; returns (stdout, console lines)."""
    run = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
         *args, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    if run.returncode != 0:
        fail(f"{page}: chromium exited {run.returncode}: {run.stderr[-2000:]}")
    return run.stdout, console


def distinct_bytes(png):
    """Distinct byte values of a PNG's decompressed pixel data (with its
    filter bytes): a blank page has a handful, a drawn one hundreds."""
    data, at = png, 8
    pixels = b""
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        if kind == b"IDAT":
            pixels += data[at + 8:at + 8 + length]
        at += 12 + length
    return len(set(zlib.decompress(pixels)))


# The report's series colours (crates/report/src/plot.rs PALETTE, without
# black, which axes share): data marks are drawn in these, axes and grids not.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def marks(svg):
    """Data marks of a chart: the count the report writes on the chart
    (`data-marks`: finite points and non-empty bars it drew), when elements in
    a series colour are really there; 0 for a chart of axes and grid alone.
    Counting `<line>`/`<path>` elements could not tell: axes draw those."""
    declared = re.search(r'data-marks="(\d+)"', svg)
    if declared is None:
        fail("a chart without data-marks: was it drawn by crates/report/src/plot.rs?")
    coloured = sum(svg.upper().count(f'"{c.upper()}"') for c in SERIES_COLOURS)
    return int(declared.group(1)) if coloured else 0


# A number as a tick label draws it (plotters writes it as the text of an
# SVG <text>): short, as a person would write it.
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")


def long_ticks(svgs):
    """Tick labels printed as a float's full expansion (`0.30000000000000004`)
    or a count with a needless decimal (`200.0` beside whole counts)."""
    found = []
    for svg in svgs:
        texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        numbers = [t for t in texts if NUMBER.match(t)]
        found += [t for t in numbers if len(t) > 8 or len(t.split(".")[-1]) > 4 and "." in t]
    return found


def overflow(browser, page):
    """How far the page is wider than a 1280 px window, and how many of its
    scrolling boxes (`.wide` tables) hide columns at that width: measured
    by a copy of the page with one line of script added (the report itself
    has none)."""
    probe = page.with_name(f".probe-{page.name}")
    script = ("<script>const b=document.body;b.setAttribute('data-overflow',"
              "String(document.documentElement.scrollWidth-window.innerWidth));"
              "b.setAttribute('data-hidden',String([...document.querySelectorAll('.wide')]"
              ".filter(e=>e.scrollWidth>e.clientWidth+1).length));</script>")
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    try:
        dom, _ = browse(browser, probe, "--dump-dom", "--window-size=1280,900")
    finally:
        probe.unlink()
    wider = re.search(r'data-overflow="(-?\d+)"', dom)
    hidden = re.search(r'data-hidden="(\d+)"', dom)
    if wider is None or hidden is None:
        fail(f"{page}: the width probe did not run")
    return int(wider.group(1)), int(hidden.group(1))


def check(browser, page, shots):
    dom, console = browse(browser, page, "--dump-dom")
    if console:
        fail(f"{page}: console messages:\n" + "\n".join(console))
    if len(dom) < 500 or "<h1>" not in dom:
        fail(f"{page}: the page rendered nearly nothing ({len(dom)} bytes of DOM)")
    loads = re.findall(r"""\ssrc\s*=|<link[^>]+rel=["']?stylesheet|url\(|@import""", dom)
    if loads:
        fail(f"{page}: the page would load resources ({sorted(set(loads))}); a report must be "
             "self-contained")
    svgs = re.findall(r"<svg.*?</svg>", dom, flags=re.S)
    empty = [i for i, svg in enumerate(svgs) if marks(svg) == 0]
    if empty:
        fail(f"{page}: SVG chart(s) {empty} of {len(svgs)} have no marks")
    ticks = long_ticks(svgs)
    if ticks:
        fail(f"{page}: tick labels that are not short numbers: {sorted(set(ticks))[:6]}")
    wider, hidden = overflow(browser, page)
    if wider > 0 or hidden > 0:
        fail(f"{page}: at 1280 px the page is {wider} px too wide and {hidden} table(s) "
             "hide columns")
    kind = ("etl" if "processed" in page.parts else "predictions" if "predictions" in page.parts
            else page.parent.name)
    shot = shots / f"{kind}-{page.stem}.png"
    browse(browser, page, f"--screenshot={shot}", "--window-size=1280,1700",
           "--force-device-scale-factor=0.75")
    if not shot.exists():
        fail(f"{page}: no screenshot was written")
    distinct = distinct_bytes(shot.read_bytes())
    if distinct < 32:
        fail(f"{page}: the screenshot looks blank ({distinct} distinct bytes)")
    print(f"browser test: {page}: {len(svgs)} chart(s), no console message, "
          f"screenshot {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}")


def pipeline(bins, work):
    """The demo pipeline in `work`, with the configs and data it ships."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "config", work / "config")
    shutil.copytree(ROOT / "data" / "raw", work / "data" / "raw")
    env = dict(os.environ, CAUCE_LOG_DIR=str(work / "logs"))
    config, model = "config/pipeline_config.yaml", "config/model_config.yaml"
    def stage(*cmd, expect=0):
        run = subprocess.run([str(c) for c in cmd], cwd=work, env=env, capture_output=True,
                             text=True)
        if run.returncode != expect:
            fail(f"{' '.join(map(str, cmd))} exited {run.returncode}, not {expect}: "
                 f"{run.stderr[-2000:]}")
        return run
    stage(bins / "etl", "--config", config)
    stage(bins / "trainer", "--config", model, "--pipeline-config", config)
    stage(bins / "trainer", "--config", model, "--pipeline-config", config, "--promote")
    stage(bins / "inference", "--config", config)
    # The same birds 1.5 kg heavier: past drift.fail, so the run fails
    # naming the column and publishes nothing.
    raw = (work / "data" / "raw" / "penguins.csv").read_text().splitlines()
    heavier = [raw[0]]
    for line in raw[1:]:
        cells = line.split(",")
        try:
            cells[5] = str(int(float(cells[5])) + 1500)
        except ValueError:
            pass
        heavier.append(",".join(cells))
    (work / "heavier.csv").write_text("\n".join(heavier) + "\n")
    failed = stage(bins / "inference", "--config", config, "--input", "heavier.csv",
                   "--output", "data/heavier", expect=1)
    left = [p for p in (work / "data" / "heavier").rglob("*") if p.is_file()]
    if "body_mass_g (PSI" not in failed.stderr or left:
        fail(f"the drifted run did not fail as it should: {failed.stderr[-2000:]}")
    print(f"browser test: drifted input refused: {failed.stderr.strip().splitlines()[-1]}")
    def report(dataset):
        folder = work / "data" / dataset
        return folder / json.loads((folder / "_manifest.json").read_text())["report"]["path"]
    return ([report("processed")] + sorted(work.glob("models/versioned/*/report.html"))
            + [work / "models" / "index.html", report("predictions")])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=str(ROOT / "target" / "debug"))
    parser.add_argument("--out", default=str(ROOT / "target" / "browser"))
    parser.add_argument("--check", nargs="+", help="only check these HTML files")
    parser.add_argument("--readme", action="store_true",
                        help="also copy one screenshot of each kind of report to docs/screenshots/")
    args = parser.parse_args()
    browser = chromium()
    out = Path(args.out).resolve()
    shots = out / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    pages = ([Path(p).resolve() for p in args.check] if args.check
             else pipeline(Path(args.bin_dir).resolve(), out / "work"))
    for page in pages:
        if not page.exists():
            fail(f"{page}: the pipeline did not write it")
        check(browser, page, shots)
    print(f"browser test: {len(pages)} report(s) passed")
    if args.readme:
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        for kind, name in (("etl-report", "data-quality"), ("v1-report", "model"),
                           ("models-index", "registry"), ("predictions-report", "predictions")):
            shutil.copy(shots / f"{kind}.png", docs / f"{name}.png")
        print(f"browser test: README screenshots in {docs.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

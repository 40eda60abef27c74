"""The documentation builds offline and warning-free, with the gallery executed, the API pages,
math rendered by the bundled MathJax and the Markdown pages."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.py"))
MATH_PAGES = ["how_it_works", "user_guide", "binarization"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("sphinx", "sphinx_gallery", "numpydoc", "myst_parser",
                   "pydata_sphinx_theme", "matplotlib"):
        pytest.importorskip(module)
    build = tmp_path_factory.mktemp("docs")
    # A copy of the sources: sphinx-gallery and autosummary write pages next to them.
    generated = shutil.ignore_patterns("_build", "generated", "auto_examples", "__pycache__")
    for folder in ("docs", "examples", "benchmarks"):
        shutil.copytree(ROOT / folder, build / folder, ignore=generated)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(build / "docs"), str(build / "html")],
        capture_output=True, text=True, timeout=900, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return build / "html"


def _page(site, name):
    return (site / f"{name}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_is_a_gallery_page_with_a_figure(site, example):
    page = _page(site, f"auto_examples/{example}")
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    figures = [src for src in images if "sphx_glr" in src]
    assert figures, f"{example}: no figure on its gallery page"
    for src in figures:
        assert (site / "auto_examples" / src).resolve().is_file(), src
    assert "sphx-glr-script-out" in page  # the printed output of the run is shown


@pytest.mark.parametrize("name", MATH_PAGES)
def test_math_is_rendered_by_the_bundled_mathjax(site, name):
    page = _page(site, name)
    assert re.search(r'class="math notranslate nohighlight"', page), name
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert scripts and not any(src.startswith(("http:", "https:", "//")) for src in scripts)
    for src in scripts:
        assert (site / src.split("?")[0]).resolve().is_file(), src


def test_the_site_loads_nothing_from_the_internet(site):
    for path in site.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?:)?//', page)
        assert not external, f"{path.relative_to(site)} loads an external resource"


def test_pages_with_plots_hold_images(site):
    for name in ("how_it_works", "benchmarks"):
        images = set(re.findall(r'<img[^>]+src="([^"]+\.png)"', _page(site, name)))
        assert len(images) >= 2, name  # distinct figures
        for src in images:
            assert (site / src).is_file(), src


@pytest.mark.parametrize("name", ["skmorph.BiMoNNClassifier", "skmorph.MorphologicalTransformer",
                                  "skmorph.binary.BinarizedNetwork",
                                  "skmorph.morphology.project_activable"])
def test_api_pages_have_parameter_tables(site, name):
    page = _page(site, f"generated/{name}")
    assert "Parameters" in page and "field-list" in page


def test_markdown_pages_are_part_of_the_site(site):
    index = _page(site, "index")
    assert 'href="binarization.html"' in index and 'href="benchmarks.html"' in index
    assert "Do upper level sets of the weights always contain the optimal element?" in _page(
        site, "binarization")

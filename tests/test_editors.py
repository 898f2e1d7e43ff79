"""The editors' pinned files: the pins against an independent record of the same files (strawberry's own GraphiQL
page), `kg assets fetch` against a registry on 127.0.0.1 (good, tampered and incomplete tarballs), and the pages'
choice between the installed copies and the CDN. The browser side (real Chromium, network blocked) is in
tests/test_browser.py."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import strawberry
from conftest import ROOT
from starlette.testclient import TestClient

from kg.app import create_app
from kg.settings import Settings
from kg.web.editors.assets import AssetError, fetch, pins, read_pins

INSTALLED = ROOT / ".tools" / "assets"
"""Where .ci/run installs the pinned files (`kg assets fetch --dir .tools/assets`)."""
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def installed() -> Path:
    if not all((INSTALLED / a.path).is_file() for a in pins().assets):
        message = f"the editors' files are not installed in {INSTALLED} (kg assets fetch --dir {INSTALLED})"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs them")
        pytest.skip(message)
    return INSTALLED


def test_pins_agree_with_strawberrys_record_of_the_same_files() -> None:
    """strawberry-graphql ships a GraphiQL page that loads graphiql and React from unpkg with SRI hashes it computed
    itself: wherever it names one of our exact files, the hash is ours."""
    page = (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text(encoding="utf-8")
    recorded = dict(re.findall(r'(?:src|href)="https://unpkg\.com/([^"]+)"\s+integrity="([^"]+)"', page))
    ours = {a.path: a.integrity for a in pins().assets}
    compared = {path: ours[path] for path in recorded if path in ours}
    if not compared:
        pytest.skip(f"strawberry's page names none of our pinned files now ({sorted(recorded)})")
    assert {path: recorded[path] for path in compared} == compared
    assert len(compared) == 4  # graphiql's script and style, react, react-dom


def test_every_editor_file_is_pinned_with_its_hashes() -> None:
    chosen = pins()
    assert set(chosen.editors) == {"yasgui", "graphiql"}
    for package in chosen.packages:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version), package  # exact versions, no ranges
        assert package.integrity.startswith("sha512-") and len(base64.b64decode(package.integrity[7:])) == 64
        for asset in package.files:
            assert asset.integrity.startswith("sha384-") and len(base64.b64decode(asset.integrity[7:])) == 48
    scripts = [a.package for a in chosen.editors["graphiql"].files if not a.is_style]
    assert scripts == ["react", "react-dom", "graphiql"]  # in the order they depend on each other


# -- kg assets fetch, from a registry on 127.0.0.1 -------------------------------------------------------------


def tarball(files: dict[str, bytes]) -> bytes:
    """A gzipped tarball laid out as npm packs one: every file under ``package/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo("package/" + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def integrity(algorithm: str, data: bytes) -> str:
    # computed with the standard library from the bytes written, independently of kg's sri()
    return algorithm + "-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes]]]:
    """An HTTP server on 127.0.0.1 answering the paths of ``served`` (a test fills it in), 404 otherwise."""
    served: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


SCRIPT = b"window.Demo = function () {};\n"
STYLE = b".demo { color: #123; }\n"


def write_pins(tmp_path: Path, tgz: bytes, *, script_hash: str | None = None, tgz_hash: str | None = None) -> Path:
    pins_file = tmp_path / "assets.json"
    package = {
        "package": "@demo/editor",
        "version": "1.2.3",
        "tarball": "@demo/editor/-/editor-1.2.3.tgz",
        "tarball_integrity": tgz_hash or integrity("sha512", tgz),
        "files": [
            {"file": "dist/demo.css", "integrity": integrity("sha384", STYLE)},
            {"file": "dist/demo.js", "integrity": script_hash or integrity("sha384", SCRIPT)},
        ],
    }
    files = {"files": ["@demo/editor/dist/demo.css", "@demo/editor/dist/demo.js"], "inline_styles": []}
    data = {"cdn": "https://cdn.example/npm/", "registry": "https://registry.example/", "packages": [package]}
    pins_file.write_text(json.dumps(data | {"editors": {"demo": files}}), encoding="utf-8")
    return pins_file


def test_fetch_installs_the_checked_files_once(tmp_path: Path, registry: tuple[str, dict[str, bytes]]) -> None:
    url, served = registry
    tgz = tarball({"dist/demo.css": STYLE, "dist/demo.js": SCRIPT, "README.md": b"not pinned"})
    served["/@demo/editor/-/editor-1.2.3.tgz"] = tgz
    chosen = read_pins(write_pins(tmp_path, tgz))
    target = tmp_path / "assets"
    written = fetch(target, chosen, registry=url)
    assert written == ["@demo/editor@1.2.3/dist/demo.css", "@demo/editor@1.2.3/dist/demo.js"]
    assert (target / "@demo/editor@1.2.3/dist/demo.js").read_bytes() == SCRIPT
    assert sorted(p.name for p in target.rglob("*") if p.is_file()) == ["demo.css", "demo.js"]
    del served["/@demo/editor/-/editor-1.2.3.tgz"]  # installed and intact: not downloaded again
    assert fetch(target, chosen, registry=url) == []


def test_fetch_refuses_a_tarball_that_is_not_the_registrys(
    tmp_path: Path, registry: tuple[str, dict[str, bytes]]
) -> None:
    url, served = registry
    tgz = tarball({"dist/demo.css": STYLE, "dist/demo.js": SCRIPT})
    served["/@demo/editor/-/editor-1.2.3.tgz"] = tgz
    pinned = integrity("sha512", b"the tarball the registry published")
    chosen = read_pins(write_pins(tmp_path, tgz, tgz_hash=pinned))
    with pytest.raises(AssetError, match=r"editor-1\.2\.3\.tgz has integrity sha512-.*; expected " + re.escape(pinned)):
        fetch(tmp_path / "assets", chosen, registry=url)
    assert not (tmp_path / "assets").exists()  # nothing half-written


def test_fetch_refuses_a_file_that_differs_from_its_sri(tmp_path: Path, registry: tuple[str, dict[str, bytes]]) -> None:
    url, served = registry
    tgz = tarball({"dist/demo.css": STYLE, "dist/demo.js": SCRIPT})
    served["/@demo/editor/-/editor-1.2.3.tgz"] = tgz
    pinned = integrity("sha384", b"window.Demo = 'another build';\n")
    chosen = read_pins(write_pins(tmp_path, tgz, script_hash=pinned))
    with pytest.raises(AssetError, match=r"@demo/editor@1\.2\.3/dist/demo\.js has integrity .*" + re.escape(pinned)):
        fetch(tmp_path / "assets", chosen, registry=url)
    assert not (tmp_path / "assets").exists()


def test_fetch_names_what_is_missing(tmp_path: Path, registry: tuple[str, dict[str, bytes]]) -> None:
    url, served = registry
    tgz = tarball({"dist/demo.css": STYLE})
    chosen = read_pins(write_pins(tmp_path, tgz))
    with pytest.raises(AssetError, match=r"editor-1\.2\.3\.tgz answered 404"):
        fetch(tmp_path / "assets", chosen, registry=url)
    served["/@demo/editor/-/editor-1.2.3.tgz"] = tgz
    with pytest.raises(AssetError, match=r"@demo/editor@1\.2\.3: the tarball has no file 'dist/demo\.js'"):
        fetch(tmp_path / "assets", chosen, registry=url)


def test_the_command_asks_for_a_folder() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KG_ASSETS_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "kg", "assets", "fetch"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    assert "give --dir DIR or set KG_ASSETS_DIR" in done.stderr


# -- the pages: installed copies, else the CDN ------------------------------------------------------------------


def page_links(html: str) -> dict[str, tuple[str, str]]:
    """The editor files a page loads: each URL with its integrity and crossorigin attributes."""
    found = re.findall(r'(?:src|href)="([^"]+)" integrity="([^"]+)" crossorigin="([^"]+)"', html)
    return {url: (sri, cors) for url, sri, cors in found}


@pytest.mark.parametrize(("path", "editor"), [("/sparql", "yasgui"), ("/graphql", "graphiql")])
def test_without_installed_files_the_pages_use_the_cdn_with_sri(tmp_path: Path, path: str, editor: str) -> None:
    with TestClient(create_app(Settings(assets_dir=tmp_path / "absent"))) as client:
        page = client.get(path, headers=HTML)
    assert page.status_code == 200
    expected = {
        "https://cdn.jsdelivr.net/npm/" + a.path: (a.integrity, "anonymous") for a in pins().editors[editor].files
    }
    assert page_links(page.text) == expected
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://cdn.jsdelivr.net;" in policy and "unsafe" not in policy
    assert "<script>" not in page.text  # no inline script: the settings are a JSON data block


def test_installed_files_are_served_here_with_long_caching(tmp_path: Path) -> None:
    directory = installed()
    with TestClient(create_app(Settings(assets_dir=directory))) as client:
        page = client.get("/sparql", headers=HTML)
        links = page_links(page.text)
        assert set(links) == {"/assets/" + a.path for a in pins().editors["yasgui"].files}
        assert "cdn.jsdelivr.net" not in page.headers["content-security-policy"]
        for url, (sri, _) in links.items():
            served = client.get(url)
            assert served.status_code == 200 and integrity("sha384", served.content) == sri
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert "default-src 'self'" in served.headers["content-security-policy"]
        assert client.get("/assets/graphiql@3.8.3/graphiql.min.js.map").status_code == 404  # only pinned files
        assert client.get("/assets/../pyproject.toml").status_code == 404


def test_an_altered_installed_file_is_not_served(tmp_path: Path) -> None:
    copy = tmp_path / "assets"
    shutil.copytree(installed(), copy)
    script = next(a for a in pins().editors["yasgui"].files if not a.is_style)
    with (copy / script.path).open("ab") as out:
        out.write(b"\n;alert(1)")
    with TestClient(create_app(Settings(assets_dir=copy))) as client:
        page = client.get("/sparql", headers=HTML)
        assert client.get("/assets/" + script.path).status_code == 404
    links = page_links(page.text)
    assert "https://cdn.jsdelivr.net/npm/" + script.path in links  # that file from the CDN, the style still here
    assert any(url.startswith("/assets/") for url in links)
    assert "script-src 'self' https://cdn.jsdelivr.net;" in page.headers["content-security-policy"]

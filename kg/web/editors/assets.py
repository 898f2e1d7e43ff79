"""The editors' pinned files: YASGUI for SPARQL, GraphiQL with React for GraphQL, each file from an exact npm version
with its Subresource Integrity hash (sha384), and each package's tarball with the registry's own ``dist.integrity``
(sha512), all in ``assets.json``. `kg assets fetch` downloads the tarballs from the npm registry, checks both hashes
and installs the files in a folder (KG_ASSETS_DIR) laid out as the CDN lays out its paths:
``@zazuko/yasgui@4.6.2/build/yasgui.min.js``."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

import httpx

from kg.curation.formatting import write_atomically

PINS: Final = Path(__file__).with_name("assets.json")
MAX_TARBALL_BYTES: Final = 50_000_000
"""A tarball larger than this is refused while it downloads (the pinned ones are under 10 MB)."""
FETCH_TIMEOUT: Final = 60.0
"""Seconds one tarball download may stall (connect, or wait between reads)."""


class AssetError(Exception):
    """A pinned file that cannot be fetched, does not match its hash, or is missing from its package."""


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    file: str
    integrity: str
    """The file's SRI hash, ``sha384-...``: the browser checks it too, from the page's ``integrity`` attribute."""

    @property
    def path(self) -> str:
        """Where the file sits in the assets folder, under /assets/ and on the CDN."""
        return f"{self.package}@{self.version}/{self.file}"

    @property
    def is_style(self) -> bool:
        return self.file.endswith(".css")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    tarball: str
    """The tarball's path on the registry (``react/-/react-18.2.0.tgz``)."""
    integrity: str
    """The registry's ``dist.integrity`` of the tarball, ``sha512-...``."""
    files: tuple[Asset, ...]


@dataclass(frozen=True)
class Editor:
    files: tuple[Asset, ...]
    """The files the editor's page loads, in order (styles, then scripts in the order they depend on each other)."""
    inline_styles: tuple[str, ...]
    """The CSP hashes (``sha256-...``) of the ``<style>`` elements the editor's scripts add to the page."""


@dataclass(frozen=True)
class Pins:
    cdn: str
    registry: str
    packages: tuple[Package, ...]
    editors: Mapping[str, Editor]

    @property
    def assets(self) -> tuple[Asset, ...]:
        return tuple(a for p in self.packages for a in p.files)


def read_pins(path: Path = PINS) -> Pins:
    """The pins of ``path``; an editor naming a file no package pins is an error naming both."""
    data = json.loads(path.read_text(encoding="utf-8"))
    packages = tuple(
        Package(
            name=p["package"],
            version=p["version"],
            tarball=p["tarball"],
            integrity=p["tarball_integrity"],
            files=tuple(Asset(p["package"], p["version"], f["file"], f["integrity"]) for f in p["files"]),
        )
        for p in data["packages"]
    )
    by_ref = {f"{a.package}/{a.file}": a for p in packages for a in p.files}
    editors: dict[str, Editor] = {}
    for editor, entry in data["editors"].items():
        missing = [r for r in entry["files"] if r not in by_ref]
        if missing:
            raise AssetError(f"{path}: editor {editor!r} loads {missing[0]!r}, which no package there pins")
        editors[editor] = Editor(tuple(by_ref[r] for r in entry["files"]), tuple(entry["inline_styles"]))
    return Pins(data["cdn"], data["registry"], packages, MappingProxyType(editors))


@cache
def pins() -> Pins:
    """The package's own pins (``assets.json``), read once."""
    return read_pins()


def sri(data: bytes, algorithm: str = "sha384") -> str:
    """The Subresource Integrity string of ``data`` (``sha384-`` and the base64 digest), as npm and browsers write."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode('ascii')}"


def matches(data: bytes, integrity: str) -> bool:
    algorithm, _, _ = integrity.partition("-")
    return algorithm in ("sha256", "sha384", "sha512") and sri(data, algorithm) == integrity


def verified(directory: Path, assets: tuple[Asset, ...]) -> set[str]:
    """The paths of ``assets`` installed in ``directory`` whose contents match their pinned hash."""
    found = set()
    for asset in assets:
        target = directory / asset.path
        if target.is_file() and matches(target.read_bytes(), asset.integrity):
            found.add(asset.path)
    return found


def download(client: httpx.Client, url: str, limit: int = MAX_TARBALL_BYTES) -> bytes:
    """The body at ``url``, refused past ``limit`` bytes; any failure is an AssetError naming the URL."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise AssetError(f"{url} answered {response.status_code}; expected 200 and the package's tarball")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise AssetError(f"{url} is larger than {limit} bytes; expected a package tarball")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise AssetError(f"could not fetch {url}: {exc}") from None


def unpack(package: Package, tarball: bytes) -> dict[str, bytes]:
    """The pinned files of ``package`` read from its checked tarball (npm puts them under one top folder,
    ``package/``), each checked against its SRI hash. Nothing is extracted to disk here."""
    wanted = {a.file: a for a in package.files}
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for member in archive:
                _, _, inside = member.name.partition("/")
                if member.isfile() and inside in wanted and inside not in contents:
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        contents[inside] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise AssetError(f"{package.name}@{package.version}: the tarball does not unpack ({exc})") from None
    for name, asset in wanted.items():
        if name not in contents:
            raise AssetError(f"{package.name}@{package.version}: the tarball has no file {name!r}")
        if not matches(contents[name], asset.integrity):
            raise AssetError(
                f"{asset.path} has integrity {sri(contents[name])}; expected {asset.integrity} (assets.json)"
            )
    return {wanted[name].path: data for name, data in contents.items()}


def fetch(
    directory: Path, chosen: Pins | None = None, registry: str | None = None, client: httpx.Client | None = None
) -> list[str]:
    """Install the pinned files in ``directory`` from the registry's tarballs, each tarball checked against its
    sha512 and each file against its sha384; returns the paths written. Files already installed and matching are
    kept; when any download or check fails nothing is written."""
    chosen = chosen or pins()
    base = (registry or chosen.registry).rstrip("/") + "/"
    present = verified(directory, chosen.assets)
    files: dict[str, bytes] = {}
    owned = client is None
    client = client or httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True)
    try:
        for package in chosen.packages:
            if all(a.path in present for a in package.files):
                continue
            url = base + package.tarball
            tarball = download(client, url)
            if not matches(tarball, package.integrity):
                raise AssetError(
                    f"{url} has integrity {sri(tarball, 'sha512')}; expected {package.integrity} "
                    "(the registry's dist.integrity, pinned in assets.json)"
                )
            files |= unpack(package, tarball)
    finally:
        if owned:
            client.close()
    for path, data in files.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(directory / path, data)
    return sorted(files)

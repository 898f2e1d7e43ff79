"""The editor pages: YASGUI at ``/sparql`` and GraphiQL at ``/graphql`` (for browsers), and their files at
``/assets/...``. Each file is the pinned one of ``assets.json``, named with its SRI hash in the page: served from this
server when `kg assets fetch` has installed it in KG_ASSETS_DIR (checked against its hash at start), else from the
CDN at the exact version. The pages run no inline script (the editor's settings are a JSON data block), and their
Content-Security-Policy allows scripts from this server and, only while some file still comes from it, the CDN."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from kg.errors import NotFound
from kg.web.editors.assets import Asset, Pins, pins, verified

log = logging.getLogger("kg.web.editors")
HERE: Final = Path(__file__).parent
PREFIX: Final = "/assets/"
LONG_CACHE: Final = "public, max-age=31536000, immutable"
"""The files' paths hold their exact version, so a browser may keep them for a year without asking again."""
GRAPHQL_EXAMPLE: Final = """# Run this with the play button (or Ctrl-Enter).
# The documentation pane lists every type and field;
# every relation of an entity carries its evidence.
{
  entity(id: "kgr:lupus") {
    label
    synonyms
    classes
  }
}
"""


@dataclass(frozen=True)
class Link:
    href: str
    integrity: str
    is_style: bool


def csp(origins: list[str], style_hashes: tuple[str, ...] = ()) -> str:
    """The pages' policy (as kg.web.pages), with the CDN's origin added for scripts and styles while files come from
    it, and the hashes of the ``<style>`` elements the editor's own script adds (YASGUI adds one). No inline script
    at all; fonts are data: URLs inside GraphiQL's stylesheet."""
    extra = "".join(f" {origin}" for origin in origins)
    styles = "".join(f" '{digest}'" for digest in style_hashes)
    return (
        f"default-src 'self'; script-src 'self'{extra}; style-src 'self'{extra}{styles}; "
        f"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


class Editors:
    """Made once by the app: which pinned files are installed (and intact) in ``directory``, and the pages."""

    def __init__(self, directory: Path | None, chosen: Pins | None = None) -> None:
        self.pins = chosen or pins()
        self.directory = directory
        self.local: dict[str, Asset] = {}
        if directory is not None:
            intact = verified(directory, self.pins.assets)
            self.local = {a.path: a for a in self.pins.assets if a.path in intact}
            absent = [a.path for a in self.pins.assets if a.path not in intact]
            if absent:
                log.warning(
                    "KG_ASSETS_DIR %s lacks %d pinned editor file(s) or holds altered ones (%s); they load from %s. "
                    "Run `kg assets fetch --dir %s`",
                    directory,
                    len(absent),
                    ", ".join(absent),
                    self.pins.cdn,
                    directory,
                )
        self.cdn_origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.pins.cdn))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )

    def links(self, editor: str) -> list[Link]:
        return [
            Link(
                href=(PREFIX if a.path in self.local else self.pins.cdn) + a.path,
                integrity=a.integrity,
                is_style=a.is_style,
            )
            for a in self.pins.editors[editor].files
        ]

    def origin(self, editor: str) -> str | None:
        """The CDN's origin when some file of ``editor`` loads from it; None when all are served here."""
        remote = any(a.path not in self.local for a in self.pins.editors[editor].files)
        return self.cdn_origin if remote else None

    def page(self, editor: str, title: str, name: str, intro: str, fallback: str, config: dict[str, Any]) -> Response:
        origin = self.origin(editor)
        body = self.env.get_template("editor.html").render(
            editor=editor,
            title=title,
            name=name,
            intro=intro,
            fallback=fallback,
            origin=origin or "this server",
            links=self.links(editor),
            config=Markup(json.dumps(config).replace("<", "\\u003c")),  # a data block: never ends early
        )
        headers = {
            "Content-Security-Policy": csp([origin] if origin else [], self.pins.editors[editor].inline_styles),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
            "Vary": "Accept",
        }
        return HTMLResponse(body, headers=headers)

    def yasgui(self, endpoint: str, examples: list[dict[str, str]]) -> Response:
        """The SPARQL editor on ``endpoint``, with the example tabs (added once per set: ``examplesVersion``)."""
        version = hashlib.sha256(json.dumps(examples, sort_keys=True).encode("utf-8")).hexdigest()[:16]
        return self.page(
            "yasgui",
            title="SPARQL endpoint",
            name="The SPARQL editor (YASGUI)",
            intro=f"Query the graph at {endpoint} (SPARQL 1.1 Protocol; read-only). The tabs hold example queries "
            "from the named-query catalogue at /queries.",
            fallback=f"send queries to {endpoint} with any SPARQL client, or run the named queries at /queries.",
            config={"endpoint": endpoint, "examples": examples, "examplesVersion": version},
        )

    async def graphiql(self, request: Request) -> Response:
        endpoint = str(request.url.replace(query="", fragment=""))
        return self.page(
            "graphiql",
            title="GraphQL API",
            name="The GraphQL editor (GraphiQL)",
            intro=f"Query the graph at {endpoint} (GraphQL over HTTP; read-only). The schema is also in "
            "schema.graphql.",
            fallback=f"POST GraphQL requests as JSON to {endpoint} with any GraphQL client.",
            config={"endpoint": endpoint, "query": GRAPHQL_EXAMPLE},
        )

    async def asset(self, request: Request) -> Response:
        """One installed pinned file, with a year of caching; anything else is 404."""
        path = request.path_params["path"]
        asset = self.local.get(path)
        if asset is None or self.directory is None:
            raise NotFound(
                f"no editor file at {PREFIX}{path}; this server serves the pinned files of assets.json that "
                "`kg assets fetch` installed in KG_ASSETS_DIR"
            )
        media = "text/css" if asset.is_style else "text/javascript"
        headers = {
            "Cache-Control": LONG_CACHE,
            "Content-Security-Policy": csp([]),
            "X-Content-Type-Options": "nosniff",
        }
        return FileResponse(self.directory / asset.path, media_type=f"{media}; charset=utf-8", headers=headers)

"""Write (or, with --check, compare) kg/trapi/biolink.json: the part of the Biolink model the TRAPI provider needs.

It holds every Biolink class and predicate name (so a query naming one that does not exist is refused) and, for each
Biolink term the ontology's alignments name (skos:exactMatch, closeMatch and relatedMatch on scad: classes and
properties, read from the Turtle files), its ancestors in Biolink, mixins included. A query term Q then matches a term
T of the graph when Q is among T's ancestors: the "descendants" of TRAPI. Source: the biolink-model package from PyPI
(its schema/biolink_model.yaml), read with linkml-runtime's SchemaView, offline. Both are test extras:

    python scripts/biolink_table.py          # write
    python scripts/biolink_table.py --check  # exit 1 when the file differs
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import sys
from pathlib import Path

from linkml_runtime.utils.formatutils import camelcase, underscore
from linkml_runtime.utils.schemaview import SchemaView

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.rdf.dataset import read_sources  # noqa: E402
from kg.store.backends import memory_store  # noqa: E402

TARGET = ROOT / "kg" / "trapi" / "biolink.json"
BIOLINK = "https://w3id.org/biolink/vocab/"
ALIGNED = """SELECT DISTINCT ?term WHERE {
    ?ours (<http://www.w3.org/2004/02/skos/core#exactMatch>|<http://www.w3.org/2004/02/skos/core#closeMatch>
        |<http://www.w3.org/2004/02/skos/core#relatedMatch>) ?term .
    FILTER (STRSTARTS(STR(?ours), "https://w3id.org/scad/ontology#"))
    FILTER (STRSTARTS(STR(?term), "https://w3id.org/biolink/vocab/"))
}"""


def table() -> dict[str, object]:
    schema = importlib.resources.files("biolink_model") / "schema" / "biolink_model.yaml"
    view = SchemaView(str(schema))
    classes = {f"biolink:{camelcase(c)}": c for c in view.all_classes()}
    predicates = {f"biolink:{underscore(s)}": s for s in view.slot_descendants("related to", reflexive=True)}
    slots = {f"biolink:{underscore(s)}": s for s in view.all_slots()}
    values = {f"biolink:{v}" for e in view.all_enums().values() for v in (e.permissible_values or {})}
    data = read_sources([ROOT / "ontology"], ROOT / "ontology")
    store = memory_store(data.quads)
    aligned = {"biolink:NamedThing", "biolink:related_to"}
    for row in store.query(ALIGNED, use_default_graph_as_union=True):  # type: ignore[union-attr]
        aligned.add("biolink:" + row["term"].value[len(BIOLINK) :])  # type: ignore[index]
    ancestors: dict[str, list[str]] = {}
    for term in sorted(aligned):
        if term in classes:
            ancestors[term] = sorted(f"biolink:{camelcase(a)}" for a in view.class_ancestors(classes[term]))
        elif term in slots:
            ancestors[term] = sorted(f"biolink:{underscore(a)}" for a in view.slot_ancestors(slots[term]))
        elif term not in values:  # an enumeration value (knowledge levels) has no ancestors
            raise SystemExit(
                f"{term} is named by an alignment in ontology/ but is not in Biolink {view.schema.version}"
            )
    return {
        "biolink_version": view.schema.version,
        "source": (
            f"biolink-model {importlib.metadata.version('biolink-model')} from PyPI, biolink_model/schema/"
            "biolink_model.yaml, read with linkml-runtime SchemaView by scripts/biolink_table.py"
        ),
        "classes": sorted(classes),
        "predicates": sorted(predicates),
        "ancestors": ancestors,
    }


def main() -> int:
    text = json.dumps(table(), indent=1, sort_keys=True) + "\n"
    if "--check" in sys.argv[1:]:
        if not TARGET.is_file() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python scripts/biolink_table.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

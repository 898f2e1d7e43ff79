"""Curator data safety: `kg build --store` replaces only a store, whole; a corrupt label index stops `kg serve` at
start; a reload loads exactly the snapshot it validated, one reload at a time; the watcher survives broken files."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from kg.cli import app as cli
from kg.queries.catalog import Catalog
from kg.rdf.dataset import Dataset
from kg.settings import Settings
from kg.store.backends import StoreError, open_backend, open_store_dir
from kg.store.build import build_store
from kg.web.reload import (
    CURRENT,
    Busy,
    Follower,
    Watcher,
    announce,
    forget,
    one_at_a_time,
    prepare,
    serve_snapshots,
)


def test_build_replaces_only_a_store_and_a_corrupt_label_index_stops_the_start(
    tmp_path: Path, dataset: Dataset, catalog: Catalog
) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    build_store(dataset, ROOT / "ontology", store, catalog.get("entity_labels").text)
    record = (store / "build.json").read_text()
    again = runner.invoke(cli, ["build", "--store", str(store), "--no-reasoner"])  # a store is replaced whole
    assert again.exit_code == 0, again.output
    assert json.loads((store / "build.json").read_text())["release"] == json.loads(record)["release"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"], "no partial or old build is left behind"
    (store / "labels.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x13" * 4096)
    started = runner.invoke(cli, ["serve", "--store", str(store)])
    assert started.exit_code == 2 and "label index" in started.output, started.output


def test_reload_loads_the_snapshot_it_validated_and_the_watcher_survives_broken_files(tmp_path: Path) -> None:
    source = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", source)
    settings = Settings(ontology_dir=source)
    problems, loaded = prepare(settings)
    assert problems == [] and loaded.ontology_dir != source
    validated_release = open_backend(loaded).release
    (source / "data" / "claims" / "source-001.ttl").write_text("half-written @prefix")  # a curator mid-save
    assert open_backend(loaded).release == validated_release  # what is loaded is the copy that was validated
    forget(loaded, settings)
    assert not loaded.ontology_dir.exists()

    notified = threading.Event()
    watcher = Watcher(settings, interval=0.2, notify=notified.set)
    watcher.start()
    try:
        (source / "data" / "broken.ttl").write_bytes(b"<a> <b> '\xff' .\n")  # not UTF-8: used to end the watcher
        time.sleep(2)
        assert watcher.is_alive() and not notified.is_set()
        (source / "data" / "broken.ttl").unlink()
        shutil.copy(ROOT / "ontology" / "data" / "claims" / "source-001.ttl", source / "data" / "claims")
        assert notified.wait(60), "a valid change after a broken one reloads"
        assert watcher.is_alive()
    finally:
        watcher.stopped.set()


def test_a_reload_asked_for_during_another_joins_it(tmp_path: Path) -> None:
    """Reloads run one at a time: while one holds the lock, another is told it is already running (and nothing is
    validated or loaded twice)."""
    settings = Settings(ontology_dir=ROOT / "ontology", ontology_source=ROOT / "ontology")
    folder = tmp_path / "snapshots"
    with one_at_a_time(folder), pytest.raises(Busy), one_at_a_time(folder):
        pass
    with one_at_a_time(folder):  # free again once the first is done
        pass
    notified: list[bool] = []
    watcher = Watcher(
        settings.model_copy(update={"ontology_dir": folder / "current"}), notify=lambda: notified.append(True)
    )
    with one_at_a_time(folder):
        watcher.reload()  # joins the running reload instead of validating again
    assert notified == [] and not list(folder.glob("release-*"))


def test_a_worker_that_could_not_load_a_release_tries_again_later(tmp_path: Path) -> None:
    """A worker whose load of an announced release fails (its snapshot is gone) keeps serving, tries again after a
    wait that doubles (not at every look at the stamp), loads it once it can, and tries a newer stamp at once."""
    source = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", source)
    runtime = tmp_path / "run"
    runtime.mkdir()
    settings = serve_snapshots(Settings(ontology_dir=source, runtime_dir=runtime))
    folder = settings.ontology_dir.parent
    now = [0.0]
    loads: list[str] = []

    async def swap(release: Settings) -> str:
        loads.append(str(release.ontology_dir))
        return open_backend(release).release  # the real store, opened from the snapshot the link points at

    try:
        follower = Follower(runtime, swap, settings, clock=lambda: now[0])
        (folder / CURRENT).unlink()
        (folder / CURRENT).symlink_to("release-removed")  # the announced snapshot is not there (yet)
        stamp = announce(runtime)

        def step(seconds: float) -> None:
            now[0] += seconds
            asyncio.run(follower.step())

        step(0)
        assert len(loads) == 1 and follower.stamp != stamp
        step(0.5)
        assert len(loads) == 1, "not tried again at every look at the stamp"
        step(0.6)
        assert len(loads) == 2 and follower.stamp != stamp  # after 1 s, and fails again: the next wait is 2 s
        step(1.5)
        assert len(loads) == 2
        assert prepare(settings)[0] == []  # a valid snapshot is published under `current` again
        step(0.6)
        assert len(loads) == 3 and follower.stamp == stamp
        step(10)
        assert len(loads) == 3, "a loaded release is not loaded again"

        (folder / CURRENT).unlink()
        (folder / CURRENT).symlink_to("release-removed")
        announce(runtime)
        step(0)
        assert len(loads) == 4
        newer = announce(runtime)
        assert prepare(settings)[0] == []
        step(0)  # within the wait for the failed stamp, but a newer stamp is tried at once
        assert len(loads) == 5 and follower.stamp == newer
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # serve_snapshots made it


def test_a_store_has_its_edge_summaries_and_a_corrupt_file_stops_the_start(tmp_path: Path, dataset: Dataset) -> None:
    """`kg build` writes the edge summaries beside the store (the on-disk oracle tests read them); a corrupt file is
    a clear start-up error naming it, not a wrong card later."""
    store = tmp_path / "store"
    build_store(dataset, ROOT / "ontology", store)
    assert (store / "edges.sqlite").is_file()
    open_store_dir(store)
    (store / "edges.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x13" * 4096)
    with pytest.raises(StoreError, match="edge summaries"):
        open_store_dir(store)

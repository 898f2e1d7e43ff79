"""One typed settings object for everything (``KG_`` environment variables); nothing else reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore")

    ontology_dir: Path = PROJECT_DIR / "ontology"
    """The Turtle files: ontology, shapes and data (the source of truth)."""
    queries_dir: Path = PROJECT_DIR / "queries"
    """The named queries; quality rules live in its ``checks/`` folder."""

    @property
    def checks_dir(self) -> Path:
        return self.queries_dir / "checks"

    @property
    def summary_file(self) -> Path:
        return self.ontology_dir / "data" / "summary.ttl"

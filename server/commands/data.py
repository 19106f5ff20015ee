"""``laogan seed-data``, ``laogan demo`` and ``laogan db``: realistic data and the demo."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("seed-data")
@click.option("--profile", type=click.Choice(["city", "county", "province"]), default="city", show_default=True,
              help="Size of the generated population (the seed's city, county, or a province).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; same seed, same data.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Central database file to create (must not exist).")
def seed_data(profile: str, seed: int, out: Path) -> None:
    """Generate a realistic central database (生成模拟数据) for a profile."""
    raise click.ClickException("not implemented yet")


@click.command("demo")
@click.option("--dir", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var"),
              show_default=True, help="Folder for the demo's databases, keys and site.")
def demo(data_dir: Path) -> None:
    """Run the demo: build data, sync tablets against a real server, print a summary."""
    raise click.ClickException("not implemented yet")

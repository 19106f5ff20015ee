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
    from server.seeddata.console import run

    if out.exists() or out.is_symlink():
        raise click.ClickException(f"{out} 已存在 already exists; seed-data never overwrites a file")
    try:
        _, text = run(profile, seed, out)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)


@click.command("demo")
@click.option("--dir", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var"),
              show_default=True, help="Folder for the demo's databases, keys and tablets (rebuilt each run).")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed for the data and the tablets' work.")
@click.option("--days", type=click.IntRange(1, 92), default=30, show_default=True, help="Days of field work to simulate.")
def demo(data_dir: Path, seed: int, days: int) -> None:
    """Run the demo (演示): a county's month of field work synced by real tablets against the real server."""
    from server.demo import run_demo

    r = run_demo(data_dir, seed=seed, days=days, echo=lambda line: click.echo(line, err=True))
    rows = [
        ("平板 tablets", f"{r.tablets}"),
        ("上传 uploads applied", f"{r.uploads:,}"),
        ("同步行数 rows synced up", f"{r.rows:,}"),
        ("冲突 conflicts queued", f"{r.conflicts:,}"),
        ("已处理 conflicts resolved", f"{r.resolved:,}"),
        ("隔离 uploads quarantined", f"{r.quarantined:,} (retried and applied: {r.retried})"),
        ("耗时 seconds", f"{r.seconds:.1f} (tablets working and syncing: {r.sync_seconds:.1f})"),
        ("速率 rows/s", f"{r.rows / r.sync_seconds:,.0f}" if r.sync_seconds else "-"),
        ("一致 tablets converged", f"{r.converged}/{r.tablets}"),
        ("账本 ledger verify", "OK" if r.ledger_ok else "BROKEN"),
        ("账本头 ledger head", r.head),
    ]
    width = max(len(k) for k, _ in rows)
    click.echo("")
    click.echo(f"服务数据库 service database — 市级 city profile ({data_dir / 'city.db'})")
    click.echo(r.city_summary)
    click.echo("")
    click.echo("laogan demo — 县级一个月 (one county, one month)")
    for k, v in rows:
        click.echo(f"  {k:<{width}}  {v}")
    click.echo(f"  中心数据库 central DB: {data_dir / 'central.db'}")
    click.echo("")
    click.echo(f"公开报告 public report site: {r.site}")
    click.echo("  (also served by `laogan serve` at http://127.0.0.1:8000/reports/)")
    click.echo("")
    click.echo("审计 auditors (Datasette, read-only, login required):")
    click.echo(f"  LAOGAN_DATA_DIR={data_dir} .venv/bin/laogan audit serve   →  http://127.0.0.1:8001/")
    for role, token in r.audit_tokens:
        click.echo(f"  {role:8} token: {token}   (browser: log in at /-/login; API: Authorization: Bearer …)")
    if r.converged != r.tablets or not r.ledger_ok:
        raise SystemExit(1)

"""Every ``laogan`` command and group has help text, and ``--help`` works on each."""

from __future__ import annotations

import click
from click.testing import CliRunner

from server.cli import main


def _walk(cmd: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            out.extend(_walk(sub, (*path, name)))
    return out


def test_every_command_has_help() -> None:
    commands = _walk(main)
    assert len(commands) > 10
    missing = [" ".join(p) for p, c in commands if not (c.help or "").strip()]
    assert missing == []


def test_help_runs_for_every_command() -> None:
    runner = CliRunner()
    for path, _ in _walk(main):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_every_option_has_help() -> None:
    bare = []
    for path, cmd in _walk(main):
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.help and p.name not in ("help", "version"):
                bare.append(f"{' '.join(path)} --{p.name}")
    assert bare == []

"""The CLI reference (docs/CLI.md), generated from the commands' own --help.

    python -m paycascade.clidoc > docs/CLI.md

``tests/test_cli_doc.py`` checks that the committed file matches, so the reference cannot drift
from the commands.
"""

from __future__ import annotations

import click

from paycascade.cli import main


def _help(command: click.Command, name: str) -> str:
    # click caches a command's help option from the first context it saw (a test may have
    # invoked a subcommand on its own, with the default '--help' only): start afresh.
    command._help_option = None
    with click.Context(
        command,
        info_name=name,
        terminal_width=100,
        max_content_width=100,
        help_option_names=["-h", "--help"],
    ) as ctx:
        return command.get_help(ctx)


def reference() -> str:
    parts = [
        "# Command-line reference",
        "",
        "Generated from `--help` by `python -m paycascade.clidoc`; a test keeps it current.",
        "",
        "```",
        _help(main, "paycascade"),
        "```",
    ]
    commands = main.commands if isinstance(main, click.Group) else {}
    for name in sorted(commands):
        command = commands[name]
        parts += [
            "",
            f"## paycascade {name}",
            "",
            "```",
            _help(command, f"paycascade {name}"),
            "```",
        ]
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                parts += [
                    "",
                    f"### paycascade {name} {sub}",
                    "",
                    "```",
                    _help(command.commands[sub], f"paycascade {name} {sub}"),
                    "```",
                ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(reference(), end="")

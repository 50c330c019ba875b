"""Library errors in the command line's words.

The library names the parameters an error concerns (``min_confidence``) and no flags; this
spells them as the invoked command's options (``--min-confidence``) or arguments (``PATH``).
"""

from __future__ import annotations

import click

from ..errors import LineageError


def phrase(exc: LineageError, ctx: click.Context | None = None) -> str:
    """The error's message, the parameters it names spelled as this command line's options
    (``--min-confidence``) or arguments (``PATH``): the library names no flags itself."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None or not exc.params:
        return exc.message
    root = ctx.find_root()
    command: click.Command = root.command
    invoked = root.invoked_subcommand
    if isinstance(command, click.Group) and invoked:
        # The invoked command's own parameters first, then any command's.
        command = command.commands.get(invoked, command)
    names: dict[str, str] = {}
    for cmd in (command, root.command):
        for param in _parameters(cmd):
            # Known by its Python name and by its flag's words (--store is store_path's).
            keys = [param.name, *(o.lstrip("-").replace("-", "_") for o in param.opts)]
            for key in keys:
                if key and key not in names:
                    names[key] = _spelled(param)
    return exc.phrase(names)


def _parameters(command: click.Command) -> list[click.Parameter]:
    found = list(command.params)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found += _parameters(sub)
    return found


def _spelled(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return max(param.opts, key=lambda o: (o.startswith("--"), len(o)))

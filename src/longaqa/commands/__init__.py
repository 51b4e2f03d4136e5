"""Subcommands of the ``longaqa`` CLI, one module each (see ``longaqa.cli``)."""

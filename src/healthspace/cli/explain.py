"""The ``healthspace explain`` group: lab results, medicines and reports explained in plain words.

Each kind of explanation adds its own command to ``explain_app`` from its own module
(``cli/labs.py`` adds ``explain lab``, ``cli/meds.py`` adds ``explain med``...).
"""

from __future__ import annotations

import typer

from healthspace.cli.app import app

explain_app = typer.Typer(
    help="Explain a lab result, a medicine or a report in plain words, with sources.",
    no_args_is_help=True,
)
app.add_typer(explain_app, name="explain")

"""``badges criteria …``: validate and inspect criteria catalogues."""

import sys
from pathlib import Path

import click

from badges.core.criteria import text_in

FILES = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group("criteria")
def criteria_group() -> None:
    """Validate and inspect criteria catalogues."""


@criteria_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=FILES)
@click.option("--strict", is_flag=True, help="Treat warnings (wording, “Osaa …”) as errors too.")
def validate_command(files: tuple[Path, ...], strict: bool) -> None:
    """Check catalogue FILES against the schema and the rules; print every problem with its line.

    Exits with status 1 when a file has errors (with --strict, also warnings).
    """
    from badges import library

    failed = False
    for path in files:
        if path.name.endswith(".schema.json"):
            click.echo(f"{path}: skipped (the schema, not a catalogue)")
            continue
        check = library.check_file(path)
        for problem in check.problems:
            click.echo(problem.format(str(path)), err=problem.severity == "error")
        errors, warnings = len(check.errors), len(check.warnings)
        if errors or (strict and warnings):
            failed = True
        summary = f"{path}: {errors} error(s), {warnings} warning(s)"
        if check.catalogue is not None:
            summary += f"; {len(check.catalogue.definitions)} badge definitions"
        click.echo(summary)
    if failed:
        sys.exit(1)


@criteria_group.command("list")
@click.argument("file", type=FILES)
@click.option(
    "--language",
    type=click.Choice(["fi", "sv", "en"]),
    default="fi",
    show_default=True,
    help="Language of the names.",
)
def list_command(file: Path, language: str) -> None:
    """List the badge definitions of a catalogue FILE with their alignment codes."""
    from badges import library

    check = library.check_file(file)
    if check.catalogue is None:
        for problem in check.errors:
            click.echo(problem.format(str(file)), err=True)
        raise click.ClickException(f"{file} has errors; nothing to list")
    catalogue = check.catalogue
    click.echo(f"{catalogue.id} {catalogue.version}: {text_in(catalogue.name, language)}")
    for definition in catalogue.definitions:
        extra = f" (valid {definition.valid_days} days)" if definition.valid_days else ""
        click.echo(f"  {definition.id}: {text_in(definition.name, language)}{extra}")
        for alignment in definition.alignments:
            click.echo(
                f"      {alignment.get('targetCode', '-')}  {alignment.get('targetName', '')}"
            )

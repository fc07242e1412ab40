"""``badges criteria …``: validate and inspect criteria catalogues."""

import click


@click.group("criteria")
def criteria_group() -> None:
    """Validate and inspect criteria catalogues."""

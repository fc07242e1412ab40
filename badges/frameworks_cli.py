"""``badges frameworks …``: import and fetch qualification framework data."""

import click


@click.group("frameworks")
def frameworks_group() -> None:
    """Import qualification frameworks (ePerusteet, osaamismerkit)."""

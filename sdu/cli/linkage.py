"""`sdu linkage`: not built yet (placeholder replaced by its issue's work)."""
import click


@click.command("linkage", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1)
def command(args):
    """Not available yet."""
    raise click.ClickException("'sdu linkage' is not available in this build")

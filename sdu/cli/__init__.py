"""The ``sdu`` command line: one small file per subcommand, attached in :mod:`sdu.cli.main`."""

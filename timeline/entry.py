"""The `timeline` program's entry point: it reads the clock before anything heavy is imported, so a
command sees the instant it was started (see `timeline.cli`)."""

from datetime import UTC, datetime


def main() -> None:
    invoked_at = datetime.now(UTC)
    from timeline.cli import main as cli_main

    cli_main(invoked_at)

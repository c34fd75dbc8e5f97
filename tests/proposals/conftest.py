"""The web fixtures (an app over SQLite and PostgreSQL, a config folder) for the proposals API tests."""

from tests.web.conftest import config_dir, make_client

__all__ = ["config_dir", "make_client"]

"""Write a new Alembic migration from the difference between the models and the newest migration.

.venv/bin/python scripts/new_migration.py "what changed" 0004
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from timeline.db import alembic_config, make_engine, upgrade

with tempfile.TemporaryDirectory() as folder:
    engine = make_engine(f"sqlite:///{Path(folder) / 'gen.db'}")
    upgrade(engine)
    command.revision(alembic_config(engine), message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])

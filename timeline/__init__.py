"""timeline-alerts: dated milestones from a config file, due-date and feed notices, webhook delivery."""

__version__ = "0.1.0"

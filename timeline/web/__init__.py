"""The HTTP surface. FastAPI is imported here and nowhere else."""

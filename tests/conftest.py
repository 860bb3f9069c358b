import os

os.environ.setdefault("COLUMNS", "120")  # stable rich output in CliRunner

from infinisum.cli import app

app(prog_name="infinisum")

"""`python -m cli` runs the devsearch command (used by tests as a real subprocess)."""
from cli.app import main

main()

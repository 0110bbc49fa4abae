"""`python -m devsearch` runs the devsearch command (the tests use it as a real subprocess)."""
from devsearch.cli.app import main

main()

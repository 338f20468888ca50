"""`python -m crmtool`."""

from .cli import main

main()

"""`python -m crmtool`."""

try:  # Ctrl-C while the modules are still being imported: exit 130, no traceback
    from .cli import main
except KeyboardInterrupt:
    raise SystemExit(130) from None

main()

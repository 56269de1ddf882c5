"""`python -m pysetl_hub.cli`, as before the CLI became a package (`python -m pysetl_hub` too)."""

from pysetl_hub.cli import main

if __name__ == "__main__":
    main(prog_name="pysetl-hub")

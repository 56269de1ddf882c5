"""`python -m pysetl_hub`: the same CLI as the `pysetl-hub` script, every command included."""

from pysetl_hub.cli import main

if __name__ == "__main__":
    main(prog_name="pysetl-hub")

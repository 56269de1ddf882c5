"""The PyPI JSON API and the `/project/{name}/` URL upload tools print."""

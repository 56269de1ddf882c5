"""The marketplace in the browser: server-rendered pages (Jinja), htmx for the live parts,
every asset served by the hub itself."""

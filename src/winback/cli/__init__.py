"""Command line: thin typer shells that parse, call a service, and print (rich, or --json)."""

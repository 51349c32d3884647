"""Server-rendered web pages (My health): Jinja2 templates, one CSS file, no build step."""

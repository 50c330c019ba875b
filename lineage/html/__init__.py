"""A family as one self-contained HTML page.

- :mod:`~lineage.html.family_view`: which models a page shows, what collapses into "+N"
  nodes, and where everything goes (layouts, column-wise);
- :mod:`~lineage.html.export`: :func:`~lineage.html.export.export_family_html`, the library
  twin of ``lineage export html`` (the page and its inlined data and script).
"""

"""Meeting adapters: one small interface (``base``), one module per way of joining a meeting."""

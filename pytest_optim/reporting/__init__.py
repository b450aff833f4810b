"""The end-of-run report: per candidate and check family, as JSON and Markdown (``report``), and the
per-candidate trajectory plots (``plots``)."""

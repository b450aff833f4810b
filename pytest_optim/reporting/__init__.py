"""The end-of-run report: per candidate and check family, as JSON and Markdown (``report``), and the
workload training curves that --optim-plots draws (``plots``)."""

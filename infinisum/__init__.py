"""infinisum: summarize whole books with an Infini-Transformer encoder-decoder."""

__version__ = "0.1.0"

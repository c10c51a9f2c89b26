"""Side-by-side benchmark: handclasp vs Python's ssl vs tlslite-ng (``python -m bench``)."""

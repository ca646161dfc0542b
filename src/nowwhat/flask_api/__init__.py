"""Chapter 02: the model behind a Flask API — the local server, its benchmark, its container."""

"""Chapter 05: LiteRT on the edge — conversion and quantization, the client, the benchmark."""

"""Chapter 03: TensorFlow Serving — the model folder it loads and the REST vs gRPC benchmark."""

"""The Open Inference Protocol (V2) with MLServer: the workshop's model served from demos/mlserver, and
adaptive batching off and on, measured side by side."""

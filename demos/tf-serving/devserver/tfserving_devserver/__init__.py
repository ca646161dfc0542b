"""A development stand-in for TensorFlow Serving, for machines without `tensorflow_model_server`.

It loads the same SavedModels with TensorFlow's own loader, reads the same model config file, and speaks
TF Serving's documented REST API and official gRPC protos (Predict, GetModelMetadata, GetModelStatus).
It is NOT TensorFlow Serving: it says so in its logs and in every response (header `X-Served-By`,
gRPC metadata `x-served-by`), and it does not batch requests together. Use the real server in
production (Docker, the official .deb, Kubernetes: see the demo README).
"""

NAME = "tfserving-devserver"
VERSION = "0.1.0"
#: Sent with every REST response (header) and gRPC call (initial metadata), so no client mistakes it.
SERVED_BY = f"{NAME}/{VERSION} (development stand-in, not TensorFlow Serving)"
SERVED_BY_HEADER = "X-Served-By"

"""ONNX Runtime: the Keras core model and the scikit-learn baseline converted to ONNX, one client for both."""

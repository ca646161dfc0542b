"""TF Serving demo: the run command (`run`), REST and gRPC clients, the error helper (`explain`), and a
development server (`devserver`) for machines without `tensorflow_model_server`."""

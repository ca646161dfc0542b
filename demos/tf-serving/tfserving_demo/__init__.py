"""TF Serving demo: the run command (`run`), REST and gRPC clients and the error helper (`explain`).
The development server, a stand-in for machines without `tensorflow_model_server`, is a package of its
own in ../devserver/; nothing here imports it."""

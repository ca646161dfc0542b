"""MLflow: the workshop's Keras model and chapter 01's scikit-learn baseline in one model registry, with
aliases (champion, challenger), served by `mlflow models serve` from demos/mlflow."""

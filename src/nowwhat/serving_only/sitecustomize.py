"""Read at start-up, as `sitecustomize` through PYTHONPATH, by the TensorFlow-only servers the workshop
starts from its own environment: the Flask API's gunicorn workers and the benchmark's ceiling run.
(TF Serving's development stand-in does the same itself, in its `__main__`.)

`import tensorflow` imports Keras, and Keras imports pandas, matplotlib, scikit-learn and SciPy whenever
they are installed. The workshop's environment has them for its other chapters; serving a SavedModel
uses none of them, yet they cost each server process about 120 MB (measured: `import tensorflow` and a
SavedModel loaded, 640 MB RSS with them, 517 MB without). A demo's own environment, made from its
requirement files, does not have them either: this makes the workshop's servers match it.
"""

import sys

for name in ("pandas", "matplotlib", "sklearn", "scipy"):
    sys.modules.setdefault(name, None)  # `import pandas` raises ImportError, which Keras handles

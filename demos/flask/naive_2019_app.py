# ─────────────────────────────────────────────────────────────────────────────────────────────────────
#  THE NAIVE 2019 APP — DO NOT DEPLOY. Kept only to measure against the production app (review_api.py).
#  This is the ten-liner from countless 2019 tutorials: Flask's development server, a Keras model in a
#  global, `model.predict` on every request, no validation, errors as HTML stack pages, raw lists out.
#  Run: MODEL=<path to a .keras model> PORT=5001 python naive_2019_app.py
# ─────────────────────────────────────────────────────────────────────────────────────────────────────
import os

import keras
import tensorflow as tf
from flask import Flask, jsonify, request

app = Flask(__name__)
model = keras.models.load_model(os.environ["MODEL"])


@app.route("/predict", methods=["POST"])
def predict():
    text = request.json["text"]
    prediction = model.predict(tf.constant([text]))
    return jsonify({"prediction": prediction.tolist()})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", 5001)))

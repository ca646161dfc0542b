"""Chapter 04: TensorFlow.js — the conversion, the page in headless Chromium, its benchmark."""

"""Chapter 07: monitor the model in service: a real Prometheus scraping the API, its alert rules, the
prediction log, and drift checked on a real shifted sample."""

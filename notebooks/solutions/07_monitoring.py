# A share, not a count: refused requests per second over all requests per second, both over the last 5
# minutes (rate of each counter), compared with 10 %. Refusals are the 4xx answers; 5xx are server errors.
refusal_alert = (
    'sum(rate(review_api_requests_total{status=~"4.."}[5m]))'
    " / sum(rate(review_api_requests_total[5m])) > 0.1"
)

#!/usr/bin/env Rscript
# Classify reviews from R with the workshop's prediction API (demos/flask), using httr and jsonlite.
#
#   Rscript classify.R "Great coffee, will buy again!" "Stale and overpriced."
#   Rscript classify.R --url http://127.0.0.1:5000 --file reviews.txt
#
# The API is at --url, else $REVIEW_API_URL, else http://127.0.0.1:5000. Reviews come from the arguments
# or, with --file, one per line of a UTF-8 file. It prints one JSON object per review (label and
# probabilities, as the API answered them) and, on any problem, one line "error: ..." and status 2.

suppressPackageStartupMessages({
  library(httr)
  library(jsonlite)
})

BATCH <- 64  # the API's largest batch (GET /v1/metadata says so)

fail <- function(message) {
  cat("error: ", message, "\n", sep = "", file = stderr())
  quit(save = "no", status = 2)
}

parse_args <- function(args) {
  url <- Sys.getenv("REVIEW_API_URL", "http://127.0.0.1:5000")
  texts <- character(0)
  i <- 1
  while (i <= length(args)) {
    if (args[i] %in% c("--url", "--file") && i == length(args)) fail(paste(args[i], "needs a value"))
    if (args[i] == "--url") {
      url <- args[i + 1]
      i <- i + 2
    } else if (args[i] == "--file") {
      lines <- tryCatch(readLines(args[i + 1], encoding = "UTF-8", warn = FALSE),
                        error = function(e) fail(paste("cannot read", args[i + 1])),
                        warning = function(w) fail(paste("cannot read", args[i + 1])))
      broken <- which(!validUTF8(lines))
      if (length(broken)) {
        fail(sprintf("line %d of %s is not valid UTF-8: save it as UTF-8", broken[1], args[i + 1]))
      }
      texts <- c(texts, lines)
      i <- i + 2
    } else {
      texts <- c(texts, args[i])
      i <- i + 1
    }
  }
  if (length(texts) == 0) fail("nothing to classify: give reviews as arguments, or --file FILE")
  list(url = sub("/+$", "", url), texts = texts)
}

# One POST /v1/predict/batch: the predictions, or a one-line error with the API's own explanation.
predict_batch <- function(url, texts) {
  body <- toJSON(list(texts = texts), auto_unbox = FALSE)
  response <- tryCatch(
    POST(paste0(url, "/v1/predict/batch"), body = body, content_type_json(), timeout(60)),
    error = function(e) fail(paste0("cannot reach the API at ", url, " (", conditionMessage(e), ")"))
  )
  answer <- tryCatch(fromJSON(content(response, as = "text", encoding = "UTF-8"), simplifyVector = FALSE),
                     error = function(e) NULL)
  if (status_code(response) != 200) {
    detail <- if (is.list(answer) && !is.null(answer$detail)) answer$detail else http_status(response)$message
    fail(paste0("the API answered ", status_code(response), ": ", detail))
  }
  if (!is.list(answer) || is.null(answer$predictions)) fail(paste("no predictions in the answer of", url))
  answer$predictions
}

main <- function() {
  args <- parse_args(commandArgs(trailingOnly = TRUE))
  starts <- seq(1, length(args$texts), by = BATCH)
  for (start in starts) {
    batch <- args$texts[start:min(start + BATCH - 1, length(args$texts))]
    for (prediction in predict_batch(args$url, batch)) {
      shown <- list(label = prediction$label, probabilities = prediction$probabilities)
      cat(toJSON(shown, auto_unbox = TRUE, digits = NA), "\n", sep = "")
    }
  }
}

main()

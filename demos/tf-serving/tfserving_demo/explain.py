"""TF Serving's cryptic errors, each turned into one actionable sentence.

`explain(text)` takes an error message (from a REST body, a gRPC status, or a server log line) and says
what is wrong and what to do. The patterns are TF Serving's own message texts.
"""

from __future__ import annotations

import re


class TFServingError(Exception):
    """An error answer from a TF Serving API: the status (HTTP code or gRPC code name) and its message."""

    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message

    def explain(self) -> str:
        return explain(self.message)


#: (pattern in TF Serving's message, advice); {0}, {1} are the pattern's groups.
RULES = [
    (
        r"No versions of servable (\S+) found under base path (\S+?)\.?(?=\s|$)",
        "There is no version folder under {1}: put the SavedModel in {1}/1/ (an integer-named folder "
        "holding saved_model.pb), not directly in the base path.",
    ),
    (
        r"Could not find base path (\S+) for servable (\S+)",
        "The base path {0} does not exist inside the server: check the volume mount and base_path.",
    ),
    (
        r"Request to assign label to version (\d+) of model (\S+), which is not currently available",
        "Labels may only name loaded versions: start the server with "
        "--allow_version_labels_for_unavailable_models=true, or add the label after version {0} has loaded.",
    ),
    (
        r"Unrecognized servable version label: (\S+)",
        "The label '{0}' is not in the version_labels of the model the URL names: check the model name "
        "(labels are looked up per model, so a wrong name says this too), and use a label the config "
        "gives it (e.g. stable or canary) or add it there.",
    ),
    (
        r"Servable not found for request: Specific\(([^,]+), (\d+)\)",
        "Version {1} of model {0} is not loaded: check the model name, then GET /v1/models/{0} for the "
        "versions being served and the model_version_policy in the config.",
    ),
    (
        r"Servable not found for request: Latest\((\S+)\)",
        "No version of a model named '{0}' is loaded: check the model name in the URL and the config, and "
        "that its base path holds an integer-named version folder.",
    ),
    (
        r"Could not find (?:any versions of model (\S+)|version (\d+) of model (\S+))",
        "The server does not know that model or version: check the name (and version) against the model "
        "config, and the base path's version folders.",
    ),
    (
        r"Not formatted correctly expecting only one of 'inputs' or 'instances'",
        'Send either "instances" (row format) or "inputs" (columnar format), not both.',
    ),
    (
        r"Missing 'inputs' or 'instances' key",
        'The request body needs an "instances" list (row format) or an "inputs" value (columnar format).',
    ),
    (
        r"(?:does not have named input|Missing named input|input tensor alias not found in signature): (\w+)",
        "The input '{0}' is not in the signature: use the input names that GET .../metadata lists "
        "(this model's input is 'text').",
    ),
    (
        r"input size does not match signature",
        "Send exactly the inputs the signature lists (GET .../metadata), no more and no fewer.",
    ),
    (
        r"is not of expected type: (\w+)|Expects arg\[\d+\] to be (\w+) but (\w+) is provided",
        "A value has the wrong type: this input expects {0}{1} values (strings: plain JSON strings, or "
        '{{"b64": ...}} for binary data).',
    ),
    (
        r"not formatted correctly for base64 data|Unable to base64 decode",
        'Binary values must be {{"b64": "<base64 text>"}} objects with that one key and valid base64.',
    ),
    (
        r'Serving signature (?:name|key): ?"?([^"]*)"? not found',
        "The model has no signature '{0}': omit signature_name to use serving_default, or pick one that "
        "GET .../metadata lists.",
    ),
    (
        r"JSON Parse error|Is not object",
        'The request body is not a JSON object: send JSON such as {{"instances": ["text"]}} with '
        "Content-Type: application/json.",
    ),
    (
        r"Malformed request: (\w+) (\S+)",
        "TF Serving has no {0} {1}: use GET /v1/models/<name>[/versions/N|/labels/L][/metadata] or "
        "POST /v1/models/<name>[/versions/N|/labels/L]:predict.",
    ),
    (
        r"Encountered list at unexpected|found at incorrect level|Expecting shape|Expecting tensor size",
        "The nested lists are not one rectangular tensor: every instance must have the same shape.",
    ),
    (
        r"cannot connect|failed to connect|Connection refused|UNAVAILABLE|Socket closed",
        "The server is not reachable or not ready yet: wait until GET /v1/models/<name> shows AVAILABLE "
        "(models load before the ports open), and check host and port.",
    ),
]


def explain(text: str) -> str:
    """One sentence: what the message means and what to do; the original text when unknown."""
    for pattern, advice in RULES:
        if match := re.search(pattern, text):
            return advice.format(*(g or "" for g in match.groups()))
    return f"Not a known TF Serving error; the server said: {text}"

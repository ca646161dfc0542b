"""`python -m nowwhat <command>` and `python -m nowwhat <chapter> <verb>`: the one command line that
notebooks, demos' build steps, the Makefile and the tests share."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from dataclasses import fields

from nowwhat.errors import reports_errors


def cmd_data(args) -> None:
    from nowwhat.artifacts import staged, write_manifest
    from nowwhat.data import LABEL, load_splits
    from nowwhat.paths import data_dir

    splits = load_splits()
    with staged(data_dir()) as tmp:
        for split in ("train", "validation", "test"):
            getattr(splits, split).to_csv(tmp / f"{split}.csv", index=False)
        counts = {
            s: getattr(splits, s)[LABEL].value_counts().to_dict() for s in ("train", "validation", "test")
        }
        write_manifest(
            tmp,
            "data",
            data_fingerprint=splits.fingerprint,
            label_counts=counts,
            dropped_train_test_overlap=splits.dropped_overlap,
        )
    print(f"wrote {data_dir()} (fingerprint {splits.fingerprint}): {json.dumps(counts)}")


def cmd_train(args) -> None:
    from nowwhat.model import TrainConfig
    from nowwhat.paths import model_dir
    from nowwhat.training import train_and_save

    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    manifest = train_and_save(config, verbose=0 if args.quiet else 2)
    test = manifest["metrics"]["test"]
    print(
        f"trained in {manifest['train_seconds']} s ({manifest['epochs_run']} epochs): test accuracy "
        f"{test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f} → {model_dir()}"
    )


def cmd_evaluate(args) -> None:
    from nowwhat.data import load_splits
    from nowwhat.metrics import classification_metrics
    from nowwhat.training import load_trained, predict

    classifier, _, _ = load_trained()
    splits = load_splits()
    metrics = classification_metrics(
        splits.label_ids(args.split), predict(classifier, splits.texts(args.split))
    )
    print(
        json.dumps(metrics)
        if args.json
        else f"{args.split}: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
        f"confusion {metrics['confusion_matrix']} (n={metrics['n']})"
    )


def cmd_export(args) -> None:
    from nowwhat.export import export_all
    from nowwhat.paths import export_dir

    manifest = export_all(version=args.version)
    print(
        f"exported serving model v{args.version}, core model, tokenizer spec and "
        f"{manifest['test_vectors']} test vectors → {export_dir()}"
    )


def cmd_workshop(args) -> None:
    from nowwhat.workshop.notebooks import run_all
    from nowwhat.workshop.summary import summary

    cmd_data(args)
    run_all()
    print(summary())


def cmd_refresh(args) -> None:
    from nowwhat.workshop.notebooks import notebooks, refresh

    for notebook in notebooks():
        if not args.names or any(name in notebook.name for name in args.names):
            print(f"refreshing {notebook.name} …", flush=True)
            refresh(notebook)


def cmd_decide(args) -> None:
    from nowwhat.compare.decide import QUESTIONS, evidence, recommend
    from nowwhat.paths import build_dir

    answers = {q: getattr(args, q) == "yes" for q in QUESTIONS}
    choice = recommend(**answers)
    results = build_dir() / "compare" / "results.json"
    report = json.loads(results.read_text()) if results.exists() else None
    print(f"start with {choice.title}: notebook {choice.notebook}, demo {choice.demo}")
    print(f"why: {choice.reason}")
    print("measured here:")
    for line in evidence(choice.runtime, report):
        print(f"  {line}")


def cmd_summary(args) -> None:
    from nowwhat.workshop.summary import summary

    print(summary())


#: `python -m nowwhat <chapter> <verb> [options]` → (module under nowwhat, its arguments before the options,
#: what it does).
#: Each verb is that module's own command line (`… <verb> --help` shows its options).
CHAPTERS = {
    "flask": {
        "bench": ("flask_api.bench", (), "the naive 2019 app vs the gunicorn app under wrk"),
        "container-check": ("flask_api.containers", (), "build the image, run it on loopback, check it"),
    },
    "tf-serving": {
        "models": ("tf_serving.models", (), "the model folder TF Serving loads: versions 1 and 2"),
        "bench": ("tf_serving.bench", (), "REST vs gRPC latency by batch size"),
    },
    "tfjs": {
        "convert": ("tfjs.convert", ("convert",), "the core model to a TF.js graph model"),
        "inspect": ("tfjs.convert", ("inspect",), "signature, operations and weights of the TF.js model"),
        "parity": ("tfjs.browser", (), "the page in headless Chromium on the test vectors"),
        "bench": ("tfjs.bench", (), "page ready time, predictions/s and accuracy"),
    },
    "tflite": {
        "convert": ("tflite.convert", ("convert",), "the core model to LiteRT at four quantization levels"),
        "inspect": ("tflite.convert", ("inspect",), "operators, input, output and weights of each level"),
        "bench": ("tflite.bench", (), "size, accuracy and speed of every level"),
    },
    "onnx": {"convert": ("onnx_runtime.convert", (), "the Keras core and the scikit-learn baseline to ONNX")},
    "mlflow": {
        "register": ("model_registry.registry", (), "the Keras model and the baseline: champion, challenger")
    },
    "mlserver": {"bench": ("open_inference.bench", (), "adaptive batching off and on, 1 to 32 clients")},
    "compare": {"bench": ("compare.bench", (), "every runtime on the same reviews in one run")},
    "slides": {"build": ("workshop.slides", (), "the deck, with the measured figures, as HTML and PDF")},
    "diagrams": {"build": ("workshop.diagrams", (), "every images/src/*.dot as an SVG")},
    "notebooks": {
        "memory": ("workshop.memory", (), "peak memory of every notebook, run in order"),
        "binder-check": ("workshop.binder_check", (), "Binder's image under its 2 GiB cap, every notebook"),
    },
}


def chapter_command(argv: list[str]) -> int | None:
    """Run `<chapter> <verb> …` (→ its exit status); None when argv is not one."""
    if not argv or argv[0] not in CHAPTERS:
        return None
    chapter, verbs = argv[0], CHAPTERS[argv[0]]
    usage = f"usage: python -m nowwhat {chapter} {{{','.join(verbs)}}} [options]"
    if argv[1:2] in (["-h"], ["--help"]):
        print(usage + "\n\n" + "\n".join(f"  {verb:<16} {help}" for verb, (_, _, help) in verbs.items()))
        return 0
    if len(argv) < 2 or argv[1] not in verbs:
        given = f"unknown verb {argv[1]!r}" if len(argv) > 1 else "a verb is missing"
        print(f"{usage}\npython -m nowwhat {chapter}: error: {given}", file=sys.stderr)
        return 2
    module, fixed, _ = verbs[argv[1]]
    return importlib.import_module(f"nowwhat.{module}").main([*fixed, *argv[2:]])


def chapters_help() -> str:
    lines = ["chapter commands (python -m nowwhat <chapter> <verb> --help for options):"]
    for chapter, verbs in CHAPTERS.items():
        lines += [f"  {chapter} {verb:<{28 - len(chapter)}} {help}" for verb, (_, _, help) in verbs.items()]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    from nowwhat.compare.decide import QUESTIONS
    from nowwhat.model import TrainConfig

    top = argparse.ArgumentParser(
        prog="python -m nowwhat",
        description=__doc__,
        epilog=chapters_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="{command or chapter}")
    sub.add_parser("data", help="materialise the review data as CSV under the build folder").set_defaults(
        run=cmd_data
    )
    train = sub.add_parser("train", help="train the classifier and save it with its manifest")
    for f in fields(TrainConfig):
        train.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    train.set_defaults(run=cmd_train)
    evaluate = sub.add_parser("evaluate", help="score the trained model on a split")
    evaluate.add_argument("--split", choices=("validation", "test"), default="test")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=cmd_evaluate)
    export = sub.add_parser(
        "export", help="write the serving model, core model, tokenizer spec, test vectors"
    )
    export.add_argument("--version", type=_positive_int, default=1, help="TF Serving version folder (≥ 1)")
    export.set_defaults(run=cmd_export)
    sub.add_parser(
        "workshop", help="the main job: data, then every notebook in order, then a summary"
    ).set_defaults(run=cmd_workshop)
    refresh = sub.add_parser("refresh-notebooks", help="maintainers: re-execute notebooks, commit outputs")
    refresh.add_argument("names", nargs="*", help="parts of notebook names (default: all)")
    refresh.set_defaults(run=cmd_refresh)
    decide = sub.add_parser("decide", help="answer four questions, get the chapter to start from")
    for question, text in QUESTIONS.items():
        decide.add_argument(f"--{question}", choices=("yes", "no"), required=True, help=text)
    decide.set_defaults(run=cmd_decide)
    sub.add_parser("summary", help="what was built, where, and what to do next").set_defaults(run=cmd_summary)
    for chapter, verbs in CHAPTERS.items():  # listed here; run by chapter_command
        sub.add_parser(chapter, help=f"{chapter} chapter: {', '.join(verbs)}")
    return top


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return int(text)


@reports_errors
def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else argv
    if (status := chapter_command(argv)) is not None:
        return status
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except KeyboardInterrupt:
        print("interrupted: nothing half-written was kept", file=sys.stderr)
        return 130
    return 0

"""The whole text model does not run in LiteRT from pip: the real converter and runtime errors, reproduced."""

import pytest

from nowwhat.tflite.flex import reproduce

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def flex(exports, tmp_path_factory):
    return reproduce(tmp_path_factory.mktemp("flex"))


def test_builtin_ops_cannot_express_the_text_preprocessing(flex):
    assert {"StringLower", "StaticRegexReplace", "StringSplitV2", "StringNGrams"} <= set(
        flex["builtins_only_refuses"]
    )


def test_select_tf_ops_still_lacks_string_ngrams(flex):
    assert flex["select_tf_ops_refuses"] == ["StringNGrams"]


def test_with_custom_ops_allowed_it_converts_to_flex_operators(flex):
    assert flex["converted_with_custom_ops"]["bytes"] > 1_000_000  # the vocabulary table is inside
    assert "FlexStringLower" in flex["non_builtin_operators"]
    assert "StringNGrams" in flex["non_builtin_operators"]


def test_ai_edge_litert_refuses_to_run_it(flex):
    error = flex["runtime_error"]
    assert "Make sure you apply/link the Flex delegate before inference" in error
    assert "(FlexStringLower) failed to prepare" in error

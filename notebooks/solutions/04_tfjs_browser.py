# ruff: noqa: F821 -- CONVERTER, BUILD and convert come from the notebook's first cells
# Solution: --quantize_float16='*' stores every float weight as float16 ('*': all of them; the quotes keep
# the shell from expanding it). Without a value the flag would take the next word on the line as its value.
command = rf"""{CONVERTER} --input_format=tf_saved_model --output_format=tfjs_graph_model \
    --signature_name=serving_default --quantize_float16='*' \
    {BUILD}/export/core/saved_model {BUILD}/tfjs/yours/float16"""
print("$", command)
convert.shell(command)
